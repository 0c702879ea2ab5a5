//! The index's side of accounts (the `pupils` and `parents` rows search reads): which
//! permit covers an account, the state it caches of a remote store, the provisional
//! passwords past their validity. The SQL store's own truth; a cache of the LDAP store's.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::store::{AccountRef, AccountStatus, StoreError};
use super::{AccountKind, AccountState};
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::schema::{parents, pupil_parents, pupils};
use crate::delegation::policy::Permit;
use crate::domain::Identifiant;

/// Whether `permit` allows changing `account`: a reset permit of its kind, on the pupil's
/// establishment or on one of the parent's children's (read on the index: every store).
pub fn covers(
    conn: &mut DbConnection,
    permit: &Permit,
    account: AccountRef,
) -> Result<bool, StoreError> {
    if permit.action() != account.kind.reset_action() {
        return Ok(false);
    }
    let uai = permit.uai().as_str();
    let found: i64 = match account.kind {
        AccountKind::Pupil => pupils::table
            .filter(pupils::id.eq(account.id))
            .filter(pupils::uai.eq(uai))
            .count()
            .get_result(conn)?,
        AccountKind::Parent => pupil_parents::table
            .inner_join(pupils::table)
            .filter(pupil_parents::parent_id.eq(account.id))
            .filter(pupils::uai.eq(uai))
            .count()
            .get_result(conn)?,
    };
    Ok(found > 0)
}

/// What the index holds of an account's state (the SQL store's own truth; a cache of a
/// remote store's).
pub fn cached_status(
    conn: &mut DbConnection,
    account: AccountRef,
) -> Result<Option<AccountStatus>, StoreError> {
    Ok(on_table!(account.kind, t => t::table
            .filter(t::id.eq(account.id))
            .select((
                t::state,
                t::previous_state,
                t::must_change,
                t::provisional_expires_at,
                t::notified_at,
            ))
            .first(conn)
            .optional())?)
}

/// The accounts whose provisional password is past its validity and still there (at most
/// `limit` of each kind): the upkeep job removes them.
pub fn expired_provisionals(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<AccountRef>, StoreError> {
    let now = db_instant(now);
    let mut out = Vec::new();
    for kind in AccountKind::ALL {
        let ids: Vec<i64> = on_table!(kind, t => t::table
            .filter(t::state.eq(AccountState::Notifie.as_str()))
            .filter(t::provisional_expires_at.lt(now))
            .filter(t::provisional_removed_at.is_null())
            .select(t::id)
            .order(t::id)
            .limit(limit)
            .load(conn))?;
        out.extend(ids.into_iter().map(|id| AccountRef { kind, id }));
    }
    Ok(out)
}

/// Notes in the index that the account's provisional password was removed.
pub fn mark_removed(
    conn: &mut DbConnection,
    account: AccountRef,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = db_instant(now);
    on_table!(account.kind, t => diesel::update(t::table.filter(t::id.eq(account.id)))
        .set((t::provisional_removed_at.eq(Some(now)), t::updated_at.eq(now)))
        .execute(conn))?;
    Ok(())
}

/// The accounts whose state was read from a remote store longest ago (never first): at
/// most `limit` of each kind, those that may change on their own (notified: the holder
/// activates; blocked: the lock lapses) when `changing`, else any.
pub fn stale_accounts(
    conn: &mut DbConnection,
    changing: bool,
    limit: i64,
) -> Result<Vec<AccountRef>, StoreError> {
    let states: Vec<&str> = if changing {
        vec![
            AccountState::Notifie.as_str(),
            AccountState::Bloque.as_str(),
        ]
    } else {
        AccountState::ALL.iter().map(|s| s.as_str()).collect()
    };
    let mut out = Vec::new();
    for kind in AccountKind::ALL {
        let ids: Vec<i64> = on_table!(kind, t => t::table
            .filter(t::state.eq_any(&states))
            .order((t::state_checked_at.is_not_null(), t::state_checked_at, t::id))
            .select(t::id)
            .limit(limit)
            .load(conn))?;
        out.extend(ids.into_iter().map(|id| AccountRef { kind, id }));
    }
    Ok(out)
}

/// Notes when the account's state was last read from its store.
pub fn mark_checked(
    conn: &mut DbConnection,
    account: AccountRef,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_table!(account.kind, t => diesel::update(t::table.filter(t::id.eq(account.id)))
        .set(t::state_checked_at.eq(Some(db_instant(now))))
        .execute(conn))?;
    Ok(())
}

/// Notes in the index that the account has a new provisional password (the upkeep will
/// retire it in its turn).
pub fn unmark_removed(conn: &mut DbConnection, account: AccountRef) -> Result<(), StoreError> {
    on_table!(account.kind, t => diesel::update(t::table.filter(t::id.eq(account.id)))
        .set(t::provisional_removed_at.eq(None::<chrono::NaiveDateTime>))
        .execute(conn))?;
    Ok(())
}

/// Writes a state into the index (and the state an unblock or a reactivation goes back to).
pub fn cache_state(
    conn: &mut DbConnection,
    account: AccountRef,
    state: AccountState,
    previous: Option<AccountState>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let now = db_instant(now);
    on_table!(account.kind, t => diesel::update(t::table.filter(t::id.eq(account.id)))
        .set((
            t::state.eq(state.as_str()),
            t::previous_state.eq(previous.map(AccountState::as_str)),
            t::updated_at.eq(now),
        ))
        .execute(conn))?;
    Ok(())
}

/// Writes a remote store's status into the index when it differs from what the index held;
/// whether it did.
pub fn refresh_cache(
    conn: &mut DbConnection,
    account: AccountRef,
    status: &AccountStatus,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if cached_status(conn, account)?.as_ref() == Some(status) {
        return Ok(false);
    }
    let stamp = |t: Option<DateTime<Utc>>| t.map(db_instant);
    on_table!(account.kind, t => diesel::update(t::table.filter(t::id.eq(account.id)))
        .set((
            t::state.eq(status.state.as_str()),
            t::previous_state.eq(status.previous_state.map(AccountState::as_str)),
            t::must_change.eq(status.must_change),
            t::provisional_expires_at.eq(stamp(status.provisional_expires_at)),
            t::notified_at.eq(stamp(status.notified_at)),
            t::updated_at.eq(db_instant(now)),
        ))
        .execute(conn))?;
    Ok(true)
}

/// The account's identifiant on the index, `None` when there is no such account.
pub fn identifiant_of(
    conn: &mut DbConnection,
    account: AccountRef,
) -> Result<Option<Identifiant>, StoreError> {
    let stored: Option<String> = match account.kind {
        AccountKind::Pupil => pupils::table
            .filter(pupils::id.eq(account.id))
            .select(pupils::identifiant)
            .first(conn)
            .optional()?,
        AccountKind::Parent => parents::table
            .filter(parents::id.eq(account.id))
            .select(parents::identifiant)
            .first(conn)
            .optional()?,
    };
    stored
        .map(|s| {
            Identifiant::try_from(s)
                .map_err(|e| StoreError::Db(diesel::result::Error::DeserializationError(e.into())))
        })
        .transpose()
}
