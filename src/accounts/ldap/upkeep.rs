//! The upkeep job's side of the LDAP store: an unused provisional password removed once its
//! validity is over (the entry keeps `pwdReset`: "Notification expirée"), and a reset whose
//! outcome was never recorded read again and, if the password was set without its mark,
//! completed.

use chrono::{DateTime, SubsecRound, Utc};

use super::LdapAccountStore;
use super::ops::replace;
use crate::accounts::store::{
    AccountRef, AccountStore, Found, StoreError, mark_removed, refresh_cache,
};
use crate::db::DbConnection;

impl LdapAccountStore {
    pub(super) fn remove_unused(
        &self,
        conn: &mut DbConnection,
        account: AccountRef,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let Some(read) = self.read(conn, account, now)? else {
            return Ok(false);
        };
        let removed = read.entry.reset && read.entry.has_password;
        if removed {
            let dn = read.entry.dn;
            // Only while still to change: a holder who activated meanwhile keeps his own.
            let still = Some("(pwdReset=TRUE)".to_owned());
            self.call(move |mut ops| async move {
                ops.modify_if(&dn, vec![replace("userPassword", None)], false, still)
                    .await
            })?;
        }
        mark_removed(conn, account, now)?;
        Ok(removed)
    }

    pub(super) fn reread_reset(
        &self,
        conn: &mut DbConnection,
        account: AccountRef,
        started_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Found, StoreError> {
        let read = self.read(conn, account, now)?.ok_or(StoreError::NotFound)?;
        // The server stamps whole seconds; the instances' clocks are synchronised (NTP).
        let since = started_at.trunc_subsecs(0);
        let set = read.entry.has_password && read.entry.changed.is_some_and(|c| c >= since);
        let found = match (set, read.entry.reset) {
            (false, _) => Found::Unchanged,
            (true, true) => Found::Written,
            (true, false) => {
                let dn = read.entry.dn;
                self.call(move |mut ops| async move {
                    ops.modify(&dn, vec![replace("pwdReset", Some("TRUE"))], false)
                        .await
                })?;
                Found::Completed
            }
        };
        if let Some(status) = self.status(conn, account, now)? {
            refresh_cache(conn, account, &status, now)?;
        }
        Ok(found)
    }
}
