//! What an agent does with a batch, each in one audited transaction: create it, take it up
//! again, abandon what is left, confirm the letters are printed. The caller has checked the
//! rights (it holds the `Permit`); the runner checks them again before each account.

use chrono::{DateTime, Utc};

use super::{Created, NewBatch, lease, store};
use crate::audit::{self, AuditEvent, AuditTx, Outcome};
use crate::db::DbConnection;
use crate::domain::BatchId;
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
    /// Someone is working on it right now.
    #[error("the batch is being worked on")]
    Running,
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
            BatchError::Running => "Ce lot est en cours de traitement : attendez la fin (la page \
                 se met à jour toute seule) avant de le reprendre ou de l'abandonner."
                .into(),
        }
    }
}

/// The audit row of the 24-hour wipe of one batch.
fn wipe_event(actor: &str, id: i64) -> AuditEvent {
    AuditEvent::new(actor, "batch.wipe", Outcome::Success)
        .target("lot", id)
        .details("mots de passe effacés : 24 heures passées")
}

/// Closes the batches past their 24 hours (passwords wiped, accounts freed), one audit row
/// each, in the caller's audited transaction.
pub fn wipe_expired_in(
    tx: &mut AuditTx<'_>,
    now: DateTime<Utc>,
    actor: &str,
) -> Result<usize, BatchError> {
    let wiped = store::wipe_expired(tx.conn(), now)?;
    for id in &wiped {
        tx.append(&wipe_event(actor, *id))?;
    }
    Ok(wiped.len())
}

/// The same, alone in its transaction (page views, the batches job).
pub fn wipe_expired(
    conn: &mut DbConnection,
    key: &AppKey,
    now: DateTime<Utc>,
    actor: &str,
) -> Result<usize, BatchError> {
    audit::audited(conn, key, now, |tx| wipe_expired_in(tx, now, actor))
}

/// Creates the batch (its accounts claimed, its lease held by `owner`, whose runner starts
/// next) with its audit row; an overlap with an unfinished batch creates nothing. Batches
/// past their 24 hours are closed first, freeing their accounts.
pub fn create(
    conn: &mut DbConnection,
    key: &AppKey,
    now: DateTime<Utc>,
    new: &NewBatch<'_>,
    owner: &str,
    event: &AuditEvent,
) -> Result<Created, BatchError> {
    audit::audited(conn, key, now, |tx| -> Result<Created, BatchError> {
        wipe_expired_in(tx, now, &event.actor)?;
        let created = store::create_leased(tx.conn(), new, Some(owner), now)?;
        if let Created::New(id) = created {
            tx.append(&event.clone().target("lot", id))?;
        }
        Ok(created)
    })
}

/// Takes the work up again under `acting_uid`'s rights (the error or the interruption that
/// stopped it is forgotten) and leases it to `owner`, whose runner starts next. Refused
/// while someone else works on it.
#[allow(clippy::too_many_arguments)]
pub fn resume(
    conn: &mut DbConnection,
    key: &AppKey,
    now: DateTime<Utc>,
    id: impl Into<BatchId>,
    acting_uid: &str,
    gate: Option<&str>,
    owner: &str,
    event: &AuditEvent,
) -> Result<(), BatchError> {
    let id: BatchId = id.into();
    audit::audited(conn, key, now, |tx| -> Result<(), BatchError> {
        let batch = store::find(tx.conn(), id)?.ok_or(diesel::result::Error::NotFound)?;
        if batch.is_closed() {
            return Err(BatchError::Closed);
        }
        if !lease::acquire_lease(tx.conn(), id, owner, now)? {
            return Err(BatchError::Running);
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
    id: impl Into<BatchId>,
    by: &str,
    event: &AuditEvent,
) -> Result<usize, BatchError> {
    let id: BatchId = id.into();
    audit::audited(conn, key, now, |tx| -> Result<usize, BatchError> {
        let batch = store::find(tx.conn(), id)?.ok_or(diesel::result::Error::NotFound)?;
        if batch.is_closed() {
            return Err(BatchError::Closed);
        }
        if batch.is_leased(now) {
            return Err(BatchError::Running);
        }
        let n = store::abandon_pending(tx.conn(), id, by, now)?;
        tx.append(&event.clone().details(format!(
            "lot n° {id}, classe {} : {n} compte{} abandonné{}",
            batch.division,
            if n > 1 { "s" } else { "" },
            if n > 1 { "s" } else { "" },
        )))?;
        Ok(n)
    })
}

/// The letters are printed: the passwords are wiped and the accounts freed. Refused while
/// accounts are still to be done (the agent resumes or abandons them first).
pub fn confirm_printed(
    conn: &mut DbConnection,
    key: &AppKey,
    now: DateTime<Utc>,
    id: impl Into<BatchId>,
    event: &AuditEvent,
) -> Result<(), BatchError> {
    let id: BatchId = id.into();
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
