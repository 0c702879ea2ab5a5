//! Domain newtypes: every outside string becomes one of these at the edge.

mod agent;
mod division;
mod form_values;
mod identifiant;
mod ids;
mod ine;
mod motive;
mod person_name;
#[cfg(test)]
pub(crate) mod proptests;
mod text;
mod uai;

pub use agent::{Agent, AgentUid};
pub use division::Division;
pub use form_values::{parse_birth_date, parse_form_day, parse_page_number};
pub use identifiant::{Identifiant, first_free_number, identifiant_base, number_after_base};
pub use ids::{BatchId, DelegationId, ParentId, PupilId};
pub use ine::Ine;
pub use motive::{MOTIVE_MAX_CHARS, Motive};
pub use person_name::{PersonName, search_key};
pub use text::UnknownCode;
pub(crate) use text::stored_code;
pub use uai::Uai;

/// Why an outside value was refused; the message is French, shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub(crate) fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}
