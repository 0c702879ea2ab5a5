//! The streaming XML walk shared by the SIECLE readers: decodes by the XML declaration,
//! checks the root, reads `PARAMETRES`, and flattens the elements of interest.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::{ImportError, decode};

/// An element of interest, flattened: its attributes and the text of its child elements.
#[derive(Debug, Default, Clone)]
pub(super) struct Record {
    pub(super) fields: HashMap<String, String>,
    /// Nested records (`STRUCTURE` inside `STRUCTURES_ELEVE`).
    pub(super) nested: Vec<HashMap<String, String>>,
    pub(super) line: usize,
}

impl Record {
    pub(super) fn get(&self, k: &str) -> Option<&str> {
        self.fields
            .get(k)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }
}

/// The encoding named by the XML declaration, read with quick-xml's own declaration event
/// (never by slicing the bytes by hand: a label may hold any byte). `Ok(None)`: no
/// declaration, or one without `encoding`. A label that is not an encoding is refused.
pub(super) fn declared_encoding(
    bytes: &[u8],
) -> Result<Option<&'static encoding_rs::Encoding>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let decl = match reader.read_event_into(&mut buf) {
        Ok(Event::Decl(d)) => d,
        // No declaration (or a broken start that the main walk will report).
        _ => return Ok(None),
    };
    match decl.encoding() {
        None => Ok(None),
        Some(Ok(label)) => {
            let shown = shown(&label, 30);
            match encoding_rs::Encoding::for_label(label.trim_ascii()) {
                Some(e) => Ok(Some(e)),
                None => Err(format!(
                    "la déclaration XML annonce un encodage inconnu (« {shown} »)"
                )),
            }
        }
        Some(Err(_)) => {
            Err("la déclaration XML est mal formée (attribut encoding illisible)".into())
        }
    }
}

/// A fragment of the file, fit to be quoted in a message: control characters become `?`,
/// at most `max` characters.
pub(super) fn shown(bytes: &[u8], max: usize) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(max)
        .collect()
}

pub(super) fn line_of(text: &str, pos: u64) -> usize {
    let pos = usize::try_from(pos).unwrap_or(usize::MAX).min(text.len());
    text.as_bytes()
        .get(..pos)
        .unwrap_or_default()
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Line numbers for increasing positions, counted once (a whole-file count per record would
/// be quadratic).
pub(super) struct Lines<'a> {
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
        self.line += self
            .text
            .get(self.pos..pos)
            .unwrap_or_default()
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.pos = pos;
        self.line
    }
}

pub(super) fn name_of(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).into_owned()
}

pub(super) fn attributes(e: &BytesStart<'_>, into: &mut HashMap<String, String>) {
    for a in e.attributes().flatten() {
        let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
        if let Ok(v) = a.unescape_value() {
            into.insert(key, v.into_owned());
        }
    }
}

/// A French description of a parser error (quick-xml's own messages are English).
fn french(e: &quick_xml::Error) -> String {
    use quick_xml::errors::{IllFormedError, SyntaxError};
    match e {
        quick_xml::Error::Syntax(s) => match s {
            SyntaxError::UnclosedTag => "une balise n'est pas refermée (« > » manquant)".into(),
            SyntaxError::UnclosedComment => "un commentaire n'est pas refermé".into(),
            SyntaxError::UnclosedCData => "une section CDATA n'est pas refermée".into(),
            SyntaxError::UnclosedDoctype => "une déclaration DOCTYPE n'est pas refermée".into(),
            SyntaxError::UnclosedPIOrXmlDecl => {
                "une déclaration « <? » n'est pas refermée par « ?> »".into()
            }
            SyntaxError::InvalidBangMarkup => "balise « <! » incompréhensible".into(),
        },
        quick_xml::Error::IllFormed(i) => match i {
            IllFormedError::MismatchedEndTag { expected, found } => format!(
                "la balise fermante </{:.40}> ne correspond pas à <{:.40}>",
                found, expected
            ),
            IllFormedError::UnmatchedEndTag(t) => {
                format!("balise fermante </{t:.40}> sans balise ouvrante")
            }
            IllFormedError::MissingEndTag(t) => {
                format!("la balise <{t:.40}> n'est jamais refermée")
            }
            IllFormedError::MissingDeclVersion(_) => {
                "la déclaration XML n'indique pas de version".into()
            }
            _ => "structure XML incorrecte".into(),
        },
        quick_xml::Error::InvalidAttr(_) => "attribut mal formé".into(),
        quick_xml::Error::Encoding(_) => "caractères illisibles dans cet encodage".into(),
        quick_xml::Error::Escape(_) => "entité « & » mal formée".into(),
        quick_xml::Error::Namespace(_) => "espace de noms XML incorrect".into(),
        quick_xml::Error::Io(_) => "lecture impossible".into(),
    }
}

/// Whether the parser stopped because the input ended early.
fn ended_early(e: &quick_xml::Error) -> bool {
    use quick_xml::errors::{IllFormedError, SyntaxError};
    matches!(
        e,
        quick_xml::Error::Syntax(
            SyntaxError::UnclosedTag
                | SyntaxError::UnclosedComment
                | SyntaxError::UnclosedCData
                | SyntaxError::UnclosedDoctype
                | SyntaxError::UnclosedPIOrXmlDecl
        ) | quick_xml::Error::IllFormed(IllFormedError::MissingEndTag(_))
    )
}

/// `PARAMETRES` and the records found, with their element names.
pub(super) type Walked = (HashMap<String, String>, Vec<(String, Record)>);

/// Walks the document: checks the root, reads `PARAMETRES`, and collects the elements named
/// in `records` (with `nested` collected inside them). Every error is French.
pub(super) fn walk(
    file: &str,
    bytes: &[u8],
    root: &str,
    records: &[&str],
    nested: &str,
) -> Result<Walked, ImportError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ImportError::fatal(file, "le fichier est vide"));
    }
    let declared = declared_encoding(bytes).map_err(|m| ImportError::fatal(file, m))?;
    let text = decode(bytes, declared).map_err(|m| ImportError::fatal(file, m))?;
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
            if ended_early(&e) {
                ImportError::fatal(
                    file,
                    format!("le fichier est tronqué (ligne {line}) : {}", french(&e)),
                )
            } else {
                ImportError::fatal(
                    file,
                    format!("XML mal formé à la ligne {line} : {}", french(&e)),
                )
            }
        })?;
        match event {
            Event::Start(e) => {
                let name = name_of(&e);
                if path.is_empty() {
                    if seen_root || name != root {
                        return Err(ImportError::fatal(
                            file,
                            format!("l'élément racine est <{name:.40}>, <{root}> était attendu"),
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
                        format!("l'élément racine est <{name:.40}/>, <{root}> était attendu"),
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
                let s = t.decode().map_err(|_| {
                    ImportError::fatal(
                        file,
                        format!("ligne {} : texte illisible", line_of(&text, pos)),
                    )
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
                                "ligne {} : entité inconnue « &{}; »",
                                line_of(&text, pos),
                                shown(&r, 40)
                            ),
                        ));
                    }
                }
            }
            Event::End(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                path.pop();
                let value = std::mem::take(&mut text_buf);
                if path.len() == 2 && path.get(1).map(String::as_str) == Some("PARAMETRES") {
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
        return Err(ImportError::fatal(
            file,
            format!("aucun élément <{root}> : ce n'est pas le bon fichier"),
        ));
    }
    if !path.is_empty() {
        return Err(ImportError::fatal(
            file,
            format!(
                "le fichier est tronqué : <{:.80}> n'est jamais refermé",
                path.join("/")
            ),
        ));
    }
    Ok((params, out))
}
