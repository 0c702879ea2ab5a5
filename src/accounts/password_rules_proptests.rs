//! Property tests of the password rules: any password (multi-byte, NUL, 10 kB) is judged
//! without a panic and in French, enough characters of every class pass any rule, any class
//! text finds its level.

use proptest::prelude::*;

use super::tests::{rule, rules};
use super::*;
use crate::config::MAX_MIN_LENGTH;
use crate::domain::proptests::{assert_french, config, hostile};

fn any_rule() -> impl Strategy<Value = PasswordRule> {
    (1usize..=MAX_MIN_LENGTH, 1u8..=4).prop_map(|(n, c)| rule(n, c))
}

proptest! {
    #![proptest_config(config())]

    /// Any text: no panic, `check` agrees with `failures`, every failure is French.
    #[test]
    fn any_password_is_judged_in_french(password in hostile(), r in any_rule()) {
        let failures = r.failures(&password);
        prop_assert_eq!(r.check(&password).is_ok(), failures.is_empty());
        for f in &failures {
            assert_french(&f.to_string())?;
        }
        let count = password.chars().count();
        prop_assert_eq!(
            failures.contains(&PasswordRuleError::TooShort(r.min_length)),
            count < r.min_length
        );
    }

    /// A password of enough characters from every class passes any rule.
    #[test]
    fn enough_of_every_class_passes(
        lower in "[a-zé]{1,40}",
        upper in "[A-ZÉ]{1,40}",
        digits in "[0-9]{1,40}",
        other in "[-!?*#@ ]{1,40}",
        r in any_rule(),
    ) {
        let mut password = format!("{upper}{lower}{digits}{other}");
        while password.chars().count() < r.min_length {
            password.push('x');
        }
        prop_assert_eq!(r.check(&password), Ok(()));
    }

    /// Any class text: no panic, and the level found is the first whose prefix starts it.
    #[test]
    fn any_class_finds_one_level(text in hostile()) {
        let r = rules();
        if let Ok(d) = Division::parse(&text) {
            let got = r.for_pupil(Some(&d));
            let college = d.as_str().starts_with('6') || d.as_str().starts_with('5');
            prop_assert_eq!(got.min_length, if college { 8 } else { 12 });
        }
    }
}
