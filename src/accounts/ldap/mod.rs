//! The LDAP account store (`[accounts] store = "ldap"`): pupils' and parents' entries under
//! configured bases, the LDAP `uid` being our identifiant. The service account is their
//! password administrator: a reset is a Password Modify (RFC 3062) with our provisional
//! password, then `pwdReset: TRUE` set explicitly; a state is read from the entry's ppolicy
//! attributes (`entry.rs`); unblock removes the lock and the failure times, deactivation
//! writes the permanent lock. Search stays on our index, which this store refreshes at each
//! read and write. Calls go through a bounded pool of connections (`directory::ldap_pool`),
//! each within `timeout_ms`; past it the store is unavailable and nothing is half-written
//! on our side (the caller's "started" audit row covers a write whose outcome is unknown).

pub mod entry;
mod ops;
pub mod ppolicy;
mod provision;
mod upkeep;

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Months, Utc};
use diesel::prelude::*;

use self::entry::{Entry, Lock, PERMANENT_LOCK};
use self::ops::{Lockouts, Ops, lockout_of, replace};
use super::provisional::{VALIDITY_MONTHS, expiry};
use super::store::{
    AccountRef, AccountStatus, AccountStore, Found, Provisional, StoreError, SyncReport,
    Transition, cache_state, cached_status, covers, identifiant_of, refresh_cache, unmark_removed,
};
use super::{AccountKind, AccountState, StateChange};
use crate::accounts::password_rules::PasswordRules;
use crate::config::AccountsLdapSettings;
use crate::db::DbConnection;
use crate::db::schema::pupils;
use crate::delegation::policy::Permit;
use crate::directory::DirectoryError;
use crate::directory::ldap_pool::{Connection, LdapPool};
use crate::domain::{Division, Identifiant, Uai};

/// Called between the two writes of a reset (tests stop the server there).
pub type Pause = Arc<dyn Fn() + Send + Sync>;

pub struct LdapAccountStore {
    settings: Arc<AccountsLdapSettings>,
    /// Each level's ppolicy subentry (`[passwords] … ldap_policy`), given at reset and at
    /// provisioning, and again when a class change moves a pupil to another level.
    rules: Arc<PasswordRules>,
    pool: LdapPool,
    /// Each policy entry's lockout duration, read again after a while.
    lockouts: Arc<Lockouts>,
    between_writes: Option<Pause>,
}

impl LdapAccountStore {
    pub fn new(s: &AccountsLdapSettings, rules: PasswordRules) -> Result<Self, DirectoryError> {
        if [&s.pupils_base, &s.parents_base, &s.bind_dn]
            .iter()
            .any(|v| v.trim().is_empty())
        {
            return Err(DirectoryError::Config(
                "accounts.ldap: pupils_base, parents_base and bind_dn are required".into(),
            ));
        }
        let pool = LdapPool::open(&Connection {
            section: "accounts.ldap",
            url: &s.url,
            starttls: s.starttls,
            ca_file: s.ca_file.as_deref(),
            allow_insecure: s.allow_insecure,
            bind_dn: &s.bind_dn,
            bind_password: s.bind_password.as_ref(),
            bind_password_file: s.bind_password_file.as_deref(),
            connect_timeout_ms: s.connect_timeout_ms,
            timeout_ms: s.timeout_ms,
            pool_size: s.pool_size,
            idle_check_ms: s.idle_check_ms,
        })?;
        Ok(Self {
            settings: Arc::new(s.clone()),
            rules: Arc::new(rules),
            pool,
            lockouts: Arc::default(),
            between_writes: None,
        })
    }

    /// Runs `pause` between the Password Modify and the `pwdReset` write (fault tests).
    #[doc(hidden)]
    pub fn pausing_between_writes(mut self, pause: Pause) -> Self {
        self.between_writes = Some(pause);
        self
    }

    /// How many connections were opened so far (the others were reused).
    pub fn connections_opened(&self) -> usize {
        self.pool.connections_opened()
    }

    /// The ppolicy subentry of a pupil of `division`, or of a parent.
    fn policy(&self, kind: AccountKind, division: Option<&Division>) -> Option<String> {
        match kind {
            AccountKind::Pupil => self.rules.for_pupil(division).ldap_policy.clone(),
            AccountKind::Parent => self.rules.for_parent().ldap_policy.clone(),
        }
    }

    /// The level's ppolicy subentry of an account of the index.
    fn policy_of(
        &self,
        conn: &mut DbConnection,
        account: AccountRef,
    ) -> Result<Option<String>, StoreError> {
        let division = match account.kind {
            AccountKind::Pupil => pupils::table
                .filter(pupils::id.eq(account.id))
                .select(pupils::division)
                .first::<Option<String>>(conn)
                .optional()?
                .flatten()
                .and_then(|d| Division::parse(&d).ok()),
            AccountKind::Parent => None,
        };
        Ok(self.policy(account.kind, division.as_ref()))
    }

    fn base(&self, kind: AccountKind) -> String {
        match kind {
            AccountKind::Pupil => self.settings.pupils_base.clone(),
            AccountKind::Parent => self.settings.parents_base.clone(),
        }
    }

    /// Runs `work` on a pooled connection, waiting for it (a blocking thread).
    fn call<T, F, Fut>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(Ops) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, StoreError>> + Send,
        T: Send + 'static,
    {
        let settings = self.settings.clone();
        let done = self.pool.run(move |ldap, discard| async move {
            Ok(work(Ops {
                ldap,
                discard,
                settings,
            })
            .await)
        });
        match done {
            Ok(result) => result,
            Err(e) => Err(StoreError::Unavailable(e.to_string())),
        }
    }

    /// The entry of the account, its state and the state a lift of its lock goes back to.
    fn read(
        &self,
        conn: &mut DbConnection,
        account: AccountRef,
        now: DateTime<Utc>,
    ) -> Result<Option<Read>, StoreError> {
        let Some(uid) = identifiant_of(conn, account)? else {
            return Ok(None);
        };
        self.read_entry(account.kind, uid, now).map(Some)
    }

    /// The entry of `uid`, its state and the state a lift of its lock goes back to (the
    /// directory alone: no database).
    fn read_entry(
        &self,
        kind: AccountKind,
        uid: Identifiant,
        now: DateTime<Utc>,
    ) -> Result<Read, StoreError> {
        let (base, lockouts) = (self.base(kind), self.lockouts.clone());
        let entry = self.call(move |mut ops| async move {
            let entry = ops.find(&base, &uid).await?;
            let lockout = match (&entry.locked, &entry.policy) {
                (Some(Lock::Since(_)), Some(policy)) => {
                    lockout_of(&mut ops, &lockouts, policy).await?
                }
                _ => None,
            };
            Ok((entry, lockout))
        })?;
        let (entry, lockout) = entry;
        let (state, previous) = entry.state(lockout.map(chrono::Duration::seconds), now);
        Ok(Read {
            entry,
            state,
            previous,
        })
    }

    /// The status an entry read means, completed by what only the index keeps (`cached`:
    /// when the letter was issued, until when it is valid).
    fn status_of(read: &Read, cached: Option<&AccountStatus>) -> AccountStatus {
        let notified_at = cached.and_then(|c| c.notified_at);
        // A provisional password's validity: as our index recorded it at the reset, or, for
        // one set by another tool, three months after it was set.
        let expires = read.entry.reset.then(|| {
            cached.and_then(|c| c.provisional_expires_at).or_else(|| {
                let changed = read.entry.changed?;
                changed.checked_add_months(Months::new(VALIDITY_MONTHS))
            })
        });
        AccountStatus {
            state: read.state,
            previous_state: read.previous,
            must_change: read.entry.reset,
            provisional_expires_at: expires.flatten(),
            notified_at,
        }
    }
}

/// A failure once the directory was written: its outcome is for the reconciliation to read.
fn after_write(e: StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(_) => e,
        other => StoreError::Unavailable(format!("after the first write: {other}")),
    }
}

/// An entry read, and what it means now.
struct Read {
    entry: Entry,
    state: AccountState,
    previous: Option<AccountState>,
}

impl AccountStore for LdapAccountStore {
    fn status(
        &self,
        conn: &mut DbConnection,
        account: AccountRef,
        now: DateTime<Utc>,
    ) -> Result<Option<AccountStatus>, StoreError> {
        let Some(read) = self.read(conn, account, now)? else {
            return Ok(None);
        };
        let cached = cached_status(conn, account)?;
        Ok(Some(Self::status_of(&read, cached.as_ref())))
    }

    fn remote_status(
        &self,
        kind: AccountKind,
        identifiant: &Identifiant,
        cached: &AccountStatus,
        now: DateTime<Utc>,
    ) -> Result<Option<AccountStatus>, StoreError> {
        let read = self.read_entry(kind, identifiant.clone(), now)?;
        Ok(Some(Self::status_of(&read, Some(cached))))
    }

    fn is_remote(&self) -> bool {
        true
    }

    fn sync_establishment(
        &self,
        conn: &mut DbConnection,
        uai: &Uai,
        now: DateTime<Utc>,
    ) -> Result<SyncReport, StoreError> {
        self.sync_in(conn, uai, now)
    }

    fn retire(&self, kind: AccountKind, identifiant: &Identifiant) -> Result<bool, StoreError> {
        self.retire_one(kind, identifiant)
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.call(|mut ops| async move { ops.who_am_i().await })
    }

    fn remove_provisional(
        &self,
        conn: &mut DbConnection,
        account: AccountRef,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.remove_unused(conn, account, now)
    }

    fn reconcile_reset(
        &self,
        conn: &mut DbConnection,
        account: AccountRef,
        started_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Found, StoreError> {
        self.reread_reset(conn, account, started_at, now)
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
        let read = self.read(conn, account, now)?.ok_or(StoreError::NotFound)?;
        // A Password Modify lifts any lock, a deactivation's too: refuse it here.
        if matches!(read.state, AccountState::Bloque | AccountState::Desactive) {
            return Err(StoreError::NotPossible(read.state));
        }
        let (dn, password) = (read.entry.dn, provisional.password.clone());
        let pause = self.between_writes.clone();
        let policy = self.policy_of(conn, account)?;
        self.call(move |mut ops| async move {
            ops.password_modify(&dn, &password).await?;
            if let Some(pause) = pause {
                pause();
            }
            let mut mods = vec![replace("pwdReset", Some("TRUE"))];
            if let Some(policy) = policy.as_deref() {
                mods.push(replace("pwdPolicySubentry", Some(policy)));
            }
            // The password is set: whatever fails now leaves the outcome to the
            // reconciliation (the caller keeps its pending mark).
            ops.modify(&dn, mods, false).await.map_err(after_write)
        })?;
        let status = AccountStatus {
            state: AccountState::Notifie,
            previous_state: None,
            must_change: true,
            provisional_expires_at: Some(expiry(now)),
            notified_at: Some(now),
        };
        refresh_cache(conn, account, &status, now).map_err(after_write)?;
        // A new letter: the upkeep retires it in its turn when unused.
        unmark_removed(conn, account).map_err(after_write)?;
        Ok(())
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
        let read = self.read(conn, account, now)?.ok_or(StoreError::NotFound)?;
        let (to, previous) = change
            .apply(read.state, read.previous)
            .ok_or(StoreError::NotPossible(read.state))?;
        let (dn, lock_read) = (read.entry.dn, read.entry.lock_value);
        self.call(move |mut ops| async move {
            match change {
                StateChange::Deactivate => {
                    let lock = replace("pwdAccountLockedTime", Some(PERMANENT_LOCK));
                    ops.modify(&dn, vec![lock], false).await
                }
                StateChange::Unblock | StateChange::Reactivate => {
                    let lift = vec![
                        replace("pwdAccountLockedTime", None),
                        replace("pwdFailureTime", None),
                    ];
                    // Only the lock read: a deactivation written since is not lifted.
                    let still = lock_read
                        .map(|v| format!("(pwdAccountLockedTime={})", ldap3::ldap_escape(&v)));
                    ops.modify_if(&dn, lift, true, still).await
                }
            }
        })?;
        cache_state(conn, account, to, previous, now).map_err(after_write)?;
        Ok(Transition {
            from: read.state,
            to,
        })
    }
}
