//! Refuses, before any handler, a query string carrying a NUL byte (`%00`): it is not text,
//! PostgreSQL refuses it in a parameter (a 500), and no field of ours takes it. The form
//! bodies' fields are parsed by their domain types, which refuse it with their own message.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use super::errors::AppError;

pub const NUL_MESSAGE: &str = "Un des champs envoyés contient un caractère nul, qui n'est pas du texte, et rien n'a été fait. Retapez votre saisie.";

/// Whether a raw query string holds a NUL byte, encoded or not.
pub fn query_has_nul(query: &str) -> bool {
    query.contains('\0')
        || query
            .as_bytes()
            .windows(3)
            .any(|w| w.first() == Some(&b'%') && w.get(1..) == Some(b"00".as_slice()))
}

pub async fn refuse_nul_in_query(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if query_has_nul(req.query_string()) {
        tracing::info!("query string with a NUL byte refused");
        let res =
            actix_web::ResponseError::error_response(&AppError::BadRequest(NUL_MESSAGE.into()));
        return Ok(req.into_response(res).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_encoded_and_raw_nul() {
        assert!(query_has_nul("q=a%00b"));
        assert!(query_has_nul("%00"));
        assert!(query_has_nul("q=\0"));
        assert!(!query_has_nul("q=%2500"));
        assert!(!query_has_nul("q=100%25&page=200"));
        assert!(!query_has_nul(""));
    }
}
