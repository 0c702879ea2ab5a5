//! `audit verify`: walks the chain in sequence order.

use diesel::prelude::*;
use diesel::result::Error as DieselError;

use super::stored::StoredEvent;
use super::{GENESIS_HASH, Outcome, canonical_encoding, chain_hash};
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

const PAGE: i64 = 2_000;

fn missing(expected: i64, present: i64) -> VerifyError {
    VerifyError::Broken {
        seq: expected,
        reason: format!("row missing (next row present is {present})"),
    }
}

/// Up to `PAGE` rows from `from` on, in order. A row that does not decode (an outcome no
/// version writes) cuts the page: the rows before it, and its sequence number.
fn page(
    conn: &mut DbConnection,
    from: i64,
) -> Result<(Vec<StoredEvent>, Option<i64>), VerifyError> {
    let rows = |conn: &mut DbConnection, before: i64| {
        audit_events::table
            .filter(audit_events::seq.ge(from))
            .filter(audit_events::seq.lt(before))
            .order(audit_events::seq.asc())
            .limit(PAGE)
            .select(StoredEvent::as_select())
            .load(conn)
    };
    match rows(conn, i64::MAX) {
        Err(DieselError::DeserializationError(_)) => {
            let known = Outcome::ALL.map(Outcome::as_str);
            let bad: i64 = audit_events::table
                .filter(audit_events::seq.ge(from))
                .filter(audit_events::outcome.ne_all(known))
                .order(audit_events::seq.asc())
                .select(audit_events::seq)
                .first(conn)?;
            Ok((rows(conn, bad)?, Some(bad)))
        }
        read => Ok((read?, None)),
    }
}

/// Checks every row (contiguous sequence, previous hash, HMAC) and the head row.
pub fn verify_chain(conn: &mut DbConnection, key: &AppKey) -> Result<ChainHead, VerifyError> {
    let mut expected_seq = 1i64;
    let mut prev = GENESIS_HASH.to_owned();
    loop {
        let (rows, undecodable) = page(conn, expected_seq)?;
        let count = rows.len();
        for row in rows {
            let seq = row.seq;
            let broken = |reason: &str| VerifyError::Broken {
                seq,
                reason: reason.to_owned(),
            };
            if seq != expected_seq {
                return Err(missing(expected_seq, seq));
            }
            if row.prev_hash != prev {
                return Err(broken("its previous hash does not match the row before it"));
            }
            let expected = chain_hash(key, &prev, &canonical_encoding(seq, row.at, &row.event));
            if expected != row.hash {
                return Err(broken("its content does not match its hash"));
            }
            prev = row.hash;
            expected_seq += 1;
        }
        if let Some(seq) = undecodable {
            return Err(if seq == expected_seq {
                VerifyError::Broken {
                    seq,
                    reason: "unknown outcome".into(),
                }
            } else {
                missing(expected_seq, seq)
            });
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
