//! Resetting passwords: a fresh provisional password and its hash, stored with its audit row
//! (one account, or one account of a batch: see `batch::runner`).

use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::provisional;
use super::store::{AccountRef, AccountStore, StoreError};
use crate::audit::{AuditEvent, AuditTx};
use crate::auth::password::{PasswordError, hash_password};
use crate::delegation::policy::Permit;

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database unavailable: {0}")]
    Pool(String),
    #[error("{0}")]
    Crypto(String),
    #[error("the batch is being worked on elsewhere")]
    Leased,
    #[error("the account was reset by another worker")]
    AlreadyDone,
    #[error("directory unavailable: {0}")]
    Directory(String),
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

/// Stores the new password of an account through the store (the permit proves the right),
/// with its audit row, in the caller's transaction. The batch runner and the single reset
/// both write here.
pub fn apply_reset(
    tx: &mut AuditTx<'_>,
    store: &dyn AccountStore,
    permit: &Permit,
    account: AccountRef,
    hash: &str,
    now: DateTime<Utc>,
    event: &AuditEvent,
) -> Result<(), ResetError> {
    store.set_provisional(tx.conn(), permit, account, hash, now)?;
    tx.append(event)?;
    Ok(())
}
