//! SIECLE/BEE exports: `ElevesSansAdresses.xml` (root `BEE_ELEVES`) and
//! `ResponsablesAvecAdresses.xml` (root `BEE_RESPONSABLES`), read with a streaming parser.
//! Ids may be attributes or child elements.

use std::collections::HashMap;

use super::xml::{Record, walk};
use super::{GuardianRecord, ImportData, ImportError, LinkRecord, PupilRecord, clean, parse_day};
use crate::domain::{Division, Ine, PersonName, Uai};

fn check_uai(file: &str, params: &HashMap<String, String>, uai: &Uai) -> Result<(), ImportError> {
    match params.get("UAJ") {
        Some(v) if Uai::parse(v).ok().as_ref() == Some(uai) => Ok(()),
        Some(v) => Err(ImportError::fatal(
            file,
            format!("the file is for UAI {v:.20}, not {uai}"),
        )),
        None => Err(ImportError::fatal(file, "PARAMETRES/UAJ is missing")),
    }
}

fn name(r: &Record, key: &str, what: &str, warnings: &mut Vec<String>) -> Option<String> {
    let raw = r.get(key).unwrap_or("");
    match PersonName::parse(raw) {
        Ok(n) => Some(n.as_str().to_owned()),
        Err(e) => {
            warnings.push(format!(
                "line {}: {what} {}: {e}",
                r.line,
                r.get("ELEVE_ID").or(r.get("PERSONNE_ID")).unwrap_or("?")
            ));
            None
        }
    }
}

/// Reads `ElevesSansAdresses.xml`.
pub fn read_pupils(bytes: &[u8], uai: &Uai, data: &mut ImportData) -> Result<(), ImportError> {
    let file = "ElevesSansAdresses.xml";
    let (params, records) = walk(
        file,
        bytes,
        "BEE_ELEVES",
        &["ELEVE", "STRUCTURES_ELEVE"],
        "STRUCTURE",
    )?;
    check_uai(file, &params, uai)?;
    data.uai = uai.to_string();
    data.school_year = params.get("ANNEE_SCOLAIRE").and_then(|y| clean(y));
    let mut divisions: HashMap<String, String> = HashMap::new();
    for (_, r) in records.iter().filter(|(k, _)| k == "STRUCTURES_ELEVE") {
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
                    Err(e) => data.warnings.push(format!(
                        "line {}: pupil {id}: division {code:.40}: {e}",
                        r.line
                    )),
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (_, r) in records.iter().filter(|(k, _)| k == "ELEVE") {
        let Some(id) = r.get("ELEVE_ID").map(str::to_owned) else {
            data.warnings.push(format!(
                "line {}: a pupil without ELEVE_ID is skipped",
                r.line
            ));
            continue;
        };
        if id.chars().count() > 40 {
            data.warnings.push(format!(
                "line {}: an ELEVE_ID of {} characters is skipped",
                r.line,
                id.chars().count()
            ));
            continue;
        }
        if !seen.insert(id.clone()) {
            data.warnings.push(format!(
                "line {}: pupil {id} appears twice; the first is kept",
                r.line
            ));
            continue;
        }
        let (Some(last), Some(first)) = (
            name(r, "NOM_DE_FAMILLE", "pupil", &mut data.warnings),
            name(r, "PRENOM", "pupil", &mut data.warnings),
        ) else {
            continue;
        };
        let Some(birth) = r.get("DATE_NAISS").and_then(parse_day) else {
            data.warnings.push(format!(
                "line {}: pupil {id}: invalid or missing birth date; skipped",
                r.line
            ));
            continue;
        };
        let ine = match r.get("ID_NATIONAL") {
            None => {
                data.warnings
                    .push(format!("line {}: pupil {id} has no INE", r.line));
                None
            }
            Some(v) => match Ine::parse(v) {
                Ok(i) => Some(i.as_str().to_owned()),
                Err(_) => {
                    data.warnings.push(format!(
                        "line {}: pupil {id}: INE {v:.20} is not valid; ignored",
                        r.line
                    ));
                    None
                }
            },
        };
        let left_on = match r.get("DATE_SORTIE") {
            None => None,
            Some(v) => match parse_day(v) {
                Some(d) => Some(d),
                None => {
                    data.warnings.push(format!(
                        "line {}: pupil {id}: invalid DATE_SORTIE {v:.20}; ignored",
                        r.line
                    ));
                    None
                }
            },
        };
        data.pupils.push(PupilRecord {
            division: divisions.get(&id).cloned(),
            source_id: id,
            ine,
            last_name: last,
            first_name: first,
            birth_date: birth,
            left_on,
        });
    }
    Ok(())
}

/// Reads `ResponsablesAvecAdresses.xml`: guardians of legal rank 1 and 2 (0 is ignored).
pub fn read_guardians(bytes: &[u8], uai: &Uai, data: &mut ImportData) -> Result<(), ImportError> {
    let file = "ResponsablesAvecAdresses.xml";
    let (params, records) = walk(
        file,
        bytes,
        "BEE_RESPONSABLES",
        &["PERSONNE", "RESPONSABLE_ELEVE"],
        "",
    )?;
    check_uai(file, &params, uai)?;
    let mut people: HashMap<String, GuardianRecord> = HashMap::new();
    for (_, r) in records.iter().filter(|(k, _)| k == "PERSONNE") {
        let Some(id) = r.get("PERSONNE_ID").map(str::to_owned) else {
            data.warnings.push(format!(
                "line {}: a person without PERSONNE_ID is skipped",
                r.line
            ));
            continue;
        };
        let (Some(last), Some(first)) = (
            name(r, "NOM_DE_FAMILLE", "guardian", &mut data.warnings),
            name(r, "PRENOM", "guardian", &mut data.warnings),
        ) else {
            continue;
        };
        let email = r
            .get("MEL")
            .and_then(clean)
            .filter(|m| m.contains('@') && m.len() <= 254);
        let mobile = r
            .get("TEL_PORTABLE")
            .and_then(clean)
            .filter(|m| m.len() <= 30);
        people.insert(
            id.clone(),
            GuardianRecord {
                source_id: id,
                last_name: last,
                first_name: first,
                email,
                mobile,
            },
        );
    }
    let pupils: std::collections::HashSet<&str> =
        data.pupils.iter().map(|p| p.source_id.as_str()).collect();
    let mut used = std::collections::HashSet::new();
    let mut links = std::collections::HashSet::new();
    for (_, r) in records.iter().filter(|(k, _)| k == "RESPONSABLE_ELEVE") {
        let (Some(pupil), Some(person)) = (r.get("ELEVE_ID"), r.get("PERSONNE_ID")) else {
            data.warnings.push(format!(
                "line {}: a guardian link without ELEVE_ID or PERSONNE_ID is skipped",
                r.line
            ));
            continue;
        };
        let rank: i16 = match r.get("RESP_LEGAL").map(str::trim) {
            Some("1") => 1,
            Some("2") => 2,
            _ => continue,
        };
        if !pupils.contains(pupil) {
            data.warnings.push(format!(
                "line {}: guardian {person} of unknown pupil {pupil:.40}; skipped",
                r.line
            ));
            continue;
        }
        if !people.contains_key(person) {
            data.warnings.push(format!(
                "line {}: unknown person {person:.40} for pupil {pupil}; skipped",
                r.line
            ));
            continue;
        }
        if !links.insert((pupil.to_owned(), person.to_owned())) {
            data.warnings.push(format!(
                "line {}: duplicate legal guardian {person} for pupil {pupil}; kept once",
                r.line
            ));
            continue;
        }
        used.insert(person.to_owned());
        data.links.push(LinkRecord {
            pupil_source_id: pupil.to_owned(),
            guardian_source_id: person.to_owned(),
            rank,
        });
    }
    let mut guardians: Vec<GuardianRecord> = people
        .into_values()
        .filter(|g| used.contains(&g.source_id))
        .collect();
    guardians.sort_by(|a, b| a.source_id.cmp(&b.source_id));
    data.guardians = guardians;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::xml::declared_encoding;

    #[test]
    fn the_declared_encoding_is_read() {
        assert_eq!(
            declared_encoding(br#"<?xml version="1.0" encoding="ISO-8859-15"?><a/>"#).as_deref(),
            Some("ISO-8859-15")
        );
        assert_eq!(
            declared_encoding(b"<?xml version='1.0' encoding='UTF-8' ?>").as_deref(),
            Some("UTF-8")
        );
        assert_eq!(declared_encoding(b"<a/>"), None);
    }
}
