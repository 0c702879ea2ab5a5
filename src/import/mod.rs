//! Imports of the establishments' management data: SIECLE/BEE XML exports and CSV files.
//! Reading is separate from writing: the readers build an [`ImportData`] (with row-level
//! warnings), then [`apply::apply`] writes everything in one short transaction.

pub mod apply;
mod arrivals;
pub mod csv_input;
mod guardians;
mod messages;
pub mod order;
#[cfg(test)]
mod proptests;
mod pupil_rows;
pub mod purge;
pub mod siecle;
pub mod synthetic;
pub mod transfer_lines;
pub mod transfers;
pub(crate) mod xml;
mod xml_errors;

use chrono::{NaiveDate, NaiveDateTime};

/// A pupil as the file describes him.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PupilRecord {
    /// `ELEVE_ID`: local to the establishment's base.
    pub source_id: String,
    pub ine: Option<String>,
    pub last_name: String,
    pub first_name: String,
    pub birth_date: NaiveDate,
    pub division: Option<String>,
    pub left_on: Option<NaiveDate>,
}

impl PupilRecord {
    /// How a message names him: "Zoë Lefèvre (n° 100005)".
    pub fn label(&self) -> String {
        messages::person(&self.first_name, &self.last_name, &self.source_id)
    }
}

/// A legal guardian (`PERSONNE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardianRecord {
    pub source_id: String,
    pub last_name: String,
    pub first_name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
}

/// The guardians of `people` that `links` use, in the order of their ids.
fn linked_guardians(
    people: std::collections::HashMap<String, GuardianRecord>,
    links: &[LinkRecord],
) -> Vec<GuardianRecord> {
    let used: std::collections::HashSet<&str> = links
        .iter()
        .map(|l| l.guardian_source_id.as_str())
        .collect();
    let mut guardians: Vec<GuardianRecord> = people
        .into_values()
        .filter(|g| used.contains(g.source_id.as_str()))
        .collect();
    guardians.sort_by(|a, b| a.source_id.cmp(&b.source_id));
    guardians
}

/// A pupil–guardian link with the legal rank (1 or 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    pub pupil_source_id: String,
    pub guardian_source_id: String,
    pub rank: i16,
}

/// Everything read from the files, ready to be written.
#[derive(Debug, Clone, Default)]
pub struct ImportData {
    pub uai: String,
    /// `ANNEE_SCOLAIRE` (the first year of the school year, e.g. `2026`); for a CSV, the
    /// year given with the file.
    pub school_year: Option<String>,
    /// The export's date and time (`PARAMETRES`), when the file says it.
    pub exported_at: Option<NaiveDateTime>,
    pub pupils: Vec<PupilRecord>,
    pub guardians: Vec<GuardianRecord>,
    pub links: Vec<LinkRecord>,
    pub warnings: Vec<String>,
}

/// A problem that stops the import: nothing is written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file} : {message}")]
    Fatal { file: String, message: String },
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

impl ImportError {
    pub fn fatal(file: &str, message: impl Into<String>) -> Self {
        ImportError::Fatal {
            file: file.to_owned(),
            message: message.into(),
        }
    }
}

/// Decodes a text file by the encoding its XML declaration names or, when none is named,
/// by trying UTF-8 then ISO-8859-15 (Latin-9). A UTF-8 byte-order mark is dropped.
pub fn decode(
    bytes: &[u8],
    declared: Option<&'static encoding_rs::Encoding>,
) -> Result<String, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let encoding = match declared {
        None => match std::str::from_utf8(bytes) {
            Ok(s) => return Ok(s.to_owned()),
            Err(_) => encoding_rs::ISO_8859_15,
        },
        Some(e) => e,
    };
    let (text, _, had_errors) = encoding.decode(bytes);
    if had_errors && encoding == encoding_rs::UTF_8 {
        return Err("le fichier n'est pas en UTF-8 alors qu'il l'annonce".into());
    }
    Ok(text.into_owned())
}

/// A French day `dd/mm/yyyy` (or ISO `yyyy-mm-dd`).
pub fn parse_day(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%d/%m/%Y")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y-%m-%d"))
        .ok()
}

/// Trims and folds white space; `None` when empty.
pub fn clean(s: &str) -> Option<String> {
    let t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (!t.is_empty()).then_some(t)
}
