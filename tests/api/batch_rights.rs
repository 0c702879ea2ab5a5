//! Batches are authorised account by account (a revocation stops a running batch), an account
//! belongs to at most one unfinished batch, letters already handed out are not voided by
//! default, and a batch whose worker died is taken up again at once.

use chrono::Duration;
use diesel::prelude::*;
use educt_admin::accounts::batch::{self, Created, NewBatch};
use educt_admin::accounts::{AccountState, pupils};
use educt_admin::db::schema::{batch_items, batches};
use educt_admin::delegation::{Scope, store as delegations};
use educt_admin::domain::Uai;

use crate::batches::{batch_id, form_fields, passwords, settle, submit, submit_with};
use crate::delegations::delegate;
use crate::helpers::{
    COLLEGE, PRINCIPAL_PW, TestApp, add_pupil, audit_rows, seed_staff, t0, test_settings,
};

/// A collège with a referent holding `eleves`, and `n` pupils never notified in `division`.
async fn app_with_class(division: &str, n: usize) -> (TestApp, i64, Vec<i64>) {
    let app = TestApp::spawn().await;
    seed_staff(&mut app.conn());
    let ids = add_class(&app, division, n);
    let delegation = delegate(
        &app,
        "referent",
        COLLEGE,
        Scope::Eleves,
        "2026-11-01",
        "2027-08-31",
    );
    (app, delegation, ids)
}

fn add_class(app: &TestApp, division: &str, n: usize) -> Vec<i64> {
    let mut conn = app.conn();
    (0..n)
        .map(|i| {
            add_pupil(
                &mut conn,
                COLLEGE,
                "Élève",
                &format!("Lot{division}{i}"),
                division,
                "non_notifie",
            )
        })
        .collect()
}

fn interruption(app: &TestApp, id: i64) -> Option<String> {
    batches::table
        .filter(batches::id.eq(id))
        .select(batches::interruption)
        .first(&mut app.conn())
        .unwrap()
}

fn untouched(app: &TestApp, ids: &[i64]) -> usize {
    ids.iter()
        .filter(|i| {
            pupils::password_hash(&mut app.conn(), **i)
                .unwrap()
                .is_none()
        })
        .count()
}

async fn post(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    csrf: &str,
) -> reqwest::Response {
    client
        .post(app.url(path))
        .form(&[("csrf_token", csrf)])
        .send()
        .await
        .unwrap()
}

async fn principal(app: &TestApp) -> (reqwest::Client, String) {
    let client = app.new_client();
    app.sign_in_with(&client, "principal", PRINCIPAL_PW).await;
    let home = client
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::helpers::hidden_field(&home, "csrf_token");
    (client, csrf)
}

/// A batch made in the database for `uid`, with nobody working on it: the job takes it up.
fn orphan_batch(app: &TestApp, uid: &str, accounts: &[i64], key: &str) -> i64 {
    let uai = Uai::parse(COLLEGE).unwrap();
    let created = batch::create(
        &mut app.conn(),
        &NewBatch {
            idempotency_key: key,
            kind: "eleves",
            uai: &uai,
            division: "4A",
            states: &[AccountState::NonNotifie],
            created_by: uid,
            gate: None,
            accounts,
        },
        t0(),
    )
    .unwrap();
    match created {
        Created::New(id) => id,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_revocation_stops_a_running_class_batch_at_the_next_account() {
    let (app, delegation, ids) = app_with_class("4A", 30).await;
    app.signed_in("referent", "Referent-2026").await;
    let (csrf, key) = form_fields(&app).await;
    let id = batch_id(&submit(&app, &csrf, &key, "4A", &["non_notifie"]).await);
    // The principal revokes while the batch runs.
    for _ in 0..2000 {
        if batch::progress(&mut app.conn(), id).unwrap().0 >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let (boss, boss_csrf) = principal(&app).await;
    let res = post(
        &boss,
        &app,
        &format!("/delegations/{delegation}/revocation"),
        &boss_csrf,
    )
    .await;
    assert_eq!(res.status(), 303);
    let (done, total) = settle(&app, id).await;
    assert_eq!(total, 30);
    assert!(done < total, "stopped before the end ({done}/{total})");
    assert_eq!(interruption(&app, id).as_deref(), Some("revoked"));
    assert_eq!(
        untouched(&app, &ids),
        (total - done) as usize,
        "the rest is untouched"
    );
    // No reset after the revocation, and a refused row says why.
    let rows = audit_rows(&mut app.conn());
    let revoked_at = rows
        .iter()
        .position(|r| r.1 == "delegation.revoke")
        .expect("revocation audited");
    let mine = format!("batch {id}");
    assert!(
        rows[revoked_at..]
            .iter()
            .all(|r| !(r.1 == "eleve.reset_password" && r.2 == "success")),
        "no success after the revocation"
    );
    assert!(rows[revoked_at..].iter().any(|r| {
        r.1 == "eleve.reset_password"
            && r.2 == "refused"
            && r.3
                .as_deref()
                .is_some_and(|d| d.starts_with(&mine) && d.contains("révoquée"))
    }));
    // The referent lost the right: the batch and its passwords are out of his reach.
    assert_eq!(
        app.get(&format!("/depannage/eleve/lots/{id}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get(&format!("/depannage/eleve/lots/{id}/courriers"))
            .await
            .status(),
        404
    );
    // The principal sees why, prints what was done, cannot confirm printing yet, resumes.
    let page = boss
        .get(app.url(&format!("/depannage/eleve/lots/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Lot interrompu : la délégation a été révoquée"),
        "{page}"
    );
    assert!(page.contains("Sophie Lefèvre") && page.contains("Abandonner"));
    let letters = boss
        .get(app.url(&format!("/depannage/eleve/lots/{id}/courriers")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(passwords(&letters).len() as i64, done);
    let early = post(
        &boss,
        &app,
        &format!("/depannage/eleve/lots/{id}/impression"),
        &boss_csrf,
    )
    .await;
    assert_eq!(early.status(), 409);
    assert!(
        early
            .text()
            .await
            .unwrap()
            .contains("pas encore reçu de mot de passe")
    );
    let resumed = post(
        &boss,
        &app,
        &format!("/depannage/eleve/lots/{id}/reprise"),
        &boss_csrf,
    )
    .await;
    assert_eq!(resumed.status(), 303);
    assert_eq!(settle(&app, id).await, (30, 30));
    assert_eq!(untouched(&app, &ids), 0);
    let printed = post(
        &boss,
        &app,
        &format!("/depannage/eleve/lots/{id}/impression"),
        &boss_csrf,
    )
    .await;
    assert_eq!(printed.status(), 303);
}

#[tokio::test]
async fn a_batch_taken_up_under_a_revoked_delegation_resets_nobody_and_can_be_abandoned() {
    let (app, delegation, ids) = app_with_class("4A", 4).await;
    delegations::revoke(&mut app.conn(), delegation, "principal", t0()).unwrap();
    // Made when the referent still held the right; its worker died; the job takes it up.
    let id = orphan_batch(&app, "referent", &ids, "orphan-revoked-key-0001");
    assert_eq!(settle(&app, id).await, (0, 4));
    assert_eq!(interruption(&app, id).as_deref(), Some("revoked"));
    assert_eq!(untouched(&app, &ids), 4);
    let (boss, csrf) = principal(&app).await;
    let res = post(
        &boss,
        &app,
        &format!("/depannage/eleve/lots/{id}/abandon"),
        &csrf,
    )
    .await;
    assert_eq!(res.status(), 303);
    let progress = batch::counts(&mut app.conn(), id).unwrap();
    assert_eq!(
        (progress.done, progress.pending, progress.abandoned),
        (0, 0, 4)
    );
    assert_eq!(untouched(&app, &ids), 4);
    // Abandoned accounts are free for another batch.
    app.signed_in("principal", PRINCIPAL_PW).await;
    let (csrf, key) = form_fields(&app).await;
    let res = submit(&app, &csrf, &key, "4A", &["non_notifie"]).await;
    assert_eq!(res.status(), 303);
    let again = batch_id(&res);
    assert_eq!(settle(&app, again).await, (4, 4));
}

#[tokio::test]
async fn two_batches_for_one_class_are_refused_and_the_running_one_is_shown() {
    let (app, _, ids) = app_with_class("5B", 3).await;
    app.signed_in("referent", "Referent-2026").await;
    let (csrf, first_key) = form_fields(&app).await;
    let first = batch_id(&submit(&app, &csrf, &first_key, "5B", &["non_notifie"]).await);
    settle(&app, first).await;
    let hashes: Vec<Option<String>> = ids
        .iter()
        .map(|i| pupils::password_hash(&mut app.conn(), *i).unwrap())
        .collect();
    // A second tab, another key, the same class (accounts now "Notifié", re-notify confirmed).
    let (_, second_key) = form_fields(&app).await;
    let res = submit(&app, &csrf, &second_key, "5B", &["non_notifie", "notifie"]).await;
    assert_eq!(res.status(), 409);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("déjà dans le lot de courriers de la classe 5B"),
        "{page}"
    );
    assert!(page.contains("Sophie Lefèvre") && page.contains(&format!("/lots/{first}")));
    assert_eq!(
        batches::table
            .count()
            .get_result::<i64>(&mut app.conn())
            .unwrap(),
        1
    );
    let after: Vec<Option<String>> = ids
        .iter()
        .map(|i| pupils::password_hash(&mut app.conn(), *i).unwrap())
        .collect();
    assert_eq!(hashes, after, "the first batch's letters still work");
    // Once the first is printed, the accounts are free again.
    let res = post(
        &app.client,
        &app,
        &format!("/depannage/eleve/lots/{first}/impression"),
        &csrf,
    )
    .await;
    assert_eq!(res.status(), 303);
    let (_, third_key) = form_fields(&app).await;
    let res = submit(&app, &csrf, &third_key, "5B", &["notifie"]).await;
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn letters_already_handed_out_are_not_voided_without_an_explicit_choice() {
    let (app, _, ids) = app_with_class("6C", 2).await;
    {
        let mut conn = app.conn();
        add_pupil(&mut conn, COLLEGE, "Déjà", "Notifiée", "6C", "notifie");
    }
    app.signed_in("referent", "Referent-2026").await;
    let form = app
        .get(&format!("/depannage/eleve/classe?uai={COLLEGE}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(form.contains(r#"value="non_notifie" checked"#), "{form}");
    assert!(
        !form.contains(r#"value="notifie" checked"#),
        "Notifié is not ticked by default"
    );
    let (csrf, key) = form_fields(&app).await;
    let res = submit_with(&app, &csrf, &key, "6C", &["non_notifie", "notifie"], false).await;
    assert_eq!(res.status(), 400);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("rendra inutilisables les courriers déjà remis"),
        "{page}"
    );
    assert_eq!(
        batches::table
            .count()
            .get_result::<i64>(&mut app.conn())
            .unwrap(),
        0
    );
    assert_eq!(untouched(&app, &ids), 2);
    let res = submit_with(&app, &csrf, &key, "6C", &["non_notifie", "notifie"], true).await;
    assert_eq!(res.status(), 303);
    assert_eq!(settle(&app, batch_id(&res)).await, (3, 3));
}

#[tokio::test]
async fn a_batch_whose_worker_died_is_taken_up_and_printing_waits_for_every_account() {
    let db = crate::helpers::TestDb::migrated();
    let mut settings = test_settings(&db);
    settings.server.instance_id = Some("instance-a".into());
    let app = TestApp::builder()
        .db(db)
        .settings(|s| *s = settings.clone())
        .start()
        .await;
    seed_staff(&mut app.conn());
    delegate(
        &app,
        "referent",
        COLLEGE,
        Scope::Eleves,
        "2026-11-01",
        "2027-08-31",
    );
    let ids = add_class(&app, "4A", 3);
    // This instance's former process held the lease when it was killed (-9): far in the
    // future, so nobody else would take it for a while.
    let id = orphan_batch(&app, "referent", &ids, "orphan-crash-key-00001");
    diesel::update(batches::table.filter(batches::id.eq(id)))
        .set((
            batches::lease_owner.eq(Some("instance-a/dead-process")),
            batches::lease_until.eq(Some((t0() + Duration::hours(1)).naive_utc())),
        ))
        .execute(&mut app.conn())
        .unwrap();
    // While it is held, printing cannot be confirmed.
    app.signed_in("referent", "Referent-2026").await;
    let csrf = app.session_csrf().await;
    let page = app
        .get(&format!("/depannage/eleve/lots/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains("J'ai imprimé"), "{page}");
    let res = post(
        &app.client,
        &app,
        &format!("/depannage/eleve/lots/{id}/impression"),
        &csrf,
    )
    .await;
    assert_eq!(res.status(), 409);
    // The instance restarts: it gives its former leases back, and its job takes the batch up.
    app.stop().await;
    let TestApp { test_db, .. } = app;
    let app = TestApp::builder()
        .db(test_db)
        .settings(|s| *s = settings)
        .start()
        .await;
    assert_eq!(settle(&app, id).await, (3, 3));
    let audited = audit_rows(&mut app.conn())
        .into_iter()
        .filter(|r| r.1 == "eleve.reset_password" && r.2 == "success")
        .count();
    assert_eq!(audited, 3);
    let items: Vec<String> = batch_items::table
        .filter(batch_items::batch_id.eq(id))
        .select(batch_items::status)
        .load(&mut app.conn())
        .unwrap();
    assert!(items.iter().all(|s| s == "done"));
}

#[tokio::test]
async fn a_delegate_detached_from_the_school_stops_his_batch_at_the_next_account() {
    use educt_admin::db::schema::{agent_uais, agents};
    let (app, _, ids) = app_with_class("4A", 3).await;
    // The directory no longer attaches the referent to the collège; his delegation stands.
    let agent: i64 = agents::table
        .filter(agents::uid.eq("referent"))
        .select(agents::id)
        .first(&mut app.conn())
        .unwrap();
    diesel::delete(agent_uais::table.filter(agent_uais::agent_id.eq(agent)))
        .execute(&mut app.conn())
        .unwrap();
    let id = orphan_batch(&app, "referent", &ids, "orphan-detached-key-01");
    assert_eq!(settle(&app, id).await, (0, 3));
    assert_eq!(interruption(&app, id).as_deref(), Some("detached"));
    assert_eq!(untouched(&app, &ids), 3);
    let (boss, _) = principal(&app).await;
    let page = boss
        .get(app.url(&format!("/depannage/eleve/lots/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("le personnel n'est plus rattaché à l'établissement"),
        "{page}"
    );
}
