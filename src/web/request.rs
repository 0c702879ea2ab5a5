//! What every audited handler needs to know about the request.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use tracing_actix_web::RequestId;

use super::client_addr::ClientAddr;
use crate::audit::AuditEvent;

/// The request id and the addresses, for audit rows and throttles.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub request_id: String,
    pub addr: ClientAddr,
}

impl RequestMeta {
    pub fn of(req: &HttpRequest) -> Self {
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let trusted = req
            .app_data::<actix_web::web::Data<crate::web::state::AppState>>()
            .map(|s| s.settings.network.trusted_proxies.clone())
            .unwrap_or_default();
        Self {
            request_id,
            addr: ClientAddr::from_request(req, &trusted),
        }
    }

    /// Adds the request id, peer and client address to an audit event.
    pub fn stamp(&self, event: AuditEvent) -> AuditEvent {
        event.request(
            self.request_id.clone(),
            self.addr.peer_text(),
            self.addr.client_text(),
        )
    }

    /// The address a throttle counts against: the client (rule 6); every unknown client
    /// shares one bucket.
    pub fn throttle_addr(&self) -> String {
        self.addr.client.map_or_else(
            || crate::auth::throttle::UNKNOWN_ADDR.to_owned(),
            |ip| ip.to_string(),
        )
    }
}

impl FromRequest for RequestMeta {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_client_is_one_throttle_bucket_never_the_proxy() {
        let meta = |client: Option<&str>| RequestMeta {
            request_id: String::new(),
            addr: ClientAddr {
                peer: Some("10.0.0.1".parse().unwrap()),
                client: client.map(|c| c.parse().unwrap()),
            },
        };
        assert_eq!(meta(None).throttle_addr(), "unknown");
        assert_eq!(meta(Some("192.0.2.7")).throttle_addr(), "192.0.2.7");
    }
}
