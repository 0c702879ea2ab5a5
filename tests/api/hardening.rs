//! Issue 10, hole 10: the smaller holes an outsider finds first. Signed-in pages are never
//! cached, the CSP pins `<base>` and form targets, a body over a limit gets the French page,
//! a NUL byte gets its own message (never a 500), anonymous pages do not tell the version.

use educt_admin::delegation::Scope;

use crate::delegations::delegate;
use crate::helpers::{COLLEGE, PRINCIPAL_PW, TestApp, add_parent, add_pupil, seed_staff};

const VERSION: &str = env!("CARGO_PKG_VERSION");

async fn principal_app() -> (TestApp, i64, i64, i64) {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    seed_staff(&mut conn);
    let pupil = add_pupil(&mut conn, COLLEGE, "Zoë", "Lefèvre", "4A", "active");
    let parent = add_parent(
        &mut conn,
        "Anne",
        "Lefèvre",
        Some("anne@example.org"),
        None,
        "active",
        &[(pupil, 1)],
    );
    let delegation = delegate(
        &app,
        "referent",
        COLLEGE,
        Scope::Eleves,
        "2026-11-01",
        "2027-06-30",
    );
    app.signed_in("principal", PRINCIPAL_PW).await;
    (app, pupil, parent, delegation)
}

fn assert_french_page(status: u16, headers: &reqwest::header::HeaderMap, body: &str, what: &str) {
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{what}: {status} {headers:?}"
    );
    assert!(body.contains(r#"<html lang="fr">"#), "{what}: {body}");
    for english in [
        "payload",
        "Payload",
        "size limit",
        "Method Not Allowed",
        "Error",
    ] {
        assert!(
            !body.contains(english),
            "{what}: English «{english}» in {body}"
        );
    }
}

#[tokio::test]
async fn every_signed_in_page_forbids_caching() {
    let (app, pupil, parent, delegation) = principal_app().await;
    let pages = [
        "/".to_owned(),
        format!("/delegations?uai={COLLEGE}"),
        format!("/delegations/{delegation}/revocation"),
        format!("/journal?uai={COLLEGE}"),
        format!("/journal.csv?uai={COLLEGE}"),
        format!("/depannage/eleve?uai={COLLEGE}&q=lefevre"),
        format!("/depannage/eleve/{pupil}"),
        format!("/depannage/eleve/{pupil}/reinitialisation"),
        format!("/depannage/eleve/statistiques?uai={COLLEGE}"),
        format!("/depannage/eleve/export.csv?uai={COLLEGE}&division=4A"),
        format!("/depannage/eleve/classe?uai={COLLEGE}"),
        format!("/depannage/responsable?uai={COLLEGE}&q=lefevre"),
        format!("/depannage/responsable/{parent}"),
        format!("/depannage/responsable/classe?uai={COLLEGE}"),
        format!("/import?uai={COLLEGE}"),
        "/otp".to_owned(),
        "/otp/enrolement".to_owned(),
        "/page-inconnue".to_owned(),
    ];
    let mut cached = Vec::new();
    for path in &pages {
        let res = app.get(path).await;
        assert!(res.status().as_u16() < 500, "{path}: {}", res.status());
        let header = res
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_owned());
        if header.as_deref() != Some("no-store") {
            cached.push(format!("{path} ({} {header:?})", res.status()));
        }
    }
    assert!(cached.is_empty(), "cacheable signed-in pages: {cached:#?}");
}

#[tokio::test]
async fn the_csp_forbids_base_and_foreign_form_targets() {
    let app = TestApp::spawn().await;
    for path in ["/connexion", "/health/live", "/nope"] {
        let res = app.get(path).await;
        let csp = res.headers()["content-security-policy"].to_str().unwrap();
        let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
        assert!(directives.contains(&"base-uri 'none'"), "{path}: {csp}");
        assert!(directives.contains(&"form-action 'self'"), "{path}: {csp}");
    }
}

#[tokio::test]
async fn an_oversized_sign_in_gets_the_french_page() {
    let app = TestApp::spawn().await;
    let huge = "a".repeat(100 * 1024);
    let res = app
        .client
        .post(app.url("/connexion"))
        .form(&[
            ("identifiant", huge.as_str()),
            ("mot_de_passe", "x"),
            ("csrf_token", "x"),
        ])
        .send()
        .await
        .unwrap();
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    let body = res.text().await.unwrap();
    assert_eq!(status, 413, "{body}");
    assert_french_page(status, &headers, &body, "/connexion");
    assert!(body.contains("Envoi trop volumineux"), "{body}");
}

#[tokio::test]
async fn oversized_signed_in_posts_get_the_french_page_and_change_nothing() {
    let (app, _, _, delegation) = principal_app().await;
    let csrf = app.session_csrf().await;
    let huge = "m".repeat(300 * 1024);
    let grant = [
        ("csrf_token", csrf.as_str()),
        ("uai", COLLEGE),
        ("grantee", "enseignant"),
        ("scope", "eleves"),
        ("valid_from", "2026-11-26"),
        ("valid_until", "2027-08-31"),
        ("motive", huge.as_str()),
    ];
    let revoke = [("csrf_token", csrf.as_str()), ("motif", huge.as_str())];
    let cases = [
        ("/delegations".to_owned(), &grant[..]),
        (format!("/delegations/{delegation}/revocation"), &revoke[..]),
        (
            format!("/delegations/{delegation}/prolongation"),
            &revoke[..],
        ),
    ];
    for (path, form) in cases {
        let res = app
            .client
            .post(app.url(&path))
            .form(form)
            .send()
            .await
            .unwrap();
        let (status, headers) = (res.status().as_u16(), res.headers().clone());
        let body = res.text().await.unwrap();
        assert_eq!(status, 413, "{path}: {body}");
        assert_french_page(status, &headers, &body, &path);
        assert!(body.contains("Envoi trop volumineux"), "{path}: {body}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
    }
    let delegations = crate::delegations::delegation_rows(&app);
    assert_eq!(delegations.len(), 1, "nothing granted: {delegations:?}");
}

#[tokio::test]
async fn a_wrong_method_gets_the_french_page() {
    let (app, _, _, _) = principal_app().await;
    let csrf = app.session_csrf().await;
    let res = app
        .client
        .post(app.url("/journal"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    let body = res.text().await.unwrap();
    assert!((400..500).contains(&status), "{status}");
    assert_french_page(status, &headers, &body, "POST /journal");
}

#[tokio::test]
async fn a_nul_byte_in_the_motive_gets_its_own_message() {
    let (app, _, _, _) = principal_app().await;
    let csrf = app.session_csrf().await;
    let res = app
        .client
        .post(app.url("/delegations"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("uai", COLLEGE),
            ("grantee", "enseignant"),
            ("scope", "eleves"),
            ("valid_from", "2026-11-26"),
            ("valid_until", "2027-08-31"),
            ("motive", "Référent\0numérique"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body = res.text().await.unwrap();
    assert!(body.contains("caractère nul"), "{body}");
    assert!(!body.contains("500 caractères"), "{body}");
    assert_eq!(crate::delegations::delegation_rows(&app).len(), 1);
}

#[tokio::test]
async fn a_nul_byte_in_a_query_field_is_a_french_400_never_a_500() {
    let (app, _, _, _) = principal_app().await;
    for path in [
        format!("/journal?uai={COLLEGE}&acteur=a%00b"),
        format!("/journal.csv?uai={COLLEGE}&cible=%00"),
        format!("/depannage/eleve?uai={COLLEGE}&division=4A%00"),
        format!("/depannage/eleve?uai={COLLEGE}&q=l%00"),
        format!("/depannage/eleve/export.csv?uai={COLLEGE}&division=4A%00"),
        format!("/delegations?uai={COLLEGE}&recherche=%00"),
    ] {
        let res = app.get(&path).await;
        let (status, headers) = (res.status().as_u16(), res.headers().clone());
        let body = res.text().await.unwrap();
        assert_eq!(status, 400, "{path}: {body}");
        assert_french_page(status, &headers, &body, &path);
        assert!(body.contains("caractère nul"), "{path}: {body}");
    }
}

#[tokio::test]
async fn anonymous_pages_do_not_tell_the_version() {
    let app = TestApp::spawn().await;
    for path in [
        "/connexion",
        "/connexion?session=expiree",
        "/nope",
        "/health/live",
        "/health/ready",
    ] {
        let res = app.get(path).await;
        for (name, value) in res.headers() {
            assert!(
                !value.to_str().unwrap_or_default().contains(VERSION),
                "{path}: header {name} tells the version"
            );
        }
        let body = res.text().await.unwrap();
        assert!(
            !body.contains(&format!("educt-admin {VERSION}")) && !body.contains(VERSION),
            "{path} tells the version: {body}"
        );
    }
    // Signed in, the footer names the release (for the helpdesk).
    let mut conn = app.conn();
    seed_staff(&mut conn);
    app.signed_in("principal", PRINCIPAL_PW).await;
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains(&format!("educt-admin {VERSION}")), "{home}");
}

#[tokio::test]
async fn a_nul_byte_in_any_form_field_is_never_a_500() {
    let (app, _, _, delegation) = principal_app().await;
    let csrf = app.session_csrf().await;
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/delegations".into(),
            vec![
                ("csrf_token", &csrf),
                ("uai", COLLEGE),
                ("grantee", "refer\0ent"),
                ("scope", "eleves"),
                ("valid_from", "2026-11-26"),
                ("valid_until", "2027-08-31"),
                ("motive", "Référent"),
            ],
        ),
        (
            format!("/delegations/{delegation}/prolongation"),
            vec![("csrf_token", &csrf), ("valid_until", "2027-06-30\0")],
        ),
        (
            "/otp".into(),
            vec![("csrf_token", &csrf), ("code", "12\u{0}456")],
        ),
        (
            "/otp/enrolement".into(),
            vec![("csrf_token", &csrf), ("mot_de_passe", "a\0b")],
        ),
    ];
    for (path, form) in posts {
        let res = app
            .client
            .post(app.url(&path))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        assert!((400..500).contains(&status), "{path}: {status} {body}");
    }
    // Anonymous: the sign-in form.
    let anonymous = app.new_client();
    let form = anonymous
        .get(app.url("/connexion"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = crate::helpers::hidden_field(&form, "csrf_token");
    let res = anonymous
        .post(app.url("/connexion"))
        .form(&[
            ("identifiant", "prin\0cipal"),
            ("mot_de_passe", "x\0"),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    assert!((400..500).contains(&status), "/connexion: {status}");
}

/// The session guard and the checks after a permit read the route table on the path the
/// router matches (percent-decoded), never on the raw one: an encoded letter reaches the same
/// route with the same rules, and an encoded mount point is no way around the session.
#[tokio::test]
async fn an_encoded_path_is_the_same_route_with_the_same_rules() {
    let (app, ..) = principal_app().await;
    let anonymous = app.new_client();
    let base = app.url("");
    let origin = base.trim_end_matches("/educt-admin-comptes");
    // A public route, its `x` encoded: still public.
    let res = anonymous.get(app.url("/conne%78ion")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // The mount point's hyphen encoded: still behind the session.
    let res = anonymous
        .get(format!(
            "{origin}/educt%2Dadmin-comptes/delegations?uai={COLLEGE}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers().get("location").unwrap(),
        "/educt-admin-comptes/connexion"
    );
    // Signed in, an encoded letter reaches the page with its checks (not a fault).
    app.signed_in("principal", PRINCIPAL_PW).await;
    let res = app.get(&format!("/%64elegations?uai={COLLEGE}")).await;
    assert_eq!(res.status(), 200);
}
