//! The principal's DelegCE screen and the grant (`POST /delegations`).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::BASE;
use super::chrome::{chrome, establishment_name};
use super::delegation_checks::{GrantRefusal, check_grant};
use super::errors::AppError;
use super::guard::{Attempt, State, permit, record_refusal, requested_uai, require_csrf};
use super::request::RequestMeta;
use super::session_guard::SignedIn;
use super::views::delegations::{
    DelegationsView, GrantValues, choose_establishment_page, delegations_page,
};
use crate::audit::{self, Outcome};
use crate::clock::local_day;
use crate::delegation::policy::Action;
use crate::delegation::store::{self, NewDelegation};
use crate::delegation::{Delegation, Scope, Status, coming_31_august};
use crate::directory::DirectoryError;
use crate::domain::Agent;
use crate::domain::Uai;
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
    pub(super) uai: String,
    #[serde(default)]
    pub(super) grantee: String,
    #[serde(default)]
    pub(super) scope: Vec<String>,
    #[serde(default)]
    pub(super) valid_from: String,
    #[serde(default)]
    pub(super) valid_until: String,
    #[serde(default)]
    pub(super) motive: String,
    #[serde(default)]
    pub(super) csrf_token: String,
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

/// What the screen shows besides the form: the delegations grouped by status.
struct Screen {
    name: String,
    list: Vec<Delegation>,
    staff: Vec<Agent>,
}

async fn load_screen(state: &AppState, uai: &Uai, search: &str) -> Result<Screen, AppError> {
    let name = establishment_name(state, uai).await?;
    let key = uai.clone();
    let list = state
        .db
        .run(move |conn| Ok::<_, AppError>(store::on_establishment(conn, &key)?))
        .await?;
    let staff = staff(state, uai, search).await?;
    Ok(Screen { name, list, staff })
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
        .and_then(|id| screen.list.iter().find(|d| d.id == id));
    let body = delegations_page(&DelegationsView {
        chrome: &chrome,
        uai: uai.as_str(),
        establishment: &screen.name,
        groups,
        staff: &screen.staff,
        search,
        values: r.values,
        error: r.error,
        notice: r.notice,
        extend_offer: offer,
        today: local_day(now, state.tz),
    });
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body.into_string())
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

pub async fn show_delegations(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(uai) = query.uai.as_deref().filter(|u| !u.is_empty()) else {
        // No establishment named: the principal's only one, or a choice.
        let mine = &signed_in.0.agent.responsible_for;
        return match mine.as_slice() {
            [] => Err(AppError::NotFound),
            [only] => Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("{BASE}/delegations?uai={only}")))
                .finish()),
            several => {
                let mut choices = Vec::new();
                for u in several {
                    choices.push((u.to_string(), establishment_name(&state, u).await?));
                }
                Ok(HttpResponse::Ok()
                    .content_type("text/html; charset=utf-8")
                    .body(
                        choose_establishment_page(&chrome(&signed_in), "delegations", &choices)
                            .into_string(),
                    ))
            }
        };
    };
    let uai = requested_uai(Some(uai))?;
    permit(
        &state,
        &signed_in,
        &meta,
        Action::ManageDelegations,
        &uai,
        &Attempt::new("delegation.view"),
    )
    .await?;
    let screen = load_screen(&state, &uai, &query.recherche).await?;
    let notice = if query.accordee.is_some() {
        Some("La délégation est accordée.")
    } else if query.revoquee.is_some() {
        Some("La délégation est révoquée : elle a cessé immédiatement.")
    } else if query.prolongee.is_some() {
        Some("La délégation est prolongée.")
    } else {
        None
    };
    let r = Render {
        values: default_values(&state),
        error: None,
        notice,
        extend_offer: None,
    };
    Ok(render(
        &state,
        &signed_in,
        &uai,
        &query.recherche,
        &screen,
        r,
        StatusCode::OK,
    ))
}

pub async fn grant_delegation(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let form: GrantForm = serde_html_form::from_bytes(&body).map_err(|_| {
        AppError::BadRequest(
            "Le formulaire envoyé est mal formé. Rechargez la page et réessayez.".into(),
        )
    })?;
    let attempt = Attempt::new("delegation.grant");
    let uai = requested_uai(Some(&form.uai))?;
    permit(
        &state,
        &signed_in,
        &meta,
        Action::ManageDelegations,
        &uai,
        &attempt,
    )
    .await?;
    require_csrf(
        &state,
        &signed_in,
        &meta,
        &form.csrf_token,
        Some(&uai),
        &attempt,
    )
    .await?;
    let principal = signed_in.0.agent.clone();
    let checked = check_grant(&state, &principal, &uai, &form).await;
    let now = state.clock.now();
    let outcome = match checked {
        Err(r) => Err(r),
        Ok((scopes, from, until, grantee)) => {
            let key = state.key.clone();
            let motive = form.motive.trim().to_owned();
            let uai2 = uai.clone();
            let by = principal.uid.clone();
            let success = attempt.event(&signed_in, &meta, Some(&uai), Outcome::Success);
            let tz = state.tz;
            state
                .db
                .run(move |conn| {
                    audit::audited(conn, &key, now, |tx| -> Result<Result<Vec<i64>, GrantRefusal>, AppError> {
                        // Checked inside the write transaction: two tabs cannot both grant.
                        let existing = store::held_by(tx.conn(), &grantee.uid, local_day(now, tz))?;
                        if let Some(d) = existing.iter().find(|d| {
                            d.uai == uai2 && scopes.contains(&d.scope) && matches!(d.status(now, tz), Status::Active | Status::Upcoming)
                        }) {
                            return Ok(Err(GrantRefusal {
                                message: format!(
                                    "{} détient déjà une délégation « {} » sur cet établissement, jusqu'au {}. Vous pouvez la prolonger.",
                                    d.grantee_name,
                                    d.scope.label(),
                                    d.valid_until.format("%d/%m/%Y")
                                ),
                                status: StatusCode::CONFLICT,
                                reason: "same scope already delegated",
                                extend: Some(d.id),
                            }));
                        }
                        let mut ids = Vec::new();
                        for scope in &scopes {
                            let id = store::insert(
                                tx.conn(),
                                &NewDelegation {
                                    uai: &uai2,
                                    grantee_uid: &grantee.uid,
                                    grantee_name: &grantee.display_name,
                                    scope: *scope,
                                    valid_from: from,
                                    valid_until: until,
                                    motive: &motive,
                                    granted_by: &by,
                                },
                                now,
                            )?;
                            let mut event = success.clone().details(format!(
                                "to {} scope {} from {from} until {until}",
                                grantee.uid,
                                scope.as_str()
                            ));
                            event.target_kind = Some("delegation".into());
                            event.target_id = Some(id.to_string());
                            event.delegation_id = Some(id);
                            tx.append(&event)?;
                            ids.push(id);
                        }
                        Ok(Ok(ids))
                    })
                })
                .await?
        }
    };
    match outcome {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("{BASE}/delegations?uai={uai}&accordee=1"),
            ))
            .finish()),
        Err(r) => {
            let event = attempt
                .event(&signed_in, &meta, Some(&uai), Outcome::Refused)
                .details(format!("{} (grantee {:.64})", r.reason, form.grantee));
            record_refusal(&state, event).await?;
            let screen = load_screen(&state, &uai, "").await?;
            let values = GrantValues {
                grantee: form.grantee.clone(),
                scopes: form.scope.iter().filter_map(|s| Scope::parse(s)).collect(),
                valid_from: form.valid_from.chars().take(10).collect(),
                valid_until: form.valid_until.chars().take(10).collect(),
                motive: form.motive.chars().take(MOTIVE_MAX).collect(),
            };
            let rendered = Render {
                values,
                error: Some(&r.message),
                notice: None,
                extend_offer: r.extend,
            };
            Ok(render(
                &state, &signed_in, &uai, "", &screen, rendered, r.status,
            ))
        }
    }
}
