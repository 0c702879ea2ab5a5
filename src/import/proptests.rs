//! Property tests over the readers of outside files: SIECLE XML (both files) and CSV.
//! Arbitrary bytes, valid files with random mutations, and hostile XML declarations never
//! panic; each reader returns `Ok` or a French error, and its warnings are French too.
//! The number of cases is bounded in the normal suite (128); `PROPTEST_CASES=100000` runs
//! them long (docs/operations.md).

use proptest::prelude::*;

use super::synthetic::{Synthetic, guardians_xml, pupils_xml};
use super::{ImportData, ImportError, csv_input, siecle};
use crate::domain::Uai;

const UAI: &str = "0691234S";

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(128);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn synthetic(latin9: bool, ids_as_elements: bool) -> Synthetic {
    Synthetic {
        uai: UAI.into(),
        year: "2026".into(),
        pupils: 6,
        latin9,
        ids_as_elements,
        leavers: vec![3],
        first: 0,
    }
}

/// English words that would betray an untranslated message (whole words only).
const ENGLISH: &[&str] = &[
    "the",
    "is",
    "line",
    "expected",
    "missing",
    "not",
    "file",
    "unknown",
    "invalid",
    "error",
    "found",
    "pupil",
    "guardian",
    "skipped",
    "empty",
    "truncated",
    "malformed",
    "record",
];

/// Our own words must be French; what the file says (quoted « … », an element name between
/// < >, or any word found in the file itself: ids are echoed) is left out of the check.
fn assert_french(text: &str, file: &[u8]) {
    let echoed = |w: &str| {
        let w = w.to_lowercase();
        String::from_utf8_lossy(file).to_lowercase().contains(&w)
            || encoding_rs::ISO_8859_15
                .decode(file)
                .0
                .to_lowercase()
                .contains(&w)
    };
    // Everything from the first « to the last » is quoted file content.
    let unquoted = match (text.find('«'), text.rfind('»')) {
        (Some(a), Some(b)) if a < b => format!(
            "{}{}",
            text.get(..a).unwrap_or_default(),
            text.get(b..).unwrap_or_default()
        ),
        _ => text.to_owned(),
    };
    let mut ours = String::new();
    let mut depth = 0usize;
    for c in unquoted.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            _ if depth == 0 => ours.push(c),
            _ => {}
        }
    }
    for word in ours.split(|c: char| !c.is_alphabetic()) {
        assert!(
            !ENGLISH.contains(&word) || echoed(word),
            "English word {word:?} in {text:?}"
        );
    }
}

/// Runs the four readers on `bytes`; checks their errors and warnings are French.
fn read_all(bytes: &[u8]) {
    let uai = Uai::parse(UAI).unwrap_or_else(|_| unreachable!());
    let check = |r: Result<(), ImportError>, d: &ImportData| {
        if let Err(e) = r {
            assert!(matches!(e, ImportError::Fatal { .. }), "{e:?}");
            assert_french(&e.to_string(), bytes);
        }
        for w in &d.warnings {
            assert_french(w, bytes);
        }
    };
    let mut d = ImportData::default();
    let r = siecle::read_pupils(bytes, &uai, &mut d);
    check(r, &d);
    let r = siecle::read_guardians(bytes, &uai, &mut d);
    check(r, &d);
    let mut d = ImportData::default();
    let r = csv_input::read_pupils(bytes, &mut d);
    check(r, &d);
    let r = csv_input::read_guardians(bytes, &mut d);
    check(r, &d);
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Remove(usize),
    Insert(usize, u8),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let special = prop::sample::select(b"<>&;\"'=/?!-[]\xff\xfe\xc3\xa9\x00\n".to_vec());
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
        (any::<usize>(), special).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..200).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn mutate(mut b: Vec<u8>, ms: &[Mutation]) -> Vec<u8> {
    for m in ms {
        let len = b.len().max(1);
        match *m {
            Mutation::Set(i, v) => {
                if let Some(x) = b.get_mut(i % len) {
                    *x = v;
                }
            }
            Mutation::Remove(i) => {
                if !b.is_empty() {
                    b.remove(i % len);
                }
            }
            Mutation::Insert(i, v) => b.insert((i % len).min(b.len()), v),
            Mutation::Truncate(i) => b.truncate(i % len),
            Mutation::Duplicate(i, n) => {
                let start = (i % len).min(b.len());
                let end = (start + n).min(b.len());
                let piece = b.get(start..end).unwrap_or_default().to_vec();
                b.splice(start..start, piece);
            }
        }
    }
    b
}

fn valid_file() -> impl Strategy<Value = Vec<u8>> {
    (any::<bool>(), any::<bool>(), 0u8..3).prop_map(|(latin9, elements, which)| {
        let sy = synthetic(latin9, elements);
        match which {
            0 => pupils_xml(&sy),
            1 => guardians_xml(&sy),
            _ => encoding_rs::ISO_8859_15
                .encode(
                    "id;ine;nom;prenom;date_naissance;division;date_sortie\n1;123456789AB;Lefèvre;Zoë;14/05/2012;3A;\n2;;N'Diaye;Anaïs;2012-06-01;3B;01/10/2026\n",
                )
                .0
                .into_owned(),
        }
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic_the_readers(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        read_all(&bytes);
    }

    #[test]
    fn mutated_valid_files_never_panic_the_readers(
        file in valid_file(),
        ms in prop::collection::vec(mutation(), 1..12),
    ) {
        read_all(&mutate(file, &ms));
    }

    #[test]
    fn any_bytes_in_the_xml_declaration_never_panic(
        label in prop::collection::vec(any::<u8>(), 0..40),
        quote in prop::sample::select(vec![&b"\""[..], b"'", b"", b"\xc3\xa9"]),
        rest in prop::sample::select(vec![0usize, 1, 2]),
    ) {
        let sy = synthetic(false, false);
        let body = pupils_xml(&sy);
        let after_decl = body
            .iter()
            .position(|b| *b == b'\n')
            .map(|i| body.get(i..).unwrap_or_default().to_vec())
            .unwrap_or_default();
        let mut b = b"<?xml version=\"1.0\" encoding=".to_vec();
        b.extend_from_slice(quote);
        b.extend_from_slice(&label);
        b.extend_from_slice(quote);
        b.extend_from_slice([&b"?>"[..], b" ?>", b""][rest]);
        b.extend_from_slice(&after_decl);
        read_all(&b);
    }
}

#[test]
fn the_valid_files_read_without_error() {
    let uai = Uai::parse(UAI).unwrap_or_else(|_| unreachable!());
    for (latin9, elements) in [(false, false), (true, true)] {
        let sy = synthetic(latin9, elements);
        let mut d = ImportData::default();
        assert!(siecle::read_pupils(&pupils_xml(&sy), &uai, &mut d).is_ok());
        assert!(siecle::read_guardians(&guardians_xml(&sy), &uai, &mut d).is_ok());
        assert_eq!(d.pupils.len(), 6);
        for w in &d.warnings {
            assert_french(w, b"");
        }
    }
}
