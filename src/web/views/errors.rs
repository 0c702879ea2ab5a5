use maud::{Markup, html};

use super::layout::{Chrome, page};
use crate::web::paths;

/// The error pages take the signed-in header (`chrome`) when there is a session: the agent
/// keeps his name, his sign-out and the way home.
pub fn not_found_page(chrome: Option<&Chrome<'_>>) -> Markup {
    page(
        "Page introuvable",
        chrome,
        html! {
            h1 { "Page introuvable" }
            p { "L'adresse demandée n'existe pas ou n'est pas accessible avec votre compte." }
            p { a href=(paths::home()) { "Retour à l'accueil" } }
        },
    )
}

pub fn message_page(chrome: Option<&Chrome<'_>>, title: &str, message: &str) -> Markup {
    page(
        title,
        chrome,
        html! {
            h1 { (title) }
            p class="message message--error" role="alert" { (message) }
            p { a href=(paths::home()) { "Retour à l'accueil" } }
        },
    )
}

/// A body over the size limit of its route (413).
pub fn too_large_page(chrome: Option<&Chrome<'_>>) -> Markup {
    message_page(
        chrome,
        "Envoi trop volumineux",
        "Ce que vous avez envoyé dépasse la taille autorisée, et rien n'a été fait. Raccourcissez votre saisie (ou découpez le fichier) et réessayez.",
    )
}

/// A request the framework could not read (400 and the other client errors).
pub fn bad_request_page(chrome: Option<&Chrome<'_>>) -> Markup {
    message_page(
        chrome,
        "Demande incorrecte",
        "La demande envoyée est incomplète ou mal formée, et rien n'a été fait. Rechargez la page et réessayez.",
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
            p { a href=(paths::home()) { "Retour à l'accueil" } }
        },
    )
}

/// The parents' gate is closed: why, and the way in. Nothing about any parent.
/// `suite`: the page asked for, where the check sends the agent back.
pub fn gate_closed_page(chrome: Option<&Chrome<'_>>, suite: Option<paths::Url>) -> Markup {
    page(
        "Vérification nécessaire",
        chrome,
        html! {
            h1 { "Vérification nécessaire" }
            p class="message message--error" role="alert" {
                "Les comptes des responsables ne sont accessibles que depuis le réseau administratif de l'établissement, "
                "ou après la saisie d'un code de votre application d'authentification."
            }
            p { a class="button" href=(paths::otp().with_some(paths::RETURN_PARAM, suite)) { "Saisir un code" } }
            p { "Pas encore d'application d'authentification ? " a href=(paths::otp_enrolment()) { "L'enregistrer" } "." }
        },
    )
}
