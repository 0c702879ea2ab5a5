//! Pupil troubleshooting pages.

use super::parts::{csrf_field, listing, notice};
use crate::accounts::AccountKind;
use crate::web::paths::{self, Url};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};

use super::accounts::{self, ResetDone, day};
use super::journal::JournalRow;
use super::layout::{Chrome, page};
use super::parents::badge;
use crate::accounts::AccountState;
use crate::accounts::pupils::Pupil;
use crate::domain::PupilId;
use crate::usecases::accounts::PupilParents;

/// The state as a labelled badge: Non notifié · Notifié (expire le …) · Notification
/// expirée (le …) · Activé · Bloqué · Désactivé.
pub fn state_badge(p: &Pupil, now: DateTime<Utc>, tz: Tz) -> Markup {
    html! {
        span class=(format!("badge badge--{}", p.state.as_str())) {
            @if p.provisional_expired(now) {
                "Notification expirée"
                @if let Some(exp) = p.provisional_expires_at { " (le " (day(exp, tz)) ")" }
            } @else {
                (p.state.label())
                @if p.state == AccountState::Notifie {
                    @if let Some(exp) = p.provisional_expires_at { " (expire le " (day(exp, tz)) ")" }
                }
            }
        }
    }
}

pub struct SearchView<'a> {
    pub chrome: &'a Chrome<'a>,
    pub uai: &'a str,
    pub establishment: &'a str,
    pub q: &'a str,
    pub division: &'a str,
    pub divisions: &'a [(String, i64)],
    pub results: &'a [Pupil],
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub searched: bool,
    pub now: DateTime<Utc>,
    pub tz: Tz,
}

fn search_url(uai: &str, q: &str, division: &str, page: i64) -> Url {
    paths::search(AccountKind::Pupil, Some(uai))
        .with("q", q)
        .with("division", division)
        .with("page", page)
}

pub fn search_page(v: &SearchView<'_>) -> Markup {
    page(
        "Rechercher un élève",
        Some(v.chrome),
        html! {
            h1 { "Dépannage élèves" }
            p class="lead" { (v.establishment) " " span class="uai" { "(" (v.uai) ")" } }
            form method="get" action=(paths::search(AccountKind::Pupil, None::<&str>)) class="search" role="search" {
                input type="hidden" name="uai" value=(v.uai);
                div class="field" {
                    label for="q" { "Nom, prénom, identifiant ou INE" }
                    input type="search" id="q" name="q" value=(v.q) autofocus;
                }
                div class="field" {
                    label for="division" { "Classe" }
                    select id="division" name="division" {
                        option value="" { "Toutes" }
                        @for (d, n) in v.divisions {
                            option value=(d) selected[v.division == d] { (d) " (" (n) ")" }
                        }
                    }
                }
                button type="submit" { "Rechercher" }
            }
            p class="actions no-print" {
                a href=(paths::class_form(AccountKind::Pupil).with("uai", v.uai)) { "Courriers pour une classe" }
                a href=(paths::statistics(v.uai)) { "Statistiques" }
            }
            @if v.searched {
                h2 { (v.total) " élève" @if v.total != 1 { "s" } }
                (listing(v.results.is_empty(), "Aucun élève ne correspond à cette recherche.",
                    &["Classe", "Nom", "Prénom", "Identifiant", "État du compte"], html! {
                    @for p in v.results {
                        tr {
                            td { (p.division.as_deref().unwrap_or("—")) }
                            td { a href=(paths::account(AccountKind::Pupil, p.id)) { (p.last_name) } }
                            td { (p.first_name) }
                            td { code { (p.identifiant) } }
                            td { (state_badge(p, v.now, v.tz)) }
                        }
                    }
                }))
                {
                    @if v.pages > 1 {
                        nav class="pager" aria-label="Pages de résultats" {
                            @if v.page > 1 { a href=(search_url(v.uai, v.q, v.division, v.page - 1)) { "← Précédente" } }
                            span { "Page " (v.page) " sur " (v.pages) }
                            @if v.page < v.pages { a href=(search_url(v.uai, v.q, v.division, v.page + 1)) { "Suivante →" } }
                        }
                    }
                }
            }
        },
    )
}

pub struct PupilView<'a> {
    pub chrome: &'a Chrome<'a>,
    pub pupil: &'a Pupil,
    pub establishment: &'a str,
    pub history: &'a [JournalRow],
    /// His parents, when the agent may see them (and the parents' gate is open).
    pub parents: &'a PupilParents,
    pub notice: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub tz: Tz,
}

/// The pupil's parents with a link to each one's page in the pupil's establishment; behind
/// a closed parents' gate, the way to open it; nothing for an agent who may not see them.
fn parents_section(v: &PupilView<'_>) -> Markup {
    let p = v.pupil;
    let back = paths::account(AccountKind::Pupil, p.id);
    html! {
        @match v.parents {
            PupilParents::NotAllowed => {}
            PupilParents::GateClosed => {
                h2 { "Responsables" }
                p class="message no-print" {
                    "Les responsables de l'élève ne sont affichés que depuis le réseau administratif de l'établissement, "
                    "ou après la saisie d'un code de votre application d'authentification. "
                    a href=(paths::otp().with(paths::RETURN_PARAM, back)) { "Saisir un code" }
                }
            }
            PupilParents::Shown(parents) => {
                h2 { "Responsables" }
                (listing(parents.is_empty(), "Aucun responsable n'est connu pour cet élève.",
                    &["Nom", "Lien", "État du compte"], html! {
                    @for (parent, rank) in parents {
                        tr {
                            td { a href=(paths::account(AccountKind::Parent, parent.id).with("uai", &p.uai)) { (parent.first_name) " " (parent.last_name) } }
                            td { "responsable légal " (rank) }
                            td { (badge(parent)) }
                        }
                    }
                }))
            }
        }
    }
}

fn action_form(chrome: &Chrome<'_>, id: PupilId, path: &str, label: &str, class: &str) -> Markup {
    accounts::action_form(
        chrome,
        (AccountKind::Pupil, id.get()),
        None,
        (path, label, class),
    )
}

pub fn pupil_page(v: &PupilView<'_>) -> Markup {
    let p = v.pupil;
    let title = format!("{} {}", p.first_name, p.last_name);
    page(
        &title,
        Some(v.chrome),
        html! {
            p class="no-print" { a href=(paths::search(AccountKind::Pupil, Some(&p.uai)).with("division", p.division.as_deref().unwrap_or(""))) { "← Retour à la recherche" } }
            h1 { (p.first_name) " " (p.last_name) }
            (notice(v.notice))
            dl class="facts" {
                dt { "Établissement" } dd { (v.establishment) " (" (p.uai) ")" }
                dt { "Classe" } dd { (p.division.as_deref().unwrap_or("—")) }
                dt { "Date de naissance" } dd { (p.birth_date.format("%d/%m/%Y")) }
                dt { "INE" } dd { (p.ine.as_deref().and_then(|i| crate::domain::Ine::parse(i).ok()).map(|i| i.masked()).unwrap_or_else(|| "—".into())) }
                dt { "Identifiant" } dd { code { (p.identifiant) } }
                dt { "État du compte" } dd { (state_badge(p, v.now, v.tz)) }
                (accounts::dates(p.created_at, [p.notified_at, p.activated_at, p.password_changed_at], v.tz))
            }
            div class="actions no-print" {
                @match p.state {
                    AccountState::NonNotifie | AccountState::Notifie | AccountState::Active => {
                        a class="button" href=(paths::account_action(AccountKind::Pupil, p.id, "reinitialisation")) {
                            @if p.state == AccountState::NonNotifie { "Notifier (créer le mot de passe)" } @else { "Réinitialiser le mot de passe" }
                        }
                        (action_form(v.chrome, p.id, "desactivation", "Désactiver le compte", "secondary"))
                    }
                    AccountState::Bloque => {
                        (action_form(v.chrome, p.id, "deblocage", "Débloquer le compte", ""))
                        (action_form(v.chrome, p.id, "desactivation", "Désactiver le compte", "secondary"))
                    }
                    AccountState::Desactive => {
                        (action_form(v.chrome, p.id, "reactivation", "Réactiver le compte", ""))
                    }
                }
            }
            (parents_section(v))
            (accounts::history(v.history))
        },
    )
}

pub fn confirm_reset_page(chrome: &Chrome<'_>, p: &Pupil) -> Markup {
    page(
        "Réinitialiser le mot de passe",
        Some(chrome),
        html! {
            h1 { "Réinitialiser le mot de passe" }
            p { "Un nouveau mot de passe provisoire va être créé pour " strong { (p.first_name) " " (p.last_name) }
                " (" (p.division.as_deref().unwrap_or("sans classe")) ", identifiant " code { (p.identifiant) } ")." }
            p { "L'ancien mot de passe ne fonctionnera plus. Le nouveau sera affiché une seule fois, avec le courrier à imprimer : "
                "préparez l'imprimante avant de valider." }
            form method="post" action=(paths::account_action(AccountKind::Pupil, p.id, "reinitialisation")) class="actions" {
                (csrf_field(chrome.csrf_token))
                button type="submit" { "Réinitialiser et afficher le courrier" }
                a class="button secondary" href=(paths::account(AccountKind::Pupil, p.id)) { "Annuler" }
            }
        },
    )
}

/// The reset's answer: the password once, and the letter to print now.
pub fn reset_done_page(
    chrome: &Chrome<'_>,
    p: &Pupil,
    grouped_password: &str,
    letter: Markup,
) -> Markup {
    let done = ResetDone {
        name: (&p.first_name, &p.last_name),
        grouped_password,
        note: "Il n'est affiché qu'une fois et ne pourra pas être réimprimé plus tard. \
               Imprimez le courrier maintenant avec la commande d'impression de votre navigateur (Ctrl+P).",
        back: (
            paths::account(AccountKind::Pupil, p.id).to_string(),
            "Revenir à la fiche de l'élève",
        ),
    };
    accounts::reset_done(chrome, &done, letter)
}
