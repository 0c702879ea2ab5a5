//! After the sign-in and after the TOTP check, the agent lands on the page he asked for; only
//! a local page of this site that needs a session is accepted (no open redirect).

use educt_admin::clock::Clock;

use crate::delegations::app;
use crate::helpers::{COLLEGE, PRINCIPAL_PW, enrol_totp, hidden_field};

async fn text(client: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

async fn post(client: &reqwest::Client, url: String, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(url).form(form).send().await.unwrap()
}

/// The principal's sign-in with the form's token and `suite`.
async fn sign_in(
    app: &crate::helpers::TestApp,
    client: &reqwest::Client,
    csrf: &str,
    suite: &str,
) -> reqwest::Response {
    let form = [
        ("identifiant", "principal"),
        ("mot_de_passe", PRINCIPAL_PW),
        ("csrf_token", csrf),
        ("suite", suite),
    ];
    post(client, app.url("/connexion"), &form).await
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_sign_in_leads_back_to_the_page_asked_for() {
    let app = app().await;
    let client = app.new_client();
    let asked = format!("/delegations?uai={COLLEGE}");
    let res = client.get(app.url(&asked)).send().await.unwrap();
    let to_sign_in = location(&res);
    assert!(to_sign_in.contains("suite="), "{to_sign_in}");
    let page = text(&client, format!("http://{}{to_sign_in}", app.addr)).await;
    let (csrf, suite) = (
        hidden_field(&page, "csrf_token"),
        hidden_field(&page, "suite"),
    );
    assert_eq!(suite, format!("/educt-admin-comptes{asked}"));
    let res = sign_in(&app, &client, &csrf, &suite).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("/educt-admin-comptes{asked}"));
}

#[tokio::test]
async fn a_page_elsewhere_is_never_where_the_sign_in_leads() {
    let app = app().await;
    for hostile in [
        "https://evil.example/",
        "//evil.example/x",
        "/educt-admin-comptes//evil.example/x",
        "/educt-admin-comptes\\evil",
        "/educt-admin-comptes/connexion",
        "/educt-admin-comptes/../x",
        "/educt-admin-comptes/journal\r\nSet-Cookie: x=1",
        "/autre-site/journal",
        "javascript:alert(1)",
        "/educt-admin-comptes/journal?uai=\u{e9}",
    ] {
        let client = app.new_client();
        let page = client.get(app.url("/connexion")).send().await.unwrap();
        let csrf = hidden_field(&page.text().await.unwrap(), "csrf_token");
        let res = sign_in(&app, &client, &csrf, hostile).await;
        assert_eq!(res.status(), 303, "{hostile:?}");
        assert_eq!(location(&res), "/educt-admin-comptes/", "{hostile:?}");
        let shown = text(
            &client,
            app.url(&format!("/connexion?suite={}", encode(hostile))),
        )
        .await;
        assert!(!shown.contains("name=\"suite\""), "{hostile:?}");
    }
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn the_totp_check_leads_back_to_the_parents_page_asked_for() {
    let app = app().await;
    let secret = enrol_totp(&mut app.conn(), "principal");
    let client = app.new_client();
    app.sign_in_with(&client, "principal", PRINCIPAL_PW).await;
    let asked = format!("/depannage/responsable?uai={COLLEGE}");
    let gate = client.get(app.url(&asked)).send().await.unwrap();
    assert_eq!(gate.status(), 403);
    let body = gate.text().await.unwrap();
    let link = format!(
        "/educt-admin-comptes/otp?suite={}",
        encode(&format!("/educt-admin-comptes{asked}"))
    );
    assert!(body.contains(&link.replace('&', "&amp;")), "{body}");
    let form = client
        .get(format!("http://{}{link}", app.addr))
        .send()
        .await
        .unwrap();
    let form = form.text().await.unwrap();
    let (csrf, suite) = (
        hidden_field(&form, "csrf_token"),
        hidden_field(&form, "suite"),
    );
    let code = secret
        .code_at("principal", "educt-admin", app.clock.now())
        .unwrap();
    let res = post(
        &client,
        app.url("/otp"),
        &[
            ("code", code.as_str()),
            ("csrf_token", &csrf),
            ("suite", &suite),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("/educt-admin-comptes{asked}"));
    let page = client.get(app.url(&asked)).send().await.unwrap();
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn error_and_gate_pages_keep_the_signed_in_header() {
    let app = app().await;
    let anonymous = app
        .new_client()
        .get(format!("http://{}/autre", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 404);
    let anonymous = anonymous.text().await.unwrap();
    assert!(anonymous.contains("Page introuvable") && !anonymous.contains("Se déconnecter"));
    app.signed_in("principal", PRINCIPAL_PW).await;
    for (path, status) in [
        ("/nulle-part".to_owned(), 404),
        (format!("/journal?uai={}", crate::helpers::LYCEE), 404),
        ("/depannage/eleve/999999".to_owned(), 404),
        (format!("/depannage/responsable?uai={COLLEGE}"), 403),
        ("/journal?uai=pas-un-uai".to_owned(), 400),
    ] {
        let res = app.get(&path).await;
        assert_eq!(res.status(), status, "{path}");
        let page = res.text().await.unwrap();
        assert!(
            page.contains("Claire Perrin") && page.contains("Se déconnecter"),
            "{path}: {page}"
        );
    }
}
