//! SIECLE/BEE exports: `ElevesSansAdresses.xml` (root `BEE_ELEVES`) and
//! `ResponsablesAvecAdresses.xml` (root `BEE_RESPONSABLES`), read with a streaming parser.
//! Ids may be attributes or child elements.

use std::collections::HashMap;

use super::order::{SchoolYear, exported_at};
use super::xml::{Record, walk};
use super::{GuardianRecord, ImportData, ImportError, LinkRecord, PupilRecord, clean, parse_day};
use crate::domain::{Division, Ine, PersonName, Uai};

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

fn name(r: &Record, key: &str, what: &str, warnings: &mut Vec<String>) -> Option<String> {
    let raw = r.get(key).unwrap_or("");
    match PersonName::parse(raw) {
        Ok(n) => Some(n.as_str().to_owned()),
        Err(e) => {
            warnings.push(format!(
                "ligne {} : {what} {:.40} : {e}",
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
    data.school_year = Some(school_year(file, &params)?.as_stored());
    data.exported_at = exported_at(&params);
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
                        "ligne {} : élève {id:.40} : division « {code:.40} » : {e}",
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
                "ligne {} : un élève sans ELEVE_ID est ignoré",
                r.line
            ));
            continue;
        };
        if id.chars().count() > 40 {
            data.warnings.push(format!(
                "ligne {} : un ELEVE_ID de {} caractères est ignoré",
                r.line,
                id.chars().count()
            ));
            continue;
        }
        if !seen.insert(id.clone()) {
            data.warnings.push(format!(
                "ligne {} : l'élève {id} figure deux fois ; le premier est gardé",
                r.line
            ));
            continue;
        }
        let (Some(last), Some(first)) = (
            name(r, "NOM_DE_FAMILLE", "élève", &mut data.warnings),
            name(r, "PRENOM", "élève", &mut data.warnings),
        ) else {
            continue;
        };
        let Some(birth) = r.get("DATE_NAISS").and_then(parse_day) else {
            data.warnings.push(format!(
                "ligne {} : élève {id} : date de naissance absente ou invalide ; ignoré",
                r.line
            ));
            continue;
        };
        let ine = match r.get("ID_NATIONAL") {
            None => {
                data.warnings
                    .push(format!("ligne {} : l'élève {id} n'a pas d'INE", r.line));
                None
            }
            Some(v) => match Ine::parse(v) {
                Ok(i) => Some(i.as_str().to_owned()),
                Err(_) => {
                    data.warnings.push(format!(
                        "ligne {} : élève {id} : l'INE « {v:.20} » n'est pas valide ; non repris",
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
                        "ligne {} : élève {id} : DATE_SORTIE « {v:.20} » invalide ; non reprise",
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
    let year = school_year(file, &params)?.as_stored();
    if data.school_year.as_ref().is_some_and(|y| *y != year) {
        return Err(ImportError::fatal(
            file,
            "ce fichier n'est pas de la même année scolaire que celui des élèves",
        ));
    }
    let mut people: HashMap<String, GuardianRecord> = HashMap::new();
    for (_, r) in records.iter().filter(|(k, _)| k == "PERSONNE") {
        let Some(id) = r.get("PERSONNE_ID").map(str::to_owned) else {
            data.warnings.push(format!(
                "ligne {} : une personne sans PERSONNE_ID est ignorée",
                r.line
            ));
            continue;
        };
        let (Some(last), Some(first)) = (
            name(r, "NOM_DE_FAMILLE", "responsable", &mut data.warnings),
            name(r, "PRENOM", "responsable", &mut data.warnings),
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
                "ligne {} : un lien de responsable sans ELEVE_ID ou PERSONNE_ID est ignoré",
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
                "ligne {} : responsable {person:.40} d'un élève inconnu ({pupil:.40}) ; ignoré",
                r.line
            ));
            continue;
        }
        if !people.contains_key(person) {
            data.warnings.push(format!(
                "ligne {} : personne inconnue ({person:.40}) pour l'élève {pupil:.40} ; ignorée",
                r.line
            ));
            continue;
        }
        if !links.insert((pupil.to_owned(), person.to_owned())) {
            data.warnings.push(format!(
                "ligne {} : responsable légal {person:.40} en double pour l'élève {pupil:.40} ; gardé une fois",
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
