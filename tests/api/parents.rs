//! Parents' accounts: the gate (administrative network or TOTP), TOTP itself, rights through
//! the children, and the actions.

use chrono::Duration;
use diesel::prelude::*;
use educt_admin::auth::totp::TotpSecret;
use educt_admin::clock::Clock;
use educt_admin::db::schema::{agent_totp, audit_events};
use educt_admin::delegation::Scope;

use crate::delegations::delegate;
use crate::helpers::{
    COLLEGE, LYCEE, PRINCIPAL_PW, TestApp, TestDb, add_agent, add_parent, add_pupil, audit_rows,
    enrol_totp, hidden_field, inside_admin_network, seed_staff, test_settings,
};

pub struct Family {
    pub shared: i64,
    pub college_only: i64,
    /// Pupils of the collège: Zoë Lefèvre (child of `shared`), Tom Garcia (of `college_only`).
    pub zoe: i64,
    pub tom: i64,
}

/// The usual cast, a parent with a child in each establishment, another in the collège only.
pub fn seed_family(app: &TestApp) -> Family {
    let mut conn = app.conn();
    seed_staff(&mut conn);
    add_agent(
        &mut conn,
        "cpe",
        "Inès Benali",
        "Cpe-2026-cpe",
        &[COLLEGE],
        &[],
    );
    let zoe = add_pupil(&mut conn, COLLEGE, "Zoë", "Lefèvre", "3A", "active");
    let leo = add_pupil(&mut conn, LYCEE, "Léo", "Lefèvre", "2NDE1", "active");
    let tom = add_pupil(&mut conn, COLLEGE, "Tom", "Garcia", "3A", "non_notifie");
    let shared = add_parent(
        &mut conn,
        "Nathalie",
        "Lefèvre",
        Some("nathalie.lefevre@exemple.fr"),
        Some("06 12 34 56 78"),
        "active",
        &[(zoe, 1), (leo, 1)],
    );
    let college_only = add_parent(
        &mut conn,
        "Karim",
        "Garcia",
        None,
        Some("07 11 22 33 44"),
        "non_notifie",
        &[(tom, 1)],
    );
    drop(conn);
    delegate(
        app,
        "cpe",
        COLLEGE,
        Scope::Responsables,
        "2026-11-01",
        "2027-08-31",
    );
    delegate(
        app,
        "referent",
        COLLEGE,
        Scope::Eleves,
        "2026-11-01",
        "2027-08-31",
    );
    Family {
        shared,
        college_only,
        zoe,
        tom,
    }
}

pub async fn app_with(f: impl FnOnce(&mut educt_admin::config::Settings)) -> (TestApp, Family) {
    let db = TestDb::migrated();
    let mut s = test_settings(&db);
    f(&mut s);
    let app = TestApp::builder().db(db).settings(|x| *x = s).start().await;
    let family = seed_family(&app);
    (app, family)
}

pub async fn submit_code(app: &TestApp, client: &reqwest::Client, code: &str) -> reqwest::Response {
    let page = client
        .get(app.url("/otp"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&page, "csrf_token");
    client
        .post(app.url("/otp"))
        .form(&[("code", code), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap()
}

pub fn code(secret: &TotpSecret, uid: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    secret.code_at(uid, "educt-admin", at).unwrap()
}

#[tokio::test]
async fn outside_the_network_without_totp_nothing_about_parents_is_shown() {
    let (app, family) = app_with(|_| {}).await;
    app.signed_in("principal", PRINCIPAL_PW).await;
    for path in [
        format!("/depannage/responsable?uai={COLLEGE}&q=lefevre"),
        format!("/depannage/responsable/{}", family.shared),
    ] {
        let res = app.get(&path).await;
        assert_eq!(res.status(), 403, "{path}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains("réseau administratif") && body.contains("/otp"),
            "{path}"
        );
        assert!(
            !body.contains("Nathalie") && !body.contains("Lefèvre") && !body.contains("exemple.fr"),
            "{path}"
        );
    }
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains("accès fermé"));
    let refused = audit_rows(&mut app.conn())
        .into_iter()
        .filter(|r| {
            r.3.as_deref()
                .unwrap_or("")
                .contains("parents' gate closed")
        })
        .count();
    assert_eq!(refused, 2);
}

#[tokio::test]
async fn inside_the_administrative_network_the_gate_is_open_and_audited_as_such() {
    let (app, family) = app_with(inside_admin_network).await;
    app.signed_in("principal", PRINCIPAL_PW).await;
    let body = app
        .get(&format!("/depannage/responsable?uai={COLLEGE}&q=lefevre"))
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("Nathalie") && body.contains("réseau administratif"));
    let page = app
        .get(&format!("/depannage/responsable/{}", family.shared))
        .await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("06 •• •• •• 78") && page.contains("n•••@exemple.fr"),
        "masked"
    );
    assert!(!page.contains("nathalie.lefevre@exemple.fr"));
    assert!(
        app.get("/")
            .await
            .text()
            .await
            .unwrap()
            .contains("depuis le réseau administratif")
    );
    let csrf = hidden_field(&page, "csrf_token");
    let shown = app
        .client
        .post(app.url(&format!(
            "/depannage/responsable/{}/coordonnees",
            family.shared
        )))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200);
    assert!(
        shown
            .text()
            .await
            .unwrap()
            .contains("nathalie.lefevre@exemple.fr")
    );
    let reset = app
        .client
        .post(app.url(&format!(
            "/depannage/responsable/{}/reinitialisation",
            family.shared
        )))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    assert_eq!(reset.headers()["cache-control"], "no-store");
    let letter = reset.text().await.unwrap();
    assert!(
        letter.contains("responsable de Zoë Lefèvre") && !letter.contains("Léo"),
        "only the children he may see"
    );
    let gates: Vec<(String, Option<String>, Option<String>)> = audit_events::table
        .filter(audit_events::action.like("responsable.%"))
        .filter(audit_events::outcome.eq("success"))
        .select((
            audit_events::action,
            audit_events::gate,
            audit_events::client_addr,
        ))
        .load(&mut app.conn())
        .unwrap();
    assert!(gates.len() >= 2);
    assert!(
        gates
            .iter()
            .all(|g| g.1.as_deref() == Some("network") && g.2.as_deref() == Some("127.0.0.1")),
        "{gates:?}"
    );
}

#[tokio::test]
async fn a_totp_check_opens_the_gate_for_15_minutes_and_rotates_the_session() {
    let (app, family) = app_with(|_| {}).await;
    let secret = enrol_totp(&mut app.conn(), "principal");
    let client = app.new_client();
    let first = app.sign_in_with(&client, "principal", PRINCIPAL_PW).await;
    let before = first
        .cookies()
        .find(|c| c.name() == "__Host-educt-session")
        .unwrap()
        .value()
        .to_owned();
    let res = submit_code(&app, &client, &code(&secret, "principal", app.clock.now())).await;
    assert_eq!(res.status(), 303);
    let after = res
        .cookies()
        .find(|c| c.name() == "__Host-educt-session")
        .unwrap()
        .value()
        .to_owned();
    assert_ne!(before, after, "a privilege change rotates the session id");
    let page = client
        .get(app.url(&format!("/depannage/responsable/{}", family.shared)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("après vérification du code de l'application d'authentification")
    );
    app.clock.advance(Duration::minutes(14));
    assert_eq!(
        client
            .get(app.url(&format!("/depannage/responsable/{}", family.shared)))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.clock.advance(Duration::minutes(1));
    assert_eq!(
        client
            .get(app.url(&format!("/depannage/responsable/{}", family.shared)))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let gates: Vec<Option<String>> = audit_events::table
        .filter(audit_events::action.eq("totp.check"))
        .filter(audit_events::outcome.eq("success"))
        .select(audit_events::gate)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(gates.len(), 1);
}

#[tokio::test]
async fn only_the_current_and_previous_steps_count_and_each_once() {
    let (app, _) = app_with(|_| {}).await;
    let secret = enrol_totp(&mut app.conn(), "principal");
    app.signed_in("principal", PRINCIPAL_PW).await;
    let now = app.clock.now();
    let step = Duration::seconds(30);
    let early = submit_code(
        &app,
        &app.client,
        &code(&secret, "principal", now - step * 2),
    )
    .await;
    assert_eq!(early.status(), 400, "step -2");
    let late = submit_code(&app, &app.client, &code(&secret, "principal", now + step)).await;
    assert_eq!(late.status(), 400, "step +1 (totp-rs would take it)");
    let previous = code(&secret, "principal", now - step);
    assert_eq!(
        submit_code(&app, &app.client, &previous).await.status(),
        303,
        "step -1"
    );
    let replay = submit_code(&app, &app.client, &previous).await;
    assert_eq!(replay.status(), 400, "replay");
    assert!(replay.text().await.unwrap().contains("déjà été utilisé"));
    assert_eq!(
        submit_code(&app, &app.client, &code(&secret, "principal", now))
            .await
            .status(),
        303,
        "step 0"
    );
    assert_eq!(
        submit_code(&app, &app.client, &code(&secret, "principal", now))
            .await
            .status(),
        400,
        "step 0 again"
    );
}

#[tokio::test]
async fn ten_parallel_submissions_of_one_code_give_one_success() {
    let (app, _) = app_with(|_| {}).await;
    let secret = enrol_totp(&mut app.conn(), "principal");
    // Ten sessions of the same agent (ten tabs or devices), each ready to submit.
    let mut ready = Vec::new();
    for _ in 0..10 {
        let client = app.new_client();
        app.sign_in_with(&client, "principal", PRINCIPAL_PW).await;
        let page = client
            .get(app.url("/otp"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        ready.push((client, hidden_field(&page, "csrf_token")));
    }
    let c = code(&secret, "principal", app.clock.now());
    let tries = ready.into_iter().map(|(client, csrf)| {
        let url = app.url("/otp");
        let c = c.clone();
        async move {
            client
                .post(url)
                .form(&[("code", c.as_str()), ("csrf_token", csrf.as_str())])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(tries).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    // The others are replays: refused, and counted, so the lock may answer the last ones.
    assert!(
        statuses.iter().all(|s| [303, 400, 429].contains(s)),
        "{statuses:?}"
    );
    let accepted: i64 = audit_events::table
        .filter(audit_events::action.eq("totp.check"))
        .filter(audit_events::outcome.eq("success"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(accepted, 1);
}

#[tokio::test]
async fn five_wrong_codes_lock_the_check_for_15_minutes() {
    let (app, _) = app_with(|_| {}).await;
    let secret = enrol_totp(&mut app.conn(), "principal");
    app.signed_in("principal", PRINCIPAL_PW).await;
    for _ in 0..5 {
        assert_eq!(submit_code(&app, &app.client, "000000").await.status(), 400);
    }
    let locked = submit_code(
        &app,
        &app.client,
        &code(&secret, "principal", app.clock.now()),
    )
    .await;
    assert_eq!(locked.status(), 429, "locked: even the right code");
    app.clock.advance(Duration::minutes(15));
    app.signed_in("principal", PRINCIPAL_PW).await;
    assert_eq!(
        submit_code(
            &app,
            &app.client,
            &code(&secret, "principal", app.clock.now())
        )
        .await
        .status(),
        303
    );
}

#[tokio::test]
async fn enrolment_needs_the_password_again_and_happens_once() {
    let (app, _) = app_with(|_| {}).await;
    app.signed_in("cpe", "Cpe-2026-cpe").await;
    let page = app.get("/otp/enrolement").await.text().await.unwrap();
    let csrf = hidden_field(&page, "csrf_token");
    let wrong = app
        .client
        .post(app.url("/otp/enrolement"))
        .form(&[("mot_de_passe", "nope"), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(
        agent_totp::table
            .count()
            .get_result::<i64>(&mut app.conn())
            .unwrap(),
        0
    );
    let qr = app
        .client
        .post(app.url("/otp/enrolement"))
        .form(&[("mot_de_passe", "Cpe-2026-cpe"), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(qr.status(), 200);
    let body = qr.text().await.unwrap();
    assert!(body.contains("data:image/png;base64,"));
    let key: String = body
        .split("Clé : <code>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .replace(' ', "");
    assert_eq!(key.len(), 32, "160 bits in base32");
    let secret = TotpSecret::from_bytes(&base32_decode(&key)).unwrap();
    // The database keeps it sealed: the base32 key is nowhere in the row.
    let stored: String = agent_totp::table
        .select(agent_totp::sealed_secret)
        .first(&mut app.conn())
        .unwrap();
    assert!(!stored.contains(&key) && !stored.to_lowercase().contains(&key.to_lowercase()));
    let confirm = app
        .client
        .post(app.url("/otp/enrolement/confirmation"))
        .form(&[
            ("code", code(&secret, "cpe", app.clock.now()).as_str()),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), 303);
    // Enrolled: cannot enrol a second phone by himself.
    let csrf = app.session_csrf().await;
    let again = app
        .client
        .post(app.url("/otp/enrolement"))
        .form(&[("mot_de_passe", "Cpe-2026-cpe"), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("demandez à l'administrateur")
    );
    // The administrator's reset (audited) lets him enrol again.
    let key_hex = hex::encode(crate::helpers::TEST_KEY);
    let (status, _, err) = crate::helpers::run_cli(
        &["agents", "reset-totp", "cpe"],
        &[
            ("EDUCT_ADMIN__DATABASE__URL", app.test_db.url.as_str()),
            ("EDUCT_ADMIN__SECRETS__KEY", key_hex.as_str()),
        ],
    );
    assert!(status.success(), "{err}");
    assert_eq!(
        agent_totp::table
            .count()
            .get_result::<i64>(&mut app.conn())
            .unwrap(),
        0
    );
    assert!(
        audit_rows(&mut app.conn())
            .iter()
            .any(|r| r.1 == "agent.totp_reset")
    );
}

fn base32_decode(s: &str) -> Vec<u8> {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = 0u64;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| *c != b'=') {
        bits = (bits << 5) | ALPHA.iter().position(|a| *a == c).unwrap() as u64;
        n += 5;
        if n >= 8 {
            out.push((bits >> (n - 8)) as u8);
            n -= 8;
        }
    }
    out
}

#[tokio::test]
async fn the_client_address_rules_hold_for_the_gate() {
    let admin = vec![
        "10.0.0.0/8".parse().unwrap(),
        "2001:db8::/32".parse().unwrap(),
    ];
    // No trusted proxy: a spoofed X-Forwarded-For from the loopback peer is ignored.
    let (app, family) = app_with(|s| s.network.admin_networks = admin.clone()).await;
    app.signed_in("principal", PRINCIPAL_PW).await;
    let path = app.url(&format!("/depannage/responsable/{}", family.shared));
    let res = app
        .client
        .get(&path)
        .header("X-Forwarded-For", "10.1.2.3")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "spoofed header ignored");
    // Behind a trusted proxy (the loopback peer), the right-most untrusted entry counts.
    let (app, family) = app_with(|s| {
        s.network.admin_networks = admin.clone();
        s.network.trusted_proxies = vec![
            "127.0.0.1/32".parse().unwrap(),
            "192.0.2.10/32".parse().unwrap(),
        ];
    })
    .await;
    app.signed_in("principal", PRINCIPAL_PW).await;
    let path = app.url(&format!("/depannage/responsable/{}", family.shared));
    for (xff, status) in [
        ("10.1.2.3", 200),
        ("203.0.113.9, 10.1.2.3", 200),
        ("10.1.2.3, 192.0.2.10", 200),
        ("10.1.2.3, 203.0.113.9", 403),
        ("2001:db8::5", 200),
        ("::ffff:10.9.9.9", 200),
        ("10.1.2.3:8080", 403),
        ("garbage", 403),
        ("192.0.2.10", 403),
        ("", 403),
    ] {
        let res = app
            .client
            .get(&path)
            .header("X-Forwarded-For", xff)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "X-Forwarded-For: {xff:?}");
    }
    let res = app.client.get(&path).send().await.unwrap();
    assert_eq!(
        res.status(),
        403,
        "no header behind a trusted proxy: unknown client"
    );
}

#[tokio::test]
async fn rights_go_through_the_children_and_an_eleves_delegate_gets_nothing() {
    let (app, family) = app_with(inside_admin_network).await;
    // Each side sees its own child only.
    app.signed_in("principal", PRINCIPAL_PW).await;
    let page = app
        .get(&format!("/depannage/responsable/{}", family.shared))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Zoë") && !page.contains("Léo"));
    let lycee = app.new_client();
    app.sign_in_with(&lycee, "principal2", "Proviseur-2026")
        .await;
    let page = lycee
        .get(app.url(&format!("/depannage/responsable/{}", family.shared)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Léo") && !page.contains("Zoë"));
    assert_eq!(
        lycee
            .get(app.url(&format!("/depannage/responsable/{}", family.college_only)))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // A delegate of the pupils only: 403 on every parents' route.
    let referent = app.new_client();
    app.sign_in_with(&referent, "referent", "Referent-2026")
        .await;
    let home = referent
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&home, "csrf_token");
    for path in [
        format!("/depannage/responsable?uai={COLLEGE}&q=a"),
        format!("/depannage/responsable/{}", family.shared),
        format!("/depannage/responsable/classe?uai={COLLEGE}"),
    ] {
        assert_eq!(
            referent.get(app.url(&path)).send().await.unwrap().status(),
            403,
            "{path}"
        );
    }
    for action in [
        "reinitialisation",
        "coordonnees",
        "desactivation",
        "deblocage",
        "reactivation",
    ] {
        let res = referent
            .post(app.url(&format!(
                "/depannage/responsable/{}/{action}",
                family.shared
            )))
            .form(&[("csrf_token", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{action}");
    }
    // The CPE (responsables) may.
    let cpe = app.new_client();
    app.sign_in_with(&cpe, "cpe", "Cpe-2026-cpe").await;
    assert_eq!(
        cpe.get(app.url(&format!("/depannage/responsable/{}", family.college_only)))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_principal_still_needs_the_gate_on_every_parents_route() {
    let (app, family) = app_with(|_| {}).await;
    app.signed_in("principal", PRINCIPAL_PW).await;
    let csrf = app.session_csrf().await;
    for path in [
        format!("/depannage/responsable?uai={COLLEGE}"),
        format!("/depannage/responsable/{}", family.shared),
        format!("/depannage/responsable/classe?uai={COLLEGE}"),
    ] {
        assert_eq!(app.get(&path).await.status(), 403, "{path}");
    }
    for action in ["reinitialisation", "coordonnees", "desactivation"] {
        let res = app
            .client
            .post(app.url(&format!(
                "/depannage/responsable/{}/{action}",
                family.shared
            )))
            .form(&[("csrf_token", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{action}");
        assert!(!res.text().await.unwrap().contains("Nathalie"));
    }
    let res = app
        .client
        .post(app.url("/depannage/responsable/classe"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("uai", COLLEGE),
            ("division", "3A"),
            ("etat", "non_notifie"),
            ("cle", "abcdefghijklmnopqrstuvwx"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn parents_of_a_division_are_notified_in_one_batch() {
    let (app, _) = app_with(inside_admin_network).await;
    app.signed_in("cpe", "Cpe-2026-cpe").await;
    let page = app
        .get(&format!("/depannage/responsable/classe?uai={COLLEGE}"))
        .await
        .text()
        .await
        .unwrap();
    let (csrf, key) = (
        hidden_field(&page, "csrf_token"),
        hidden_field(&page, "cle"),
    );
    let res = app
        .client
        .post(app.url("/depannage/responsable/classe"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("uai", COLLEGE),
            ("division", "3A"),
            ("etat", "non_notifie"),
            ("cle", key.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("/depannage/responsable/lots/"));
    let mut letters = String::new();
    for _ in 0..300 {
        letters = app
            .client
            .get(format!("http://{}{}/courriers", app.addr, location))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if letters.contains("Karim") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        letters.contains("responsable de Tom Garcia"),
        "{letters:.400}"
    );
    assert!(!letters.contains("Nathalie"), "her account is activated");
    let gates: Vec<Option<String>> = audit_events::table
        .filter(audit_events::action.eq("responsable.reset_password"))
        .select(audit_events::gate)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(gates, vec![Some("network".to_owned())]);
}
