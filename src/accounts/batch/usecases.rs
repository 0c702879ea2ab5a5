//! What an agent does with a batch, each in one audited transaction: create it, take it up
//! again, abandon what is left, confirm the letters are printed. The caller has checked the
//! rights (it holds the `Permit`); the runner checks them again before each account.

use chrono::{DateTime, Utc};

use super::{Created, NewBatch, store};
use crate::audit::{self, AuditEvent};
use crate::db::DbConnection;
use crate::secrets::AppKey;

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    /// Printing is confirmed once every account is done or abandoned.
    #[error("{0} accounts of the batch are still to be done")]
    NotFinished(i64),
    /// Printed or wiped already.
    #[error("the batch is closed")]
    Closed,
}

impl BatchError {
    /// What the agent reads.
    pub fn message(&self) -> String {
        match self {
            BatchError::Db(_) => "La base de données n'a pas pu enregistrer l'opération.".into(),
            BatchError::NotFinished(n) => format!(
                "{n} compte{s} de ce lot n'{v} pas encore reçu de mot de passe : reprenez le lot \
                 ou abandonnez ce qui reste avant de confirmer l'impression.",
                s = if *n > 1 { "s" } else { "" },
                v = if *n > 1 { "ont" } else { "a" },
            ),
            BatchError::Closed => "Ce lot est terminé : ses mots de passe ont été effacés.".into(),
        }
    }
}

/// Creates the batch (its accounts claimed) with its audit row; an overlap with an unfinished
/// batch creates nothing. Batches past their 24 hours are closed first, freeing their
/// accounts.
pub fn create(
    conn: &mut DbConnection,
    key: &AppKey,
    now: DateTime<Utc>,
    new: &NewBatch<'_>,
    event: &AuditEvent,
) -> Result<Created, BatchError> {
    audit::audited(conn, key, now, |tx| -> Result<Created, BatchError> {
        store::wipe_expired(tx.conn(), now)?;
        let created = store::create(tx.conn(), new, now)?;
        if let Created::New(id) = created {
            tx.append(&event.clone().target("lot", id))?;
        }
        Ok(created)
    })
}

/// Takes the work up again under `acting_uid`'s rights (the error or the interruption that
/// stopped it is forgotten); the caller then starts a runner.
pub fn resume(
    conn: &mut DbConnection,
    key: &AppKey,
    now: DateTime<Utc>,
    id: i64,
    acting_uid: &str,
    gate: Option<&str>,
    event: &AuditEvent,
) -> Result<(), BatchError> {
    audit::audited(conn, key, now, |tx| -> Result<(), BatchError> {
        let batch = store::find(tx.conn(), id)?.ok_or(diesel::result::Error::NotFound)?;
        if batch.is_closed() {
            return Err(BatchError::Closed);
        }
        store::prepare_resume(tx.conn(), id, acting_uid, gate)?;
        tx.append(event)?;
        Ok(())
    })
}

/// Gives up the accounts not done yet; returns how many.
pub fn abandon(
    conn: &mut DbConnection,
    key: &AppKey,
    now: DateTime<Utc>,
    id: i64,
    by: &str,
    event: &AuditEvent,
) -> Result<usize, BatchError> {
    audit::audited(conn, key, now, |tx| -> Result<usize, BatchError> {
        let batch = store::find(tx.conn(), id)?.ok_or(diesel::result::Error::NotFound)?;
        if batch.is_closed() {
            return Err(BatchError::Closed);
        }
        let n = store::abandon_pending(tx.conn(), id, by, now)?;
        tx.append(&event.clone().details(format!("{n} accounts abandoned")))?;
        Ok(n)
    })
}

/// The letters are printed: the passwords are wiped and the accounts freed. Refused while
/// accounts are still to be done (the agent resumes or abandons them first).
pub fn confirm_printed(
    conn: &mut DbConnection,
    key: &AppKey,
    now: DateTime<Utc>,
    id: i64,
    event: &AuditEvent,
) -> Result<(), BatchError> {
    audit::audited(conn, key, now, |tx| -> Result<(), BatchError> {
        let progress = store::counts(tx.conn(), id)?;
        if progress.pending > 0 {
            return Err(BatchError::NotFinished(progress.pending));
        }
        store::mark_printed(tx.conn(), id, now)?;
        tx.append(event)?;
        Ok(())
    })
}
