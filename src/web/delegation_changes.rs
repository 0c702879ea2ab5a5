//! Revoking and extending a delegation. The UAI comes from the delegation record.

use actix_web::{HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use super::BASE;
use super::calls::{call, see_other};
use super::chrome::{chrome, establishment_name};
use super::errors::AppError;
use super::guard::{Attempt, State, require_csrf};
use super::request::RequestMeta;
use super::session_guard::SignedIn;
use super::views::delegations::revocation_page;
use crate::delegation::Delegation;
use crate::delegation::policy::Permit;
use crate::usecases::delegations;
use crate::web::state::AppState;

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

/// The delegation of the path and the permit to manage it (404 for a bad id too); for a
/// change, the form's CSRF token checked after the rights.
async fn permitted(
    state: &AppState,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    id: String,
    action: &'static str,
    csrf_token: Option<&str>,
) -> Result<(Delegation, Permit), AppError> {
    let (d, permit) = call(state, signed_in, meta, move |conn, c| {
        delegations::permit_on(conn, &c.key, c.tz, &c.ctx, &c.agent, &id, action)
    })
    .await?;
    if let Some(token) = csrf_token {
        let attempt = Attempt::new(action).on("delegation", d.id);
        require_csrf(state, signed_in, meta, token, Some(&d.uai), &attempt).await?;
    }
    Ok((d, permit))
}

pub async fn confirm_revocation(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<String>,
) -> Result<Markup, AppError> {
    let id = path.into_inner();
    let (d, _) = permitted(&state, &signed_in, &meta, id, "delegation.view", None).await?;
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
    let (id, token) = (path.into_inner(), Some(form.csrf_token.as_str()));
    let (d, permit) = permitted(&state, &signed_in, &meta, id, "delegation.revoke", token).await?;
    let uai = d.uai.clone();
    call(&state, &signed_in, &meta, move |conn, c| {
        delegations::revoke(conn, &c.key, &permit, &c.ctx, &d)
    })
    .await?;
    Ok(see_other(format!(
        "{BASE}/delegations?uai={uai}&revoquee=1"
    )))
}

pub async fn extend_delegation(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    path: web::Path<String>,
    form: web::Form<ExtendForm>,
) -> Result<HttpResponse, AppError> {
    let (id, token) = (path.into_inner(), Some(form.csrf_token.as_str()));
    let (d, permit) = permitted(&state, &signed_in, &meta, id, "delegation.extend", token).await?;
    let (uai, until) = (d.uai.clone(), form.valid_until.clone());
    call(&state, &signed_in, &meta, move |conn, c| {
        delegations::extend(conn, &c.key, c.tz, &permit, &c.ctx, &d, &until)
    })
    .await?;
    Ok(see_other(format!(
        "{BASE}/delegations?uai={uai}&prolongee=1"
    )))
}
