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

/// The XML declaration's encoding, if any.
pub(super) fn declared_encoding(bytes: &[u8]) -> Option<String> {
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

pub(super) fn line_of(text: &str, pos: u64) -> usize {
    let pos = (pos as usize).min(text.len());
    text.as_bytes()[..pos]
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
        self.line += self.text[self.pos..pos]
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

/// `PARAMETRES` and the records found, with their element names.
pub(super) type Walked = (HashMap<String, String>, Vec<(String, Record)>);

/// Walks the document: checks the root, reads `PARAMETRES`, and collects the elements named
/// in `records` (with `nested` collected inside them).
pub(super) fn walk(
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
