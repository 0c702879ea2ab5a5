//! An audit row as stored, read by the chain's verification and the journal.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{AuditEvent, Outcome};
use crate::db::schema::audit_events;

/// One row of `audit_events`, every column.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct StoredEvent {
    pub seq: i64,
    pub at: NaiveDateTime,
    pub actor: String,
    pub uai: Option<String>,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub outcome: String,
    pub delegation_id: Option<i64>,
    pub gate: Option<String>,
    pub peer_addr: Option<String>,
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
    pub details: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl StoredEvent {
    /// The event as it was appended; `None` for an outcome no version writes.
    pub fn event(&self) -> Option<AuditEvent> {
        let outcome = match self.outcome.as_str() {
            "success" => Outcome::Success,
            "refused" => Outcome::Refused,
            "failure" => Outcome::Failure,
            _ => return None,
        };
        Some(AuditEvent {
            actor: self.actor.clone(),
            uai: self.uai.clone(),
            action: self.action.clone(),
            target_kind: self.target_kind.clone(),
            target_id: self.target_id.clone(),
            outcome,
            delegation_id: self.delegation_id,
            gate: self.gate.clone(),
            peer_addr: self.peer_addr.clone(),
            client_addr: self.client_addr.clone(),
            request_id: self.request_id.clone(),
            details: self.details.clone(),
        })
    }
}
