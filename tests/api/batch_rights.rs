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

/// The body of a GET by `client`.
async fn text_of(client: &reqwest::Client, app: &TestApp, path: &str) -> String {
    client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn principal(app: &TestApp) -> (reqwest::Client, String) {
    let principal = app.client_as(crate::helpers::Role::Principal).await;
    (principal.client, principal.csrf)
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
    // The principal is signed in first: only his revocation races the batch.
    let (boss, boss_csrf) = principal(&app).await;
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
    let mine = format!("lot n° {id}, classe 4A");
    assert!(
        rows[revoked_at..]
            .iter()
            .all(|r| !(r.1 == "eleve.reset_password" && r.2 == "success")),
        "no success after the revocation"
    );
    assert!(
        rows[revoked_at..].iter().any(|r| {
            r.1 == "eleve.reset_password"
                && r.2 == "refused"
                && r.3
                    .as_deref()
                    .is_some_and(|d| d.starts_with(&mine) && d.contains("révoquée"))
        }),
        "{:?}",
        &rows[revoked_at..]
    );
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
    let page = text_of(&boss, &app, &format!("/depannage/eleve/lots/{id}")).await;
    assert!(
        page.contains("Lot interrompu : la délégation a été révoquée"),
        "{page}"
    );
    assert!(page.contains("Sophie Lefèvre") && page.contains("Abandonner"));
    let letters = text_of(
        &boss,
        &app,
        &format!("/depannage/eleve/lots/{id}/courriers"),
    )
    .await;
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
    let page = text_of(&boss, &app, &format!("/depannage/eleve/lots/{id}")).await;
    assert!(
        page.contains("le personnel n'est plus rattaché à l'établissement"),
        "{page}"
    );
}

#[tokio::test]
async fn two_simultaneous_submits_for_one_class_make_one_batch() {
    let (app, _, ids) = app_with_class("5D", 3).await;
    app.signed_in("referent", "Referent-2026").await;
    let (csrf, first_key) = form_fields(&app).await;
    let (_, second_key) = form_fields(&app).await;
    let (a, b) = tokio::join!(
        submit(&app, &csrf, &first_key, "5D", &["non_notifie"]),
        submit(&app, &csrf, &second_key, "5D", &["non_notifie"]),
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [303, 409]);
    let winner = if a.status() == 303 { &a } else { &b };
    assert_eq!(settle(&app, batch_id(winner)).await, (3, 3));
    assert_eq!(
        batches::table
            .count()
            .get_result::<i64>(&mut app.conn())
            .unwrap(),
        1
    );
    assert_eq!(untouched(&app, &ids), 0);
}

#[tokio::test]
async fn a_single_reset_takes_the_account_out_of_its_batch() {
    let (app, _, ids) = app_with_class("5E", 2).await;
    app.signed_in("referent", "Referent-2026").await;
    let (csrf, key) = form_fields(&app).await;
    let id = batch_id(&submit(&app, &csrf, &key, "5E", &["non_notifie"]).await);
    assert_eq!(settle(&app, id).await, (2, 2));
    // The letters are not printed yet; a colleague resets the first pupil from his page.
    let res = post(
        &app.client,
        &app,
        &format!("/depannage/eleve/{}/reinitialisation", ids[0]),
        &csrf,
    )
    .await;
    assert_eq!(res.status(), 200);
    let letters = app
        .get(&format!("/depannage/eleve/lots/{id}/courriers"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        passwords(&letters).len(),
        1,
        "the batch no longer prints a dead password"
    );
    let claimed: Vec<bool> = batch_items::table
        .filter(batch_items::batch_id.eq(id))
        .filter(batch_items::account_id.eq(ids[0]))
        .select(batch_items::claimed)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(claimed, [false]);
}

#[tokio::test]
async fn a_running_batch_cannot_be_resumed_or_abandoned_by_someone_else() {
    let (app, _, ids) = app_with_class("4A", 3).await;
    let id = orphan_batch(&app, "referent", &ids, "running-elsewhere-key-1");
    // Another instance works on it (its lease is alive).
    diesel::update(batches::table.filter(batches::id.eq(id)))
        .set((
            batches::lease_owner.eq(Some("instance-b/run")),
            batches::lease_until.eq(Some((t0() + Duration::seconds(10)).naive_utc())),
        ))
        .execute(&mut app.conn())
        .unwrap();
    let (boss, csrf) = principal(&app).await;
    for action in ["reprise", "abandon"] {
        let res = post(
            &boss,
            &app,
            &format!("/depannage/eleve/lots/{id}/{action}"),
            &csrf,
        )
        .await;
        assert_eq!(res.status(), 409, "{action}");
        assert!(res.text().await.unwrap().contains("en cours de traitement"));
    }
    assert_eq!(untouched(&app, &ids), 3);
    let (owner, pending): (Option<String>, i64) = (
        batches::table
            .filter(batches::id.eq(id))
            .select(batches::lease_owner)
            .first(&mut app.conn())
            .unwrap(),
        batch::counts(&mut app.conn(), id).unwrap().pending,
    );
    assert_eq!((owner.as_deref(), pending), (Some("instance-b/run"), 3));
}

#[tokio::test]
async fn a_parents_batch_whose_worker_died_waits_for_a_person_to_pass_the_gate() {
    let (app, _, ids) = app_with_class("4A", 1).await;
    let parent = crate::helpers::add_parent(
        &mut app.conn(),
        "Nadia",
        "Lefèvre",
        None,
        None,
        "non_notifie",
        &[(ids[0], 1)],
    );
    let uai = Uai::parse(COLLEGE).unwrap();
    let id = batch::create(
        &mut app.conn(),
        &NewBatch {
            idempotency_key: "orphan-parents-key-0001",
            kind: "responsables",
            uai: &uai,
            division: "4A",
            states: &[AccountState::NonNotifie],
            created_by: "principal",
            gate: Some("totp"),
            accounts: &[parent],
        },
        t0(),
    )
    .unwrap()
    .id();
    assert_eq!(settle(&app, id).await, (0, 1));
    assert_eq!(interruption(&app, id).as_deref(), Some("gate"));
    let refused = audit_rows(&mut app.conn())
        .into_iter()
        .filter(|r| r.1 == "batch.interrupt" && r.2 == "refused")
        .count();
    assert_eq!(refused, 1);
}

#[tokio::test]
async fn another_schools_batch_holding_a_parent_is_not_revealed() {
    use crate::helpers::LYCEE;
    let app = TestApp::on_admin_network().await;
    seed_staff(&mut app.conn());
    let (young, old) = {
        let mut conn = app.conn();
        (
            add_pupil(&mut conn, COLLEGE, "Lina", "Haddad", "6B", "non_notifie"),
            add_pupil(&mut conn, LYCEE, "Sami", "Haddad", "2NDE7", "non_notifie"),
        )
    };
    let parent = crate::helpers::add_parent(
        &mut app.conn(),
        "Karim",
        "Haddad",
        None,
        None,
        "non_notifie",
        &[(young, 1), (old, 1)],
    );
    // The lycée prepares its parents' letters and has not printed them yet.
    let lycee = Uai::parse(LYCEE).unwrap();
    batch::create(
        &mut app.conn(),
        &NewBatch {
            idempotency_key: "lycee-parents-key-00001",
            kind: "responsables",
            uai: &lycee,
            division: "2NDE7",
            states: &[AccountState::NonNotifie],
            created_by: "principal2",
            gate: Some("network"),
            accounts: &[parent],
        },
        t0(),
    )
    .unwrap();
    app.signed_in("principal", PRINCIPAL_PW).await;
    let form = app
        .get(&format!("/depannage/responsable/classe?uai={COLLEGE}"))
        .await
        .text()
        .await
        .unwrap();
    let (csrf, key) = (
        crate::helpers::hidden_field(&form, "csrf_token"),
        crate::helpers::hidden_field(&form, "cle"),
    );
    let res = app
        .client
        .post(app.url("/depannage/responsable/classe"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("uai", COLLEGE),
            ("division", "6B"),
            ("etat", "non_notifie"),
            ("cle", key.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let page = res.text().await.unwrap();
    assert!(page.contains("d'un autre établissement"), "{page}");
    for secret in ["2NDE7", "N'Guessan", "/lots/", LYCEE, "Lycée"] {
        assert!(!page.contains(secret), "{secret} revealed");
    }
}

#[tokio::test]
async fn a_batch_whose_lease_ran_out_on_another_instance_is_taken_up() {
    let (app, _, ids) = app_with_class("4A", 2).await;
    let id = orphan_batch(&app, "referent", &ids, "expired-lease-key-0001");
    // Another instance's worker died: its lease was not renewed and is over.
    diesel::update(batches::table.filter(batches::id.eq(id)))
        .set((
            batches::lease_owner.eq(Some("instance-b/dead")),
            batches::lease_until.eq(Some((t0() - Duration::seconds(1)).naive_utc())),
        ))
        .execute(&mut app.conn())
        .unwrap();
    assert_eq!(settle(&app, id).await, (2, 2));
    assert_eq!(untouched(&app, &ids), 0);
}

#[tokio::test]
async fn a_batch_key_replayed_by_another_agent_leads_nowhere() {
    let (app, _, _) = app_with_class("5F", 2).await;
    app.signed_in("referent", "Referent-2026").await;
    let (csrf, key) = form_fields(&app).await;
    let first = batch_id(&submit(&app, &csrf, &key, "5F", &["non_notifie"]).await);
    settle(&app, first).await;
    // The principal's session replays the referent's key (another tab, a shared computer).
    let (boss, _) = principal(&app).await;
    let form = text_of(
        &boss,
        &app,
        &format!("/depannage/eleve/classe?uai={COLLEGE}"),
    )
    .await;
    let boss_csrf = crate::helpers::hidden_field(&form, "csrf_token");
    let res = boss
        .post(app.url("/depannage/eleve/classe"))
        .form(&[
            ("csrf_token", boss_csrf.as_str()),
            ("uai", COLLEGE),
            ("division", "5F"),
            ("etat", "notifie"),
            ("renotifier", "oui"),
            ("cle", key.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("Le formulaire a expiré"));
}
