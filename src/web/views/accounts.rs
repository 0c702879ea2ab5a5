//! What a pupil's and a parent's pages share: the action buttons and the reset's answer.

use super::parts::{csrf_field, print_button};
use crate::accounts::AccountKind;
use crate::web::paths;
use maud::{Markup, html};

use super::layout::{Chrome, page_scripted};

/// A POST button on the record `…/{kind}/{id}/{path}` (a parent's carries the
/// establishment acted on).
pub fn action_form(
    chrome: &Chrome<'_>,
    (kind, id): (AccountKind, i64),
    uai: Option<&str>,
    (path, label, class): (&str, &str, &str),
) -> Markup {
    html! {
        form method="post" action=(paths::account_action(kind, id, path)) {
            (csrf_field(chrome.csrf_token))
            @if let Some(uai) = uai { input type="hidden" name="uai" value=(uai); }
            button type="submit" class=(class) { (label) }
        }
    }
}

/// The reset's answer: the password once (`note` says how long), the way back to the
/// record, and the letter to print now.
pub struct ResetDone<'a> {
    pub name: (&'a str, &'a str),
    pub grouped_password: &'a str,
    pub note: &'a str,
    /// The record's URL and the link's text.
    pub back: (String, &'a str),
}

pub fn reset_done(chrome: &Chrome<'_>, r: &ResetDone<'_>, letter: Markup) -> Markup {
    page_scripted(
        "Courrier à imprimer",
        Some(chrome),
        html! {
            div class="once no-print" role="status" {
                h1 { "Mot de passe réinitialisé" }
                p { "Nouveau mot de passe provisoire de " (r.name.0) " " (r.name.1) " : " strong { code { (r.grouped_password) } } }
                p { (r.note) }
                p class="print-actions" { (print_button()) a href=(r.back.0) { (r.back.1) } }
            }
            (letter)
        },
    )
}
