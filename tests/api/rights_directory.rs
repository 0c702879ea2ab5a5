//! Rights follow the directory (issue 10, hole 9; BRIEF rules 2 and 3): a delegate detached
//! from the school loses his delegation, directory data is re-read after 60 seconds, and
//! `agents disable`, `agents reset-totp` and `agents logout` end the agent's sessions at once.

use chrono::Duration;
use diesel::prelude::*;
use educt_admin::clock::Clock;
use educt_admin::db::schema::{agents, audit_events, sessions};
use educt_admin::delegation::Scope;

use crate::delegations::delegate;
use crate::helpers::{
    COLLEGE, PRINCIPAL_PW, TEST_KEY, TestApp, TestDb, audit_rows, enrol_totp, hidden_field,
    run_cli, seed_staff, test_settings,
};

const REFERENT_PW: &str = "Referent-2026";

/// The usual cast; the referent holds `eleves` on the collège.
async fn app_with(f: impl FnOnce(&mut educt_admin::config::Settings)) -> TestApp {
    let db = TestDb::migrated();
    let mut s = test_settings(&db);
    f(&mut s);
    let app = TestApp::builder().db(db).settings(|x| *x = s).start().await;
    seed_staff(&mut app.conn());
    delegate(
        &app,
        "referent",
        COLLEGE,
        Scope::Eleves,
        "2026-11-01",
        "2027-08-31",
    );
    app
}

/// `educt-admin agents ARGS` on the app's database, as the OS user `operateur`.
pub fn agents_cli(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let key = hex::encode(TEST_KEY);
    let mut all = vec!["agents"];
    all.extend_from_slice(args);
    let (status, out, err) = run_cli(
        &all,
        &[
            ("EDUCT_ADMIN__DATABASE__URL", app.test_db.url.as_str()),
            ("EDUCT_ADMIN__SECRETS__KEY", key.as_str()),
            ("USER", "operateur"),
        ],
    );
    (status.success(), out, err)
}

fn sessions_of(app: &TestApp, uid: &str) -> i64 {
    sessions::table
        .filter(sessions::agent_uid.eq(uid))
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

async fn status(client: &reqwest::Client, app: &TestApp, path: &str) -> u16 {
    client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_delegate_detached_from_the_school_loses_his_delegation_at_the_next_refresh() {
    let app = app_with(|_| {}).await;
    app.signed_in("referent", REFERENT_PW).await;
    let search = format!("/depannage/eleve?uai={COLLEGE}");
    assert_eq!(status(&app.client, &app, &search).await, 200);
    let (ok, out, err) = agents_cli(&app, &["detach", "referent", COLLEGE]);
    assert!(ok, "{out}{err}");
    app.clock.advance(Duration::seconds(60));
    // His delegation is still there, active and unrevoked: only the attachment is gone.
    assert_eq!(status(&app.client, &app, &search).await, 404);
    let home = app.get("/").await.text().await.unwrap();
    assert!(!home.contains("Collège Jean Moulin"), "{home}");
    let refused: i64 = audit_events::table
        .filter(audit_events::actor.eq("referent"))
        .filter(audit_events::outcome.eq("refused"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert!(refused >= 1);
    // Attached again: the delegation works again.
    let (ok, _, _) = agents_cli(&app, &["attach", "referent", COLLEGE]);
    assert!(ok);
    app.clock.advance(Duration::seconds(60));
    assert_eq!(status(&app.client, &app, &search).await, 200);
}

#[tokio::test]
async fn directory_data_is_read_again_after_60_seconds() {
    let app = app_with(|_| {}).await;
    app.signed_in("referent", REFERENT_PW).await;
    // Disabled in the directory itself (as an LDAP administrator would), not by the CLI.
    diesel::update(agents::table.filter(agents::uid.eq("referent")))
        .set(agents::disabled.eq(true))
        .execute(&mut app.conn())
        .unwrap();
    app.clock.advance(Duration::seconds(59));
    assert_eq!(app.get("/").await.status(), 200, "read 59 s ago: kept");
    app.clock.advance(Duration::seconds(1));
    assert_eq!(app.get("/").await.status(), 303, "read 60 s ago: re-read");
    assert_eq!(sessions_of(&app, "referent"), 0);
}

#[tokio::test]
async fn agents_disable_ends_his_sessions_at_once() {
    let app = app_with(|_| {}).await;
    let (first, second) = (app.new_client(), app.new_client());
    app.sign_in_with(&first, "referent", REFERENT_PW).await;
    app.sign_in_with(&second, "referent", REFERENT_PW).await;
    app.signed_in("principal", PRINCIPAL_PW).await;
    let (ok, out, err) = agents_cli(&app, &["disable", "referent"]);
    assert!(ok, "{out}{err}");
    for client in [&first, &second] {
        assert_eq!(status(client, &app, "/").await, 303, "no clock move needed");
    }
    assert_eq!(sessions_of(&app, "referent"), 0);
    assert_eq!(app.get("/").await.status(), 200, "other agents keep theirs");
    let disable = audit_rows(&mut app.conn())
        .into_iter()
        .find(|r| r.1 == "agent.disable")
        .unwrap();
    assert_eq!(disable.0, "cli:operateur");
    assert!(
        disable.3.unwrap_or_default().contains("2 sessions"),
        "the ended sessions are counted"
    );
}

#[tokio::test]
async fn agents_reset_totp_ends_his_sessions_and_their_totp_pass() {
    let app = app_with(|_| {}).await;
    let secret = enrol_totp(&mut app.conn(), "principal");
    app.signed_in("principal", PRINCIPAL_PW).await;
    let page = app.get("/otp").await.text().await.unwrap();
    let csrf = hidden_field(&page, "csrf_token");
    let code = secret
        .code_at("principal", "educt-admin", app.clock.now())
        .unwrap();
    let res = app
        .client
        .post(app.url("/otp"))
        .form(&[("code", code.as_str()), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let parents = format!("/depannage/responsable?uai={COLLEGE}");
    assert_eq!(app.get(&parents).await.status(), 200, "the TOTP pass opens");
    let (ok, out, err) = agents_cli(&app, &["reset-totp", "principal"]);
    assert!(ok, "{out}{err}");
    assert_eq!(app.get(&parents).await.status(), 303, "signed out at once");
    assert_eq!(sessions_of(&app, "principal"), 0);
    let passes: i64 = sessions::table
        .filter(sessions::totp_verified_at.is_not_null())
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(passes, 0);
    assert!(
        audit_rows(&mut app.conn())
            .iter()
            .any(|r| r.1 == "agent.totp_reset" && r.0 == "cli:operateur")
    );
}

#[tokio::test]
async fn agents_logout_ends_that_agents_sessions_only_and_is_audited() {
    let app = app_with(|_| {}).await;
    let referent = app.new_client();
    app.sign_in_with(&referent, "referent", REFERENT_PW).await;
    app.signed_in("principal", PRINCIPAL_PW).await;
    let (ok, out, err) = agents_cli(&app, &["logout", "referent"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("referent"), "{out}");
    assert_eq!(status(&referent, &app, "/").await, 303);
    assert_eq!(sessions_of(&app, "referent"), 0);
    assert_eq!(app.get("/").await.status(), 200);
    let logout: Vec<_> = audit_rows(&mut app.conn())
        .into_iter()
        .filter(|r| r.1 == "agent.logout")
        .collect();
    assert_eq!(logout.len(), 1, "{logout:?}");
    assert_eq!(logout[0].0, "cli:operateur");
    assert!(logout[0].3.as_deref().unwrap_or("").contains("1 session"));
    // A malformed uid is refused and changes nothing.
    let before = audit_rows(&mut app.conn()).len();
    let (ok, _, err) = agents_cli(&app, &["logout", "c*"]);
    assert!(!ok);
    assert!(err.contains("invalid uid"), "{err}");
    assert_eq!(audit_rows(&mut app.conn()).len(), before);
    assert_eq!(sessions_of(&app, "principal"), 1);
}
