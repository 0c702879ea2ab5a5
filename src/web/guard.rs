//! The one guard of establishment-scoped routes (BRIEF rule 4): reads the agent's
//! delegations afresh (no cache), asks the pure `authorize`, and on a refusal writes the
//! audit row and answers 404 (nothing on that establishment) or 403.

use actix_web::web;

use super::errors::AppError;
use super::request::RequestMeta;
use super::session_guard::SignedIn;
use crate::audit::{self, AuditEvent, Outcome};
use crate::auth::csrf;
use crate::clock::local_day;
use crate::delegation::policy::{Action, Permit, Refusal, authorize};
use crate::delegation::{Delegation, store};
use crate::domain::Uai;
use crate::web::state::AppState;

/// What a refused or accepted attempt is about, for its audit row.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub action: &'static str,
    pub target: Option<(&'static str, String)>,
}

impl Attempt {
    pub fn new(action: &'static str) -> Self {
        Self {
            action,
            target: None,
        }
    }

    pub fn on(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.target = Some((kind, id.to_string()));
        self
    }

    /// The audit event of this attempt by the signed-in agent.
    pub fn event(
        &self,
        signed_in: &SignedIn,
        meta: &RequestMeta,
        uai: Option<&Uai>,
        outcome: Outcome,
    ) -> AuditEvent {
        let mut e = AuditEvent::new(signed_in.0.agent.uid.clone(), self.action, outcome);
        if let Some(u) = uai {
            e = e.uai(u.as_str());
        }
        if let Some((kind, id)) = &self.target {
            e = e.target(*kind, id);
        }
        meta.stamp(e)
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
        .run(move |conn| {
            audit::record(conn, &key, now, &event)
                .map(drop)
                .map_err(AppError::from)
        })
        .await
}

/// Allows `action` on `uai` or refuses it (audited).
pub async fn permit(
    state: &AppState,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    action: Action,
    uai: &Uai,
    attempt: &Attempt,
) -> Result<Permit, AppError> {
    tracing::Span::current().record("uai", uai.as_str());
    let held = delegations_of(state, &signed_in.0.agent.uid).await?;
    match authorize(
        &signed_in.0.agent,
        &held,
        action,
        uai,
        state.clock.now(),
        state.tz,
    ) {
        Ok(p) => Ok(p),
        Err(refusal) => {
            let event = attempt
                .event(signed_in, meta, Some(uai), Outcome::Refused)
                .details(format!("not allowed: {}", refusal.reason()));
            record_refusal(state, event).await?;
            Err(match refusal {
                Refusal::Hidden(_) => AppError::NotFound,
                Refusal::Forbidden(_) => AppError::Forbidden(
                    "Vous n'avez pas le droit de faire cela dans cet établissement.".into(),
                ),
            })
        }
    }
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
