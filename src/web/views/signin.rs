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
}

pub fn sign_in_page(v: &SignInView<'_>) -> Markup {
    page(
        "Connexion",
        None,
        html! {
            h1 { "Connexion" }
            p class="lead" { "Connectez-vous avec votre identifiant et votre mot de passe académiques." }
            @if let Some(notice) = v.notice {
                p class="message" role="status" { (notice) }
            }
            @if let Some(error) = v.error {
                p class="message message--error" role="alert" id="erreur-connexion" { (error) }
            }
            form method="post" action=(paths::sign_in()) class="signin" {
                (csrf_field(v.csrf_token))
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
        },
    )
}
