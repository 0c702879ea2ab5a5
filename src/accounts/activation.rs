//! The embedded (SQL) store's side of the first sign-in (`usecases::first_signin`): find the
//! account an identifiant names with what its letter proves (the provisional password's
//! hash, its state and expiry), check a birth date against it (a pupil's own, or one of a
//! parent's children's), and activate it. Nothing here needs a `Permit`: the holder acts on
//! his own account, once he has proved the letter.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::store::AccountRef;
use super::{AccountKind, AccountState};
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::decode::{Maybe, UtcStamp};
use crate::db::schema::{parents, pupil_parents, pupils};
use crate::domain::{Division, Identifiant, ParentId, Uai};

/// What the first sign-in reads of an account (a typed row: a stored state that does not
/// decode fails the read).
#[derive(Debug, Clone, Queryable)]
pub struct Credentials {
    pub id: i64,
    #[diesel(deserialize_as = String)]
    pub state: AccountState,
    pub password_hash: Option<String>,
    pub must_change: bool,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    pub provisional_expires_at: Option<DateTime<Utc>>,
}

/// The account an identifiant names.
#[derive(Debug, Clone)]
pub struct Holder {
    pub account: AccountRef,
    pub identifiant: Identifiant,
    pub credentials: Credentials,
    /// A pupil's establishment and class (a parent has neither of his own).
    pub pupil: Option<(Uai, Option<Division>)>,
}

impl Holder {
    /// A pupil's establishment.
    pub fn uai(&self) -> Option<&Uai> {
        self.pupil.as_ref().map(|(uai, _)| uai)
    }

    /// A pupil's class.
    pub fn division(&self) -> Option<&Division> {
        self.pupil.as_ref().and_then(|(_, d)| d.as_ref())
    }

    /// A notified account whose provisional password waits to be replaced.
    pub fn awaits_activation(&self) -> bool {
        let c = &self.credentials;
        c.state == AccountState::Notifie && c.must_change && c.password_hash.is_some()
    }

    /// Its provisional password's validity is over at `now`.
    pub fn letter_expired(&self, now: DateTime<Utc>) -> bool {
        self.credentials
            .provisional_expires_at
            .is_some_and(|t| t <= now)
    }
}

fn undecodable(e: crate::domain::ParseError) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(Box::new(e))
}

/// The pupil or the parent whose identifiant this is (pupils and parents share one
/// namespace: at most one of them). Both tables are always read, so the time taken does not
/// tell which kind, or whether any, holds it.
pub fn find_holder(
    conn: &mut DbConnection,
    identifiant: &Identifiant,
) -> QueryResult<Option<Holder>> {
    let pupil: Option<(Credentials, String, Option<String>)> = pupils::table
        .filter(pupils::identifiant.eq(identifiant.as_str()))
        .select((
            (
                pupils::id,
                pupils::state,
                pupils::password_hash,
                pupils::must_change,
                pupils::provisional_expires_at,
            ),
            pupils::uai,
            pupils::division,
        ))
        .first(conn)
        .optional()?;
    let parent: Option<Credentials> = parents::table
        .filter(parents::identifiant.eq(identifiant.as_str()))
        .select((
            parents::id,
            parents::state,
            parents::password_hash,
            parents::must_change,
            parents::provisional_expires_at,
        ))
        .first(conn)
        .optional()?;
    let holder = |kind, credentials: Credentials| Holder {
        account: AccountRef {
            kind,
            id: credentials.id,
        },
        identifiant: identifiant.clone(),
        credentials,
        pupil: None,
    };
    Ok(match (pupil, parent) {
        (Some((credentials, uai, division)), _) => {
            let uai = Uai::try_from(uai).map_err(undecodable)?;
            let division = division.map(Division::try_from).transpose();
            Some(Holder {
                pupil: Some((uai, division.map_err(undecodable)?)),
                ..holder(AccountKind::Pupil, credentials)
            })
        }
        (None, Some(credentials)) => Some(holder(AccountKind::Parent, credentials)),
        (None, None) => None,
    })
}

/// Whether `day` is the pupil's birth date, or the birth date of one of the parent's
/// children.
pub fn birth_date_matches(
    conn: &mut DbConnection,
    account: AccountRef,
    day: NaiveDate,
) -> QueryResult<bool> {
    let proving: Vec<NaiveDate> = match account.kind {
        AccountKind::Pupil => pupils::table
            .find(account.id)
            .select(pupils::birth_date)
            .load(conn)?,
        AccountKind::Parent => pupil_parents::table
            .inner_join(pupils::table)
            .filter(pupil_parents::parent_id.eq(account.id))
            .select(pupils::birth_date)
            .load(conn)?,
    };
    Ok(proving.contains(&day))
}

/// The establishments whose journals an account's first sign-in belongs to: the pupil's,
/// or every establishment of the parent's children.
pub fn establishments(conn: &mut DbConnection, holder: &Holder) -> QueryResult<Vec<Uai>> {
    match (holder.account.kind, holder.uai()) {
        (AccountKind::Pupil, Some(uai)) => Ok(vec![uai.clone()]),
        (AccountKind::Pupil, None) => Ok(Vec::new()),
        (AccountKind::Parent, _) => {
            super::parents::establishments(conn, ParentId::from(holder.account.id))
        }
    }
}

/// The holder's own password replaces the provisional one whose hash is `provisional`: the
/// account becomes active, nothing left to change, no expiry. `false` (nothing written) when
/// the account no longer holds that provisional password or no longer waits (a second
/// submission, a reset meanwhile): the change happens once.
pub fn activate(
    conn: &mut DbConnection,
    account: AccountRef,
    provisional: &str,
    new_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let now = db_instant(now);
    let changed = on_table!(account.kind, t => diesel::update(
        t::table
            .filter(t::id.eq(account.id))
            .filter(t::password_hash.eq(provisional))
            .filter(t::state.eq(AccountState::Notifie.as_str()))
            .filter(t::must_change.eq(true)),
    )
    .set((
        t::password_hash.eq(Some(new_hash)),
        t::must_change.eq(false),
        t::provisional_expires_at.eq(None::<chrono::NaiveDateTime>),
        t::state.eq(AccountState::Active.as_str()),
        t::activated_at.eq(Some(now)),
        t::password_changed_at.eq(Some(now)),
        t::updated_at.eq(now),
    ))
    .execute(conn))?;
    Ok(changed == 1)
}
