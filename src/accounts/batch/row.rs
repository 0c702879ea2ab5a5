//! A `batches` row as diesel reads it, and its decoding into a `Batch`: a stored value that
//! does not decode is an error, never a silent default.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use super::{Batch, Interruption};
use crate::accounts::AccountState;
use crate::db::schema::batches;
use crate::domain::Uai;

#[derive(Queryable, Selectable)]
#[diesel(table_name = batches)]
pub(super) struct BatchRow {
    id: i64,
    kind: String,
    uai: String,
    division: String,
    states: String,
    created_by: String,
    created_at: NaiveDateTime,
    acting_uid: Option<String>,
    lease_owner: Option<String>,
    lease_until: Option<NaiveDateTime>,
    printed_at: Option<NaiveDateTime>,
    wiped_at: Option<NaiveDateTime>,
    last_error: Option<String>,
    interruption: Option<String>,
    gate: Option<String>,
    abandoned_by: Option<String>,
    abandoned_at: Option<NaiveDateTime>,
}

fn undecodable(what: &str, value: &str) -> DieselError {
    DieselError::DeserializationError(format!("stored batch {what} {value:?} is not valid").into())
}

impl TryFrom<BatchRow> for Batch {
    type Error = DieselError;

    fn try_from(r: BatchRow) -> Result<Self, DieselError> {
        let uai = Uai::parse(&r.uai).map_err(|_| undecodable("UAI", &r.uai))?;
        let mut states = Vec::new();
        for s in r.states.split(',') {
            states.push(AccountState::parse(s).ok_or_else(|| undecodable("state", s))?);
        }
        let interruption = match r.interruption.as_deref() {
            Some(s) => Some(Interruption::parse(s).ok_or_else(|| undecodable("interruption", s))?),
            None => None,
        };
        Ok(Batch {
            id: r.id,
            kind: r.kind,
            uai,
            division: r.division,
            states,
            acting_uid: r.acting_uid.unwrap_or_else(|| r.created_by.clone()),
            created_by: r.created_by,
            created_at: r.created_at.and_utc(),
            lease_owner: r.lease_owner,
            lease_until: r.lease_until.map(|t| t.and_utc()),
            printed_at: r.printed_at.map(|t| t.and_utc()),
            wiped_at: r.wiped_at.map(|t| t.and_utc()),
            last_error: r.last_error,
            interruption,
            gate: r.gate,
            abandoned_by: r.abandoned_by,
            abandoned_at: r.abandoned_at.map(|t| t.and_utc()),
        })
    }
}
