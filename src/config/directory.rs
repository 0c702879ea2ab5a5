//! The `[directory]` section: where staff sign in (the local directory or the académie's
//! LDAP), and how LDAP attributes map to our agents.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DirectoryKind {
    #[default]
    Local,
    Ldap,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectorySettings {
    /// `local` (agents in the database) or `ldap` (the académie directory).
    pub kind: DirectoryKind,
    /// Whether staff may sign in with a password on `/connexion`; `false` when the académie
    /// wants its ENT connectors (`[sso]`) only: the form is hidden and refused.
    pub password_sign_in: bool,
    pub ldap: Option<LdapSettings>,
}

impl Default for DirectorySettings {
    fn default() -> Self {
        Self {
            kind: DirectoryKind::default(),
            password_sign_in: true,
            ldap: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LdapSettings {
    /// `ldaps://host:636` or `ldap://host:389` (then StartTLS unless `starttls = false`).
    pub url: String,
    pub starttls: bool,
    /// CA certificate(s) (PEM) the server certificate must chain to.
    pub ca_file: Option<PathBuf>,
    /// Allows plain `ldap://` without StartTLS (loopback tests only).
    pub allow_insecure: bool,
    /// Service account used to find agents.
    pub bind_dn: String,
    /// Secret: never shown by `Debug`, never serialised.
    #[serde(skip_serializing)]
    pub bind_password: Option<secrecy::SecretString>,
    pub bind_password_file: Option<PathBuf>,
    /// Where agents live.
    pub base_dn: String,
    /// Extra condition every agent entry satisfies.
    pub user_filter: String,
    pub connect_timeout_ms: u64,
    pub timeout_ms: u64,
    /// Connections kept open and bound as the service account, reused across requests; at
    /// most this many operations at once.
    pub pool_size: usize,
    /// A pooled connection idle for longer is asked who it is bound as before reuse (a
    /// firewall may drop idle connections without a word); 0: before every reuse.
    pub idle_check_ms: u64,
    /// Values of the function attribute that make an agent direction staff (a deputy head)
    /// on his main attachment, compared case-insensitively on the value's first `$` field;
    /// empty: nobody is direction staff by function.
    pub direction_functions: Vec<String>,
    pub attributes: LdapAttributes,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LdapAttributes {
    pub uid: String,
    pub display_name: String,
    /// Used when the display name is absent.
    pub common_name: String,
    pub surname: String,
    pub given_name: String,
    pub mail: String,
    /// UAIs of attachment (values may go on with `$`-separated fields).
    pub attached: String,
    /// UAIs of responsibility (principals).
    pub responsible: String,
    /// The agent's function (`FrEduFonctAdm`; `DIR`: direction staff).
    pub function: String,
    /// The UAI of his main attachment (`rne` in académie directories), where a direction
    /// function counts; it must also be one of his attachments.
    pub main_attachment: String,
}

impl Default for LdapSettings {
    fn default() -> Self {
        Self {
            url: "ldaps://localhost".into(),
            starttls: true,
            ca_file: None,
            allow_insecure: false,
            bind_dn: String::new(),
            bind_password: None,
            bind_password_file: None,
            base_dn: String::new(),
            user_filter: "(objectClass=inetOrgPerson)".into(),
            connect_timeout_ms: 3000,
            timeout_ms: 5000,
            pool_size: 4,
            idle_check_ms: 10_000,
            direction_functions: vec!["DIR".into()],
            attributes: LdapAttributes::default(),
        }
    }
}

impl Default for LdapAttributes {
    fn default() -> Self {
        Self {
            uid: "uid".into(),
            display_name: "displayName".into(),
            common_name: "cn".into(),
            surname: "sn".into(),
            given_name: "givenName".into(),
            mail: "mail".into(),
            attached: "FrEduRne".into(),
            responsible: "FrEduRneResp".into(),
            function: "FrEduFonctAdm".into(),
            main_attachment: "rne".into(),
        }
    }
}
