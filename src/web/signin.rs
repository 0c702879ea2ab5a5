//! Sign-in and sign-out. Every success, failure and refusal writes an audit row; the user
//! only ever sees the generic refusal (the reason goes to the audit).

use crate::web::paths;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::Markup;
use secrecy::SecretString;
use serde::Deserialize;

use super::double_submit::SIGNIN;
use super::errors::{AppError, BUSY_RETRY_AFTER_SECS, retry_after_secs, throttled_message};
use super::forms::{CsrfForm, empty_secret};
use super::request::{Asker, RequestMeta};
use super::session_guard::{removal_cookie, session_cookie};
use super::views::signin::{SignInView, sign_in_page};
use crate::auth::session::{COOKIE_NAME, Via};
use crate::domain::AgentUid;
use crate::usecases::signin::{self, Auth, SignInInput, SignInOutcome};
use crate::web::state::AppState;

/// The anonymous sign-in form's double-submit cookie.
pub const SIGNIN_COOKIE: &str = SIGNIN.cookie;

pub const GENERIC_REFUSAL: &str = "Identifiant ou mot de passe incorrect.";
const CSRF_REFUSAL: &str = "Le formulaire a expiré ou ne provient pas de ce site. Rien n'a été fait : saisissez à nouveau vos identifiants.";
/// The directory did not answer a password check.
pub const DIRECTORY_DOWN: &str =
    "L'annuaire des personnels ne répond pas pour le moment. Réessayez dans quelques instants.";

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    session: Option<String>,
    /// After signing out of an SSO session: its connector (`cas`, `oidc`).
    ent: Option<String>,
    /// The page asked for before the sign-in.
    suite: Option<String>,
}

/// The password form is off (`[directory] password_sign_in = false`).
const PASSWORD_OFF: &str =
    "La connexion par mot de passe n'est pas ouverte ici : connectez-vous depuis l'ENT.";

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    identifiant: String,
    #[serde(default = "empty_secret")]
    mot_de_passe: SecretString,
    #[serde(default)]
    csrf_token: String,
    /// The page asked for before the sign-in.
    #[serde(default)]
    suite: String,
}

/// Renders the form with `status`, setting the double-submit cookie when it is new.
fn render_form(
    state: &AppState,
    req: &HttpRequest,
    (status, identifiant): (StatusCode, &str),
    (error, notice): (Option<&str>, Option<&str>),
    (provider_logout, suite): (Option<String>, Option<&paths::Url>),
) -> Result<HttpResponse, AppError> {
    let (token, cookie) = SIGNIN.prepare(req, &state.key)?;
    let body: Markup = sign_in_page(&SignInView {
        csrf_token: &token,
        identifiant,
        error,
        notice,
        password_form: state.settings.password_sign_in(),
        connectors: connectors_of(state),
        provider_logout,
        suite,
    });
    let mut res = HttpResponse::build(status);
    res.content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(cookie) = cookie {
        res.cookie(cookie);
    }
    Ok(res.body(body.into_string()))
}

/// The sign-in page's buttons: one per configured connector.
fn connectors_of(state: &AppState) -> Vec<(String, paths::Url)> {
    let mut out = Vec::new();
    if let Some(cas) = &state.sso.cas {
        out.push((cas.label.clone(), paths::sso_cas()));
    }
    if let Some(oidc) = &state.sso.oidc {
        out.push((oidc.label.clone(), paths::sso_oidc()));
    }
    out
}

/// The provider's logout, after signing out of a session opened through connector `ent`.
async fn provider_logout(state: &AppState, ent: Option<&str>) -> Option<String> {
    match ent? {
        "cas" => state.sso.cas.as_ref().map(|c| c.logout_url()),
        "oidc" => state.sso.oidc.as_ref()?.end_session_url().await,
        _ => None,
    }
}

pub async fn sign_in_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<SignInQuery>,
) -> Result<HttpResponse, AppError> {
    let (notice, logout) = match query.session.as_deref() {
        Some("expiree") => (Some("Votre session a expiré. Reconnectez-vous."), None),
        Some("terminee") => (
            Some("Vous êtes déconnecté."),
            provider_logout(&state, query.ent.as_deref()).await,
        ),
        _ => (None, None),
    };
    let suite = query.suite.as_deref().and_then(paths::local_return);
    let page = (StatusCode::OK, "");
    render_form(&state, &req, page, (None, notice), (logout, suite.as_ref()))
}

/// The sign-in use case's services, from the state.
pub fn auth_of(state: &AppState) -> Auth<'_> {
    Auth {
        db: &state.db,
        key: &state.key,
        directory: &state.directory,
        clock: &state.clock,
    }
}

/// The form again with `status` and the French sentence of `outcome`.
fn refused(
    state: &AppState,
    req: &HttpRequest,
    (typed, suite): (&str, &str),
    outcome: SignInOutcome,
) -> Result<HttpResponse, AppError> {
    let (status, message) = match &outcome {
        SignInOutcome::CsrfRefused => (StatusCode::FORBIDDEN, CSRF_REFUSAL.to_owned()),
        SignInOutcome::Blank => (
            StatusCode::BAD_REQUEST,
            "Saisissez votre identifiant et votre mot de passe.".to_owned(),
        ),
        SignInOutcome::Throttled { wait } => {
            (StatusCode::TOO_MANY_REQUESTS, throttled_message(*wait))
        }
        SignInOutcome::DirectoryDown => {
            (StatusCode::SERVICE_UNAVAILABLE, DIRECTORY_DOWN.to_owned())
        }
        SignInOutcome::Refused | SignInOutcome::SignedIn { .. } => {
            (StatusCode::UNAUTHORIZED, GENERIC_REFUSAL.to_owned())
        }
    };
    let suite = paths::local_return(suite);
    let page = (status, typed);
    let mut res = render_form(
        state,
        req,
        page,
        (Some(&message), None),
        (None, suite.as_ref()),
    )?;
    let retry_after = match outcome {
        SignInOutcome::Throttled { wait } => Some(retry_after_secs(wait)),
        SignInOutcome::DirectoryDown => Some(BUSY_RETRY_AFTER_SECS),
        _ => None,
    };
    if let Some(secs) = retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    }
    Ok(res)
}

/// A 303 to `location`, kept out of caches.
fn see_other(location: String) -> actix_web::HttpResponseBuilder {
    let mut res = HttpResponse::SeeOther();
    res.insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    res
}

pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    meta: RequestMeta,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, AppError> {
    if !state.settings.password_sign_in() {
        crate::usecases::signin::refuse_password_off(&auth_of(&state), &meta.stamp_of()).await?;
        let page = (Some(PASSWORD_OFF), None);
        let status = (StatusCode::FORBIDDEN, "");
        return render_form(&state, &req, status, page, (None, None));
    }
    let form = form.into_inner();
    let suite = form.suite.clone();
    let typed: String = form
        .identifiant
        .trim()
        .chars()
        .take(AgentUid::MAX_LEN + 1)
        .collect();
    let input = SignInInput {
        csrf_valid: SIGNIN.valid(&req, &state.key, &form.csrf_token),
        identifiant: form.identifiant,
        password: form.mot_de_passe,
        addr: meta.throttle_addr(),
        previous_token: req.cookie(COOKIE_NAME).map(|c| c.value().to_owned()),
    };
    match signin::sign_in(&auth_of(&state), &meta.stamp_of(), input).await? {
        SignInOutcome::SignedIn { token } => {
            let to = paths::local_return(&suite).unwrap_or_else(paths::home);
            Ok(see_other(to.to_string())
                .cookie(session_cookie(&token))
                .cookie(removal_cookie(SIGNIN_COOKIE))
                .finish())
        }
        refusal => refused(&state, &req, (&typed, &suite), refusal),
    }
}

pub async fn sign_out(who: Asker, form: web::Form<CsrfForm>) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let ctx = meta.context_of(&signed_in, state.clock.now());
    let key = state.key.clone();
    let via = signed_in.0.origin.via;
    state
        .db
        .run(move |conn| signin::sign_out(conn, &key, &ctx, &signed_in.0, &form.csrf_token))
        .await?;
    let mut to = paths::sign_in().with("session", "terminee");
    if via != Via::Password {
        to = to.with("ent", via.as_str());
    }
    Ok(see_other(to.to_string())
        .cookie(removal_cookie(COOKIE_NAME))
        .finish())
}
