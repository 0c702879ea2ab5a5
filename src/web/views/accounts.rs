//! What a pupil's and a parent's pages share: the account's dates, its recent history, the
//! action buttons and the reset's answer.

use super::parts::{csrf_field, listing, print_button};
use crate::accounts::AccountKind;
use crate::web::paths;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};

use super::journal::JournalRow;
use super::layout::{Chrome, page_scripted};

/// A day as the pages show it, in the establishments' time zone: `26/11/2026`.
pub fn day(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%d/%m/%Y").to_string()
}

fn opt_day(t: Option<DateTime<Utc>>, tz: Tz) -> String {
    t.map(|t| day(t, tz)).unwrap_or_else(|| "—".into())
}

/// An account's milestones as terms of the record's definition list: created, then
/// `[notified, activated, password changed]` (`—` for what has not happened).
pub fn dates(created: DateTime<Utc>, then: [Option<DateTime<Utc>>; 3], tz: Tz) -> Markup {
    let [notified, activated, password_changed] = then;
    html! {
        dt { "Créé le" } dd { (day(created, tz)) }
        dt { "Notifié le" } dd { (opt_day(notified, tz)) }
        dt { "Activé le" } dd { (opt_day(activated, tz)) }
        dt { "Mot de passe changé le" } dd { (opt_day(password_changed, tz)) }
    }
}

/// « Dernières actions sur ce compte »: the journal's last rows about the record, in French.
pub fn history(rows: &[JournalRow]) -> Markup {
    let columns = ["Date", "Par", "Action", "Résultat", "Détails"];
    html! {
        h2 { "Dernières actions sur ce compte" }
        (listing(rows.is_empty(), "Aucune action enregistrée.", &columns, html! {
            @for r in rows {
                tr { td { (r.at) } td { (r.by()) } td { (r.action) } td { (r.outcome) } td { (r.details) } }
            }
        }))
    }
}

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
