//! SIECLE/BEE exports: `ElevesSansAdresses.xml` (root `BEE_ELEVES`) and
//! `ResponsablesAvecAdresses.xml` (root `BEE_RESPONSABLES`), read with a streaming parser.
//! Ids may be attributes or child elements.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use super::order::{SchoolYear, exported_at};
use super::xml::{Record, Walked, walk};
use super::{
    GuardianRecord, ImportData, ImportError, LinkRecord, PupilRecord, clean, linked_guardians,
    messages, parse_day,
};
use crate::domain::{Division, Ine, Uai};

fn check_uai(file: &str, params: &HashMap<String, String>, uai: &Uai) -> Result<(), ImportError> {
    match params.get("UAJ") {
        Some(v) if Uai::parse(v).ok().as_ref() == Some(uai) => Ok(()),
        Some(v) => Err(ImportError::fatal(
            file,
            format!("ce fichier est celui de l'établissement « {v:.20} », pas de {uai}"),
        )),
        None => Err(ImportError::fatal(
            file,
            "PARAMETRES/UAJ manque : l'établissement du fichier est inconnu",
        )),
    }
}

fn school_year(file: &str, params: &HashMap<String, String>) -> Result<SchoolYear, ImportError> {
    match params.get("ANNEE_SCOLAIRE") {
        None => Err(ImportError::fatal(
            file,
            "PARAMETRES/ANNEE_SCOLAIRE manque : l'année scolaire du fichier est inconnue",
        )),
        Some(y) => SchoolYear::parse(y).map_err(|e| ImportError::fatal(file, e)),
    }
}

/// The record's surname and first name, or `None` (warned) when one is unusable.
fn names(r: &Record, id: &str, who: &str, warnings: &mut Vec<String>) -> Option<(String, String)> {
    match messages::names(who, id, r.get("NOM_DE_FAMILLE"), r.get("PRENOM")) {
        Ok(names) => Some(names),
        Err(text) => {
            warn(warnings, r, text);
            None
        }
    }
}

/// How a record is named in a warning before it is read: its names if usable, else its
/// number.
fn record_label(r: &Record, id: &str) -> String {
    match messages::names("", id, r.get("NOM_DE_FAMILLE"), r.get("PRENOM")) {
        Ok((last, first)) => messages::person(&first, &last, id),
        Err(_) => messages::number(id),
    }
}

/// A row-level warning, with the record's line.
fn warn(warnings: &mut Vec<String>, r: &Record, message: impl std::fmt::Display) {
    warnings.push(format!("ligne {} : {message}", r.line));
}

/// The records of one element name.
fn named<'r>(records: &'r [(String, Record)], name: &'r str) -> impl Iterator<Item = &'r Record> {
    records
        .iter()
        .filter(move |(k, _)| k == name)
        .map(|(_, r)| r)
}

/// Walks one export and checks it is this establishment's; with its school year (stored).
fn open(
    file: &str,
    bytes: &[u8],
    uai: &Uai,
    root: &str,
    elements: &[&str],
    nested: &str,
) -> Result<(Walked, String), ImportError> {
    let (params, records) = walk(file, bytes, root, elements, nested)?;
    check_uai(file, &params, uai)?;
    let year = school_year(file, &params)?.as_stored();
    Ok(((params, records), year))
}

/// Reads `ElevesSansAdresses.xml`.
pub fn read_pupils(bytes: &[u8], uai: &Uai, data: &mut ImportData) -> Result<(), ImportError> {
    let file = "ElevesSansAdresses.xml";
    let elements = &["ELEVE", "STRUCTURES_ELEVE"];
    let ((params, records), year) = open(file, bytes, uai, "BEE_ELEVES", elements, "STRUCTURE")?;
    data.uai = uai.to_string();
    data.school_year = Some(year);
    data.exported_at = exported_at(&params);
    let first = data.pupils.len();
    let mut seen = HashSet::new();
    for r in named(&records, "ELEVE") {
        let Some(id) = pupil_id(r, &mut seen, &mut data.warnings) else {
            continue;
        };
        if let Some(p) = read_pupil(r, id, &mut data.warnings) {
            data.pupils.push(p);
        }
    }
    let labels = messages::pupil_labels(&data.pupils);
    let divisions = read_divisions(&records, &labels, &mut data.warnings);
    for p in data.pupils.iter_mut().skip(first) {
        p.division = divisions.get(&p.source_id).cloned();
    }
    Ok(())
}

/// Each pupil's division (`STRUCTURE` of type `D`), by `ELEVE_ID`.
fn read_divisions(
    records: &[(String, Record)],
    labels: &HashMap<&str, String>,
    warnings: &mut Vec<String>,
) -> HashMap<String, String> {
    let mut divisions = HashMap::new();
    for r in named(records, "STRUCTURES_ELEVE") {
        let Some(id) = r.get("ELEVE_ID") else {
            continue;
        };
        for s in &r.nested {
            if s.get("TYPE_STRUCTURE").map(String::as_str) == Some("D")
                && let Some(code) = s.get("CODE_STRUCTURE")
            {
                match Division::parse(code) {
                    Ok(d) => {
                        divisions.insert(id.to_owned(), d.as_str().to_owned());
                    }
                    Err(e) => {
                        let label = messages::label_of(labels, id);
                        let text = messages::bad_division(&label, code, &e);
                        warn(warnings, r, text);
                    }
                }
            }
        }
    }
    divisions
}

/// The pupil's `ELEVE_ID`, when present, short enough and not seen before.
fn pupil_id(r: &Record, seen: &mut HashSet<String>, warnings: &mut Vec<String>) -> Option<String> {
    let Some(id) = r.get("ELEVE_ID").map(str::to_owned) else {
        warn(
            warnings,
            r,
            format_args!("un élève sans numéro (ELEVE_ID) est ignoré"),
        );
        return None;
    };
    let length = id.chars().count();
    if length > 40 {
        warn(
            warnings,
            r,
            format_args!("un élève dont le numéro (ELEVE_ID) a {length} caractères est ignoré"),
        );
        return None;
    }
    if !seen.insert(id.clone()) {
        let text = messages::duplicate_pupil(&record_label(r, &id));
        warn(warnings, r, text);
        return None;
    }
    Some(id)
}

/// One pupil (without his division), or `None` when his names or birth date are unusable.
fn read_pupil(r: &Record, id: String, warnings: &mut Vec<String>) -> Option<PupilRecord> {
    let (last, first) = names(r, &id, "l'élève", warnings)?;
    let label = messages::person(&first, &last, &id);
    let Some(birth) = r.get("DATE_NAISS").and_then(parse_day) else {
        warn(warnings, r, messages::bad_birth_date(&label));
        return None;
    };
    Some(PupilRecord {
        ine: read_ine(r, &label, warnings),
        left_on: read_left_on(r, &label, warnings),
        division: None,
        source_id: id,
        last_name: last,
        first_name: first,
        birth_date: birth,
    })
}

fn read_ine(r: &Record, label: &str, warnings: &mut Vec<String>) -> Option<String> {
    let Some(v) = r.get("ID_NATIONAL") else {
        warn(warnings, r, messages::no_ine(label));
        return None;
    };
    match Ine::parse(v) {
        Ok(i) => Some(i.as_str().to_owned()),
        Err(_) => {
            warn(warnings, r, messages::bad_ine(label, v));
            None
        }
    }
}

fn read_left_on(r: &Record, label: &str, warnings: &mut Vec<String>) -> Option<NaiveDate> {
    let v = r.get("DATE_SORTIE")?;
    let day = parse_day(v);
    if day.is_none() {
        let text = messages::bad_departure(label, v);
        warn(warnings, r, text);
    }
    day
}

/// Reads `ResponsablesAvecAdresses.xml`: guardians of legal rank 1 and 2 (0 is ignored).
pub fn read_guardians(bytes: &[u8], uai: &Uai, data: &mut ImportData) -> Result<(), ImportError> {
    let file = "ResponsablesAvecAdresses.xml";
    let elements = &["PERSONNE", "RESPONSABLE_ELEVE"];
    let ((_, records), year) = open(file, bytes, uai, "BEE_RESPONSABLES", elements, "")?;
    if data.school_year.as_ref().is_some_and(|y| *y != year) {
        return Err(ImportError::fatal(
            file,
            "ce fichier n'est pas de la même année scolaire que celui des élèves",
        ));
    }
    let mut people: HashMap<String, GuardianRecord> = HashMap::new();
    for r in named(&records, "PERSONNE") {
        if let Some(g) = read_person(r, &mut data.warnings) {
            people.insert(g.source_id.clone(), g);
        }
    }
    let labels = messages::pupil_labels(&data.pupils);
    let mut links = HashSet::new();
    let first = data.links.len();
    let known = (&labels, &people);
    for r in named(&records, "RESPONSABLE_ELEVE") {
        if let Some(l) = read_link(r, known, &mut links, &mut data.warnings) {
            data.links.push(l);
        }
    }
    data.guardians = linked_guardians(people, &data.links[first..]);
    Ok(())
}

/// One `PERSONNE`, or `None` without an id or usable names.
fn read_person(r: &Record, warnings: &mut Vec<String>) -> Option<GuardianRecord> {
    let Some(id) = r.get("PERSONNE_ID").map(str::to_owned) else {
        warn(
            warnings,
            r,
            format_args!("une personne sans numéro (PERSONNE_ID) est ignorée"),
        );
        return None;
    };
    let (last, first) = names(r, &id, "le responsable", warnings)?;
    let email = r
        .get("MEL")
        .and_then(clean)
        .filter(|m| m.contains('@') && m.len() <= 254);
    let mobile = r
        .get("TEL_PORTABLE")
        .and_then(clean)
        .filter(|m| m.len() <= 30);
    Some(GuardianRecord {
        source_id: id,
        last_name: last,
        first_name: first,
        email,
        mobile,
    })
}

/// The pupils of the file (how each is named) and the people of the guardians' file.
type Known<'k> = (
    &'k HashMap<&'k str, String>,
    &'k HashMap<String, GuardianRecord>,
);

/// One `RESPONSABLE_ELEVE` of legal rank 1 or 2 between a known pupil and a known person,
/// given once.
fn read_link(
    r: &Record,
    (pupils, people): Known<'_>,
    links: &mut HashSet<(String, String)>,
    warnings: &mut Vec<String>,
) -> Option<LinkRecord> {
    let (Some(pupil), Some(person)) = (r.get("ELEVE_ID"), r.get("PERSONNE_ID")) else {
        warn(
            warnings,
            r,
            "un lien entre un élève et un responsable sans ELEVE_ID ou PERSONNE_ID est ignoré",
        );
        return None;
    };
    let rank: i16 = match r.get("RESP_LEGAL").map(str::trim) {
        Some("1") => 1,
        Some("2") => 2,
        _ => return None,
    };
    let Some(guardian) = people.get(person).map(messages::guardian_label) else {
        let label = messages::label_of(pupils, pupil);
        warn(warnings, r, messages::unknown_guardian(&label, person));
        return None;
    };
    let Some(label) = pupils.get(pupil) else {
        warn(warnings, r, messages::unknown_pupil(&guardian, pupil));
        return None;
    };
    if !links.insert((pupil.to_owned(), person.to_owned())) {
        warn(warnings, r, messages::duplicate_guardian(&guardian, label));
        return None;
    }
    Some(LinkRecord {
        pupil_source_id: pupil.to_owned(),
        guardian_source_id: person.to_owned(),
        rank,
    })
}

#[cfg(test)]
mod tests {
    use super::super::xml::declared_encoding;

    #[test]
    fn the_declared_encoding_is_read_by_the_xml_reader() {
        assert_eq!(
            declared_encoding(br#"<?xml version="1.0" encoding="ISO-8859-15"?><a/>"#),
            Ok(Some(encoding_rs::ISO_8859_15))
        );
        assert_eq!(
            declared_encoding(b"<?xml version='1.0' encoding='UTF-8' ?>"),
            Ok(Some(encoding_rs::UTF_8))
        );
        assert_eq!(declared_encoding(b"<a/>"), Ok(None));
        assert_eq!(declared_encoding(b"<?xml version='1.0'?><a/>"), Ok(None));
    }

    #[test]
    fn a_non_ascii_byte_after_encoding_is_a_french_error_not_a_panic() {
        for decl in [
            &b"<?xml version=\"1.0\" encoding=\xe9ISO\"?><a/>"[..],
            b"<?xml version=\"1.0\" encoding=\"\xe9\"?><a/>",
            b"<?xml version=\"1.0\" encoding=\xc3\xa9\xc3\xa9?><a/>",
            b"<?xml version=\"1.0\" encoding=\"\xff\xfe\" ?>",
            b"<?xml encoding=\"",
        ] {
            match declared_encoding(decl) {
                Ok(None) => {}
                Ok(Some(e)) => panic!("{e:?} from {decl:?}"),
                Err(m) => assert!(m.contains("déclaration XML"), "{m}"),
            }
        }
    }
}
