//! Deny by default (BRIEF rule 1): every route under the mount point but sign-in, assets
//! and health needs a signed-in agent. Loads the server-side session, applies the idle and
//! absolute timeouts, re-reads the directory when its data is 60 seconds old (rule 2),
//! and hands the handlers a [`SignedIn`]. Every answer to a signed-in request carries
//! `Cache-Control: no-store`: what an agent sees (pupils, parents, the journal) stays out of
//! the browser's and any proxy's cache.

use crate::web::paths;
use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};

use super::BASE;
use super::errors::AppError;
use super::request::RequestMeta;
use super::routes::{self, Access, RouteDef};
use super::signin::auth_of;
use crate::auth::session::{COOKIE_NAME, Session};
use crate::usecases::sessions::{self, Loaded, Timeouts};
use crate::web::state::AppState;

/// The signed-in agent and his session, for handlers.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Arc<Session>);

impl FromRequest for SignedIn {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<SignedIn>()
                .cloned()
                .ok_or(AppError::Unauthorized),
        )
    }
}

/// What the route table says of a request before any session is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// It may go on without a session.
    Open,
    /// It needs a signed-in agent.
    Session,
    /// Not from this client address: as if the route did not exist (404).
    Hidden,
}

/// Outside the mount point (the redirects to it, the 404 page) and the mount point itself (a
/// redirect) are open; under it, the route's access decides (a network-only route answers
/// only inside `metrics_networks`); anything else, unknown paths included, needs a session.
fn entry(req: &ServiceRequest, state: Option<&AppState>, route: Option<&RouteDef>) -> Entry {
    // The path as the router matches it (percent-decoded), never the raw one: a route reached
    // through `/educt%2Dadmin-comptes/…` or `%64elegations` is the same route.
    let path = req.match_info().as_str();
    let Some(rest) = path.strip_prefix(BASE) else {
        return Entry::Open;
    };
    if rest.is_empty() {
        return Entry::Open;
    }
    let access = route.map(|r| r.access);
    let inside_metrics = || {
        state.is_some_and(|s| {
            let meta = RequestMeta::of(req.request());
            meta.addr.is_inside(&s.settings.network.metrics_networks)
        })
    };
    entry_for(access, inside_metrics)
}

/// What a route's `access` says before any session (`None`: no route, so a session), with
/// `inside_metrics` telling whether the client is inside `metrics_networks`.
fn entry_for(access: Option<Access>, inside_metrics: impl FnOnce() -> bool) -> Entry {
    match access {
        Some(Access::NetworkOnly) if inside_metrics() => Entry::Open,
        Some(Access::NetworkOnly) => Entry::Hidden,
        Some(access) if !access.needs_session() => Entry::Open,
        _ => Entry::Session,
    }
}

pub fn session_cookie(token: &str) -> Cookie<'static> {
    Cookie::build(COOKIE_NAME, token.to_owned())
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish()
}

pub fn removal_cookie(name: &'static str) -> Cookie<'static> {
    Cookie::build(name, "")
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::ZERO)
        .finish()
}

/// To the sign-in page, with the reason and the page asked for (a GET's, when it is one to
/// come back to).
fn to_sign_in(reason: Option<&str>, asked: Option<&str>) -> HttpResponse {
    let back = asked.and_then(paths::local_return);
    let location = paths::sign_in()
        .with_some("session", reason)
        .with_some(paths::RETURN_PARAM, back)
        .to_string();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(removal_cookie(COOKIE_NAME))
        .finish()
}

pub async fn require_session(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    // The route the router will reach, found once (on the decoded path).
    let route = routes::find(req.method(), req.match_info().as_str());
    match entry(&req, state.as_ref().map(|s| s.get_ref()), route) {
        Entry::Open => return Ok(next.call(req).await?.map_into_left_body()),
        Entry::Hidden => return Err(AppError::NotFound.into()),
        Entry::Session => {}
    }
    let Some(state) = state else {
        return Err(AppError::Internal("application state missing".into()).into());
    };
    let token = req.cookie(COOKIE_NAME).map(|c| c.value().to_owned());
    let stamp = RequestMeta::of(req.request()).stamp_of();
    let timeouts = Timeouts::of(&state.settings.session);
    let outcome = match token {
        None => Loaded::SignIn(None),
        Some(token) => sessions::load(&auth_of(&state), &stamp, timeouts, token)
            .await
            .map_err(AppError::from)?,
    };
    match outcome {
        Loaded::DirectoryDown(e) => Err(AppError::DirectoryUnavailable(e).into()),
        Loaded::SignIn(reason) => {
            let asked = (req.method() == actix_web::http::Method::GET)
                .then(|| req.uri().path_and_query().map(|pq| pq.as_str().to_owned()))
                .flatten();
            let res = to_sign_in(reason, asked.as_deref());
            Ok(req.into_response(res).map_into_right_body())
        }
        Loaded::Proceed { session, new_token } => {
            tracing::Span::current().record("agent", session.agent.uid.as_str());
            if route.is_some_and(|r| r.access == Access::Helpdesk) {
                // Nobody is of the helpdesk until it exists (deny by default).
                return Err(AppError::Forbidden(
                    "Cette page est réservée à l'assistance de l'académie.".into(),
                )
                .into());
            }
            req.extensions_mut().insert(SignedIn(Arc::new(*session)));
            let mut res = next.call(req).await?;
            if let Some(token) = new_token {
                res.response_mut().add_cookie(&session_cookie(&token))?;
            }
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            Ok(res.map_into_left_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delegation::Scope as Held;

    #[test]
    fn what_the_table_says_before_any_session() {
        use Access::*;
        let (inside, outside) = (|| true, || false);
        assert_eq!(entry_for(Some(NetworkOnly), inside), Entry::Open);
        assert_eq!(entry_for(Some(NetworkOnly), outside), Entry::Hidden);
        for open in [Public, Bearer, TokenLink] {
            assert_eq!(entry_for(Some(open), outside), Entry::Open, "{open:?}");
        }
        for closed in [SignedIn, Helpdesk, PrincipalOnly, Scope(Held::Eleves)] {
            assert_eq!(
                entry_for(Some(closed), inside),
                Entry::Session,
                "{closed:?}"
            );
        }
        // No route in the table: a session first (deny by default).
        assert_eq!(entry_for(None, inside), Entry::Session);
    }
}
