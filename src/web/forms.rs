//! What the forms share: the form that carries only the session's CSRF token, the parsing of
//! a body with repeated fields, and the default of a password field left out.

use secrecy::SecretString;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::errors::AppError;

/// A form with nothing but its CSRF token (an action on the record of the path).
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf_token: String,
}

/// A password field left out is an empty one (then refused as such, never a 400).
pub fn empty_secret() -> SecretString {
    SecretString::from(String::new())
}

/// A body parsed by hand (`serde_html_form` reads repeated fields, `web::Form` does not):
/// a malformed one is a French 400.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_html_form::from_bytes(body).map_err(|_| malformed())
}

/// The refusal of a form that does not parse.
pub fn malformed() -> AppError {
    AppError::BadRequest(
        "Le formulaire envoyé est mal formé. Rechargez la page et réessayez.".into(),
    )
}
