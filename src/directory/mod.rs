//! The agents directory (staff sign-in): one trait, an LDAP backend for the académie
//! directory and a local one (agents in the database) for the demo and small setups.

pub mod ldap;
pub mod ldap_pool;
pub mod local;

use secrecy::SecretString;

use crate::domain::{Agent, AgentUid, Uai, search_key};

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// Wrong password, unknown uid, disabled account: the user is told nothing more.
    #[error("invalid credentials ({0})")]
    InvalidCredentials(&'static str),
    /// The directory cannot be reached or answered with an error.
    #[error("directory unavailable: {0}")]
    Unavailable(String),
    /// Misconfiguration found when building the backend.
    #[error("directory configuration: {0}")]
    Config(String),
    /// The password could not be checked: every hashing thread stayed busy.
    #[error("password hashing is busy")]
    Busy,
}

/// The directory contract. Calls block (network, argon2): run them on the blocking pool.
pub trait Directory: Send + Sync + 'static {
    /// Checks the password and returns the agent. An empty or blank password is refused
    /// here, before the backend sees it (no bind, no hash).
    fn authenticate(
        &self,
        uid: &AgentUid,
        password: &SecretString,
    ) -> Result<Agent, DirectoryError> {
        if is_blank(password) {
            return Err(DirectoryError::InvalidCredentials("blank password"));
        }
        self.check_credentials(uid, password)
    }

    /// The backend's check of a password that is not blank: callers use `authenticate`.
    fn check_credentials(
        &self,
        uid: &AgentUid,
        password: &SecretString,
    ) -> Result<Agent, DirectoryError>;

    /// Re-reads an agent (session refresh); `None` when he is gone or disabled.
    fn lookup(&self, uid: &AgentUid) -> Result<Option<Agent>, DirectoryError>;

    /// Staff attached to `uai` whose name (display name, surname or uid) starts with
    /// `prefix`, sorted by display name, at most `limit`.
    fn search_staff(
        &self,
        uai: &Uai,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<Agent>, DirectoryError> {
        let mut found = self.staff_matching(uai, prefix)?;
        found.sort_by_cached_key(|a| search_key(&a.display_name));
        found.truncate(limit);
        Ok(found)
    }

    /// The backend's search behind `search_staff`: every match, in any order.
    fn staff_matching(&self, uai: &Uai, prefix: &str) -> Result<Vec<Agent>, DirectoryError>;
}

/// Académie values start with the UAI and may go on with `$`-separated fields
/// (`0691234S$COLLEGE$...`). Values that do not parse are skipped with a warning.
pub fn parse_uai_values<'a>(
    uid: &str,
    attribute: &str,
    values: impl IntoIterator<Item = &'a str>,
) -> Vec<Uai> {
    let mut out: Vec<Uai> = Vec::new();
    for value in values {
        let head = value.split('$').next().unwrap_or_default();
        match Uai::parse(head) {
            Ok(uai) => {
                if !out.contains(&uai) {
                    out.push(uai);
                }
            }
            Err(_) => tracing::warn!(
                agent = uid,
                attribute,
                "directory value is not a UAI; skipped"
            ),
        }
    }
    out.sort();
    out
}

/// A password that is empty or only white space never reaches a directory (an LDAP
/// simple bind with an empty password is an unauthenticated bind).
pub fn is_blank(password: &SecretString) -> bool {
    use secrecy::ExposeSecret;
    password.expose_secret().trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn academie_values_keep_the_leading_uai() {
        let v = parse_uai_values(
            "x",
            "FrEduRne",
            [
                "0691234S$UAJ$PU$N$T3$LYC$340",
                "0692418D",
                "junk$0691234S",
                "0691234S$dup",
                "",
            ],
        );
        let v: Vec<&str> = v.iter().map(Uai::as_str).collect();
        assert_eq!(v, ["0691234S", "0692418D"]);
    }
}
