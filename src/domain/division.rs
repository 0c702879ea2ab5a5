use super::ParseError;
use super::text::{check_max_chars, text_value};

/// A class (division) code as SIECLE writes it: `3A`, `2NDE4`, `TG1`, `1STMG-2`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Division(String);

const MAX_LEN: usize = 30;

impl Division {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(ParseError::new("La division est vide."));
        }
        // Checked on the stored (uppercase) form: `ß` becomes `SS`, so the limit and the
        // characters hold for what is kept, and parsing it again gives it back.
        let upper = s.to_uppercase();
        check_max_chars(&upper, MAX_LEN, "La division")?;
        if !upper
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '/'))
        {
            return Err(ParseError::new(
                "La division ne peut contenir que des lettres, des chiffres, des espaces et - _ . /",
            ));
        }
        Ok(Self(upper))
    }
}

text_value!(Division, parse);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::assert_refuses;

    #[test]
    fn accepts_usual_codes() {
        assert_eq!(Division::parse("3a").unwrap().as_str(), "3A");
        assert_eq!(Division::parse(" 2NDE4 ").unwrap().as_str(), "2NDE4");
        assert!(Division::parse("1STMG-2").is_ok());
        assert!(Division::parse("TERM É1").is_ok());
    }

    #[test]
    fn the_limit_holds_for_the_stored_form() {
        // Found by the property tests: `ß` is one character but `SS` is two, so 30
        // characters could be stored as more and then refused when read back.
        let d = Division::parse("ßa").unwrap();
        assert_eq!(d.as_str(), "SSA");
        assert_eq!(Division::parse(d.as_str()), Ok(d));
        assert!(Division::parse(&"ß".repeat(16)).is_err());
        assert!(Division::parse(&"ß".repeat(15)).is_ok());
    }

    #[test]
    fn refuses_hostile_input() {
        let hostile = ["", "   ", "<script>", "3A'; DROP", "3A\""];
        assert_refuses(Division::parse, 'A', &hostile);
    }
}
