//! `/premiere-connexion`: the first sign-in of pupils and parents on the embedded store, a
//! public route that exists only where `[activation] enabled` (else a 404). No session: the
//! forms carry a signed double-submit token (`double_submit::FIRST_SIGNIN`), the first step's
//! proof travels to the second in a step token (a hidden field, never the URL), and the
//! rules live in `usecases::first_signin`. Every answer is `no-store`; no redirect.

use actix_web::cookie::Cookie;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::Markup;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::double_submit::FIRST_SIGNIN;
use super::errors::{AppError, retry_after_secs};
use super::forms::empty_secret;
use super::paths;
use super::request::RequestMeta;
use super::session_guard::removal_cookie;
use super::state::AppState;
use super::views::first_signin::{
    ChoiceView, FieldError, ProofView, choice_page, done_page, proof_page,
};
use crate::accounts::password_rules::PasswordRule;
use crate::domain::{Identifiant, parse_birth_date};
use crate::usecases::first_signin::{
    self, Choice, ChoiceOutcome, Proof, ProofOutcome, Refusal, Services,
};

/// The longest identifiant shown back in the form.
const SHOWN_MAX: usize = 64;

#[derive(Deserialize)]
pub struct ProofForm {
    #[serde(default)]
    identifiant: String,
    #[serde(default = "empty_secret")]
    mot_de_passe: SecretString,
    #[serde(default)]
    date_naissance: String,
    #[serde(default)]
    csrf_token: String,
}

#[derive(Deserialize)]
pub struct ChoiceForm {
    #[serde(default)]
    jeton: String,
    #[serde(default = "empty_secret")]
    nouveau_mot_de_passe: SecretString,
    #[serde(default = "empty_secret")]
    confirmation: SecretString,
    #[serde(default)]
    csrf_token: String,
}

/// The page exists only where the first sign-in is on.
fn enabled(state: &AppState) -> Result<(), AppError> {
    if state.settings.activation_enabled() {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

fn services(state: &AppState) -> Services<'_> {
    Services {
        db: &state.db,
        key: &state.key,
        clock: &state.clock,
        rules: &state.portal.rules,
    }
}

/// A page, never cached, with the double-submit cookie when it is new.
fn respond(status: StatusCode, body: Markup, cookie: Option<Cookie<'static>>) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    res.content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(cookie) = cookie {
        res.cookie(cookie);
    }
    res.body(body.into_string())
}

/// The status of a refusal.
fn status_of(refusal: &Refusal) -> StatusCode {
    match refusal {
        Refusal::Csrf | Refusal::StepExpired => StatusCode::FORBIDDEN,
        Refusal::Mismatch => StatusCode::UNAUTHORIZED,
        Refusal::Expired => StatusCode::GONE,
        Refusal::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
        Refusal::Blank
        | Refusal::BadDate
        | Refusal::BlankNew
        | Refusal::Differ
        | Refusal::Rules(_)
        | Refusal::SameAsProvisional => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The refusal's messages, each with the field it is about (none for the generic one).
fn field_errors(refusal: &Refusal, blank_field: &'static str) -> Vec<FieldError> {
    let field = match refusal {
        Refusal::Blank => Some(blank_field),
        Refusal::BadDate => Some("date_naissance"),
        Refusal::BlankNew | Refusal::Rules(_) | Refusal::SameAsProvisional => {
            Some("nouveau_mot_de_passe")
        }
        Refusal::Differ => Some("confirmation"),
        _ => None,
    };
    refusal.messages().into_iter().map(|m| (field, m)).collect()
}

/// A request of the first sign-in: the state, the request (its cookies) and its meta.
pub type Asked = (web::Data<AppState>, HttpRequest, RequestMeta);

/// The first step's form with `status` and its messages (and `Retry-After` when throttled).
fn proof_answer(
    (state, req): (&AppState, &HttpRequest),
    (identifiant, birth_date): (&str, &str),
    refusal: Option<(&Refusal, &'static str)>,
) -> Result<HttpResponse, AppError> {
    let (csrf_token, cookie) = FIRST_SIGNIN.prepare(req, &state.key)?;
    let shown: String = identifiant.trim().chars().take(SHOWN_MAX).collect();
    let day = parse_birth_date(birth_date).map(|d| d.format("%Y-%m-%d").to_string());
    let body = proof_page(&ProofView {
        csrf_token: &csrf_token,
        identifiant: &shown,
        birth_date: day.unwrap_or_default(),
        errors: refusal.map_or_else(Vec::new, |(r, blank)| field_errors(r, blank)),
    });
    let status = refusal.map_or(StatusCode::OK, |(r, _)| status_of(r));
    let mut res = respond(status, body, cookie);
    if let Some((Refusal::Throttled(wait), _)) = refusal {
        res.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(retry_after_secs(*wait)),
        );
    }
    Ok(res)
}

/// The second step's form: for `identifiant` under `rule`, with the step `token`.
fn choice_answer(
    (state, req): (&AppState, &HttpRequest),
    (token, identifiant, rule): (&str, &Identifiant, &PasswordRule),
    refusal: Option<&Refusal>,
) -> Result<HttpResponse, AppError> {
    let (csrf_token, cookie) = FIRST_SIGNIN.prepare(req, &state.key)?;
    let body = choice_page(&ChoiceView {
        csrf_token: &csrf_token,
        token,
        identifiant: identifiant.as_str(),
        rule: rule.describe(),
        errors: refusal.map_or_else(Vec::new, |r| field_errors(r, "nouveau_mot_de_passe")),
    });
    Ok(respond(
        refusal.map_or(StatusCode::OK, status_of),
        body,
        cookie,
    ))
}

/// `GET /premiere-connexion`
pub async fn proof_form((state, req, _): Asked) -> Result<HttpResponse, AppError> {
    enabled(&state)?;
    proof_answer((&state, &req), ("", ""), None)
}

/// The first blank field of the first step, for the message's link.
fn first_blank(form: &ProofForm) -> &'static str {
    if form.identifiant.trim().is_empty() {
        "identifiant"
    } else if form.mot_de_passe.expose_secret().trim().is_empty() {
        "mot_de_passe"
    } else {
        "date_naissance"
    }
}

/// `POST /premiere-connexion`: the letter's proof; the second step's form when it holds.
/// `GET /premiere-connexion/mot-de-passe` (a reload or a bookmark of the second step, whose
/// proof travels only in its form): back to the first step, not to the staff's sign-in.
pub async fn start_again(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    if !state.settings.activation_enabled() {
        return Err(AppError::NotFound);
    }
    Ok(super::calls::see_other(paths::first_signin().to_string()))
}

pub async fn prove(
    ((state, req, meta), form): (Asked, web::Form<ProofForm>),
) -> Result<HttpResponse, AppError> {
    enabled(&state)?;
    let form = form.into_inner();
    let blank = first_blank(&form);
    let typed = (form.identifiant.clone(), form.date_naissance.clone());
    let proof = Proof {
        csrf_valid: FIRST_SIGNIN.valid(&req, &state.key, &form.csrf_token),
        identifiant: form.identifiant,
        password: form.mot_de_passe,
        birth_date: form.date_naissance,
        addr: meta.throttle_addr(),
    };
    let here = (state.get_ref(), &req);
    match first_signin::prove(&services(&state), &meta.stamp_of(), proof).await? {
        ProofOutcome::Proven(p) => choice_answer(here, (&p.token, &p.identifiant, &p.rule), None),
        ProofOutcome::Refused(r) => proof_answer(here, (&typed.0, &typed.1), Some((&r, blank))),
    }
}

/// `POST /premiere-connexion/mot-de-passe`: the new password; the confirmation when done.
pub async fn choose(
    ((state, req, meta), form): (Asked, web::Form<ChoiceForm>),
) -> Result<HttpResponse, AppError> {
    enabled(&state)?;
    let form = form.into_inner();
    let token = form.jeton.clone();
    let choice = Choice {
        csrf_valid: FIRST_SIGNIN.valid(&req, &state.key, &form.csrf_token),
        token: form.jeton,
        password: form.nouveau_mot_de_passe,
        confirmation: form.confirmation,
    };
    let here = (state.get_ref(), &req);
    match first_signin::choose(&services(&state), &meta.stamp_of(), choice).await? {
        ChoiceOutcome::Activated(identifiant) => {
            let mut res = respond(StatusCode::OK, done_page(identifiant.as_str()), None);
            res.add_cookie(&removal_cookie(FIRST_SIGNIN.cookie))
                .map_err(|e| AppError::Internal(e.to_string()))?;
            Ok(res)
        }
        ChoiceOutcome::Refused {
            refusal,
            again: Some((identifiant, rule)),
        } => choice_answer(here, (&token, &identifiant, &rule), Some(&refusal)),
        ChoiceOutcome::Refused { refusal, .. } => {
            proof_answer(here, ("", ""), Some((&refusal, "identifiant")))
        }
    }
}
