use super::ParseError;
use super::text::text_value;

/// The login of a pupil or parent: `j.dupont`, `j.dupont2` (BRIEF rule 14).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identifiant(String);

/// Longest surname part of an identifiant.
pub const MAX_SURNAME_CHARS: usize = 20;

impl Identifiant {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let s = input.trim().to_ascii_lowercase();
        let refuse = || {
            ParseError::new(
                "Identifiant invalide : il a la forme initiale du prénom, un point, le nom (ex. j.dupont ou j.dupont2).",
            )
        };
        let (initial, rest) = s.split_once('.').ok_or_else(refuse)?;
        if initial.len() != 1 || !initial.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(refuse());
        }
        let letters = rest.bytes().take_while(u8::is_ascii_lowercase).count();
        let (name, digits) = rest.split_at(letters);
        if name.is_empty() || name.len() > MAX_SURNAME_CHARS {
            return Err(refuse());
        }
        if !digits.is_empty() {
            let n: u64 = digits.parse().map_err(|_| refuse())?;
            if n < 2 || digits.starts_with('0') || digits.len() > 9 {
                return Err(refuse());
            }
        }
        Ok(Self(s))
    }

    /// `base` followed by `n` (n ≥ 2), or `base` alone for the first.
    pub fn numbered(base: &str, n: u32) -> Self {
        if n < 2 {
            Self(base.to_owned())
        } else {
            Self(format!("{base}{n}"))
        }
    }
}

text_value!(Identifiant, parse);

/// The identifiant before numbering: initial of the first name, `.`, the surname
/// transliterated to lowercase ASCII without spaces, apostrophes or hyphens, at most
/// 20 characters, `x` where nothing is left.
pub fn identifiant_base(first_name: &str, surname: &str) -> String {
    let letters = |s: &str| -> String {
        deunicode::deunicode(s)
            .chars()
            .filter(char::is_ascii_alphabetic)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let initial = letters(first_name).chars().next().unwrap_or('x');
    let mut name: String = letters(surname).chars().take(MAX_SURNAME_CHARS).collect();
    if name.is_empty() {
        name.push('x');
    }
    format!("{initial}.{name}")
}

/// The number that `existing` identifiant takes after `base` (1 for the bare base),
/// or `None` when it is another base (`j.dupontel` is not `j.dupont` numbered).
pub fn number_after_base(base: &str, existing: &str) -> Option<u32> {
    let rest = existing.strip_prefix(base)?;
    if rest.is_empty() {
        return Some(1);
    }
    if rest.starts_with('0') || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

/// The smallest free number ≥ 2 after `base`, given the numbers already taken.
pub fn first_free_number(taken: &[u32]) -> u32 {
    if !taken.contains(&1) {
        return 1;
    }
    let mut n = 2;
    while taken.contains(&n) {
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_bases_from_hostile_names() {
        for [first_name, surname, base] in [
            ["Jean", "Dupont", "j.dupont"],
            ["Zoë", "Lefèvre", "z.lefevre"],
            ["Éloïse", "O'Brien", "e.obrien"],
            ["Anna", "Müller-Lüdenscheidt", "a.mullerludenscheidt"],
            ["Jean-Baptiste", "De La Fontaine", "j.delafontaine"],
            ["Œdipe", "Straße", "o.strasse"],
            ["", "<script>", "x.script"],
            ["123", "---", "x.x"],
            [
                "Li",
                "Wolfeschlegelsteinhausenbergerdorff",
                "l.wolfeschlegelsteinha",
            ],
        ] {
            assert_eq!(
                identifiant_base(first_name, surname),
                base,
                "{first_name} {surname}"
            );
        }
        let long = "é".repeat(10_000);
        assert_eq!(identifiant_base(&long, &long).len(), 2 + MAX_SURNAME_CHARS);
    }

    #[test]
    fn numbers_the_smallest_free_slot() {
        assert_eq!(first_free_number(&[]), 1);
        assert_eq!(first_free_number(&[1]), 2);
        assert_eq!(first_free_number(&[1, 2, 4]), 3);
        assert_eq!(first_free_number(&[2, 3]), 1);
        assert_eq!(number_after_base("j.dupont", "j.dupont"), Some(1));
        assert_eq!(number_after_base("j.dupont", "j.dupont12"), Some(12));
        assert_eq!(number_after_base("j.dupont", "j.dupontel"), None);
        assert_eq!(number_after_base("j.dupont", "j.dupont02"), None);
        assert_eq!(Identifiant::numbered("j.dupont", 1).as_str(), "j.dupont");
        assert_eq!(Identifiant::numbered("j.dupont", 3).as_str(), "j.dupont3");
    }

    #[test]
    fn parses_logins() {
        assert_eq!(
            Identifiant::parse(" J.Dupont2 ").unwrap().as_str(),
            "j.dupont2"
        );
        for s in [
            "",
            "j.",
            ".dupont",
            "jd.dupont",
            "j.dupont1",
            "j.dupont02",
            "j.du pont",
            "j.dupont*",
            "*",
            "j.dupont)(uid=*",
        ] {
            assert!(Identifiant::parse(s).is_err(), "{s:?}");
        }
    }
}
