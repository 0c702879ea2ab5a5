//! The ENT connectors' protocol clients: a CAS 3.0 client ([`cas`]) and an OpenID Connect
//! relying party ([`oidc`]). They talk to the provider over rustls (the `ring` provider)
//! with a deadline per call, follow no redirect, and return who the provider vouches for;
//! what that person may do is the directory's and the delegations' business (`usecases`).

pub mod cas;
pub mod logout_token;
pub mod oidc;

use std::time::Duration;

use crate::config::{Settings, SsoSettings};

pub use cas::Cas;
pub use oidc::Oidc;

/// The callbacks under the mount point: the provider sends the browser back there.
pub const CAS_RETURN_PATH: &str = "/educt-admin-comptes/connexion/cas/retour";
pub const OIDC_RETURN_PATH: &str = "/educt-admin-comptes/connexion/oidc/retour";
/// Where the sign-in page is (after an SSO logout, the provider sends the browser there).
pub const SIGN_IN_PATH: &str = "/educt-admin-comptes/connexion";

/// Why a provider did not vouch for anybody. The messages are for the logs and the audit;
/// the person reads [`SsoError::french`].
#[derive(Debug, Clone, thiserror::Error)]
pub enum SsoError {
    /// No answer within the deadline, a connection or TLS failure.
    #[error("identity provider unreachable: {0}")]
    Unreachable(String),
    /// An answer we cannot read (not XML, not JSON, an HTTP error).
    #[error("identity provider answered garbage: {0}")]
    Garbage(String),
    /// The provider, or our checks of what it sent, refused: a bad ticket or token.
    #[error("refused: {0}")]
    Refused(String),
    /// The configuration cannot work (a CA file that does not load).
    #[error("SSO configuration: {0}")]
    Config(String),
}

impl SsoError {
    /// The sentence shown to the person.
    pub fn french(&self) -> &'static str {
        match self {
            SsoError::Unreachable(_) => {
                "Le service de connexion de l'ENT ne répond pas pour le moment. Réessayez dans quelques instants."
            }
            SsoError::Garbage(_) | SsoError::Config(_) => {
                "Le service de connexion de l'ENT a donné une réponse illisible. Réessayez ; si cela persiste, prévenez l'assistance de l'académie."
            }
            SsoError::Refused(_) => {
                "La connexion par l'ENT n'a pas pu être vérifiée. Reprenez la connexion depuis le début."
            }
        }
    }
}

/// An HTTP client for one provider: its CA (or the system's), `timeout_ms` for a whole
/// call, no redirects (a provider that redirects a back-channel call is misconfigured).
pub(crate) fn http_client(
    section: &str,
    ca_file: Option<&std::path::Path>,
    timeout_ms: u64,
) -> Result<reqwest::Client, SsoError> {
    let tls = crate::tls::client_config(ca_file).map_err(|m| {
        let file = ca_file.map_or_else(|| "the system store".into(), |p| p.display().to_string());
        SsoError::Config(format!("{section}.ca_file {file}: {m}"))
    })?;
    let timeout = Duration::from_millis(timeout_ms);
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout)
        .timeout(timeout)
        .build()
        .map_err(|e| SsoError::Config(format!("{section}: {e}")))
}

/// The connectors configured, built once at start-up.
pub struct Connectors {
    pub cas: Option<Cas>,
    pub oidc: Option<Oidc>,
}

impl Connectors {
    /// `origin`: this site's origin as browsers reach it (`server.public_url`, else the
    /// address bound), for the callback URLs the providers send the browser to.
    pub fn build(settings: &Settings, origin: &str) -> Result<Self, SsoError> {
        let SsoSettings { cas, oidc } = &settings.sso;
        if let (Some(c), Some(o)) = (cas, oidc)
            && c.label == o.label
        {
            tracing::warn!(
                label = %c.label,
                "sso.cas and sso.oidc show the same label: give each its own (sso.*.label)"
            );
        }
        Ok(Self {
            cas: cas.as_ref().map(|c| Cas::new(c, origin)).transpose()?,
            oidc: oidc.as_ref().map(|o| Oidc::new(o, origin)).transpose()?,
        })
    }

    /// The connectors of a server listening on `addr` (`tls`: over HTTPS): our callbacks are
    /// under `server.public_url`, else that address.
    pub fn for_server(
        settings: &Settings,
        addr: std::net::SocketAddr,
        tls: bool,
    ) -> Result<Self, SsoError> {
        let scheme = if tls { "https" } else { "http" };
        let origin = settings
            .server
            .public_url
            .as_ref()
            .map_or_else(|| format!("{scheme}://{addr}"), |o| o.as_str().to_owned());
        Self::build(settings, &origin)
    }
}
