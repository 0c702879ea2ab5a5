//! The ENT connectors' pages: `/connexion/cas` and `/connexion/oidc` send the browser to the
//! provider; their `…/retour` callbacks check that this browser started the flow, have the
//! provider's answer verified (`crate::sso`), and hand the person to the sign-in use case
//! (`usecases::sso`). Every refusal is a French page and an audit row, never a session.

pub mod flow;
mod provider_logout;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::HashMap;

pub use self::provider_logout::{backchannel_logout, reauth_at_provider};
use super::calls::html;
use super::errors::{AppError, BUSY_RETRY_AFTER_SECS};
use super::request::RequestMeta;
use super::session_guard::{removal_cookie, session_cookie};
use super::signin::{DIRECTORY_DOWN, SIGNIN_COOKIE, auth_of};
use super::state::AppState;
use super::views::sso::{forward_page, refusal_page};
use crate::auth::random_token;
use crate::auth::session::{Origin, Via};
use crate::sso::SsoError;
use crate::usecases::sso::{self as sso_usecase, Arrival, Reauth, ReauthProof, Refused};
use crate::usecases::{Actor, Context, FailureClass};
use crate::web::paths;
use flow::Flow;

/// A flow this browser did not start, or started too long ago.
const FLOW_REFUSED: &str = "Cette connexion par l'ENT n'a pas été demandée depuis ce navigateur, ou elle a expiré. Reprenez la connexion depuis le début.";

/// A provider's return or request, as form-encoded parameters, each at most once: a repeated
/// one (which should it be?) is refused, audited, rather than left to the framework's
/// unaudited 400.
pub(super) struct Params(HashMap<String, String>);

impl Params {
    pub(super) fn of(encoded: &[u8]) -> Option<Self> {
        let mut out = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(encoded) {
            if out.insert(k.into_owned(), v.into_owned()).is_some() {
                return None;
            }
        }
        Some(Self(out))
    }

    /// The parameter's value, empty when absent.
    pub(super) fn take(&mut self, name: &str) -> String {
        self.0.remove(name).unwrap_or_default()
    }

    pub(super) fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

/// The refusal of a request whose parameters repeat.
pub(super) const REPEATED: &str = "a parameter given twice";

fn new_state() -> Result<String, AppError> {
    random_token(24).map_err(|_| AppError::Internal("random generator failed".into()))
}

/// A 303 to the provider, with the flow's cookie.
fn to_provider(url: String, flow: &Flow, state: &AppState) -> Result<HttpResponse, AppError> {
    let cookie = flow
        .cookie(&state.key)
        .ok_or_else(|| AppError::Internal("flow cookie".into()))?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(cookie)
        .finish())
}

/// The refusal page of `status` with its French `message`; the flow is spent. `details`
/// goes to the audit.
async fn refuse(
    state: &AppState,
    meta: &RequestMeta,
    (via, what): (Via, Refused<'_>),
    (status, message): (StatusCode, &str),
    details: &str,
) -> Result<HttpResponse, AppError> {
    let stamp = meta.stamp_of();
    sso_usecase::record_refusal(&auth_of(state), &stamp, via, what, details).await?;
    let mut res = html(status, refusal_page(message));
    spend_flow(&mut res)?;
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(BUSY_RETRY_AFTER_SECS),
        );
    }
    Ok(res)
}

/// The page and status of a provider's failure.
fn failure_of(e: &SsoError) -> (StatusCode, &'static str) {
    let status = match e {
        SsoError::Unreachable(_) => StatusCode::SERVICE_UNAVAILABLE,
        SsoError::Garbage(_) | SsoError::Config(_) => StatusCode::BAD_GATEWAY,
        SsoError::Refused(_) => StatusCode::FORBIDDEN,
    };
    (status, e.french())
}

async fn refuse_sso(
    state: &AppState,
    meta: &RequestMeta,
    (via, what): (Via, Refused<'_>),
    e: &SsoError,
) -> Result<HttpResponse, AppError> {
    tracing::warn!(via = via.as_str(), error = %e, "SSO refused");
    refuse(state, meta, (via, what), failure_of(e), &e.to_string()).await
}

/// The flow cookie goes, whatever the outcome.
fn spend_flow(res: &mut HttpResponse) -> Result<(), AppError> {
    res.add_cookie(&flow::spent())
        .map_err(|e| AppError::Internal(e.to_string()))
}

/// What a refusal during `flow` refused: a sign-in, or its agent's re-authentication.
fn refused_of(flow: &Flow) -> Refused<'_> {
    flow.reauth
        .as_ref()
        .map_or(Refused::SignIn, |(_, uid)| Refused::Reauth(uid))
}

/// A page that sends the browser on to `to` from this site: the session cookie is
/// `SameSite=Strict`, and a redirect chain that started at the provider would not carry it.
fn forward(to: paths::Url) -> HttpResponse {
    html(StatusCode::OK, forward_page(&to))
}

pub async fn cas_start(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let cas = state.sso.cas.as_ref().ok_or(AppError::NotFound)?;
    let flow = Flow::new(Via::Cas, new_state()?, state.clock.now()).replacing(&req);
    to_provider(
        cas.login_url(&cas.service(&flow.state), false),
        &flow,
        &state,
    )
}

pub async fn oidc_start(
    state: web::Data<AppState>,
    req: HttpRequest,
    meta: RequestMeta,
) -> Result<HttpResponse, AppError> {
    let oidc = state.sso.oidc.as_ref().ok_or(AppError::NotFound)?;
    let start = match oidc.start(false).await {
        Ok(start) => start,
        Err(e) => return refuse_sso(&state, &meta, (Via::Oidc, Refused::SignIn), &e).await,
    };
    let mut flow = Flow::new(Via::Oidc, start.state, state.clock.now()).replacing(&req);
    flow.nonce = start.nonce;
    flow.verifier = start.verifier;
    to_provider(start.url, &flow, &state)
}

/// The flow this browser started with `via`, if the returned `given` state is its own and
/// recent; else the refusal page (audited).
async fn returned_flow(
    state: &AppState,
    req: &HttpRequest,
    meta: &RequestMeta,
    via: Via,
    given: &str,
) -> Result<Result<Flow, HttpResponse>, AppError> {
    match Flow::of(req, &state.key, via, given, state.clock.now()) {
        Some(flow) => Ok(Ok(flow)),
        None => {
            let bad_flow = (StatusCode::BAD_REQUEST, FLOW_REFUSED);
            let what = (via, Refused::SignIn);
            let page = refuse(state, meta, what, bad_flow, "state missing or wrong").await?;
            Ok(Err(page))
        }
    }
}

pub async fn cas_return(
    state: web::Data<AppState>,
    req: HttpRequest,
    meta: RequestMeta,
) -> Result<HttpResponse, AppError> {
    let cas = state.sso.cas.as_ref().ok_or(AppError::NotFound)?;
    let Some(mut params) = Params::of(req.query_string().as_bytes()) else {
        let page = (StatusCode::BAD_REQUEST, FLOW_REFUSED);
        return refuse(&state, &meta, (Via::Cas, Refused::SignIn), page, REPEATED).await;
    };
    let (etat, ticket) = (params.take("etat"), params.take("ticket"));
    let flow = match returned_flow(&state, &req, &meta, Via::Cas, &etat).await? {
        Ok(flow) => flow,
        Err(refusal) => return Ok(refusal),
    };
    if ticket.is_empty() {
        let bad_flow = (StatusCode::BAD_REQUEST, FLOW_REFUSED);
        return refuse(
            &state,
            &meta,
            (Via::Cas, refused_of(&flow)),
            bad_flow,
            "no ticket",
        )
        .await;
    }
    let renew = flow.reauth.is_some();
    let service = cas.service(&flow.state);
    match cas.validate(&ticket, &service, renew).await {
        Err(e) => refuse_sso(&state, &meta, (Via::Cas, refused_of(&flow)), &e).await,
        // `renew=true` validated: the server vouches for a sign-in made just now.
        Ok(id) => match flow.reauth {
            Some(of) => {
                let r = Reauth {
                    via: Via::Cas,
                    state: &flow.state,
                    uid: &id.uid,
                    sid: None,
                    sub: None,
                    proof: ReauthProof::Fresh,
                };
                reauthenticated(&state, &meta, of, &r).await
            }
            None => {
                let origin = Origin {
                    via: Via::Cas,
                    provider_session: None,
                    provider_subject: None,
                };
                arrive(&state, &meta, (&id.uid, origin), &flow).await
            }
        },
    }
}

pub async fn oidc_return(
    state: web::Data<AppState>,
    req: HttpRequest,
    meta: RequestMeta,
) -> Result<HttpResponse, AppError> {
    let oidc = state.sso.oidc.as_ref().ok_or(AppError::NotFound)?;
    let Some(mut params) = Params::of(req.query_string().as_bytes()) else {
        let page = (StatusCode::BAD_REQUEST, FLOW_REFUSED);
        return refuse(&state, &meta, (Via::Oidc, Refused::SignIn), page, REPEATED).await;
    };
    let error = params.has("error").then(|| params.take("error"));
    let (given_state, code) = (params.take("state"), params.take("code"));
    let now = state.clock.now();
    let bad_flow = (StatusCode::BAD_REQUEST, FLOW_REFUSED);
    let flow = match returned_flow(&state, &req, &meta, Via::Oidc, &given_state).await? {
        Ok(flow) => flow,
        Err(refusal) => return Ok(refusal),
    };
    if let Some(error) = &error {
        let details = format!(
            "the provider answered {}",
            error.chars().take(60).collect::<String>()
        );
        let page = (
            StatusCode::FORBIDDEN,
            "L'ENT n'a pas accepté la connexion. Reprenez la connexion depuis le début.",
        );
        return refuse(
            &state,
            &meta,
            (Via::Oidc, refused_of(&flow)),
            page,
            &details,
        )
        .await;
    }
    if code.is_empty() {
        let what = (Via::Oidc, refused_of(&flow));
        return refuse(&state, &meta, what, bad_flow, "no code").await;
    }
    let id = match oidc.finish(&code, &flow.nonce, &flow.verifier, now).await {
        Ok(id) => id,
        Err(e) => return refuse_sso(&state, &meta, (Via::Oidc, refused_of(&flow)), &e).await,
    };
    let asked_at = flow.started_at();
    match flow.reauth {
        Some(of) => {
            let r = Reauth {
                via: Via::Oidc,
                state: &flow.state,
                uid: &id.uid,
                sid: id.sid.as_deref(),
                sub: Some(&id.subject),
                proof: ReauthProof::of_auth_time(id.auth_time, asked_at),
            };
            reauthenticated(&state, &meta, of, &r).await
        }
        None => {
            let origin = Origin {
                via: Via::Oidc,
                provider_session: id.sid,
                provider_subject: Some(id.subject),
            };
            arrive(&state, &meta, (&id.uid, origin), &flow).await
        }
    }
}

/// The person the provider named signs in, if the staff directory knows him.
async fn arrive(
    state: &AppState,
    meta: &RequestMeta,
    (uid, origin): (&str, Origin),
    flow: &Flow,
) -> Result<HttpResponse, AppError> {
    let previous = flow.previous.as_deref();
    let via = origin.via;
    let stamp = meta.stamp_of();
    match sso_usecase::arrive(&auth_of(state), &stamp, (uid, origin), previous).await? {
        Arrival::SignedIn { token } => {
            let next = flow.next.as_deref().and_then(paths::local_return);
            let mut res = forward(next.unwrap_or_else(paths::home));
            for cookie in [
                session_cookie(&token),
                removal_cookie(SIGNIN_COOKIE),
                flow::spent(),
            ] {
                res.add_cookie(&cookie)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
            }
            Ok(res)
        }
        Arrival::UnknownUser => {
            let mut res = html(StatusCode::FORBIDDEN, super::views::sso::unknown_page(uid));
            spend_flow(&mut res)?;
            Ok(res)
        }
        Arrival::DirectoryDown => {
            let page = (StatusCode::SERVICE_UNAVAILABLE, DIRECTORY_DOWN);
            let what = (via, Refused::SignIn);
            refuse(state, meta, what, page, "directory unavailable").await
        }
    }
}

/// The provider vouched again for the person of session `of` (id, uid): on to the
/// enrolment, which no longer asks for a password; or the refusal (audited by the use case).
async fn reauthenticated(
    state: &AppState,
    meta: &RequestMeta,
    (session_id, expected): (i64, String),
    r: &Reauth<'_>,
) -> Result<HttpResponse, AppError> {
    let ctx =
        Context::new(Actor::Agent(expected.clone()), state.clock.now()).stamped(meta.stamp_of());
    let key = state.key.clone();
    let (via, uid, proof) = (r.via, r.uid.to_owned(), r.proof);
    let (sid, sub) = (r.sid.map(str::to_owned), r.sub.map(str::to_owned));
    let flow_state = r.state.to_owned();
    let done = state
        .db
        .run(move |conn| {
            let r = Reauth {
                via,
                state: &flow_state,
                uid: &uid,
                sid: sid.as_deref(),
                sub: sub.as_deref(),
                proof,
            };
            sso_usecase::reauthenticated(conn, &key, &ctx, (session_id, &expected), &r)
        })
        .await;
    let mut res = match done {
        Ok(()) => forward(paths::otp_enrolment()),
        Err(f) if f.class == FailureClass::Forbidden => {
            html(StatusCode::FORBIDDEN, refusal_page(&f.message))
        }
        Err(f) => return Err(f.into()),
    };
    spend_flow(&mut res)?;
    Ok(res)
}
