//! TOTP: the check (`POST /otp`) that opens the parents' gate, and the enrolment.

use crate::web::paths;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use maud::Markup;
use secrecy::SecretString;
use serde::Deserialize;

use super::calls::html;
use super::chrome::chrome;
use super::errors::AppError;
use super::forms::empty_secret;
use super::guard::{Attempt, State, require_csrf};
use super::request::{Asker, RequestMeta};
use super::session_guard::{SignedIn, session_cookie};
use super::signin::auth_of;
use super::views::otp::{EnrolProof, enrol_password_page, enrol_qr_page, otp_page};
use crate::audit::AuditAction;
use crate::auth::session::Via;
use crate::auth::totp::TotpSecret;
use crate::db::DbConnection;
use crate::secrets::AppKey;
use crate::usecases::totp::{self, Code, CodeCheck, Confirmation, EnrolStart, Proof};
use crate::usecases::{Context, Failure};
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf_token: String,
    /// The page asked for, to go back to once the gate is open.
    #[serde(default)]
    suite: String,
}

#[derive(Debug, Deserialize)]
pub struct OtpQuery {
    suite: Option<String>,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default = "empty_secret")]
    mot_de_passe: SecretString,
    #[serde(default)]
    csrf_token: String,
}

async fn enrolled(state: &State, signed_in: &SignedIn) -> Result<bool, AppError> {
    let uid = signed_in.0.agent.uid.clone();
    Ok(state
        .db
        .run(move |conn| totp::is_enrolled(conn, &uid))
        .await?)
}

/// The session's CSRF token, then the audit context of a TOTP step.
async fn checked(
    state: &State,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    csrf_token: &str,
    action: AuditAction,
) -> Result<Context, AppError> {
    let attempt = Attempt::new(action).on("agent", &signed_in.0.agent.uid);
    require_csrf(state, signed_in, meta, csrf_token, None, &attempt).await?;
    Ok(meta.context_of(signed_in, state.clock.now()))
}

/// Home, with what was done (`totp=ok`, `totp=enrole`).
fn to_home(done: &str, token: &str) -> HttpResponse {
    see_other_with(&paths::home().with("totp", done), token)
}

/// A 303 to `to` with the session's new cookie.
fn see_other_with(to: &paths::Url, token: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .cookie(session_cookie(token))
        .finish()
}

pub async fn otp_form(
    state: State,
    signed_in: SignedIn,
    query: web::Query<OtpQuery>,
) -> Result<Markup, AppError> {
    let enrolled = enrolled(&state, &signed_in).await?;
    let suite = query.suite.as_deref().and_then(paths::local_return);
    Ok(otp_page(
        &chrome(&signed_in),
        (enrolled, suite.as_ref()),
        None,
        None,
    ))
}

/// Reads the code form, then runs `step` (the gate check or the enrolment's confirmation).
async fn submit_code<T: Send + 'static>(
    state: &State,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    form: CodeForm,
    action: AuditAction,
    step: fn(&mut DbConnection, &AppKey, &Context, &Code<'_>) -> Result<T, Failure>,
) -> Result<T, AppError> {
    let ctx = checked(state, signed_in, meta, &form.csrf_token, action).await?;
    let (key, issuer) = (state.key.clone(), state.settings.totp.issuer.clone());
    let session = signed_in.0.clone();
    Ok(state
        .db
        .run(move |conn| {
            let code = Code {
                session: &session,
                issuer: &issuer,
                code: &form.code,
            };
            step(conn, &key, &ctx, &code)
        })
        .await?)
}

/// Checks a code; on success marks the session and gives it a new id (a privilege change).
pub async fn check_code(who: Asker, form: web::Form<CodeForm>) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let form = form.into_inner();
    let suite = paths::local_return(&form.suite);
    let outcome = submit_code(
        &state,
        &signed_in,
        &meta,
        form,
        AuditAction::TotpCheck,
        totp::check_code,
    )
    .await?;
    let (enrolled, message) = match outcome {
        CodeCheck::Passed { token } => {
            return Ok(match &suite {
                Some(to) => see_other_with(to, &token),
                None => to_home("ok", &token),
            });
        }
        CodeCheck::NotEnrolled => (
            false,
            "Aucune application d'authentification n'est enregistrée.",
        ),
        CodeCheck::AlreadyUsed => (
            true,
            "Ce code a déjà été utilisé : attendez le code suivant de votre application.",
        ),
        CodeCheck::WrongCode => (
            true,
            "Code incorrect. Vérifiez l'heure de votre téléphone et réessayez.",
        ),
    };
    let page = otp_page(
        &chrome(&signed_in),
        (enrolled, suite.as_ref()),
        Some(message),
        None,
    );
    Ok(html(StatusCode::BAD_REQUEST, page))
}

/// What this session proves itself with before enrolling.
fn proof_of(state: &State, signed_in: &SignedIn) -> EnrolProof {
    let session = &signed_in.0;
    if session.origin.via == Via::Password {
        return EnrolProof::Password;
    }
    let done = crate::usecases::sso::reauth_is_recent(session, state.clock.now());
    EnrolProof::Provider { done }
}

pub async fn enrol_form(state: State, signed_in: SignedIn) -> Result<Markup, AppError> {
    let enrolled = enrolled(&state, &signed_in).await?;
    let proof = proof_of(&state, &signed_in);
    Ok(enrol_password_page(
        &chrome(&signed_in),
        enrolled,
        proof,
        None,
    ))
}

/// The QR code page of `secret`, with `error` when the first code was wrong.
fn qr_page(
    state: &State,
    signed_in: &SignedIn,
    secret: &TotpSecret,
    status: StatusCode,
    error: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let qr = secret
        .qr_data_uri(&signed_in.0.agent.uid, &state.settings.totp.issuer)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let page = enrol_qr_page(&chrome(signed_in), &qr, &group(&secret.base32()), error);
    Ok(html(status, page))
}

/// Password again, then a new secret and its QR code.
pub async fn start_enrolment(
    (who, form): (Asker, web::Form<PasswordForm>),
) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let ctx = checked(
        &state,
        &signed_in,
        &meta,
        &form.csrf_token,
        AuditAction::TotpEnrol,
    )
    .await?;
    let kind = proof_of(&state, &signed_in);
    let proof = match kind {
        EnrolProof::Password => Proof::Password(form.into_inner().mot_de_passe),
        EnrolProof::Provider { .. } => Proof::Provider,
    };
    let addr = meta.throttle_addr();
    let auth = auth_of(&state);
    let page = |enrolled, error| enrol_password_page(&chrome(&signed_in), enrolled, kind, error);
    match totp::start_enrolment(&auth, &ctx, &signed_in.0, &addr, proof).await? {
        EnrolStart::Started(secret) => qr_page(&state, &signed_in, &secret, StatusCode::OK, None),
        EnrolStart::AlreadyEnrolled => Ok(html(StatusCode::CONFLICT, page(true, None))),
        EnrolStart::WrongPassword => Ok(html(
            StatusCode::UNAUTHORIZED,
            page(false, Some("Mot de passe incorrect.")),
        )),
        EnrolStart::NeedsReauth => Ok(html(
            StatusCode::FORBIDDEN,
            page(
                false,
                Some(
                    "L'ENT n'a pas confirmé votre identité à l'instant : identifiez-vous à nouveau.",
                ),
            ),
        )),
        EnrolStart::DirectoryDown(e) => Err(AppError::DirectoryUnavailable(e)),
    }
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
    (who, form): (Asker, web::Form<CodeForm>),
) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let form = form.into_inner();
    let confirm = totp::confirm_enrolment;
    match submit_code(
        &state,
        &signed_in,
        &meta,
        form,
        AuditAction::TotpEnrol,
        confirm,
    )
    .await?
    {
        Confirmation::Confirmed { token } => Ok(to_home("enrole", &token)),
        Confirmation::WrongCode(secret) => qr_page(
            &state,
            &signed_in,
            &secret,
            StatusCode::BAD_REQUEST,
            Some("Code incorrect : saisissez le code affiché en ce moment."),
        ),
    }
}
