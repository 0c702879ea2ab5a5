//! How pupils and parents reach their accounts: the first sign-in page of the embedded store
//! (`[activation]`) and the address the letters print (`[letters]`).

use serde::{Deserialize, Serialize};

use super::{AccountStoreKind, ConfigError, Settings};

/// The EduConnect portal: where the académie's own sign-in service asks for the change.
pub const EDUCONNECT_URL: &str = "https://educonnect.education.gouv.fr";
/// The first sign-in page, under the mount point.
pub const FIRST_SIGNIN_PATH: &str = "/educt-admin-comptes/premiere-connexion";

/// `[activation]`: the public first sign-in page (`/premiere-connexion`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActivationSettings {
    /// Unset: on with the SQL account store, off with the LDAP one (whose sign-in service
    /// handles the forced change). `true` with the LDAP store is refused at load.
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LetterSettings {
    /// Where pupils and parents sign in, printed on the letters. Unset: our first sign-in
    /// page with the SQL store (under `server.public_url`, else the address bound), the
    /// EduConnect portal with the LDAP store.
    pub portal_url: Option<String>,
}

impl Settings {
    /// Whether `/premiere-connexion` answers (else it is a 404).
    pub fn activation_enabled(&self) -> bool {
        self.activation
            .enabled
            .unwrap_or(self.accounts.store == AccountStoreKind::Sql)
    }

    /// The address the letters print: `letters.portal_url` when set; else, when our first
    /// sign-in page is on, that page under `server.public_url` or `bound` (the origin the
    /// server listens on, `http://127.0.0.1:8080`); else the EduConnect portal.
    pub fn portal_url(&self, bound: &str) -> String {
        if let Some(url) = &self.letters.portal_url {
            return url.clone();
        }
        if !self.activation_enabled() {
            return EDUCONNECT_URL.to_owned();
        }
        let origin = self
            .server
            .public_url
            .as_ref()
            .map_or(bound, |o| o.as_str());
        format!("{origin}{FIRST_SIGNIN_PATH}")
    }

    /// The first sign-in page writes our tables: it cannot serve accounts that live in an
    /// LDAP directory; a portal URL set must not be blank.
    pub(super) fn check_activation(&self) -> Result<(), ConfigError> {
        if self.activation.enabled == Some(true) && self.accounts.store == AccountStoreKind::Ldap {
            return Err(ConfigError::Invalid(
                "activation.enabled = true needs accounts.store = \"sql\" (with the LDAP store, \
                 the académie's sign-in service handles the first sign-in)"
                    .into(),
            ));
        }
        if self
            .letters
            .portal_url
            .as_deref()
            .is_some_and(|u| u.trim().is_empty())
        {
            return Err(ConfigError::Invalid(
                "letters.portal_url is empty: leave it out for the default".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Settings {
        Settings::from_toml(Some(text)).unwrap()
    }

    /// Why `text` is refused.
    fn refused(text: &str) -> String {
        Settings::from_toml(Some(text))
            .map(drop)
            .unwrap_err()
            .to_string()
    }

    const LDAP: &str = "[accounts]\nstore = \"ldap\"\n[accounts.ldap]\nurl = \"ldaps://x\"\n";

    #[test]
    fn the_first_sign_in_follows_the_store_unless_told() {
        let sql = settings("");
        assert!(sql.activation_enabled());
        assert_eq!(
            sql.portal_url("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/educt-admin-comptes/premiere-connexion"
        );
        let ldap = settings(LDAP);
        assert!(!ldap.activation_enabled());
        assert_eq!(ldap.portal_url("http://127.0.0.1:8080"), EDUCONNECT_URL);
        let off = settings("[activation]\nenabled = false\n");
        assert!(!off.activation_enabled());
        assert_eq!(off.portal_url("http://x"), EDUCONNECT_URL);
        let err = refused(&format!("{LDAP}[activation]\nenabled = true\n"));
        assert!(err.contains("activation.enabled"), "{err}");
    }

    #[test]
    fn the_public_url_or_the_portal_url_wins() {
        let public = settings("[server]\npublic_url = \"https://comptes.ac-test.fr/x/\"\n");
        assert_eq!(
            public.portal_url("http://10.0.0.5:8080"),
            "https://comptes.ac-test.fr/educt-admin-comptes/premiere-connexion"
        );
        let set = settings("[letters]\nportal_url = \"https://ent.ac-test.fr/activer\"\n");
        assert_eq!(set.portal_url("http://x"), "https://ent.ac-test.fr/activer");
        let set = settings(&format!(
            "{LDAP}[letters]\nportal_url = \"https://ent.ac-test.fr\"\n"
        ));
        assert_eq!(set.portal_url("http://x"), "https://ent.ac-test.fr");
        assert!(refused("[letters]\nportal_url = \" \"\n").contains("letters.portal_url"));
    }
}
