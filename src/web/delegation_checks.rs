//! The rules a grant must satisfy besides the rights (`docs/delegation-model.md`).

use actix_web::http::StatusCode;
use actix_web::web;
use chrono::NaiveDate;

use super::delegations::GrantForm;
use crate::clock::local_day;
use crate::delegation::{Scope, latest_end};
use crate::domain::{Agent, AgentUid};
use crate::domain::{Motive, Uai, parse_form_day};
use crate::web::state::AppState;

/// A grant refused for its content: the French message, the status, an offer to extend.
pub(super) struct GrantRefusal {
    pub(super) message: String,
    pub(super) status: StatusCode,
    pub(super) reason: &'static str,
    pub(super) extend: Option<i64>,
}

pub(super) fn refusal(
    status: StatusCode,
    reason: &'static str,
    message: impl Into<String>,
) -> GrantRefusal {
    GrantRefusal {
        message: message.into(),
        status,
        reason,
        extend: None,
    }
}

fn parse_day(value: &str, what: &str) -> Result<NaiveDate, GrantRefusal> {
    parse_form_day(value, what)
        .map_err(|e| refusal(StatusCode::BAD_REQUEST, "malformed date", e.to_string()))
}

/// Everything a grant must satisfy but the rights (checked before).
pub(super) async fn check_grant(
    state: &AppState,
    principal: &Agent,
    uai: &Uai,
    form: &GrantForm,
) -> Result<(Vec<Scope>, NaiveDate, NaiveDate, Agent), GrantRefusal> {
    let bad = |reason, message: &str| refusal(StatusCode::BAD_REQUEST, reason, message);
    let mut scopes = Vec::new();
    for s in &form.scope {
        let scope =
            Scope::parse(s).ok_or_else(|| bad("unknown scope", "Droit délégué inconnu."))?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err(bad(
            "no scope",
            "Cochez au moins un droit à déléguer (élèves ou responsables).",
        ));
    }
    let from = parse_day(&form.valid_from, "de début")?;
    let until = parse_day(&form.valid_until, "de fin")?;
    let today = local_day(state.clock.now(), state.tz);
    if until <= from {
        return Err(bad(
            "end not after start",
            "La date de fin doit être postérieure à la date de début.",
        ));
    }
    if until < today {
        return Err(bad("end in the past", "La date de fin est déjà passée."));
    }
    if from < today {
        return Err(bad(
            "start in the past",
            "La date de début ne peut pas être antérieure à aujourd'hui.",
        ));
    }
    if until > latest_end(from) {
        return Err(bad(
            "longer than a year",
            "Une délégation dure au plus un an : choisissez une date de fin plus proche.",
        ));
    }
    if let Err(e) = Motive::parse(&form.motive) {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            "bad motive",
            e.to_string(),
        ));
    }
    let Some(grantee_uid) = AgentUid::parse(&form.grantee) else {
        return Err(bad("no grantee", "Choisissez le personnel à qui déléguer."));
    };
    if grantee_uid.as_str() == principal.uid {
        return Err(bad(
            "grantee is the principal himself",
            "Vous ne pouvez pas vous déléguer vos propres droits.",
        ));
    }
    let directory = state.directory.clone();
    let lookup_uid = grantee_uid.clone();
    let found = web::block(move || directory.lookup(&lookup_uid))
        .await
        .map_err(|_| {
            refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "blocking pool gone",
                "Service indisponible.",
            )
        })?;
    let grantee = match found {
        Ok(Some(a)) => a,
        Ok(None) => {
            return Err(bad(
                "grantee unknown",
                "Ce personnel est inconnu de l'annuaire.",
            ));
        }
        Err(_) => {
            return Err(refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "directory unavailable",
                "L'annuaire des personnels ne répond pas pour le moment. Réessayez dans quelques instants.",
            ));
        }
    };
    if grantee.is_principal_of(uai) {
        return Err(bad(
            "grantee already principal",
            "Ce personnel est déjà chef de cet établissement : il a déjà tous les droits.",
        ));
    }
    if !grantee.is_attached_to(uai) {
        return Err(bad(
            "grantee not attached",
            "Ce personnel n'est pas rattaché à cet établissement dans l'annuaire.",
        ));
    }
    Ok((scopes, from, until, grantee))
}
