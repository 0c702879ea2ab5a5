//! The académie LDAP directory, over rustls (ring): `ldaps://` or StartTLS, the server
//! checked against a configured CA. Search by escaped uid on a pooled connection bound as the
//! service (`ldap_pool`), then a bind as the DN the server returned, then back to the service
//! before the connection is reused. A connection that failed is dropped: an outage heals at
//! the next operation.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ldap3::{Ldap, Scope, SearchEntry, ldap_escape};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::{Agent, AgentUid};

use super::ldap_pool::{Connection, LdapPool, bind_service};
use super::{Directory, DirectoryError, parse_uai_values};
use crate::config::LdapSettings;
use crate::domain::Uai;

/// LDAP result codes we act on.
const INVALID_CREDENTIALS: u32 = 49;
const UNWILLING_TO_PERFORM: u32 = 53;
const INAPPROPRIATE_AUTHENTICATION: u32 = 48;

pub struct LdapDirectory {
    settings: Arc<LdapSettings>,
    pool: LdapPool,
}

impl LdapDirectory {
    pub fn new(settings: &LdapSettings) -> Result<Self, DirectoryError> {
        if settings.base_dn.trim().is_empty() || settings.bind_dn.trim().is_empty() {
            return Err(DirectoryError::Config(
                "directory.ldap.base_dn and bind_dn are required".into(),
            ));
        }
        let pool = LdapPool::open(&Connection {
            section: "directory.ldap",
            url: &settings.url,
            starttls: settings.starttls,
            ca_file: settings.ca_file.as_deref(),
            allow_insecure: settings.allow_insecure,
            bind_dn: &settings.bind_dn,
            bind_password: settings.bind_password.as_ref(),
            bind_password_file: settings.bind_password_file.as_deref(),
            connect_timeout_ms: settings.connect_timeout_ms,
            timeout_ms: settings.timeout_ms,
            pool_size: settings.pool_size,
            idle_check_ms: settings.idle_check_ms,
        })?;
        Ok(Self {
            settings: Arc::new(settings.clone()),
            pool,
        })
    }

    /// How many connections were opened so far (the others were reused).
    pub fn connections_opened(&self) -> usize {
        self.pool.connections_opened()
    }
}

fn unavailable(e: impl std::fmt::Display) -> DirectoryError {
    DirectoryError::Unavailable(e.to_string())
}

fn attribute_list(s: &LdapSettings) -> Vec<String> {
    let a = &s.attributes;
    vec![
        a.uid.clone(),
        a.display_name.clone(),
        a.common_name.clone(),
        a.mail.clone(),
        a.attached.clone(),
        a.responsible.clone(),
        a.function.clone(),
        a.main_attachment.clone(),
    ]
}

async fn search(
    s: &LdapSettings,
    ldap: &mut Ldap,
    filter: &str,
    limit: usize,
) -> Result<Vec<SearchEntry>, DirectoryError> {
    let (entries, _result) = ldap
        .with_timeout(Duration::from_millis(s.timeout_ms))
        .search(&s.base_dn, Scope::Subtree, filter, attribute_list(s))
        .await
        .map_err(unavailable)?
        .non_error()
        .map_err(unavailable)?;
    Ok(entries
        .into_iter()
        .take(limit)
        .map(SearchEntry::construct)
        .collect())
}

/// The entry of `uid` (DN and agent), found with an escaped filter.
async fn find(
    s: &LdapSettings,
    ldap: &mut Ldap,
    uid: &AgentUid,
) -> Result<Option<(String, Agent)>, DirectoryError> {
    let filter = format!(
        "(&{}({}={}))",
        s.user_filter,
        s.attributes.uid,
        ldap_escape(uid.as_str())
    );
    let mut entries = search(s, ldap, &filter, 2).await?;
    if entries.len() > 1 {
        return Err(DirectoryError::Unavailable(format!(
            "uid {uid} matches several entries"
        )));
    }
    Ok(entries.pop().map(|e| (e.dn.clone(), to_agent(s, e))))
}

fn to_agent(s: &LdapSettings, entry: SearchEntry) -> Agent {
    let a = &s.attributes;
    let attrs = lowercase_keys(entry.attrs);
    let first = |name: &str| {
        attrs
            .get(&name.to_ascii_lowercase())
            .and_then(|v| v.first().cloned())
    };
    let all = |name: &str| {
        attrs
            .get(&name.to_ascii_lowercase())
            .map(|v| v.iter().map(String::as_str).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let uid = first(&a.uid).unwrap_or_default();
    let display_name = first(&a.display_name)
        .or_else(|| first(&a.common_name))
        .unwrap_or_else(|| uid.clone());
    let mut agent = Agent {
        attached: parse_uai_values(&uid, &a.attached, all(&a.attached)),
        responsible_for: parse_uai_values(&uid, &a.responsible, all(&a.responsible)),
        mail: first(&a.mail),
        display_name,
        uid,
    };
    if has_direction_function(&s.direction_functions, &all(&a.function)) {
        let main = parse_uai_values(&agent.uid, &a.main_attachment, all(&a.main_attachment));
        match main.as_slice() {
            [main] => agent.add_direction_on_attachment(main),
            [] => {}
            _ => tracing::warn!(
                agent = agent.uid,
                attribute = a.main_attachment,
                "several main attachments: the direction function counts on none"
            ),
        }
    }
    agent
}

/// Whether one of the function values is a direction one: its first `$` field, compared
/// case-insensitively (`DIR`, `dir$…`).
fn has_direction_function(direction: &[String], values: &[&str]) -> bool {
    values.iter().any(|value| {
        let head = value.split('$').next().unwrap_or_default().trim();
        !head.is_empty()
            && direction
                .iter()
                .any(|d| d.trim().eq_ignore_ascii_case(head))
    })
}

pub(crate) fn lowercase_keys(attrs: HashMap<String, Vec<String>>) -> HashMap<String, Vec<String>> {
    attrs
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

impl Directory for LdapDirectory {
    fn check_credentials(
        &self,
        uid: &AgentUid,
        password: &SecretString,
    ) -> Result<Agent, DirectoryError> {
        let (s, endpoint) = (self.settings.clone(), self.pool.endpoint());
        let (uid, password) = (uid.clone(), password.clone());
        // The outcome of the user's bind rides inside `Ok`: the connection goes back to the
        // pool whatever the password was, once bound as the service again.
        self.pool.run(move |mut ldap, discard| async move {
            let found = find(&s, &mut ldap, &uid).await?;
            // An unknown uid still costs a bind, as a wrong password does.
            let dn = match &found {
                Some((dn, _)) => dn.clone(),
                None => format!(
                    "{}={},{}",
                    s.attributes.uid,
                    ldap3::dn_escape(uid.as_str()),
                    s.base_dn
                ),
            };
            let res = ldap
                .with_timeout(Duration::from_millis(s.timeout_ms))
                .simple_bind(&dn, password.expose_secret())
                .await
                .map_err(unavailable)?;
            if bind_service(&mut ldap, &endpoint).await.is_err() {
                // Never reused under the user's identity.
                discard.now();
            }
            Ok(user_bind_outcome(res.rc, found))
        })?
    }

    fn lookup(&self, uid: &AgentUid) -> Result<Option<Agent>, DirectoryError> {
        let (s, uid) = (self.settings.clone(), uid.clone());
        self.pool.run(move |mut ldap, _| async move {
            Ok(find(&s, &mut ldap, &uid).await?.map(|(_, agent)| agent))
        })
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
        let s = self.settings.clone();
        let entries = self
            .pool
            .run(move |mut ldap, _| async move { search(&s, &mut ldap, &filter, 500).await })?;
        Ok(entries
            .into_iter()
            .map(|e| to_agent(&self.settings, e))
            .filter(|agent| agent.is_attached_to(uai))
            .collect())
    }
}

/// What the user's bind says: his entry when it succeeded, else why not.
fn user_bind_outcome(rc: u32, found: Option<(String, Agent)>) -> Result<Agent, DirectoryError> {
    match (rc, found) {
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

#[cfg(test)]
#[path = "ldap_tests.rs"]
mod tests;
