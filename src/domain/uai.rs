use super::ParseError;
use super::text::text_value;

/// Establishment id (UAI, ex-RNE): 7 digits and a check letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uai(String);

/// 23 letters, no I, O or Q; indexed by the 7-digit number modulo 23.
const CHECK_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

impl Uai {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let s = input.trim();
        let bytes = s.as_bytes();
        if bytes.len() != 8 || !bytes[..7].iter().all(u8::is_ascii_digit) {
            return Err(ParseError::new(
                "Le code UAI doit comporter 7 chiffres suivis d'une lettre (ex. 0691234S).",
            ));
        }
        let letter = bytes[7].to_ascii_uppercase();
        if !letter.is_ascii_uppercase() {
            return Err(ParseError::new(
                "Le code UAI doit se terminer par une lettre (ex. 0691234S).",
            ));
        }
        let number: u32 = s[..7]
            .parse()
            .map_err(|_| ParseError::new("Le code UAI doit comporter 7 chiffres."))?;
        let expected = CHECK_LETTERS[(number % 23) as usize];
        if letter != expected {
            return Err(ParseError::new(format!(
                "Le code UAI {} n'est pas valide : la lettre de contrôle ne correspond pas.",
                s.to_ascii_uppercase()
            )));
        }
        let mut out = s[..7].to_owned();
        out.push(letter as char);
        Ok(Self(out))
    }

    /// The département prefix (3 characters, e.g. `069`, `620` for Corse-du-Sud).
    pub fn department(&self) -> &str {
        &self.0[..3]
    }
}

text_value!(Uai, parse);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::assert_refuses;

    #[test]
    fn accepts_valid_uais() {
        for s in ["0691234S", "0692418D", "0691234s", " 0691234S "] {
            let uai = Uai::parse(s).unwrap();
            assert_eq!(uai.as_str().len(), 8);
        }
        assert_eq!(Uai::parse("0691234s").unwrap().as_str(), "0691234S");
        assert_eq!(Uai::parse("0691234S").unwrap().department(), "069");
    }

    #[test]
    fn computes_the_check_letter_for_corsica() {
        // 6200001 mod 23 = 6200001 - 23*269565 = 6 -> G
        assert_eq!(6_200_001 % 23, 6);
        assert!(Uai::parse("6200001G").is_ok());
        assert!(Uai::parse("6200001H").is_err());
    }

    #[test]
    fn refuses_hostile_input() {
        let hostile = [
            "",
            "0691234",
            "0691234T",
            "069123AS",
            "06912345S",
            "0691234I",
            "0691234O",
            "0691234Q",
            "0691234!",
            "<script>",
            "0691234Ś",
            "０６９１２３４S",
        ];
        assert_refuses(Uai::parse, '0', &hostile);
    }
}
