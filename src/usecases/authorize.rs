//! Rule 4's one entry point for every path (web, CLI, batch, API): the actor's delegations
//! read now, the pure [`policy::authorize`](crate::delegation::policy::authorize), and on a
//! refusal its audit row, alone in its transaction.

use chrono::{DateTime, Utc};

use super::{Caller, Context, Failure};
use crate::audit::{self, AuditAction, AuditEvent, Outcome};
use crate::clock::local_day;
use crate::db::DbConnection;
use crate::delegation::policy::{self, Action, Permit, Refusal};
use crate::delegation::store;
use crate::domain::Uai;
use crate::secrets::AppKey;

/// What a refused or accepted attempt is about, for its audit row.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub action: AuditAction,
    pub target: Option<(&'static str, String)>,
}

impl Attempt {
    pub fn new(action: AuditAction) -> Self {
        Self {
            action,
            target: None,
        }
    }

    pub fn on(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.target = Some((kind, id.to_string()));
        self
    }

    /// The audit event of this attempt in `ctx`.
    pub fn event_in(&self, ctx: &Context, uai: Option<&Uai>, outcome: Outcome) -> AuditEvent {
        let mut e = ctx.event(self.action, outcome);
        if let Some(u) = uai {
            e = e.uai(u.as_str());
        }
        if let Some((kind, id)) = &self.target {
            e = e.target(*kind, id);
        }
        e
    }
}

/// The French sentence of a 403 on rights.
pub const NOT_ALLOWED: &str = "Vous n'avez pas le droit de faire cela dans cet établissement.";

/// Writes one refused attempt's row at `at`, alone in its transaction.
pub fn record_refusal(
    conn: &mut DbConnection,
    key: &AppKey,
    at: DateTime<Utc>,
    event: &AuditEvent,
) -> Result<(), Failure> {
    audit::record(conn, key, at, event)?;
    Ok(())
}

/// The id of a record as a path gives it: one that does not parse names nothing (404).
pub fn path_id(id: &str) -> Result<i64, Failure> {
    id.parse().map_err(|_| Failure::hidden())
}

/// Allows `action` on `uai` for the calling agent, or refuses it (audited): 404 when he holds
/// nothing on that establishment, 403 when he holds something else there.
pub fn permit(
    conn: &mut DbConnection,
    caller: &Caller<'_>,
    action: Action,
    uai: &Uai,
    attempt: &Attempt,
) -> Result<Permit, Failure> {
    let (now, tz) = (caller.ctx.now, caller.tz);
    let held = store::held_by(conn, &caller.agent.uid, local_day(now, tz))?;
    match policy::authorize(caller.agent, &held, action, uai, now, tz) {
        Ok(permit) => Ok(permit),
        Err(refusal) => {
            let event = attempt
                .event_in(caller.ctx, Some(uai), Outcome::Refused)
                .details(format!("not allowed: {}", refusal.reason()));
            record_refusal(conn, caller.key, now, &event)?;
            Err(match refusal {
                Refusal::Hidden(_) => Failure::hidden(),
                Refusal::Forbidden(_) => Failure::forbidden(NOT_ALLOWED),
            })
        }
    }
}

/// The establishments where the calling agent may do `action` now (his direction's, his
/// delegations'), sorted: what a page reached without naming one offers.
pub fn establishments_for(
    conn: &mut DbConnection,
    caller: &Caller<'_>,
    action: Action,
) -> Result<Vec<Uai>, Failure> {
    let (now, tz) = (caller.ctx.now, caller.tz);
    let held = store::held_by(conn, &caller.agent.uid, local_day(now, tz))?;
    let mut candidates: Vec<Uai> = caller.agent.responsible_for.clone();
    candidates.extend(held.iter().map(|d| d.uai.clone()));
    candidates.sort();
    candidates.dedup();
    candidates.retain(|uai| policy::authorize(caller.agent, &held, action, uai, now, tz).is_ok());
    Ok(candidates)
}

/// The establishment `permit` is for, when it allows `action` (a use case given the permit
/// of another action is a bug: 500).
pub fn permitted(permit: &Permit, action: Action) -> Result<&Uai, Failure> {
    if permit.action() != action {
        return Err(Failure::internal(format!(
            "permit for {:?} used for {action:?}",
            permit.action()
        )));
    }
    Ok(permit.uai())
}
