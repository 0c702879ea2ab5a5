//! The rules a pupil's or a parent's own password follows (`[passwords]`): at least so many
//! characters (counted as characters, not bytes) mixing so many of the four classes
//! (lowercase, uppercase, digits, other characters). A pupil's level comes from his class
//! (the first level whose prefix starts it; the last level, without prefix, takes the
//! others and pupils without a class); parents have one rule. The first sign-in page checks
//! them ([`PasswordRule::check`]), the letters state them ([`PasswordRule::describe`]), the
//! LDAP account store gives each entry its level's `ldap_policy`.

use crate::config::{PasswordSettings, PupilLevel};
use crate::domain::Division;

/// The longest password taken: far above any rule, far below the body limit.
pub const MAX_CHARS: usize = 256;

/// One of the four kinds of characters a rule may ask to mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CharClass {
    Lowercase,
    Uppercase,
    Digit,
    /// Anything else: punctuation, symbols, spaces, letters without case.
    Other,
}

impl CharClass {
    pub const ALL: [CharClass; 4] = [
        CharClass::Uppercase,
        CharClass::Lowercase,
        CharClass::Digit,
        CharClass::Other,
    ];

    pub fn of(c: char) -> Self {
        if c.is_lowercase() {
            CharClass::Lowercase
        } else if c.is_uppercase() {
            CharClass::Uppercase
        } else if c.is_numeric() {
            CharClass::Digit
        } else {
            CharClass::Other
        }
    }

    /// "une majuscule", "un chiffre"…
    fn one(self) -> &'static str {
        match self {
            CharClass::Lowercase => "une minuscule",
            CharClass::Uppercase => "une majuscule",
            CharClass::Digit => "un chiffre",
            CharClass::Other => "un caractère spécial",
        }
    }
}

/// What a password lacks, each with its French sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRuleError {
    #[error("Le mot de passe doit contenir au moins {} {}.", .0, chars_word(*.0))]
    TooShort(usize),
    #[error("Le mot de passe ne doit pas dépasser {MAX_CHARS} caractères.")]
    TooLong,
    #[error(
        "Le mot de passe ne peut pas contenir de caractère invisible (tabulation, retour à la ligne…)."
    )]
    ControlCharacter,
    /// All four classes asked for; these are missing.
    #[error(
        "Le mot de passe doit contenir au moins une majuscule, une minuscule, un chiffre et un caractère spécial : il y manque {}.",
        listed(.0)
    )]
    MissingClasses(Vec<CharClass>),
    /// This many classes asked for (2 or 3), fewer mixed.
    #[error(
        "Le mot de passe doit mélanger au moins {} sortes de caractères parmi les minuscules, les majuscules, les chiffres et les caractères spéciaux.",
        .0
    )]
    TooFewClasses(u8),
}

fn chars_word(n: usize) -> &'static str {
    if n > 1 { "caractères" } else { "caractère" }
}

/// `une majuscule`, `une majuscule et un chiffre`, `a, b et c`.
fn listed(classes: &[CharClass]) -> String {
    let words: Vec<&str> = classes.iter().map(|c| c.one()).collect();
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} et {last}", rest.join(", ")),
        Some((last, _)) => (*last).to_owned(),
        None => String::new(),
    }
}

/// One level's rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordRule {
    pub label: String,
    pub min_length: usize,
    /// How many of the four classes the password mixes (1 to 4).
    pub classes: u8,
    /// The ppolicy subentry the LDAP account store assigns.
    pub ldap_policy: Option<String>,
}

impl PasswordRule {
    /// Everything `password` lacks, length first; empty when it follows the rule.
    pub fn failures(&self, password: &str) -> Vec<PasswordRuleError> {
        let mut out = Vec::new();
        let count = password.chars().count();
        if count < self.min_length {
            out.push(PasswordRuleError::TooShort(self.min_length));
        }
        if count > MAX_CHARS {
            out.push(PasswordRuleError::TooLong);
        }
        if password.chars().any(char::is_control) {
            out.push(PasswordRuleError::ControlCharacter);
        }
        let present: Vec<CharClass> = CharClass::ALL
            .into_iter()
            .filter(|class| password.chars().any(|c| CharClass::of(c) == *class))
            .collect();
        let mixed = u8::try_from(present.len()).unwrap_or(u8::MAX);
        if mixed < self.classes {
            out.push(if self.classes >= 4 {
                let missing = CharClass::ALL
                    .into_iter()
                    .filter(|c| !present.contains(c))
                    .collect();
                PasswordRuleError::MissingClasses(missing)
            } else {
                PasswordRuleError::TooFewClasses(self.classes)
            });
        }
        out
    }

    /// The first thing `password` lacks.
    pub fn check(&self, password: &str) -> Result<(), PasswordRuleError> {
        match self.failures(password).into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The rule as the letter and the page state it, to its reader.
    pub fn describe(&self) -> String {
        let n = self.min_length;
        let length = format!(
            "Votre nouveau mot de passe doit contenir au moins {n} {}",
            chars_word(n)
        );
        match self.classes {
            0 | 1 => format!("{length}."),
            2 | 3 => format!(
                "{length}, de {} sortes au moins parmi les minuscules, les majuscules, les chiffres \
                 et les caractères spéciaux.",
                self.classes
            ),
            _ => format!(
                "{length}, dont au moins une majuscule, une minuscule, un chiffre et un caractère \
                 spécial."
            ),
        }
    }
}

/// The pupils' levels and the parents' rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordRules {
    /// Each level's prefixes (uppercase, as divisions are stored) and rule, in order.
    pupils: Vec<(Vec<String>, PasswordRule)>,
    parents: PasswordRule,
}

fn pupil_rule(level: &PupilLevel) -> (Vec<String>, PasswordRule) {
    let prefixes = level
        .division_prefixes
        .iter()
        .map(|p| p.trim().to_uppercase())
        .collect();
    let rule = PasswordRule {
        label: level.label.clone(),
        min_length: level.min_length,
        classes: level.classes,
        ldap_policy: level.ldap_policy.clone(),
    };
    (prefixes, rule)
}

impl PasswordRules {
    /// The rules of `[passwords]` (checked at load: a catch-all last level, values in range).
    pub fn from_settings(settings: &PasswordSettings) -> Self {
        let p = &settings.parents;
        Self {
            pupils: settings.pupils.iter().map(pupil_rule).collect(),
            parents: PasswordRule {
                label: p.label.clone(),
                min_length: p.min_length,
                classes: p.classes,
                ldap_policy: p.ldap_policy.clone(),
            },
        }
    }

    /// The rule of a pupil in `division`: the first level with a prefix of it; else (no
    /// class, or no prefix matches) the last level, the catch-all. Settings that were not
    /// checked and hold no level give the parents' rule.
    pub fn for_pupil(&self, division: Option<&Division>) -> &PasswordRule {
        let matches = |prefixes: &[String]| {
            division.is_some_and(|d| prefixes.iter().any(|p| d.as_str().starts_with(p.as_str())))
        };
        self.pupils
            .iter()
            .find(|(prefixes, _)| matches(prefixes))
            .or(self.pupils.last())
            .map_or(&self.parents, |(_, rule)| rule)
    }

    pub fn for_parent(&self) -> &PasswordRule {
        &self.parents
    }

    /// The rule of a letter's reader: a parent's, or a pupil's of `division`.
    pub fn for_reader(&self, parent: bool, division: Option<&Division>) -> &PasswordRule {
        if parent {
            self.for_parent()
        } else {
            self.for_pupil(division)
        }
    }
}

#[cfg(test)]
#[path = "password_rules_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "password_rules_proptests.rs"]
mod proptests;
