//! A staff member as the directory describes him, and his uid.

use std::fmt;

use super::Uai;
use super::text::text_value;

/// A staff member as the directory describes him.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub uid: String,
    pub display_name: String,
    pub mail: Option<String>,
    /// UAIs he works in (`FrEduRne`).
    pub attached: Vec<Uai>,
    /// UAIs whose direction he belongs to, sorted: the principal's (the responsibility
    /// attribute, `FrEduRneResp`) and a deputy's (a direction function, on his main
    /// attachment only: [`Agent::add_direction_on_attachment`]). Both count as principal.
    pub responsible_for: Vec<Uai>,
}

impl Agent {
    /// Whether he belongs to the direction of `uai` (principal or deputy): every right there.
    pub fn is_principal_of(&self, uai: &Uai) -> bool {
        self.responsible_for.contains(uai)
    }

    /// Direction by function (a deputy head: `FrEduFonctAdm` = `DIR` in an académie
    /// directory, `agents add --direction` in the local one). The function belongs to the
    /// person, not to an establishment: the directory names the one attachment it counts on
    /// (his main one), and it counts only while he is attached there. Anywhere else he holds
    /// what delegations give him.
    pub fn add_direction_on_attachment(&mut self, uai: &Uai) {
        if self.is_attached_to(uai) && !self.is_principal_of(uai) {
            self.responsible_for.push(uai.clone());
            self.responsible_for.sort();
        }
    }

    pub fn is_attached_to(&self, uai: &Uai) -> bool {
        self.attached.contains(uai)
    }
}

/// A syntactically valid staff uid: 1 to 64 of `A-Z a-z 0-9 . _ - @`. Anything else never
/// reaches a directory.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AgentUid(String);

impl AgentUid {
    pub const MAX_LEN: usize = 64;

    pub fn parse(input: &str) -> Option<Self> {
        let s = input.trim();
        let ok = !s.is_empty()
            && s.len() <= Self::MAX_LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
        ok.then(|| Self(s.to_owned()))
    }
}

impl fmt::Debug for AgentUid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgentUid({})", self.0)
    }
}

text_value!(AgentUid);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_parsed_strictly() {
        assert_eq!(
            AgentUid::parse(" referent.demo ").unwrap().as_str(),
            "referent.demo"
        );
        assert!(AgentUid::parse("jean-marc_2@ac-lyon").is_some());
        let long = "a".repeat(10_000);
        for bad in [
            "",
            " ",
            "*",
            "a)(uid=*",
            "admin,ou=x",
            "\\00",
            "a\0b",
            "é",
            long.as_str(),
        ] {
            assert!(AgentUid::parse(bad).is_none(), "{bad:?}");
        }
    }
}
