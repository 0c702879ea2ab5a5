//! The first sign-in pages of pupils and parents: the letter's proof, the new password,
//! the confirmation. Accessible without JavaScript: every field has its label and its hint
//! (`aria-describedby`), the error summary comes first, takes the focus and links to the
//! field concerned (never for the generic refusal, which names no field).

use maud::{Markup, html};

use super::layout::page;
use super::parts::csrf_field;
use crate::web::paths;

/// A message and the id of the field it is about, if any.
pub type FieldError = (Option<&'static str>, String);

/// The messages first, focused, each linking to its field.
fn error_summary(errors: &[FieldError]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div class="message message--error error-summary" role="alert" tabindex="-1"
                aria-labelledby="erreurs-titre" autofocus {
                h2 id="erreurs-titre" { "Il y a un problème" }
                ul {
                    @for (field, message) in errors {
                        li {
                            @if let Some(f) = field { a href=(format!("#{f}")) { (message) } }
                            @else { (message) }
                        }
                    }
                }
            }
        }
    }
}

/// The messages about `field`, beside it; the ids its input is described by.
fn field_errors(errors: &[FieldError], field: &str, hint: &str) -> (Markup, String, bool) {
    let mine: Vec<&String> = errors
        .iter()
        .filter(|(f, _)| *f == Some(field))
        .map(|(_, m)| m)
        .collect();
    let id = format!("{field}-erreur");
    let described = if mine.is_empty() {
        hint.to_owned()
    } else {
        format!("{hint} {id}")
    };
    let markup = html! {
        @if !mine.is_empty() {
            p class="field-error" id=(id) { @for m in &mine { (m) " " } }
        }
    };
    (markup, described, !mine.is_empty())
}

/// A step's page: its title, its lead, the error summary, then `form`.
fn step_page(title: &str, lead: Markup, errors: &[FieldError], form: Markup) -> Markup {
    page(
        title,
        None,
        html! {
            h1 { (title) }
            p class="lead" { (lead) }
            (error_summary(errors))
            (form)
        },
    )
}

/// What the first step shows again besides its fields.
pub struct ProofView<'a> {
    pub csrf_token: &'a str,
    pub identifiant: &'a str,
    /// `AAAA-MM-JJ` (what a date field takes back), or empty.
    pub birth_date: String,
    pub errors: Vec<FieldError>,
}

pub fn proof_page(v: &ProofView<'_>) -> Markup {
    let focus_first = v.errors.is_empty();
    let (date_error, date_described, date_invalid) =
        field_errors(&v.errors, "date_naissance", "date_naissance-aide");
    let lead = html! { "Activez votre compte avec le courrier que l'établissement vous a remis, puis choisissez votre propre mot de passe." };
    step_page(
        "Première connexion",
        lead,
        &v.errors,
        html! {
            form method="post" action=(paths::first_signin()) class="signin" {
                (csrf_field(v.csrf_token))
                div class="field" {
                    label for="identifiant" { "Identifiant" }
                    p class="hint" id="identifiant-aide" { "Tel qu'il figure sur le courrier, par exemple j.dupont." }
                    input type="text" id="identifiant" name="identifiant" value=(v.identifiant)
                        autocomplete="username" autocapitalize="none" spellcheck="false" required
                        aria-describedby="identifiant-aide" autofocus[focus_first];
                }
                div class="field" {
                    label for="mot_de_passe" { "Mot de passe provisoire" }
                    p class="hint" id="mot_de_passe-aide" { "Celui du courrier, avec ou sans les espaces." }
                    input type="password" id="mot_de_passe" name="mot_de_passe"
                        autocomplete="current-password" required aria-describedby="mot_de_passe-aide";
                }
                div class="field" {
                    label for="date_naissance" { "Date de naissance" }
                    p class="hint" id="date_naissance-aide" {
                        "Élève : la vôtre. Responsable : celle de l'un de vos enfants. Au format JJ/MM/AAAA."
                    }
                    (date_error)
                    input type="date" id="date_naissance" name="date_naissance" value=(v.birth_date)
                        autocomplete="off" required aria-describedby=(date_described)
                        aria-invalid=[date_invalid.then_some("true")];
                }
                button type="submit" { "Continuer" }
            }
        },
    )
}

/// What the second step shows.
pub struct ChoiceView<'a> {
    pub csrf_token: &'a str,
    /// The step token of the first step.
    pub token: &'a str,
    pub identifiant: &'a str,
    /// The reader's rule, as a sentence.
    pub rule: String,
    pub errors: Vec<FieldError>,
}

pub fn choice_page(v: &ChoiceView<'_>) -> Markup {
    let (new_error, new_described, new_invalid) =
        field_errors(&v.errors, "nouveau_mot_de_passe", "regle");
    let (again_error, again_described, again_invalid) =
        field_errors(&v.errors, "confirmation", "regle");
    step_page(
        "Choisissez votre mot de passe",
        html! { "Compte " strong { (v.identifiant) } },
        &v.errors,
        html! {
            p class="message" id="regle" { (v.rule) }
            form method="post" action=(paths::first_signin_choice()) class="signin" {
                (csrf_field(v.csrf_token))
                input type="hidden" name="jeton" value=(v.token);
                div class="field" {
                    label for="nouveau_mot_de_passe" { "Nouveau mot de passe" }
                    (new_error)
                    input type="password" id="nouveau_mot_de_passe" name="nouveau_mot_de_passe"
                        autocomplete="new-password" required aria-describedby=(new_described)
                        aria-invalid=[new_invalid.then_some("true")] autofocus[v.errors.is_empty()];
                }
                div class="field" {
                    label for="confirmation" { "Confirmez le nouveau mot de passe" }
                    (again_error)
                    input type="password" id="confirmation" name="confirmation"
                        autocomplete="new-password" required aria-describedby=(again_described)
                        aria-invalid=[again_invalid.then_some("true")];
                }
                button type="submit" { "Enregistrer mon mot de passe" }
            }
        },
    )
}

/// The account is active.
pub fn done_page(identifiant: &str) -> Markup {
    page(
        "Compte activé",
        None,
        html! {
            h1 { "Votre compte est activé" }
            p class="message message--success" role="status" {
                "Votre mot de passe est enregistré. Le mot de passe provisoire du courrier ne fonctionne plus."
            }
            p {
                "Connectez-vous désormais aux services numériques de l'établissement avec votre identifiant "
                strong { (identifiant) } " et ce nouveau mot de passe."
            }
            p { "Gardez-le pour vous : personne, pas même l'établissement, ne vous le demandera." }
        },
    )
}
