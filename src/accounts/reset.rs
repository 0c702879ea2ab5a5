//! Resetting passwords: a fresh provisional password and its hash, stored with its audit row
//! (one account, or one account of a batch: see `batch::runner`).
//!
//! A local store writes in the caller's transaction, with the audit row. A remote store (the
//! LDAP directory) cannot share our transaction, so the audit never loses a write: the
//! "started" row and a pending mark commit first ([`start_remote`]), the store writes, then
//! the outcome row commits and the mark goes ([`finish_remote`]). A mark left behind (the
//! process died, the database failed after the write) is settled by the reconciliation job.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use secrecy::SecretString;

use super::AccountKind;
use super::provisional;
use super::store::{AccountRef, AccountStore, Provisional, StoreError};
use crate::audit::{self, AuditEvent, AuditTx, Outcome};
use crate::auth::password::{PasswordError, hash_password};
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::schema::pending_account_writes as pending;
use crate::delegation::policy::Permit;
use crate::secrets::AppKey;

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

/// A fresh provisional password for `store`, with its argon2id hash when the store keeps
/// hashes (slow: the blocking pool); a directory hashes it itself, so none is made for it.
pub fn new_provisional(store: &dyn AccountStore) -> Result<Provisional, ResetError> {
    let password: SecretString =
        provisional::generate().map_err(|e| ResetError::Crypto(e.to_string()))?;
    if store.is_remote() {
        return Ok(Provisional {
            password,
            hash: String::new(),
        });
    }
    let hash = hash_password(&password).map_err(|e| match e {
        PasswordError::Busy => ResetError::Busy,
        other => ResetError::Crypto(other.to_string()),
    })?;
    Ok(Provisional { password, hash })
}

/// Stores the new password of an account through a local store (the permit proves the
/// right), with its audit row, in the caller's transaction.
pub fn apply_reset(
    tx: &mut AuditTx<'_>,
    store: &dyn AccountStore,
    permit: &Permit,
    account: AccountRef,
    provisional: &Provisional,
    now: DateTime<Utc>,
    event: &AuditEvent,
) -> Result<(), ResetError> {
    store.set_provisional(tx.conn(), permit, account, provisional, now)?;
    tx.append(event)?;
    Ok(())
}

/// A remote write begun: its "started" row's sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started(pub i64);

/// In the caller's transaction: the "started" row of `done` (its outcome changed, its
/// details kept) and the pending mark the outcome will remove.
pub fn start_remote(
    tx: &mut AuditTx<'_>,
    account: AccountRef,
    done: &AuditEvent,
    now: DateTime<Utc>,
) -> Result<Started, ResetError> {
    let mut started = done.clone();
    started.outcome = Outcome::Started;
    let seq = tx.append(&started)?;
    diesel::insert_into(pending::table)
        .values((
            pending::started_seq.eq(seq),
            pending::account_kind.eq(account.kind.target()),
            pending::account_id.eq(account.id),
            pending::started_at.eq(db_instant(now)),
        ))
        .execute(tx.conn())?;
    Ok(Started(seq))
}

/// The outcome row of a remote write, in one transaction with `on_done` when it was
/// written: `done` itself, or `done` refused (the store's French reason) or failed (the
/// store did not answer: the pending mark stays for the reconciliation job).
#[allow(clippy::too_many_arguments)]
pub fn finish_remote<T>(
    conn: &mut DbConnection,
    key: &AppKey,
    now: DateTime<Utc>,
    started: Started,
    written: Result<(), StoreError>,
    done: &AuditEvent,
    on_done: impl FnOnce(&mut AuditTx<'_>) -> Result<T, ResetError>,
) -> Result<T, ResetError> {
    audit::audited(
        conn,
        key,
        now,
        |tx| -> Result<Result<T, ResetError>, ResetError> {
            // A store that did not answer may have written: the mark stays for the
            // reconciliation job, which reads the entry and records what it finds.
            if !matches!(written, Err(StoreError::Unavailable(_))) {
                settle(tx.conn(), started)?;
            }
            match written {
                Ok(()) => {
                    let out = on_done(tx)?;
                    tx.append(done)?;
                    Ok(Ok(out))
                }
                Err(e) => {
                    tx.append(&failed(done, &e))?;
                    Ok(Err(e.into()))
                }
            }
        },
    )?
}

/// Removes the pending mark of `started` (its outcome is being written).
pub fn settle(conn: &mut DbConnection, started: Started) -> QueryResult<usize> {
    diesel::delete(pending::table.filter(pending::started_seq.eq(started.0))).execute(conn)
}

/// `done` as a refusal (the store said no, nothing changed) or a failure (unknown outcome).
pub fn failed(done: &AuditEvent, e: &StoreError) -> AuditEvent {
    let mut row = done.clone();
    row.outcome = match e {
        StoreError::Unavailable(_) => Outcome::Failure,
        _ => Outcome::Refused,
    };
    let before = done.details.clone().unwrap_or_default();
    let why = store_reason(e);
    row.details(if before.is_empty() {
        why
    } else {
        format!("{before} : {why}")
    })
}

/// What a store's refusal or failure says, in French (pages and journal).
pub fn store_reason(e: &StoreError) -> String {
    match e {
        StoreError::Unavailable(_) => "l'annuaire des comptes ne répond pas, le changement \
            n'est pas confirmé (l'entretien vérifiera l'annuaire)"
            .into(),
        StoreError::Refused(why) => why.clone(),
        StoreError::EntryMissing(id) => {
            format!("aucune entrée de l'annuaire des comptes ne porte l'identifiant {id}")
        }
        StoreError::Duplicate(id) => {
            format!("plusieurs entrées de l'annuaire des comptes portent l'identifiant {id}")
        }
        StoreError::NotPossible(state) => format!(
            "le compte est dans l'état « {} » dans l'annuaire",
            state.label()
        ),
        StoreError::NotCovered | StoreError::NotFound | StoreError::Db(_) => {
            "le changement n'a pas pu être enregistré".into()
        }
    }
}

/// A remote write whose outcome was not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub started: Started,
    pub account: AccountRef,
    pub started_at: DateTime<Utc>,
}

/// The pending marks older than `before`, oldest first (at most `limit`); a mark naming an
/// unknown kind fails the read.
pub fn pending_before(
    conn: &mut DbConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Pending>> {
    let rows: Vec<(i64, String, i64, chrono::NaiveDateTime)> = pending::table
        .filter(pending::started_at.lt(db_instant(before)))
        .order(pending::started_seq)
        .limit(limit)
        .select((
            pending::started_seq,
            pending::account_kind,
            pending::account_id,
            pending::started_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(seq, kind, id, at)| {
            let kind = AccountKind::ALL
                .into_iter()
                .find(|k| k.target() == kind)
                .ok_or_else(|| {
                    diesel::result::Error::DeserializationError(
                        format!("unknown account kind {kind:?}").into(),
                    )
                })?;
            Ok(Pending {
                started: Started(seq),
                account: AccountRef { kind, id },
                started_at: at.and_utc(),
            })
        })
        .collect()
}
