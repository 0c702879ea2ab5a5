//! Property tests of every form field parser: hostile strings (multi-byte, NUL, 10 kB)
//! never panic, what is accepted parses back to itself, and what is refused carries a
//! French message. 256 cases each in the normal suite; `PROPTEST_CASES=100000` runs them
//! long (docs/security.md).

use proptest::prelude::*;

use super::*;
use crate::domain::AgentUid;
/// The normal suite's bound (256 cases, or `PROPTEST_CASES`), without regression files:
/// what a long run finds becomes a named unit test next to the parser.
pub(crate) fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Strings an attacker or a careless user sends: any characters, the troublesome ones
/// often, sometimes 10 kB long.
pub(crate) fn hostile() -> impl Strategy<Value = String> {
    let troublesome = prop_oneof![
        Just('\0'),
        Just('é'),
        Just('ß'),
        Just('Œ'),
        Just('\u{1F600}'),
        Just('\u{202E}'),
        Just('０'),
        Just('\''),
        Just('<'),
        Just(' '),
        Just('\n'),
        Just('.'),
        Just('-'),
        Just('%'),
        Just(','),
        Just(':'),
        Just('/'),
        prop::char::range('0', '9'),
        prop::char::range('A', 'Z'),
        prop::char::range('a', 'z'),
        any::<char>(),
    ];
    prop_oneof![
        4 => any::<String>(),
        4 => prop::collection::vec(troublesome.clone(), 0..16)
            .prop_map(|v| v.into_iter().collect()),
        // About 10 kB: a short hostile pattern repeated (cheap to make and to shrink).
        1 => (prop::collection::vec(troublesome, 1..16), 9_000usize..11_000)
            .prop_map(|(v, n)| v.iter().cycle().take(n).collect()),
    ]
}

/// A refusal a user reads: French words, no English, no echo of a long or binary input.
pub(crate) fn assert_french(message: &str) -> Result<(), TestCaseError> {
    prop_assert!(!message.trim().is_empty(), "empty message");
    prop_assert!(message.chars().count() < 300, "message too long: {message}");
    prop_assert!(
        !message.chars().any(char::is_control),
        "control character in {message:?}"
    );
    let lower = message.to_lowercase();
    prop_assert!(
        [
            "le ", "la ", "l'", "les ", "de ", "doit", "est ", "ne ", "une ", "invalide"
        ]
        .iter()
        .any(|w| lower.contains(w)),
        "not French: {message}"
    );
    prop_assert!(
        ["invalid ", "error", "must", "expected", "failed", "the "]
            .iter()
            .all(|w| !lower.contains(w)),
        "English: {message}"
    );
    Ok(())
}

/// Parses `s` as a `T` (through `FromStr`, the same `parse` as forms and files): an accepted
/// value parses back to itself from its display, a refusal is French. The value, if any.
fn round_trips<T>(s: &str) -> Result<Option<T>, TestCaseError>
where
    T: std::str::FromStr<Err = ParseError> + std::fmt::Display + PartialEq + std::fmt::Debug,
{
    match s.parse::<T>() {
        Ok(value) => {
            let again = value.to_string().parse::<T>();
            prop_assert_eq!(again.as_ref(), Ok(&value));
            Ok(Some(value))
        }
        Err(e) => assert_french(&e.to_string()).map(|()| None),
    }
}

fn valid_uai() -> impl Strategy<Value = (String, String)> {
    const LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";
    (0u32..10_000_000, any::<bool>(), "[ \t]{0,2}", "[ \t]{0,2}").prop_map(
        |(n, lower, before, after)| {
            let letter = LETTERS.get((n % 23) as usize).copied().unwrap_or(b'A') as char;
            let canonical = format!("{n:07}{letter}");
            let typed = if lower {
                canonical.to_ascii_lowercase()
            } else {
                canonical.clone()
            };
            (format!("{before}{typed}{after}"), canonical)
        },
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn uai_never_panics_and_refuses_in_french(s in hostile()) {
        if let Some(uai) = round_trips::<Uai>(&s)? {
            prop_assert_eq!(uai.as_str().len(), 8);
            prop_assert_eq!(uai.department().len(), 3);
        }
    }

    #[test]
    fn uai_accepts_every_valid_code((typed, canonical) in valid_uai()) {
        let uai = Uai::parse(&typed).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(uai.as_str(), canonical.as_str());
    }

    #[test]
    fn ine_never_panics_and_round_trips(s in hostile()) {
        if let Some(ine) = round_trips::<Ine>(&s)? {
            prop_assert_eq!(ine.masked().chars().count(), 11);
        }
    }

    #[test]
    fn ine_accepts_eleven_letters_and_digits(s in "[0-9A-Za-z]{11}") {
        let ine = Ine::parse(&s).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(ine.as_str(), s.to_ascii_uppercase());
    }

    #[test]
    fn division_never_panics_and_round_trips(s in hostile()) {
        round_trips::<Division>(&s)?;
    }

    #[test]
    fn division_keeps_usual_codes(s in "[0-9A-Za-zÉéèàç][0-9A-Za-zÉéèàç _./-]{0,28}") {
        let d = Division::parse(&s).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(Division::parse(d.as_str()), Ok(d.clone()));
    }

    #[test]
    fn person_name_never_panics_and_round_trips(s in hostile()) {
        round_trips::<PersonName>(&s)?;
        if s.contains('\0') {
            let e = PersonName::parse(&s).err().map(|e| e.to_string()).unwrap_or_default();
            prop_assert!(e.contains("contrôle"), "NUL must be named: {e}");
        }
    }

    #[test]
    fn identifiant_never_panics_and_round_trips(s in hostile()) {
        round_trips::<Identifiant>(&s)?;
    }

    #[test]
    fn every_allocated_identifiant_parses(
        first in hostile(),
        last in hostile(),
        n in 1u32..1_000_000_000,
    ) {
        let base = identifiant_base(&first, &last);
        let id = Identifiant::numbered(&base, n);
        prop_assert_eq!(Identifiant::parse(id.as_str()), Ok(id.clone()));
        prop_assert_eq!(number_after_base(&base, id.as_str()), Some(n.max(1)));
    }

    #[test]
    fn search_keys_are_plain_ascii_words(s in hostile()) {
        let key = search_key(&s);
        prop_assert!(key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b' '));
        prop_assert!(!key.starts_with(' ') && !key.ends_with(' ') && !key.contains("  "));
        prop_assert_eq!(search_key(&key), key.clone());
    }

    #[test]
    fn motive_never_panics_and_names_a_nul(s in hostile()) {
        if round_trips::<Motive>(&s)?.is_none() && s.contains('\0') {
            let e = Motive::parse(&s).err().map(|e| e.to_string()).unwrap_or_default();
            prop_assert!(e.contains("caractère nul"), "{e}");
        }
    }

    #[test]
    fn agent_uid_never_panics_and_round_trips(s in hostile()) {
        if let Some(uid) = AgentUid::parse(&s) {
            let again = AgentUid::parse(uid.as_str()).map(|u| u.as_str().to_owned());
            prop_assert_eq!(again.as_deref(), Some(uid.as_str()));
            prop_assert!(uid.as_str().len() <= AgentUid::MAX_LEN);
        }
    }

    #[test]
    fn form_days_never_panic_and_refuse_in_french(s in hostile()) {
        match parse_form_day(&s, "de début") {
            Ok(day) => {
                let shown = day.format("%Y-%m-%d").to_string();
                prop_assert_eq!(parse_form_day(&shown, "de début"), Ok(day));
            }
            Err(e) => {
                let e = e.to_string();
                assert_french(&e)?;
                prop_assert!(e.contains("La date de début"), "{e}");
            }
        }
    }

    #[test]
    fn form_days_round_trip(y in 1900i32..=2999, ordinal in 1u32..=365) {
        let day = chrono::NaiveDate::from_yo_opt(y, ordinal)
            .ok_or_else(|| TestCaseError::reject("no such day"))?;
        let shown = day.format("%Y-%m-%d").to_string();
        prop_assert_eq!(parse_form_day(&shown, "de fin"), Ok(day));
    }

    #[test]
    fn birth_dates_never_panic_and_round_trip(s in hostile(), y in 1900i32..=2999, o in 1u32..=365) {
        match parse_birth_date(&s) {
            Ok(day) => prop_assert_eq!(parse_birth_date(&day.format("%d/%m/%Y").to_string()), Ok(day)),
            Err(e) => assert_french(&e.to_string())?,
        }
        let day = chrono::NaiveDate::from_yo_opt(y, o)
            .ok_or_else(|| TestCaseError::reject("no such day"))?;
        prop_assert_eq!(parse_birth_date(&day.format("%d/%m/%Y").to_string()), Ok(day));
        prop_assert_eq!(parse_birth_date(&day.format("%Y-%m-%d").to_string()), Ok(day));
    }

    #[test]
    fn page_numbers_stay_in_range(s in hostile(), max in 1i64..2_000_000) {
        match parse_page_number(Some(&s), max) {
            Ok(n) => prop_assert!((1..=max).contains(&n)),
            Err(e) => assert_french(&e.to_string())?,
        }
    }

    #[test]
    fn page_numbers_round_trip(max in 1i64..2_000_000, pick in any::<prop::sample::Index>()) {
        let n = 1 + pick.index(max as usize) as i64;
        prop_assert_eq!(parse_page_number(Some(&n.to_string()), max), Ok(n));
    }
}
