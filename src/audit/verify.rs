//! `audit verify`: walks the chain in sequence order.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{AuditEvent, GENESIS_HASH, Outcome, canonical_encoding, chain_hash};
use crate::db::DbConnection;
use crate::db::schema::{audit_events, audit_head};
use crate::secrets::AppKey;

/// The last link: what an operator anchors elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("audit chain broken at row {seq}: {reason}")]
    Broken { seq: i64, reason: String },
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// One stored row, as `audit_events` holds it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct StoredRow {
    seq: i64,
    at: NaiveDateTime,
    actor: String,
    uai: Option<String>,
    action: String,
    target_kind: Option<String>,
    target_id: Option<String>,
    outcome: String,
    delegation_id: Option<i64>,
    gate: Option<String>,
    peer_addr: Option<String>,
    client_addr: Option<String>,
    request_id: Option<String>,
    details: Option<String>,
    prev_hash: String,
    hash: String,
}

const PAGE: i64 = 2_000;

/// Where the walk stands: the sequence the next row must carry, and the hash it must follow.
struct Walk {
    expected_seq: i64,
    prev: String,
}

/// The next page of rows from `from` on, in sequence order.
fn load_page(conn: &mut DbConnection, from: i64) -> QueryResult<Vec<StoredRow>> {
    audit_events::table
        .filter(audit_events::seq.ge(from))
        .order(audit_events::seq.asc())
        .limit(PAGE)
        .select(StoredRow::as_select())
        .load(conn)
}

fn broken(seq: i64, reason: impl Into<String>) -> VerifyError {
    VerifyError::Broken {
        seq,
        reason: reason.into(),
    }
}

/// What a row was hashed from (sequence, instant, event), and its hash.
type Hashed = (i64, NaiveDateTime, AuditEvent, String);

/// The event a row was hashed from.
fn event_of(row: StoredRow) -> Result<Hashed, VerifyError> {
    let outcome = match row.outcome.as_str() {
        "success" => Outcome::Success,
        "refused" => Outcome::Refused,
        "failure" => Outcome::Failure,
        _ => return Err(broken(row.seq, "unknown outcome")),
    };
    let event = AuditEvent {
        actor: row.actor,
        uai: row.uai,
        action: row.action,
        target_kind: row.target_kind,
        target_id: row.target_id,
        outcome,
        delegation_id: row.delegation_id,
        gate: row.gate,
        peer_addr: row.peer_addr,
        client_addr: row.client_addr,
        request_id: row.request_id,
        details: row.details,
    };
    Ok((row.seq, row.at, event, row.hash))
}

impl Walk {
    /// Checks one row against the one before it (sequence, previous hash, HMAC) and moves on.
    fn step(&mut self, key: &AppKey, row: StoredRow) -> Result<(), VerifyError> {
        let seq = row.seq;
        if seq != self.expected_seq {
            return Err(broken(
                self.expected_seq,
                format!("row missing (next row present is {seq})"),
            ));
        }
        if row.prev_hash != self.prev {
            return Err(broken(
                seq,
                "its previous hash does not match the row before it",
            ));
        }
        let (seq, at, event, hash) = event_of(row)?;
        let expected = chain_hash(key, &self.prev, &canonical_encoding(seq, at, &event));
        if expected != hash {
            return Err(broken(seq, "its content does not match its hash"));
        }
        self.prev = hash;
        self.expected_seq += 1;
        Ok(())
    }

    /// The head row must name the last row of the chain.
    fn check_head(self, conn: &mut DbConnection) -> Result<ChainHead, VerifyError> {
        let last = self.expected_seq - 1;
        let (head_seq, head_hash) = audit_head::table
            .filter(audit_head::id.eq(1))
            .select((audit_head::seq, audit_head::hash))
            .first::<(i64, String)>(conn)?;
        if head_seq != last || head_hash != self.prev {
            return Err(broken(
                last + 1,
                format!(
                    "the head says sequence {head_seq} but the chain ends at {last}: rows were removed from the end or the head was altered"
                ),
            ));
        }
        Ok(ChainHead {
            seq: last,
            hash: self.prev,
        })
    }
}

/// Checks every row (contiguous sequence, previous hash, HMAC) and the head row.
pub fn verify_chain(conn: &mut DbConnection, key: &AppKey) -> Result<ChainHead, VerifyError> {
    let mut walk = Walk {
        expected_seq: 1,
        prev: GENESIS_HASH.to_owned(),
    };
    loop {
        let rows = load_page(conn, walk.expected_seq)?;
        let count = rows.len();
        for row in rows {
            walk.step(key, row)?;
        }
        if count < PAGE as usize {
            return walk.check_head(conn);
        }
    }
}
