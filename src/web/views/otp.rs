use super::parts::{self, csrf_field};
use crate::web::paths;
use maud::{Markup, html};

use super::layout::{Chrome, page};

pub fn otp_page(
    chrome: &Chrome<'_>,
    (enrolled, suite): (bool, Option<&paths::Url>),
    error: Option<&str>,
    notice: Option<&str>,
) -> Markup {
    page(
        "Code de vérification",
        Some(chrome),
        html! {
            h1 { "Code de vérification" }
            (parts::notice(notice))
            @if let Some(e) = error { p class="message message--error" role="alert" { (e) } }
            @if enrolled {
                p { "Saisissez le code à 6 chiffres affiché par votre application d'authentification. "
                    "Il ouvre l'accès aux comptes des responsables pour 15 minutes." }
                form method="post" action=(paths::otp()) {
                    (csrf_field(chrome.csrf_token))
                    @if let Some(suite) = suite {
                        input type="hidden" name=(paths::RETURN_PARAM) value=(suite);
                    }
                    div class="field" {
                        label for="code" { "Code" }
                        input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code"
                            pattern="[0-9 ]{6,7}" maxlength="7" required autofocus;
                    }
                    button type="submit" { "Vérifier" }
                }
            } @else {
                p { "Vous n'avez pas encore enregistré d'application d'authentification." }
                p { a class="button" href=(paths::otp_enrolment()) { "Enregistrer une application" } }
            }
        },
    )
}

/// How the agent proves himself before enrolling: his password, or (a session opened
/// through the ENT) a sign-in again there, `done` once it happened just now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrolProof {
    Password,
    Provider { done: bool },
}

pub fn enrol_password_page(
    chrome: &Chrome<'_>,
    already: bool,
    proof: EnrolProof,
    error: Option<&str>,
) -> Markup {
    page(
        "Enregistrer une application d'authentification",
        Some(chrome),
        html! {
            h1 { "Enregistrer une application d'authentification" }
            @if already {
                p class="message" { "Une application est déjà enregistrée pour votre compte. Si vous avez perdu votre téléphone, "
                    "demandez à l'administrateur de la plateforme de la réinitialiser." }
            } @else {
                @if let Some(e) = error { p class="message message--error" role="alert" { (e) } }
                @match proof {
                    EnrolProof::Password => {
                        p { "Pour des raisons de sécurité, confirmez d'abord votre mot de passe." }
                        form method="post" action=(paths::otp_enrolment()) {
                            (csrf_field(chrome.csrf_token))
                            div class="field" {
                                label for="mot_de_passe" { "Mot de passe" }
                                input type="password" id="mot_de_passe" name="mot_de_passe" autocomplete="current-password" required autofocus;
                            }
                            button type="submit" { "Continuer" }
                        }
                    }
                    EnrolProof::Provider { done: false } => {
                        p { "Pour des raisons de sécurité, l'ENT va vous demander de vous identifier à nouveau." }
                        p { a class="button" href=(paths::otp_enrolment_at_provider()) { "M'identifier à nouveau sur l'ENT" } }
                    }
                    EnrolProof::Provider { done: true } => {
                        p { "L'ENT a confirmé votre identité." }
                        form method="post" action=(paths::otp_enrolment()) {
                            (csrf_field(chrome.csrf_token))
                            button type="submit" { "Continuer" }
                        }
                    }
                }
            }
        },
    )
}

pub fn enrol_qr_page(
    chrome: &Chrome<'_>,
    qr_data_uri: &str,
    key: &str,
    error: Option<&str>,
) -> Markup {
    page(
        "Scanner le code",
        Some(chrome),
        html! {
            h1 { "Scanner le code" }
            @if let Some(e) = error { p class="message message--error" role="alert" { (e) } }
            p { "Dans votre application d'authentification, ajoutez un compte en scannant ce code, "
                "ou en saisissant la clé ci-dessous." }
            img src=(qr_data_uri) alt="Code QR à scanner avec l'application d'authentification" width="220" height="220";
            p { "Clé : " code { (key) } }
            form method="post" action=(paths::otp_confirmation()) {
                (csrf_field(chrome.csrf_token))
                div class="field" {
                    label for="code" { "Premier code affiché par l'application" }
                    input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="7" required autofocus;
                }
                button type="submit" { "Confirmer" }
            }
        },
    )
}
