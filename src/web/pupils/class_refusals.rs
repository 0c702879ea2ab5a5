//! The class form shown again after the use case refused it: its French message, 400 for
//! bad input, 409 (with a link to the batch when the agent may open it) when accounts are in
//! an unfinished batch.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};

use super::super::chrome::{chrome, establishment_name};
use super::super::errors::AppError;
use super::super::guard::State;
use super::super::session_guard::SignedIn;
use super::super::views::batch::{ClassFormView, class_form_page};
use crate::auth::random_token;
use crate::delegation::policy::Permit;
use crate::usecases::FailureClass;
use crate::usecases::batches::{self, ClassChoice, Refused};

/// A fresh idempotency key for the class form.
pub(super) fn new_key() -> Result<String, AppError> {
    random_token(24).map_err(|_| AppError::Internal("random generator failed".into()))
}

/// The form as `choice` had it, with the refusal's message; any other failure is the error
/// page.
pub(super) async fn form_again(
    state: &State,
    signed_in: &SignedIn,
    permit: Permit,
    choice: &ClassChoice,
    refused: Refused,
) -> Result<HttpResponse, AppError> {
    let status = match refused.failure.class {
        FailureClass::BadInput => StatusCode::BAD_REQUEST,
        FailureClass::Conflict => StatusCode::CONFLICT,
        _ => return Err(refused.failure.into()),
    };
    let uai = permit.uai().clone();
    let divisions = state
        .db
        .run(move |conn| batches::divisions(conn, &permit))
        .await?;
    let body = class_form_page(&ClassFormView {
        kind: choice.kind,
        chrome: &chrome(signed_in),
        uai: uai.as_str(),
        establishment: &establishment_name(state, &uai).await?,
        divisions: &divisions,
        division: &choice.division,
        states: &choice.states,
        renotify: choice.renotify,
        key: &new_key()?,
        error: Some(&refused.failure.message),
        running: refused.running,
    });
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body.into_string()))
}
