//! The `[passwords]` section: the rules a pupil's or a parent's own password follows, per
//! level. Pupils' levels are tried in order, the first whose division prefixes match the
//! pupil's class wins; the last level has no prefix and takes every other pupil (a pupil
//! without a class included). `accounts::password_rules` reads it; the first sign-in page
//! enforces length and character classes, the LDAP account store assigns each entry the
//! level's `ldap_policy` (the directory then enforces the length).

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The longest minimum length a level may ask for.
pub const MAX_MIN_LENGTH: usize = 128;

/// `[passwords]`: the pupils' levels, then the parents' rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordSettings {
    /// `[[passwords.pupils]]`, first matching level wins; the last one is the catch-all.
    pub pupils: Vec<PupilLevel>,
    /// `[passwords.parents]`
    pub parents: ParentLevel,
}

/// One pupils' level (`[[passwords.pupils]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PupilLevel {
    /// What the level is called (`6e et 5e`), for operators and the docs.
    pub label: String,
    /// The classes of this level start with one of these (`6` takes `6A`, `6EME2`);
    /// compared without case. None: every class (the last level only).
    #[serde(default)]
    pub division_prefixes: Vec<String>,
    /// At least this many characters (not bytes), 1 to 128.
    pub min_length: usize,
    /// How many of the four character classes (lowercase, uppercase, digits, other
    /// characters) the password mixes, 1 to 4.
    #[serde(default = "one_class")]
    pub classes: u8,
    /// The DN of the ppolicy subentry the LDAP account store gives these pupils' entries.
    #[serde(default)]
    pub ldap_policy: Option<String>,
}

/// The parents' rule (`[passwords.parents]`): the fields of a pupils' level but prefixes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ParentLevel {
    pub label: String,
    pub min_length: usize,
    pub classes: u8,
    pub ldap_policy: Option<String>,
}

fn one_class() -> u8 {
    1
}

impl Default for PasswordSettings {
    fn default() -> Self {
        let level = |label: &str, prefixes: &[&str], min_length| PupilLevel {
            label: label.into(),
            division_prefixes: prefixes.iter().map(|p| (*p).to_owned()).collect(),
            min_length,
            classes: 1,
            ldap_policy: None,
        };
        Self {
            pupils: vec![
                level("6e et 5e", &["6", "5"], 8),
                level("4e, 3e et lycée", &[], 12),
            ],
            parents: ParentLevel::default(),
        }
    }
}

/// The CNIL's recommendation for a password alone: 12 characters mixing the four classes.
impl Default for ParentLevel {
    fn default() -> Self {
        Self {
            label: "responsables".into(),
            min_length: 12,
            classes: 4,
            ldap_policy: None,
        }
    }
}

/// Refuses what serde cannot: `key` names the level in the message.
fn check_level(
    key: &str,
    (label, min_length, classes): (&str, usize, u8),
    ldap_policy: Option<&String>,
) -> Result<(), ConfigError> {
    let invalid = |what: String| Err(ConfigError::Invalid(format!("{key}.{what}")));
    if label.trim().is_empty() {
        return invalid("label is empty".into());
    }
    if !(1..=MAX_MIN_LENGTH).contains(&min_length) {
        return invalid(format!(
            "min_length must be between 1 and {MAX_MIN_LENGTH} (got {min_length})"
        ));
    }
    if !(1..=4).contains(&classes) {
        return invalid(format!("classes must be between 1 and 4 (got {classes})"));
    }
    if ldap_policy.is_some_and(|p| p.trim().is_empty()) {
        return invalid("ldap_policy is empty: leave it out instead".into());
    }
    Ok(())
}

impl PasswordSettings {
    /// At least one pupils' level; each level's values in range; prefixes on every level but
    /// the last, which has none (the catch-all: a pupil whose class no prefix matches, or who
    /// has no class, gets it; a catch-all earlier would hide the levels after it).
    pub fn check(&self) -> Result<(), ConfigError> {
        let Some(last) = self.pupils.len().checked_sub(1) else {
            return Err(ConfigError::Invalid(
                "passwords.pupils needs at least one level".into(),
            ));
        };
        for (i, level) in self.pupils.iter().enumerate() {
            let key = format!("passwords.pupils[{i}]");
            let values = (level.label.as_str(), level.min_length, level.classes);
            check_level(&key, values, level.ldap_policy.as_ref())?;
            if level.division_prefixes.iter().any(|p| p.trim().is_empty()) {
                return Err(ConfigError::Invalid(format!(
                    "{key}.division_prefixes holds an empty prefix"
                )));
            }
            let catch_all = level.division_prefixes.is_empty();
            if catch_all != (i == last) {
                return Err(ConfigError::Invalid(format!(
                    "{key}.division_prefixes: every level but the last needs prefixes, and the last \
                     level has none (it takes every other pupil)"
                )));
            }
        }
        let p = &self.parents;
        let values = (p.label.as_str(), p.min_length, p.classes);
        check_level("passwords.parents", values, p.ldap_policy.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Settings;

    fn refusal(text: &str) -> String {
        Settings::from_toml(Some(text)).unwrap_err().to_string()
    }

    #[test]
    fn the_defaults_are_the_issue_s_levels_and_the_cnil_s_rule() {
        let s = Settings::from_toml(None).unwrap().passwords;
        assert_eq!(s.pupils.len(), 2);
        assert_eq!(s.pupils[0].division_prefixes, ["6", "5"]);
        assert_eq!((s.pupils[0].min_length, s.pupils[0].classes), (8, 1));
        assert!(s.pupils[1].division_prefixes.is_empty());
        assert_eq!((s.pupils[1].min_length, s.pupils[1].classes), (12, 1));
        assert_eq!((s.parents.min_length, s.parents.classes), (12, 4));
    }

    #[test]
    fn a_file_replaces_the_levels_and_completes_the_parents() {
        let s = Settings::from_toml(Some(
            "[[passwords.pupils]]\nlabel = \"collège\"\ndivision_prefixes = [\"6\", \"5\", \"4\", \"3\"]\nmin_length = 10\n\
             [[passwords.pupils]]\nlabel = \"lycée\"\nmin_length = 12\nclasses = 2\n\
             ldap_policy = \"cn=lycee,ou=politiques,dc=ac-test,dc=fr\"\n\
             [passwords.parents]\nmin_length = 14\n",
        ))
        .unwrap()
        .passwords;
        assert_eq!(s.pupils.len(), 2);
        assert_eq!((s.pupils[0].min_length, s.pupils[0].classes), (10, 1));
        assert_eq!(s.pupils[1].classes, 2);
        assert!(
            s.pupils[1]
                .ldap_policy
                .as_deref()
                .unwrap()
                .starts_with("cn=lycee")
        );
        assert_eq!((s.parents.min_length, s.parents.classes), (14, 4));
        assert_eq!(s.parents.label, "responsables");
    }

    #[test]
    fn levels_out_of_range_or_out_of_order_are_refused_and_named() {
        let level = |rest: &str| format!("[[passwords.pupils]]\nlabel = \"x\"\n{rest}\n");
        for (text, named) in [
            (level("min_length = 0"), "passwords.pupils[0].min_length"),
            (level("min_length = 129"), "passwords.pupils[0].min_length"),
            (
                level("min_length = 8\nclasses = 5"),
                "passwords.pupils[0].classes",
            ),
            (
                level("min_length = 8\nclasses = 0"),
                "passwords.pupils[0].classes",
            ),
            (
                level("min_length = 8\ndivision_prefixes = [\"6\"]"),
                "passwords.pupils[0].division_prefixes",
            ),
            (
                level("min_length = 8\ndivision_prefixes = [\" \"]"),
                "passwords.pupils[0].division_prefixes",
            ),
            (
                level("min_length = 8\nldap_policy = \"\""),
                "passwords.pupils[0].ldap_policy",
            ),
            (
                format!("{}{}", level("min_length = 8"), level("min_length = 9")),
                "passwords.pupils[0].division_prefixes",
            ),
            ("passwords.pupils = []".into(), "at least one level"),
            (
                "[passwords.parents]\nclasses = 9".into(),
                "passwords.parents.classes",
            ),
            (
                "[passwords.parents]\nlabel = \"\"".into(),
                "passwords.parents.label",
            ),
            ("[passwords.parents]\nprefixes = [\"6\"]".into(), "prefixes"),
        ] {
            let err = refusal(&text);
            assert!(err.contains(named), "{text}: {err}");
        }
    }
}
