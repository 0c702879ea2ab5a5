//! Housekeeping (BRIEF rules 8 and 12): the batch passwords past their 24 hours are wiped
//! (one audit row per batch, by `job:entretien`), expired sessions and stale throttle
//! counters are deleted. Every instance runs a round every [`EVERY_SECS`] seconds, but only
//! the holder of the job's lease ([`crate::jobs::lease`]) works; the others take over once
//! the lease lapses.

use chrono::{DateTime, Duration, Utc};

use super::sessions::Timeouts;
use super::{Actor, Failure};
use crate::audit;
use crate::auth::{session, throttle};
use crate::db::DbConnection;
use crate::jobs::lease;
use crate::secrets::AppKey;
use crate::usecases::Context;
use crate::usecases::batches::wipe_expired_in;

/// The job's name in `job_leases`.
pub const JOB: &str = "housekeeping";
/// The actor of its audit rows (`job:entretien`).
pub const ACTOR: Actor = Actor::Job("entretien");
/// A round this often on each instance…
pub const EVERY_SECS: u64 = 60;
/// …and the lease it renews lasts this long: three rounds missed, another instance takes over.
pub const LEASE_SECS: i64 = 180;

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub batches_wiped: usize,
    pub sessions_purged: usize,
    pub throttle_rows_purged: usize,
}

impl Swept {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// One round for `owner` (`<instance id>/<run>`) at `now`, in one audited transaction:
/// `None` when another instance holds the lease (nothing done), else what was swept.
pub fn run_once(
    conn: &mut DbConnection,
    key: &AppKey,
    owner: &str,
    now: DateTime<Utc>,
    timeouts: Timeouts,
) -> Result<Option<Swept>, Failure> {
    audit::audited(conn, key, now, |tx| -> Result<Option<Swept>, Failure> {
        let ttl = Duration::seconds(LEASE_SECS);
        if !lease::acquire(tx.conn(), JOB, owner, now, ttl)? {
            return Ok(None);
        }
        let batches_wiped = wipe_expired_in(tx, &Context::new(ACTOR, now))?;
        let sessions_purged =
            session::purge_expired(tx.conn(), now, timeouts.idle, timeouts.absolute)?;
        let throttle_rows_purged = throttle::purge_stale(tx.conn(), now)?;
        Ok(Some(Swept {
            batches_wiped,
            sessions_purged,
            throttle_rows_purged,
        }))
    })
}
