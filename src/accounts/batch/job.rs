//! The batches' job: every few seconds, each instance takes up the batches whose worker died
//! (a crash, a `kill -9`, a lost lease): pending accounts, no live lease, not stopped by an
//! error or a rights check. The work runs under the rights of the agent it was started for,
//! checked before each account as always.

use std::sync::Weak;

use super::runner::{Runner, Services};
use super::store;
use crate::accounts::reset::{AccountKind, ResetError};
use crate::audit::{AuditEvent, Outcome};

/// The request id written on the audit rows of work taken up by the job.
pub const JOB_REQUEST_ID: &str = "job:reprise-des-lots";

/// Takes up the orphaned batches once; returns how many were started.
pub fn take_up_orphans(services: &Services) -> Result<usize, ResetError> {
    let now = services.clock.now();
    let orphans = {
        let mut conn = services
            .pool
            .get()
            .map_err(|e| ResetError::Pool(e.to_string()))?;
        let mut found = Vec::new();
        for id in store::orphans(&mut conn, now)? {
            if let Some(b) = store::find(&mut conn, id)? {
                found.push(b);
            }
        }
        found
    };
    let mut started = 0;
    for b in orphans {
        let Some(kind) = AccountKind::from_batch_kind(&b.kind) else {
            continue;
        };
        let mut template =
            AuditEvent::new(b.acting_uid.clone(), kind.reset_action(), Outcome::Success)
                .uai(b.uai.as_str())
                .request(JOB_REQUEST_ID, None, None);
        if let Some(g) = &b.gate {
            template = template.gate(g.clone());
        }
        let runner = Runner {
            services: services.clone(),
            kind,
            agent: None,
            acting_uid: b.acting_uid.clone(),
            template,
        };
        if runner.start(b.id)? {
            tracing::info!(batch = b.id, "orphaned batch taken up");
            started += 1;
        }
    }
    Ok(started)
}

/// Runs the job on a thread of its own while `alive` can be upgraded (the app is up).
pub fn spawn(alive: Weak<()>, services: Services) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("batches-job".into())
        .spawn(move || {
            while alive.upgrade().is_some() {
                if let Err(e) = take_up_orphans(&services) {
                    tracing::warn!(error = %e, "batches job");
                }
                std::thread::sleep(std::time::Duration::from_secs(super::HEARTBEAT_SECS));
            }
        })
        .map(drop)
}
