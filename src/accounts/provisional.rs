//! Provisional passwords (BRIEF rule 8): from the OS CSPRNG, over an alphabet without
//! look-alikes, at least 50 bits, never logged; valid 3 months.

use chrono::{DateTime, Months, Utc};
use secrecy::{ExposeSecret, SecretString};

use crate::auth::password::{PasswordError, generate_from};

/// 31 symbols, lowercase for children: no 0/o, 1/l/i.
pub const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// 12 symbols of 31: 12 × log2(31) ≈ 59.4 bits. Twelve because the LDAP account store's
/// policies for lycée pupils and parents ask for 12 characters at least (`pwdMinLength`),
/// which a provisional password set by the administrator must satisfy too.
pub const LENGTH: usize = 12;
pub const VALIDITY_MONTHS: u32 = 3;

pub fn generate() -> Result<SecretString, PasswordError> {
    generate_from(ALPHABET, LENGTH)
}

/// When a provisional password given at `now` stops working.
pub fn expiry(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_add_months(Months::new(VALIDITY_MONTHS))
        .unwrap_or(now)
}

/// The password in groups of 4 (4-4-4), easier to read aloud and to type.
pub fn grouped(password: &SecretString) -> String {
    let chars: Vec<char> = password.expose_secret().chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A password typed from its letter: the grouping's spaces (any white space) dropped.
pub fn as_typed(typed: &SecretString) -> SecretString {
    SecretString::from(
        typed
            .expose_secret()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>(),
    )
}

/// Whether `text` could be a provisional password: only symbols of [`ALPHABET`] (of any
/// length: letters made before a change of [`LENGTH`] stay valid).
pub fn could_be(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| ALPHABET.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_50_bits_without_look_alikes() {
        assert_eq!(ALPHABET.len(), 31);
        let bits = LENGTH as f64 * (ALPHABET.len() as f64).log2();
        assert!(bits >= 50.0, "{bits}");
        for c in [b'0', b'o', b'O', b'1', b'l', b'I', b'i'] {
            assert!(!ALPHABET.contains(&c));
        }
        let p = generate().unwrap();
        assert_eq!(p.expose_secret().len(), LENGTH);
        assert!(p.expose_secret().bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(
            grouped(&SecretString::from("abcdefghjkmn".to_owned())),
            "abcd efgh jkmn"
        );
    }

    #[test]
    fn a_letter_s_grouping_is_typed_without_its_spaces() {
        let typed = as_typed(&SecretString::from(" abcd efgh\u{a0}jkmn ".to_owned()));
        assert_eq!(typed.expose_secret(), "abcdefghjkmn");
        assert!(could_be("abcdefghjkmn") && could_be("abc"));
        assert!(!could_be("") && !could_be("abcd efgh") && !could_be("Abcdefghjkmn"));
    }

    #[test]
    fn valid_three_months() {
        use chrono::TimeZone;
        let t = Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap();
        assert_eq!(
            expiry(t),
            Utc.with_ymd_and_hms(2027, 2, 28, 10, 0, 0).unwrap()
        );
    }
}
