//! Resetting passwords: one pupil, or a division's batch (run on the blocking pool, hashing
//! two accounts at a time so both cores work).

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::batch;
use super::provisional;
use super::{parents, pupils};
use crate::audit::{self, AuditEvent, AuditTx};
use crate::auth::password::{PasswordError, hash_password};
use crate::clock::SharedClock;
use crate::db::DbPool;
use crate::secrets::AppKey;

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error("database unavailable: {0}")]
    Pool(String),
    #[error("{0}")]
    Crypto(String),
    #[error("the batch is being worked on elsewhere")]
    Leased,
    #[error("the account was reset by another worker")]
    AlreadyDone,
    /// Every hashing thread stayed busy for the bounded wait: nothing was changed.
    #[error("password hashing is busy")]
    Busy,
}

/// A fresh provisional password and its argon2id hash (slow: the blocking pool).
pub fn new_provisional() -> Result<(SecretString, String), ResetError> {
    let password = provisional::generate().map_err(|e| ResetError::Crypto(e.to_string()))?;
    let hash = hash_password(&password).map_err(|e| match e {
        PasswordError::Busy => ResetError::Busy,
        other => ResetError::Crypto(other.to_string()),
    })?;
    Ok((password, hash))
}

/// Whose password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    Pupil,
    Parent,
}

impl AccountKind {
    /// The audit target kind.
    pub fn target(self) -> &'static str {
        match self {
            AccountKind::Pupil => "eleve",
            AccountKind::Parent => "responsable",
        }
    }

    /// The batch kind.
    pub fn batch_kind(self) -> &'static str {
        match self {
            AccountKind::Pupil => "eleves",
            AccountKind::Parent => "responsables",
        }
    }
}

/// Stores the new password of an account with its audit row, in the caller's transaction.
pub fn apply_reset(
    tx: &mut AuditTx<'_>,
    kind: AccountKind,
    id: i64,
    hash: &str,
    now: DateTime<Utc>,
    event: &AuditEvent,
) -> Result<(), ResetError> {
    let expires = provisional::expiry(now);
    match kind {
        AccountKind::Pupil => pupils::set_provisional(tx.conn(), id, hash, expires, now)?,
        AccountKind::Parent => parents::set_provisional(tx.conn(), id, hash, expires, now)?,
    };
    tx.append(event)?;
    Ok(())
}

/// Works a batch through: takes the lease, resets the pending accounts two at a time (each
/// in its own transaction with its audit row and its sealed password), gives the lease back.
pub struct BatchRunner {
    pub kind: AccountKind,
    pub pool: DbPool,
    pub key: AppKey,
    pub clock: SharedClock,
    /// Who holds the lease (an id of this run).
    pub owner: String,
    /// The audit event of each reset, completed with the pupil.
    pub template: AuditEvent,
}

impl BatchRunner {
    pub fn run(&self, batch_id: i64) -> Result<(), ResetError> {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| ResetError::Pool(e.to_string()))?;
        if !batch::acquire_lease(&mut conn, batch_id, &self.owner, self.clock.now())? {
            return Err(ResetError::Leased);
        }
        let outcome = self.work(&mut conn, batch_id);
        let error = outcome.as_ref().err().map(|e| e.to_string());
        batch::release_lease(&mut conn, batch_id, &self.owner, error.as_deref())?;
        outcome
    }

    fn work(&self, conn: &mut crate::db::PooledConn, batch_id: i64) -> Result<(), ResetError> {
        loop {
            if !batch::acquire_lease(conn, batch_id, &self.owner, self.clock.now())? {
                return Err(ResetError::Leased);
            }
            let items = batch::pending(conn, batch_id, 2)?;
            if items.is_empty() {
                return Ok(());
            }
            // Hash in parallel, write one after the other.
            let prepared: Vec<Result<(SecretString, String), ResetError>> =
                std::thread::scope(|s| {
                    let handles: Vec<_> = items.iter().map(|_| s.spawn(new_provisional)).collect();
                    handles
                        .into_iter()
                        .map(|h| {
                            h.join().unwrap_or_else(|_| {
                                Err(ResetError::Crypto("hashing thread failed".into()))
                            })
                        })
                        .collect()
                });
            for ((item, account_id), prepared) in items.into_iter().zip(prepared) {
                let (password, hash) = prepared?;
                let sealed = self
                    .key
                    .seal(
                        batch::SEAL_PURPOSE,
                        &batch::binding(batch_id, account_id),
                        password.expose_secret().as_bytes(),
                    )
                    .map_err(|e| ResetError::Crypto(e.to_string()))?;
                let now = self.clock.now();
                let event = self
                    .template
                    .clone()
                    .target(self.kind.target(), account_id)
                    .details(format!("batch {batch_id}"));
                audit::audited(conn, &self.key, now, |tx| -> Result<(), ResetError> {
                    if !batch::complete_item(tx.conn(), item, &sealed, now)? {
                        return Err(ResetError::AlreadyDone);
                    }
                    apply_reset(tx, self.kind, account_id, &hash, now, &event)
                })?;
            }
        }
    }
}
