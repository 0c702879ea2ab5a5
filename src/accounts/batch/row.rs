//! A `batches` row as diesel reads it, and its decoding into a `Batch`: a stored value that
//! does not decode is an error, never a silent default.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use super::{Batch, Interruption};
use crate::accounts::{AccountKind, AccountState};
use crate::db::decode::{Listed, Maybe, UtcStamp};
use crate::db::schema::batches;
use crate::domain::{BatchId, Division, Uai, stored_code};

stored_code!(Interruption, "batch interruption");

#[derive(Queryable, Selectable)]
#[diesel(table_name = batches)]
pub(super) struct BatchRow {
    #[diesel(deserialize_as = i64)]
    id: BatchId,
    kind: String,
    #[diesel(deserialize_as = String)]
    uai: Uai,
    #[diesel(deserialize_as = String)]
    division: Division,
    #[diesel(deserialize_as = Listed<','>)]
    states: Vec<AccountState>,
    created_by: String,
    #[diesel(deserialize_as = UtcStamp)]
    created_at: DateTime<Utc>,
    acting_uid: Option<String>,
    lease_owner: Option<String>,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    lease_until: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    printed_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    wiped_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    #[diesel(deserialize_as = Maybe<String>)]
    interruption: Option<Interruption>,
    gate: Option<String>,
    abandoned_by: Option<String>,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    abandoned_at: Option<DateTime<Utc>>,
}

impl TryFrom<BatchRow> for Batch {
    type Error = DieselError;

    /// The kind is stored as the batch kind (`eleves`, `responsables`); a batch resumed by
    /// nobody yet runs for its creator.
    fn try_from(r: BatchRow) -> Result<Self, DieselError> {
        let kind = AccountKind::from_batch_kind(&r.kind).ok_or_else(|| {
            DieselError::DeserializationError(
                format!("stored batch kind {:?} is not valid", r.kind).into(),
            )
        })?;
        Ok(Batch {
            id: r.id,
            kind,
            uai: r.uai,
            division: r.division,
            states: r.states,
            acting_uid: r.acting_uid.unwrap_or_else(|| r.created_by.clone()),
            created_by: r.created_by,
            created_at: r.created_at,
            lease_owner: r.lease_owner,
            lease_until: r.lease_until,
            printed_at: r.printed_at,
            wiped_at: r.wiped_at,
            last_error: r.last_error,
            interruption: r.interruption,
            gate: r.gate,
            abandoned_by: r.abandoned_by,
            abandoned_at: r.abandoned_at,
        })
    }
}
