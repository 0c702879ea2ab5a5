//! The chain's canonical encoding and hash (documented in docs/security.md).
//!
//! `hash = HMAC-SHA-256(key, prev_hash_bytes || encoding)` where `encoding` is the
//! fields below in this order, each as a 4-byte big-endian length then its UTF-8 bytes,
//! an absent value as the length `0xFFFFFFFF` and no bytes:
//! `"educt-audit/1"`, seq (decimal), at (`YYYY-MM-DDTHH:MM:SS.ffffffZ`, UTC, microseconds),
//! actor, uai, action, target_kind, target_id, outcome, delegation_id (decimal), gate,
//! peer_addr, client_addr, request_id, details.
//! The first row's previous hash is 32 zero bytes.

use chrono::NaiveDateTime;

use super::AuditEvent;
use crate::secrets::AppKey;

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const VERSION: &str = "educt-audit/1";

pub fn canonical_encoding(seq: i64, at: NaiveDateTime, e: &AuditEvent) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let at = at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let seq = seq.to_string();
    let delegation = e.delegation_id.map(|d| d.to_string());
    let fields: [Option<&str>; 15] = [
        Some(VERSION),
        Some(&seq),
        Some(&at),
        Some(&e.actor),
        e.uai.as_deref(),
        Some(&e.action),
        e.target_kind.as_deref(),
        e.target_id.as_deref(),
        Some(e.outcome.as_str()),
        delegation.as_deref(),
        e.gate.as_deref(),
        e.peer_addr.as_deref(),
        e.client_addr.as_deref(),
        e.request_id.as_deref(),
        e.details.as_deref(),
    ];
    for field in fields {
        match field {
            None => out.extend_from_slice(&u32::MAX.to_be_bytes()),
            Some(s) => {
                let len = u32::try_from(s.len()).unwrap_or(u32::MAX - 1);
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(&s.as_bytes()[..len as usize]);
            }
        }
    }
    out
}

/// Hex of the row's hash, chained on `prev_hash_hex`.
pub fn chain_hash(key: &AppKey, prev_hash_hex: &str, encoding: &[u8]) -> String {
    let prev = hex::decode(prev_hash_hex).unwrap_or_else(|_| prev_hash_hex.as_bytes().to_vec());
    hex::encode(key.hmac(&[&prev, encoding]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditAction, Outcome};

    #[test]
    fn absent_and_empty_fields_differ() {
        let at = chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc();
        let mut a = AuditEvent::new("x", AuditAction::SignIn, Outcome::Success);
        let b = a.clone();
        a.uai = Some(String::new());
        assert_ne!(canonical_encoding(1, at, &a), canonical_encoding(1, at, &b));
    }

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        let at = chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc();
        let mut a = AuditEvent::new("ab", AuditAction::SignIn, Outcome::Success);
        a.action = "c".into();
        let mut b = AuditEvent::new("a", AuditAction::SignIn, Outcome::Success);
        b.action = "bc".into();
        assert_ne!(canonical_encoding(1, at, &a), canonical_encoding(1, at, &b));
    }

    #[test]
    fn the_hash_depends_on_the_key_and_the_previous_hash() {
        let k1 = AppKey::from_bytes([1; 32]);
        let k2 = AppKey::from_bytes([2; 32]);
        let h1 = chain_hash(&k1, GENESIS_HASH, b"row");
        assert_eq!(h1.len(), 64);
        assert_ne!(h1, chain_hash(&k2, GENESIS_HASH, b"row"));
        assert_ne!(h1, chain_hash(&k1, &h1, b"row"));
    }
}
