//! CSV imports for establishments without SIECLE. Separator `;` or `,`, UTF-8 or Latin-9,
//! a header line naming the columns (any order, case ignored):
//!
//! - pupils: `id`, `ine`, `nom`, `prenom`, `date_naissance` (dd/mm/yyyy or yyyy-mm-dd),
//!   `division`, `date_sortie` (optional);
//! - guardians: `id`, `nom`, `prenom`, `mel`, `tel_portable`, `eleve_id`, `resp_legal`
//!   (one line per guardian and pupil).

use std::collections::{HashMap, HashSet};

use super::{
    GuardianRecord, ImportData, ImportError, LinkRecord, PupilRecord, clean, decode,
    linked_guardians, messages, parse_day,
};
use crate::domain::{Division, Ine};

/// A CSV reader and the column index of each (normalised) header name.
type Table = (
    csv::Reader<std::io::Cursor<Vec<u8>>>,
    HashMap<String, usize>,
);

fn reader(file: &str, bytes: &[u8]) -> Result<Table, ImportError> {
    let text = decode(bytes, None).map_err(|m| ImportError::fatal(file, m))?;
    if text.trim().is_empty() {
        return Err(ImportError::fatal(file, "le fichier est vide"));
    }
    let first = text.lines().next().unwrap_or_default();
    let delimiter = if first.matches(';').count() >= first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(std::io::Cursor::new(text.into_bytes()));
    let headers = r
        .headers()
        .map_err(|_| ImportError::fatal(file, "la ligne d'en-tête est illisible"))?;
    let columns = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (crate::domain::search_key(h).replace(' ', "_"), i))
        .collect();
    Ok((r, columns))
}

/// One data line: its number in the file (the header is line 1) and its fields by column.
struct Line<'a> {
    number: usize,
    record: csv::StringRecord,
    columns: &'a HashMap<String, usize>,
}

impl Line<'_> {
    /// The trimmed value of column `name`; `None` when absent or blank.
    fn get(&self, name: &str) -> Option<&str> {
        self.columns
            .get(name)
            .and_then(|i| self.record.get(*i))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
}

/// The data lines of `table`; an unreadable line stops the import.
fn lines<'a>(
    file: &'a str,
    table: &'a mut Table,
) -> impl Iterator<Item = Result<Line<'a>, ImportError>> + 'a {
    let (r, columns) = table;
    let columns = &*columns;
    r.records().enumerate().map(move |(n, record)| {
        let number = n + 2;
        record
            .map(|record| Line {
                number,
                record,
                columns,
            })
            .map_err(|_| ImportError::fatal(file, format!("ligne {number} illisible")))
    })
}

fn require(
    file: &str,
    columns: &HashMap<String, usize>,
    names: &[&str],
) -> Result<(), ImportError> {
    let missing: Vec<&str> = names
        .iter()
        .filter(|n| !columns.contains_key(**n))
        .copied()
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ImportError::fatal(
            file,
            format!("colonne(s) manquante(s) : {}", missing.join(", ")),
        ))
    }
}

/// A pupil's names, or the warning saying which one is unusable.
fn pupil_names(line: &Line<'_>, id: &str) -> Result<(String, String), String> {
    messages::names("l'élève", id, line.get("nom"), line.get("prenom"))
}

/// One pupil's line, or the warning that ignores it.
fn pupil(line: &Line<'_>, id: String, warnings: &mut Vec<String>) -> Result<PupilRecord, String> {
    let (last, first) = pupil_names(line, &id)?;
    let label = messages::person(&first, &last, &id);
    let get = |k: &str| line.get(k);
    let Some(birth) = get("date_naissance").and_then(parse_day) else {
        return Err(messages::bad_birth_date(&label));
    };
    let n = line.number;
    let ine = match get("ine") {
        None => {
            warnings.push(format!("ligne {n} : {}", messages::no_ine(&label)));
            None
        }
        Some(v) => {
            let ine = Ine::parse(v).ok().map(|i| i.as_str().to_owned());
            if ine.is_none() {
                warnings.push(format!("ligne {n} : {}", messages::bad_ine(&label, v)));
            }
            ine
        }
    };
    let division = match get("division").map(|d| (d, Division::parse(d))) {
        None => None,
        Some((_, Ok(d))) => Some(d.as_str().to_owned()),
        Some((code, Err(e))) => {
            let text = messages::bad_division(&label, code, &e);
            warnings.push(format!("ligne {n} : {text}"));
            None
        }
    };
    Ok(PupilRecord {
        source_id: id,
        ine,
        last_name: last,
        first_name: first,
        birth_date: birth,
        division,
        left_on: get("date_sortie").and_then(parse_day),
    })
}

pub fn read_pupils(bytes: &[u8], data: &mut ImportData) -> Result<(), ImportError> {
    let file = "eleves.csv";
    let mut table = reader(file, bytes)?;
    require(file, &table.1, &["id", "nom", "prenom", "date_naissance"])?;
    let mut seen = HashSet::new();
    for row in lines(file, &mut table) {
        let row = row?;
        let line = row.number;
        let Some(id) = row
            .get("id")
            .map(str::to_owned)
            .filter(|i| i.chars().count() <= 40)
        else {
            data.warnings.push(format!(
                "ligne {line} : un élève sans numéro utilisable (colonne id) est ignoré"
            ));
            continue;
        };
        if !seen.insert(id.clone()) {
            let label = pupil_names(&row, &id)
                .map(|(last, first)| messages::person(&first, &last, &id))
                .unwrap_or_else(|_| messages::number(&id));
            let text = messages::duplicate_pupil(&label);
            data.warnings.push(format!("ligne {line} : {text}"));
            continue;
        }
        match pupil(&row, id, &mut data.warnings) {
            Ok(p) => data.pupils.push(p),
            Err(text) => data.warnings.push(format!("ligne {line} : {text}")),
        }
    }
    Ok(())
}

pub fn read_guardians(bytes: &[u8], data: &mut ImportData) -> Result<(), ImportError> {
    let file = "responsables.csv";
    let mut table = reader(file, bytes)?;
    require(
        file,
        &table.1,
        &["id", "nom", "prenom", "eleve_id", "resp_legal"],
    )?;
    let pupils = messages::pupil_labels(&data.pupils);
    let mut people: HashMap<String, GuardianRecord> = HashMap::new();
    let mut links = Vec::new();
    let mut seen = HashSet::new();
    for row in lines(file, &mut table) {
        let row = row?;
        let line = row.number;
        let get = |k: &str| row.get(k);
        let (Some(id), Some(pupil)) = (get("id"), get("eleve_id")) else {
            data.warnings.push(format!(
                "ligne {line} : un responsable sans numéro (colonne id) ou sans numéro d'élève (colonne eleve_id) est ignoré"
            ));
            continue;
        };
        let rank = match get("resp_legal") {
            Some("1") => 1,
            Some("2") => 2,
            _ => continue,
        };
        let guardian = match guardian(&row, id) {
            Ok(g) => people.entry(id.to_owned()).or_insert(g),
            Err(text) => {
                data.warnings.push(format!("ligne {line} : {text}"));
                continue;
            }
        };
        let name = messages::guardian_label(guardian);
        let Some(label) = pupils.get(pupil) else {
            let text = messages::unknown_pupil(&name, pupil);
            data.warnings.push(format!("ligne {line} : {text}"));
            continue;
        };
        if !seen.insert((pupil.to_owned(), id.to_owned())) {
            let text = messages::duplicate_guardian(&name, label);
            data.warnings.push(format!("ligne {line} : {text}"));
            continue;
        }
        links.push(LinkRecord {
            pupil_source_id: pupil.to_owned(),
            guardian_source_id: id.to_owned(),
            rank,
        });
    }
    data.guardians = linked_guardians(people, &links);
    data.links.extend(links);
    Ok(())
}

/// A guardian's line, or the warning that ignores it.
fn guardian(line: &Line<'_>, id: &str) -> Result<GuardianRecord, String> {
    let get = |k: &str| line.get(k);
    let (last, first) = messages::names("le responsable", id, get("nom"), get("prenom"))?;
    Ok(GuardianRecord {
        source_id: id.to_owned(),
        last_name: last,
        first_name: first,
        email: get("mel").and_then(clean).filter(|m| m.contains('@')),
        mobile: get("tel_portable").and_then(clean),
    })
}
