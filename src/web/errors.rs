//! The web layer's one error type, mapped once to French pages.

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use maud::Markup;
use tracing_actix_web::RequestId;

use super::chrome::chrome as chrome_of;
use super::session_guard::SignedIn;
use super::views::errors::{
    bad_request_page, gate_closed_page, internal_error_page, message_page, not_found_page,
    too_large_page,
};
use super::views::layout::Chrome;
use crate::accounts::reset::ResetError;
use crate::auth::password::PasswordError;
use crate::db::DbError;
use crate::usecases::{Failure, FailureClass};
pub use crate::usecases::{retry_after_secs, throttled_message};

/// What a 503 for busy hashing threads tells the client to wait (seconds).
pub const BUSY_RETRY_AFTER_SECS: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("not signed in")]
    Unauthorized,
    /// The parents' gate is closed; the page asked for, to come back to after the check.
    #[error("parents' gate closed")]
    GateClosed(Option<String>),
    #[error("too many attempts")]
    TooManyAttempts(String),
    /// A throttle bit: 429 with `Retry-After`.
    #[error("throttled for {retry_after_secs} s")]
    Throttled {
        message: String,
        retry_after_secs: u64,
    },
    /// Every password-hashing thread stayed busy for the bounded wait: 503 with `Retry-After`.
    #[error("password hashing is busy")]
    Busy,
    #[error("directory unavailable: {0}")]
    DirectoryUnavailable(String),
    /// The account store did not answer: its French sentence, 503 with `Retry-After`.
    #[error("account store unavailable")]
    AccountStoreUnavailable(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("payload too large")]
    TooLarge,
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// A page reached without naming an establishment, for an agent who has one: there (303).
    #[error("to {0}")]
    Chosen(String),
    /// ... who has several: the page (rendered) where he chooses one.
    #[error("establishment to choose")]
    Chooser(String),
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(m) => AppError::Unavailable(m),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<Failure> for AppError {
    fn from(f: Failure) -> Self {
        match f.class {
            FailureClass::BadInput => AppError::BadRequest(f.message),
            FailureClass::Hidden => AppError::NotFound,
            FailureClass::Forbidden => AppError::Forbidden(f.message),
            FailureClass::Conflict => AppError::Conflict(f.message),
            FailureClass::Throttled {
                retry_after_secs: Some(retry_after_secs),
            } => AppError::Throttled {
                message: f.message,
                retry_after_secs,
            },
            FailureClass::Throttled {
                retry_after_secs: None,
            } => AppError::TooManyAttempts(f.message),
            FailureClass::Busy => AppError::Busy,
            FailureClass::Unavailable => AppError::Unavailable(f.message),
            FailureClass::StoreUnavailable => AppError::AccountStoreUnavailable(f.message),
            FailureClass::Internal => AppError::Internal(f.message),
        }
    }
}

impl From<PasswordError> for AppError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Busy => AppError::Busy,
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<ResetError> for AppError {
    fn from(e: ResetError) -> Self {
        match e {
            ResetError::Busy => AppError::Busy,
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        AppError::Internal(e.to_string())
    }
}

fn html_response(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

impl AppError {
    /// The French page of this error, with the signed-in header (`chrome`) when there is a
    /// session (the error pages' middleware renders it again with it).
    pub fn page(&self, chrome: Option<&Chrome<'_>>) -> Markup {
        let message = |title: &str, m: &str| message_page(chrome, title, m);
        match self {
            AppError::NotFound | AppError::Chosen(_) => not_found_page(chrome),
            AppError::Chooser(page) => maud::PreEscaped(page.clone()),
            AppError::GateClosed(asked) => gate_closed_page(
                chrome,
                asked.as_deref().and_then(super::paths::local_return),
            ),
            AppError::TooManyAttempts(m) => message("Trop d'essais", m),
            AppError::Throttled { message: m, .. } => message("Trop de tentatives", m),
            AppError::Busy => message(
                "Service très sollicité",
                "Le service est très sollicité en ce moment : rien n'a été fait. Réessayez dans quelques secondes.",
            ),
            AppError::Unauthorized => message(
                "Connexion requise",
                "Connectez-vous pour accéder à cette page.",
            ),
            AppError::DirectoryUnavailable(_) => message(
                "Annuaire indisponible",
                "L'annuaire des personnels ne répond pas pour le moment. Réessayez dans quelques instants.",
            ),
            AppError::AccountStoreUnavailable(m) => message("Annuaire des comptes indisponible", m),
            AppError::Forbidden(m) => message("Accès refusé", m),
            AppError::BadRequest(m) => message("Demande incorrecte", m),
            AppError::Conflict(m) => message("Opération impossible", m),
            AppError::TooLarge => too_large_page(chrome),
            AppError::Unavailable(_) => message(
                "Service momentanément indisponible",
                "Le service ne peut pas répondre pour le moment. Réessayez dans quelques instants.",
            ),
            // The body is replaced by `render_internal_error`, which knows the request id.
            AppError::Internal(_) => internal_error_page(""),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::GateClosed(_) => StatusCode::FORBIDDEN,
            AppError::TooManyAttempts(_) | AppError::Throttled { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::DirectoryUnavailable(_) | AppError::AccountStoreUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Chosen(_) => StatusCode::SEE_OTHER,
            AppError::Chooser(_) => StatusCode::OK,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            AppError::Chosen(location) => {
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, location.as_str()))
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .finish();
            }
            AppError::Chooser(page) => return html_response(status, page.clone()),
            AppError::Busy => tracing::warn!("password hashing busy: 503"),
            AppError::DirectoryUnavailable(_) => {
                tracing::warn!(error = %self, "directory unavailable");
            }
            AppError::AccountStoreUnavailable(_) => {
                tracing::warn!("account store unavailable: 503");
            }
            AppError::Unavailable(_) => tracing::warn!(error = %self, "service unavailable"),
            AppError::Internal(_) => tracing::error!(error = %self, "internal error"),
            _ => {}
        }
        let body = self.page(None);
        let mut res = html_response(status, body.into_string());
        let retry_after = match self {
            AppError::Throttled {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            // A directory that does not answer in time, or whose every pooled connection
            // stays busy: try again shortly (rule 10's bound).
            AppError::Busy
            | AppError::DirectoryUnavailable(_)
            | AppError::AccountStoreUnavailable(_) => Some(BUSY_RETRY_AFTER_SECS),
            _ => None,
        };
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

/// Default service: the French 404.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// Every 500 becomes the French page carrying the request id and nothing else.
pub fn render_internal_error<B>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let request_id = res
        .request()
        .extensions()
        .get::<RequestId>()
        .map(ToString::to_string)
        .unwrap_or_default();
    Ok(replace_body(res, internal_error_page(&request_id)))
}

/// `res` with `page` as its body: its status and headers kept but the body's own, never
/// cached.
fn replace_body<B>(res: ServiceResponse<B>, page: Markup) -> ErrorHandlerResponse<B> {
    let (req, res) = res.into_parts();
    let mut new = html_response(res.status(), page.into_string());
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    new.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    ErrorHandlerResponse::Response(ServiceResponse::new(req, new).map_into_right_body())
}

/// Client errors that actix-web answers by itself (a body over a limit, a method the route
/// does not take, an extractor's refusal) come as English `text/plain`: they become the
/// French page of their status. Our own pages (`text/html`) pass untouched.
pub fn render_client_error<B>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let signed_in = res.request().extensions().get::<SignedIn>().cloned();
    let chrome = signed_in.as_ref().map(chrome_of);
    if is_html {
        // Our own page: rendered again with the signed-in header when there is a session.
        let again = chrome.as_ref().and_then(|c| {
            let error = res.response().error()?.as_error::<AppError>()?;
            Some(error.page(Some(c)))
        });
        return Ok(match again {
            Some(page) => replace_body(res, page),
            None => ErrorHandlerResponse::Response(res.map_into_left_body()),
        });
    }
    let status = res.status();
    tracing::info!(%status, "client error answered by the framework");
    let chrome = chrome.as_ref();
    let page = match status {
        StatusCode::NOT_FOUND => not_found_page(chrome),
        StatusCode::PAYLOAD_TOO_LARGE => too_large_page(chrome),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => message_page(
            chrome,
            "Accès refusé",
            "Vous n'avez pas accès à cette page avec votre compte.",
        ),
        StatusCode::TOO_MANY_REQUESTS => message_page(
            chrome,
            "Trop d'essais",
            "Trop de demandes en peu de temps : patientez quelques minutes puis réessayez.",
        ),
        _ => bad_request_page(chrome),
    };
    Ok(replace_body(res, page))
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::ErrorHandlers;
    use actix_web::{App, HttpResponse, test, web};
    use tracing_actix_web::TracingLogger;

    use super::*;

    async fn failing() -> Result<HttpResponse, AppError> {
        Err(AppError::Internal(
            "SELECT secret_column FROM somewhere".into(),
        ))
    }

    #[actix_web::test]
    async fn busy_hashing_is_a_french_503_with_retry_after() {
        let res = AppError::from(PasswordError::Busy).error_response();
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "5");
        let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("Réessayez dans quelques secondes"), "{body}");
        assert_eq!(AppError::from(ResetError::Busy).status_code(), 503);
    }

    #[actix_web::test]
    async fn throttled_is_a_french_429_with_retry_after() {
        let wait = chrono::Duration::milliseconds(90_500);
        let res = AppError::Throttled {
            message: throttled_message(wait),
            retry_after_secs: retry_after_secs(wait),
        }
        .error_response();
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "91");
        let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("réessayez dans 2 minutes"), "{body}");
        assert_eq!(retry_after_secs(chrono::Duration::zero()), 1);
    }

    #[actix_web::test]
    async fn internal_errors_show_the_request_id_and_nothing_else() {
        let app = test::init_service(
            App::new()
                .route("/boom", web::get().to(failing))
                .wrap(
                    ErrorHandlers::new()
                        .handler(StatusCode::INTERNAL_SERVER_ERROR, render_internal_error),
                )
                .wrap(TracingLogger::<crate::telemetry::RequestSpan>::new()),
        )
        .await;
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/boom").to_request()).await;
        assert_eq!(res.status(), 500);
        let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        assert!(body.contains("Une erreur interne est survenue"));
        assert!(!body.contains("secret_column"), "no detail of the error");
        let id_start = body.find(r#"<code class="request-id">"#).unwrap()
            + r#"<code class="request-id">"#.len();
        let id = &body[id_start..id_start + 36];
        assert!(
            id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
            "{id}"
        );
    }
}
