use super::parts::csrf_field;
use crate::web::paths;
use maud::{Markup, html};

use super::layout::page;

/// What the sign-in form shows besides its fields.
pub struct SignInView<'a> {
    pub csrf_token: &'a str,
    pub identifiant: &'a str,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
    /// Whether the password form is offered (`[directory] password_sign_in`).
    pub password_form: bool,
    /// One button per ENT connector: its label and where it goes.
    pub connectors: Vec<(String, paths::Url)>,
    /// After signing out of an SSO session: the provider's logout.
    pub provider_logout: Option<String>,
    /// The page asked for before the sign-in (checked local), to go to after it.
    pub suite: Option<&'a paths::Url>,
}

pub fn sign_in_page(v: &SignInView<'_>) -> Markup {
    page(
        "Connexion",
        None,
        html! {
            h1 { "Connexion" }
            @if !v.password_form {
                p class="lead" { "Connectez-vous depuis l'ENT, avec votre compte académique." }
            } @else if v.connectors.is_empty() {
                p class="lead" { "Connectez-vous avec votre identifiant et votre mot de passe académiques." }
            } @else {
                p class="lead" { "Connectez-vous depuis l'ENT, ou avec votre identifiant et votre mot de passe académiques." }
            }
            @if let Some(notice) = v.notice {
                p class="message" role="status" { (notice) }
            }
            @if let Some(url) = &v.provider_logout {
                p { "Vous êtes peut-être encore connecté à l'ENT. "
                    a href=(url) { "Se déconnecter aussi de l'ENT" } }
            }
            @if let Some(error) = v.error {
                p class="message message--error" role="alert" id="erreur-connexion" { (error) }
            }
            @if !v.connectors.is_empty() {
                ul class="connectors" {
                    @for (label, url) in &v.connectors {
                        li { a class="button" href=(url.clone().with_some(paths::RETURN_PARAM, v.suite)) { (label) } }
                    }
                }
            }
            @if v.password_form {
                @if !v.connectors.is_empty() {
                    h2 { "Avec votre mot de passe" }
                }
                form method="post" action=(paths::sign_in()) class="signin" {
                    (csrf_field(v.csrf_token))
                    @if let Some(suite) = v.suite {
                        input type="hidden" name=(paths::RETURN_PARAM) value=(suite);
                    }
                    div class="field" {
                        label for="identifiant" { "Identifiant" }
                        input type="text" id="identifiant" name="identifiant" value=(v.identifiant)
                            autocomplete="username" autocapitalize="none" spellcheck="false" required
                            autofocus[v.identifiant.is_empty()];
                    }
                    div class="field" {
                        label for="mot_de_passe" { "Mot de passe" }
                        input type="password" id="mot_de_passe" name="mot_de_passe"
                            autocomplete="current-password" required autofocus[!v.identifiant.is_empty()];
                    }
                    button type="submit" { "Se connecter" }
                }
            }
        },
    )
}
