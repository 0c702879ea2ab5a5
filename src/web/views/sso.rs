//! The ENT connectors' pages: a refusal, an unknown person, the hop back onto this site.

use maud::{Markup, html};

use super::layout::{page, page_forwarding};
use crate::web::paths;

/// A connector's refusal: what happened, and the way back to the sign-in page.
pub fn refusal_page(message: &str) -> Markup {
    page(
        "Connexion par l'ENT impossible",
        None,
        html! {
            h1 { "Connexion par l'ENT impossible" }
            p class="message message--error" role="alert" { (message) }
            p { a href=(paths::sign_in()) { "Revenir à la page de connexion" } }
        },
    )
}

/// The provider named somebody the staff directory does not know (or who is disabled).
pub fn unknown_page(uid: &str) -> Markup {
    page(
        "Compte inconnu",
        None,
        html! {
            h1 { "Compte inconnu" }
            p class="message message--error" role="alert" {
                "L'ENT vous a identifié comme « " (uid) " », mais ce compte n'est pas dans l'annuaire "
                "des personnels de l'académie (ou il est désactivé) : il ne donne pas accès à "
                "l'administration des comptes."
            }
            p { "Si vous pensez que c'est une erreur, adressez-vous à l'assistance de votre académie." }
            p { a href=(paths::sign_in()) { "Revenir à la page de connexion" } }
        },
    )
}

/// Sends the browser on to `to` from this site at once.
pub fn forward_page(to: &paths::Url) -> Markup {
    page_forwarding(
        "Connexion",
        to,
        html! {
            h1 { "Connexion" }
            p { "Vous êtes identifié. " a href=(to) { "Continuer" } }
        },
    )
}
