//! CSV imports for establishments without SIECLE. Separator `;` or `,`, UTF-8 or Latin-9,
//! a header line naming the columns (any order, case ignored):
//!
//! - pupils: `id`, `ine`, `nom`, `prenom`, `date_naissance` (dd/mm/yyyy or yyyy-mm-dd),
//!   `division`, `date_sortie` (optional);
//! - guardians: `id`, `nom`, `prenom`, `mel`, `tel_portable`, `eleve_id`, `resp_legal`
//!   (one line per guardian and pupil).

use std::collections::{HashMap, HashSet};

use super::{
    GuardianRecord, ImportData, ImportError, LinkRecord, PupilRecord, clean, decode, parse_day,
};
use crate::domain::{Division, Ine, PersonName};

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

pub fn read_pupils(bytes: &[u8], data: &mut ImportData) -> Result<(), ImportError> {
    let file = "eleves.csv";
    let mut table = reader(file, bytes)?;
    require(file, &table.1, &["id", "nom", "prenom", "date_naissance"])?;
    let mut seen = HashSet::new();
    for row in lines(file, &mut table) {
        let row = row?;
        let line = row.number;
        let get = |k: &str| row.get(k);
        let Some(id) = get("id")
            .map(str::to_owned)
            .filter(|i| i.chars().count() <= 40)
        else {
            data.warnings.push(format!(
                "ligne {line} : pas d'identifiant utilisable ; ignorée"
            ));
            continue;
        };
        if !seen.insert(id.clone()) {
            data.warnings.push(format!(
                "ligne {line} : l'élève {id} figure deux fois ; le premier est gardé"
            ));
            continue;
        }
        let (last, first) = match (
            PersonName::parse(get("nom").unwrap_or("")),
            PersonName::parse(get("prenom").unwrap_or("")),
        ) {
            (Ok(l), Ok(f)) => (l.as_str().to_owned(), f.as_str().to_owned()),
            _ => {
                data.warnings
                    .push(format!("ligne {line} : élève {id} : nom invalide ; ignoré"));
                continue;
            }
        };
        let Some(birth) = get("date_naissance").and_then(parse_day) else {
            data.warnings.push(format!(
                "ligne {line} : élève {id} : date de naissance invalide ; ignoré"
            ));
            continue;
        };
        let ine = get("ine")
            .and_then(|v| Ine::parse(v).ok())
            .map(|i| i.as_str().to_owned());
        if ine.is_none() {
            data.warnings
                .push(format!("ligne {line} : l'élève {id} n'a pas d'INE valide"));
        }
        let division = get("division")
            .and_then(|d| Division::parse(d).ok())
            .map(|d| d.as_str().to_owned());
        data.pupils.push(PupilRecord {
            source_id: id,
            ine,
            last_name: last,
            first_name: first,
            birth_date: birth,
            division,
            left_on: get("date_sortie").and_then(parse_day),
        });
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
    let pupils: HashSet<String> = data.pupils.iter().map(|p| p.source_id.clone()).collect();
    let mut people: HashMap<String, GuardianRecord> = HashMap::new();
    let mut links = HashSet::new();
    for row in lines(file, &mut table) {
        let row = row?;
        let line = row.number;
        let get = |k: &str| row.get(k);
        let (Some(id), Some(pupil)) = (get("id"), get("eleve_id")) else {
            data.warnings
                .push(format!("ligne {line} : pas d'id ou d'eleve_id ; ignorée"));
            continue;
        };
        let rank = match get("resp_legal") {
            Some("1") => 1,
            Some("2") => 2,
            _ => continue,
        };
        if !pupils.contains(pupil) {
            data.warnings.push(format!(
                "ligne {line} : responsable {id:.40} d'un élève inconnu ({pupil:.40}) ; ignoré"
            ));
            continue;
        }
        let (Ok(last), Ok(first)) = (
            PersonName::parse(get("nom").unwrap_or("")),
            PersonName::parse(get("prenom").unwrap_or("")),
        ) else {
            data.warnings.push(format!(
                "ligne {line} : responsable {id:.40} : nom invalide ; ignoré"
            ));
            continue;
        };
        people
            .entry(id.to_owned())
            .or_insert_with(|| GuardianRecord {
                source_id: id.to_owned(),
                last_name: last.as_str().to_owned(),
                first_name: first.as_str().to_owned(),
                email: get("mel").and_then(clean).filter(|m| m.contains('@')),
                mobile: get("tel_portable").and_then(clean),
            });
        if !links.insert((pupil.to_owned(), id.to_owned())) {
            data.warnings.push(format!(
                "ligne {line} : responsable légal {id:.40} en double pour l'élève {pupil:.40} ; gardé une fois"
            ));
            continue;
        }
        data.links.push(LinkRecord {
            pupil_source_id: pupil.to_owned(),
            guardian_source_id: id.to_owned(),
            rank,
        });
    }
    let mut guardians: Vec<GuardianRecord> = people.into_values().collect();
    guardians.sort_by(|a, b| a.source_id.cmp(&b.source_id));
    data.guardians = guardians;
    Ok(())
}
