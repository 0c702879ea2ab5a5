//! The académie LDAP directory, over rustls (ring): `ldaps://` or StartTLS, the server
//! checked against a configured CA. Service bind, search by escaped uid, then a bind as the
//! DN the server returned. One connection per operation: an outage heals by itself.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ldap3::{LdapConn, LdapConnSettings, Scope, SearchEntry, ldap_escape};
use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use secrecy::{ExposeSecret, SecretString};

use crate::domain::{Agent, AgentUid};

use super::{Directory, DirectoryError, parse_uai_values};
use crate::config::LdapSettings;
use crate::domain::Uai;

/// LDAP result codes we act on.
const INVALID_CREDENTIALS: u32 = 49;
const UNWILLING_TO_PERFORM: u32 = 53;
const INAPPROPRIATE_AUTHENTICATION: u32 = 48;

pub struct LdapDirectory {
    settings: LdapSettings,
    bind_password: SecretString,
    tls: Option<Arc<ClientConfig>>,
    starttls: bool,
}

impl LdapDirectory {
    pub fn new(settings: &LdapSettings) -> Result<Self, DirectoryError> {
        let config_err = |m: String| DirectoryError::Config(m);
        let url = settings.url.trim();
        let (tls_needed, starttls) = if url.starts_with("ldaps://") {
            (true, false)
        } else if url.starts_with("ldap://") {
            if settings.starttls {
                (true, true)
            } else if settings.allow_insecure {
                (false, false)
            } else {
                return Err(config_err(
                    "plain ldap:// without StartTLS is refused; use ldaps://, keep starttls = true, or set allow_insecure = true (loopback tests only)".into(),
                ));
            }
        } else {
            return Err(config_err(format!(
                "directory.ldap.url must start with ldaps:// or ldap://, got {url:?}"
            )));
        };
        let tls = if tls_needed {
            let ca = settings
                .ca_file
                .as_ref()
                .ok_or_else(|| config_err("directory.ldap.ca_file is required for TLS".into()))?;
            Some(Arc::new(client_config(ca)?))
        } else {
            None
        };
        let bind_password = match (&settings.bind_password, &settings.bind_password_file) {
            (Some(p), None) => p.clone(),
            (None, Some(path)) => SecretString::from(
                std::fs::read_to_string(path)
                    .map_err(|e| config_err(format!("cannot read {}: {e}", path.display())))?
                    .trim_end_matches(['\n', '\r'])
                    .to_owned(),
            ),
            (Some(_), Some(_)) => {
                return Err(config_err(
                    "set bind_password or bind_password_file, not both".into(),
                ));
            }
            (None, None) => {
                return Err(config_err(
                    "directory.ldap.bind_password_file is required".into(),
                ));
            }
        };
        if settings.base_dn.trim().is_empty() || settings.bind_dn.trim().is_empty() {
            return Err(config_err(
                "directory.ldap.base_dn and bind_dn are required".into(),
            ));
        }
        Ok(Self {
            settings: settings.clone(),
            bind_password,
            tls,
            starttls,
        })
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.settings.timeout_ms)
    }

    fn connect(&self) -> Result<LdapConn, DirectoryError> {
        let mut s = LdapConnSettings::new()
            .set_conn_timeout(Duration::from_millis(self.settings.connect_timeout_ms))
            .set_starttls(self.starttls);
        if let Some(cfg) = &self.tls {
            s = s.set_config(cfg.clone());
        }
        LdapConn::with_settings(s, self.settings.url.trim())
            .map_err(|e| DirectoryError::Unavailable(e.to_string()))
    }

    /// Connects and binds as the service account.
    fn service_conn(&self) -> Result<LdapConn, DirectoryError> {
        let mut conn = self.connect()?;
        let res = conn
            .with_timeout(self.timeout())
            .simple_bind(&self.settings.bind_dn, self.bind_password.expose_secret())
            .map_err(|e| DirectoryError::Unavailable(e.to_string()))?;
        if res.rc != 0 {
            return Err(DirectoryError::Unavailable(format!(
                "service bind refused (rc {})",
                res.rc
            )));
        }
        Ok(conn)
    }

    fn attribute_list(&self) -> Vec<String> {
        let a = &self.settings.attributes;
        vec![
            a.uid.clone(),
            a.display_name.clone(),
            a.common_name.clone(),
            a.mail.clone(),
            a.attached.clone(),
            a.responsible.clone(),
        ]
    }

    fn search(
        &self,
        conn: &mut LdapConn,
        filter: &str,
        limit: usize,
    ) -> Result<Vec<SearchEntry>, DirectoryError> {
        let (entries, _result) = conn
            .with_timeout(self.timeout())
            .search(
                &self.settings.base_dn,
                Scope::Subtree,
                filter,
                self.attribute_list(),
            )
            .map_err(|e| DirectoryError::Unavailable(e.to_string()))?
            .non_error()
            .map_err(|e| DirectoryError::Unavailable(e.to_string()))?;
        Ok(entries
            .into_iter()
            .take(limit)
            .map(SearchEntry::construct)
            .collect())
    }

    /// The entry of `uid` (DN and agent), found with an escaped filter.
    fn find(
        &self,
        conn: &mut LdapConn,
        uid: &AgentUid,
    ) -> Result<Option<(String, Agent)>, DirectoryError> {
        let filter = format!(
            "(&{}({}={}))",
            self.settings.user_filter,
            self.settings.attributes.uid,
            ldap_escape(uid.as_str())
        );
        let mut entries = self.search(conn, &filter, 2)?;
        if entries.len() > 1 {
            return Err(DirectoryError::Unavailable(format!(
                "uid {uid} matches several entries"
            )));
        }
        Ok(entries.pop().map(|e| (e.dn.clone(), self.to_agent(e))))
    }

    fn to_agent(&self, entry: SearchEntry) -> Agent {
        let a = &self.settings.attributes;
        let attrs = lowercase_keys(entry.attrs);
        let first = |name: &str| {
            attrs
                .get(&name.to_ascii_lowercase())
                .and_then(|v| v.first().cloned())
        };
        let all = |name: &str| {
            attrs
                .get(&name.to_ascii_lowercase())
                .cloned()
                .unwrap_or_default()
        };
        let uid = first(&a.uid).unwrap_or_default();
        let display_name = first(&a.display_name)
            .or_else(|| first(&a.common_name))
            .unwrap_or_else(|| uid.clone());
        let attached = all(&a.attached);
        let responsible = all(&a.responsible);
        Agent {
            attached: parse_uai_values(&uid, &a.attached, attached.iter().map(String::as_str)),
            responsible_for: parse_uai_values(
                &uid,
                &a.responsible,
                responsible.iter().map(String::as_str),
            ),
            mail: first(&a.mail),
            display_name,
            uid,
        }
    }
}

fn lowercase_keys(attrs: HashMap<String, Vec<String>>) -> HashMap<String, Vec<String>> {
    attrs
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

/// rustls client configuration trusting only `ca_file`, with the ring provider.
fn client_config(ca_file: &std::path::Path) -> Result<ClientConfig, DirectoryError> {
    let err = |m: String| {
        DirectoryError::Config(format!("directory.ldap.ca_file {}: {m}", ca_file.display()))
    };
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca_file)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err("no certificate found".into()));
    }
    for cert in certs {
        roots.add(cert).map_err(|e| err(e.to_string()))?;
    }
    Ok(ClientConfig::builder_with_provider(crate::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| err(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

impl Directory for LdapDirectory {
    fn check_credentials(
        &self,
        uid: &AgentUid,
        password: &SecretString,
    ) -> Result<Agent, DirectoryError> {
        let mut conn = self.service_conn()?;
        let found = self.find(&mut conn, uid)?;
        // An unknown uid still costs a bind, as a wrong password does.
        let dn = match &found {
            Some((dn, _)) => dn.clone(),
            None => format!(
                "{}={},{}",
                self.settings.attributes.uid,
                ldap3::dn_escape(uid.as_str()),
                self.settings.base_dn
            ),
        };
        let res = conn
            .with_timeout(self.timeout())
            .simple_bind(&dn, password.expose_secret())
            .map_err(|e| DirectoryError::Unavailable(e.to_string()))?;
        let _ = conn.unbind();
        match (res.rc, found) {
            (0, Some((_, agent))) => Ok(agent),
            (0, None) | (INVALID_CREDENTIALS, _) => Err(DirectoryError::InvalidCredentials(
                "wrong password or unknown uid",
            )),
            (UNWILLING_TO_PERFORM | INAPPROPRIATE_AUTHENTICATION, _) => Err(
                DirectoryError::InvalidCredentials("bind refused by the directory"),
            ),
            (rc, _) => Err(DirectoryError::Unavailable(format!(
                "user bind failed (rc {rc})"
            ))),
        }
    }

    fn lookup(&self, uid: &AgentUid) -> Result<Option<Agent>, DirectoryError> {
        let mut conn = self.service_conn()?;
        let found = self.find(&mut conn, uid)?;
        let _ = conn.unbind();
        Ok(found.map(|(_, agent)| agent))
    }

    fn staff_matching(&self, uai: &Uai, prefix: &str) -> Result<Vec<Agent>, DirectoryError> {
        let a = &self.settings.attributes;
        let p = ldap_escape(prefix.trim());
        let name_filter = if p.is_empty() {
            String::new()
        } else {
            format!(
                "(|({dn}={p}*)({sn}={p}*)({gn}={p}*)({cn}={p}*)({uid}={p}*))",
                dn = a.display_name,
                sn = a.surname,
                gn = a.given_name,
                cn = a.common_name,
                uid = a.uid
            )
        };
        let filter = format!(
            "(&{}({}={}*){name_filter})",
            self.settings.user_filter,
            a.attached,
            ldap_escape(uai.as_str())
        );
        let mut conn = self.service_conn()?;
        let entries = self.search(&mut conn, &filter, 500)?;
        let _ = conn.unbind();
        Ok(entries
            .into_iter()
            .map(|e| self.to_agent(e))
            .filter(|agent| agent.is_attached_to(uai))
            .collect())
    }
}
