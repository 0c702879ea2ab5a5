use super::ParseError;
use super::text::{check_max_chars, text_value};

/// The motive of a delegation, as the principal types it: 1 to 500 characters, line breaks
/// allowed, no other control character (a NUL byte is refused with its own message: it is
/// not text, and PostgreSQL refuses it in a text column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Motive(String);

pub const MOTIVE_MAX_CHARS: usize = 500;

impl Motive {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let s = input.trim();
        if s.contains('\0') {
            return Err(ParseError::new(
                "Le motif contient un caractère nul, qui n'est pas du texte : retapez-le.",
            ));
        }
        if s.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
            return Err(ParseError::new(
                "Le motif contient des caractères de contrôle : retapez-le.",
            ));
        }
        if s.is_empty() {
            return Err(ParseError::new("Indiquez le motif de la délégation."));
        }
        check_max_chars(s, MOTIVE_MAX_CHARS, "Le motif")?;
        Ok(Self(s.to_owned()))
    }
}

text_value!(Motive, parse);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_text_and_line_breaks() {
        let m = Motive::parse("  Référent numérique\r\nannée 2026-2027 ").unwrap();
        assert_eq!(m.as_str(), "Référent numérique\r\nannée 2026-2027");
        assert!(Motive::parse(&"é".repeat(MOTIVE_MAX_CHARS)).is_ok());
    }

    #[test]
    fn each_refusal_has_its_own_message() {
        let nul = Motive::parse("motif\0").unwrap_err().to_string();
        assert!(nul.contains("caractère nul"), "{nul}");
        let control = Motive::parse("motif\u{7}").unwrap_err().to_string();
        assert!(control.contains("contrôle"), "{control}");
        let long = Motive::parse(&"a".repeat(MOTIVE_MAX_CHARS + 1))
            .unwrap_err()
            .to_string();
        assert!(long.contains("500 caractères"), "{long}");
        let empty = Motive::parse(" \n ").unwrap_err().to_string();
        assert!(empty.contains("Indiquez"), "{empty}");
    }
}
