//! Letters for a whole division: the form, the batch's progress, the document.

use super::parts::{csrf_field, print_button};
use crate::web::paths;
use maud::{Markup, html};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::layout::{Chrome, page, page_scripted};
use super::letters::{LetterPortal, Sender, letter};
use crate::accounts::{AccountKind, AccountState};
use crate::clock::local_day;
use crate::usecases::batches::{BATCH_STATES, Letters, Status, kind_of};

pub struct ClassFormView<'a> {
    pub chrome: &'a Chrome<'a>,
    /// Pupils' or parents' letters.
    pub kind: AccountKind,
    pub uai: &'a str,
    pub establishment: &'a str,
    pub divisions: &'a [(String, i64)],
    pub division: &'a str,
    pub states: &'a [AccountState],
    /// The explicit choice to re-notify accounts already notified.
    pub renotify: bool,
    pub key: &'a str,
    pub error: Option<&'a str>,
    /// The unfinished batch that holds some of the accounts.
    pub running: Option<i64>,
}

pub fn class_form_page(v: &ClassFormView<'_>) -> Markup {
    page(
        "Courriers pour une classe",
        Some(v.chrome),
        html! {
            h1 { @if v.kind == AccountKind::Parent { "Notifier les responsables d'une classe" } @else { "Courriers pour une classe" } }
            p class="lead" { (v.establishment) " " span class="uai" { "(" (v.uai) ")" } }
            @if let Some(e) = v.error {
                div class="message message--error" role="alert" {
                    p { (e) }
                    @if let Some(id) = v.running {
                        p { a href=(paths::batch(v.kind, id)) { "Voir le lot en cours" } }
                    }
                }
            }
            p { "Un nouveau mot de passe provisoire est créé pour chaque compte choisi, et un document rassemble "
                "les courriers, un par page. Par défaut, seuls les comptes qui n'ont jamais reçu de courrier sont concernés. Les mots de passe restent disponibles pour réimpression jusqu'à ce que "
                "vous confirmiez l'impression, 24 heures au plus." }
            form method="post" action=(paths::class_form(v.kind)) {
                (csrf_field(v.chrome.csrf_token))
                input type="hidden" name="uai" value=(v.uai);
                input type="hidden" name="cle" value=(v.key);
                div class="field" {
                    label for="division" { "Classe" }
                    select id="division" name="division" required {
                        option value="" { "Choisir…" }
                        @for (d, n) in v.divisions {
                            option value=(d) selected[v.division == d] { (d) " (" (n) " élèves)" }
                        }
                    }
                }
                fieldset {
                    legend { @if v.kind == AccountKind::Parent { "Responsables concernés" } @else { "Élèves concernés" } }
                    @for s in BATCH_STATES {
                        div class="choice" {
                            input type="checkbox" name="etat" id=(format!("etat-{}", s.as_str())) value=(s.as_str()) checked[v.states.contains(&s)];
                            label for=(format!("etat-{}", s.as_str())) { "Comptes « " (s.label()) " »" }
                        }
                    }
                    div class="choice warning" {
                        input type="checkbox" name="renotifier" id="renotifier" value="oui" checked[v.renotify];
                        label for="renotifier" {
                            "Je confirme : pour les comptes « Notifié » ou « Activé », les courriers déjà remis "
                            "ne fonctionneront plus."
                        }
                    }
                }
                button type="submit" { "Créer les mots de passe et les courriers" }
            }
        },
    )
}

pub struct BatchView<'a> {
    pub chrome: &'a Chrome<'a>,
    pub kind: AccountKind,
    pub id: i64,
    pub division: &'a str,
    pub establishment: &'a str,
    pub done: i64,
    pub pending: i64,
    pub abandoned: i64,
    pub running: bool,
    pub error: bool,
    /// "interrompu : la délégation a été révoquée", with who the work ran for.
    pub interruption: Option<(&'a str, &'a str)>,
    pub printable: bool,
    pub printed: bool,
    pub wiped: bool,
}

impl<'a> BatchView<'a> {
    /// The page of a batch as `status` has it at `now`.
    pub fn of(
        chrome: &'a Chrome<'a>,
        establishment: &'a str,
        status: &'a Status,
        now: DateTime<Utc>,
    ) -> Self {
        let (b, p) = (&status.batch, &status.progress);
        let acting = status.acting_name.as_deref().unwrap_or_default();
        Self {
            chrome,
            kind: kind_of(b),
            id: b.id.get(),
            division: &b.division,
            establishment,
            done: p.done,
            pending: p.pending,
            abandoned: p.abandoned,
            running: b.is_leased(now),
            error: b.last_error.is_some(),
            interruption: b.interruption.map(|i| (i.label(), acting)),
            printable: p.done > 0 && b.passwords_available(now),
            printed: b.printed_at.is_some(),
            wiped: b.wiped_at.is_some(),
        }
    }
}

/// How often the assets' script fetches a running batch's page again, in seconds.
const POLL_SECONDS: u32 = 2;

/// A batch's page: its progress, then what can be done. It never reloads itself: its
/// « Mettre à jour » link fetches it again (a plain GET, without JavaScript), and while the
/// batch runs, the progress's `data-actualiser` asks the assets' script to do so.
pub fn batch_page(v: &BatchView<'_>) -> Markup {
    let total = v.done + v.pending + v.abandoned;
    let poll = (v.running && v.pending > 0).then_some(POLL_SECONDS);
    page_scripted(
        "Courriers de la classe",
        Some(v.chrome),
        html! {
            h1 { "Courriers de la classe " (v.division) }
            p class="lead" { (v.establishment) }
            p id="lot-progression" class="progress" role="status" data-actualiser=[poll] {
                (v.done) " / " (total) " mots de passe créés"
            }
            p class="no-print" {
                a class="button secondary" href=(paths::batch(v.kind, v.id)) { "Mettre à jour" }
            }
            div id="lot-suite" { (batch_state(v)) }
        },
    )
}

/// What a batch's page says under its progress: what was left out, whether it runs or was
/// interrupted, and its actions.
fn batch_state(v: &BatchView<'_>) -> Markup {
    let action = |what: &str| paths::batch_part(v.kind, v.id, what);
    let closed = v.printed || v.wiped;
    html! {
        @if v.abandoned > 0 {
            p class="message" {
                (v.abandoned) @if v.abandoned > 1 { " comptes ont été retirés" } @else { " compte a été retiré" }
                " du lot sans nouveau mot de passe : leurs courriers précédents restent valables."
            }
        }
        @if v.running && v.pending > 0 {
            p { "Création en cours… Choisissez « Mettre à jour » pour voir où elle en est." }
        } @else if v.pending > 0 && !closed {
            (unfinished(v))
            div class="print-actions" {
                form method="post" action=(action("reprise")) {
                    (csrf_field(v.chrome.csrf_token))
                    button type="submit" { "Reprendre" }
                }
                form method="post" action=(action("abandon")) {
                    (csrf_field(v.chrome.csrf_token))
                    button type="submit" class="secondary" {
                        "Abandonner les " (v.pending) " comptes restants"
                    }
                }
            }
        }
        @if v.printable {
            div class="print-actions" {
                a class="button" href=(action("courriers")) { "Afficher les courriers à imprimer" }
                @if v.pending == 0 {
                    form method="post" action=(action("impression")) {
                        (csrf_field(v.chrome.csrf_token))
                        button type="submit" class="secondary" { "J'ai imprimé les courriers : effacer les mots de passe" }
                    }
                } @else {
                    p class="hint" { "Vous pourrez confirmer l'impression quand tous les comptes auront été traités ou retirés du lot." }
                }
            }
        }
        @if v.printed { p class="message message--success" { "Impression confirmée : les mots de passe ont été effacés." } }
        @else if v.wiped { p class="message" { "Les mots de passe ont été effacés (24 heures passées) : créez un nouveau lot si besoin." } }
    }
}

/// Why a batch that no longer runs has accounts left, and who may do what about it.
fn unfinished(v: &BatchView<'_>) -> Markup {
    html! {
        div class="message message--error" role="alert" {
            @if let Some((why, whom)) = v.interruption {
                p { strong { "Lot interrompu : " (why) } " (travail mené pour " (whom) ")." }
                p {
                    @if v.done == 0 { "Aucun compte n'a été modifié. " }
                    @else { "Les comptes déjà traités gardent leur nouveau mot de passe ; les "
                        (v.pending) " autres n'ont pas été modifiés. " }
                    "La direction de l'établissement peut reprendre le lot"
                    @if v.done > 0 { ", imprimer les courriers déjà prêts" }
                    " ou abandonner ce qui reste."
                }
            } @else if v.error {
                p { "La création s'est interrompue. Les comptes déjà traités gardent leur mot de passe ; reprenez pour traiter les autres." }
            } @else {
                p { "La création n'est pas terminée. Les comptes déjà traités gardent leur mot de passe ; reprenez pour traiter les autres." }
            }
        }
    }
}

/// What the letters document shows around the letters.
pub struct LettersView<'a> {
    pub chrome: &'a Chrome<'a>,
    pub establishment: &'a str,
    pub portal: &'a LetterPortal,
    pub tz: Tz,
    pub now: DateTime<Utc>,
}

/// The letters to print, one a page, after a note that sends back to the batch's page.
pub fn letters_document(v: &LettersView<'_>, letters: &Letters) -> Markup {
    let (b, count) = (&letters.batch, letters.items.len());
    let back = paths::batch(kind_of(b), b.id);
    let from = Sender {
        establishment: v.establishment,
        uai: b.uai.as_str(),
        portal: v.portal,
        tz: v.tz,
        issued: local_day(v.now, v.tz),
    };
    page_scripted(
        "Courriers à imprimer",
        Some(v.chrome),
        html! {
            div class="once no-print" {
                h1 { (count) " courrier" @if count != 1 { "s" } " à imprimer" }
                p { "Imprimez ce document avec la commande d'impression de votre navigateur (Ctrl+P) : un courrier par page. "
                    "Puis " a href=(back) { "confirmez l'impression" } " pour effacer les mots de passe." }
                p { (print_button()) }
            }
            @for item in &letters.items { (letter(&from, item)) }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(running: bool) -> String {
        let chrome = Chrome {
            display_name: "Anne Référente",
            uid: "referent",
            csrf_token: "jeton",
        };
        let v = BatchView {
            chrome: &chrome,
            kind: AccountKind::Pupil,
            id: 7,
            division: "5B",
            establishment: "Collège",
            done: 1,
            pending: 2,
            abandoned: 0,
            running,
            error: false,
            interruption: None,
            printable: false,
            printed: false,
            wiped: false,
        };
        batch_page(&v).into_string()
    }

    #[test]
    fn a_running_batch_is_followed_by_the_script_never_by_a_reload() {
        let page = running(true);
        assert!(!page.contains("http-equiv"), "{page}");
        assert!(page.contains(r#"data-actualiser="2""#), "{page}");
        assert!(page.contains(&format!(
            r#"href="{}">Mettre à jour</a>"#,
            paths::batch(AccountKind::Pupil, 7)
        )));
        assert!(
            page.contains(r#"<script src="/educt-admin-comptes/assets/app.js" defer></script>"#)
        );
        let stopped = running(false);
        assert!(!stopped.contains("data-actualiser") && !stopped.contains("http-equiv"));
        assert!(stopped.contains("Mettre à jour") && stopped.contains("Reprendre"));
    }
}
