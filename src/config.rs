//! Typed, layered configuration: built-in defaults, then a TOML file, then
//! `EDUCT_ADMIN__SECTION__KEY` environment variables. Unknown keys are refused.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

mod accounts;
mod activation;
mod directory;
mod passwords;
mod sso;
mod values;
pub use accounts::{AccountAttributes, AccountStoreKind, AccountsLdapSettings, AccountsSettings};
pub use activation::{ActivationSettings, EDUCONNECT_URL, FIRST_SIGNIN_PATH, LetterSettings};
pub use directory::{DirectoryKind, DirectorySettings, LdapAttributes, LdapSettings};
pub use passwords::{MAX_MIN_LENGTH, ParentLevel, PasswordSettings, PupilLevel};
pub use sso::{CasSettings, DEFAULT_SSO_LABEL, OidcSettings, SsoSettings};
pub use values::PublicOrigin;

/// Environment variable naming the configuration file when `--config` is absent.
pub const CONFIG_ENV: &str = "EDUCT_ADMIN_CONFIG";
/// Prefix of the environment variables overriding configuration keys.
pub const ENV_PREFIX: &str = "EDUCT_ADMIN__";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub secrets: SecretSettings,
    pub network: NetworkSettings,
    pub log: LogSettings,
    pub time: TimeSettings,
    pub demo: DemoSettings,
    pub directory: DirectorySettings,
    pub session: SessionSettings,
    pub letters: LetterSettings,
    pub totp: TotpSettings,
    pub hashing: HashingSettings,
    pub accounts: AccountsSettings,
    pub passwords: PasswordSettings,
    pub activation: ActivationSettings,
    pub sso: SsoSettings,
}

/// The password-hashing pool (argon2): every hash waits for one of these threads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HashingSettings {
    /// Hashing threads; 0 = one per core.
    pub threads: usize,
    /// How long a hash waits for a free thread before the French 503 (milliseconds).
    pub max_wait_ms: u64,
}

impl Default for HashingSettings {
    fn default() -> Self {
        Self {
            threads: 0,
            max_wait_ms: 3000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TotpSettings {
    /// How long a passed TOTP check opens the parents' screens (minutes).
    pub gate_minutes: i64,
    /// The name authenticator apps show.
    pub issuer: String,
}

impl Default for TotpSettings {
    fn default() -> Self {
        Self {
            gate_minutes: 15,
            issuer: "educt-admin".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    /// A session unused this long ends.
    pub idle_timeout_minutes: i64,
    /// A session ends this long after sign-in, used or not.
    pub absolute_timeout_hours: i64,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle_timeout_minutes: 30,
            absolute_timeout_hours: 12,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address and port to listen on.
    pub bind: SocketAddr,
    /// The URL users type, e.g. `https://admin.ac-exemple.fr`; its origin is what unsafe
    /// requests must come from behind a proxy. Parsed at load.
    pub public_url: Option<PublicOrigin>,
    /// Plain HTTP on a non-loopback address is refused unless a TLS proxy sits in front.
    pub behind_tls_proxy: bool,
    /// Number of HTTP worker threads (0: one per core).
    pub workers: usize,
    /// Seconds given to in-flight requests at shutdown.
    pub shutdown_timeout_secs: u64,
    pub tls: Option<TlsSettings>,
    /// This instance's stable name among several (default `host:port`). Batch leases carry
    /// it, so a restarted instance gives back at once the work its former process held.
    pub instance_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://PATH`, a plain path, or `postgres://…` (may carry a password: kept secret,
    /// never serialised).
    #[serde(skip_serializing)]
    pub url: Option<SecretString>,
    /// File holding the URL (when it carries a password).
    pub url_file: Option<PathBuf>,
    pub pool_size: u32,
    pub checkout_timeout_ms: u64,
    /// SQLite busy timeout.
    pub busy_timeout_ms: u64,
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecretSettings {
    /// File holding the 32-byte application key (raw, hex or base64).
    pub key_file: Option<PathBuf>,
    /// The key itself (hex or base64); meant for `EDUCT_ADMIN__SECRETS__KEY`. Secret: never
    /// shown by `Debug`, never serialised.
    #[serde(skip_serializing)]
    pub key: Option<SecretString>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkSettings {
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// The administrative network(s).
    pub admin_networks: Vec<IpNet>,
    /// The only client addresses that network-only routes (metrics) answer; none by default.
    pub metrics_networks: Vec<IpNet>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    pub format: LogFormat,
    /// A `tracing` filter directive; `RUST_LOG` wins when set.
    pub level: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeSettings {
    /// IANA time zone in which delegation days are counted (parsed at load).
    #[serde(with = "values::tz_name")]
    pub zone: chrono_tz::Tz,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DemoSettings {
    /// Folder of the demo's database, key and credentials.
    pub data_dir: PathBuf,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            behind_tls_proxy: false,
            workers: 0,
            shutdown_timeout_secs: 20,
            tls: None,
            instance_id: None,
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: None,
            url_file: None,
            pool_size: 8,
            checkout_timeout_ms: 2000,
            busy_timeout_ms: 5000,
            migrate_on_start: true,
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

impl Default for TimeSettings {
    fn default() -> Self {
        Self {
            zone: chrono_tz::Europe::Paris,
        }
    }
}

impl Default for DemoSettings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
        }
    }
}

/// The default database: a SQLite file in the data folder.
pub const DEFAULT_SQLITE_FILE: &str = "educt-admin.sqlite3";

impl Settings {
    /// Loads defaults, then `file` (or `EDUCT_ADMIN_CONFIG`), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let from_env = std::env::var_os(CONFIG_ENV).map(PathBuf::from);
        let file = file.map(Path::to_path_buf).or(from_env);
        let text =
            match file {
                Some(path) => Some(std::fs::read_to_string(&path).map_err(|source| {
                    ConfigError::Unreadable {
                        path: path.clone(),
                        source,
                    }
                })?),
                None => None,
            };
        Self::from_toml(text.as_deref())
    }

    /// Defaults, then the TOML text, then the environment.
    pub fn from_toml(text: Option<&str>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(text) = text {
            figment = figment.merge(Toml::string(text));
        }
        figment = figment.merge(Env::prefixed(ENV_PREFIX).split("__"));
        let settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(one_line(&e)))?;
        settings.check()?;
        Ok(settings)
    }

    /// Checks what serde cannot: keys that exclude each other.
    fn check(&self) -> Result<(), ConfigError> {
        if self.database.url.is_some() && self.database.url_file.is_some() {
            return Err(ConfigError::Invalid(
                "database.url and database.url_file are both set; keep one".into(),
            ));
        }
        if self.secrets.key.is_some() && self.secrets.key_file.is_some() {
            return Err(ConfigError::Invalid(
                "secrets.key and secrets.key_file are both set; keep one".into(),
            ));
        }
        if self.accounts.store == AccountStoreKind::Ldap && self.accounts.ldap.is_none() {
            return Err(ConfigError::Invalid(
                "accounts.store = \"ldap\" needs an [accounts.ldap] section".into(),
            ));
        }
        self.passwords.check()?;
        self.check_sso()?;
        self.check_activation()
    }

    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.time.zone
    }

    /// The database URL: from the file, the key, or the default SQLite file.
    pub fn database_url(&self) -> Result<String, ConfigError> {
        if let Some(path) = &self.database.url_file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Unreadable {
                path: path.clone(),
                source,
            })?;
            return Ok(text.trim().to_owned());
        }
        Ok(match &self.database.url {
            Some(url) => url.expose_secret().to_owned(),
            None => self
                .demo
                .data_dir
                .join(DEFAULT_SQLITE_FILE)
                .to_string_lossy()
                .into_owned(),
        })
    }
}

/// figment errors may span lines (one per nested error): keep the first, it names the key.
fn one_line(e: &figment::Error) -> String {
    let mut text = e.to_string();
    if let Some(first) = e.clone().into_iter().next() {
        text = first.to_string();
    }
    text.replace('\n', " ")
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "config_proptests.rs"]
mod proptests;
