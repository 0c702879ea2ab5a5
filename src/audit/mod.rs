//! The audit trail (BRIEF rule 9): append-only rows chained with HMAC-SHA-256 under the
//! application key, appended inside the caller's transaction.

mod action;
mod chain;
pub mod details_fr;
mod event;
pub mod journal;
mod names;
mod stored;
mod verify;

pub use action::AuditAction;
pub use chain::{GENESIS_HASH, canonical_encoding, chain_hash};
pub use event::{AuditEvent, Outcome, cli_actor};
pub use stored::StoredEvent;
pub use verify::{ChainHead, VerifyError, verify_chain};

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::schema::{audit_events, audit_head};
use crate::secrets::AppKey;

/// A transaction that holds the audit head: business changes and their audit rows
/// commit together or not at all.
pub struct AuditTx<'a> {
    conn: &'a mut DbConnection,
    key: &'a AppKey,
    at: DateTime<Utc>,
    seq: i64,
    hash: String,
}

impl AuditTx<'_> {
    pub fn conn(&mut self) -> &mut DbConnection {
        self.conn
    }

    /// Appends one row; returns its sequence number.
    pub fn append(&mut self, event: &AuditEvent) -> QueryResult<i64> {
        let event = event.without_nul().into_owned();
        let seq = self.seq + 1;
        let at = db_instant(self.at);
        let hash = chain_hash(self.key, &self.hash, &canonical_encoding(seq, at, &event));
        diesel::insert_into(audit_events::table)
            .values((
                audit_events::seq.eq(seq),
                audit_events::at.eq(at),
                event,
                audit_events::prev_hash.eq(&self.hash),
                audit_events::hash.eq(&hash),
            ))
            .execute(self.conn)?;
        diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
            .set((audit_head::seq.eq(seq), audit_head::hash.eq(&hash)))
            .execute(self.conn)?;
        self.seq = seq;
        self.hash = hash;
        Ok(seq)
    }
}

/// Runs `f` in a transaction whose first statement takes the audit head (the row lock on
/// PostgreSQL, the write lock at once on SQLite), so appends are serialised on both.
pub fn audited<T, E, F>(
    conn: &mut DbConnection,
    key: &AppKey,
    at: DateTime<Utc>,
    f: F,
) -> Result<T, E>
where
    F: FnOnce(&mut AuditTx<'_>) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(|conn| {
        let touched = diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
            .set(audit_head::seq.eq(audit_head::seq))
            .execute(conn)?;
        if touched != 1 {
            return Err(E::from(diesel::result::Error::NotFound));
        }
        let (seq, hash) = audit_head::table
            .filter(audit_head::id.eq(1))
            .select((audit_head::seq, audit_head::hash))
            .first::<(i64, String)>(conn)?;
        let mut tx = AuditTx {
            conn,
            key,
            at,
            seq,
            hash,
        };
        f(&mut tx)
    })
}

/// A transaction holding nothing but `event`: a refusal, a sign-in failure.
pub fn record(
    conn: &mut DbConnection,
    key: &AppKey,
    at: DateTime<Utc>,
    event: &AuditEvent,
) -> QueryResult<i64> {
    audited(conn, key, at, |tx| tx.append(event))
}
