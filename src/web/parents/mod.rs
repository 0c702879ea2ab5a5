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

/// A parent as this agent may see him: the children he may see (and whether he may open
/// their pupil page), the permit, the gate.
pub struct Visible {
    pub parent: Parent,
    pub children: Vec<(Child, bool)>,
    pub permit: Permit,
    pub gate: Gate,
}

/// Loads the parent of the path and checks the rights through his children (BRIEF rule 4),
/// then the gate. 404 when the agent has nothing on any of their establishments.
pub async fn visible_parent(
    state: &State,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    id: &str,
    action: Action,
    audit_action: &'static str,
) -> Result<Visible, AppError> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let (parent, children) = state
        .db
        .run(move |conn| {
            let Some(p) = parents::find(conn, id)? else {
                return Ok::<_, AppError>(None);
            };
            let kids = parents::children(conn, id, None)?;
            Ok(Some((p, kids)))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    let agent = &signed_in.0.agent;
    let held = delegations_of(state, &agent.uid).await?;
    let now = state.clock.now();
    let attempt = Attempt::new(audit_action).on("responsable", parent.id);
    let mut permit = None;
    let mut forbidden = false;
    let mut visible = Vec::new();
    for child in children {
        match authorize(agent, &held, action, &child.uai, now, state.tz) {
            Ok(p) => {
                permit.get_or_insert(p);
            }
            Err(Refusal::Forbidden(_)) => forbidden = true,
            Err(Refusal::Hidden(_)) => {}
        }
        if authorize(agent, &held, Action::ViewParents, &child.uai, now, state.tz).is_ok() {
            let pupil_link =
                scopes_on(agent, &held, &child.uai, now, state.tz).contains(&Scope::Eleves);
            visible.push((child, pupil_link));
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
    let gate = require_gate(state, signed_in, meta, Some(&permit.uai), &attempt).await?;
    Ok(Visible {
        parent,
        children: visible,
        permit,
        gate,
    })
}

/// The path id.
pub type Path = web::Path<String>;
