//! The one password throttle (BRIEF rule 7, issue 10 hole 5): every password check — sign-in
//! and the re-check at TOTP enrolment — is counted before the hash, per (account, client
//! address) and per address, and answers 429 with `Retry-After` once it bites; wrong guesses
//! from elsewhere never refuse the right password from the victim's own address.

use chrono::Duration;
use diesel::prelude::*;
use educt_admin::auth::throttle;
use educt_admin::db::schema::agents;
use educt_admin::directory::local::LocalDirectory;
use educt_admin::directory::{Directory, DirectoryError};
use educt_admin::domain::AgentUid;
use secrecy::SecretString;

use crate::helpers::{PRINCIPAL_PW, TestApp, TestDb, hidden_field, seed_staff};

/// Failures an (account, address) pair gets before the throttle bites.
const PAIR_LIMIT: usize = throttle::PAIR_MAX_FAILURES as usize;

async fn app() -> TestApp {
    let app = TestApp::spawn().await;
    seed_staff(&mut app.conn());
    app
}

/// An app behind a trusted proxy (127.0.0.1): the client address is the `X-Forwarded-For`.
async fn app_behind_proxy() -> TestApp {
    let app = TestApp::builder()
        .settings(|s| s.network.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()])
        .start()
        .await;
    seed_staff(&mut app.conn());
    app
}

/// Fetches the sign-in form and posts it, as the client at `xff`.
async fn sign_in_from(
    app: &TestApp,
    client: &reqwest::Client,
    xff: &str,
    uid: &str,
    password: &str,
) -> reqwest::Response {
    let form = client
        .get(app.url("/connexion"))
        .header("X-Forwarded-For", xff)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = hidden_field(&form, "csrf_token");
    client
        .post(app.url("/connexion"))
        .header("X-Forwarded-For", xff)
        .form(&[
            ("identifiant", uid),
            ("mot_de_passe", password),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap()
}

async fn enrol_with(app: &TestApp, csrf: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/otp/enrolement"))
        .form(&[("mot_de_passe", password), ("csrf_token", csrf)])
        .send()
        .await
        .unwrap()
}

/// A 429 with a `Retry-After` in seconds within `max_secs`, and a French page.
async fn assert_throttled(res: reqwest::Response, max_secs: u64) {
    assert_eq!(res.status(), 429);
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1 && retry <= max_secs, "Retry-After {retry}");
    let body = res.text().await.unwrap();
    assert!(body.contains("Trop de tentatives"), "{body}");
}

#[tokio::test]
async fn twenty_wrong_passwords_at_enrolment_are_throttled_then_the_right_one_too() {
    let app = app().await;
    app.signed_in("principal", PRINCIPAL_PW).await;
    let page = app.get("/otp/enrolement").await.text().await.unwrap();
    let csrf = hidden_field(&page, "csrf_token");
    let mut statuses = Vec::new();
    for i in 0..20 {
        statuses.push(
            enrol_with(&app, &csrf, &format!("devine-{i}"))
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(
        statuses,
        [[401; PAIR_LIMIT], [429; PAIR_LIMIT]].concat(),
        "counted before the hash, the throttle bites after {PAIR_LIMIT} failures"
    );
    // While throttled from this address, the right password is refused too (no QR code).
    assert_throttled(enrol_with(&app, &csrf, PRINCIPAL_PW).await, 15 * 60).await;
    // Past the window, the right password works again.
    app.clock
        .advance(Duration::minutes(15) + Duration::seconds(1));
    let page = app.get("/otp/enrolement").await.text().await.unwrap();
    let csrf = hidden_field(&page, "csrf_token");
    let qr = enrol_with(&app, &csrf, PRINCIPAL_PW).await;
    assert_eq!(qr.status(), 200);
    assert!(qr.text().await.unwrap().contains("data:image/png;base64,"));
}

#[tokio::test]
async fn an_attackers_failures_from_elsewhere_never_refuse_the_victims_right_password() {
    let app = app_behind_proxy().await;
    let attacker = app.new_client();
    let mut statuses = Vec::new();
    for i in 0..20 {
        let res = sign_in_from(
            &app,
            &attacker,
            "203.0.113.7",
            "principal",
            &format!("devine-{i}"),
        )
        .await;
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [[401; PAIR_LIMIT], [429; PAIR_LIMIT]].concat());
    // The attacker's address is throttled for that account, right password included.
    assert_throttled(
        sign_in_from(&app, &attacker, "203.0.113.7", "principal", PRINCIPAL_PW).await,
        15 * 60,
    )
    .await;
    // The victim, from her usual address, signs in at once.
    let victim = app.new_client();
    let res = sign_in_from(&app, &victim, "198.51.100.20", "principal", PRINCIPAL_PW).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
}

#[tokio::test]
async fn parallel_wrong_attempts_are_all_counted_before_hashing() {
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
    let attempts = (0..20).map(|i| {
        let client = client.clone();
        let url = app.url("/connexion");
        let token = token.clone();
        async move {
            client
                .post(url)
                .form(&[
                    ("identifiant", "principal"),
                    ("mot_de_passe", &format!("devine-{i}")),
                    ("csrf_token", &token),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        (checked, throttled),
        (PAIR_LIMIT, 20 - PAIR_LIMIT),
        "{statuses:?}"
    );
    assert_throttled(app.sign_in("principal", PRINCIPAL_PW).await, 15 * 60).await;
}

#[tokio::test]
async fn a_successful_sign_in_clears_the_failures_of_its_address() {
    let app = app().await;
    for i in 0..PAIR_LIMIT - 1 {
        let res = app.sign_in("principal", &format!("devine-{i}")).await;
        assert_eq!(res.status(), 401);
    }
    assert_eq!(
        throttle::pair_failures(&mut app.conn(), "principal", "127.0.0.1").unwrap(),
        (PAIR_LIMIT - 1) as i64
    );
    app.signed_in("principal", PRINCIPAL_PW).await;
    assert_eq!(
        throttle::pair_failures(&mut app.conn(), "principal", "127.0.0.1").unwrap(),
        0
    );
    // The count starts again: one more wrong password is a plain refusal, not a 429.
    assert_eq!(app.sign_in("principal", "encore-faux").await.status(), 401);
    assert_eq!(app.sign_in("principal", "encore-faux").await.status(), 401);
}

#[tokio::test]
async fn unknown_uids_cost_one_argon2_verification_like_known_ones() {
    let db = TestDb::migrated();
    seed_staff(&mut db.connect());
    diesel::update(agents::table.filter(agents::uid.eq("enseignant")))
        .set(agents::disabled.eq(true))
        .execute(&mut db.connect())
        .unwrap();
    diesel::update(agents::table.filter(agents::uid.eq("referent")))
        .set(agents::password_hash.eq(None::<String>))
        .execute(&mut db.connect())
        .unwrap();
    let directory = LocalDirectory::new(db.pool().pool().clone()).unwrap();
    let guess = SecretString::from("devine".to_owned());
    let uid = |u: &str| AgentUid::parse(u).unwrap();
    for (n, who) in ["nobody.here", "principal", "enseignant", "referent"]
        .into_iter()
        .enumerate()
    {
        assert!(matches!(
            directory.authenticate(&uid(who), &guess),
            Err(DirectoryError::InvalidCredentials(_))
        ));
        assert_eq!(
            directory.verifications(),
            n as u64 + 1,
            "{who}: one argon2 verification, known or not"
        );
    }
    // A blank password is refused before any work.
    assert!(
        directory
            .authenticate(&uid("nobody.here"), &SecretString::from(" ".to_owned()))
            .is_err()
    );
    assert_eq!(directory.verifications(), 4);
}
