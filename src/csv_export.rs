//! CSV exports (BRIEF rule 13): `;`-separated, UTF-8 with a BOM (so spreadsheets read the
//! accents), every cell that a spreadsheet would take for a formula neutralised.

/// Prefixes a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return with `'`.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Writes `header` and `rows` as CSV, every cell neutralised.
pub fn to_csv<R, C>(header: &[&str], rows: R) -> Result<Vec<u8>, csv::Error>
where
    R: IntoIterator<Item = C>,
    C: IntoIterator<Item = String>,
{
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(&mut out);
        w.write_record(header)?;
        for row in rows {
            let cells: Vec<String> = row
                .into_iter()
                .map(|c| neutralise(&c).into_owned())
                .collect();
            w.write_record(&cells)?;
        }
        w.flush()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        for (cell, expected) in [
            ("=1+1", "'=1+1"),
            ("+33 6", "'+33 6"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("Zoë", "Zoë"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(neutralise(cell), expected);
        }
    }

    #[test]
    fn quotes_separators_and_newlines() {
        let out = to_csv(
            &["a", "b"],
            vec![
                vec!["x;y".to_owned(), "=cmd|' /C calc'!A0".to_owned()],
                vec!["l1\nl2".to_owned(), "\"q\"".to_owned()],
            ],
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert!(text.contains("\"x;y\";'=cmd|' /C calc'!A0"));
        assert!(text.contains("\"l1\nl2\";\"\"\"q\"\"\""));
    }
}
