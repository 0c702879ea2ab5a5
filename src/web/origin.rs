//! Unsafe requests must come from this site (BRIEF rule 12): `Sec-Fetch-Site` must be
//! `same-origin` (or `none`, a typed address), and `Origin`, when sent, must be ours — the
//! configured public URL behind a proxy, else the `Host` the request was sent to.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};

use super::errors::AppError;
use super::request::RequestMeta;
use super::session_guard::SignedIn;
use crate::audit::{AuditAction, AuditEvent, Outcome};
use crate::config::PublicOrigin;
use crate::web::state::AppState;

/// Why a request is cross-site, or `None` when it is same-origin.
pub fn cross_site_reason(
    method: &Method,
    sec_fetch_site: Option<&str>,
    origin: Option<&str>,
    host: Option<&str>,
    public_origin: Option<&PublicOrigin>,
) -> Option<&'static str> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    if let Some(site) = sec_fetch_site
        && !matches!(site, "same-origin" | "none")
    {
        return Some("Sec-Fetch-Site is not same-origin");
    }
    let origin = origin?;
    let expected_host = match public_origin {
        Some(expected) => {
            return (!origin.eq_ignore_ascii_case(expected.as_str()))
                .then_some("Origin is not the public URL");
        }
        None => host?,
    };
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
    if origin_host.eq_ignore_ascii_case(expected_host) {
        None
    } else {
        Some("Origin is another site")
    }
}

pub async fn same_origin_only(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let header_str = |name| {
        req.headers()
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
    };
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let public_origin = state
        .as_ref()
        .and_then(|s| s.settings.server.public_url.clone());
    let reason = cross_site_reason(
        req.method(),
        header_str("sec-fetch-site"),
        header_str(header::ORIGIN.as_str()),
        header_str(header::HOST.as_str()),
        public_origin.as_ref(),
    );
    let Some(reason) = reason else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    if let Some(state) = state {
        let meta = RequestMeta::of(req.request());
        let actor = req
            .extensions()
            .get::<SignedIn>()
            .map(|s| s.0.agent.uid.clone())
            .unwrap_or_else(|| "anonymous".into());
        let event = meta.stamp(
            AuditEvent::new(actor, AuditAction::CrossSiteRequest, Outcome::Refused)
                .target("route", req.path())
                .details(reason),
        );
        let now = state.clock.now();
        let key = state.key.clone();
        state
            .db
            .run(move |conn| {
                crate::usecases::authorize::record_refusal(conn, &key, now, &event)
                    .map_err(AppError::from)
            })
            .await?;
    }
    let res = AppError::Forbidden(
        "Cette demande ne provient pas de ce site : elle a été refusée et rien n'a été modifié."
            .into(),
    )
    .error_response();
    Ok(req.into_response(res).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_rules() {
        let post = Method::POST;
        let host = Some("127.0.0.1:8080");
        assert_eq!(
            cross_site_reason(
                &Method::GET,
                Some("cross-site"),
                Some("https://evil.example"),
                host,
                None
            ),
            None
        );
        assert_eq!(
            cross_site_reason(&post, None, None, host, None),
            None,
            "curl sends neither"
        );
        assert_eq!(
            cross_site_reason(
                &post,
                Some("same-origin"),
                Some("http://127.0.0.1:8080"),
                host,
                None
            ),
            None
        );
        assert!(cross_site_reason(&post, Some("cross-site"), None, host, None).is_some());
        assert!(cross_site_reason(&post, Some("same-site"), None, host, None).is_some());
        assert!(cross_site_reason(&post, None, Some("https://evil.example"), host, None).is_some());
        assert!(cross_site_reason(&post, None, Some("null"), host, None).is_some());
        let public = PublicOrigin::parse("https://comptes.ac-test.fr/educt-admin-comptes/").ok();
        let public = public.as_ref();
        assert_eq!(
            cross_site_reason(
                &post,
                None,
                Some("https://comptes.ac-test.fr"),
                Some("10.0.0.5:8080"),
                public
            ),
            None
        );
        assert!(
            cross_site_reason(&post, None, Some("http://comptes.ac-test.fr"), None, public)
                .is_some()
        );
    }
}
