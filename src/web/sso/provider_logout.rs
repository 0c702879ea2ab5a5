//! What goes back and forth with the provider once signed in: the OIDC back-channel logout
//! (the provider ends our sessions of its session) and the re-authentication at the provider
//! that the TOTP enrolment asks of an SSO session instead of a password.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};

use super::flow::Flow;
use super::{Params, REPEATED, new_state, refuse, refuse_sso, to_provider};
use crate::auth::session::Via;
use crate::sso::SsoError;
use crate::usecases::sso::{self as sso_usecase, Refused};
use crate::usecases::{Actor, Context};
use crate::web::errors::AppError;
use crate::web::paths;
use crate::web::request::{Asker, RequestMeta};
use crate::web::state::AppState;

/// What the provider's server reads of a refused logout (no person reads it).
const REFUSED_LOGOUT: &str = "Demande de déconnexion refusée.";

/// `POST …/connexion/oidc/deconnexion-canal-arriere` (from the provider's server, no
/// cookie): a verified logout token ends the sessions it names (200); any other is refused
/// (400, as the spec asks), audited.
pub async fn backchannel_logout(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let oidc = state.sso.oidc.as_ref().ok_or(AppError::NotFound)?;
    let now = state.clock.now();
    let what = (Via::Oidc, Refused::Logout);
    let token = match Params::of(&body) {
        Some(mut params) => params.take("logout_token"),
        None => {
            let page = (StatusCode::BAD_REQUEST, REFUSED_LOGOUT);
            return refuse(&state, &meta, what, page, REPEATED).await;
        }
    };
    let claims = match oidc.logout(&token, now).await {
        Ok(claims) => claims,
        Err(e) => {
            tracing::warn!(error = %e, "back-channel logout refused");
            // The provider retries on a 5xx: only when we could not check its token.
            let status = match e {
                SsoError::Unreachable(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            return refuse(&state, &meta, what, (status, e.french()), &e.to_string()).await;
        }
    };
    let ctx =
        Context::new(Actor::Job(sso_usecase::BACKCHANNEL_ACTOR), now).stamped(meta.stamp_of());
    let key = state.key.clone();
    state
        .db
        .run(move |conn| {
            sso_usecase::provider_logout(
                conn,
                &key,
                &ctx,
                Via::Oidc,
                (claims.sid.as_deref(), claims.sub.as_deref()),
            )
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// `GET …/otp/enrolement/ent`: an SSO session proves itself again at its provider (CAS
/// `renew=true`, OIDC `prompt=login` with `max_age=0`) before an enrolment; a password
/// session has nothing to do there.
pub async fn reauth_at_provider(who: Asker) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let session = &signed_in.0;
    let now = state.clock.now();
    let via = session.origin.via;
    let mut flow = Flow::new(via, new_state()?, now);
    flow.reauth = Some((session.id, session.agent.uid.clone()));
    let url = match via {
        Via::Password => {
            return Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, paths::otp_enrolment().to_string()))
                .finish());
        }
        Via::Cas => {
            let cas = state.sso.cas.as_ref().ok_or(AppError::NotFound)?;
            cas.login_url(&cas.service(&flow.state), true)
        }
        Via::Oidc => {
            let oidc = state.sso.oidc.as_ref().ok_or(AppError::NotFound)?;
            let start = match oidc.start(true).await {
                Ok(start) => start,
                Err(e) => {
                    let what = (via, Refused::Reauth(&session.agent.uid));
                    return refuse_sso(&state, &meta, what, &e).await;
                }
            };
            flow.state = start.state;
            flow.nonce = start.nonce;
            flow.verifier = start.verifier;
            start.url
        }
    };
    // The session records this flow: only its return, once, can mark the session.
    let (id, flow_state) = (session.id, flow.state.clone());
    state
        .db
        .run(move |conn| sso_usecase::begin_reauth(conn, id, &flow_state))
        .await?;
    to_provider(url, &flow, &state)
}
