//! TOTP: the check (`POST /otp`) that opens the parents' gate, and the enrolment.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use maud::Markup;
use secrecy::SecretString;
use serde::Deserialize;

use super::BASE;
use super::chrome::chrome;
use super::errors::{AppError, retry_after_secs, throttled_message};
use super::guard::{Attempt, State, record_refusal, require_csrf};
use super::request::RequestMeta;
use super::session_guard::{SignedIn, session_cookie};
use super::views::otp::{enrol_password_page, enrol_qr_page, otp_page};
use crate::audit::{self, Outcome};
use crate::auth::session;
use crate::auth::throttle::{self, PasswordCheck};
use crate::auth::totp::{self, TotpSecret};
use crate::domain::AgentUid;
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf_token: String,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default = "empty")]
    mot_de_passe: SecretString,
    #[serde(default)]
    csrf_token: String,
}

fn empty() -> SecretString {
    SecretString::from(String::new())
}

fn html(status: StatusCode, body: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body.into_string())
}

async fn enrolment(state: &State, uid: &str) -> Result<Option<totp::Enrolment>, AppError> {
    let uid = uid.to_owned();
    state
        .db
        .run(move |conn| Ok::<_, AppError>(totp::load(conn, &uid)?))
        .await
}

pub async fn otp_form(state: State, signed_in: SignedIn) -> Result<Markup, AppError> {
    let e = enrolment(&state, &signed_in.0.agent.uid).await?;
    Ok(otp_page(
        &chrome(&signed_in),
        e.is_some_and(|e| e.confirmed),
        None,
        None,
    ))
}

/// Checks a code; on success marks the session and gives it a new id (a privilege change).
pub async fn check_code(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let attempt = Attempt::new("totp.check").on("agent", &signed_in.0.agent.uid);
    require_csrf(&state, &signed_in, &meta, &form.csrf_token, None, &attempt).await?;
    let uid = signed_in.0.agent.uid.clone();
    let now = state.clock.now();
    let Some(e) = enrolment(&state, &uid).await?.filter(|e| e.confirmed) else {
        record_refusal(
            &state,
            attempt
                .event(&signed_in, &meta, None, Outcome::Refused)
                .details("not enrolled"),
        )
        .await?;
        return Ok(html(
            StatusCode::BAD_REQUEST,
            otp_page(
                &chrome(&signed_in),
                false,
                Some("Aucune application d'authentification n'est enregistrée."),
                None,
            ),
        ));
    };
    if e.is_locked(now) {
        record_refusal(
            &state,
            attempt
                .event(&signed_in, &meta, None, Outcome::Refused)
                .details("locked"),
        )
        .await?;
        return Err(AppError::TooManyAttempts(
            "Trop de codes incorrects : la vérification est bloquée pendant 15 minutes.".into(),
        ));
    }
    let secret = TotpSecret::open(&state.key, &uid, &e.sealed_secret)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let step = secret
        .matching_step(&uid, &state.settings.totp.issuer, &form.code, now)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let key = state.key.clone();
    let session_id = signed_in.0.id;
    let success = attempt.event(&signed_in, &meta, None, Outcome::Success);
    let failure = attempt.event(&signed_in, &meta, None, Outcome::Refused);
    let outcome = state
        .db
        .run(move |conn| {
            audit::audited(
                conn,
                &key,
                now,
                |tx| -> Result<Result<String, &'static str>, AppError> {
                    let accepted = match step {
                        Some(s) => totp::accept_step(tx.conn(), &uid, s, false, now)?,
                        None => false,
                    };
                    if !accepted {
                        let reason = if step.is_some() {
                            "code already used"
                        } else {
                            "wrong code"
                        };
                        totp::record_failure(tx.conn(), &uid, now)?;
                        tx.append(&failure.clone().details(reason))?;
                        return Ok(Err(reason));
                    }
                    session::mark_totp(tx.conn(), session_id, now)?;
                    let token = session::rotate(tx.conn(), session_id)
                        .map_err(|e| AppError::Internal(e.to_string()))?;
                    tx.append(&success)?;
                    Ok(Ok(token))
                },
            )
        })
        .await?;
    match outcome {
        Ok(token) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("{BASE}/?totp=ok")))
            .cookie(session_cookie(&token))
            .finish()),
        Err(reason) => {
            let message = if reason == "code already used" {
                "Ce code a déjà été utilisé : attendez le code suivant de votre application."
            } else {
                "Code incorrect. Vérifiez l'heure de votre téléphone et réessayez."
            };
            Ok(html(
                StatusCode::BAD_REQUEST,
                otp_page(&chrome(&signed_in), true, Some(message), None),
            ))
        }
    }
}

pub async fn enrol_form(state: State, signed_in: SignedIn) -> Result<Markup, AppError> {
    let e = enrolment(&state, &signed_in.0.agent.uid).await?;
    Ok(enrol_password_page(
        &chrome(&signed_in),
        e.is_some_and(|e| e.confirmed),
        None,
    ))
}

/// Password again, then a new secret and its QR code.
pub async fn start_enrolment(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let attempt = Attempt::new("totp.enrol").on("agent", &signed_in.0.agent.uid);
    require_csrf(&state, &signed_in, &meta, &form.csrf_token, None, &attempt).await?;
    let uid = signed_in.0.agent.uid.clone();
    if enrolment(&state, &uid).await?.is_some_and(|e| e.confirmed) {
        record_refusal(
            &state,
            attempt
                .event(&signed_in, &meta, None, Outcome::Refused)
                .details("already enrolled"),
        )
        .await?;
        return Ok(html(
            StatusCode::CONFLICT,
            enrol_password_page(&chrome(&signed_in), true, None),
        ));
    }
    // The same throttle as the sign-in: counted before the hash, per (account, address).
    let check = throttle::check_password(
        &state.db,
        state.directory.clone(),
        state.clock.now(),
        AgentUid::parse(&uid),
        &meta.throttle_addr(),
        form.into_inner().mot_de_passe,
    )
    .await?;
    let refused = |details: &'static str| {
        attempt
            .event(&signed_in, &meta, None, Outcome::Refused)
            .details(details)
    };
    match check {
        PasswordCheck::Accepted(_) => {}
        PasswordCheck::Throttled { retry_after } => {
            record_refusal(&state, refused("throttled")).await?;
            return Err(AppError::Throttled {
                message: throttled_message(retry_after),
                retry_after_secs: retry_after_secs(retry_after),
            });
        }
        PasswordCheck::Busy => return Err(AppError::Busy),
        PasswordCheck::Unavailable(e) => return Err(AppError::DirectoryUnavailable(e)),
        PasswordCheck::Refused(_) => {
            record_refusal(&state, refused("wrong password")).await?;
            return Ok(html(
                StatusCode::UNAUTHORIZED,
                enrol_password_page(&chrome(&signed_in), false, Some("Mot de passe incorrect.")),
            ));
        }
    }
    let secret = TotpSecret::generate().map_err(|e| AppError::Internal(e.to_string()))?;
    let sealed = secret
        .seal(&state.key, &uid)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let now = state.clock.now();
    let key = state.key.clone();
    let event = attempt
        .event(&signed_in, &meta, None, Outcome::Success)
        .details("enrolment started");
    let started = state
        .db
        .run(move |conn| {
            audit::audited(conn, &key, now, |tx| -> Result<bool, AppError> {
                let ok = totp::begin(tx.conn(), &uid, &sealed, now)?;
                if ok {
                    tx.append(&event)?;
                }
                Ok(ok)
            })
        })
        .await?;
    if !started {
        return Ok(html(
            StatusCode::CONFLICT,
            enrol_password_page(&chrome(&signed_in), true, None),
        ));
    }
    let issuer = &state.settings.totp.issuer;
    let qr = secret
        .qr_data_uri(&signed_in.0.agent.uid, issuer)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let key_text = group(&secret.base32());
    Ok(html(
        StatusCode::OK,
        enrol_qr_page(&chrome(&signed_in), &qr, &key_text, None),
    ))
}

fn group(s: &str) -> String {
    s.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first code confirms the enrolment (and opens the gate).
pub async fn confirm_enrolment(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let attempt = Attempt::new("totp.enrol").on("agent", &signed_in.0.agent.uid);
    require_csrf(&state, &signed_in, &meta, &form.csrf_token, None, &attempt).await?;
    let uid = signed_in.0.agent.uid.clone();
    let Some(e) = enrolment(&state, &uid).await?.filter(|e| !e.confirmed) else {
        record_refusal(
            &state,
            attempt
                .event(&signed_in, &meta, None, Outcome::Refused)
                .details("nothing to confirm"),
        )
        .await?;
        return Err(AppError::Conflict(
            "Aucun enregistrement en cours : recommencez depuis le début.".into(),
        ));
    };
    let now = state.clock.now();
    let secret = TotpSecret::open(&state.key, &uid, &e.sealed_secret)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let issuer = state.settings.totp.issuer.clone();
    let step = secret
        .matching_step(&uid, &issuer, &form.code, now)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let key = state.key.clone();
    let session_id = signed_in.0.id;
    let success = attempt
        .event(&signed_in, &meta, None, Outcome::Success)
        .details("enrolled");
    let failure = attempt
        .event(&signed_in, &meta, None, Outcome::Refused)
        .details("wrong first code");
    let uid2 = uid.clone();
    let token = state
        .db
        .run(move |conn| {
            audit::audited(conn, &key, now, |tx| -> Result<Option<String>, AppError> {
                let ok = match step {
                    Some(s) => totp::accept_step(tx.conn(), &uid2, s, true, now)?,
                    None => false,
                };
                if !ok {
                    tx.append(&failure)?;
                    return Ok(None);
                }
                session::mark_totp(tx.conn(), session_id, now)?;
                let token = session::rotate(tx.conn(), session_id)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                tx.append(&success)?;
                Ok(Some(token))
            })
        })
        .await?;
    match token {
        Some(token) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("{BASE}/?totp=enrole")))
            .cookie(session_cookie(&token))
            .finish()),
        None => {
            let qr = secret
                .qr_data_uri(&uid, &issuer)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            Ok(html(
                StatusCode::BAD_REQUEST,
                enrol_qr_page(
                    &chrome(&signed_in),
                    &qr,
                    &group(&secret.base32()),
                    Some("Code incorrect : saisissez le code affiché en ce moment."),
                ),
            ))
        }
    }
}
