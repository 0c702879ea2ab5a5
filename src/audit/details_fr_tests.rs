use std::path::Path;

use super::*;

/// Texts the code writes through a variable (a refusal's reason, a joined list, a format),
/// as the suite stores them: each has its French.
const WRITTEN: &[&str] = &[
    "not allowed: no right on this establishment",
    "not allowed: delegate no longer attached to this establishment",
    "not allowed: principals only",
    "not allowed: delegation of another scope",
    "same scope already delegated (grantee cpe.college)",
    "no grantee (grantee refer\u{2400}ent)",
    "longer than a year (grantee referent)",
    "to cpe.college scope eleves from 2026-12-02 until 2027-08-31",
    "referent scope responsables",
    "until 2027-06-30 → 2027-08-31",
    "attached: 0691234S → 0691234S, 0692418D; responsible: — → 0691234S",
    "1 session ended",
    "3 sessions ended",
    "wrong password, wrong birth date",
    "account not awaiting activation (state active), wrong password",
    "attached,direction",
    "attached=0691234S,0692418D responsible=0691234S",
    "refused: logout token: not a signed JWT",
    "refused: logout token: claim aud missing or wrong",
    "refused: logout token: algorithm HS256 refused",
    "refused: token endpoint: invalid_grant",
    "refused: CAS answered no",
    "refused: CAS INVALID_TICKET",
    "refused: the CAS answer has no attribute mail",
    "identity provider unreachable: error sending request",
    "identity provider answered garbage: serviceValidate: not a serviceResponse document",
    "the provider answered access_denied",
    "establishments=2 agents=7 pupils=40 parents=60",
];

fn english_left(french: &str) -> Option<&'static str> {
    [
        "allowed",
        "scope",
        "grantee",
        "refused",
        "token",
        "session ended",
        "wrong",
        "until",
        "provider",
        "signed",
        "attached",
        "responsible",
        "password",
        "unknown",
    ]
    .into_iter()
    .find(|w| french.contains(w))
}

#[test]
fn every_written_text_reads_in_french() {
    for stored in WRITTEN {
        let french = translate(stored).unwrap_or_else(|| panic!("no French for {stored:?}"));
        assert_eq!(english_left(&french), None, "{stored:?} → {french:?}");
    }
    for (stored, french) in WHOLE {
        assert_eq!(english_left(french), None, "{stored:?} → {french:?}");
    }
}

#[test]
fn the_variable_parts_are_carried_over() {
    let f = |s| french_details(s).into_owned();
    assert_eq!(
        f("not allowed: no right on this establishment"),
        "refusé : aucun droit sur cet établissement"
    );
    assert_eq!(
        f("to slefevre scope eleves from 2026-12-02 until 2027-08-31"),
        "à slefevre, droit sur les élèves, du 02/12/2026 au 31/08/2027"
    );
    assert_eq!(
        f("bad motive (grantee referent)"),
        "motif invalide (personnel « referent »)"
    );
    assert_eq!(
        f("account not awaiting activation (state bloque)"),
        "compte qui n'attend pas d'activation (état « Bloqué »)"
    );
    assert_eq!(f("2 sessions ended"), "2 sessions terminées");
    assert_eq!(
        f("refused: ID token: Expired: at 10:00"),
        "refusé : jeton d'identité : Expired: at 10:00"
    );
    assert_eq!(
        f("attached=0691234S,0692418D"),
        "rattaché à 0691234S, 0692418D"
    );
}

#[test]
fn an_unknown_text_is_shown_as_stored() {
    for stored in [
        "réinitialisation individuelle",
        "something new: 3",
        "« Activé » → « Désactivé »",
        "élèves : 3 créés, 0 mis à jour",
        "x scope planets",
        "",
    ] {
        assert_eq!(french_details(stored), stored);
    }
}

/// The calls that hand a literal to an audit row's details (directly or as the reason a
/// refusal records), scanned in `src/`: each literal has its French, or is French already.
#[test]
fn every_literal_the_code_writes_has_its_french() {
    const CALLS: &[&str] = &[
        ".details(",
        "refused(",
        "failed(",
        "Refused(",
        "DUMMY_HASH, Some(",
        "InvalidCredentials(",
        "h.as_str(), Some(",
        "row(Outcome::Failure, ",
        "Refusal::Hidden(",
        "Refusal::Forbidden(",
        "GrantRefusal::bad(",
        "reason: ",
        "let why = ",
        "at.event(Outcome::Success, ",
        "arrival_event(stamp, now, via, None, Outcome::Refused, ",
    ];
    // Literals the scan finds after those calls that never reach an audit row's details.
    const NOT_DETAILS: &[&str] = &["unknown outcome", "no certificate found"];
    let mut seen = 0;
    let mut missing = Vec::new();
    for file in rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src")) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        // The code, not its tests (at the end of a file).
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for call in CALLS {
            for literal in literals_after(text, call) {
                seen += 1;
                let known = translate(&literal).is_some() || looks_french(&literal);
                if !known && !NOT_DETAILS.contains(&literal.as_str()) {
                    missing.push(format!("{}: {literal:?}", file.display()));
                }
            }
        }
    }
    assert!(seen > 40, "the scan finds the calls ({seen})");
    assert!(missing.is_empty(), "no French for:\n{}", missing.join("\n"));
}

/// Already French: an accented letter or French quotes.
fn looks_french(text: &str) -> bool {
    text.chars().any(|c| "éèêàâçùûôîœ«»".contains(c))
}

/// The string literals right after each `call` (after blanks and a line break).
fn literals_after(text: &str, call: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices(call) {
        let rest = text[at + call.len()..].trim_start();
        let Some(body) = rest.strip_prefix('"') else {
            continue;
        };
        let mut literal = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => {
                    if let Some(next) = chars.next() {
                        literal.push(next);
                    }
                }
                c => literal.push(c),
            }
        }
        found.push(literal);
    }
    found
}

fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs")
            && !path.to_string_lossy().ends_with("_tests.rs")
        {
            files.push(path);
        }
    }
    files
}

#[test]
fn each_template_has_the_same_parts_in_french() {
    for (stored, french) in TEMPLATES {
        let kinds = |t: &str| {
            let (_, parts) = cut(t);
            parts.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>()
        };
        assert_eq!(kinds(stored), kinds(french), "{stored:?}");
        assert!(!cut(stored).1.is_empty(), "{stored:?} has a variable part");
    }
}
