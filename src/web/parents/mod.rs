//! Parents' accounts (`/depannage/responsable`): the `responsables` scope (or being
//! principal) on one of the parent's children's establishments, **and** the parents' gate.

pub mod record;
pub mod search;

use actix_web::web;

use super::errors::AppError;
use super::guard::{Attempt, State, delegations_of, record_refusal};
use super::parents_gate::{Gate, require_gate};
use super::request::RequestMeta;
use super::session_guard::SignedIn;
use crate::accounts::parents::{self, Child, Parent};
use crate::audit::Outcome;
use crate::delegation::Scope;
use crate::delegation::policy::{Action, Permit, Refusal, authorize, scopes_on};
use crate::domain::Uai;

/// A parent as this agent may see him: in one establishment of his children (the one the
/// agent acts on), with only the children there (BRIEF rule 4).
pub struct Visible {
    pub parent: Parent,
    /// His children in `permit.uai()`, and whether the agent may open their pupil page.
    pub children: Vec<(Child, bool)>,
    pub permit: Permit,
    pub gate: Gate,
    /// His children's other establishments where this agent may see him too.
    pub elsewhere: Vec<Uai>,
}

/// Loads the parent of the path and checks the rights through his children (BRIEF rule 4),
/// then the gate. The establishment acted on is one of his children's: `wanted` (the page's
/// `uai` parameter) when given, else the first where the agent may act. The UAI still comes
/// from the record: `wanted` only chooses among the children's establishments, and one that
/// is not among them, or where the agent has nothing, is a 404.
pub async fn visible_parent(
    state: &State,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    id: &str,
    wanted: Option<&str>,
    action: Action,
    audit_action: &'static str,
) -> Result<Visible, AppError> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let (parent, uais) = state
        .db
        .run(move |conn| {
            let Some(p) = parents::find(conn, id)? else {
                return Ok::<_, AppError>(None);
            };
            Ok(Some((p, parents::establishments(conn, id)?)))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    let agent = &signed_in.0.agent;
    let held = delegations_of(state, &agent.uid).await?;
    let now = state.clock.now();
    let attempt = Attempt::new(audit_action).on("responsable", parent.id);
    let wanted = wanted.map(str::trim).filter(|w| !w.is_empty());
    let candidates = uais
        .iter()
        .filter(|u| wanted.is_none_or(|w| u.as_str().eq_ignore_ascii_case(w)));
    let mut permit = None;
    let mut forbidden = false;
    for uai in candidates {
        match authorize(agent, &held, action, uai, now, state.tz) {
            Ok(p) => {
                permit = Some(p);
                break;
            }
            Err(Refusal::Forbidden(_)) => forbidden = true,
            Err(Refusal::Hidden(_)) => {}
        }
    }
    let Some(permit) = permit else {
        let event = attempt
            .event(signed_in, meta, None, Outcome::Refused)
            .details("not allowed on any establishment of the children");
        record_refusal(state, event).await?;
        return Err(if forbidden {
            AppError::Forbidden(
                "Vous n'avez pas le droit de faire cela pour ce responsable.".into(),
            )
        } else {
            AppError::NotFound
        });
    };
    let gate = require_gate(state, signed_in, meta, Some(&permit.uai()), &attempt).await?;
    let elsewhere = uais
        .iter()
        .filter(|u| *u != permit.uai())
        .filter(|u| authorize(agent, &held, Action::ViewParents, u, now, state.tz).is_ok())
        .cloned()
        .collect();
    let pupil_link = scopes_on(agent, &held, &permit.uai(), now, state.tz).contains(&Scope::Eleves);
    let uai = permit.uai().clone();
    let children = state
        .db
        .run(move |conn| Ok::<_, AppError>(parents::children(conn, id, &uai)?))
        .await?;
    Ok(Visible {
        parent,
        children: children.into_iter().map(|c| (c, pupil_link)).collect(),
        permit,
        gate,
        elsewhere,
    })
}

/// The path id.
pub type Path = web::Path<String>;
