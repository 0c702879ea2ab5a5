//! Sign-in and sign-out. Every success, failure and refusal writes an audit row; the user
//! only ever sees the generic refusal (the reason goes to the audit).

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Duration;
use maud::Markup;
use secrecy::SecretString;
use serde::Deserialize;

use super::BASE;
use super::errors::{AppError, retry_after_secs, throttled_message};
use super::request::RequestMeta;
use super::session_guard::{SignedIn, removal_cookie, session_cookie};
use super::views::signin::{SignInView, sign_in_page};
use crate::audit::{self, AuditEvent, Outcome};
use crate::auth::session::{self, COOKIE_NAME};
use crate::auth::throttle::{self, PasswordCheck};
use crate::auth::{csrf, random_token};
use crate::directory::is_blank;
use crate::domain::AgentUid;
use crate::web::state::AppState;

/// The anonymous sign-in form's double-submit cookie.
pub const SIGNIN_COOKIE: &str = "__Host-educt-signin";

pub const GENERIC_REFUSAL: &str = "Identifiant ou mot de passe incorrect.";

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    session: Option<String>,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    identifiant: String,
    #[serde(default = "empty_secret")]
    mot_de_passe: SecretString,
    #[serde(default)]
    csrf_token: String,
}

fn empty_secret() -> SecretString {
    SecretString::from(String::new())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
}

/// The nonce of the double-submit cookie: the visitor's, or a new one.
fn signin_nonce(req: &HttpRequest) -> Result<(String, bool), AppError> {
    match req.cookie(SIGNIN_COOKIE) {
        Some(c) if c.value().len() >= 32 && c.value().len() <= 64 => {
            Ok((c.value().to_owned(), false))
        }
        _ => random_token(32)
            .map(|n| (n, true))
            .map_err(|_| AppError::Internal("random generator failed".into())),
    }
}

/// Renders the form with `status`, setting the double-submit cookie when it is new.
fn render_form(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    identifiant: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let (nonce, fresh) = signin_nonce(req)?;
    let token = csrf::signin_token(&state.key, &nonce);
    let body: Markup = sign_in_page(&SignInView {
        csrf_token: &token,
        identifiant,
        error,
        notice,
    });
    let mut res = HttpResponse::build(status);
    res.content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if fresh {
        res.cookie(
            Cookie::build(SIGNIN_COOKIE, nonce)
                .path("/")
                .secure(true)
                .http_only(true)
                .same_site(SameSite::Strict)
                .max_age(time::Duration::hours(12))
                .finish(),
        );
    }
    Ok(res.body(body.into_string()))
}

pub async fn sign_in_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<SignInQuery>,
) -> Result<HttpResponse, AppError> {
    let notice = match query.session.as_deref() {
        Some("expiree") => Some("Votre session a expiré. Reconnectez-vous."),
        Some("terminee") => Some("Vous êtes déconnecté."),
        _ => None,
    };
    render_form(&state, &req, StatusCode::OK, "", None, notice)
}

async fn audit_attempt(state: &AppState, event: AuditEvent) -> Result<(), AppError> {
    let now = state.clock.now();
    let key = state.key.clone();
    state
        .db
        .run(move |conn| {
            audit::record(conn, &key, now, &event)
                .map(drop)
                .map_err(AppError::from)
        })
        .await
}

pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    meta: RequestMeta,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let typed = form
        .identifiant
        .trim()
        .chars()
        .take(AgentUid::MAX_LEN + 1)
        .collect::<String>();
    let uid = AgentUid::parse(&form.identifiant);
    let actor = uid
        .as_ref()
        .map_or_else(|| "anonymous".to_owned(), |u| u.as_str().to_owned());
    let event = |outcome, details: &str| {
        let mut e = AuditEvent::new(actor.clone(), "auth.sign_in", outcome).details(details);
        if let Some(u) = &uid {
            e = e.target("agent", u);
        }
        meta.stamp(e)
    };
    let addr = meta.throttle_addr();
    let nonce = req.cookie(SIGNIN_COOKIE).map(|c| c.value().to_owned());
    if !csrf::signin_token_valid(&state.key, nonce.as_deref(), &form.csrf_token) {
        audit_attempt(
            &state,
            event(Outcome::Refused, "CSRF token missing or invalid"),
        )
        .await?;
        return render_form(
            &state,
            &req,
            StatusCode::FORBIDDEN,
            &typed,
            Some(
                "Le formulaire a expiré ou ne provient pas de ce site. Rien n'a été fait : saisissez à nouveau vos identifiants.",
            ),
            None,
        );
    }
    if typed.is_empty() || is_blank(&form.mot_de_passe) {
        audit_attempt(
            &state,
            event(Outcome::Refused, "blank identifiant or password"),
        )
        .await?;
        return render_form(
            &state,
            &req,
            StatusCode::BAD_REQUEST,
            &typed,
            Some("Saisissez votre identifiant et votre mot de passe."),
            None,
        );
    }
    let check = throttle::check_password(
        &state.db,
        state.directory.clone(),
        state.clock.now(),
        uid.clone(),
        &addr,
        form.mot_de_passe,
    )
    .await?;
    let agent = match check {
        PasswordCheck::Accepted(agent) => agent,
        PasswordCheck::Refused(reason) => {
            audit_attempt(&state, event(Outcome::Refused, reason)).await?;
            return render_form(
                &state,
                &req,
                StatusCode::UNAUTHORIZED,
                &typed,
                Some(GENERIC_REFUSAL),
                None,
            );
        }
        PasswordCheck::Throttled { retry_after } => {
            audit_attempt(&state, event(Outcome::Refused, "throttled")).await?;
            let mut res = render_form(
                &state,
                &req,
                StatusCode::TOO_MANY_REQUESTS,
                &typed,
                Some(&throttled_message(retry_after)),
                None,
            )?;
            res.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(retry_after_secs(retry_after)),
            );
            return Ok(res);
        }
        PasswordCheck::Busy => {
            audit_attempt(&state, event(Outcome::Failure, "password hashing busy")).await?;
            return Err(AppError::Busy);
        }
        PasswordCheck::Unavailable(e) => {
            tracing::warn!(error = %e, "directory unavailable at sign-in");
            audit_attempt(&state, event(Outcome::Failure, "directory unavailable")).await?;
            return render_form(
                &state,
                &req,
                StatusCode::SERVICE_UNAVAILABLE,
                &typed,
                Some(
                    "L'annuaire des personnels ne répond pas pour le moment. Réessayez dans quelques instants.",
                ),
                None,
            );
        }
    };
    // Success: a brand-new session (an earlier cookie is never adopted).
    let now = state.clock.now();
    let idle = Duration::minutes(state.settings.session.idle_timeout_minutes);
    let absolute = Duration::hours(state.settings.session.absolute_timeout_hours);
    let key = state.key.clone();
    let success = event(Outcome::Success, "signed in");
    let previous = req.cookie(COOKIE_NAME).map(|c| c.value().to_owned());
    let token = state
        .db
        .run(move |conn| {
            audit::audited(conn, &key, now, |tx| -> Result<String, AppError> {
                if let Some(old) = previous
                    && let Some(s) = session::find(tx.conn(), &old)?
                {
                    session::delete(tx.conn(), s.id)?;
                }
                session::purge_expired(tx.conn(), now, idle, absolute)?;
                let (token, _) = session::create(tx.conn(), &agent, now)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                tx.append(&success)?;
                Ok(token)
            })
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("{BASE}/")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(session_cookie(&token))
        .cookie(removal_cookie(SIGNIN_COOKIE))
        .finish())
}

pub async fn sign_out(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    meta: RequestMeta,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    let session = signed_in.0;
    let now = state.clock.now();
    let key = state.key.clone();
    if !csrf::tokens_match(&session.csrf_token, &form.csrf_token) {
        let event = meta.stamp(
            AuditEvent::new(session.agent.uid.clone(), "auth.sign_out", Outcome::Refused)
                .target("agent", &session.agent.uid)
                .details("CSRF token missing or invalid"),
        );
        state
            .db
            .run(move |conn| audit::record(conn, &key, now, &event).map_err(AppError::from))
            .await?;
        return Err(AppError::Forbidden(
            "Le formulaire a expiré ou ne provient pas de ce site. Rien n'a été fait.".into(),
        ));
    }
    let event = meta.stamp(
        AuditEvent::new(session.agent.uid.clone(), "auth.sign_out", Outcome::Success)
            .target("agent", &session.agent.uid),
    );
    let id = session.id;
    state
        .db
        .run(move |conn| {
            audit::audited(conn, &key, now, |tx| -> Result<(), AppError> {
                session::delete(tx.conn(), id)?;
                tx.append(&event)?;
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("{BASE}/connexion?session=terminee"),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .cookie(removal_cookie(COOKIE_NAME))
        .finish())
}
