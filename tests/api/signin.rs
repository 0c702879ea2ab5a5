//! Staff sign-in on the local directory: sessions, CSRF, throttling, expiry, refusals.

use chrono::Duration;
use diesel::prelude::*;
use educt_admin::db::schema::{agent_uais, agents, sessions};

use crate::helpers::{COLLEGE, PRINCIPAL_PW, TestApp, audit_rows, hidden_field, seed_staff};

const GENERIC: &str = "Identifiant ou mot de passe incorrect.";

async fn app() -> TestApp {
    let app = TestApp::spawn().await;
    seed_staff(&mut app.conn());
    app
}

fn session_count(app: &TestApp) -> i64 {
    sessions::table.count().get_result(&mut app.conn()).unwrap()
}

pub fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.cookies()
        .find(|c| c.name() == "__Host-educt-session" && !c.value().is_empty())
        .map(|c| c.value().to_owned())
}

#[tokio::test]
async fn principal_signs_in_and_sees_his_establishment() {
    let app = app().await;
    let res = app.sign_in("principal", PRINCIPAL_PW).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/educt-admin-comptes/");
    let cookie = res
        .cookies()
        .find(|c| c.name() == "__Host-educt-session")
        .unwrap();
    assert!(cookie.secure() && cookie.http_only());
    assert_eq!(cookie.path(), Some("/"));
    assert!(
        res.headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().contains("SameSite=Strict"))
    );
    let home = app.get("/").await;
    assert_eq!(home.status(), 200);
    let body = home.text().await.unwrap();
    assert!(body.contains("Collège Jean Moulin"));
    assert!(body.contains("0691234S"));
    assert!(body.contains("Élèves, Responsables"));
    assert!(
        body.contains("Claire Perrin") && body.contains("(principal)"),
        "who is signed in"
    );
    assert!(body.contains("Se déconnecter"));
    assert!(!body.contains("Lycée Ampère"));
    let rows = audit_rows(&mut app.conn());
    assert_eq!(rows.last().unwrap().1, "auth.sign_in");
    assert_eq!(rows.last().unwrap().2, "success");
}

#[tokio::test]
async fn staff_without_delegation_sees_no_establishment() {
    let app = app().await;
    app.signed_in("referent", "Referent-2026").await;
    let body = app.get("/").await.text().await.unwrap();
    assert!(body.contains("aucun droit"));
    assert!(!body.contains("Collège Jean Moulin"));
}

#[tokio::test]
async fn every_route_but_sign_in_assets_and_health_needs_a_session() {
    let app = app().await;
    // The sign-in page, with the page asked for when it is one to come back to.
    for (path, suite) in [
        ("/", ""),
        ("/nope", ""),
        (
            "/delegations",
            "?suite=%2Feduct-admin-comptes%2Fdelegations",
        ),
        ("/journal", "?suite=%2Feduct-admin-comptes%2Fjournal"),
        (
            "/depannage/eleve",
            "?suite=%2Feduct-admin-comptes%2Fdepannage%2Feleve",
        ),
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 303, "{path}");
        assert_eq!(
            res.headers()["location"],
            format!("/educt-admin-comptes/connexion{suite}"),
            "{path}"
        );
    }
    let res = app
        .client
        .post(app.url("/deconnexion"))
        .form(&[("csrf_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    for path in [
        "/connexion",
        "/assets/style.css",
        "/health/live",
        "/health/ready",
    ] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
    // Signed in, an unknown route is a plain 404.
    app.signed_in("principal", PRINCIPAL_PW).await;
    let res = app.get("/nope").await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Page introuvable"));
}

#[tokio::test]
async fn sign_in_page_is_french_and_accessible() {
    let app = app().await;
    let res = app.get("/connexion").await;
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body = res.text().await.unwrap();
    assert!(body.contains(r#"<html lang="fr">"#));
    assert!(
        body.contains(r#"<label for="identifiant">"#)
            && body.contains(r#"<label for="mot_de_passe">"#)
    );
    assert!(body.contains(r#"name="csrf_token""#));
    assert!(!body.contains("<script") && !body.contains("style="));
}

#[tokio::test]
async fn blank_passwords_are_refused_before_the_directory() {
    let app = app().await;
    for password in ["", "   ", "\t"] {
        let res = app.sign_in("principal", password).await;
        assert_eq!(res.status(), 400, "{password:?}");
        assert!(session_cookie(&res).is_none());
        let body = res.text().await.unwrap();
        assert!(body.contains("Saisissez votre identifiant et votre mot de passe."));
        assert!(
            body.contains(r#"value="principal""#),
            "the identifiant is kept"
        );
    }
    assert_eq!(session_count(&app), 0);
    let rows = audit_rows(&mut app.conn());
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.2 == "refused"));
}

#[tokio::test]
async fn hostile_identifiants_get_the_generic_refusal() {
    let app = app().await;
    let long = "a".repeat(10_000);
    for uid in [
        "*",
        "a)(uid=*",
        "admin,ou=x",
        "\\00",
        "prin*",
        long.as_str(),
        "<script>alert(1)</script>",
    ] {
        let res = app.sign_in(uid, PRINCIPAL_PW).await;
        assert_eq!(res.status(), 401, "{uid:.20}");
        let body = res.text().await.unwrap();
        assert!(body.contains(GENERIC), "{uid:.20}");
        assert!(!body.contains("<script>alert"), "escaped");
    }
    assert_eq!(session_count(&app), 0);
}

#[tokio::test]
async fn wrong_password_and_unknown_uid_look_the_same() {
    let app = app().await;
    let wrong = app.sign_in("principal", "not-the-password").await;
    let unknown = app.sign_in("nobody.here", "not-the-password").await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    let wrong = wrong.text().await.unwrap();
    let unknown = unknown.text().await.unwrap();
    assert!(wrong.contains(GENERIC) && unknown.contains(GENERIC));
    assert_eq!(
        wrong.replace("principal", "X"),
        unknown.replace("nobody.here", "X")
    );
    let rows = audit_rows(&mut app.conn());
    let details: Vec<&str> = rows.iter().filter_map(|r| r.3.as_deref()).collect();
    assert!(
        details.contains(&"wrong password") && details.contains(&"unknown uid"),
        "{details:?}"
    );
    assert!(
        rows.iter()
            .all(|r| !r.3.clone().unwrap_or_default().contains("not-the-password"))
    );
}

#[tokio::test]
async fn an_address_with_100_failures_in_10_minutes_is_blocked() {
    let app = app().await;
    for i in 0..100 {
        // Malformed uids fail fast but still count against the address.
        let res = app.sign_in(&format!("*{i}"), "x").await;
        assert_eq!(res.status(), 401);
    }
    let res = app.sign_in("principal", PRINCIPAL_PW).await;
    assert_eq!(res.status(), 429, "the address is blocked");
    assert!(res.headers().contains_key("retry-after"));
    app.clock
        .advance(Duration::minutes(10) + Duration::seconds(1));
    app.signed_in("principal", PRINCIPAL_PW).await;
}

#[tokio::test]
async fn missing_or_wrong_csrf_token_is_refused() {
    let app = app().await;
    let client = app.new_client();
    client.get(app.url("/connexion")).send().await.unwrap();
    for token in [
        None,
        Some(""),
        Some("forged-token-forged-token-forged-token-x"),
    ] {
        let mut form = vec![("identifiant", "principal"), ("mot_de_passe", PRINCIPAL_PW)];
        if let Some(t) = token {
            form.push(("csrf_token", t));
        }
        let res = client
            .post(app.url("/connexion"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{token:?}");
        assert!(session_cookie(&res).is_none());
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("ne provient pas de ce site")
        );
    }
    // A token signed for another visitor's cookie is refused too.
    let other = app.new_client();
    let form = other
        .get(app.url("/connexion"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let their_token = hidden_field(&form, "csrf_token");
    let res = client
        .post(app.url("/connexion"))
        .form(&[
            ("identifiant", "principal"),
            ("mot_de_passe", PRINCIPAL_PW),
            ("csrf_token", &their_token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(session_count(&app), 0);
}

#[tokio::test]
async fn a_cross_site_post_is_refused() {
    let app = app().await;
    let client = app.new_client();
    let form = client
        .get(app.url("/connexion"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = hidden_field(&form, "csrf_token");
    for (name, value) in [
        ("Origin", "https://evil.example"),
        ("Sec-Fetch-Site", "cross-site"),
        ("Origin", "null"),
    ] {
        let res = client
            .post(app.url("/connexion"))
            .header(name, value)
            .form(&[
                ("identifiant", "principal"),
                ("mot_de_passe", PRINCIPAL_PW),
                ("csrf_token", &token),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{name}: {value}");
    }
    assert_eq!(session_count(&app), 0);
    let same = client
        .post(app.url("/connexion"))
        .header("Origin", format!("http://{}", app.addr))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[
            ("identifiant", "principal"),
            ("mot_de_passe", PRINCIPAL_PW),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 303);
    let rows = audit_rows(&mut app.conn());
    assert_eq!(
        rows.iter().filter(|r| r.1 == "request.cross_site").count(),
        3
    );
}

#[tokio::test]
async fn a_cookie_set_before_sign_in_is_not_adopted() {
    let app = app().await;
    // The attacker's own session, planted in the victim's browser.
    let attacker = app.new_client();
    let planted = session_cookie(
        &app.sign_in_with(&attacker, "referent", "Referent-2026")
            .await,
    )
    .unwrap();
    let victim = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form_res = victim.get(app.url("/connexion")).send().await.unwrap();
    let signin_cookie = form_res
        .cookies()
        .find(|c| c.name() == "__Host-educt-signin")
        .unwrap()
        .value()
        .to_owned();
    let token = hidden_field(&form_res.text().await.unwrap(), "csrf_token");
    let res = victim
        .post(app.url("/connexion"))
        .header(
            "Cookie",
            format!("__Host-educt-signin={signin_cookie}; __Host-educt-session={planted}"),
        )
        .form(&[
            ("identifiant", "principal"),
            ("mot_de_passe", PRINCIPAL_PW),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let issued = session_cookie(&res).unwrap();
    assert_ne!(issued, planted, "a new session id at sign-in");
    // The planted session is gone: the attacker's cookie no longer opens anything.
    let res = attacker.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn sessions_expire_when_idle_and_absolutely() {
    let app = app().await;
    app.signed_in("principal", PRINCIPAL_PW).await;
    app.clock.advance(Duration::minutes(29));
    assert_eq!(
        app.get("/").await.status(),
        200,
        "29 minutes idle: still valid"
    );
    app.clock.advance(Duration::minutes(29));
    assert_eq!(
        app.get("/").await.status(),
        200,
        "activity moved the idle deadline"
    );
    app.clock.advance(Duration::minutes(30));
    let res = app.get("/").await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/educt-admin-comptes/connexion?session=expiree"
    );
    assert!(
        app.get("/connexion?session=expiree")
            .await
            .text()
            .await
            .unwrap()
            .contains("Votre session a expiré")
    );
    assert_eq!(session_count(&app), 0, "the expired row is deleted");

    // Absolute: active every 20 minutes, still ends 12 hours after sign-in.
    app.signed_in("principal", PRINCIPAL_PW).await;
    for _ in 0..35 {
        app.clock.advance(Duration::minutes(20));
        assert_eq!(app.get("/").await.status(), 200);
    }
    app.clock.advance(Duration::minutes(20));
    assert_eq!(app.get("/").await.status(), 303, "12 hours after sign-in");
}

#[tokio::test]
async fn signing_out_ends_the_session_for_good() {
    let app = app().await;
    let res = app.sign_in("principal", PRINCIPAL_PW).await;
    let cookie = session_cookie(&res).unwrap();
    let csrf = app.session_csrf().await;
    // Without the token: refused, still signed in.
    let res = app
        .client
        .post(app.url("/deconnexion"))
        .form(&[("csrf_token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(app.get("/").await.status(), 200);
    let res = app
        .client
        .post(app.url("/deconnexion"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/educt-admin-comptes/connexion?session=terminee"
    );
    assert_eq!(session_count(&app), 0);
    // Replaying the old cookie opens nothing.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = replay
        .get(app.url("/"))
        .header("Cookie", format!("__Host-educt-session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let actions: Vec<(String, String)> = audit_rows(&mut app.conn())
        .into_iter()
        .map(|r| (r.1, r.2))
        .collect();
    assert!(actions.contains(&("auth.sign_out".into(), "refused".into())));
    assert!(actions.contains(&("auth.sign_out".into(), "success".into())));
}

#[tokio::test]
async fn a_principal_who_loses_his_responsibility_loses_his_rights_within_a_minute() {
    let app = app().await;
    let res = app.sign_in("principal", PRINCIPAL_PW).await;
    let first = session_cookie(&res).unwrap();
    let id: i64 = agents::table
        .filter(agents::uid.eq("principal"))
        .select(agents::id)
        .first(&mut app.conn())
        .unwrap();
    diesel::delete(
        agent_uais::table
            .filter(agent_uais::agent_id.eq(id))
            .filter(agent_uais::role.eq("responsible")),
    )
    .execute(&mut app.conn())
    .unwrap();
    app.clock.advance(Duration::seconds(59));
    assert!(
        app.get("/")
            .await
            .text()
            .await
            .unwrap()
            .contains("Collège Jean Moulin"),
        "cached for 60 seconds"
    );
    app.clock.advance(Duration::seconds(1));
    let res = app.get("/").await;
    let rotated = session_cookie(&res).expect("a privilege change rotates the session id");
    assert_ne!(rotated, first);
    let body = res.text().await.unwrap();
    assert!(!body.contains("Collège Jean Moulin"));
    assert!(body.contains("aucun droit"));
    let rows = audit_rows(&mut app.conn());
    assert!(rows.iter().any(|r| r.1 == "agent.rights_changed"));
    // The old session id is dead.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = replay
        .get(app.url("/"))
        .header("Cookie", format!("__Host-educt-session={first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn a_disabled_agent_is_signed_out_at_the_next_directory_check() {
    let app = app().await;
    app.signed_in("referent", "Referent-2026").await;
    diesel::update(agents::table.filter(agents::uid.eq("referent")))
        .set(agents::disabled.eq(true))
        .execute(&mut app.conn())
        .unwrap();
    app.clock.advance(Duration::minutes(5));
    assert_eq!(app.get("/").await.status(), 303);
    assert_eq!(session_count(&app), 0);
    assert_eq!(app.sign_in("referent", "Referent-2026").await.status(), 401);
}

#[tokio::test]
async fn a_malformed_form_gets_a_french_400() {
    let app = app().await;
    let not_a_form = app
        .client
        .post(app.url("/connexion"))
        .header("Content-Type", "application/json")
        .body(r#"{"identifiant": "principal"}"#)
        .send()
        .await
        .unwrap();
    let huge = app
        .client
        .post(app.url("/connexion"))
        .form(&[("identifiant", "a".repeat(100_000))])
        .send()
        .await
        .unwrap();
    assert_eq!(not_a_form.status(), 400);
    assert!(not_a_form.text().await.unwrap().contains("mal formé"));
    // Over the body limit: the French 413 (tests/api/hardening.rs).
    assert_eq!(huge.status(), 413);
    assert!(huge.text().await.unwrap().contains("trop volumineux"));
    assert_eq!(session_count(&app), 0);
}

#[tokio::test]
async fn the_sign_in_cookie_is_not_the_session_and_a_session_id_is_never_in_the_page() {
    let app = app().await;
    let res = app.sign_in("principal", PRINCIPAL_PW).await;
    let cookie = session_cookie(&res).unwrap();
    let body = app.get("/").await.text().await.unwrap();
    assert!(!body.contains(&cookie));
    let stored: Vec<String> = sessions::table
        .select(sessions::token_hash)
        .load(&mut app.conn())
        .unwrap();
    assert!(!stored.contains(&cookie), "only the hash is stored");
    let _ = COLLEGE;
}

#[tokio::test]
async fn last_seen_is_written_at_most_once_a_minute() {
    let app = app().await;
    app.signed_in("principal", PRINCIPAL_PW).await;
    let seen = || -> chrono::NaiveDateTime {
        sessions::table
            .select(sessions::last_seen_at)
            .first(&mut app.conn())
            .unwrap()
    };
    let first = seen();
    app.clock.advance(Duration::seconds(59));
    assert_eq!(app.get("/").await.status(), 200);
    assert_eq!(seen(), first, "not written within the minute");
    app.clock.advance(Duration::seconds(1));
    assert_eq!(app.get("/").await.status(), 200);
    assert_eq!(seen(), first + Duration::seconds(60));
}
