//! Revoking and extending a delegation. The UAI comes from the delegation record.

use crate::web::paths;
use actix_web::HttpResponse;
use maud::Markup;
use serde::Deserialize;

use super::calls::{Call, call, see_other};
use super::chrome::{chrome, establishment_name};
use super::errors::AppError;
use super::forms::CsrfForm;
use super::guard::{Attempt, Checks, State, admit};
use super::request::{OnRecord, Posted, RequestMeta};
use super::session_guard::SignedIn;
use super::views::delegations::revocation_page;
use crate::audit::AuditAction;
use crate::db::DbConnection;
use crate::delegation::Delegation;
use crate::delegation::policy::Permit;
use crate::usecases::{Failure, delegations};
use crate::web::state::AppState;

#[derive(Debug, Deserialize)]
pub struct ExtendForm {
    #[serde(default)]
    valid_until: String,
    #[serde(default)]
    csrf_token: String,
}

/// The delegation of the path and the permit to manage it (404 for a bad id too), then what
/// the route requires (for a change, the form's CSRF token).
async fn permitted(
    state: &AppState,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    id: String,
    action: AuditAction,
    csrf_token: Option<&str>,
) -> Result<(Delegation, Permit), AppError> {
    let (d, permit) = call(state, signed_in, meta, move |conn, c| {
        delegations::permit_on(conn, &c.caller(), &id, action)
    })
    .await?;
    let attempt = Attempt::new(action).on("delegation", d.id);
    let checks = Checks::on(&d.uai, &attempt, csrf_token);
    admit(state, signed_in, meta, checks).await?;
    Ok((d, permit))
}

pub async fn confirm_revocation((who, path): OnRecord) -> Result<Markup, AppError> {
    let (state, signed_in, meta) = who.parts();
    let id = path.into_inner();
    let (d, _) = permitted(
        &state,
        &signed_in,
        &meta,
        id,
        AuditAction::DelegationView,
        None,
    )
    .await?;
    let name = establishment_name(&state, &d.uai).await?;
    Ok(revocation_page(&chrome(&signed_in), &d, &name))
}

/// A change of the delegation of the path (after the rights and the CSRF token), then back
/// to the establishment's screen with `notice` (`revoquee`, `prolongee`).
async fn change<F>(
    (state, signed_in, meta): (State, SignedIn, RequestMeta),
    (id, token): (String, &str),
    (action, notice): (AuditAction, &'static str),
    f: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(&mut DbConnection, &Call, &Permit, &Delegation) -> Result<(), Failure>
        + Send
        + 'static,
{
    let (d, permit) = permitted(&state, &signed_in, &meta, id, action, Some(token)).await?;
    let uai = d.uai.clone();
    call(&state, &signed_in, &meta, move |conn, c| {
        f(conn, c, &permit, &d)
    })
    .await?;
    Ok(see_other(
        paths::delegations(Some(uai)).with(notice, 1).to_string(),
    ))
}

pub async fn revoke_delegation(
    (who, path, form): Posted<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let asked = (path.into_inner(), form.csrf_token.as_str());
    change(
        (state, signed_in, meta),
        asked,
        (AuditAction::DelegationRevoke, "revoquee"),
        |conn, c, p, d| delegations::revoke(conn, &c.key, p, &c.ctx, d),
    )
    .await
}

pub async fn extend_delegation(
    (who, path, form): Posted<ExtendForm>,
) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let until = form.valid_until.clone();
    let asked = (path.into_inner(), form.csrf_token.as_str());
    change(
        (state, signed_in, meta),
        asked,
        (AuditAction::DelegationExtend, "prolongee"),
        move |conn, c, p, d| delegations::extend(conn, &c.key, c.tz, p, &c.ctx, d, &until),
    )
    .await
}
