//! The account store: **credentials and state only** of pupils' and parents' accounts (read
//! an account's state, give it a provisional password, unblock, deactivate, reactivate).
//! Search never goes through it: it runs on the database's imported index
//! (`accounts::pupils::search`, `accounts::parents::search`), which caches each account's
//! state. Every write takes the [`Permit`] of a reset action on an establishment that covers
//! the account (a pupil's own, or one of a parent's children's): holding one proves the
//! policy said yes. `tests/api/account_store_contract.rs` is the contract every store passes:
//! the SQL one here, the LDAP one in `accounts::ldap`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use secrecy::SecretString;

pub use super::index::{
    cache_state, cached_status, covers, expired_provisionals, identifiant_of, mark_checked,
    mark_removed, refresh_cache, stale_accounts, unmark_removed,
};
use super::provisional::expiry;
use super::{AccountKind, AccountState, StateChange};
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::decode::{Maybe, UtcStamp};
use crate::db::schema::{parents, pupils};
use crate::delegation::policy::Permit;
use crate::domain::{Identifiant, ParentId, PupilId, Uai};

/// One account: its kind and its id (a pupil's or a parent's, as the kind says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountRef {
    pub kind: AccountKind,
    pub id: i64,
}

impl AccountRef {
    pub fn pupil(id: PupilId) -> Self {
        Self {
            kind: AccountKind::Pupil,
            id: id.get(),
        }
    }

    pub fn parent(id: ParentId) -> Self {
        Self {
            kind: AccountKind::Parent,
            id: id.get(),
        }
    }
}

/// What the store knows of an account's credentials and state (a typed row: a stored state
/// that does not decode fails the read).
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct AccountStatus {
    #[diesel(deserialize_as = String)]
    pub state: AccountState,
    /// The state an unblock or a reactivation goes back to.
    #[diesel(deserialize_as = Maybe<String>)]
    pub previous_state: Option<AccountState>,
    /// The password must be changed at next sign-in.
    pub must_change: bool,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    pub provisional_expires_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    pub notified_at: Option<DateTime<Utc>>,
}

/// What bringing the store in line with the index did for one establishment (after an
/// import): entries added and updated (provisioning), accounts the store does not hold, and
/// refusals; the lines are French and name people.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub added: usize,
    pub updated: usize,
    /// Accounts without an entry, provisioning off: "Zoë Lefèvre (z.lefevre, 3A)".
    pub missing: Vec<String>,
    /// Entries the store refused to add or update, with its reason.
    pub refused: Vec<String>,
    /// The store stopped answering before the end: the next import goes on.
    pub interrupted: bool,
}

impl SyncReport {
    /// One French sentence (the audit row's details, the import page's line).
    pub fn summary(&self) -> String {
        let count =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n < 2 { one } else { many });
        let mut s = format!(
            "annuaire des comptes : {}, {}, {}, {}",
            count(self.added, "entrée créée", "entrées créées"),
            count(self.updated, "mise à jour", "mises à jour"),
            count(
                self.missing.len(),
                "compte introuvable",
                "comptes introuvables"
            ),
            count(self.refused.len(), "refus", "refus"),
        );
        if self.interrupted {
            s.push_str(
                " ; l'annuaire ne répondait plus, la suite sera faite à la prochaine importation",
            );
        }
        s
    }
}

/// What the reconciliation found of a reset whose outcome was not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// The provisional password was set and must be changed: the reset happened.
    Written,
    /// The password was set but not yet marked to be changed: the mark was added now.
    Completed,
    /// Nothing changed since: the reset did not happen.
    Unchanged,
}

/// A state change done: from which state to which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: AccountState,
    pub to: AccountState,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error("no such account")]
    NotFound,
    /// The permit is not a reset permit of this kind on an establishment of this account.
    #[error("the permit does not cover this account")]
    NotCovered,
    #[error("not possible from state {}", .0.as_str())]
    NotPossible(AccountState),
    /// The store did not answer in time (nothing was changed, or the write's outcome is
    /// unknown: the caller's "started" audit row says which).
    #[error("account store unavailable: {0}")]
    Unavailable(String),
    /// The store refused the write; the reason is in French, for the page.
    #[error("refused by the account store: {0}")]
    Refused(String),
    /// The index names an account the store does not hold.
    #[error("no entry for {0} in the account store")]
    EntryMissing(Identifiant),
    /// Several entries of the store carry this identifiant.
    #[error("several entries for {0} in the account store")]
    Duplicate(Identifiant),
}

/// A fresh provisional password and its argon2id hash: a store keeps one or the other (our
/// database the hash; a directory is given the password and hashes it itself).
pub struct Provisional {
    pub password: SecretString,
    pub hash: String,
}

/// Credentials and state of accounts. For a local store `conn` is the caller's transaction
/// (the audit row commits with the change); a remote store ([`AccountStore::is_remote`])
/// writes elsewhere, outside any transaction of ours, and uses `conn` for the index only.
pub trait AccountStore: Send + Sync {
    /// The account's state at `now`, or `None` when there is no such account.
    fn status(
        &self,
        conn: &mut DbConnection,
        account: AccountRef,
        now: DateTime<Utc>,
    ) -> Result<Option<AccountStatus>, StoreError>;

    /// Brings the store in line with the index for the establishment `uai` after an import:
    /// nothing to do for our own tables.
    fn sync_establishment(
        &self,
        _conn: &mut DbConnection,
        _uai: &Uai,
        _now: DateTime<Utc>,
    ) -> Result<SyncReport, StoreError> {
        Ok(SyncReport::default())
    }

    /// A leaver about to be deleted from the index: with provisioning, his entry is locked
    /// for good; whether it was.
    fn retire(&self, _kind: AccountKind, _identifiant: &Identifiant) -> Result<bool, StoreError> {
        Ok(false)
    }

    /// Whether the store answers (readiness probe): a local store always does.
    fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The account's state read from a remote store without our database (`cached`, the
    /// index's, gives what only the index keeps); `None` from a local store, whose state is
    /// the index's. Callers use it to read a directory without holding a database connection.
    fn remote_status(
        &self,
        _kind: AccountKind,
        _identifiant: &Identifiant,
        _cached: &AccountStatus,
        _now: DateTime<Utc>,
    ) -> Result<Option<AccountStatus>, StoreError> {
        Ok(None)
    }

    /// Whether writes leave our database: then a reset is audited as started before the
    /// write and its outcome after (`accounts::reset`).
    fn is_remote(&self) -> bool {
        false
    }

    /// A provisional password: notified, to change at next sign-in, valid three months.
    /// A blocked or deactivated account is refused (`NotPossible`), nothing changed.
    fn set_provisional(
        &self,
        conn: &mut DbConnection,
        permit: &Permit,
        account: AccountRef,
        provisional: &Provisional,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Retires a provisional password not used within its validity (the upkeep job; the
    /// index says which): it no longer signs in, and the account shows "Notification
    /// expirée". Whether one was retired now.
    fn remove_provisional(
        &self,
        conn: &mut DbConnection,
        account: AccountRef,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// What a reset left pending since `started_at` did, read again from the store (the
    /// reconciliation job); a local store never leaves one.
    fn reconcile_reset(
        &self,
        _conn: &mut DbConnection,
        _account: AccountRef,
        _started_at: DateTime<Utc>,
        _now: DateTime<Utc>,
    ) -> Result<Found, StoreError> {
        Ok(Found::Unchanged)
    }

    /// Unblock, deactivate or reactivate, when the current state allows it
    /// ([`StateChange::apply`]); `NotPossible` otherwise, nothing changed.
    fn change_state(
        &self,
        conn: &mut DbConnection,
        permit: &Permit,
        account: AccountRef,
        change: StateChange,
        now: DateTime<Utc>,
    ) -> Result<Transition, StoreError>;
}

/// Today's store: the `pupils` and `parents` tables.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqlAccountStore;

impl SqlAccountStore {
    /// The stored hash (tests; an LDAP store has no such thing).
    pub fn password_hash(
        conn: &mut DbConnection,
        account: AccountRef,
    ) -> QueryResult<Option<String>> {
        on_table!(account.kind, t => t::table
            .filter(t::id.eq(account.id))
            .select(t::password_hash)
            .first(conn))
    }
}

impl AccountStore for SqlAccountStore {
    fn status(
        &self,
        conn: &mut DbConnection,
        account: AccountRef,
        _now: DateTime<Utc>,
    ) -> Result<Option<AccountStatus>, StoreError> {
        cached_status(conn, account)
    }

    fn set_provisional(
        &self,
        conn: &mut DbConnection,
        permit: &Permit,
        account: AccountRef,
        provisional: &Provisional,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if !covers(conn, permit, account)? {
            return Err(StoreError::NotCovered);
        }
        let current = cached_status(conn, account)?.ok_or(StoreError::NotFound)?;
        if matches!(
            current.state,
            AccountState::Bloque | AccountState::Desactive
        ) {
            return Err(StoreError::NotPossible(current.state));
        }
        let hash = provisional.hash.as_str();
        let (expires, now) = (db_instant(expiry(now)), db_instant(now));
        let changed = on_table!(account.kind, t => diesel::update(t::table.filter(t::id.eq(account.id)))
            .set((
                t::password_hash.eq(Some(hash)),
                t::must_change.eq(true),
                t::provisional_expires_at.eq(Some(expires)),
                t::state.eq(AccountState::Notifie.as_str()),
                t::notified_at.eq(Some(now)),
                t::provisional_removed_at.eq(None::<chrono::NaiveDateTime>),
                t::updated_at.eq(now),
            ))
            .execute(conn))?;
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The hash stays: an expired letter is refused by its date, and the first sign-in
    /// page can still tell its reader that it expired.
    fn remove_provisional(
        &self,
        conn: &mut DbConnection,
        account: AccountRef,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let now = db_instant(now);
        let retired = on_table!(account.kind, t => diesel::update(
            t::table
                .filter(t::id.eq(account.id))
                .filter(t::state.eq(AccountState::Notifie.as_str()))
                .filter(t::provisional_expires_at.lt(now))
                .filter(t::provisional_removed_at.is_null()),
        )
        .set((t::provisional_removed_at.eq(Some(now)), t::updated_at.eq(now)))
        .execute(conn))?;
        Ok(retired > 0)
    }

    fn change_state(
        &self,
        conn: &mut DbConnection,
        permit: &Permit,
        account: AccountRef,
        change: StateChange,
        now: DateTime<Utc>,
    ) -> Result<Transition, StoreError> {
        if !covers(conn, permit, account)? {
            return Err(StoreError::NotCovered);
        }
        let current = cached_status(conn, account)?.ok_or(StoreError::NotFound)?;
        let (to, previous) = change
            .apply(current.state, current.previous_state)
            .ok_or(StoreError::NotPossible(current.state))?;
        cache_state(conn, account, to, previous, now)?;
        Ok(Transition {
            from: current.state,
            to,
        })
    }
}
