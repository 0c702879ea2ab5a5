//! The French messages of the XML walk: quick-xml's own messages are English.

use super::ImportError;
use super::xml::line_of;

/// A parser error, in French: a truncated file or malformed XML, with its line.
pub(super) fn parse_error(file: &str, text: &str, at: u64, e: &quick_xml::Error) -> ImportError {
    let line = line_of(text, at);
    if ended_early(e) {
        ImportError::fatal(
            file,
            format!("le fichier est tronqué (ligne {line}) : {}", french(e)),
        )
    } else {
        ImportError::fatal(
            file,
            format!("XML mal formé à la ligne {line} : {}", french(e)),
        )
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
