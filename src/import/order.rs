//! The order of files: each establishment records the last file applied (its school year,
//! then the export's date and time from `PARAMETRES`), and an older file is refused unless
//! forced (`--force` on the command line, audited). A CSV carries neither: its school year
//! comes from the form or from `--annee`.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};

use super::parse_day;

/// A school year by its first year (`2026` for 2026-2027), as `ANNEE_SCOLAIRE` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SchoolYear(u16);

impl SchoolYear {
    /// `2026` or `2026-2027` (also with `/`); between 2000 and 2100.
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        let bad = || {
            format!(
                "l'année scolaire « {} » n'est pas valide : écrivez l'année de la rentrée, par exemple 2026 pour 2026-2027",
                s.chars().take(20).collect::<String>()
            )
        };
        let (first, second) = match s.split_once(['-', '/']) {
            Some((a, b)) => (a.trim(), Some(b.trim())),
            None => (s, None),
        };
        if first.len() != 4 || !first.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: u16 = first.parse().map_err(|_| bad())?;
        if !(2000..=2100).contains(&year) {
            return Err(bad());
        }
        if let Some(next) = second
            && next.parse::<u16>().ok() != Some(year + 1)
        {
            return Err(bad());
        }
        Ok(Self(year))
    }

    /// The school year that holds `day`: from August on, the year starting then.
    pub fn of_day(day: NaiveDate) -> Self {
        use chrono::Datelike;
        let y = u16::try_from(day.year()).unwrap_or(2000);
        Self(if day.month() >= 8 {
            y
        } else {
            y.saturating_sub(1)
        })
    }

    pub fn first_year(self) -> u16 {
        self.0
    }

    /// As stored: `2026`.
    pub fn as_stored(self) -> String {
        self.0.to_string()
    }

    /// As shown: `2026-2027`.
    pub fn label(self) -> String {
        format!("{}-{}", self.0, self.0 + 1)
    }
}

/// The export's date and time from `PARAMETRES`: `HORODATAGE` (`dd/mm/yyyy hh:mm:ss`), else
/// `DATE_EXPORT` (a day). `None` when absent or unreadable.
pub fn exported_at(params: &HashMap<String, String>) -> Option<NaiveDateTime> {
    if let Some(h) = params.get("HORODATAGE") {
        let h = h.trim();
        for format in ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S"] {
            if let Ok(t) = NaiveDateTime::parse_from_str(h, format) {
                return Some(t);
            }
        }
    }
    params
        .get("DATE_EXPORT")
        .and_then(|d| parse_day(d))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// A file's place in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub year: SchoolYear,
    pub exported_at: Option<NaiveDateTime>,
}

impl FileStamp {
    /// Whether this file is older than `last`: an earlier school year, or the same year and
    /// an earlier export (when both say when they were exported).
    pub fn is_older_than(&self, last: &FileStamp) -> bool {
        match self.year.cmp(&last.year) {
            std::cmp::Ordering::Less => true,
            std::cmp::Ordering::Greater => false,
            std::cmp::Ordering::Equal => match (self.exported_at, last.exported_at) {
                (Some(new), Some(old)) => new < old,
                _ => false,
            },
        }
    }

    /// The stamp to record once this file is applied after `last`: a same-year file that
    /// does not say when it was exported keeps the known export time.
    pub fn recorded_after(&self, last: Option<&FileStamp>) -> FileStamp {
        match last {
            Some(l) if l.year == self.year && self.exported_at.is_none() => FileStamp {
                year: self.year,
                exported_at: l.exported_at,
            },
            _ => *self,
        }
    }

    /// `l'année scolaire 2026-2027, export du 12/09/2026 à 08:00`
    pub fn describe(&self) -> String {
        match self.exported_at {
            Some(t) => format!(
                "année scolaire {}, export du {}",
                self.year.label(),
                t.format("%d/%m/%Y à %H:%M")
            ),
            None => format!("année scolaire {}", self.year.label()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(year: &str, at: Option<&str>) -> FileStamp {
        FileStamp {
            year: SchoolYear::parse(year).unwrap(),
            exported_at: at.map(|a| NaiveDateTime::parse_from_str(a, "%d/%m/%Y %H:%M:%S").unwrap()),
        }
    }

    #[test]
    fn school_years_parse_in_both_spellings_and_refuse_the_rest() {
        assert_eq!(SchoolYear::parse("2026").unwrap().first_year(), 2026);
        assert_eq!(SchoolYear::parse(" 2026-2027 ").unwrap().first_year(), 2026);
        assert_eq!(SchoolYear::parse("2026/2027").unwrap().label(), "2026-2027");
        for bad in [
            "",
            "26",
            "2026-2028",
            "1999",
            "2101",
            "２０２６",
            "2026-",
            "abcd",
            "é2026",
        ] {
            let e = SchoolYear::parse(bad).unwrap_err();
            assert!(e.contains("n'est pas valide"), "{bad}: {e}");
        }
        let d = |y, m| NaiveDate::from_ymd_opt(y, m, 1).unwrap();
        assert_eq!(SchoolYear::of_day(d(2026, 11)).first_year(), 2026);
        assert_eq!(SchoolYear::of_day(d(2027, 3)).first_year(), 2026);
        assert_eq!(SchoolYear::of_day(d(2027, 8)).first_year(), 2027);
    }

    #[test]
    fn an_older_year_or_export_is_older_and_a_missing_time_never_is() {
        let last = stamp("2027", Some("12/09/2027 08:00:00"));
        assert!(stamp("2026", Some("01/06/2027 08:00:00")).is_older_than(&last));
        assert!(stamp("2026", None).is_older_than(&last));
        assert!(stamp("2027", Some("11/09/2027 08:00:00")).is_older_than(&last));
        assert!(!stamp("2027", Some("12/09/2027 08:00:00")).is_older_than(&last));
        assert!(!stamp("2027", None).is_older_than(&last));
        assert!(!stamp("2028", None).is_older_than(&last));
        let kept = stamp("2027", None).recorded_after(Some(&last));
        assert_eq!(kept, last);
        let params: HashMap<String, String> = [
            ("HORODATAGE".to_owned(), "12/09/2027 08:15:02".to_owned()),
            ("DATE_EXPORT".to_owned(), "11/09/2027".to_owned()),
        ]
        .into();
        assert_eq!(
            exported_at(&params).unwrap().to_string(),
            "2027-09-12 08:15:02"
        );
        let params: HashMap<String, String> =
            [("DATE_EXPORT".to_owned(), "11/09/2027".to_owned())].into();
        assert_eq!(
            exported_at(&params).unwrap().to_string(),
            "2027-09-11 00:00:00"
        );
    }
}
