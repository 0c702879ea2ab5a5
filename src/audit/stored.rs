//! An audit row as stored, read by the chain's verification and the journal.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AuditEvent;
use crate::db::schema::audit_events;

/// One row of `audit_events`, every column: the event (a typed row: an outcome no version
/// writes fails the read) between its place in the chain and its hashes.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct StoredEvent {
    pub seq: i64,
    pub at: NaiveDateTime,
    #[diesel(embed)]
    pub event: AuditEvent,
    pub prev_hash: String,
    pub hash: String,
}
