//! The batches' job: every few seconds, each instance takes up the batches whose worker died
//! (a crash, a `kill -9`, a lost lease): pending accounts, no live lease, not stopped by an
//! error or a rights check. The work runs under the rights of the agent it was started for,
//! checked before each account as always.

use std::sync::Weak;

use super::Interruption;
use super::runner::{Runner, Services};
use super::{lease, store};
use crate::accounts::reset::ResetError;
use crate::accounts::{AccountKind, AccountOp};
use crate::audit::{self, AuditAction, AuditEvent, Outcome};

/// The request id written on the audit rows of work taken up by the job.
pub const JOB_REQUEST_ID: &str = "job:reprise-des-lots";
/// The actor of what the job does on its own (stops; the 24-hour wipe is the housekeeping
/// job's).
pub const JOB_ACTOR: &str = "job:lots";

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
            match store::find(&mut conn, id) {
                Ok(Some(b)) => found.push(b),
                Ok(None) => {}
                // A row that does not decode stops its own pages, not every other batch.
                Err(e) => tracing::error!(batch = id, error = %e, "orphaned batch unreadable"),
            }
        }
        found
    };
    let mut started = 0;
    for b in orphans {
        let kind = b.kind;
        if kind == AccountKind::Parent {
            // The parents' gate belongs to a person's session: a person takes it up.
            stop_for_the_gate(services, &b)?;
            continue;
        }
        let template = AuditEvent::new(
            b.acting_uid.clone(),
            kind.action(AccountOp::ResetPassword),
            Outcome::Success,
        )
        .uai(b.uai.as_str())
        .request(JOB_REQUEST_ID, None, None);
        let runner = Runner {
            services: services.clone(),
            kind,
            agent: None,
            acting_uid: b.acting_uid.clone(),
            template,
        };
        if runner.start(b.id.get())? {
            tracing::info!(batch = b.id.get(), "orphaned batch taken up");
            started += 1;
        }
    }
    Ok(started)
}

/// A parents' batch whose worker died waits for a person who passes the gate again.
fn stop_for_the_gate(services: &Services, b: &super::Batch) -> Result<(), ResetError> {
    let now = services.clock.now();
    let mut conn = services
        .pool
        .get()
        .map_err(|e| ResetError::Pool(e.to_string()))?;
    audit::audited(
        &mut conn,
        &services.key,
        now,
        |tx| -> Result<(), ResetError> {
            if lease::interrupt_unleased(tx.conn(), b.id, Interruption::Gate, now)? {
                let event =
                    AuditEvent::new(JOB_ACTOR, AuditAction::BatchInterrupt, Outcome::Refused)
                        .uai(b.uai.as_str())
                        .target("lot", b.id)
                        .details(format!(
                            "lot n° {}, classe {} : interrompu, {}",
                            b.id,
                            b.division,
                            Interruption::Gate.label()
                        ));
                tx.append(&event)?;
            }
            Ok(())
        },
    )
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
