//! How an entry becomes an agent: direction by responsibility, or by function on the main
//! attachment only.

use super::*;

const COLLEGE: &str = "0691234S";
const LYCEE: &str = "0692418D";

/// An attribute and its values.
type Attr<'a> = (&'a str, &'a [&'a str]);

fn entry(attrs: &[Attr]) -> SearchEntry {
    let mut all: HashMap<String, Vec<String>> = attrs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
        .collect();
    all.insert("uid".into(), vec!["adurand".into()]);
    SearchEntry {
        dn: "uid=adurand,ou=personnels,dc=ac-test,dc=fr".into(),
        attrs: all,
        bin_attrs: HashMap::new(),
    }
}

/// The UAIs an agent with these attributes is direction staff of, under `settings`.
fn direction_with(settings: &LdapSettings, attrs: &[Attr]) -> Vec<String> {
    to_agent(settings, entry(attrs))
        .responsible_for
        .iter()
        .map(|u| u.as_str().to_owned())
        .collect()
}

fn direction(attrs: &[Attr]) -> Vec<String> {
    direction_with(&LdapSettings::default(), attrs)
}

const ATTACHED: Attr = (
    "FrEduRne",
    &[
        "0691234S$UAJ$PU$N$T3$CLG$340",
        "0692418D$UAJ$PU$N$T3$LYC$300",
    ],
);

#[test]
fn a_direction_function_counts_on_the_main_attachment_only() {
    let deputy = [ATTACHED, ("FrEduFonctAdm", &["DIR"]), ("rne", &[COLLEGE])];
    assert_eq!(direction(&deputy), [COLLEGE]);
    // Attribute names and the function's case do not matter; fields after `$` are skipped.
    let spelled = [
        ATTACHED,
        ("fredufonctadm", &["dir$2026"]),
        ("RNE", &["0692418D$UAJ"]),
    ];
    assert_eq!(direction(&spelled), [LYCEE]);
}

#[test]
fn no_direction_without_a_direction_function_or_a_main_attachment_he_holds() {
    let cases: &[(&str, &[Attr])] = &[
        (
            "a teacher",
            &[ATTACHED, ("FrEduFonctAdm", &["ENS"]), ("rne", &[COLLEGE])],
        ),
        (
            "a function starting with DIR",
            &[
                ATTACHED,
                ("FrEduFonctAdm", &["DIRECTEUR"]),
                ("rne", &[COLLEGE]),
            ],
        ),
        (
            "no main attachment",
            &[ATTACHED, ("FrEduFonctAdm", &["DIR"])],
        ),
        (
            "a main attachment he is not attached to",
            &[
                ATTACHED,
                ("FrEduFonctAdm", &["DIR"]),
                ("rne", &["0330001X"]),
            ],
        ),
        (
            "a main attachment that is not a UAI",
            &[ATTACHED, ("FrEduFonctAdm", &["DIR"]), ("rne", &["DSDEN69"])],
        ),
        (
            "two main attachments",
            &[
                ATTACHED,
                ("FrEduFonctAdm", &["DIR"]),
                ("rne", &[COLLEGE, LYCEE]),
            ],
        ),
        ("no function", &[ATTACHED, ("rne", &[COLLEGE])]),
    ];
    for (case, attrs) in cases {
        assert!(direction(attrs).is_empty(), "{case}");
    }
}

#[test]
fn responsibility_counts_as_before_and_adds_to_a_function() {
    let principal = [("FrEduRne", &[COLLEGE][..]), ("FrEduRneResp", &[COLLEGE])];
    assert_eq!(direction(&principal), [COLLEGE]);
    let both = [
        ATTACHED,
        ("FrEduRneResp", &[COLLEGE][..]),
        ("FrEduFonctAdm", &["DIR"]),
        ("rne", &[LYCEE]),
    ];
    assert_eq!(direction(&both), [COLLEGE, LYCEE]);
}

#[test]
fn the_functions_and_attributes_are_configurable() {
    let deputy = [
        ATTACHED,
        ("title", &["PERDIR"][..]),
        ("affectation", &[LYCEE]),
    ];
    let mut s = LdapSettings::default();
    assert!(direction_with(&s, &deputy).is_empty());
    s.attributes.function = "title".into();
    s.attributes.main_attachment = "affectation".into();
    assert!(direction_with(&s, &deputy).is_empty(), "PERDIR is not DIR");
    s.direction_functions = vec!["perdir".into()];
    assert_eq!(direction_with(&s, &deputy), [LYCEE]);
    // No direction function configured: nobody is direction staff by function.
    s.direction_functions.clear();
    assert!(direction_with(&s, &deputy).is_empty());
}
