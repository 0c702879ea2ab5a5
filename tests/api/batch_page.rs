//! No page reloads itself (WCAG 2.2.1/3.2.5, axe-core's `meta-refresh`): a batch's page has a
//! « Mettre à jour » link and the assets' script follows a running batch; letter pages have
//! a print button bound by that script, and print their letters only. The CSP still
//! forbids inline scripts.

use scraper::{ElementRef, Html, Selector};

use crate::batches::{batch_id, form_fields, settle, submit};
use crate::helpers::{COLLEGE, TestApp, add_pupil};
use crate::pupils::app_with_pupils;

const SCRIPT: &str = "/educt-admin-comptes/assets/app.js";

fn select<'a>(page: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    page.select(&Selector::parse(css).unwrap()).collect()
}

fn text(el: &ElementRef<'_>) -> String {
    el.text().collect::<String>().trim().to_owned()
}

/// No delayed `refresh`, the assets' script by its URL, and no inline script or handler.
fn assert_no_reload_no_inline_script(page: &Html) {
    for meta in select(page, "meta[http-equiv]") {
        let equiv = meta.value().attr("http-equiv").unwrap_or_default();
        assert!(!equiv.eq_ignore_ascii_case("refresh"), "{}", meta.html());
    }
    let scripts = select(page, "script");
    assert_eq!(scripts.len(), 1);
    assert_eq!(scripts[0].value().attr("src"), Some(SCRIPT));
    assert!(text(&scripts[0]).is_empty(), "no inline script");
    for el in select(page, "*") {
        let handler = el.value().attrs().find(|(name, _)| name.starts_with("on"));
        assert!(handler.is_none(), "inline handler: {}", el.html());
    }
}

/// Everything in the page's main element but its letters is left out of print, the print
/// button among it.
fn assert_prints_letters_only(page: &Html, letters: usize) {
    assert_no_reload_no_inline_script(page);
    let main = select(page, "main")[0];
    let mut found = 0;
    for child in main.child_elements() {
        let classes: Vec<&str> = child.value().classes().collect();
        if child.value().name() == "article" && classes.contains(&"letter") {
            found += 1;
        } else {
            assert!(classes.contains(&"no-print"), "printed: {}", child.html());
        }
    }
    assert_eq!(found, letters);
    let buttons = select(page, ".no-print button[data-imprimer][hidden]");
    assert_eq!(buttons.len(), 1, "one print button, shown by the script");
    assert_eq!(text(&buttons[0]), "Imprimer");
    assert_eq!(buttons[0].value().attr("type"), Some("button"));
}

async fn body(app: &TestApp, path: &str) -> Html {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    Html::parse_document(&res.text().await.unwrap())
}

#[tokio::test]
async fn a_batch_page_has_an_update_link_to_itself_and_never_reloads() {
    let (app, _) = app_with_pupils().await;
    let mut conn = app.conn();
    for name in ["Lot", "Suite"] {
        add_pupil(&mut conn, COLLEGE, "Élève", name, "6C", "non_notifie");
    }
    drop(conn);
    app.signed_in("referent", "Referent-2026").await;
    let (csrf, key) = form_fields(&app).await;
    let res = submit(&app, &csrf, &key, "6C", &["non_notifie"]).await;
    assert_eq!(res.status(), 303);
    let id = batch_id(&res);
    // Running or not: the page is the same but for its progress's `data-actualiser`.
    let path = format!("/depannage/eleve/lots/{id}");
    assert_no_reload_no_inline_script(&body(&app, &path).await);
    assert_eq!(settle(&app, id).await, (2, 2));
    let page = body(&app, &path).await;
    assert_no_reload_no_inline_script(&page);
    let update: Vec<_> = select(&page, "main a")
        .into_iter()
        .filter(|a| text(a) == "Mettre à jour")
        .collect();
    assert_eq!(update.len(), 1);
    let itself = format!("/educt-admin-comptes{path}");
    assert_eq!(update[0].value().attr("href"), Some(itself.as_str()));
    let progress = select(&page, "#lot-progression[role=status]");
    assert_eq!(text(&progress[0]), "2 / 2 mots de passe créés");
    assert!(
        progress[0].value().attr("data-actualiser").is_none(),
        "a finished batch is not followed"
    );

    let letters = body(&app, &format!("{path}/courriers")).await;
    assert_prints_letters_only(&letters, 2);
}

#[tokio::test]
async fn a_reset_letter_has_a_print_button_and_prints_the_letter_only() {
    let (app, cast) = app_with_pupils().await;
    app.signed_in("referent", "Referent-2026").await;
    let csrf = app.session_csrf().await;
    let path = format!("/depannage/eleve/{}/reinitialisation", cast.zoe);
    let res = app
        .client
        .post(app.url(&path))
        .form(&[("csrf_token", csrf)]);
    let res = res.send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = Html::parse_document(&res.text().await.unwrap());
    assert_prints_letters_only(&page, 1);
}

#[tokio::test]
async fn the_script_is_served_like_the_stylesheet_and_the_csp_allows_no_inline_script() {
    let app = TestApp::spawn().await;
    let res = app.get("/assets/app.js").await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(h["cache-control"], "public, max-age=3600");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.split("; ").any(|d| d == "default-src 'self'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(
        csp.split("; ")
            .filter(|d| d.starts_with("script-src"))
            .all(|d| d == "script-src 'self'"),
        "scripts from this site only: {csp}"
    );
    let script = res.text().await.unwrap();
    assert!(script.contains("window.print()") && script.contains("data-actualiser"));
    let again = app
        .client
        .get(app.url("/assets/app.js"))
        .header("If-None-Match", h["etag"].clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    let css = app.get("/assets/style.css").await.text().await.unwrap();
    let print = &css[css.find("@media print").unwrap()..];
    for hidden in [".site-header", ".site-footer", ".no-print", "button"] {
        assert!(print.contains(hidden), "{hidden} printed");
    }
    assert!(css.contains("[hidden] { display: none !important; }"));
}
