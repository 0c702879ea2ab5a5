//! The notification letter: one A4 page per account (print CSS), handed to the pupil.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};

/// What one letter says.
pub struct Letter<'a> {
    pub establishment: &'a str,
    pub uai: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub division: Option<&'a str>,
    pub identifiant: &'a str,
    /// Grouped for reading; typed without the spaces.
    pub password: &'a str,
    pub expires: DateTime<Utc>,
    pub portal_url: &'a str,
    pub tz: Tz,
    pub issued: NaiveDate,
    /// A parent's letter names his children instead of a class.
    pub children: Option<&'a str>,
}

pub fn letter(l: &Letter<'_>) -> Markup {
    let expires = l.expires.with_timezone(&l.tz).format("%d/%m/%Y");
    html! {
        article class="letter" {
            header class="letter__head" {
                p class="letter__from" { strong { (l.establishment) } br; "UAI " (l.uai) }
                p class="letter__date" { "Le " (l.issued.format("%d/%m/%Y")) }
            }
            p class="letter__to" {
                "À l'attention de " strong { (l.first_name) " " (l.last_name) }
                @if let Some(d) = l.division { ", classe " (d) }
                @if let Some(c) = l.children { ", responsable de " (c) }
            }
            h2 class="letter__title" { "Votre compte ÉduConnect" }
            p { "Voici l'identifiant et le mot de passe provisoire qui vous permettent d'accéder aux services numériques de l'établissement." }
            dl class="letter__credentials" {
                dt { "Identifiant" } dd { code { (l.identifiant) } }
                dt { "Mot de passe provisoire" } dd { code { (l.password) } }
            }
            p class="letter__hint" { "Le mot de passe se tape sans les espaces. Il ne contient ni 0, ni o, ni 1, ni l, ni i." }
            h3 { "Première connexion" }
            ol {
                li { "Rendez-vous sur " strong { (l.portal_url) } "." }
                li { "Saisissez votre identifiant et ce mot de passe provisoire." }
                @if l.children.is_some() {
                    li { "Confirmez votre numéro de téléphone portable ou votre adresse électronique si cela vous est demandé." }
                } @else {
                    li { "Votre date de naissance vous sera demandée pour confirmer qu'il s'agit bien de vous." }
                }
                li { "Choisissez alors votre propre mot de passe : le mot de passe provisoire ne servira plus." }
            }
            p class="letter__validity" {
                "Ce mot de passe provisoire est valable jusqu'au " strong { (expires) }
                " et seulement jusqu'à votre première connexion."
            }
            p class="letter__keep" { "Conservez ce courrier en lieu sûr et ne communiquez votre mot de passe à personne." }
        }
    }
}
