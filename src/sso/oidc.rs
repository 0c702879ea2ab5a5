//! An OpenID Connect relying party (the `openidconnect` crate): authorization code flow with
//! PKCE (S256), `state` and `nonce`; the provider's discovery document and signing keys are
//! cached and read again when old or when a token names a key we do not know; the ID token's
//! signature, issuer, audience, expiry and nonce are checked, and `auth_time` when the person
//! had to sign in again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use std::str::FromStr;

use openidconnect::core::{
    CoreAuthPrompt, CoreClient, CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet,
    CoreResponseType,
};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadataWithLogout,
    RedirectUrl, RequestTokenError, Scope, SignatureVerificationError, TokenResponse,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use super::{OIDC_RETURN_PATH, SIGN_IN_PATH, SsoError, http_client, logout_token};
use crate::config::OidcSettings;

type Metadata = ProviderMetadataWithLogout;

/// What the browser is sent to, and what must come back with it (kept in the flow cookie).
pub struct OidcStart {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// Who the provider vouches for, from a verified ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcIdentity {
    /// The configured claim (`uid_claim`).
    pub uid: String,
    pub subject: String,
    /// The provider's session id (`sid`), named by its back-channel logout.
    pub sid: Option<String>,
    pub auth_time: Option<DateTime<Utc>>,
}

pub struct Oidc {
    issuer: IssuerUrl,
    client_id: ClientId,
    secret: SecretString,
    redirect: RedirectUrl,
    post_logout: String,
    scopes: Vec<String>,
    uid_claim: String,
    max_age: Duration,
    http: reqwest::Client,
    /// A whole call (start, callback, logout) ends within this time.
    deadline: Duration,
    cache: Mutex<Cache>,
    pub label: String,
}

/// The provider's discovery document and keys as last read, and the last failure.
#[derive(Default)]
struct Cache {
    meta: Option<(Arc<Metadata>, Instant)>,
    failed: Option<(Instant, SsoError)>,
}

/// A token naming an unknown key makes us read the keys again at most this often (anybody
/// can post such a token to the back-channel logout).
const REFRESH_PAUSE: Duration = Duration::from_secs(60);
/// After a failed read of the discovery document, the next waits this long (the failure is
/// answered meanwhile): a provider that is down does not hold every request for its timeout.
const FAILURE_PAUSE: Duration = Duration::from_secs(5);

/// Why an ID token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdTokenError {
    #[error("not a JWT")]
    Malformed,
    #[error("signed with a key the provider does not list")]
    UnknownKey,
    #[error("{0}")]
    Refused(String),
}

/// Verifies the ID token `raw` with the provider's `keys`: an asymmetric signature (never
/// `none`, never an HMAC keyed with our secret), the issuer, our client id as audience, the
/// expiry at `now` and the `nonce` of this flow. Returns its claims and `auth_time`.
pub fn check_id_token(
    raw: &str,
    keys: &CoreJsonWebKeySet,
    (issuer, client_id): (&IssuerUrl, &ClientId),
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<VerifiedIdToken, IdTokenError> {
    let token = CoreIdToken::from_str(raw).map_err(|_| IdTokenError::Malformed)?;
    let keys = CoreJsonWebKeySet::new(keys.keys().clone());
    let verifier = CoreIdTokenVerifier::new_public_client(client_id.clone(), issuer.clone(), keys)
        .set_allowed_algs(logout_token::ASYMMETRIC.iter().cloned())
        .set_time_fn(move || now);
    let claims = token
        .claims(&verifier, &Nonce::new(nonce.to_owned()))
        .map_err(|e| match e {
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            ) => IdTokenError::UnknownKey,
            other => IdTokenError::Refused(other.to_string()),
        })?;
    let auth_time = claims.auth_time();
    // The signature is checked: the payload's claims can be read as they are.
    let claims = logout_token::payload(raw).map_err(|_| IdTokenError::Malformed)?;
    Ok(VerifiedIdToken { claims, auth_time })
}

/// A verified ID token: every claim, and when the person signed in at the provider.
#[derive(Debug)]
pub struct VerifiedIdToken {
    pub claims: Map<String, Value>,
    pub auth_time: Option<DateTime<Utc>>,
}

impl Oidc {
    pub fn new(settings: &OidcSettings, origin: &str) -> Result<Self, SsoError> {
        let config = |m: String| SsoError::Config(format!("sso.oidc: {m}"));
        let secret = match (&settings.client_secret, &settings.client_secret_file) {
            (Some(s), _) => s.clone(),
            (None, Some(path)) => SecretString::from(
                std::fs::read_to_string(path)
                    .map_err(|e| config(format!("cannot read {}: {e}", path.display())))?
                    .trim()
                    .to_owned(),
            ),
            (None, None) => return Err(config("no client secret".into())),
        };
        // Kept as configured: discovery checks that the provider names itself exactly so.
        let issuer = IssuerUrl::new(settings.issuer.trim().to_owned())
            .map_err(|e| config(format!("issuer: {e}")))?;
        let redirect = RedirectUrl::new(format!("{origin}{OIDC_RETURN_PATH}"))
            .map_err(|e| config(format!("redirect URL: {e}")))?;
        Ok(Self {
            issuer,
            client_id: ClientId::new(settings.client_id.trim().to_owned()),
            secret,
            redirect,
            post_logout: format!("{origin}{SIGN_IN_PATH}"),
            scopes: settings.scopes.clone(),
            uid_claim: settings.uid_claim.trim().to_owned(),
            max_age: Duration::from_secs(settings.metadata_max_age_secs),
            http: http_client("sso.oidc", settings.ca_file.as_deref(), settings.timeout_ms)?,
            deadline: Duration::from_millis(settings.timeout_ms),
            cache: Mutex::new(Cache::default()),
            label: settings.label.clone(),
        })
    }

    /// The provider's discovery document with its keys: the cached one unless older than
    /// `metadata_max_age_secs`, or `fresh` (a token named a key we do not know) and read more
    /// than a minute ago. One read at a time.
    async fn metadata(&self, fresh: bool) -> Result<Arc<Metadata>, SsoError> {
        let mut cache = self.cache.lock().await;
        if let Some((meta, at)) = cache.meta.as_ref() {
            let age = at.elapsed();
            if age < self.max_age && (!fresh || age < REFRESH_PAUSE) {
                return Ok(meta.clone());
            }
        }
        if let Some((at, e)) = cache.failed.as_ref()
            && at.elapsed() < FAILURE_PAUSE
        {
            return Err(e.clone());
        }
        match Metadata::discover_async(self.issuer.clone(), &self.http).await {
            Ok(meta) => {
                let meta = Arc::new(meta);
                cache.meta = Some((meta.clone(), Instant::now()));
                cache.failed = None;
                Ok(meta)
            }
            Err(e) => {
                let e = match e {
                    openidconnect::DiscoveryError::Request(e) => {
                        SsoError::Unreachable(e.to_string())
                    }
                    other => SsoError::Garbage(format!("discovery: {other}")),
                };
                cache.failed = Some((Instant::now(), e.clone()));
                Err(e)
            }
        }
    }

    /// `call`, or `Unreachable` once the deadline has passed.
    async fn within<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, SsoError>>,
    ) -> Result<T, SsoError> {
        tokio::time::timeout(self.deadline, call)
            .await
            .unwrap_or_else(|_| {
                Err(SsoError::Unreachable(
                    "no answer within the deadline".into(),
                ))
            })
    }

    fn client(
        &self,
        meta: &Metadata,
    ) -> CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    > {
        let secret = ClientSecret::new(self.secret.expose_secret().to_owned());
        CoreClient::from_provider_metadata(meta.clone(), self.client_id.clone(), Some(secret))
            .set_redirect_uri(self.redirect.clone())
    }

    /// The authorization request. `reauth`: the provider must ask for the password again
    /// (`prompt=login`, `max_age=0`).
    pub async fn start(&self, reauth: bool) -> Result<OidcStart, SsoError> {
        let meta = self.within(self.metadata(false)).await?;
        let client = self.client(&meta);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in self.scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        if reauth {
            request = request
                .add_prompt(CoreAuthPrompt::Login)
                .set_max_age(Duration::ZERO);
        }
        let (url, state, nonce) = request.url();
        Ok(OidcStart {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges `code` (with the PKCE verifier) and verifies the ID token against `nonce`
    /// at `now`.
    pub async fn finish(
        &self,
        code: &str,
        nonce: &str,
        verifier: &str,
        now: DateTime<Utc>,
    ) -> Result<OidcIdentity, SsoError> {
        self.within(async {
            let meta = self.metadata(false).await?;
            let client = self.client(&meta);
            let token = client
                .exchange_code(AuthorizationCode::new(code.to_owned()))
                .map_err(|e| SsoError::Config(format!("token endpoint: {e}")))?
                .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
                .request_async(&self.http)
                .await
                .map_err(|e| match e {
                    RequestTokenError::Request(e) => SsoError::Unreachable(e.to_string()),
                    RequestTokenError::ServerResponse(r) => {
                        SsoError::Refused(format!("token endpoint: {}", r.error()))
                    }
                    other => SsoError::Garbage(format!("token endpoint: {other}")),
                })?;
            let raw = token
                .id_token()
                .ok_or_else(|| SsoError::Garbage("the token answer has no ID token".into()))?
                .to_string();
            let check = |meta: &Metadata| {
                check_id_token(
                    &raw,
                    meta.jwks(),
                    (&self.issuer, &self.client_id),
                    nonce,
                    now,
                )
            };
            let VerifiedIdToken { claims, auth_time } = match check(&meta) {
                Err(IdTokenError::UnknownKey) => {
                    // The provider may have rolled its keys: read them again, once.
                    let meta = self.metadata(true).await?;
                    check(&meta)
                }
                other => other,
            }
            .map_err(|e| SsoError::Refused(format!("ID token: {e}")))?;
            let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
            let uid = text(&self.uid_claim).ok_or_else(|| {
                SsoError::Refused(format!("the ID token has no claim {}", self.uid_claim))
            })?;
            Ok(OidcIdentity {
                uid,
                subject: text("sub").unwrap_or_default(),
                sid: text("sid"),
                auth_time,
            })
        })
        .await
    }

    /// The provider's end-session endpoint, sending the browser back to our sign-in page
    /// (when the provider offers one).
    pub async fn end_session_url(&self) -> Option<String> {
        let meta = self.within(self.metadata(false)).await.ok()?;
        let endpoint = meta.additional_metadata().end_session_endpoint.as_ref()?;
        let mut url = endpoint.url().clone();
        url.query_pairs_mut()
            .append_pair("client_id", self.client_id.as_str())
            .append_pair("post_logout_redirect_uri", &self.post_logout);
        Some(url.to_string())
    }

    /// Verifies a back-channel logout token at `now`: who it logs out.
    pub async fn logout(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<logout_token::LogoutClaims, SsoError> {
        self.within(async {
            let meta = self.metadata(false).await?;
            let check = |meta: &Metadata| {
                logout_token::verify(token, meta.jwks(), &self.issuer, &self.client_id, now)
            };
            match check(&meta) {
                Err(logout_token::LogoutError::UnknownKey) => {
                    let meta = self.metadata(true).await?;
                    check(&meta)
                }
                other => other,
            }
            .map_err(|e| SsoError::Refused(format!("logout token: {e}")))
        })
        .await
    }
}
