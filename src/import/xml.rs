//! The streaming XML walk shared by the SIECLE readers: decodes by the XML declaration,
//! checks the root, reads `PARAMETRES`, and flattens the elements of interest.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::{BytesEnd, BytesRef, BytesStart, Event};

use super::xml_errors::parse_error;
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

/// The character of an XML reference: a character reference or one of the five predefined
/// entities (an XML document without a DTD knows no other).
pub(crate) fn resolve_reference(r: &BytesRef<'_>) -> Option<char> {
    match r.resolve_char_ref() {
        Ok(Some(c)) => Some(c),
        _ => match &**r {
            b"amp" => Some('&'),
            b"lt" => Some('<'),
            b"gt" => Some('>'),
            b"apos" => Some('\''),
            b"quot" => Some('"'),
            _ => None,
        },
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
    let mut w = Walker::new(file, &text, root, records, nested);
    loop {
        let pos = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| parse_error(file, &text, reader.error_position(), &e))?;
        match event {
            Event::Start(e) => w.start(&e, pos)?,
            Event::Empty(e) => w.empty(&e, pos)?,
            Event::Text(t) => {
                let s = t.decode().map_err(|_| {
                    ImportError::fatal(
                        file,
                        format!("ligne {} : texte illisible", line_of(&text, pos)),
                    )
                })?;
                w.text_buf.push_str(&s);
            }
            Event::CData(t) => w.text_buf.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) => w.reference(&r, pos)?,
            Event::End(e) => w.end(&e),
            Event::Eof => break,
            _ => {}
        }
    }
    w.finish()
}

/// The state of a walk: where it is in the tree and what it has collected.
struct Walker<'w> {
    file: &'w str,
    text: &'w str,
    root: &'w str,
    records: &'w [&'w str],
    nested: &'w str,
    path: Vec<String>,
    params: HashMap<String, String>,
    out: Vec<(String, Record)>,
    current: Option<(String, Record)>,
    inner: Option<HashMap<String, String>>,
    text_buf: String,
    seen_root: bool,
    lines: Lines<'w>,
}

impl<'w> Walker<'w> {
    fn new(
        file: &'w str,
        text: &'w str,
        root: &'w str,
        records: &'w [&'w str],
        nested: &'w str,
    ) -> Self {
        Walker {
            file,
            text,
            root,
            records,
            nested,
            path: Vec::new(),
            params: HashMap::new(),
            out: Vec::new(),
            current: None,
            inner: None,
            text_buf: String::new(),
            seen_root: false,
            lines: Lines {
                text: text.as_bytes(),
                pos: 0,
                line: 1,
            },
        }
    }

    /// A record starts here when the element is one of interest outside any other record.
    fn record_at(&mut self, e: &BytesStart<'_>, name: &str, pos: u64) -> Option<Record> {
        if self.current.is_some() || !self.records.contains(&name) {
            return None;
        }
        let mut r = Record {
            line: self.lines.at(pos),
            ..Record::default()
        };
        attributes(e, &mut r.fields);
        Some(r)
    }

    fn start(&mut self, e: &BytesStart<'_>, pos: u64) -> Result<(), ImportError> {
        let name = name_of(e);
        if self.path.is_empty() {
            if self.seen_root || name != self.root {
                return Err(ImportError::fatal(
                    self.file,
                    format!(
                        "l'élément racine est <{name:.40}>, <{}> était attendu",
                        self.root
                    ),
                ));
            }
            self.seen_root = true;
        }
        if let Some(r) = self.record_at(e, &name, pos) {
            self.current = Some((name.clone(), r));
        } else if self.current.is_some() && name == self.nested {
            let mut m = HashMap::new();
            attributes(e, &mut m);
            self.inner = Some(m);
        }
        self.path.push(name);
        self.text_buf.clear();
        Ok(())
    }

    fn empty(&mut self, e: &BytesStart<'_>, pos: u64) -> Result<(), ImportError> {
        let name = name_of(e);
        if self.path.is_empty() {
            return Err(ImportError::fatal(
                self.file,
                format!(
                    "l'élément racine est <{name:.40}/>, <{}> était attendu",
                    self.root
                ),
            ));
        }
        if let Some(r) = self.record_at(e, &name, pos) {
            self.out.push((name, r));
        }
        Ok(())
    }

    /// An entity or character reference inside a text.
    fn reference(&mut self, r: &BytesRef<'_>, pos: u64) -> Result<(), ImportError> {
        let Some(c) = resolve_reference(r) else {
            return Err(ImportError::fatal(
                self.file,
                format!(
                    "ligne {} : entité inconnue « &{}; »",
                    line_of(self.text, pos),
                    shown(r, 40)
                ),
            ));
        };
        self.text_buf.push(c);
        Ok(())
    }

    /// An element ends: a parameter, a field of a nested record or of a record, or a
    /// whole record.
    fn end(&mut self, e: &BytesEnd<'_>) {
        let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        self.path.pop();
        let value = std::mem::take(&mut self.text_buf);
        if self.path.len() == 2 && self.path.get(1).map(String::as_str) == Some("PARAMETRES") {
            self.params.insert(name, value.trim().to_owned());
        } else if let Some(m) = self.inner.as_mut() {
            if name == self.nested {
                if let (Some((_, r)), Some(m)) = (self.current.as_mut(), self.inner.take()) {
                    r.nested.push(m);
                }
            } else {
                m.insert(name, value.trim().to_owned());
            }
        } else if let Some((rec_name, r)) = self.current.as_mut() {
            if *rec_name == name {
                if let Some(done) = self.current.take() {
                    self.out.push(done);
                }
            } else {
                r.fields
                    .entry(name)
                    .or_insert_with(|| value.trim().to_owned());
            }
        }
    }

    /// The document ended: it must have had the root, closed.
    fn finish(self) -> Result<Walked, ImportError> {
        if !self.seen_root {
            return Err(ImportError::fatal(
                self.file,
                format!(
                    "aucun élément <{}> : ce n'est pas le bon fichier",
                    self.root
                ),
            ));
        }
        if !self.path.is_empty() {
            return Err(ImportError::fatal(
                self.file,
                format!(
                    "le fichier est tronqué : <{:.80}> n'est jamais refermé",
                    self.path.join("/")
                ),
            ));
        }
        Ok((self.params, self.out))
    }
}
