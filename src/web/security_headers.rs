//! Headers on every response: CSP (BRIEF rule 15), nosniff, referrer policy, HSTS under
//! TLS, and the request id.

use actix_web::HttpMessage;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use tracing_actix_web::RequestId;

pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'";

pub fn default_headers(tls: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("X-Frame-Options", "DENY"));
    if tls {
        headers.add((
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        ))
    } else {
        headers
    }
}

/// Copies the request id (set by the tracing middleware) into `X-Request-Id`.
pub fn request_id_header(req: &actix_web::HttpRequest) -> Option<(HeaderName, HeaderValue)> {
    let id = req.extensions().get::<RequestId>()?.to_string();
    let value = HeaderValue::from_str(&id).ok()?;
    Some((HeaderName::from_static("x-request-id"), value))
}
