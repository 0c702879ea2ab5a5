//! The home page: the establishments the agent may act on, with which scopes, on what
//! grounds and until when.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::Markup;

use std::collections::HashMap;

use super::chrome::chrome;
use super::delegations::staff_names;
use super::errors::AppError;
use super::guard::delegations_of;
use super::parents_gate::{Gate, open_gate};
use super::request::{Asker, RequestMeta};
use super::session_guard::SignedIn;
use super::state::AppState;
use super::views::home::{EstablishmentRights, home_page};
use crate::delegation::{Delegation, Status};
use crate::domain::{Agent, Uai};
use crate::establishments;
use crate::usecases::staff_names::name_in;

pub async fn show_home(who: Asker) -> Result<Markup, AppError> {
    let (state, signed_in, meta) = who.parts();
    let agent = &signed_in.0.agent;
    let held = delegations_of(&state, &agent.uid).await?;
    let mut uais: Vec<Uai> = agent.responsible_for.clone();
    uais.extend(held.iter().map(|d| d.uai.clone()));
    let names = state
        .db
        .run(move |conn| Ok::<_, AppError>(establishments::names_of(conn, &uais)?))
        .await?;
    let granters = held.iter().map(|d| d.granted_by.clone()).collect();
    let granters = staff_names(&state, agent, granters).await?;
    let rights = rights_of(
        agent,
        (&held, &granters),
        &names,
        state.clock.now(),
        state.tz,
    );
    let parents = rights
        .iter()
        .any(|r| r.scopes.contains(&"Responsables") && r.starts.is_none());
    let gate = parents.then(|| gate_text(&state, &signed_in, &meta));
    Ok(home_page(&chrome(&signed_in), &rights, gate.as_deref()))
}

/// What the agent may do where: the establishments whose direction he belongs to (principal
/// or deputy), then his delegations.
fn rights_of(
    agent: &Agent,
    (held, granters): (&[Delegation], &HashMap<String, String>),
    names: &[(String, String)],
    now: DateTime<Utc>,
    tz: Tz,
) -> Vec<EstablishmentRights> {
    let name_of = |uai: &Uai| {
        names
            .iter()
            .find(|(u, _)| u == uai.as_str())
            .map(|(_, n)| n.clone())
    };
    let mut rights: Vec<EstablishmentRights> = agent
        .responsible_for
        .iter()
        .map(|uai| EstablishmentRights {
            name: name_of(uai),
            uai: uai.to_string(),
            scopes: vec!["Élèves", "Responsables"],
            basis: "Direction de l'établissement".into(),
            until: "Tant que vous en avez la responsabilité".into(),
            starts: None,
            principal: true,
        })
        .collect();
    for d in held {
        let status = d.status(now, tz);
        // A delegation on a school he is no longer attached to gives nothing (BRIEF rule 3).
        if !matches!(status, Status::Active | Status::Upcoming)
            || agent.is_principal_of(&d.uai)
            || !agent.is_attached_to(&d.uai)
        {
            continue;
        }
        // An upcoming delegation gives nothing yet: no link, the day it starts.
        let starts = (status == Status::Upcoming)
            .then(|| format!("à partir du {}", d.valid_from.format("%d/%m/%Y")));
        rights.push(EstablishmentRights {
            name: name_of(&d.uai),
            uai: d.uai.to_string(),
            scopes: vec![d.scope.label()],
            basis: format!(
                "Délégation accordée par {}",
                name_in(granters, &d.granted_by)
            ),
            until: d.valid_until.format("%d/%m/%Y").to_string(),
            starts,
            principal: false,
        });
    }
    rights
}

/// Whether the parents' gate is open, and how to open it.
fn gate_text(state: &AppState, signed_in: &SignedIn, meta: &RequestMeta) -> String {
    let minutes = state.settings.totp.gate_minutes;
    match open_gate(state, signed_in, meta) {
        Some(Gate::Network) => {
            "Comptes des responsables : accès ouvert depuis le réseau administratif.".to_owned()
        }
        Some(Gate::Totp) => {
            let since = signed_in.0.totp_verified_at.unwrap_or(state.clock.now());
            let until = since + chrono::Duration::minutes(minutes);
            format!(
                "Comptes des responsables : accès ouvert par le code de l'application d'authentification jusqu'à {}.",
                until.with_timezone(&state.tz).format("%H:%M")
            )
        }
        None => format!(
            "Comptes des responsables : accès fermé hors du réseau administratif. Saisissez le code de l'application d'authentification pour l'ouvrir {minutes} minutes."
        ),
    }
}
