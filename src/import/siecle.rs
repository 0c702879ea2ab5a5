//! SIECLE/BEE exports: `ElevesSansAdresses.xml` (root `BEE_ELEVES`) and
//! `ResponsablesAvecAdresses.xml` (root `BEE_RESPONSABLES`), read with a streaming parser.
//! Ids may be attributes or child elements.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::{
    GuardianRecord, ImportData, ImportError, LinkRecord, PupilRecord, clean, decode, parse_day,
};
use crate::domain::{Division, Ine, PersonName, Uai};

/// An element of interest, flattened: its attributes and the text of its child elements.
#[derive(Debug, Default, Clone)]
struct Record {
    fields: HashMap<String, String>,
    /// Nested records (`STRUCTURE` inside `STRUCTURES_ELEVE`).
    nested: Vec<HashMap<String, String>>,
    line: usize,
}

impl Record {
    fn get(&self, k: &str) -> Option<&str> {
        self.fields
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
}

/// The XML declaration's encoding, if any.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(200)];
    let head = String::from_utf8_lossy(head);
    let decl = head.strip_prefix('\u{feff}').unwrap_or(&head);
    if !decl.trim_start().starts_with("<?xml") {
        return None;
    }
    let end = decl.find("?>")?;
    let decl = &decl[..end];
    let i = decl.find("encoding")?;
    let rest = decl[i + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next()?;
    let rest = &rest[1..];
    Some(rest[..rest.find(quote)?].to_owned())
}

fn line_of(text: &str, pos: u64) -> usize {
    let pos = (pos as usize).min(text.len());
    text.as_bytes()[..pos]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Line numbers for increasing positions, counted once (a whole-file count per record would
/// be quadratic).
struct Lines<'a> {
    text: &'a [u8],
    pos: usize,
    line: usize,
}

impl Lines<'_> {
    fn at(&mut self, pos: u64) -> usize {
        let pos = (pos as usize).min(self.text.len());
        if pos < self.pos {
            return line_of(
                std::str::from_utf8(self.text).unwrap_or_default(),
                pos as u64,
            );
        }
        self.line += self.text[self.pos..pos]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.pos = pos;
        self.line
    }
}

fn name_of(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).into_owned()
}

fn attributes(e: &BytesStart<'_>, into: &mut HashMap<String, String>) {
    for a in e.attributes().flatten() {
        let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
        if let Ok(v) = a.unescape_value() {
            into.insert(key, v.into_owned());
        }
    }
}

/// `PARAMETRES` and the records found, with their element names.
type Walked = (HashMap<String, String>, Vec<(String, Record)>);

/// Walks the document: checks the root, reads `PARAMETRES`, and collects the elements named
/// in `records` (with `nested` collected inside them).
fn walk(
    file: &str,
    bytes: &[u8],
    root: &str,
    records: &[&str],
    nested: &str,
) -> Result<Walked, ImportError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ImportError::fatal(file, "the file is empty"));
    }
    let text = decode(bytes, declared_encoding(bytes).as_deref())
        .map_err(|m| ImportError::fatal(file, m))?;
    let mut reader = Reader::from_str(&text);
    reader.config_mut().trim_text(true);
    let mut path: Vec<String> = Vec::new();
    let mut params = HashMap::new();
    let mut out = Vec::new();
    let mut current: Option<(String, Record)> = None;
    let mut inner: Option<HashMap<String, String>> = None;
    let mut text_buf = String::new();
    let mut seen_root = false;
    let mut lines = Lines {
        text: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            let line = line_of(&text, reader.error_position());
            let message = e.to_string();
            if message.contains("end of input") {
                ImportError::fatal(
                    file,
                    format!("the file is truncated (line {line}): {message}"),
                )
            } else {
                ImportError::fatal(file, format!("malformed XML at line {line}: {message}"))
            }
        })?;
        match event {
            Event::Start(e) => {
                let name = name_of(&e);
                if path.is_empty() {
                    if name != root {
                        return Err(ImportError::fatal(
                            file,
                            format!("the root element is <{name}>, expected <{root}>"),
                        ));
                    }
                    seen_root = true;
                }
                if current.is_none() && records.contains(&name.as_str()) {
                    let mut r = Record {
                        line: lines.at(pos),
                        ..Record::default()
                    };
                    attributes(&e, &mut r.fields);
                    current = Some((name.clone(), r));
                } else if current.is_some() && name == nested {
                    let mut m = HashMap::new();
                    attributes(&e, &mut m);
                    inner = Some(m);
                }
                path.push(name);
                text_buf.clear();
            }
            Event::Empty(e) => {
                let name = name_of(&e);
                if path.is_empty() {
                    return Err(ImportError::fatal(
                        file,
                        format!("the root element is <{name}/>, expected <{root}>"),
                    ));
                }
                if current.is_none() && records.contains(&name.as_str()) {
                    let mut r = Record {
                        line: lines.at(pos),
                        ..Record::default()
                    };
                    attributes(&e, &mut r.fields);
                    out.push((name, r));
                }
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| {
                    ImportError::fatal(file, format!("line {}: {e}", line_of(&text, pos)))
                })?;
                text_buf.push_str(&s);
            }
            Event::CData(t) => text_buf.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match &*r {
                        b"amp" => Some('&'),
                        b"lt" => Some('<'),
                        b"gt" => Some('>'),
                        b"apos" => Some('\''),
                        b"quot" => Some('"'),
                        _ => None,
                    },
                };
                match resolved {
                    Some(c) => text_buf.push(c),
                    None => {
                        return Err(ImportError::fatal(
                            file,
                            format!(
                                "line {}: unknown entity &{};",
                                line_of(&text, pos),
                                String::from_utf8_lossy(&r)
                            ),
                        ));
                    }
                }
            }
            Event::End(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                path.pop();
                let value = std::mem::take(&mut text_buf);
                if path.len() >= 2 && path[1] == "PARAMETRES" && path.len() == 2 {
                    params.insert(name.clone(), value.trim().to_owned());
                } else if let Some(m) = inner.as_mut() {
                    if name == nested {
                        if let (Some((_, r)), Some(m)) = (current.as_mut(), inner.take()) {
                            r.nested.push(m);
                        }
                    } else {
                        m.insert(name, value.trim().to_owned());
                    }
                } else if let Some((rec_name, r)) = current.as_mut() {
                    if *rec_name == name {
                        if let Some(done) = current.take() {
                            out.push(done);
                        }
                    } else {
                        r.fields
                            .entry(name)
                            .or_insert_with(|| value.trim().to_owned());
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err(ImportError::fatal(file, format!("no <{root}> element")));
    }
    if !path.is_empty() {
        return Err(ImportError::fatal(
            file,
            format!(
                "the file is truncated: <{}> is never closed",
                path.join("/")
            ),
        ));
    }
    Ok((params, out))
}

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
    use super::*;

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
