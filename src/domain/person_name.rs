use super::ParseError;
use super::text::{check_max_chars, text_value};

/// A first name or surname as the management data spells it: any printable text,
/// trimmed, inner white space folded, 1 to 200 characters. Escaping is the views' job.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

const MAX_CHARS: usize = 200;

impl PersonName {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        if input.chars().any(char::is_control) {
            return Err(ParseError::new(
                "Le nom contient des caractères de contrôle.",
            ));
        }
        let folded = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if folded.is_empty() {
            return Err(ParseError::new("Le nom est vide."));
        }
        check_max_chars(&folded, MAX_CHARS, "Le nom")?;
        Ok(Self(folded))
    }
}

text_value!(PersonName, parse);

/// The search form of a name: ASCII lowercase words (`Lefèvre-N'Diaye` → `lefevre ndiaye`).
/// Apostrophes vanish (so `ndiaye` finds N'Diaye), hyphens and spaces separate words.
pub fn search_key(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_ascii_lowercase();
    let mut out = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if c == '\'' || c == '`' {
            continue;
        } else if !out.ends_with(' ') && !out.is_empty() {
            out.push(' ');
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::assert_refuses;

    #[test]
    fn keeps_real_names() {
        for s in [
            "O'Brien",
            "Zoë",
            "Müller-Lüdenscheidt",
            "De La Fontaine",
            "N'Diaye",
        ] {
            assert_eq!(PersonName::parse(s).unwrap().as_str(), s);
        }
        assert_eq!(
            PersonName::parse("  Jean   Pierre ").unwrap().as_str(),
            "Jean Pierre"
        );
        assert_eq!(PersonName::parse("<script>").unwrap().as_str(), "<script>");
    }

    #[test]
    fn refuses_empty_control_and_huge() {
        let hostile = ["", "   ", "a\u{0}b", "a\nb"];
        assert_refuses(PersonName::parse, 'a', &hostile);
    }

    #[test]
    fn search_keys_fold_accents_and_punctuation() {
        for (name, key) in [
            ("Lefèvre", "lefevre"),
            ("Zoë", "zoe"),
            ("Müller-Lüdenscheidt", "muller ludenscheidt"),
            ("N'Diaye", "ndiaye"),
            ("  De La  Fontaine ", "de la fontaine"),
            ("<script>", "script"),
            ("Œdipe", "oedipe"),
        ] {
            assert_eq!(search_key(name), key, "{name:?}");
        }
    }
}
