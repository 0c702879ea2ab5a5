use maud::{Markup, html};

use super::layout::page;
use crate::web::BASE;

pub fn not_found_page() -> Markup {
    page(
        "Page introuvable",
        None,
        html! {
            h1 { "Page introuvable" }
            p { "L'adresse demandée n'existe pas ou n'est pas accessible avec votre compte." }
            p { a href=(format!("{BASE}/")) { "Retour à l'accueil" } }
        },
    )
}

pub fn message_page(title: &str, message: &str) -> Markup {
    page(
        title,
        None,
        html! {
            h1 { (title) }
            p class="message message--error" role="alert" { (message) }
            p { a href=(format!("{BASE}/")) { "Retour à l'accueil" } }
        },
    )
}

/// The 500 page: the request id only, nothing of the error.
pub fn internal_error_page(request_id: &str) -> Markup {
    page(
        "Erreur interne",
        None,
        html! {
            h1 { "Une erreur interne est survenue" }
            p { "L'opération n'a pas abouti et rien n'a été modifié. Réessayez dans quelques instants." }
            p { "Si le problème persiste, transmettez à l'assistance la référence suivante : "
                code class="request-id" { (request_id) } }
            p { a href=(format!("{BASE}/")) { "Retour à l'accueil" } }
        },
    )
}
