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
    /// UAIs he is principal of (`FrEduRneResp`).
    pub responsible_for: Vec<Uai>,
}

impl Agent {
    pub fn is_principal_of(&self, uai: &Uai) -> bool {
        self.responsible_for.contains(uai)
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
