//! The `[sso]` section: the ENT connectors. Staff may arrive through the académie's or the
//! ENT's CAS server (`[sso.cas]`) or OpenID Connect provider (`[sso.oidc]`); the person they
//! name must still be in the staff directory, whose data and the delegations give the rights.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, Settings};

/// The button's words when a connector names none.
pub const DEFAULT_SSO_LABEL: &str = "Se connecter avec l'ENT";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SsoSettings {
    pub cas: Option<CasSettings>,
    pub oidc: Option<OidcSettings>,
}

/// A CAS 3.0 server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CasSettings {
    /// The server's base URL (`https://cas.ac-exemple.fr/cas`): `/login`, `/logout` and
    /// `/p3/serviceValidate` are under it.
    pub url: String,
    /// The attribute (`<cas:attributes>`) that holds the staff uid; empty: the CAS user.
    pub user_attribute: String,
    /// The sign-in page's button.
    pub label: String,
    /// CA certificate(s) (PEM) the server's certificate must chain to; unset: the system's.
    pub ca_file: Option<PathBuf>,
    /// A whole validation (connection, request, answer) ends within this time.
    pub timeout_ms: u64,
}

impl Default for CasSettings {
    fn default() -> Self {
        Self {
            url: String::new(),
            user_attribute: String::new(),
            label: DEFAULT_SSO_LABEL.into(),
            ca_file: None,
            timeout_ms: 4000,
        }
    }
}

/// An OpenID Connect provider; educt-admin is a confidential client (authorization code
/// flow with PKCE).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcSettings {
    /// The issuer (`https://auth.ac-exemple.fr/oidc`): its discovery document is at
    /// `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// Secret: never shown by `Debug`, never serialised. Prefer `client_secret_file`.
    #[serde(skip_serializing)]
    pub client_secret: Option<secrecy::SecretString>,
    pub client_secret_file: Option<PathBuf>,
    /// Scopes asked for (`openid` is always asked).
    pub scopes: Vec<String>,
    /// The ID token claim that holds the staff uid. `sub` by default: the one claim a
    /// provider must keep unique and stable; `preferred_username` is neither (OIDC Core
    /// 5.7), so name another claim only if the provider guarantees it.
    pub uid_claim: String,
    /// The sign-in page's button.
    pub label: String,
    /// CA certificate(s) (PEM) the provider's certificate must chain to; unset: the system's.
    pub ca_file: Option<PathBuf>,
    /// Each call to the provider (discovery, keys, token) ends within this time.
    pub timeout_ms: u64,
    /// The discovery document and the signing keys are read again when this old (and at
    /// once when a token names a key we do not know).
    pub metadata_max_age_secs: u64,
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            issuer: String::new(),
            client_id: String::new(),
            client_secret: None,
            client_secret_file: None,
            scopes: vec!["openid".into(), "profile".into()],
            uid_claim: "sub".into(),
            label: DEFAULT_SSO_LABEL.into(),
            ca_file: None,
            timeout_ms: 4000,
            metadata_max_age_secs: 3600,
        }
    }
}

impl Settings {
    /// Whether the password form is offered and accepted.
    pub fn password_sign_in(&self) -> bool {
        self.directory.password_sign_in
    }

    /// An académie that turns the password form off must offer a connector; each connector
    /// names its server, and the OIDC one its client.
    pub(super) fn check_sso(&self) -> Result<(), ConfigError> {
        let invalid = |m: &str| Err(ConfigError::Invalid(m.into()));
        if !self.directory.password_sign_in && self.sso.cas.is_none() && self.sso.oidc.is_none() {
            return invalid(
                "directory.password_sign_in = false needs [sso.cas] or [sso.oidc]: nobody could sign in",
            );
        }
        let any = self.sso.cas.is_some() || self.sso.oidc.is_some();
        if any && self.server.public_url.is_none() && !self.server.bind.ip().is_loopback() {
            return invalid(
                "[sso] needs server.public_url: the providers send browsers back to it (the address bound is not what they reach)",
            );
        }
        if let Some(cas) = &self.sso.cas {
            check_https_url("sso.cas.url", &cas.url)?;
        }
        if let Some(oidc) = &self.sso.oidc {
            check_https_url("sso.oidc.issuer", &oidc.issuer)?;
            if oidc.client_id.trim().is_empty() {
                return invalid("sso.oidc.client_id is empty");
            }
            if oidc.client_secret.is_some() == oidc.client_secret_file.is_some() {
                return invalid(
                    "sso.oidc: set exactly one of client_secret and client_secret_file",
                );
            }
            if oidc.uid_claim.trim().is_empty() {
                return invalid("sso.oidc.uid_claim is empty");
            }
        }
        Ok(())
    }
}

/// Connectors talk to their server over TLS only.
fn check_https_url(key: &str, text: &str) -> Result<(), ConfigError> {
    match url::Url::parse(text.trim()) {
        Ok(u) if u.scheme() == "https" && u.host_str().is_some() => Ok(()),
        _ => Err(ConfigError::Invalid(format!(
            "{key} = {text:?} is not an https:// URL"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str) -> Result<Settings, ConfigError> {
        Settings::from_toml(Some(toml))
    }

    #[test]
    fn connectors_are_checked_at_load() {
        assert!(load("[sso.cas]\nurl = \"https://cas.ac-test.fr/cas\"\n").is_ok());
        let plain = load("[sso.cas]\nurl = \"http://cas.ac-test.fr/cas\"\n").unwrap_err();
        assert!(plain.to_string().contains("sso.cas.url"), "{plain}");
        let no_secret = load("[sso.oidc]\nissuer = \"https://idp\"\nclient_id = \"x\"\n");
        assert!(no_secret.unwrap_err().to_string().contains("client_secret"));
        let ok = load(
            "[sso.oidc]\nissuer = \"https://idp/oidc\"\nclient_id = \"x\"\nclient_secret = \"s\"\n",
        )
        .unwrap();
        let oidc = ok.sso.oidc.unwrap();
        assert_eq!(oidc.uid_claim, "sub");
        assert_eq!(oidc.label, DEFAULT_SSO_LABEL);
        assert!(!format!("{oidc:?}").contains("\"s\""));
    }

    #[test]
    fn connectors_off_loopback_need_the_public_url() {
        let cas = "[sso.cas]\nurl = \"https://cas.ac-test.fr/cas\"\n";
        let off = load(&format!("[server]\nbind = \"0.0.0.0:8080\"\n{cas}")).unwrap_err();
        assert!(off.to_string().contains("public_url"), "{off}");
        let public =
            "[server]\nbind = \"0.0.0.0:8080\"\npublic_url = \"https://comptes.ac-test.fr\"\n";
        assert!(load(&format!("{public}{cas}")).is_ok());
    }

    #[test]
    fn the_password_form_cannot_go_without_a_connector() {
        let alone = load("[directory]\npassword_sign_in = false\n").unwrap_err();
        assert!(alone.to_string().contains("password_sign_in"), "{alone}");
        let with_cas = load(
            "[directory]\npassword_sign_in = false\n[sso.cas]\nurl = \"https://cas.ac-test.fr/cas\"\n",
        )
        .unwrap();
        assert!(!with_cas.password_sign_in());
        assert!(Settings::default().password_sign_in());
    }
}
