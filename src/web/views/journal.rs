use super::parts::listing;
use crate::web::paths::{self, Url};
use maud::{Markup, html};

use super::layout::{Chrome, page};
use crate::audit::AuditAction;

pub use crate::audit::journal::JournalRow;

pub struct JournalFilters {
    pub uai: String,
    pub du: String,
    pub au: String,
    pub acteur: String,
    pub action: String,
    pub cible: String,
}

impl JournalFilters {
    /// `url` with these filters (and a page number) as its query.
    fn applied(&self, url: Url, page: Option<i64>) -> Url {
        url.with("uai", &self.uai)
            .with("du", &self.du)
            .with("au", &self.au)
            .with("acteur", &self.acteur)
            .with("action", &self.action)
            .with("cible", &self.cible)
            .with_some("page", page)
    }
}

/// The action filter: every action by its French label (in alphabetical order), its
/// stored code as the value; `chosen` selected.
fn action_choice(chosen: &str) -> Markup {
    let mut actions: Vec<AuditAction> = AuditAction::all().collect();
    actions.sort_by_key(|a| a.label());
    html! {
        select id="action" name="action" {
            option value="" { "Toutes les actions" }
            @for a in actions {
                option value=(a.as_str()) selected[a.as_str() == chosen] { (a.label()) }
            }
        }
    }
}

pub fn journal_page(
    chrome: &Chrome<'_>,
    establishment: &str,
    f: &JournalFilters,
    rows: &[JournalRow],
    page_no: i64,
    has_next: bool,
) -> Markup {
    page(
        "Journal",
        Some(chrome),
        html! {
            h1 { "Journal des actions" }
            p class="lead" { (establishment) " " span class="uai" { "(" (f.uai) ")" } }
            form method="get" action=(paths::journal(None::<&str>)) class="search no-print" {
                input type="hidden" name="uai" value=(f.uai);
                div class="field" { label for="du" { "Du" } input type="date" id="du" name="du" value=(f.du); }
                div class="field" { label for="au" { "Au" } input type="date" id="au" name="au" value=(f.au); }
                div class="field" { label for="acteur" { "Par (identifiant)" } input type="text" id="acteur" name="acteur" value=(f.acteur); }
                div class="field" { label for="action" { "Action" } (action_choice(&f.action)) }
                div class="field" { label for="cible" { "Cible (n°)" } input type="text" id="cible" name="cible" value=(f.cible); }
                button type="submit" class="secondary" { "Filtrer" }
            }
            p class="no-print" { a href=(f.applied(paths::journal_csv(), None)) { "Exporter en CSV" } }
            (listing(rows.is_empty(), "Aucune action ne correspond à ces critères.", &["Date", "Action", "Cible", "Par", "Résultat", "Accès", "Détails"], html! {
                        @for r in rows {
                            tr {
                                td { (r.at) } td { (r.action) } td { (r.target) } td title=(r.actor_code) { (r.by()) }
                                td { (r.outcome) @if r.awaiting { " — issue inconnue, vérification en cours" } }
                                td { (r.gate) @if !r.client.is_empty() { @if !r.gate.is_empty() { ", " } "adresse " (r.client) } }
                                td { (r.details) }
                            }
                        }
                    }))
            nav class="pager no-print" aria-label="Pages du journal" {
                @if page_no > 1 { a href=(f.applied(paths::journal(None::<&str>), Some(page_no - 1))) { "← Plus récentes" } }
                span { "Page " (page_no) }
                @if has_next { a href=(f.applied(paths::journal(None::<&str>), Some(page_no + 1))) { "Plus anciennes →" } }
            }
        },
    )
}
