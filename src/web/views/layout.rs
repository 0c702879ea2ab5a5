use super::parts::csrf_field;
use crate::web::paths;
use maud::{DOCTYPE, Markup, html};

use crate::web::BASE;
use crate::web::assets::{SCRIPT_PATH, STYLESHEET_PATH};

/// Product name shown in every page.
pub const APP_TITLE: &str = "Administration des comptes ÉduConnect";

/// Who is signed in, for the header: name, uid and the sign-out form's CSRF token.
pub struct Chrome<'a> {
    pub display_name: &'a str,
    pub uid: &'a str,
    pub csrf_token: &'a str,
}

/// What a page's head holds besides its title and the stylesheet.
enum Head<'a> {
    Plain,
    /// The small script of `/assets` (`app.js`): it makes the print buttons work and
    /// follows a running batch; the page works without it.
    Scripted,
    /// A `refresh` with no delay to this URL: an immediate redirect, not a reload.
    Forward(&'a paths::Url),
}

/// The page frame: skip link, header (with who is signed in and a sign-out button),
/// main landmark, footer. Every argument is escaped.
pub fn page(title: &str, chrome: Option<&Chrome<'_>>, content: Markup) -> Markup {
    frame(title, chrome, Head::Plain, content)
}

/// The same frame with the assets' script (letters to print, a batch's progress). No page
/// reloads itself: a batch's page has its « Mettre à jour » link, which the script follows.
pub fn page_scripted(title: &str, chrome: Option<&Chrome<'_>>, content: Markup) -> Markup {
    frame(title, chrome, Head::Scripted, content)
}

/// A page that sends the browser on to `to` at once (from this site, so that `Strict`
/// cookies go along), with `content` for a browser that does not follow.
pub fn page_forwarding(title: &str, to: &paths::Url, content: Markup) -> Markup {
    frame(title, None, Head::Forward(to), content)
}

/// The frame itself.
fn frame(title: &str, chrome: Option<&Chrome<'_>>, head: Head<'_>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @match head {
                    Head::Forward(to) => { meta http-equiv="refresh" content=(format!("0; url={to}")); }
                    Head::Scripted => { script src=(format!("{BASE}{SCRIPT_PATH}")) defer {} }
                    Head::Plain => {}
                }
                title { (title) " — " (APP_TITLE) }
                link rel="stylesheet" href=(format!("{BASE}{STYLESHEET_PATH}"));
            }
            body {
                a class="skip-link" href="#contenu" { "Aller au contenu" }
                header class="site-header" role="banner" {
                    div class="site-header__inner" {
                        a class="site-title" href=(paths::home()) { (APP_TITLE) }
                        @if let Some(c) = chrome {
                            div class="agent-box" {
                                span { "Connecté : " strong { (c.display_name) } " (" (c.uid) ")" }
                                form method="post" action=(paths::sign_out()) {
                                    (csrf_field(c.csrf_token))
                                    button type="submit" class="secondary" { "Se déconnecter" }
                                }
                            }
                        }
                    }
                }
                main id="contenu" class="content" role="main" tabindex="-1" {
                    (content)
                }
                footer class="site-footer" role="contentinfo" {
                    // The version is for signed-in agents only: anonymous pages do not tell
                    // an attacker which release runs here.
                    @if chrome.is_some() {
                        p { "educt-admin " (env!("CARGO_PKG_VERSION")) " — administration déléguée des comptes élèves et responsables" }
                    } @else {
                        p { "educt-admin — administration déléguée des comptes élèves et responsables" }
                    }
                }
            }
        }
    }
}
