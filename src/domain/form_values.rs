//! Dates and page numbers as forms and query strings send them.

use chrono::{Datelike, NaiveDate};

use super::ParseError;

/// The years a form date may name: far enough for any journal or delegation, and far from
/// the calendar's ends, so no later arithmetic on the date can overflow.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

/// A day typed in a date field (`AAAA-MM-JJ`, what `<input type="date">` sends). `what`
/// completes the message: "de début", "de fin".
pub fn parse_form_day(input: &str, what: &str) -> Result<NaiveDate, ParseError> {
    let refuse = || {
        ParseError::new(format!(
            "La date {what} doit être une date valide (AAAA-MM-JJ)."
        ))
    };
    let s = input.trim();
    // Exactly 10 ASCII characters: chrono would take a sign, a 5-digit year or padding.
    if s.len() != 10 || !s.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return Err(refuse());
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| refuse())?;
    if !YEARS.contains(&day.year()) {
        return Err(refuse());
    }
    Ok(day)
}

/// A birth date as a first sign-in form sends it: `AAAA-MM-JJ` (a date field) or
/// `JJ/MM/AAAA` (typed where the browser shows a plain text field).
pub fn parse_birth_date(input: &str) -> Result<NaiveDate, ParseError> {
    let refuse = || {
        ParseError::new("La date de naissance doit être une date valide, par exemple 14/05/2012.")
    };
    let s = input.trim();
    if !s.contains('/') {
        return parse_form_day(s, "de naissance").map_err(|_| refuse());
    }
    // Exactly JJ/MM/AAAA in ASCII: chrono would take one-digit fields or a sign.
    let shape = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 2 || i == 5 {
                b == b'/'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shape {
        return Err(refuse());
    }
    let day = NaiveDate::parse_from_str(s, "%d/%m/%Y").map_err(|_| refuse())?;
    if !YEARS.contains(&day.year()) {
        return Err(refuse());
    }
    Ok(day)
}

/// A page number from a query string: absent or blank is page 1; otherwise 1 to `max`.
pub fn parse_page_number(input: Option<&str>, max: i64) -> Result<i64, ParseError> {
    let Some(text) = input.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok(1);
    };
    text.parse::<i64>()
        .ok()
        .filter(|p| (1..=max).contains(p))
        .ok_or_else(|| ParseError::new("Numéro de page invalide."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_in_the_form_format_only() {
        assert_eq!(
            parse_form_day(" 2026-11-26 ", "de début").unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
        );
        for s in [
            "",
            "26/11/2026",
            "2026-02-30",
            "+2026-11-26",
            "20260-11-26",
            "2026-1-2",
            "0001-01-01",
            "9999-12-31",
            "2026-11-26\0",
        ] {
            let e = parse_form_day(s, "de fin").unwrap_err().to_string();
            assert!(e.contains("La date de fin"), "{s:?}: {e}");
        }
    }

    #[test]
    fn birth_dates_either_way() {
        let day = NaiveDate::from_ymd_opt(2012, 5, 14).unwrap();
        assert_eq!(parse_birth_date("2012-05-14"), Ok(day));
        assert_eq!(parse_birth_date(" 14/05/2012 "), Ok(day));
        for s in [
            "",
            "14/5/2012",
            "14-05-2012",
            "2012/05/14",
            "31/02/2012",
            "14/05/0012",
            "+4/05/2012",
            "１4/05/2012",
            "14/05/2012\0",
        ] {
            let e = parse_birth_date(s).unwrap_err().to_string();
            assert!(e.contains("La date de naissance"), "{s:?}: {e}");
        }
    }

    #[test]
    fn page_numbers() {
        assert_eq!(parse_page_number(None, 10), Ok(1));
        assert_eq!(parse_page_number(Some("  "), 10), Ok(1));
        assert_eq!(parse_page_number(Some(" 3 "), 10), Ok(3));
        for s in ["0", "-1", "11", "1e3", "٣", "99999999999999999999"] {
            assert!(parse_page_number(Some(s), 10).is_err(), "{s:?}");
        }
    }
}
