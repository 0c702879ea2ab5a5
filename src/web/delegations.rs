//! The principal's DelegCE screen and the grant (`POST /delegations`).

use std::collections::HashMap;

use crate::web::paths;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, web};
use serde::Deserialize;

use super::calls::{Permitted, call, choose_establishment, html, permit_requested, see_other};
use super::chrome::{chrome, establishment_name};
use super::errors::AppError;
use super::forms::parse_body;
use super::request::{Asker, Queried};
use super::session_guard::SignedIn;
use super::views::delegations::{DelegationsView, GrantValues, delegations_page};
use crate::audit::AuditAction;
use crate::clock::local_day;
use crate::delegation::policy::Action;
use crate::delegation::store;
use crate::delegation::{Delegation, Scope, Status, coming_31_august};
use crate::directory::DirectoryError;
use crate::domain::Agent;
use crate::domain::Uai;
use crate::usecases::delegations::{self, GrantRefusal, GrantRequest, look_up_grantee};
use crate::usecases::staff_names::agent_names;
use crate::web::state::AppState;

pub const MOTIVE_MAX: usize = crate::domain::MOTIVE_MAX_CHARS;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    uai: Option<String>,
    #[serde(default)]
    recherche: String,
    accordee: Option<String>,
    revoquee: Option<String>,
    prolongee: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    uai: String,
    #[serde(default)]
    grantee: String,
    #[serde(default)]
    scope: Vec<String>,
    #[serde(default)]
    valid_from: String,
    #[serde(default)]
    valid_until: String,
    #[serde(default)]
    motive: String,
    #[serde(default)]
    csrf_token: String,
}

impl GrantForm {
    fn request(&self) -> GrantRequest {
        GrantRequest {
            grantee: self.grantee.clone(),
            scopes: self.scope.clone(),
            valid_from: self.valid_from.clone(),
            valid_until: self.valid_until.clone(),
            motive: self.motive.clone(),
        }
    }

    /// The values shown again after a refusal (clipped).
    fn values(&self) -> GrantValues {
        GrantValues {
            grantee: self.grantee.clone(),
            scopes: self.scope.iter().filter_map(|s| Scope::parse(s)).collect(),
            valid_from: self.valid_from.chars().take(10).collect(),
            valid_until: self.valid_until.chars().take(10).collect(),
            motive: self.motive.chars().take(MOTIVE_MAX).collect(),
        }
    }
}

async fn staff(state: &AppState, uai: &Uai, search: &str) -> Result<Vec<Agent>, AppError> {
    let directory = state.directory.clone();
    let (uai, search) = (uai.clone(), search.to_owned());
    let principal_of = uai.clone();
    match web::block(move || directory.search_staff(&uai, &search, 50)).await {
        // Principals already hold every right there: they are not offered.
        Ok(Ok(v)) => Ok(v
            .into_iter()
            .filter(|a| !a.is_principal_of(&principal_of))
            .collect()),
        Ok(Err(DirectoryError::Unavailable(e))) => Err(AppError::DirectoryUnavailable(e)),
        Ok(Err(e)) => Err(AppError::Internal(e.to_string())),
        Err(_) => Err(AppError::Internal("blocking pool gone".into())),
    }
}

/// What the screen shows besides the form: the delegations grouped by status, and the names
/// of who granted and revoked them.
struct Screen {
    name: String,
    list: Vec<Delegation>,
    staff: Vec<Agent>,
    names: HashMap<String, String>,
}

/// The names of the staff `uids` (never shown as uids), from the directory; `me` is known.
pub(super) async fn staff_names(
    state: &AppState,
    me: &Agent,
    uids: Vec<String>,
) -> Result<HashMap<String, String>, AppError> {
    let (directory, me) = (state.directory.clone(), me.clone());
    web::block(move || agent_names(directory.as_ref(), &me, uids.iter().map(String::as_str)))
        .await
        .map_err(|_| AppError::Internal("blocking pool gone".into()))
}

async fn load_screen(
    state: &AppState,
    me: &Agent,
    uai: &Uai,
    search: &str,
) -> Result<Screen, AppError> {
    let name = establishment_name(state, uai).await?;
    let key = uai.clone();
    let list = state
        .db
        .run(move |conn| Ok::<_, AppError>(store::on_establishment(conn, &key)?))
        .await?;
    let staff = staff(state, uai, search).await?;
    let actors = list
        .iter()
        .flat_map(|d| std::iter::once(&d.granted_by).chain(&d.revoked_by))
        .cloned()
        .collect();
    let names = staff_names(state, me, actors).await?;
    Ok(Screen {
        name,
        list,
        staff,
        names,
    })
}

struct Render<'a> {
    values: GrantValues,
    error: Option<&'a str>,
    notice: Option<&'a str>,
    extend_offer: Option<i64>,
}

fn render(
    state: &AppState,
    signed_in: &SignedIn,
    uai: &Uai,
    search: &str,
    screen: &Screen,
    r: Render<'_>,
    status: StatusCode,
) -> HttpResponse {
    let now = state.clock.now();
    let groups = [
        Status::Active,
        Status::Upcoming,
        Status::Expired,
        Status::Revoked,
    ]
    .into_iter()
    .map(|st| {
        (
            st,
            screen
                .list
                .iter()
                .filter(|d| d.status(now, state.tz) == st)
                .collect(),
        )
    })
    .collect();
    let chrome = chrome(signed_in);
    let offer = r
        .extend_offer
        .and_then(|id| screen.list.iter().find(|d| d.id.get() == id));
    let body = delegations_page(&DelegationsView {
        chrome: &chrome,
        uai: uai.as_str(),
        establishment: &screen.name,
        groups,
        staff: &screen.staff,
        names: &screen.names,
        search,
        values: r.values,
        error: r.error,
        notice: r.notice,
        extend_offer: offer,
        today: local_day(now, state.tz),
    });
    html(status, body)
}

fn default_values(state: &AppState) -> GrantValues {
    let today = local_day(state.clock.now(), state.tz);
    GrantValues {
        valid_from: today.to_string(),
        valid_until: coming_31_august(today).to_string(),
        scopes: vec![Scope::Eleves],
        ..GrantValues::default()
    }
}

fn notice(query: &ListQuery) -> Option<&'static str> {
    if query.accordee.is_some() {
        Some("La délégation est accordée.")
    } else if query.revoquee.is_some() {
        Some("La délégation est révoquée : elle a cessé immédiatement.")
    } else if query.prolongee.is_some() {
        Some("La délégation est prolongée.")
    } else {
        None
    }
}

pub async fn show_delegations((who, query): Queried<ListQuery>) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let Some(uai) = query.uai.as_deref().filter(|u| !u.is_empty()) else {
        let mine = &signed_in.0.agent.responsible_for;
        return choose_establishment(&state, &signed_in, mine, "delegations").await;
    };
    let asked = (Action::ManageDelegations, AuditAction::DelegationView);
    let uai = permit_requested(&state, (&signed_in, &meta), Some(uai), asked, None)
        .await?
        .uai;
    let screen = load_screen(&state, &signed_in.0.agent, &uai, &query.recherche).await?;
    let r = Render {
        values: default_values(&state),
        error: None,
        notice: notice(&query),
        extend_offer: None,
    };
    let search = &query.recherche;
    Ok(render(
        &state,
        &signed_in,
        &uai,
        search,
        &screen,
        r,
        StatusCode::OK,
    ))
}

pub async fn grant_delegation(who: Asker, body: web::Bytes) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let form: GrantForm = parse_body(&body)?;
    let asked = (Action::ManageDelegations, AuditAction::DelegationGrant);
    let (requested, token) = (Some(form.uai.as_str()), Some(form.csrf_token.as_str()));
    let Permitted { uai, permit, .. } =
        permit_requested(&state, (&signed_in, &meta), requested, asked, token).await?;
    let (directory, asked) = (state.directory.clone(), form.grantee.clone());
    let lookup = web::block(move || look_up_grantee(directory.as_ref(), &asked))
        .await
        .map_err(|_| AppError::Internal("blocking pool gone".into()))?;
    let request = form.request();
    let granted = call(&state, &signed_in, &meta, move |conn, c| {
        delegations::grant(conn, &c.key, c.tz, &permit, &c.ctx, &request, &lookup)
    })
    .await?;
    match granted {
        Ok(_) => Ok(see_other(
            paths::delegations(Some(uai))
                .with("accordee", 1)
                .to_string(),
        )),
        Err(refusal) => refused_grant(&state, &signed_in, &uai, &form, refusal).await,
    }
}

/// The screen again, with the form as sent and the refusal's sentence and status.
async fn refused_grant(
    state: &AppState,
    signed_in: &SignedIn,
    uai: &Uai,
    form: &GrantForm,
    refusal: GrantRefusal,
) -> Result<HttpResponse, AppError> {
    let screen = load_screen(state, &signed_in.0.agent, uai, "").await?;
    let status = AppError::from(refusal.failure.clone()).status_code();
    let rendered = Render {
        values: form.values(),
        error: Some(&refusal.failure.message),
        notice: None,
        extend_offer: refusal.extend,
    };
    Ok(render(state, signed_in, uai, "", &screen, rendered, status))
}
