//! Letters for a whole division: the form, the batch's progress, the document.

use maud::{Markup, html};

use super::layout::{Chrome, page, page_refreshing};
use crate::accounts::AccountState;
use crate::web::BASE;

pub struct ClassFormView<'a> {
    pub chrome: &'a Chrome<'a>,
    /// `eleve` or `responsable`: the path prefix.
    pub prefix: &'a str,
    pub uai: &'a str,
    pub establishment: &'a str,
    pub divisions: &'a [(String, i64)],
    pub division: &'a str,
    pub states: &'a [AccountState],
    pub key: &'a str,
    pub error: Option<&'a str>,
}

pub const BATCH_STATES: [AccountState; 3] = [
    AccountState::NonNotifie,
    AccountState::Notifie,
    AccountState::Active,
];

pub fn class_form_page(v: &ClassFormView<'_>) -> Markup {
    page(
        "Courriers pour une classe",
        Some(v.chrome),
        html! {
            h1 { @if v.prefix == "responsable" { "Notifier les responsables d'une classe" } @else { "Courriers pour une classe" } }
            p class="lead" { (v.establishment) " " span class="uai" { "(" (v.uai) ")" } }
            @if let Some(e) = v.error { p class="message message--error" role="alert" { (e) } }
            p { "Un nouveau mot de passe provisoire est créé pour chaque élève choisi, et un document rassemble "
                "leurs courriers, un par page. Les mots de passe restent disponibles pour réimpression jusqu'à ce que "
                "vous confirmiez l'impression, 24 heures au plus." }
            form method="post" action=(format!("{BASE}/depannage/{}/classe", v.prefix)) {
                input type="hidden" name="csrf_token" value=(v.chrome.csrf_token);
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
                    legend { @if v.prefix == "responsable" { "Responsables concernés" } @else { "Élèves concernés" } }
                    @for s in BATCH_STATES {
                        div class="choice" {
                            input type="checkbox" name="etat" id=(format!("etat-{}", s.as_str())) value=(s.as_str()) checked[v.states.contains(&s)];
                            label for=(format!("etat-{}", s.as_str())) { "Comptes « " (s.label()) " »" }
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
    pub prefix: &'a str,
    pub id: i64,
    pub division: &'a str,
    pub establishment: &'a str,
    pub done: i64,
    pub total: i64,
    pub running: bool,
    pub error: bool,
    pub printable: bool,
    pub printed: bool,
    pub wiped: bool,
}

pub fn batch_page(v: &BatchView<'_>) -> Markup {
    let refresh = (v.running && v.done < v.total).then_some(1);
    page_refreshing(
        "Courriers de la classe",
        Some(v.chrome),
        refresh,
        html! {
            h1 { "Courriers de la classe " (v.division) }
            p class="lead" { (v.establishment) }
            p class="progress" role="status" { (v.done) " / " (v.total) " mots de passe créés" }
            @if v.running && v.done < v.total {
                p { "Création en cours… cette page se met à jour toute seule." }
            } @else if v.done < v.total {
                p class="message message--error" role="alert" {
                    @if v.error { "La création s'est interrompue. " } @else { "La création n'est pas terminée. " }
                    "Les élèves déjà traités gardent leur mot de passe ; reprenez pour traiter les autres."
                }
                form method="post" action=(format!("{BASE}/depannage/{}/lots/{}/reprise", v.prefix, v.id)) {
                    input type="hidden" name="csrf_token" value=(v.chrome.csrf_token);
                    button type="submit" { "Reprendre" }
                }
            }
            @if v.printable {
                div class="print-actions" {
                    a class="button" href=(format!("{BASE}/depannage/{}/lots/{}/courriers", v.prefix, v.id)) { "Afficher les courriers à imprimer" }
                    form method="post" action=(format!("{BASE}/depannage/{}/lots/{}/impression", v.prefix, v.id)) {
                        input type="hidden" name="csrf_token" value=(v.chrome.csrf_token);
                        button type="submit" class="secondary" { "J'ai imprimé les courriers : effacer les mots de passe" }
                    }
                }
            }
            @if v.printed { p class="message message--success" { "Impression confirmée : les mots de passe ont été effacés." } }
            @else if v.wiped { p class="message" { "Les mots de passe ont été effacés (24 heures passées) : créez un nouveau lot si besoin." } }
        },
    )
}

pub fn letters_document(
    chrome: &Chrome<'_>,
    prefix: &str,
    id: i64,
    count: usize,
    letters: Vec<Markup>,
) -> Markup {
    page(
        "Courriers à imprimer",
        Some(chrome),
        html! {
            div class="once no-print" {
                h1 { (count) " courrier" @if count != 1 { "s" } " à imprimer" }
                p { "Imprimez ce document avec la commande d'impression de votre navigateur (Ctrl+P) : un courrier par page. "
                    "Puis " a href=(format!("{BASE}/depannage/{prefix}/lots/{id}")) { "confirmez l'impression" } " pour effacer les mots de passe." }
            }
            @for l in letters { (l) }
        },
    )
}
