//! The principal's DelegCE screen.

use std::collections::HashMap;

use super::parts::{csrf_field, notice};
use crate::web::paths;
use chrono::NaiveDate;
use maud::{Markup, html};

use super::layout::{Chrome, page};
use crate::delegation::{Delegation, Scope, Status};
use crate::domain::Agent;
use crate::usecases::staff_names::name_in;

/// The grant form's values (kept when re-rendered after a refusal).
#[derive(Debug, Clone, Default)]
pub struct GrantValues {
    pub grantee: String,
    pub scopes: Vec<Scope>,
    pub valid_from: String,
    pub valid_until: String,
    pub motive: String,
}

pub struct DelegationsView<'a> {
    pub chrome: &'a Chrome<'a>,
    pub uai: &'a str,
    pub establishment: &'a str,
    pub groups: Vec<(Status, Vec<&'a Delegation>)>,
    pub staff: &'a [Agent],
    /// Who granted and revoked the delegations, by their stored uid.
    pub names: &'a HashMap<String, String>,
    pub search: &'a str,
    pub values: GrantValues,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
    /// An active delegation the refused grant collides with: offer to extend it.
    pub extend_offer: Option<&'a Delegation>,
    pub today: NaiveDate,
}

fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

pub fn delegations_page(v: &DelegationsView<'_>) -> Markup {
    let title = format!("Délégations — {}", v.establishment);
    page(
        &title,
        Some(v.chrome),
        html! {
            h1 { "Délégations DelegCE" }
            p class="lead" { (v.establishment) " " span class="uai" { "(" (v.uai) ")" } }
            (notice(v.notice))
            @if let Some(e) = v.error { p class="message message--error" role="alert" id="erreur" { (e) } }
            (extend_offer(v))
            (grant_form(v))
            (delegation_lists(v))
            p { a href=(paths::journal(Some(v.uai))) { "Voir le journal des actions de l'établissement" } }
        },
    )
}

/// The offer to extend the current delegation the refused grant collided with.
fn extend_offer(v: &DelegationsView<'_>) -> Markup {
    html! {
        @if let Some(d) = v.extend_offer {
            form method="post" action=(paths::extension(d.id)) class="extend" {
                (csrf_field(v.chrome.csrf_token))
                p { "La délégation en cours de " strong { (d.grantee_name) } " (" (d.scope.label()) ") court jusqu'au "
                    (date(d.valid_until)) ". Vous pouvez la prolonger :" }
                div class="field" {
                    label for="prolongation" { "Nouvelle date de fin" }
                    input type="date" id="prolongation" name="valid_until" value=(v.values.valid_until) required;
                }
                button type="submit" { "Prolonger la délégation" }
            }
        }
    }
}

/// The grant form: the staff search, then the person, the rights, the days and the motive.
fn grant_form(v: &DelegationsView<'_>) -> Markup {
    html! {
        section aria-labelledby="accorder" {
            h2 id="accorder" { "Accorder une délégation" }
            form method="get" action=(paths::delegations(None::<&str>)) class="search" {
                input type="hidden" name="uai" value=(v.uai);
                div class="field" {
                    label for="recherche" { "Rechercher un personnel de l'établissement" }
                    input type="search" id="recherche" name="recherche" value=(v.search) placeholder="Nom ou identifiant";
                }
                button type="submit" class="secondary" { "Rechercher" }
            }
            form method="post" action=(paths::delegations(None::<&str>)) {
                (csrf_field(v.chrome.csrf_token))
                input type="hidden" name="uai" value=(v.uai);
                fieldset {
                    legend { "Personnel" }
                    @if v.staff.is_empty() {
                        p { "Aucun personnel de l'établissement ne correspond à cette recherche." }
                    }
                    @for a in v.staff {
                        div class="choice" {
                            input type="radio" name="grantee" id=(format!("g-{}", a.uid)) value=(a.uid)
                                checked[v.values.grantee == a.uid] required;
                            label for=(format!("g-{}", a.uid)) { (a.display_name) " (" (a.uid) ")" }
                        }
                    }
                }
                fieldset {
                    legend { "Droits délégués" }
                    @for s in Scope::ALL {
                        div class="choice" {
                            input type="checkbox" name="scope" id=(format!("s-{}", s.as_str())) value=(s.as_str())
                                checked[v.values.scopes.contains(&s)];
                            label for=(format!("s-{}", s.as_str())) {
                                @match s { Scope::Eleves => "Comptes élèves", Scope::Responsables => "Comptes responsables" }
                            }
                        }
                    }
                }
                div class="field" {
                    label for="valid_from" { "Premier jour" }
                    input type="date" id="valid_from" name="valid_from" value=(v.values.valid_from) required;
                }
                div class="field" {
                    label for="valid_until" { "Dernier jour (inclus, au plus un an)" }
                    input type="date" id="valid_until" name="valid_until" value=(v.values.valid_until) required;
                }
                div class="field" {
                    label for="motive" { "Motif" }
                    textarea id="motive" name="motive" maxlength="500" rows="3" required { (v.values.motive) }
                }
                button type="submit" { "Accorder" }
            }
        }
    }
}

/// The establishment's delegations, by status.
fn delegation_lists(v: &DelegationsView<'_>) -> Markup {
    html! {
        @for (status, list) in &v.groups {
            section {
                h2 { (status.label()) " (" (list.len()) ")" }
                @if list.is_empty() {
                    p { "Aucune." }
                } @else {
                    table {
                        thead { tr {
                            th scope="col" { "Personnel" } th scope="col" { "Droits" } th scope="col" { "Du" }
                            th scope="col" { "Au" } th scope="col" { "Motif" } th scope="col" { "Accordée par" }
                            @if matches!(status, Status::Active | Status::Upcoming) { th scope="col" { span class="visually-hidden" { "Actions" } } }
                            @if matches!(status, Status::Revoked) { th scope="col" { "Révoquée par" } }
                        } }
                        tbody {
                            @for d in list {
                                tr {
                                    td { (d.grantee_name) " (" (d.grantee_uid) ")" }
                                    td { (d.scope.label()) }
                                    td { (date(d.valid_from)) }
                                    td { (date(d.valid_until)) }
                                    td { (d.motive) }
                                    td { (name_in(v.names, &d.granted_by)) }
                                    @if matches!(status, Status::Active | Status::Upcoming) {
                                        td { a href=(paths::revocation(d.id)) { "Révoquer" } }
                                    }
                                    @if matches!(status, Status::Revoked) {
                                        td { @if let Some(by) = &d.revoked_by { (name_in(v.names, by)) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub fn revocation_page(chrome: &Chrome<'_>, d: &Delegation, establishment: &str) -> Markup {
    page(
        "Révoquer une délégation",
        Some(chrome),
        html! {
            h1 { "Révoquer une délégation" }
            p { "Vous allez révoquer la délégation « " (d.scope.label()) " » de " strong { (d.grantee_name) }
                " (" (d.grantee_uid) ") sur " (establishment) ", valable du " (date(d.valid_from)) " au " (date(d.valid_until)) "." }
            p { "Elle cessera immédiatement : sa prochaine action sera refusée." }
            form method="post" action=(paths::revocation(d.id)) {
                (csrf_field(chrome.csrf_token))
                button type="submit" class="danger" { "Révoquer la délégation" }
                " "
                a class="button secondary" href=(paths::delegations(Some(&d.uai))) { "Annuler" }
            }
        },
    )
}

/// A principal of several establishments picks one.
pub fn choose_establishment_page(
    chrome: &Chrome<'_>,
    target: &str,
    uais: &[(String, String)],
) -> Markup {
    page(
        "Choisir un établissement",
        Some(chrome),
        html! {
            h1 { "Choisir un établissement" }
            ul {
                @for (uai, name) in uais {
                    li { a href=(paths::establishment_page(target, Some(uai))) { (name) " (" (uai) ")" } }
                }
            }
        },
    )
}
