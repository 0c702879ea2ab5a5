//! Deny by default (BRIEF rule 1): every route under the mount point but sign-in, assets
//! and health needs a signed-in agent. Loads the server-side session, applies the idle and
//! absolute timeouts, re-reads the directory when its data is 60 seconds old (rule 2),
//! and hands the handlers a [`SignedIn`]. Every answer to a signed-in request carries
//! `Cache-Control: no-store`: what an agent sees (pupils, parents, the journal) stays out of
//! the browser's and any proxy's cache.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use chrono::Duration;

use super::BASE;
use super::errors::AppError;
use super::request::RequestMeta;
use super::routes;
use crate::audit::{self, AuditEvent, Outcome};
use crate::auth::session::{self, COOKIE_NAME, Session};
use crate::directory::DirectoryError;
use crate::domain::AgentUid;
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

/// Whether a request may go on without a session: it is outside the mount point (the
/// redirects to it, the 404 page), the mount point itself (a redirect), or it reaches a
/// `Public` route of the route table. Anything else, unknown paths included, needs one.
fn is_public(method: &actix_web::http::Method, path: &str) -> bool {
    let Some(rest) = path.strip_prefix(BASE) else {
        return true;
    };
    rest.is_empty() || routes::find(method, path).is_some_and(|r| !r.access.needs_session())
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

fn to_sign_in(reason: Option<&str>) -> HttpResponse {
    let location = match reason {
        Some(r) => format!("{BASE}/connexion?session={r}"),
        None => format!("{BASE}/connexion"),
    };
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(removal_cookie(COOKIE_NAME))
        .finish()
}

enum Guarded {
    Proceed(Box<Session>, Option<String>),
    SignIn(Option<&'static str>),
}

pub async fn require_session(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if is_public(req.method(), req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(AppError::Internal("application state missing".into()).into());
    };
    let token = req.cookie(COOKIE_NAME).map(|c| c.value().to_owned());
    let meta = RequestMeta::of(req.request());
    let outcome = match token {
        None => Guarded::SignIn(None),
        Some(token) => load(&state, token, &meta).await?,
    };
    match outcome {
        Guarded::SignIn(reason) => {
            let res = to_sign_in(reason);
            Ok(req.into_response(res).map_into_right_body())
        }
        Guarded::Proceed(session, new_token) => {
            tracing::Span::current().record("agent", session.agent.uid.as_str());
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

async fn load(
    state: &web::Data<AppState>,
    token: String,
    meta: &RequestMeta,
) -> Result<Guarded, AppError> {
    let now = state.clock.now();
    let idle = Duration::minutes(state.settings.session.idle_timeout_minutes);
    let absolute = Duration::hours(state.settings.session.absolute_timeout_hours);
    let found = state
        .db
        .run(move |conn| Ok::<_, AppError>(session::find(conn, &token)?))
        .await?;
    let Some(mut current) = found else {
        return Ok(Guarded::SignIn(None));
    };
    if current.expiry(now, idle, absolute).is_some() {
        let id = current.id;
        state
            .db
            .run(move |conn| Ok::<_, AppError>(session::delete(conn, id)?))
            .await?;
        return Ok(Guarded::SignIn(Some("expiree")));
    }
    let mut new_token = None;
    if current.directory_is_stale(now) {
        let directory = state.directory.clone();
        let Some(uid) = AgentUid::parse(&current.agent.uid) else {
            return Ok(Guarded::SignIn(None));
        };
        let fresh = web::block(move || directory.lookup(&uid))
            .await
            .map_err(|_| AppError::Internal("blocking pool gone".into()))?;
        let fresh = match fresh {
            Ok(f) => f,
            Err(DirectoryError::Unavailable(e)) => return Err(AppError::DirectoryUnavailable(e)),
            Err(e) => return Err(AppError::Internal(e.to_string())),
        };
        let id = current.id;
        let key = state.key.clone();
        let event_base = meta.stamp(
            AuditEvent::new(
                current.agent.uid.clone(),
                "agent.rights_changed",
                Outcome::Success,
            )
            .target("agent", &current.agent.uid),
        );
        match fresh {
            None => {
                let event =
                    event_base.details("gone from the directory or disabled: session ended");
                state
                    .db
                    .run(move |conn| {
                        audit::audited(conn, &key, now, |tx| {
                            session::delete(tx.conn(), id)?;
                            tx.append(&event)
                        })
                        .map_err(AppError::from)
                    })
                    .await?;
                return Ok(Guarded::SignIn(None));
            }
            Some(agent) => {
                let changed = agent.attached != current.agent.attached
                    || agent.responsible_for != current.agent.responsible_for;
                let stored = agent.clone();
                let details = format!(
                    "attached: {} → {}; responsible: {} → {}",
                    uai_list(&current.agent.attached),
                    uai_list(&agent.attached),
                    uai_list(&current.agent.responsible_for),
                    uai_list(&agent.responsible_for)
                );
                let event = event_base.details(details);
                new_token = state
                    .db
                    .run(move |conn| {
                        audit::audited(conn, &key, now, |tx| -> Result<Option<String>, AppError> {
                            session::refresh_agent(tx.conn(), id, &stored, now)?;
                            if !changed {
                                return Ok(None);
                            }
                            // A privilege change gets a new session id.
                            let token = session::rotate(tx.conn(), id)
                                .map_err(|e| AppError::Internal(e.to_string()))?;
                            tx.append(&event)?;
                            Ok(Some(token))
                        })
                    })
                    .await?;
                current.agent = agent;
                current.directory_checked_at = now;
            }
        }
    }
    if current.needs_touch(now) {
        let id = current.id;
        state
            .db
            .run(move |conn| Ok::<_, AppError>(session::touch(conn, id, now)?))
            .await?;
        current.last_seen_at = now;
    }
    Ok(Guarded::Proceed(Box::new(current), new_token))
}

fn uai_list(uais: &[crate::domain::Uai]) -> String {
    if uais.is_empty() {
        return "-".into();
    }
    uais.iter()
        .map(|u| u.as_str())
        .collect::<Vec<_>>()
        .join(",")
}
