//! Letters for a whole division: one batch per submit, crash-safe, passwords kept sealed
//! until printed (24 hours at most).

use chrono::Duration;
use diesel::prelude::*;
use educt_admin::accounts::{batch, pupils};
use educt_admin::auth::password::verify_password;
use educt_admin::db::schema::{batch_items, batches};
use secrecy::SecretString;

use educt_admin::clock::Clock;
use educt_admin::jobs::lease;
use educt_admin::usecases::housekeeping::{self, JOB};
use educt_admin::usecases::sessions::Timeouts;

use crate::helpers::{COLLEGE, TestApp, add_pupil, audit_rows, hidden_field, t0, test_key};
use crate::pupils::app_with_pupils;

pub async fn form_fields(app: &TestApp) -> (String, String) {
    let page = app
        .get(&format!("/depannage/eleve/classe?uai={COLLEGE}"))
        .await
        .text()
        .await
        .unwrap();
    (
        hidden_field(&page, "csrf_token"),
        hidden_field(&page, "cle"),
    )
}

/// Submits the class form; re-notifying accounts already notified is confirmed whenever
/// such a state is ticked (the refusal without it is tested in `batch_rights`).
pub async fn submit(
    app: &TestApp,
    csrf: &str,
    key: &str,
    division: &str,
    states: &[&str],
) -> reqwest::Response {
    let renotify = states.iter().any(|s| *s != "non_notifie");
    submit_with(app, csrf, key, division, states, renotify).await
}

pub async fn submit_with(
    app: &TestApp,
    csrf: &str,
    key: &str,
    division: &str,
    states: &[&str],
    renotify: bool,
) -> reqwest::Response {
    let mut form = vec![
        ("csrf_token", csrf),
        ("uai", COLLEGE),
        ("division", division),
        ("cle", key),
    ];
    for s in states {
        form.push(("etat", s));
    }
    if renotify {
        form.push(("renotifier", "oui"));
    }
    app.client
        .post(app.url("/depannage/eleve/classe"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Waits until the batch's work is over — every item done, or the runner stopped on an
/// error or a rights check — and nobody holds it; returns (done, total).
pub async fn settle(app: &TestApp, id: i64) -> (i64, i64) {
    for _ in 0..500 {
        let mut conn = app.conn();
        let (leased, error, interruption): (Option<String>, Option<String>, Option<String>) =
            batches::table
                .filter(batches::id.eq(id))
                .select((
                    batches::lease_owner,
                    batches::last_error,
                    batches::interruption,
                ))
                .first(&mut conn)
                .unwrap();
        let (done, total) = batch::progress(&mut conn, id).unwrap();
        if leased.is_none() && (done == total || error.is_some() || interruption.is_some()) {
            return (done, total);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("batch {id} never settled");
}

pub fn batch_id(res: &reqwest::Response) -> i64 {
    res.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// (pupil id, password) read from the letters document.
pub fn passwords(letters: &str) -> Vec<(String, String)> {
    crate::helpers::Page::parse(letters)
        .definitions_in("article.letter")
        .into_iter()
        .map(|mut letter| {
            let ident = letter.remove("Identifiant").unwrap();
            let pw = letter.remove("Mot de passe provisoire").unwrap();
            (ident, pw.replace(' ', ""))
        })
        .collect()
}

fn check_one_valid_password_each(
    app: &TestApp,
    division: &str,
    letters: &[(String, String)],
    except: &[&str],
) {
    let mut conn = app.conn();
    let uai = educt_admin::domain::Uai::parse(COLLEGE).unwrap();
    for p in pupils::of_division(&mut conn, &uai, division)
        .unwrap()
        .into_iter()
        .filter(|p| !except.contains(&p.identifiant.as_str()))
    {
        let mine: Vec<&(String, String)> = letters
            .iter()
            .filter(|(i, _)| i == p.identifiant.as_str())
            .collect();
        assert_eq!(mine.len(), 1, "one letter for {}", p.identifiant);
        let hash = pupils::password_hash(&mut conn, p.id).unwrap().unwrap();
        assert!(
            verify_password(&SecretString::from(mine[0].1.clone()), &hash).unwrap(),
            "{}",
            p.identifiant
        );
        assert_eq!(p.state.as_str(), "notifie");
    }
}

#[tokio::test]
async fn a_division_gets_one_batch_one_letter_each_and_the_passwords_are_wiped_once_printed() {
    let (app, _) = app_with_pupils().await;
    {
        let mut conn = app.conn();
        for i in 0..6 {
            add_pupil(
                &mut conn,
                COLLEGE,
                "Élève",
                &format!("Classe{i}"),
                "5B",
                if i == 5 { "active" } else { "non_notifie" },
            );
        }
    }
    app.signed_in("referent", "Referent-2026").await;
    let (csrf, key) = form_fields(&app).await;
    let res = submit(&app, &csrf, &key, "5B", &["non_notifie", "notifie"]).await;
    assert_eq!(res.status(), 303);
    let id = batch_id(&res);
    // A double submit of the same form: the same batch, nothing reset twice.
    let again = submit(&app, &csrf, &key, "5B", &["non_notifie", "notifie"]).await;
    assert_eq!(batch_id(&again), id);
    assert_eq!(
        batches::table
            .count()
            .get_result::<i64>(&mut app.conn())
            .unwrap(),
        1
    );
    assert_eq!(
        settle(&app, id).await,
        (5, 5),
        "the activated account is not in the batch"
    );
    let page = app.get(&format!("/depannage/eleve/lots/{id}")).await;
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(page.text().await.unwrap().contains("5 / 5"));
    let letters = app
        .get(&format!("/depannage/eleve/lots/{id}/courriers"))
        .await
        .text()
        .await
        .unwrap();
    let found = passwords(&letters);
    assert_eq!(found.len(), 5);
    // The sixth pupil (e.classe6: surnames lose their digits) is activated, so not in the batch.
    check_one_valid_password_each(&app, "5B", &found, &["e.classe6"]);
    // Printed again: the same passwords.
    let again = passwords(
        &app.get(&format!("/depannage/eleve/lots/{id}/courriers"))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(again, found);
    let resets = audit_rows(&mut app.conn())
        .into_iter()
        .filter(|r| {
            r.1 == "eleve.reset_password"
                && r.3
                    .as_deref()
                    .is_some_and(|d| d == format!("lot n° {id}, classe 5B"))
        })
        .count();
    assert_eq!(resets, 5, "each reset audited with the batch id");
    let sealed: Vec<Option<String>> = batch_items::table
        .select(batch_items::sealed_password)
        .load(&mut app.conn())
        .unwrap();
    assert!(
        sealed
            .iter()
            .flatten()
            .all(|s| found.iter().all(|(_, p)| !s.contains(p.as_str()))),
        "sealed, not clear"
    );
    // Confirmed printed: wiped.
    let confirm = app
        .client
        .post(app.url(&format!("/depannage/eleve/lots/{id}/impression")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), 303);
    assert!(
        batch_items::table
            .select(batch_items::sealed_password)
            .load::<Option<String>>(&mut app.conn())
            .unwrap()
            .iter()
            .all(Option::is_none)
    );
    assert_eq!(
        app.get(&format!("/depannage/eleve/lots/{id}/courriers"))
            .await
            .status(),
        409
    );
}

#[tokio::test]
async fn an_interrupted_batch_resumes_without_resetting_the_done_pupils_again() {
    let (app, _) = app_with_pupils().await;
    let ids: Vec<i64> = {
        let mut conn = app.conn();
        (0..6)
            .map(|i| {
                add_pupil(
                    &mut conn,
                    COLLEGE,
                    "Élève",
                    &format!("Reprise{i}"),
                    "5C",
                    "non_notifie",
                )
            })
            .collect()
    };
    // The database refuses to store the 4th pupil's password: the batch stops after 3.
    let fail = ids[3];
    let mut conn = app.conn();
    let (create, drop_trigger) = match &conn {
        educt_admin::db::DbConnection::Sqlite(_) => (
            format!(
                "CREATE TRIGGER fail_reset BEFORE UPDATE OF password_hash ON pupils WHEN NEW.id = {fail} BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
            ),
            "DROP TRIGGER fail_reset".to_owned(),
        ),
        educt_admin::db::DbConnection::Postgresql(_) => {
            diesel::sql_query("CREATE FUNCTION fail_reset() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$ LANGUAGE plpgsql")
                .execute(&mut conn)
                .unwrap();
            (
                format!(
                    "CREATE TRIGGER fail_reset BEFORE UPDATE OF password_hash ON pupils FOR EACH ROW WHEN (NEW.id = {fail}) EXECUTE FUNCTION fail_reset()"
                ),
                "DROP TRIGGER fail_reset ON pupils".to_owned(),
            )
        }
    };
    diesel::sql_query(create).execute(&mut conn).unwrap();
    app.signed_in("referent", "Referent-2026").await;
    let (csrf, key) = form_fields(&app).await;
    let id = batch_id(&submit(&app, &csrf, &key, "5C", &["non_notifie"]).await);
    assert_eq!(settle(&app, id).await, (3, 6));
    let page = app
        .get(&format!("/depannage/eleve/lots/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("3 / 6") && page.contains("Reprendre") && page.contains("interrompue"));
    let hashes_before: Vec<Option<String>> = ids[..3]
        .iter()
        .map(|i| pupils::password_hash(&mut app.conn(), *i).unwrap())
        .collect();
    assert!(
        pupils::password_hash(&mut app.conn(), fail)
            .unwrap()
            .is_none(),
        "the failed pupil is untouched"
    );
    // Repaired; resumed.
    diesel::sql_query(drop_trigger).execute(&mut conn).unwrap();
    let res = app
        .client
        .post(app.url(&format!("/depannage/eleve/lots/{id}/reprise")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(settle(&app, id).await, (6, 6));
    let hashes_after: Vec<Option<String>> = ids[..3]
        .iter()
        .map(|i| pupils::password_hash(&mut app.conn(), *i).unwrap())
        .collect();
    assert_eq!(
        hashes_before, hashes_after,
        "done pupils were not reset again"
    );
    let letters = passwords(
        &app.get(&format!("/depannage/eleve/lots/{id}/courriers"))
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(letters.len(), 6);
    check_one_valid_password_each(&app, "5C", &letters, &[]);
}

#[tokio::test]
async fn passwords_are_wiped_after_24_hours_and_batches_are_their_creators() {
    let (app, _) = app_with_pupils().await;
    app.signed_in("referent", "Referent-2026").await;
    let (csrf, key) = form_fields(&app).await;
    let id = batch_id(&submit(&app, &csrf, &key, "3A", &["non_notifie"]).await);
    settle(&app, id).await;
    // The principal holds every right there: he may see it. A colleague attached without a
    // delegation: 404. Another delegate with the right, but not his batch: 403. The lycée: 404.
    let principal = app.new_client();
    app.sign_in_with(&principal, "principal", crate::helpers::PRINCIPAL_PW)
        .await;
    assert_eq!(
        principal
            .get(app.url(&format!("/depannage/eleve/lots/{id}/courriers")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let teacher = app.new_client();
    app.sign_in_with(&teacher, "enseignant", "Enseignant-2026")
        .await;
    assert_eq!(
        teacher
            .get(app.url(&format!("/depannage/eleve/lots/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    crate::delegations::delegate(
        &app,
        "enseignant",
        COLLEGE,
        educt_admin::delegation::Scope::Eleves,
        "2026-11-01",
        "2027-08-31",
    );
    assert_eq!(
        teacher
            .get(app.url(&format!("/depannage/eleve/lots/{id}/courriers")))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let lycee = app.new_client();
    app.sign_in_with(&lycee, "lyc", "Lycee-2026-lyc").await;
    assert_eq!(
        lycee
            .get(app.url(&format!("/depannage/eleve/lots/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        app.get(&format!("/depannage/eleve/lots/{id}/courriers"))
            .await
            .status(),
        200
    );
    // Another instance holds the housekeeping lease: this app's job leaves the wipe to it.
    let other = "autre-instance/1";
    let far = Duration::days(10);
    assert!(lease::acquire(&mut app.conn(), JOB, other, t0() + Duration::days(1), far).unwrap());
    app.clock.advance(Duration::hours(24));
    app.signed_in("referent", "Referent-2026").await;
    assert_eq!(
        app.get(&format!("/depannage/eleve/lots/{id}/courriers"))
            .await
            .status(),
        409
    );
    // The page view no longer wipes: the housekeeping job does.
    let sealed = || {
        batch_items::table
            .select(batch_items::sealed_password)
            .load::<Option<String>>(&mut app.conn())
            .unwrap()
    };
    assert!(sealed().iter().any(Option::is_some));
    let timeouts = Timeouts::of(&app.settings.session);
    let now = app.clock.now();
    let swept = housekeeping::run_once(&mut app.conn(), &test_key(), other, now, timeouts);
    assert_eq!(swept.unwrap().unwrap().batches_wiped, 1);
    assert!(sealed().iter().all(Option::is_none));
}

#[tokio::test]
async fn class_form_refusals_explain_themselves() {
    let (app, _) = app_with_pupils().await;
    app.signed_in("referent", "Referent-2026").await;
    let (csrf, key) = form_fields(&app).await;
    for (division, states, key, message) in [
        (
            "9Z",
            vec!["non_notifie"],
            key.as_str(),
            "Choisissez une classe",
        ),
        ("3A", vec![], key.as_str(), "Cochez au moins un état"),
        (
            "3A",
            vec!["bloque"],
            key.as_str(),
            "Cochez au moins un état",
        ),
        ("3A", vec!["non_notifie"], "short", "rechargez la page"),
        (
            "4A",
            vec!["non_notifie"],
            key.as_str(),
            "Aucun élève de cette classe",
        ),
    ] {
        let res = submit(&app, &csrf, key, division, &states).await;
        assert_eq!(res.status(), 400, "{message}");
        assert!(res.text().await.unwrap().contains(message), "{message}");
    }
    assert_eq!(
        batches::table
            .count()
            .get_result::<i64>(&mut app.conn())
            .unwrap(),
        0
    );
}
