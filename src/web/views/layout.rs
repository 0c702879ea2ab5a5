use super::parts::csrf_field;
use crate::web::paths;
use maud::{DOCTYPE, Markup, html};

use crate::web::BASE;
use crate::web::assets::STYLESHEET_PATH;

/// Product name shown in every page.
pub const APP_TITLE: &str = "Administration des comptes ÉduConnect";

/// Who is signed in, for the header: name, uid and the sign-out form's CSRF token.
pub struct Chrome<'a> {
    pub display_name: &'a str,
    pub uid: &'a str,
    pub csrf_token: &'a str,
}

/// The page frame: skip link, header (with who is signed in and a sign-out button),
/// main landmark, footer. Every argument is escaped.
pub fn page(title: &str, chrome: Option<&Chrome<'_>>, content: Markup) -> Markup {
    page_refreshing(title, chrome, None, content)
}

/// The same frame; `refresh` reloads the page every so many seconds (progress without
/// JavaScript).
pub fn page_refreshing(
    title: &str,
    chrome: Option<&Chrome<'_>>,
    refresh: Option<u32>,
    content: Markup,
) -> Markup {
    frame(title, chrome, refresh.map(|s| s.to_string()), content)
}

/// A page that sends the browser on to `to` at once (from this site, so that `Strict`
/// cookies go along), with `content` for a browser that does not follow.
pub fn page_forwarding(title: &str, to: &paths::Url, content: Markup) -> Markup {
    frame(title, None, Some(format!("0; url={to}")), content)
}

/// The frame itself; `refresh` is the value of a `refresh` meta element.
fn frame(
    title: &str,
    chrome: Option<&Chrome<'_>>,
    refresh: Option<String>,
    content: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(refresh) = refresh {
                    meta http-equiv="refresh" content=(refresh);
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
