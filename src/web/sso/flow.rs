//! The flow cookie: what must come back with the browser from the provider (the `state`,
//! and for OIDC the `nonce` and the PKCE verifier), sealed under the application key
//! (AES-256-GCM) in a cookie of this browser. `SameSite=Lax`: the provider sends the browser
//! back with a top-level GET from its own site, which a `Strict` cookie would not follow.
//! Ten minutes to come back; one use.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::session::Via;
use crate::secrets::AppKey;

pub const FLOW_COOKIE: &str = "__Host-educt-sso";
const PURPOSE: &str = "sso-flow";
/// How long the person has to sign in at the provider.
const FLOW_MINUTES: i64 = 10;

/// A sign-in under way at a provider.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Flow {
    pub via: String,
    pub state: String,
    #[serde(default)]
    pub nonce: String,
    #[serde(default)]
    pub verifier: String,
    /// When the browser was sent to the provider (Unix seconds, the app's clock).
    pub started: i64,
    /// A re-authentication of this session (its id and uid) rather than a sign-in.
    #[serde(default)]
    pub reauth: Option<(i64, String)>,
    /// The session this browser held when it started (the SHA-256 of its cookie): a sign-in
    /// ends it, as a password sign-in does (the provider's return, cross-site, does not
    /// carry the `Strict` session cookie).
    #[serde(default)]
    pub previous: Option<String>,
    /// The page the agent asked for before signing in (checked again on use).
    #[serde(default)]
    pub next: Option<String>,
}

impl Flow {
    pub fn new(via: Via, state: String, now: DateTime<Utc>) -> Self {
        Self {
            via: via.as_str().to_owned(),
            state,
            nonce: String::new(),
            verifier: String::new(),
            started: now.timestamp(),
            reauth: None,
            previous: None,
            next: None,
        }
    }

    /// Remembers the session `req` carries, to end it at the sign-in, and the page the agent
    /// asked for (`suite`), to go to after it.
    pub fn replacing(mut self, req: &HttpRequest) -> Self {
        self.previous = req
            .cookie(crate::auth::session::COOKIE_NAME)
            .map(|c| crate::auth::session::hash_token(c.value()));
        self.next = url::form_urlencoded::parse(req.query_string().as_bytes())
            .find(|(k, _)| k == crate::web::paths::RETURN_PARAM)
            .map(|(_, v)| v.into_owned())
            .filter(|v| crate::web::paths::local_return(v).is_some());
        self
    }

    pub fn started_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.started, 0).unwrap_or_default()
    }

    /// The cookie that carries it.
    pub fn cookie(&self, key: &AppKey) -> Option<Cookie<'static>> {
        let json = serde_json::to_vec(self).ok()?;
        let sealed = key.seal(PURPOSE, b"", &json).ok()?;
        Some(
            Cookie::build(FLOW_COOKIE, sealed)
                .path("/")
                .secure(true)
                .http_only(true)
                .same_site(SameSite::Lax)
                .max_age(time::Duration::minutes(FLOW_MINUTES))
                .finish(),
        )
    }

    /// The flow of `via` this browser started, if its cookie opens, is recent and its state
    /// is `state` (compared in constant time).
    pub fn of(
        req: &HttpRequest,
        key: &AppKey,
        via: Via,
        state: &str,
        now: DateTime<Utc>,
    ) -> Option<Self> {
        let sealed = req.cookie(FLOW_COOKIE)?;
        let json = key.open(PURPOSE, b"", sealed.value()).ok()?;
        let flow: Flow = serde_json::from_slice(&json).ok()?;
        let age = now - flow.started_at();
        let fresh = age >= Duration::zero() && age < Duration::minutes(FLOW_MINUTES);
        let same_state = crate::auth::csrf::tokens_match(&flow.state, state);
        (fresh && same_state && flow.via == via.as_str() && !state.is_empty()).then_some(flow)
    }
}

/// Removes the flow cookie (it is spent, whatever the outcome).
pub fn spent() -> Cookie<'static> {
    Cookie::build(FLOW_COOKIE, "")
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::ZERO)
        .finish()
}
