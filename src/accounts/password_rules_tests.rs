//! Tests of the password rules: the defaults' levels, each failure's French sentence,
//! characters counted (not bytes).

use super::*;

pub(super) fn rules() -> PasswordRules {
    PasswordRules::from_settings(&PasswordSettings::default())
}

pub(super) fn division(d: &str) -> Division {
    Division::parse(d).unwrap()
}

pub(super) fn rule(min_length: usize, classes: u8) -> PasswordRule {
    PasswordRule {
        label: "test".into(),
        min_length,
        classes,
        ldap_policy: None,
    }
}

#[test]
fn a_pupil_s_level_comes_from_his_class() {
    let r = rules();
    for (d, min) in [
        ("6A", 8),
        ("5EME2", 8),
        ("4B", 12),
        ("3A", 12),
        ("2NDE4", 12),
        ("TG1", 12),
        ("1STMG-2", 12),
    ] {
        let got = r.for_pupil(Some(&division(d)));
        assert_eq!(got.min_length, min, "{d}");
        assert_eq!(got.classes, 1, "{d}");
    }
    assert_eq!(
        r.for_pupil(None).label,
        "4e, 3e et lycée",
        "no class: the catch-all"
    );
    assert_eq!(r.for_parent().min_length, 12);
    assert_eq!(r.for_parent().classes, 4);
    assert_eq!(r.for_reader(true, Some(&division("6A"))), r.for_parent());
    assert_eq!(r.for_reader(false, Some(&division("6A"))).min_length, 8);
}

#[test]
fn prefixes_compare_without_case_and_a_missing_catch_all_falls_back() {
    let mut settings = PasswordSettings::default();
    settings.pupils[0].division_prefixes = vec!["seg".into()];
    settings.pupils[0].ldap_policy = Some("cn=segpa".into());
    let r = PasswordRules::from_settings(&settings);
    let segpa = r.for_pupil(Some(&division("segpa6")));
    assert_eq!(segpa.ldap_policy.as_deref(), Some("cn=segpa"));
    // Unchecked settings without any level: the parents' rule, never a panic.
    settings.pupils.clear();
    let r = PasswordRules::from_settings(&settings);
    assert_eq!(r.for_pupil(None), r.for_parent());
}

#[test]
fn each_failure_has_its_french_sentence() {
    let parents = rules().for_parent().clone();
    assert_eq!(
        parents.check("Court1!"),
        Err(PasswordRuleError::TooShort(12))
    );
    assert_eq!(
        PasswordRuleError::TooShort(12).to_string(),
        "Le mot de passe doit contenir au moins 12 caractères."
    );
    assert_eq!(
        parents.check("toutenminuscules"),
        Err(PasswordRuleError::MissingClasses(vec![
            CharClass::Uppercase,
            CharClass::Digit,
            CharClass::Other
        ]))
    );
    assert_eq!(
        parents.check("toutenminuscules").unwrap_err().to_string(),
        "Le mot de passe doit contenir au moins une majuscule, une minuscule, un chiffre et un \
         caractère spécial : il y manque une majuscule, un chiffre et un caractère spécial."
    );
    assert_eq!(
        parents.check("Presque-complet").unwrap_err().to_string(),
        "Le mot de passe doit contenir au moins une majuscule, une minuscule, un chiffre et un \
         caractère spécial : il y manque un chiffre."
    );
    assert!(parents.check("Été-2026 à Lyon").is_ok());
    let both = parents.failures("court");
    assert_eq!(both.len(), 2, "{both:?}");
    assert!(
        rule(8, 3)
            .check("seulementdeslettres")
            .unwrap_err()
            .to_string()
            .contains("au moins 3 sortes")
    );
    assert!(rule(8, 3).check("lettres et 2 chiffres").is_ok());
    assert_eq!(
        rule(1, 1).check("a\tb"),
        Err(PasswordRuleError::ControlCharacter)
    );
    assert_eq!(
        rule(1, 1).check(&"a".repeat(MAX_CHARS + 1)),
        Err(PasswordRuleError::TooLong)
    );
    assert_eq!(
        PasswordRuleError::TooShort(1).to_string(),
        "Le mot de passe doit contenir au moins 1 caractère."
    );
}

#[test]
fn characters_are_counted_not_bytes() {
    let eight = rule(8, 1);
    assert!(eight.check("éééééééé").is_ok(), "8 characters, 16 bytes");
    assert_eq!(eight.check("ééééééé"), Err(PasswordRuleError::TooShort(8)));
    assert!(eight.check("😀😀😀😀😀😀😀😀").is_ok());
}

#[test]
fn the_rule_is_described_to_its_reader() {
    let r = rules();
    assert_eq!(
        r.for_pupil(Some(&division("6A"))).describe(),
        "Votre nouveau mot de passe doit contenir au moins 8 caractères."
    );
    assert_eq!(
        r.for_parent().describe(),
        "Votre nouveau mot de passe doit contenir au moins 12 caractères, dont au moins une \
         majuscule, une minuscule, un chiffre et un caractère spécial."
    );
    assert!(rule(10, 2).describe().contains("de 2 sortes au moins"));
}
