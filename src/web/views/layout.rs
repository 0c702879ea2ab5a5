use maud::{DOCTYPE, Markup, html};

use crate::web::BASE;
use crate::web::assets::STYLESHEET_PATH;

/// Product name shown in every page.
pub const APP_TITLE: &str = "Administration des comptes ÉduConnect";

/// The page frame: skip link, header, main landmark, footer. `title` is escaped.
pub fn page(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (APP_TITLE) }
                link rel="stylesheet" href=(format!("{BASE}{STYLESHEET_PATH}"));
            }
            body {
                a class="skip-link" href="#contenu" { "Aller au contenu" }
                header class="site-header" role="banner" {
                    div class="site-header__inner" {
                        a class="site-title" href=(format!("{BASE}/")) { (APP_TITLE) }
                    }
                }
                main id="contenu" class="content" role="main" tabindex="-1" {
                    (content)
                }
                footer class="site-footer" role="contentinfo" {
                    p { "educt-admin " (env!("CARGO_PKG_VERSION")) " — administration déléguée des comptes élèves et responsables" }
                }
            }
        }
    }
}
