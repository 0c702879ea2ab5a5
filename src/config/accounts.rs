//! The `[accounts]` section: where pupils' and parents' credentials and states live (our
//! database, or the académie's LDAP directory the ENT's sign-in service reads).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStoreKind {
    /// Our own tables (the embedded default): people sign in through `/premiere-connexion`.
    #[default]
    Sql,
    /// Entries of an LDAP directory with the ppolicy overlay.
    Ldap,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountsSettings {
    /// `sql` (the default) or `ldap`.
    pub store: AccountStoreKind,
    pub ldap: Option<AccountsLdapSettings>,
}

/// The LDAP account store: a service account that is the entries' password administrator
/// (`manage` on `userPassword` and the ppolicy attributes, see docs/ldap-accounts.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountsLdapSettings {
    /// `ldaps://host:636` or `ldap://host:389` (then StartTLS unless `starttls = false`).
    pub url: String,
    pub starttls: bool,
    /// CA certificate(s) (PEM) the server certificate must chain to.
    pub ca_file: Option<PathBuf>,
    /// Allows plain `ldap://` without StartTLS (loopback tests only).
    pub allow_insecure: bool,
    pub bind_dn: String,
    /// Secret: never shown by `Debug`, never serialised.
    #[serde(skip_serializing)]
    pub bind_password: Option<secrecy::SecretString>,
    pub bind_password_file: Option<PathBuf>,
    /// Where pupils' entries live (e.g. `ou=eleves,dc=ac-exemple,dc=fr`).
    pub pupils_base: String,
    /// Where parents' entries live (e.g. `ou=responsables,dc=ac-exemple,dc=fr`).
    pub parents_base: String,
    /// The object class of the accounts' entries (the one searched for).
    pub object_class: String,
    /// The object classes of an entry the import adds (with `provision`): the searched one
    /// and those that allow the mapped attributes (birth date, class).
    pub provision_object_classes: Vec<String>,
    /// Whether the import adds missing entries, updates names and classes, and locks
    /// leavers at purge; otherwise it only links to the entries that exist.
    pub provision: bool,
    pub connect_timeout_ms: u64,
    /// A whole call (waiting for a connection included) ends within this.
    pub timeout_ms: u64,
    pub pool_size: usize,
    pub idle_check_ms: u64,
    pub attributes: AccountAttributes,
}

/// The names of the attributes holding what we read and write.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountAttributes {
    /// Our identifiant.
    pub uid: String,
    pub last_name: String,
    pub first_name: String,
    pub common_name: String,
    /// A pupil's birth date (`YYYYMMDD`), written at provisioning; empty: not written.
    pub birth_date: String,
    /// A pupil's class, written at provisioning and kept up to date; empty: not written.
    pub division: String,
    pub mail: String,
}

impl Default for AccountsLdapSettings {
    fn default() -> Self {
        Self {
            url: "ldaps://localhost".into(),
            starttls: true,
            ca_file: None,
            allow_insecure: false,
            bind_dn: String::new(),
            bind_password: None,
            bind_password_file: None,
            pupils_base: String::new(),
            parents_base: String::new(),
            object_class: "inetOrgPerson".into(),
            provision_object_classes: vec!["inetOrgPerson".into()],
            provision: false,
            connect_timeout_ms: 2000,
            timeout_ms: 4000,
            pool_size: 8,
            idle_check_ms: 10_000,
            attributes: AccountAttributes::default(),
        }
    }
}

impl Default for AccountAttributes {
    fn default() -> Self {
        Self {
            uid: "uid".into(),
            last_name: "sn".into(),
            first_name: "givenName".into(),
            common_name: "cn".into(),
            birth_date: "ENTPersonDateNaissance".into(),
            division: "ENTEleveClasses".into(),
            mail: "mail".into(),
        }
    }
}
