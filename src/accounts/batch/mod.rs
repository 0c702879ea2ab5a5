//! Batches of letters for a division (BRIEF rules 3 and 8): crash-safe, idempotent and
//! authorised item by item. Each account of the batch is reset in its own transaction
//! together with its audit row and its password, kept sealed (AES-256-GCM, bound to the
//! batch and the account) until the letters are printed, or 24 hours at most. The rights of
//! the agent the work runs for are checked afresh, inside that transaction, before each
//! account: a revocation, an expiry or a lost attachment stops the batch at the next account.
//! A short lease, renewed by a heartbeat, keeps two tabs or two instances off one batch; an
//! account belongs to at most one unfinished batch.

pub mod claims;
pub mod job;
pub mod lease;
mod remote;
mod row;
pub mod runner;
pub mod store;

use chrono::{DateTime, Duration, Utc};

pub use claims::*;
pub use lease::*;
pub use store::*;

use super::{AccountKind, AccountState};
use crate::domain::{BatchId, Division, Uai};

pub const SEAL_PURPOSE: &str = "batch-password";
pub const RETENTION_HOURS: i64 = 24;
/// A lease lasts this long unless renewed…
pub const LEASE_SECS: i64 = 10;
/// …and the worker's heartbeat renews it this often.
pub const HEARTBEAT_SECS: u64 = 3;

/// The sealed password's binding: this batch, this account.
pub fn binding(batch_id: i64, account_id: i64) -> Vec<u8> {
    format!("educt-batch/1:{batch_id}:{account_id}").into_bytes()
}

/// Why the rights check stopped a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interruption {
    /// The delegation the work ran under was revoked.
    Revoked,
    /// It reached its last day.
    Expired,
    /// The agent is no longer attached to the establishment in the directory.
    Detached,
    /// The agent is gone from the directory or disabled.
    AgentGone,
    /// Any other loss of rights (a principal who no longer is).
    NoRight,
    /// A parents' batch whose worker died: the parents' gate must be passed again by a
    /// person before it goes on (the job cannot pass it).
    Gate,
    /// The account store (the LDAP directory) did not answer: resume later.
    StoreUnavailable,
}

impl Interruption {
    pub const ALL: [Interruption; 7] = [
        Interruption::Revoked,
        Interruption::Expired,
        Interruption::Detached,
        Interruption::AgentGone,
        Interruption::NoRight,
        Interruption::Gate,
        Interruption::StoreUnavailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Interruption::Revoked => "revoked",
            Interruption::Expired => "expired",
            Interruption::Detached => "detached",
            Interruption::AgentGone => "agent_gone",
            Interruption::NoRight => "no_right",
            Interruption::Gate => "gate",
            Interruption::StoreUnavailable => "store_unavailable",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.as_str() == s)
    }

    /// The French explanation shown on the batch page and in the journal.
    pub fn label(self) -> &'static str {
        match self {
            Interruption::Revoked => "la délégation a été révoquée",
            Interruption::Expired => "la délégation a expiré",
            Interruption::Detached => "le personnel n'est plus rattaché à l'établissement",
            Interruption::AgentGone => "le compte du personnel a été désactivé",
            Interruption::NoRight => "les droits sur cet établissement ont pris fin",
            Interruption::Gate => {
                "le travail s'est arrêté et l'accès aux comptes des responsables doit être \
                 vérifié à nouveau (réseau administratif ou code de l'application \
                 d'authentification)"
            }
            Interruption::StoreUnavailable => {
                "l'annuaire des comptes ne répondait plus ; reprenez le lot dans quelques minutes"
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Batch {
    pub id: BatchId,
    /// Whose accounts: pupils' or parents' (stored as the batch kind).
    pub kind: AccountKind,
    pub uai: Uai,
    pub division: Division,
    pub states: Vec<AccountState>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Whose rights the work runs under (the creator, or whoever resumed it last).
    pub acting_uid: String,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub printed_at: Option<DateTime<Utc>>,
    pub wiped_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub interruption: Option<Interruption>,
    /// The parents' gate the work was started through (`network`, `totp`).
    pub gate: Option<String>,
    pub abandoned_by: Option<String>,
    pub abandoned_at: Option<DateTime<Utc>>,
}

impl Batch {
    pub fn is_leased(&self, now: DateTime<Utc>) -> bool {
        self.lease_until.is_some_and(|t| t > now)
    }

    /// Passwords are kept 24 hours at most, and wiped once the letters are printed.
    pub fn passwords_available(&self, now: DateTime<Utc>) -> bool {
        self.wiped_at.is_none() && now - self.created_at < Duration::hours(RETENTION_HOURS)
    }

    /// Printed, wiped: nothing can happen to it any more.
    pub fn is_closed(&self) -> bool {
        self.printed_at.is_some() || self.wiped_at.is_some()
    }
}

/// Where a batch's items stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub done: i64,
    pub pending: i64,
    pub abandoned: i64,
}

impl Progress {
    pub fn total(&self) -> i64 {
        self.done + self.pending + self.abandoned
    }
}
