use maud::{Markup, html};

use super::layout::{Chrome, page};
use crate::accounts::AccountKind;
use crate::web::paths;

/// One establishment the agent may act on, with what and until when.
pub struct EstablishmentRights {
    pub uai: String,
    pub name: Option<String>,
    pub scopes: Vec<&'static str>,
    pub basis: String,
    pub until: String,
    /// An upcoming delegation: "à partir du 05/01/2027", shown instead of the links.
    pub starts: Option<String>,
    /// Principals get links to the delegations and the journal.
    pub principal: bool,
}

pub fn home_page(
    chrome: &Chrome<'_>,
    rights: &[EstablishmentRights],
    gate: Option<&str>,
) -> Markup {
    page(
        "Accueil",
        Some(chrome),
        html! {
            h1 { "Bonjour " (chrome.display_name) }
            @if let Some(g) = gate {
                p class="message" role="status" { (g) " "
                    a href=(paths::otp()) { "Saisir le code de l'application d'authentification" } }
            }
            section aria-labelledby="etablissements" {
                h2 id="etablissements" { "Vos établissements" }
                @if rights.is_empty() {
                    p class="message" {
                        "Vous n'avez aucun droit sur un établissement pour le moment. "
                        "Pour gérer les comptes des élèves ou des responsables, votre chef d'établissement doit vous accorder une délégation DelegCE "
                        "(son adjoint peut aussi le faire) : demandez-la-lui, en précisant l'établissement et les comptes concernés."
                    }
                } @else {
                    table {
                        caption class="visually-hidden" { "Établissements sur lesquels vous pouvez agir" }
                        thead { tr { th scope="col" { "Établissement" } th scope="col" { "Droits" } th scope="col" { "À quel titre" } th scope="col" { "Jusqu'au" } th scope="col" { span class="visually-hidden" { "Liens" } } } }
                        tbody {
                            @for r in rights {
                                tr {
                                    td {
                                        @if let Some(name) = &r.name { (name) " " }
                                        span class="uai" { "(" (r.uai) ")" }
                                    }
                                    td { (r.scopes.join(", ")) }
                                    td { (r.basis) }
                                    td { (r.until) }
                                    td {
                                        @if let Some(starts) = &r.starts {
                                            (starts)
                                        } @else {
                                            (links(r))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// The links of an establishment's row: its searches, and the principal's screens.
fn links(r: &EstablishmentRights) -> Markup {
    html! {
        @if r.scopes.contains(&"Responsables") {
            a href=(paths::search(AccountKind::Parent, Some(&r.uai))) { "Responsables" }
            " · "
        }
        @if r.scopes.contains(&"Élèves") {
            a href=(paths::search(AccountKind::Pupil, Some(&r.uai))) { "Élèves" }
            " · "
        }
        @if r.principal {
            a href=(paths::delegations(Some(&r.uai))) { "Délégations" }
            " · "
            a href=(paths::journal(Some(&r.uai))) { "Journal" }
            " · "
            a href=(paths::import(Some(&r.uai))) { "Importer" }
        }
    }
}
