//! The notification letter: one A4 page per account (print CSS), handed to the pupil or the
//! parent. It says where to go, what the first sign-in asks, and the password rule that
//! applies to its reader (the pupil's level from his class, or the parents' rule).

use std::net::SocketAddr;

use chrono::NaiveDate;
use chrono_tz::Tz;
use maud::{Markup, html};

use crate::accounts::password_rules::PasswordRules;
use crate::accounts::provisional::grouped;
use crate::config::Settings;
use crate::usecases::accounts::LetterFacts;

/// Where the letters send their readers (built once at start).
#[derive(Debug, Clone)]
pub struct LetterPortal {
    /// `letters.portal_url`, or its default (`Settings::portal_url`).
    pub url: String,
    /// Our first sign-in page is on: the letter says what it asks (a birth date).
    pub ours: bool,
    pub rules: PasswordRules,
}

impl LetterPortal {
    /// Where the letters send pupils and parents: `letters.portal_url`, or our first sign-in
    /// page under the public URL (else `addr`, the address bound), or the EduConnect portal.
    pub fn of(settings: &Settings, addr: SocketAddr, tls: bool) -> Self {
        let scheme = if tls { "https" } else { "http" };
        let url = settings.portal_url(&format!("{scheme}://{addr}"));
        let guessed = settings.letters.portal_url.is_none() && settings.server.public_url.is_none();
        if settings.activation_enabled() && guessed && addr.ip().is_unspecified() {
            tracing::warn!(
                %url,
                "the letters print the address bound: set server.public_url (or letters.portal_url)"
            );
        }
        Self {
            url,
            ours: settings.activation_enabled(),
            rules: PasswordRules::from_settings(&settings.passwords),
        }
    }
}

/// What every letter of one print shares: who sends it, where it sends, when.
pub struct Sender<'a> {
    pub establishment: &'a str,
    pub uai: &'a str,
    pub portal: &'a LetterPortal,
    pub tz: Tz,
    pub issued: NaiveDate,
}

/// The first sign-in's steps, as the portal asks them.
fn steps(portal: &LetterPortal, parent: bool) -> Markup {
    html! {
        ol {
            li { "Rendez-vous sur " strong { (portal.url) } "." }
            @if portal.ours {
                li {
                    "Saisissez votre identifiant, ce mot de passe provisoire et "
                    @if parent { "la date de naissance de l'un de vos enfants" }
                    @else { "votre date de naissance" }
                    "."
                }
            } @else {
                li { "Saisissez votre identifiant et ce mot de passe provisoire." }
                @if parent {
                    li { "Confirmez votre numéro de téléphone portable ou votre adresse électronique si cela vous est demandé." }
                } @else {
                    li { "Votre date de naissance vous sera demandée pour confirmer qu'il s'agit bien de vous." }
                }
            }
            li { "Choisissez alors votre propre mot de passe : le mot de passe provisoire ne servira plus." }
        }
    }
}

/// One account's letter; its password grouped for reading (typed without the spaces).
pub fn letter(from: &Sender<'_>, facts: &LetterFacts) -> Markup {
    let expires = facts.expires.with_timezone(&from.tz).format("%d/%m/%Y");
    let parent = facts.children.is_some();
    let rule = from
        .portal
        .rules
        .for_reader(parent, facts.division.as_ref());
    html! {
        article class="letter" {
            header class="letter__head" {
                p class="letter__from" { strong { (from.establishment) } br; "UAI " (from.uai) }
                p class="letter__date" { "Le " (from.issued.format("%d/%m/%Y")) }
            }
            p class="letter__to" {
                "À l'attention de " strong { (facts.first_name) " " (facts.last_name) }
                @if let Some(d) = &facts.division { ", classe " (d) }
                @if let Some(c) = &facts.children { ", responsable de " (c) }
            }
            h2 class="letter__title" { "Votre compte ÉduConnect" }
            p { "Voici l'identifiant et le mot de passe provisoire qui vous permettent d'accéder aux services numériques de l'établissement." }
            dl class="letter__credentials" {
                dt { "Identifiant" } dd { code { (facts.identifiant) } }
                dt { "Mot de passe provisoire" } dd { code { (grouped(&facts.password)) } }
            }
            p class="letter__hint" {
                @if from.portal.ours { "Le mot de passe se tape avec ou sans les espaces." }
                @else { "Le mot de passe se tape sans les espaces." }
                " Il ne contient ni 0, ni o, ni 1, ni l, ni i."
            }
            h3 { "Première connexion" }
            (steps(from.portal, parent))
            p class="letter__rule" { (rule.describe()) }
            p class="letter__validity" {
                "Ce mot de passe provisoire est valable jusqu'au " strong { (expires) }
                " et seulement jusqu'à votre première connexion."
            }
            p class="letter__keep" { "Conservez ce courrier en lieu sûr et ne communiquez votre mot de passe à personne." }
        }
    }
}
