//! The one guard of establishment-scoped routes (BRIEF rule 4): reads the agent's
//! delegations afresh (no cache), asks the pure `authorize`, and on a refusal writes the
//! audit row and answers 404 (nothing on that establishment) or 403.

use actix_web::web;

use super::calls::call;
use super::errors::AppError;
use super::parents_gate::{Gate, require_gate};
use super::request::RequestMeta;
use super::routes::{GateRule, Method};
use super::session_guard::SignedIn;
use crate::accounts::AccountKind;
use crate::audit::{AuditEvent, Outcome};
use crate::auth::csrf;
use crate::clock::local_day;
use crate::delegation::policy::{Action, Permit};
use crate::delegation::{Delegation, store};
use crate::domain::Uai;
use crate::usecases::{Context, authorize};
use crate::web::state::AppState;

pub use crate::usecases::authorize::Attempt;

impl Attempt {
    /// The audit event of this attempt by the signed-in agent.
    pub fn event(
        &self,
        signed_in: &SignedIn,
        meta: &RequestMeta,
        uai: Option<&Uai>,
        outcome: Outcome,
    ) -> AuditEvent {
        self.event_in(
            &meta.context_of(signed_in, chrono::Utc::now()),
            uai,
            outcome,
        )
    }
}

/// The agent's delegations, read now.
pub async fn delegations_of(state: &AppState, uid: &str) -> Result<Vec<Delegation>, AppError> {
    let uid = uid.to_owned();
    let today = local_day(state.clock.now(), state.tz);
    state
        .db
        .run(move |conn| Ok::<_, AppError>(store::held_by(conn, &uid, today)?))
        .await
}

/// Records a refused attempt (alone in its transaction).
pub async fn record_refusal(state: &AppState, event: AuditEvent) -> Result<(), AppError> {
    let now = state.clock.now();
    let key = state.key.clone();
    state
        .db
        .run(move |conn| authorize::record_refusal(conn, &key, now, &event).map_err(AppError::from))
        .await
}

/// Allows `action` on `uai` or refuses it (audited): the use cases' one entry point.
pub async fn permit(
    state: &AppState,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    action: Action,
    uai: &Uai,
    attempt: &Attempt,
) -> Result<Permit, AppError> {
    tracing::Span::current().record("uai", uai.as_str());
    let (uai, attempt) = (uai.clone(), attempt.clone());
    call(state, signed_in, meta, move |conn, c| {
        authorize::permit(conn, &c.caller(), action, &uai, &attempt)
    })
    .await
}

/// What a request must pass after its permit, besides what its route declares.
pub struct Checks<'a> {
    /// The establishment acted on (for the audit row of a refusal).
    pub uai: &'a Uai,
    pub attempt: &'a Attempt,
    /// A parent's record or a parents' batch: the parents' gate whatever the path.
    pub parents: bool,
    /// The form's CSRF token: `None` for a read; a POST without one is refused.
    pub csrf: Option<&'a str>,
}

impl<'a> Checks<'a> {
    /// The checks of an account of `kind` (the parents' gate for a parent, whatever the
    /// path) and the CSRF token `csrf` of a POST.
    pub fn of_kind(
        kind: AccountKind,
        uai: &'a Uai,
        attempt: &'a Attempt,
        csrf: Option<&'a str>,
    ) -> Self {
        Self {
            parents: kind == AccountKind::Parent,
            ..Self::on(uai, attempt, csrf)
        }
    }

    /// The checks of a route that is not the parents': the CSRF token `csrf` of a POST.
    pub fn on(uai: &'a Uai, attempt: &'a Attempt, csrf: Option<&'a str>) -> Self {
        Self {
            uai,
            attempt,
            parents: false,
            csrf,
        }
    }
}

/// The checks passed: the gate used, and the audit context of the use case that follows.
pub struct Admitted {
    pub gate: Option<Gate>,
    pub ctx: Context,
}

/// The one check after a permit (BRIEF rules 5 and 12), as the route table declares it: the
/// parents' gate on a gated route (or a parent's record), then, for every POST, the form's
/// CSRF token. Every prologue of an establishment-scoped route ends here, so no handler can
/// forget either (and the matrix test posts to every route without the token). A request
/// that reached no route of the table is refused.
pub async fn admit(
    state: &AppState,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    checks: Checks<'_>,
) -> Result<Admitted, AppError> {
    // Every handler is reached through the table, on the path the router matched: a request
    // without a route here is a fault of ours, never a reason to skip a check.
    let route = meta
        .route
        .ok_or_else(|| AppError::Internal("request outside the route table".into()))?;
    let Checks {
        uai,
        attempt,
        parents,
        csrf,
    } = checks;
    let gate = if parents || route.gate == GateRule::Parents {
        Some(require_gate(state, signed_in, meta, Some(uai), attempt).await?)
    } else {
        None
    };
    if route.method == Method::Post {
        let token = csrf.unwrap_or_default();
        require_csrf(state, signed_in, meta, token, Some(uai), attempt).await?;
    }
    let ctx = meta
        .context_of(signed_in, state.clock.now())
        .through_gate(gate.map(|g| g.as_str().to_owned()));
    Ok(Admitted { gate, ctx })
}

/// The session's CSRF token must come back with every form (audited refusal, 403).
pub async fn require_csrf(
    state: &AppState,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    given: &str,
    uai: Option<&Uai>,
    attempt: &Attempt,
) -> Result<(), AppError> {
    if csrf::tokens_match(&signed_in.0.csrf_token, given) {
        return Ok(());
    }
    let event = attempt
        .event(signed_in, meta, uai, Outcome::Refused)
        .details("CSRF token missing or invalid");
    record_refusal(state, event).await?;
    Err(AppError::Forbidden(
        "Le formulaire a expiré ou ne provient pas de ce site. Rien n'a été fait : rechargez la page et recommencez.".into(),
    ))
}

/// Parses a requested UAI (list and bulk routes).
pub fn requested_uai(value: Option<&str>) -> Result<Uai, AppError> {
    let value = value.unwrap_or_default();
    Uai::parse(value).map_err(|e| AppError::BadRequest(e.to_string()))
}

/// The state, for handlers.
pub type State = web::Data<AppState>;
