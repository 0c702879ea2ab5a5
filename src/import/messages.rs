//! The French warnings both readers (SIECLE and CSV) give about a row: each names the person
//! by his names when the file gives usable ones, with his number in the file (`ELEVE_ID`,
//! `PERSONNE_ID`) so the secretariat finds him in SIECLE.

use std::collections::HashMap;

use super::{GuardianRecord, PupilRecord};
use crate::domain::PersonName;

/// "Zoë Lefèvre (n° 100005)": a person of the file.
pub(super) fn person(first: &str, last: &str, id: &str) -> String {
    format!("{first} {last} (n° {id:.40})")
}

/// A person known only by his number (his names were unusable, or he is not in the file).
pub(super) fn number(id: &str) -> String {
    format!("n° {id:.40}")
}

/// How each pupil read so far is named, by his number.
pub(super) fn pupil_labels(pupils: &[PupilRecord]) -> HashMap<&str, String> {
    pupils
        .iter()
        .map(|p| (p.source_id.as_str(), p.label()))
        .collect()
}

/// How a guardian is named.
pub(super) fn guardian_label(g: &GuardianRecord) -> String {
    person(&g.first_name, &g.last_name, &g.source_id)
}

/// The label of `id` in `labels`, or his number alone.
pub(super) fn label_of(labels: &HashMap<&str, String>, id: &str) -> String {
    labels.get(id).cloned().unwrap_or_else(|| number(id))
}

/// A domain error ("Le nom est vide.") inside a sentence: "le nom est vide".
fn clause(error: &impl std::fmt::Display) -> String {
    let text = error.to_string();
    let text = text.trim_end_matches('.');
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `who` ("l'élève", "le responsable") is left out: `field` ("nom de famille", "prénom"),
/// whose value in the file is `raw`, is missing or unusable.
fn bad_name(
    who: &str,
    id: &str,
    field: &str,
    raw: Option<&str>,
    e: &impl std::fmt::Display,
) -> String {
    let why = match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => format!("{field} absent"),
        Some(_) => format!("{field} invalide ({})", clause(e)),
    };
    format!("{who} {} est ignoré : {why}", number(id))
}

/// A person's surname and first name as the file gives them (`None`: blank), parsed; or the
/// warning that leaves `who` n° `id` out.
pub(super) fn names(
    who: &str,
    id: &str,
    last: Option<&str>,
    first: Option<&str>,
) -> Result<(String, String), String> {
    let parse = |raw: Option<&str>| PersonName::parse(raw.unwrap_or(""));
    match (parse(last), parse(first)) {
        (Ok(l), Ok(f)) => Ok((l.as_str().to_owned(), f.as_str().to_owned())),
        (Err(e), _) => Err(bad_name(who, id, "nom de famille", last, &e)),
        (_, Err(e)) => Err(bad_name(who, id, "prénom", first, &e)),
    }
}

pub(super) fn duplicate_pupil(label: &str) -> String {
    format!("l'élève {label} figure deux fois ; la première fiche est gardée")
}

pub(super) fn bad_birth_date(label: &str) -> String {
    format!("l'élève {label} est ignoré : date de naissance absente ou invalide")
}

pub(super) fn no_ine(label: &str) -> String {
    format!("l'élève {label} n'a pas d'INE")
}

pub(super) fn bad_ine(label: &str, value: &str) -> String {
    format!("l'élève {label} : l'INE « {value:.20} » n'est pas valide ; il n'est pas repris")
}

pub(super) fn bad_division(label: &str, code: &str, e: &impl std::fmt::Display) -> String {
    format!(
        "l'élève {label} : la classe « {code:.40} » n'est pas valide ({}) ; elle n'est pas reprise",
        clause(e)
    )
}

pub(super) fn bad_departure(label: &str, value: &str) -> String {
    format!(
        "l'élève {label} : la date de sortie « {value:.20} » n'est pas valide ; elle n'est pas reprise"
    )
}

pub(super) fn unknown_pupil(guardian: &str, pupil_id: &str) -> String {
    format!(
        "le responsable {guardian} est lié à un élève inconnu ({}) ; lien ignoré",
        number(pupil_id)
    )
}

pub(super) fn unknown_guardian(pupil: &str, guardian_id: &str) -> String {
    format!(
        "l'élève {pupil} est lié à une personne inconnue ({}) ; lien ignoré",
        number(guardian_id)
    )
}

pub(super) fn duplicate_guardian(guardian: &str, pupil: &str) -> String {
    format!(
        "le responsable légal {guardian} figure en double pour l'élève {pupil} ; le lien est gardé une fois"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_error_reads_as_a_clause() {
        let e = "Le nom ne peut dépasser 200 caractères.";
        assert_eq!(
            bad_name("l'élève", "7", "nom de famille", Some("x"), &e),
            "l'élève n° 7 est ignoré : nom de famille invalide (le nom ne peut dépasser 200 caractères)"
        );
        assert_eq!(
            person("Zoë", "Lefèvre", "100005"),
            "Zoë Lefèvre (n° 100005)"
        );
    }
}
