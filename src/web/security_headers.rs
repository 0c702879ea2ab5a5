//! Headers on every response: CSP (BRIEF rule 15), nosniff, referrer policy, HSTS under
//! TLS, and the request id.

use actix_web::HttpMessage;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use tracing_actix_web::RequestId;

/// `base-uri 'none'` keeps an injected `<base>` from redirecting relative links and forms;
/// `form-action 'self'` keeps forms from posting anywhere else.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_forbids_base_and_foreign_form_targets() {
        let directives: Vec<&str> = CONTENT_SECURITY_POLICY.split("; ").collect();
        for d in [
            "default-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ] {
            assert!(directives.contains(&d), "{d} missing");
        }
    }

    /// Scripts come from this site only (the assets' script, through `default-src`):
    /// never inline, never evaluated.
    #[test]
    fn the_policy_forbids_inline_scripts() {
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-eval"));
        let script_src = CONTENT_SECURITY_POLICY
            .split("; ")
            .find(|d| d.starts_with("script-src"));
        assert!(script_src.is_none_or(|d| d == "script-src 'self'"));
    }
}
