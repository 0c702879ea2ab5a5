//! Revoking and extending a delegation. The UAI comes from the delegation record.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use super::BASE;
use super::chrome::{chrome, establishment_name};
use super::errors::AppError;
use super::guard::{Attempt, State, permit, record_refusal, require_csrf};
use super::request::RequestMeta;
use super::session_guard::SignedIn;
use super::views::delegations::revocation_page;
use crate::audit::{self, Outcome};
use crate::clock::local_day;
use crate::delegation::policy::Action;
use crate::delegation::{Delegation, Status, latest_end, store};
use crate::domain::parse_form_day;

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
}

#[derive(Debug, Deserialize)]
pub struct ExtendForm {
    #[serde(default)]
    valid_until: String,
    #[serde(default)]
    csrf_token: String,
}

/// The delegation of the path, or 404 (a bad id reveals nothing either).
async fn load(state: &State, id: &str) -> Result<Delegation, AppError> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    state
        .db
        .run(move |conn| Ok::<_, AppError>(store::find(conn, id)?))
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn confirm_revocation(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<Markup, AppError> {
    let d = load(&state, &path).await?;
    let attempt = Attempt::new("delegation.view").on("delegation", d.id);
    permit(
        &state,
        &signed_in,
        &meta,
        Action::ManageDelegations,
        &d.uai,
        &attempt,
    )
    .await?;
    let name = establishment_name(&state, &d.uai).await?;
    Ok(revocation_page(&chrome(&signed_in), &d, &name))
}

pub async fn revoke_delegation(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    let d = load(&state, &path).await?;
    let attempt = Attempt::new("delegation.revoke").on("delegation", d.id);
    permit(
        &state,
        &signed_in,
        &meta,
        Action::ManageDelegations,
        &d.uai,
        &attempt,
    )
    .await?;
    require_csrf(
        &state,
        &signed_in,
        &meta,
        &form.csrf_token,
        Some(&d.uai),
        &attempt,
    )
    .await?;
    let now = state.clock.now();
    let key = state.key.clone();
    let by = signed_in.0.agent.uid.clone();
    let mut event = attempt.event(&signed_in, &meta, Some(&d.uai), Outcome::Success);
    event.delegation_id = Some(d.id);
    let event = event.details(format!("{} scope {}", d.grantee_uid, d.scope.as_str()));
    let id = d.id;
    let revoked = state
        .db
        .run(move |conn| {
            audit::audited(conn, &key, now, |tx| -> Result<bool, AppError> {
                let changed = store::revoke(tx.conn(), id, &by, now)?;
                if changed {
                    tx.append(&event)?;
                }
                Ok(changed)
            })
        })
        .await?;
    if !revoked {
        let event = attempt
            .event(&signed_in, &meta, Some(&d.uai), Outcome::Refused)
            .details("already revoked");
        record_refusal(&state, event).await?;
        return Err(AppError::Conflict(
            "Cette délégation est déjà révoquée.".into(),
        ));
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("{BASE}/delegations?uai={}&revoquee=1", d.uai),
        ))
        .finish())
}

pub async fn extend_delegation(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<String>,
    form: web::Form<ExtendForm>,
) -> Result<HttpResponse, AppError> {
    let d = load(&state, &path).await?;
    let attempt = Attempt::new("delegation.extend").on("delegation", d.id);
    permit(
        &state,
        &signed_in,
        &meta,
        Action::ManageDelegations,
        &d.uai,
        &attempt,
    )
    .await?;
    require_csrf(
        &state,
        &signed_in,
        &meta,
        &form.csrf_token,
        Some(&d.uai),
        &attempt,
    )
    .await?;
    let now = state.clock.now();
    let today = local_day(now, state.tz);
    let refuse = |reason: &'static str, message: &str| (reason, message.to_owned());
    let checked = match parse_form_day(&form.valid_until, "de fin") {
        Err(e) => Err(("malformed date", e.to_string())),
        Ok(until) => match d.status(now, state.tz) {
            Status::Revoked => Err(refuse(
                "revoked",
                "Une délégation révoquée ne peut pas être prolongée.",
            )),
            Status::Expired => Err(refuse(
                "expired",
                "Cette délégation est expirée : accordez-en une nouvelle.",
            )),
            _ if until <= d.valid_until => Err(refuse(
                "not later",
                "La nouvelle date de fin doit être postérieure à la date de fin actuelle.",
            )),
            _ if until > latest_end(today.max(d.valid_from)) => Err(refuse(
                "longer than a year",
                "Une délégation dure au plus un an : choisissez une date de fin plus proche.",
            )),
            _ => Ok(until),
        },
    };
    let until = match checked {
        Ok(u) => u,
        Err((reason, message)) => {
            let event = attempt
                .event(&signed_in, &meta, Some(&d.uai), Outcome::Refused)
                .details(reason);
            record_refusal(&state, event).await?;
            return Err(AppError::BadRequest(message));
        }
    };
    let key = state.key.clone();
    let by = signed_in.0.agent.uid.clone();
    let mut event = attempt.event(&signed_in, &meta, Some(&d.uai), Outcome::Success);
    event.delegation_id = Some(d.id);
    let event = event.details(format!("until {} → {until}", d.valid_until));
    let id = d.id;
    state
        .db
        .run(move |conn| {
            audit::audited(conn, &key, now, |tx| -> Result<(), AppError> {
                if store::extend(tx.conn(), id, until, &by, now)? {
                    tx.append(&event)?;
                }
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("{BASE}/delegations?uai={}&prolongee=1", d.uai),
        ))
        .finish())
}
