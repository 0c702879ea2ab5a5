//! Works a batch through, on its own thread. Before each account, inside the transaction that
//! resets it, the rights of the agent the work runs for are checked afresh with the same
//! policy as a request (`delegation::policy::authorize`: delegation active and not revoked,
//! grantee still attached, principal still responsible; directory data at most a minute
//! old). The first refusal stops the batch (`Interruption`), with a refused audit row in the
//! same transaction; the accounts not done stay untouched. A heartbeat renews the lease while
//! the worker lives; each account takes a pool connection of its own, so a batch never holds
//! one for its whole run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use secrecy::ExposeSecret;

use super::{HEARTBEAT_SECS, Interruption, Lease, SEAL_PURPOSE, binding, store};
use crate::accounts::reset::{ResetError, Started, apply_reset, new_provisional, start_remote};
use crate::accounts::store::{AccountRef, AccountStore, Provisional};
use crate::accounts::{AccountKind, AccountState};
use crate::audit::{self, AuditEvent, Outcome};
use crate::clock::SharedClock;
use crate::clock::local_day;
use crate::db::{DbConnection, DbPool, PooledConn};
use crate::delegation::policy::{Permit, authorize};
use crate::delegation::{Delegation, Status, store as delegations};
use crate::directory::Directory;
use crate::domain::{Agent, AgentUid};
use crate::domain::{Division, Uai};
use crate::secrets::AppKey;

/// The refused row of an account set aside because its state moved out of the batch's.
pub(super) fn moved_on(event: &AuditEvent, state: AccountState) -> AuditEvent {
    let mut row = event.clone();
    row.outcome = Outcome::Refused;
    let before = row.details.clone().unwrap_or_default();
    row.details(format!(
        "{before} : compte laissé de côté, il est maintenant « {} »",
        state.label()
    ))
}

/// `n` fresh provisional passwords, hashed in parallel (the hasher bounds the work).
fn provisionals(store: &dyn AccountStore, n: usize) -> Vec<Result<Provisional, ResetError>> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n).map(|_| s.spawn(|| new_provisional(store))).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(ResetError::Crypto("hashing thread failed".into())))
            })
            .collect()
    })
}

/// A lease owner of this instance: `<instance id>/<run>`.
pub fn new_owner(instance_id: &str) -> Result<String, ResetError> {
    let run = crate::auth::random_token(12).map_err(|e| ResetError::Crypto(e.to_string()))?;
    Ok(format!("{instance_id}/{run}"))
}

/// Directory data about the agent is re-read when older than this (BRIEF rule 2).
pub const AGENT_MAX_AGE_SECS: i64 = crate::auth::session::DIRECTORY_MAX_AGE_SECS;

/// What a batch's worker needs.
#[derive(Clone)]
pub struct Services {
    pub pool: DbPool,
    pub key: AppKey,
    pub clock: SharedClock,
    pub tz: Tz,
    pub directory: Arc<dyn Directory>,
    pub store: Arc<dyn AccountStore>,
    /// This instance's stable id; lease owners are `<instance id>/<run>`.
    pub instance_id: String,
}

/// One run of one batch for one agent.
pub struct Runner {
    pub services: Services,
    pub kind: AccountKind,
    /// The agent the work runs for, as the request that started it knew him (`None`: read
    /// him from the directory first), and when that was read.
    pub agent: Option<(Agent, DateTime<Utc>)>,
    pub acting_uid: String,
    /// The audit event of each reset (actor, request, gate), completed per account.
    pub template: AuditEvent,
}

/// How a run ended without a technical error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    Finished,
    Interrupted(Interruption),
}

fn conn_of(pool: &DbPool) -> Result<PooledConn, ResetError> {
    pool.get().map_err(|e| ResetError::Pool(e.to_string()))
}

/// Why `agent` may no longer act on `uai`, given the delegation he used last.
pub fn classify(
    agent: &Agent,
    uai: &Uai,
    used: Option<&Delegation>,
    now: DateTime<Utc>,
    tz: Tz,
) -> Interruption {
    // A revocation committed while this account waited for its turn is later than `now`:
    // it still is the reason.
    if used.is_some_and(|d| d.revoked_at.is_some()) {
        return Interruption::Revoked;
    }
    match used.map(|d| d.status(now, tz)) {
        Some(Status::Revoked) => Interruption::Revoked,
        Some(Status::Expired) => Interruption::Expired,
        _ if !agent.is_attached_to(uai) && !agent.is_principal_of(uai) => Interruption::Detached,
        _ => Interruption::NoRight,
    }
}

pub(super) enum Step {
    Done,
    Stopped(Interruption),
    /// A remote store's write begun: the "started" row is committed, the write follows.
    Started(Box<(Permit, AuditEvent, Started)>),
}

impl Runner {
    /// Takes the lease now (so the page shows the work at once, and a second tab does not
    /// start it again) and runs the batch on a thread of its own. `false`: someone else
    /// holds it.
    pub fn start(self, batch_id: i64) -> Result<bool, ResetError> {
        let owner = new_owner(&self.services.instance_id)?;
        {
            let mut conn = conn_of(&self.services.pool)?;
            if !Lease::new(batch_id, &owner).acquire(&mut conn, self.services.clock.now())? {
                return Ok(false);
            }
        }
        self.spawn_leased(batch_id, owner)?;
        Ok(true)
    }

    /// Runs the batch, whose lease `owner` holds already, on a thread of its own.
    pub fn spawn_leased(self, batch_id: i64, owner: String) -> Result<(), ResetError> {
        std::thread::Builder::new()
            .name(format!("batch-{batch_id}"))
            .spawn(move || match self.run_leased(batch_id, &owner) {
                Ok(RunEnd::Finished) => tracing::info!(batch = batch_id, "batch finished"),
                Ok(RunEnd::Interrupted(why)) => {
                    tracing::warn!(batch = batch_id, reason = why.as_str(), "batch interrupted")
                }
                Err(e) => tracing::warn!(batch = batch_id, error = %e, "batch stopped"),
            })
            .map(drop)
            .map_err(|e| ResetError::Crypto(format!("cannot start the batch's thread: {e}")))
    }

    fn run_leased(mut self, batch_id: i64, owner: &str) -> Result<RunEnd, ResetError> {
        let lost = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let heartbeat = {
            let (services, owner, lost) = (self.services.clone(), owner.to_owned(), lost.clone());
            std::thread::spawn(move || {
                while let Err(RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(std::time::Duration::from_secs(HEARTBEAT_SECS))
                {
                    let renewed = conn_of(&services.pool).and_then(|mut c| {
                        Ok(Lease::new(batch_id, &owner).renew(&mut c, services.clock.now())?)
                    });
                    match renewed {
                        Ok(true) => {}
                        Ok(false) => {
                            lost.store(true, Ordering::SeqCst);
                            return;
                        }
                        Err(e) => tracing::warn!(batch = batch_id, error = %e, "lease not renewed"),
                    }
                }
            })
        };
        let outcome = self.work(batch_id, owner, &lost);
        drop(stop);
        let _ = heartbeat.join();
        let error = outcome.as_ref().err().map(|e| e.to_string());
        if !matches!(outcome, Ok(RunEnd::Interrupted(_))) {
            let mut conn = conn_of(&self.services.pool)?;
            Lease::new(batch_id, owner).release(&mut conn, error.as_deref())?;
        }
        outcome
    }

    /// The agent as the directory describes him now (at most a minute old); `None` when he
    /// is gone or disabled.
    fn current_agent(&mut self, now: DateTime<Utc>) -> Result<Option<Agent>, ResetError> {
        if let Some((agent, read_at)) = &self.agent
            && now - *read_at < Duration::seconds(AGENT_MAX_AGE_SECS)
            && *read_at <= now
        {
            return Ok(Some(agent.clone()));
        }
        let Some(uid) = AgentUid::parse(&self.acting_uid) else {
            return Ok(None);
        };
        let found = self
            .services
            .directory
            .lookup(&uid)
            .map_err(|e| ResetError::Directory(e.to_string()))?;
        self.agent = found.clone().map(|a| (a, now));
        Ok(found)
    }

    fn work(
        &mut self,
        batch_id: i64,
        owner: &str,
        lost: &AtomicBool,
    ) -> Result<RunEnd, ResetError> {
        let (uai, division, states) = {
            let mut conn = conn_of(&self.services.pool)?;
            match store::find(&mut conn, batch_id)? {
                Some(b) if !b.is_closed() => (b.uai, b.division, b.states),
                _ => return Ok(RunEnd::Finished),
            }
        };
        loop {
            if lost.load(Ordering::SeqCst) {
                return Err(ResetError::Leased);
            }
            let items = store::pending(&mut *conn_of(&self.services.pool)?, batch_id, 2)?;
            if items.is_empty() {
                return Ok(RunEnd::Finished);
            }
            // Hash in parallel (the hasher bounds the work), then write one after the other.
            let prepared = provisionals(&*self.services.store, items.len());
            for ((item, account_id), prepared) in items.into_iter().zip(prepared) {
                let provisional = match prepared {
                    Ok(p) => p,
                    // Every hashing thread stayed busy: wait a little and take the pending
                    // accounts again (nothing was changed for this one).
                    Err(ResetError::Busy) => {
                        std::thread::sleep(std::time::Duration::from_millis(500));
                        break;
                    }
                    Err(e) => return Err(e),
                };
                let sealed = self
                    .services
                    .key
                    .seal(
                        SEAL_PURPOSE,
                        &binding(batch_id, account_id),
                        provisional.password.expose_secret().as_bytes(),
                    )
                    .map_err(|e| ResetError::Crypto(e.to_string()))?;
                let now = self.services.clock.now();
                let agent = self.current_agent(now)?;
                let mut conn = conn_of(&self.services.pool)?;
                let step = self
                    .one_account(
                        &mut conn,
                        (batch_id, owner, &uai, &division, &states),
                        (item, account_id),
                        agent.as_ref(),
                        (&provisional, &sealed),
                        now,
                    )
                    .and_then(|step| match step {
                        Step::Started(begun) => self.remote_write(
                            &mut conn,
                            (batch_id, owner, item, account_id, &states),
                            *begun,
                            (&provisional, &sealed),
                            now,
                        ),
                        other => Ok(other),
                    });
                match step {
                    Ok(Step::Done) | Err(ResetError::AlreadyDone) => {}
                    Ok(Step::Stopped(why)) => return Ok(RunEnd::Interrupted(why)),
                    Ok(Step::Started(..)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }

    /// The delegation the work ran under: the one the request used, or else the agent's
    /// latest one of that scope there (work taken up by the job).
    fn last_delegation(
        &self,
        conn: &mut DbConnection,
        agent: &Agent,
        uai: &Uai,
    ) -> Result<Option<Delegation>, ResetError> {
        if let Some(id) = self.template.delegation_id {
            return Ok(delegations::find(conn, id)?);
        }
        let scope = Some(self.kind.scope());
        Ok(delegations::on_establishment(conn, uai)?
            .into_iter()
            .filter(|d| d.grantee_uid == agent.uid && Some(d.scope) == scope)
            .max_by_key(|d| d.id))
    }

    /// One account, in one transaction: the rights check, then the reset with its audit row
    /// and its sealed password — or the interruption with its refused audit row. With a
    /// remote store the transaction ends at the "started" row (`remote.rs` does the rest).
    fn one_account(
        &self,
        conn: &mut DbConnection,
        (batch_id, owner, uai, division, states): (i64, &str, &Uai, &Division, &[AccountState]),
        (item, account_id): (i64, i64),
        agent: Option<&Agent>,
        (provisional, sealed): (&Provisional, &str),
        now: DateTime<Utc>,
    ) -> Result<Step, ResetError> {
        let (kind, tz) = (self.kind, self.services.tz);
        let base = self
            .template
            .clone()
            .target(kind.target(), account_id)
            .details(format!("lot n° {batch_id}, classe {division}"));
        audit::audited(
            conn,
            &self.services.key,
            now,
            |tx| -> Result<Step, ResetError> {
                let verdict = match agent {
                    None => Err(Interruption::AgentGone),
                    Some(a) => {
                        let held = delegations::held_by(tx.conn(), &a.uid, local_day(now, tz))?;
                        match authorize(a, &held, kind.reset_action(), uai, now, tz) {
                            Ok(permit) => Ok(permit),
                            Err(_) => {
                                let used = self.last_delegation(tx.conn(), a, uai)?;
                                Err(classify(a, uai, used.as_ref(), now, tz))
                            }
                        }
                    }
                };
                match verdict {
                    Ok(permit) => {
                        let event = base.delegation(permit.delegation_id());
                        let account = AccountRef {
                            kind,
                            id: account_id,
                        };
                        let store = &*self.services.store;
                        // Withdrawn meanwhile (an individual reset): nothing to write.
                        if !store::item_pending(tx.conn(), item)? {
                            return Err(ResetError::AlreadyDone);
                        }
                        if store.is_remote() {
                            let started = start_remote(tx, account, &event, now)?;
                            return Ok(Step::Started(Box::new((permit, event, started))));
                        }
                        // The account's state now, not the one the class form saw.
                        let live = store.status(tx.conn(), account, now)?.map(|s| s.state);
                        if let Some(state) = live.filter(|s| !states.contains(s)) {
                            store::abandon_item(tx.conn(), item)?;
                            tx.append(&moved_on(&event, state))?;
                            return Ok(Step::Done);
                        }
                        if !store::complete_item(tx.conn(), item, sealed, now)? {
                            return Err(ResetError::AlreadyDone);
                        }
                        apply_reset(tx, store, &permit, account, provisional, now, &event)?;
                        Ok(Step::Done)
                    }
                    Err(why) => {
                        Lease::new(batch_id, owner).interrupt(tx.conn(), why)?;
                        let mut refused = base.details(format!(
                            "lot n° {batch_id}, classe {division} : interrompu, {}",
                            why.label()
                        ));
                        refused.outcome = Outcome::Refused;
                        tx.append(&refused)?;
                        Ok(Step::Stopped(why))
                    }
                }
            },
        )
    }
}
