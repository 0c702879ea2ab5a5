//! Parents' account pages (behind the parents' gate).

use super::parts::{listing, notice};
use crate::accounts::AccountKind;
use crate::web::paths;
use maud::{Markup, html};

use super::accounts::{self, ResetDone};
use super::journal::JournalRow;
use super::layout::{Chrome, page};
use crate::accounts::parents::{Child, Parent, mask_email, mask_mobile};
use crate::accounts::{AccountState, StateChange};
use chrono_tz::Tz;

pub fn path_label(p: Option<&str>) -> &'static str {
    match p {
        Some("notification") => "Courrier de notification",
        Some("sms") => "Auto-inscription par SMS",
        Some("franceconnect") => "FranceConnect",
        _ => "—",
    }
}

/// The account's state as a labelled badge.
pub fn badge(p: &Parent) -> Markup {
    html! { span class=(format!("badge badge--{}", p.state.as_str())) { (p.state.label()) } }
}

pub struct ParentSearchView<'a> {
    pub chrome: &'a Chrome<'a>,
    pub uai: &'a str,
    pub establishment: &'a str,
    pub gate: &'a str,
    pub q: &'a str,
    pub division: &'a str,
    pub etat: &'a str,
    pub mail: &'a str,
    pub parcours: &'a str,
    pub divisions: &'a [(String, i64)],
    pub results: &'a [(Parent, Vec<Child>)],
    pub total: usize,
    pub searched: bool,
}

pub fn parent_search_page(v: &ParentSearchView<'_>) -> Markup {
    page(
        "Rechercher un responsable",
        Some(v.chrome),
        html! {
            h1 { "Dépannage responsables" }
            p class="lead" { (v.establishment) " " span class="uai" { "(" (v.uai) ")" } }
            p class="message" { "Accès ouvert : " (v.gate) }
            form method="get" action=(paths::search(AccountKind::Parent, None::<&str>)) class="search" role="search" {
                input type="hidden" name="uai" value=(v.uai);
                div class="field" { label for="q" { "Nom du responsable ou d'un enfant" } input type="search" id="q" name="q" value=(v.q) autofocus; }
                div class="field" { label for="division" { "Classe d'un enfant" }
                    select id="division" name="division" { option value="" { "Toutes" }
                        @for (d, _) in v.divisions { option value=(d) selected[v.division == d] { (d) } } } }
                div class="field" { label for="etat" { "État du compte" }
                    select id="etat" name="etat" { option value="" { "Tous" }
                        @for s in AccountState::ALL { option value=(s.as_str()) selected[v.etat == s.as_str()] { (s.label()) } } } }
                div class="field" { label for="mail" { "Courriel" } input type="text" id="mail" name="mail" value=(v.mail); }
                div class="field" { label for="parcours" { "Parcours d'activation" }
                    select id="parcours" name="parcours" { option value="" { "Tous" }
                        @for p in ["notification", "sms", "franceconnect"] { option value=(p) selected[v.parcours == p] { (path_label(Some(p))) } } } }
                button type="submit" { "Rechercher" }
            }
            p class="actions no-print" { a href=(paths::class_form(AccountKind::Parent).with("uai", v.uai)) { "Notifier les responsables d'une classe" } }
            @if v.searched {
                h2 { (v.total) " responsable" @if v.total != 1 { "s" } }
                (listing(v.results.is_empty(), "Aucun responsable ne correspond à cette recherche.", &["Nom", "Prénom", "Enfants", "État"], html! {
                            @for (p, kids) in v.results {
                                tr {
                                    td { a href=(paths::account(AccountKind::Parent, p.id).with("uai", v.uai)) { (p.last_name) } }
                                    td { (p.first_name) }
                                    td { @for (i, c) in kids.iter().enumerate() { @if i > 0 { ", " } (c.first_name) " " (c.last_name) " (" (c.division.as_deref().unwrap_or("—")) ")" } }
                                    td { (badge(p)) }
                                }
                            }
                        }))
            }
        },
    )
}

pub struct ParentView<'a> {
    pub chrome: &'a Chrome<'a>,
    pub parent: &'a Parent,
    /// The establishment acted on, and its name.
    pub uai: &'a str,
    pub establishment: &'a str,
    /// His children's other establishments where the agent may see him: (UAI, name).
    pub elsewhere: &'a [(String, String)],
    /// His children in that establishment only.
    pub children: &'a [(Child, bool)],
    pub contacts_shown: bool,
    pub gate: &'a str,
    pub notice: Option<&'a str>,
    /// The last audit rows about him, in French.
    pub history: &'a [JournalRow],
    pub tz: Tz,
}

fn action(v: &ParentView<'_>, path: &str, label: &str, class: &str) -> Markup {
    let record = (AccountKind::Parent, v.parent.id.get());
    accounts::action_form(v.chrome, record, Some(v.uai), (path, label, class))
}

/// A link to the confirmation page of a change (`reinitialisation`, `desactivation`).
fn confirm_link(v: &ParentView<'_>, change: &str, label: &str, class: &str) -> Markup {
    let url =
        paths::account_action(AccountKind::Parent, v.parent.id.get(), change).with("uai", v.uai);
    html! { a class=(format!("button {class}")) href=(url) { (label) } }
}

/// What a parent activated with FranceConnect is told instead of a reset.
const FRANCECONNECT_NOTE: &str = "Ce responsable a activé son compte avec FranceConnect : il se connecte avec ses identifiants FranceConnect et n'a pas de mot de passe ÉduConnect à réinitialiser. En cas de difficulté, il s'adresse à FranceConnect.";

fn through_franceconnect(p: &Parent) -> bool {
    p.activation_path.as_deref() == Some("franceconnect")
}

/// The confirmation before a parent's reset (`change` = `None`) or deactivation, in the
/// establishment `uai`; `through_fc`: activated with FranceConnect (no reset to confirm).
pub fn confirm_parent_page(
    chrome: &Chrome<'_>,
    p: &Parent,
    uai: &str,
    (change, through_fc): (Option<StateChange>, bool),
) -> Markup {
    let back = paths::account(AccountKind::Parent, p.id.get()).with("uai", uai);
    let (title, path, button) = match change {
        Some(_) => (
            "Désactiver le compte",
            "desactivation",
            "Désactiver le compte",
        ),
        None => (
            "Réinitialiser le mot de passe",
            "reinitialisation",
            "Réinitialiser et afficher le courrier",
        ),
    };
    page(
        title,
        Some(chrome),
        html! {
            h1 { (title) }
            @if change.is_none() && through_fc {
                p class="message" { (FRANCECONNECT_NOTE) }
                p { a href=(back) { "Revenir à la fiche du responsable" } }
            } @else {
                @if change.is_some() {
                    p { "Le compte de " strong { (p.first_name) " " (p.last_name) } " (identifiant " code { (p.identifiant) } ") "
                        "va être désactivé : il ne pourra plus se connecter jusqu'à sa réactivation." }
                } @else {
                    p { "Un nouveau mot de passe provisoire va être créé pour " strong { (p.first_name) " " (p.last_name) }
                        " (identifiant " code { (p.identifiant) } ")." }
                    p { "L'ancien mot de passe ne fonctionnera plus. Le nouveau sera affiché une seule fois, avec le courrier à imprimer : "
                        "préparez l'imprimante avant de valider." }
                }
                div class="actions" {
                    (accounts::action_form(chrome, (AccountKind::Parent, p.id.get()), Some(uai), (path, button, "")))
                    a class="button secondary" href=(back) { "Annuler" }
                }
            }
        },
    )
}

pub fn parent_page(v: &ParentView<'_>) -> Markup {
    let p = v.parent;
    let title = format!("{} {}", p.first_name, p.last_name);
    page(
        &title,
        Some(v.chrome),
        html! {
            h1 { (p.first_name) " " (p.last_name) }
            p class="lead" { (v.establishment) " " span class="uai" { "(" (v.uai) ")" } }
            p class="message" { "Accès ouvert : " (v.gate) }
            (notice(v.notice))
            dl class="facts" {
                dt { "Identifiant" } dd { code { (p.identifiant) } }
                dt { "État du compte" } dd { (badge(p)) }
                dt { "Parcours d'activation" } dd { (path_label(p.activation_path.as_deref())) }
                (accounts::dates(p.created_at, [p.notified_at, p.activated_at, p.password_changed_at], v.tz))
                dt { "Courriel" } dd { @if v.contacts_shown { (p.email.as_deref().unwrap_or("—")) } @else { (p.email.as_deref().map(mask_email).unwrap_or_else(|| "—".into())) } }
                dt { "Téléphone portable" } dd { @if v.contacts_shown { (p.mobile.as_deref().unwrap_or("—")) } @else { (p.mobile.as_deref().map(mask_mobile).unwrap_or_else(|| "—".into())) } }
            }
            @if !v.contacts_shown && (p.email.is_some() || p.mobile.is_some()) {
                (action(v, "coordonnees", "Afficher les coordonnées (action tracée)", "secondary"))
            }
            h2 { "Enfants" }
            ul {
                @for (c, linkable) in v.children {
                    li {
                        @if *linkable { a href=(paths::account(AccountKind::Pupil, c.id)) { (c.first_name) " " (c.last_name) } }
                        @else { (c.first_name) " " (c.last_name) }
                        " — " (c.division.as_deref().unwrap_or("sans classe")) ", responsable légal " (c.legal_rank)
                    }
                }
            }
            @if !v.elsewhere.is_empty() {
                p class="no-print" {
                    "Ce responsable a aussi des enfants dans : "
                    @for (i, (uai, name)) in v.elsewhere.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href=(paths::account(AccountKind::Parent, p.id).with("uai", uai)) { (name) }
                    }
                }
            }
            @if through_franceconnect(p) && p.state != AccountState::Desactive {
                p class="message" { (FRANCECONNECT_NOTE) }
            }
            div class="actions no-print" {
                @match p.state {
                    AccountState::NonNotifie | AccountState::Notifie | AccountState::Active => {
                        @if !through_franceconnect(p) {
                            (confirm_link(v, "reinitialisation", "Réinitialiser le mot de passe et imprimer le courrier", ""))
                        }
                        (confirm_link(v, "desactivation", "Désactiver le compte", "secondary"))
                    }
                    AccountState::Bloque => {
                        (action(v, "deblocage", "Débloquer le compte", ""))
                        (confirm_link(v, "desactivation", "Désactiver le compte", "secondary"))
                    }
                    AccountState::Desactive => { (action(v, "reactivation", "Réactiver le compte", "")) }
                }
            }
            (accounts::history(v.history))
        },
    )
}

pub fn parent_reset_done_page(
    chrome: &Chrome<'_>,
    p: &Parent,
    uai: &str,
    grouped: &str,
    letter: Markup,
) -> Markup {
    let done = ResetDone {
        name: (&p.first_name, &p.last_name),
        grouped_password: grouped,
        note: "Il n'est affiché qu'une fois. Imprimez le courrier maintenant (Ctrl+P).",
        back: (
            paths::account(AccountKind::Parent, p.id)
                .with("uai", uai)
                .to_string(),
            "Revenir à la fiche du responsable",
        ),
    };
    accounts::reset_done(chrome, &done, letter)
}
