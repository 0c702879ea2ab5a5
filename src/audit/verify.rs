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

type Row = (
    i64,
    NaiveDateTime,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
);

const PAGE: i64 = 2_000;

/// Checks every row (contiguous sequence, previous hash, HMAC) and the head row.
pub fn verify_chain(conn: &mut DbConnection, key: &AppKey) -> Result<ChainHead, VerifyError> {
    let mut expected_seq = 1i64;
    let mut prev = GENESIS_HASH.to_owned();
    loop {
        let rows: Vec<Row> = audit_events::table
            .filter(audit_events::seq.ge(expected_seq))
            .order(audit_events::seq.asc())
            .limit(PAGE)
            .select((
                audit_events::seq,
                audit_events::at,
                audit_events::actor,
                audit_events::uai,
                audit_events::action,
                audit_events::target_kind,
                audit_events::target_id,
                audit_events::outcome,
                audit_events::delegation_id,
                audit_events::gate,
                audit_events::peer_addr,
                audit_events::client_addr,
                audit_events::request_id,
                audit_events::details,
                audit_events::prev_hash,
                audit_events::hash,
            ))
            .load(conn)?;
        let count = rows.len();
        for row in rows {
            let seq = row.0;
            let broken = |reason: &str| VerifyError::Broken {
                seq,
                reason: reason.to_owned(),
            };
            if seq != expected_seq {
                return Err(VerifyError::Broken {
                    seq: expected_seq,
                    reason: format!("row missing (next row present is {seq})"),
                });
            }
            if row.14 != prev {
                return Err(broken("its previous hash does not match the row before it"));
            }
            let outcome = match row.7.as_str() {
                "success" => Outcome::Success,
                "refused" => Outcome::Refused,
                "failure" => Outcome::Failure,
                _ => return Err(broken("unknown outcome")),
            };
            let event = AuditEvent {
                actor: row.2,
                uai: row.3,
                action: row.4,
                target_kind: row.5,
                target_id: row.6,
                outcome,
                delegation_id: row.8,
                gate: row.9,
                peer_addr: row.10,
                client_addr: row.11,
                request_id: row.12,
                details: row.13,
            };
            let expected = chain_hash(key, &prev, &canonical_encoding(seq, row.1, &event));
            if expected != row.15 {
                return Err(broken("its content does not match its hash"));
            }
            prev = row.15;
            expected_seq += 1;
        }
        if count < PAGE as usize {
            break;
        }
    }
    let last = expected_seq - 1;
    let (head_seq, head_hash) = audit_head::table
        .filter(audit_head::id.eq(1))
        .select((audit_head::seq, audit_head::hash))
        .first::<(i64, String)>(conn)?;
    if head_seq != last || head_hash != prev {
        return Err(VerifyError::Broken {
            seq: last + 1,
            reason: format!(
                "the head says sequence {head_seq} but the chain ends at {last}: rows were removed from the end or the head was altered"
            ),
        });
    }
    Ok(ChainHead {
        seq: last,
        hash: prev,
    })
}
