//! A batch's reset through a remote account store (the LDAP directory): the "started" row is
//! committed (`runner::one_account`), the store writes, then the outcome row commits with the
//! item's sealed password. The store refusing one account (its entry missing or locked, a
//! policy's reason) sets that account aside and the batch goes on; a store that does not
//! answer stops the batch, to be resumed later.

use chrono::{DateTime, Utc};

use super::runner::{Runner, Step};
use super::{Interruption, Lease, store};
use crate::accounts::AccountState;
use crate::accounts::reset::{ResetError, Started, finish_remote};
use crate::accounts::store::{AccountRef, Provisional, StoreError};
use crate::audit::AuditEvent;
use crate::db::DbConnection;
use crate::delegation::policy::Permit;

impl Runner {
    pub(super) fn remote_write(
        &self,
        conn: &mut DbConnection,
        (batch_id, owner, item, account_id, states): (i64, &str, i64, i64, &[AccountState]),
        (permit, event, started): (Permit, AuditEvent, Started),
        (provisional, sealed): (&Provisional, &str),
        now: DateTime<Utc>,
    ) -> Result<Step, ResetError> {
        let account = AccountRef {
            kind: self.kind,
            id: account_id,
        };
        let store = &*self.services.store;
        // The account's state in the directory now (a pupil may have activated since the
        // class form): one that left the batch's states is set aside, not reset.
        let written = match store.status(conn, account, now) {
            Ok(Some(live)) if !states.contains(&live.state) => {
                Err(StoreError::NotPossible(live.state))
            }
            Ok(None) => Err(StoreError::NotFound),
            Err(e) => Err(e),
            Ok(Some(_)) => store.set_provisional(conn, &permit, account, provisional, now),
        };
        let key = &self.services.key;
        let done = finish_remote(conn, key, now, started, written, &event, |tx| {
            if store::complete_item(tx.conn(), item, sealed, now)? {
                Ok(())
            } else {
                Err(ResetError::AlreadyDone)
            }
        });
        match done {
            Ok(()) => Ok(Step::Done),
            Err(ResetError::Store(StoreError::Unavailable(_))) => {
                let why = Interruption::StoreUnavailable;
                Lease::new(batch_id, owner).interrupt(conn, why)?;
                Ok(Step::Stopped(why))
            }
            Err(ResetError::Store(_)) => {
                store::abandon_item(conn, item)?;
                Ok(Step::Done)
            }
            Err(e) => Err(e),
        }
    }
}
