//! What every audited handler needs to know about the request.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use tracing_actix_web::RequestId;

use super::client_addr::ClientAddr;
use super::errors::AppError;
use super::routes::{self, RouteDef};
use super::session_guard::SignedIn;
use super::state::AppState;
use crate::audit::AuditEvent;
use crate::usecases::{Actor, Context, RequestStamp};
use chrono::{DateTime, Utc};

/// The request id and the addresses, for audit rows and throttles.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub request_id: String,
    pub addr: ClientAddr,
    /// The route of the route table the request reached (what the guards read).
    pub route: Option<&'static RouteDef>,
    /// A GET's path and query: the page to come back to after a TOTP check it needs.
    pub asked: Option<String>,
}

impl RequestMeta {
    pub fn of(req: &HttpRequest) -> Self {
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let trusted = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.network.trusted_proxies.clone())
            .unwrap_or_default();
        Self {
            request_id,
            addr: ClientAddr::from_request(req, &trusted),
            // The decoded path, as the router matched it.
            route: routes::find(req.method(), req.match_info().as_str()),
            asked: (req.method() == actix_web::http::Method::GET)
                .then(|| req.uri().path_and_query().map(|pq| pq.as_str().to_owned()))
                .flatten(),
        }
    }

    /// Where the request came from, for a use case's audit rows.
    pub fn stamp_of(&self) -> RequestStamp {
        RequestStamp {
            request_id: Some(self.request_id.clone()),
            peer: self.addr.peer_text(),
            client: self.addr.client_text(),
        }
    }

    /// The audit context of a use case called by the signed-in agent at `now`.
    pub fn context_of(&self, signed_in: &SignedIn, now: DateTime<Utc>) -> Context {
        Context::new(Actor::Agent(signed_in.0.agent.uid.clone()), now).stamped(self.stamp_of())
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

/// Who asks: the application, the signed-in agent and the request's meta, which every
/// signed-in handler extracts first (one extractor, one parameter).
pub struct Asker {
    state: web::Data<AppState>,
    signed_in: SignedIn,
    meta: RequestMeta,
}

/// A handler's input: who asks and the record of the path (`{id}`).
pub type OnRecord = (Asker, web::Path<String>);
/// Who asks and a form about the record of the path.
pub type Posted<F> = (Asker, web::Path<String>, web::Form<F>);
/// Who asks and the query string.
pub type Queried<Q> = (Asker, web::Query<Q>);

impl Asker {
    pub fn parts(self) -> (web::Data<AppState>, SignedIn, RequestMeta) {
        (self.state, self.signed_in, self.meta)
    }
}

impl FromRequest for Asker {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let asker = || -> Result<Self, AppError> {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| AppError::Internal("application state missing".into()))?;
            let signed_in = req
                .extensions()
                .get::<SignedIn>()
                .cloned()
                .ok_or(AppError::Unauthorized)?;
            Ok(Self {
                state,
                signed_in,
                meta: RequestMeta::of(req),
            })
        };
        ready(asker().map_err(Into::into))
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
            route: None,
            asked: None,
        };
        assert_eq!(meta(None).throttle_addr(), "unknown");
        assert_eq!(meta(Some("192.0.2.7")).throttle_addr(), "192.0.2.7");
    }
}
