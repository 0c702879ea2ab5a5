//! What handlers share around a use case: calling it on the blocking pool with the
//! signed-in agent's audit context, the "requested establishment + permit" prologue of the
//! list pages, the establishment choice, and the responses they end with.

use crate::web::paths;
use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use chrono_tz::Tz;
use maud::Markup;

use super::chrome::{chrome, establishment_name};
use super::errors::AppError;
use super::guard::{Attempt, Checks, admit, permit, requested_uai};
use super::parents_gate::Gate;
use super::request::RequestMeta;
use super::session_guard::SignedIn;
use super::state::AppState;
use super::views::delegations::choose_establishment_page;
use crate::db::DbConnection;
use crate::delegation::policy::{Action, Permit};
use crate::domain::{Agent, Uai};
use crate::secrets::AppKey;
use crate::usecases::{Caller, Context, Failure};

/// What a use case called from a handler is given besides its connection (owned, to cross
/// to the blocking pool; [`Call::caller`] lends it as the use cases' [`Caller`]).
pub struct Call {
    pub key: AppKey,
    pub tz: Tz,
    /// The signed-in agent's context, stamped with the request, at the call.
    pub ctx: Context,
    pub agent: Agent,
}

impl Call {
    pub fn caller(&self) -> Caller<'_> {
        Caller {
            key: &self.key,
            tz: self.tz,
            ctx: &self.ctx,
            agent: &self.agent,
        }
    }
}

/// Runs `f` (a use case) with a pooled connection on the blocking pool.
pub async fn call<T, F>(
    state: &AppState,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    f: F,
) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConnection, &Call) -> Result<T, Failure> + Send + 'static,
    T: Send + 'static,
{
    let call = Call {
        key: state.key.clone(),
        tz: state.tz,
        ctx: meta.context_of(signed_in, state.clock.now()),
        agent: signed_in.0.agent.clone(),
    };
    state
        .db
        .run(move |conn| f(conn, &call).map_err(AppError::from))
        .await
}

/// What a page asks to do on the establishment it names: the action and the name of its
/// attempt in the audit rows.
pub type Asked = (Action, crate::audit::AuditAction);

/// The establishment a page names, with the permit to act there and what the route
/// required passed.
pub struct Permitted {
    pub uai: Uai,
    pub permit: Permit,
    /// The parents' gate used, on a gated route.
    pub gate: Option<Gate>,
}

impl Permitted {
    /// The establishment and its name, for the page.
    pub async fn named(self, state: &AppState) -> Result<(Uai, String), AppError> {
        let name = establishment_name(state, &self.uai).await?;
        Ok((self.uai, name))
    }
}

/// The establishment a page names (`?uai=`, or a form's field) and the permit for the
/// asked action there (refused and audited otherwise: 404 or 403), then what the route
/// requires (`admit`: the parents' gate, the CSRF token `csrf` of a POST).
pub async fn permit_requested(
    state: &AppState,
    (signed_in, meta): (&SignedIn, &RequestMeta),
    requested: Option<&str>,
    (action, attempt): Asked,
    csrf: Option<&str>,
) -> Result<Permitted, AppError> {
    let Some(requested) = requested.filter(|u| !u.trim().is_empty()) else {
        return Err(choose_for(state, (signed_in, meta), action).await);
    };
    let uai = requested_uai(Some(requested))?;
    let attempt = Attempt::new(attempt);
    let permit = permit(state, signed_in, meta, action, &uai, &attempt).await?;
    let checks = Checks::on(&uai, &attempt, csrf);
    let gate = admit(state, signed_in, meta, checks).await?.gate;
    Ok(Permitted { uai, permit, gate })
}

/// A page (a GET) reached without naming an establishment, for `action`: to the agent's only
/// establishment where he may do it (303, the other parameters kept), or a page where he
/// chooses among them; 404 when he has none. A form posted without one is a 400.
pub async fn choose_for(
    state: &AppState,
    (signed_in, meta): (&SignedIn, &RequestMeta),
    action: Action,
) -> AppError {
    let Some(asked) = meta.asked.as_deref() else {
        return AppError::BadRequest("Choisissez d'abord un établissement.".into());
    };
    let mine = match call(state, signed_in, meta, move |conn, c| {
        crate::usecases::authorize::establishments_for(conn, &c.caller(), action)
    })
    .await
    {
        Ok(mine) => mine,
        Err(e) => return e,
    };
    let (path, query) = asked.split_once('?').unwrap_or((asked, ""));
    match mine.as_slice() {
        [] => AppError::NotFound,
        [only] => {
            let mut kept: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                .filter(|(k, _)| k != "uai")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            kept.insert(0, ("uai".into(), only.to_string()));
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(kept)
                .finish();
            AppError::Chosen(format!("{path}?{query}"))
        }
        several => {
            let target = path.strip_prefix(super::BASE).unwrap_or(path);
            let target = target.trim_start_matches('/').to_owned();
            match chooser(state, signed_in, several, &target).await {
                Ok(page) => AppError::Chooser(page.into_string()),
                Err(e) => e,
            }
        }
    }
}

/// A page reached without naming an establishment: straight to the agent's only one, or a
/// choice among `mine` (404 when he has none). `path` is the page's path under the base.
pub async fn choose_establishment(
    state: &AppState,
    signed_in: &SignedIn,
    mine: &[Uai],
    path: &str,
) -> Result<HttpResponse, AppError> {
    match mine {
        [] => Err(AppError::NotFound),
        [only] => Ok(see_other(
            paths::establishment_page(path, Some(only)).to_string(),
        )),
        several => Ok(html(
            StatusCode::OK,
            chooser(state, signed_in, several, path).await?,
        )),
    }
}

/// The page where the agent chooses among `several` establishments for the page `path`.
async fn chooser(
    state: &AppState,
    signed_in: &SignedIn,
    several: &[Uai],
    path: &str,
) -> Result<Markup, AppError> {
    let mut choices = Vec::new();
    for u in several {
        choices.push((u.to_string(), establishment_name(state, u).await?));
    }
    Ok(choose_establishment_page(
        &chrome(signed_in),
        path,
        &choices,
    ))
}

/// 303 to `location` (after a change: the page to show).
pub fn see_other(location: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// A page that no cache keeps.
pub fn html(status: StatusCode, page: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(page.into_string())
}
