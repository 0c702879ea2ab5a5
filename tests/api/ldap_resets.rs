//! Resets that people really sign in with: the app on the LDAP account store (a slapd of each
//! test's own, with ppolicy), the pages as a referent uses them, and the directory as the
//! ENT's sign-in service sees it: a bind as the pupil with the letter's password, the policy
//! saying it must be changed, the pupil changing it, our page showing "Activé". And the
//! faults: the server stopped before, between and after the reset's two writes.

use diesel::prelude::*;
use educt_admin::accounts::ldap::ppolicy;
use educt_admin::accounts::{AccountKind, AccountState, pupils};
use educt_admin::config::AccountStoreKind;
use educt_admin::db::schema::pending_account_writes;
use ldap3::Mod;

use crate::helpers::{Page, TestApp, audit_rows, hidden_field};
use crate::ldap_server::LdapServer;
use crate::ldap_store::{OWN_PASSWORD, add_entry, base};
use crate::pupils::{Cast, app_with_pupils_on};

/// The app on the LDAP store of `server`, with the pupils' entries: Zoë never notified,
/// Jean-Baptiste activated, Noé locked by failed binds.
async fn app_on(server: &LdapServer) -> (TestApp, Cast) {
    let settings = server.accounts_settings();
    let builder = TestApp::builder().settings(move |s| {
        s.accounts.store = AccountStoreKind::Ldap;
        s.accounts.ldap = Some(settings);
        s.passwords = crate::ldap_server::password_settings();
    });
    let (app, cast) = app_with_pupils_on(builder).await;
    let mut conn = app.conn();
    let uid = |id: i64, conn: &mut _| pupils::find(conn, id).unwrap().unwrap().identifiant;
    // Locked now for slapd (which reads its own clock) and for the app (at t0, before).
    let lock = educt_admin::accounts::ldap::entry::format_time(chrono::Utc::now());
    let entries = [
        (uid(cast.zoe, &mut conn), AccountState::NonNotifie, None),
        (uid(cast.compound, &mut conn), AccountState::Active, None),
        (
            uid(cast.blocked, &mut conn),
            AccountState::Active,
            Some(lock),
        ),
    ];
    off_runtime(|| {
        let mut service = server.service();
        for (uid, unlocked, lock) in &entries {
            let uid = uid.as_str();
            add_entry(
                &mut service,
                AccountKind::Pupil,
                uid,
                *unlocked,
                lock.as_deref(),
            );
        }
    });
    (app, cast)
}

/// Runs `f` off the test's runtime (ldap3's blocking client starts a runtime of its own).
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

fn dn(app: &TestApp, id: i64) -> String {
    let p = pupils::find(&mut app.conn(), id).unwrap().unwrap();
    format!("uid={},{}", p.identifiant, base(AccountKind::Pupil))
}

/// Posts the reset of pupil `id` as the signed-in agent.
async fn reset(app: &TestApp, id: i64) -> reqwest::Response {
    let csrf = confirm(app, id).await;
    post_reset(app, id, &csrf).await
}

/// The reset's confirmation page: its CSRF token.
async fn confirm(app: &TestApp, id: i64) -> String {
    let path = format!("/depannage/eleve/{id}/reinitialisation");
    hidden_field(&app.get(&path).await.text().await.unwrap(), "csrf_token")
}

async fn post_reset(app: &TestApp, id: i64, csrf: &str) -> reqwest::Response {
    let path = format!("/depannage/eleve/{id}/reinitialisation");
    app.client
        .post(app.url(&path))
        .form(&[("csrf_token", csrf)])
        .send()
        .await
        .unwrap()
}

fn letter_password(body: &str) -> String {
    Page::parse(body)
        .definition("Mot de passe provisoire")
        .expect("the letter")
        .replace(' ', "")
}

/// The reset's audit rows: (outcome, details) of `eleve.reset_password`.
fn reset_rows(app: &TestApp) -> Vec<(String, String)> {
    audit_rows(&mut app.conn())
        .into_iter()
        .filter(|r| r.1 == "eleve.reset_password")
        .map(|r| (r.2, r.3.unwrap_or_default()))
        .collect()
}

fn pending(app: &TestApp) -> i64 {
    pending_account_writes::table
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

#[tokio::test]
async fn a_reset_through_the_pages_is_real_in_the_directory() {
    let server = LdapServer::start_own(false);
    let (app, cast) = app_on(&server).await;
    app.signed_in("referent", "Referent-2026").await;
    let res = reset(&app, cast.zoe).await;
    assert_eq!(res.status(), 200);
    let password = letter_password(&res.text().await.unwrap());
    // The ENT's sign-in service: the letter's password works, and must be changed.
    let dn = dn(&app, cast.zoe);
    let (rc, error) = off_runtime(|| {
        let bound = server
            .connect()
            .with_controls(ppolicy::request())
            .simple_bind(&dn, &password)
            .unwrap();
        (bound.rc, ppolicy::error_of(&bound))
    });
    assert_eq!(rc, 0);
    assert_eq!(error, Some(ppolicy::CHANGE_AFTER_RESET));
    // The reset gave the entry its level's policy (3A: 12 characters), not the 6e one.
    let policy = off_runtime(|| {
        let (found, _) = server
            .service()
            .search(
                &dn,
                ldap3::Scope::Base,
                "(objectClass=*)",
                vec!["pwdPolicySubentry"],
            )
            .unwrap()
            .success()
            .unwrap();
        ldap3::SearchEntry::construct(found.into_iter().next().unwrap()).attrs
    });
    assert_eq!(
        policy["pwdPolicySubentry"],
        ["cn=eleves-lycee,ou=politiques,dc=ac-test,dc=fr"]
    );
    // Audited as started, then done; nothing left pending.
    let rows = reset_rows(&app);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, "started");
    assert_eq!(rows[1].0, "success");
    assert_eq!(pending(&app), 0);
    let page = app.get(&format!("/depannage/eleve/{}", cast.zoe)).await;
    assert!(page.text().await.unwrap().contains("Notifié"));
    // The pupil chooses his own password, as himself.
    off_runtime(|| {
        let mut pupil = server.connect();
        pupil
            .simple_bind(&dn, &password)
            .unwrap()
            .success()
            .unwrap();
        let own = "Un-mot-de-passe-bien-a-moi";
        let change = Mod::Replace("userPassword", [own].into());
        pupil.modify(&dn, vec![change]).unwrap().success().unwrap();
    });
    let page = app.get(&format!("/depannage/eleve/{}", cast.zoe)).await;
    let body = page.text().await.unwrap();
    assert!(
        Page::parse(&body)
            .definition("État du compte")
            .unwrap()
            .contains("Activé"),
        "the page reads the directory"
    );
    let cached = pupils::find(&mut app.conn(), cast.zoe).unwrap().unwrap();
    assert_eq!(
        cached.state,
        AccountState::Active,
        "and refreshes the index"
    );
}

#[tokio::test]
async fn the_directory_state_wins_and_its_refusals_are_french() {
    let server = LdapServer::start_own(false);
    let (app, cast) = app_on(&server).await;
    app.signed_in("referent", "Referent-2026").await;
    // Locked by failed binds in the directory, though the index said "active".
    diesel::update(educt_admin::db::schema::pupils::table.find(cast.blocked))
        .set(educt_admin::db::schema::pupils::state.eq("active"))
        .execute(&mut app.conn())
        .unwrap();
    let res = reset(&app, cast.blocked).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("bloqué ou désactivé"));
    let mut conn = app.conn();
    let cached = pupils::find(&mut conn, cast.blocked).unwrap().unwrap();
    assert_eq!(cached.state, AccountState::Bloque);
    // The lock is still there: the reset did not lift it.
    let noe = dn(&app, cast.blocked);
    let bind = || off_runtime(|| server.connect().simple_bind(&noe, OWN_PASSWORD).unwrap().rc);
    assert_eq!(bind(), 49);
    // Unblocked through the page: the directory lifts the lock, the pupil binds again.
    let page = app.get(&format!("/depannage/eleve/{}", cast.blocked)).await;
    let csrf = hidden_field(&page.text().await.unwrap(), "csrf_token");
    let res = app
        .client
        .post(app.url(&format!("/depannage/eleve/{}/deblocage", cast.blocked)))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(bind(), 0);
    // A pupil the index knows but the directory does not: named, no 500.
    let res = reset(&app, cast.hostile).await;
    assert_eq!(res.status(), 409);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("aucune entrée de l'annuaire des comptes"),
        "{body}"
    );
}

#[tokio::test]
async fn readiness_reports_the_account_store() {
    let mut server = LdapServer::start_own(false);
    let (app, _) = app_on(&server).await;
    assert_eq!(app.get("/health/ready").await.status(), 200);
    server.stop();
    let asked = std::time::Instant::now();
    let res = app.get("/health/ready").await;
    assert!(asked.elapsed().as_secs() < 5);
    assert_eq!(res.status(), 503);
    assert_eq!(res.text().await.unwrap(), "account store unavailable\n");
    server.restart();
    assert_eq!(app.get("/health/ready").await.status(), 200, "healed");
}

#[tokio::test]
async fn a_directory_that_stops_gets_a_french_503_and_the_journal_shows_the_unknown_outcome() {
    let mut server = LdapServer::start_own(false);
    let (app, cast) = app_on(&server).await;
    app.signed_in("referent", "Referent-2026").await;
    let csrf = confirm(&app, cast.zoe).await;
    server.stop();
    // The account could not be read: no write is tried, the answer is the French 503.
    let res = post_reset(&app, cast.zoe, &csrf).await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "5");
    let body = res.text().await.unwrap();
    assert!(body.contains("Annuaire des comptes indisponible"), "{body}");
    assert!(reset_rows(&app).is_empty());
    // The page still opens, with the last known state and a word on why.
    let page = app.get(&format!("/depannage/eleve/{}", cast.zoe)).await;
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(
        body.contains("l'état affiché est le dernier connu"),
        "{body}"
    );
    // A reset begun just before the server died (the use case, as in ldap_faults) stays in
    // the principal's journal as without outcome until the upkeep reads the directory.
    let opened = educt_admin::usecases::accounts::Opened {
        record: educt_admin::usecases::accounts::Record::Pupil(
            pupils::find(&mut app.conn(), cast.zoe).unwrap().unwrap(),
        ),
        permit: crate::account_store_contract::permit(
            educt_admin::delegation::policy::Action::ResetPupil,
            crate::helpers::COLLEGE,
        ),
    };
    let settings = server.accounts_settings();
    let mut conn = app.conn();
    let refused = off_runtime(move || {
        let store = educt_admin::accounts::ldap::LdapAccountStore::new(
            &settings,
            crate::ldap_server::password_rules(),
        )
        .unwrap();
        let ctx = educt_admin::usecases::Context::new(
            educt_admin::usecases::Actor::Agent("referent".into()),
            crate::helpers::t0(),
        );
        let new = crate::account_store_contract::provisional("abcd2345efgh");
        let key = crate::helpers::test_key();
        educt_admin::usecases::accounts::reset_password(&mut conn, &key, &store, &ctx, &opened, new)
            .is_err()
    });
    assert!(refused);
    assert_eq!(pending(&app), 1);
    app.signed_in("principal", crate::helpers::PRINCIPAL_PW)
        .await;
    let journal = app
        .get(&format!("/journal?uai={}", crate::helpers::COLLEGE))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        journal.contains("issue inconnue, vérification en cours"),
        "{journal}"
    );
    server.restart();
}

#[tokio::test]
async fn a_class_batch_leaves_aside_an_account_activated_since_the_index_was_read() {
    use educt_admin::accounts::batch::store as batch_store;
    let server = LdapServer::start_own(false);
    let (app, cast) = app_on(&server).await;
    // The app's first upkeep round may read the directory into the index: let it pass (the
    // next one is a minute away) before making the index stale. It begins with the
    // housekeeping lease; a pupil it reads gets his state_checked_at.
    use educt_admin::db::schema::{job_leases, pupils as t};
    for i in 0..300 {
        let leased: i64 = job_leases::table
            .count()
            .get_result(&mut app.conn())
            .unwrap();
        let checked: Option<chrono::NaiveDateTime> = t::table
            .find(cast.compound)
            .select(t::state_checked_at)
            .first(&mut app.conn())
            .unwrap();
        if checked.is_some() || (leased > 0 && i >= 50) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The index still says "never notified", but Jean-Baptiste chose his password in the ENT.
    diesel::update(educt_admin::db::schema::pupils::table.find(cast.compound))
        .set(educt_admin::db::schema::pupils::state.eq("non_notifie"))
        .execute(&mut app.conn())
        .unwrap();
    app.signed_in("referent", "Referent-2026").await;
    let (csrf, key) = crate::batches::form_fields(&app).await;
    let res = crate::batches::submit(&app, &csrf, &key, "3A", &["non_notifie"]).await;
    assert_eq!(res.status(), 303);
    let id = crate::batches::batch_id(&res);
    let mut tries = 0;
    let counts = loop {
        tries += 1;
        assert!(tries < 500, "the batch never settled");
        let c = batch_store::counts(&mut app.conn(), id).unwrap();
        let leased: Option<String> = educt_admin::db::schema::batches::table
            .find(id)
            .select(educt_admin::db::schema::batches::lease_owner)
            .first(&mut app.conn())
            .unwrap();
        if c.pending == 0 && leased.is_none() {
            break c;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(
        (counts.done, counts.abandoned),
        (1, 1),
        "Zoë done, Jean-Baptiste aside"
    );
    // His own password still works; the journal says why he was left aside.
    let his = dn(&app, cast.compound);
    let rc = off_runtime(|| server.connect().simple_bind(&his, OWN_PASSWORD).unwrap().rc);
    assert_eq!(rc, 0);
    let rows = reset_rows(&app);
    assert!(
        rows.iter()
            .any(|r| r.0 == "refused" && r.1.contains("« Activé » dans l'annuaire")),
        "{rows:?}"
    );
}

#[tokio::test]
async fn a_directory_that_hangs_gets_the_french_503_within_5_seconds() {
    let server = LdapServer::start_own(false);
    let (app, cast) = app_on(&server).await;
    app.signed_in("referent", "Referent-2026").await;
    let csrf = confirm(&app, cast.zoe).await;
    server.freeze(true);
    let asked = std::time::Instant::now();
    let res = post_reset(&app, cast.zoe, &csrf).await;
    let took = asked.elapsed();
    server.freeze(false);
    assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    assert_eq!(res.status(), 503);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Annuaire des comptes indisponible")
    );
    // Nothing was begun: no write was tried.
    assert!(reset_rows(&app).is_empty());
    assert_eq!(pending(&app), 0);
}
