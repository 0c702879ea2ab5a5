//! The parents' gate (BRIEF rule 5): parents' screens and actions need, on top of the rights,
//! a client address inside `[network] admin_networks`, or a TOTP check passed in this session
//! in the last `[totp] gate_minutes`.

use chrono::Duration;

use super::errors::AppError;
use super::guard::{Attempt, record_refusal};
use super::request::RequestMeta;
use super::session_guard::SignedIn;
use crate::audit::{AuditEvent, Outcome};
use crate::domain::Uai;
use crate::web::state::AppState;

/// How the agent was let in; recorded on every parents' audit row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Network,
    Totp,
}

impl Gate {
    pub fn as_str(self) -> &'static str {
        match self {
            Gate::Network => "network",
            Gate::Totp => "totp",
        }
    }

    /// Adds the gate to an audit event.
    pub fn stamp(self, e: AuditEvent) -> AuditEvent {
        e.gate(self.as_str())
    }
}

/// The gate open to this request, if any (no side effect).
pub fn open_gate(state: &AppState, signed_in: &SignedIn, meta: &RequestMeta) -> Option<Gate> {
    if meta.addr.is_inside(&state.settings.network.admin_networks) {
        return Some(Gate::Network);
    }
    let validity = Duration::minutes(state.settings.totp.gate_minutes);
    let now = state.clock.now();
    signed_in
        .0
        .totp_verified_at
        .filter(|t| now - *t < validity && *t <= now)
        .map(|_| Gate::Totp)
}

/// The gate, or an audited refusal (403, a page that offers the TOTP check and shows nothing
/// about any parent).
pub async fn require_gate(
    state: &AppState,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    uai: Option<&Uai>,
    attempt: &Attempt,
) -> Result<Gate, AppError> {
    if let Some(g) = open_gate(state, signed_in, meta) {
        return Ok(g);
    }
    let event = attempt
        .event(signed_in, meta, uai, Outcome::Refused)
        .details("parents' gate closed: outside the administrative network, no recent TOTP check");
    record_refusal(state, event).await?;
    Err(AppError::GateClosed(meta.asked.clone()))
}
