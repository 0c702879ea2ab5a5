use super::ParseError;
use super::text::text_value;

/// National pupil id (INE): 11 characters, digits and uppercase letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ine(String);

impl Ine {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let s = input.trim().to_ascii_uppercase();
        if s.len() != 11
            || !s
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        {
            return Err(ParseError::new(
                "L'INE doit comporter 11 caractères (chiffres et lettres).",
            ));
        }
        Ok(Self(s))
    }

    /// Masked but for the last 3 characters: `••••••••12K`.
    pub fn masked(&self) -> String {
        let visible = &self.0[self.0.len() - 3..];
        format!("{}{}", "•".repeat(self.0.len() - 3), visible)
    }
}

text_value!(Ine, parse);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::assert_refuses;

    #[test]
    fn accepts_and_masks() {
        let ine = Ine::parse("123456789ab").unwrap();
        assert_eq!(ine.as_str(), "123456789AB");
        assert_eq!(ine.masked(), "••••••••9AB");
    }

    #[test]
    fn refuses_hostile_input() {
        let hostile = [
            "",
            "1234567890",
            "123456789012",
            "12345678<9>",
            "1234567890é",
        ];
        assert_refuses(Ine::parse, '1', &hostile);
    }
}
