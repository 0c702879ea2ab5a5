//! Hole 2 of issue 10: an import never takes another establishment's pupil. A row whose INE
//! belongs to a pupil of another establishment is a transfer: refused when the surname or
//! the birth date differ, a move when he has left, else a pending transfer that his
//! establishment's departure or principal completes; every step in both journals.

use chrono::NaiveDate;
use diesel::prelude::*;
use educt_admin::db::DbConnection;
use educt_admin::db::schema::{audit_events, batch_items, batches, pupils};
use reqwest::multipart::{Form, Part};

use crate::delegations::delegate;
use crate::helpers::{
    COLLEGE, LYCEE, PRINCIPAL_PW, TestApp, add_parent, add_pupil, hidden_field, seed_staff,
};

const INE: &str = "123456789AB";

/// Zoë Lefèvre, pupil of the lycée with an INE and a parent; returns (pupil, parent).
fn lycee_pupil(conn: &mut DbConnection) -> (i64, i64) {
    let id = add_pupil(conn, LYCEE, "Zoë", "Lefèvre", "2NDE1", "active");
    diesel::update(pupils::table.filter(pupils::id.eq(id)))
        .set((pupils::ine.eq(INE), pupils::siecle_id.eq("L-77")))
        .execute(conn)
        .unwrap();
    let parent = add_parent(
        conn,
        "Nathalie",
        "Lefèvre",
        Some("n.lefevre@exemple.fr"),
        None,
        "active",
        &[(id, 1)],
    );
    (id, parent)
}

/// (uai, last name, first name, departure) of pupil `id`.
fn pupil(conn: &mut DbConnection, id: i64) -> (String, String, String, Option<NaiveDate>) {
    pupils::table
        .filter(pupils::id.eq(id))
        .select((
            pupils::uai,
            pupils::last_name,
            pupils::first_name,
            pupils::departure_date,
        ))
        .first(conn)
        .unwrap()
}

/// Audit rows about transfers, per UAI: (uai, action, outcome).
fn transfer_rows(conn: &mut DbConnection) -> Vec<(Option<String>, String, String)> {
    audit_events::table
        .filter(audit_events::action.like("%transfert%"))
        .order(audit_events::seq)
        .select((
            audit_events::uai,
            audit_events::action,
            audit_events::outcome,
        ))
        .load(conn)
        .unwrap()
}

/// An unfinished class batch of the lycée holding `pupil`; returns its id.
fn lycee_batch_with(conn: &mut DbConnection, pupil: i64) -> i64 {
    let at = crate::helpers::t0().naive_utc();
    let id: i64 = diesel::insert_into(batches::table)
        .values((
            batches::idempotency_key.eq("k-transfer"),
            batches::kind.eq("eleves"),
            batches::uai.eq(LYCEE),
            batches::division.eq("2NDE1"),
            batches::states.eq("active"),
            batches::created_by.eq("principal2"),
            batches::created_at.eq(at),
        ))
        .returning(batches::id)
        .get_result(conn)
        .unwrap();
    diesel::insert_into(batch_items::table)
        .values((
            batch_items::batch_id.eq(id),
            batch_items::account_kind.eq("eleves"),
            batch_items::account_id.eq(pupil),
            batch_items::position.eq(0),
            batch_items::status.eq("pending"),
        ))
        .execute(conn)
        .unwrap();
    id
}

fn csv_form(csrf: &str, csv: &str, dry_run: bool) -> Form {
    let mut f = Form::new()
        .text("csrf_token", csrf.to_owned())
        .text("uai", COLLEGE)
        .text("format", "csv")
        .text("annee", "2026")
        .part(
            "eleves",
            Part::bytes(csv.as_bytes().to_vec()).file_name("eleves.csv"),
        );
    if dry_run {
        f = f.text("dry_run", "1");
    }
    f
}

async fn import_csv(app: &TestApp, csrf: &str, csv: &str, dry_run: bool) -> (u16, String) {
    let res = app
        .client
        .post(app.url("/import"))
        .multipart(csv_form(csrf, csv, dry_run))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn an_import_with_only_the_ine_of_another_schools_pupil_neither_moves_nor_exposes_him() {
    let app = TestApp::spawn().await;
    seed_staff(&mut app.conn());
    let (zoe, parent) = lycee_pupil(&mut app.conn());
    let before = pupil(&mut app.conn(), zoe);
    app.signed_in("principal", PRINCIPAL_PW).await;
    let csrf = app.session_csrf().await;
    let (status, body) = import_csv(
        &app,
        &csrf,
        &format!("id;ine;nom;prenom;date_naissance\n9;{INE};Inventé;Jean;01/01/2011\n"),
        false,
    )
    .await;
    assert_eq!(status, 200, "{body:.3000}");
    assert!(
        body.contains("INE déjà attribué à un élève d'un autre établissement"),
        "{body:.3000}"
    );
    assert!(!body.contains("Lefèvre"), "the other pupil is not named");
    assert_eq!(
        pupil(&mut app.conn(), zoe),
        before,
        "not moved, not renamed"
    );
    assert_eq!(
        app.get(&format!("/depannage/eleve/{zoe}")).await.status(),
        404
    );
    assert_eq!(
        app.get(&format!("/depannage/responsable/{parent}"))
            .await
            .status(),
        404
    );
    let rows = transfer_rows(&mut app.conn());
    for uai in [COLLEGE, LYCEE] {
        assert!(
            rows.iter()
                .any(|r| r.0.as_deref() == Some(uai) && r.2 == "refused"),
            "{uai} journal: {rows:?}"
        );
    }
}

#[tokio::test]
async fn a_current_pupil_waits_for_his_principal_who_alone_accepts_the_transfer() {
    let app = TestApp::spawn().await;
    seed_staff(&mut app.conn());
    let (zoe, parent) = lycee_pupil(&mut app.conn());
    app.signed_in("principal", PRINCIPAL_PW).await;
    let csrf = app.session_csrf().await;
    let row =
        format!("id;ine;nom;prenom;date_naissance;division\n9;{INE};LEFEVRE;Zoé;14/05/2012;3A\n");
    // The dry run lists the pending transfer and writes nothing.
    let (status, body) = import_csv(&app, &csrf, &row, true).await;
    assert_eq!(status, 200, "{body:.3000}");
    assert!(body.contains("Transfert en attente"), "{body:.3000}");
    assert!(transfer_rows(&mut app.conn()).is_empty());
    let (status, body) = import_csv(&app, &csrf, &row, false).await;
    assert_eq!(status, 200);
    assert!(body.contains("Transfert en attente"), "{body:.3000}");
    let held = pupil(&mut app.conn(), zoe);
    assert_eq!(held.0, LYCEE, "nothing moves before the lycée agrees");
    assert_eq!(held.1, "Lefèvre");
    for path in [
        format!("/depannage/eleve/{zoe}"),
        format!("/depannage/responsable/{parent}"),
    ] {
        assert_eq!(app.get(&path).await.status(), 404, "{path}");
    }
    // A second import of the same file is still pending, and adds no transfer row.
    let rows_before = transfer_rows(&mut app.conn()).len();
    import_csv(&app, &csrf, &row, false).await;
    assert_eq!(transfer_rows(&mut app.conn()).len(), rows_before);

    // The collège's principal sees his request, not an acceptance button; he cannot accept.
    let page = app.get(&format!("/transferts?uai={COLLEGE}")).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Lycée Ampère") && !page.contains("Accepter le transfert"));
    let id: i64 = educt_admin::db::schema::pending_transfers::table
        .select(educt_admin::db::schema::pending_transfers::id)
        .first(&mut app.conn())
        .unwrap();
    let accept = format!("/transferts/{id}/acceptation");
    assert_eq!(
        app.client
            .post(app.url(&accept))
            .form(&[("csrf_token", csrf.as_str())])
            .send()
            .await
            .unwrap()
            .status(),
        404,
        "the destination has nothing on the origin"
    );
    assert_eq!(
        app.get(&format!("/transferts?uai={LYCEE}")).await.status(),
        404
    );

    // The lycée's principal: the list, then the acceptance (CSRF checked).
    let lycee = app.new_client();
    app.sign_in_with(&lycee, "principal2", "Proviseur-2026")
        .await;
    let page = lycee
        .get(app.url(&format!("/transferts?uai={LYCEE}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Zoë Lefèvre") && page.contains("Collège Jean Moulin"),
        "{page:.3000}"
    );
    let lcsrf = hidden_field(&page, "csrf_token");
    let res = lycee
        .post(app.url(&accept))
        .form(&[("csrf_token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(pupil(&mut app.conn(), zoe).0, LYCEE);
    // An unfinished letter batch of the lycée holds him: it must not reset him once gone.
    let batch = lycee_batch_with(&mut app.conn(), zoe);
    // A stale page whose request number now names another pupil accepts nothing.
    let res = lycee
        .post(app.url(&accept))
        .form(&[("csrf_token", lcsrf.as_str()), ("eleve", "999999")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("a changé depuis l'affichage")
    );
    assert_eq!(pupil(&mut app.conn(), zoe).0, LYCEE);
    let zoe_id = zoe.to_string();
    let res = lycee
        .post(app.url(&accept))
        .form(&[("csrf_token", lcsrf.as_str()), ("eleve", zoe_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let left_in_batch: i64 = batch_items::table
        .filter(batch_items::batch_id.eq(batch))
        .filter(batch_items::account_id.eq(zoe))
        .filter(
            batch_items::status
                .eq("pending")
                .or(batch_items::claimed.eq(true)),
        )
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(left_in_batch, 0, "he left his former school's batch");
    let moved = pupil(&mut app.conn(), zoe);
    assert_eq!(
        (moved.0.as_str(), moved.1.as_str(), moved.2.as_str()),
        (COLLEGE, "LEFEVRE", "Zoé")
    );
    assert_eq!(
        app.get(&format!("/depannage/eleve/{zoe}")).await.status(),
        200,
        "his new establishment reaches him now"
    );
    // Accepting twice: 404 (the transfer is gone).
    let res = lycee
        .post(app.url(&accept))
        .form(&[("csrf_token", lcsrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let rows = transfer_rows(&mut app.conn());
    for (action, uai) in [
        ("import.transfert.attente", COLLEGE),
        ("import.transfert.attente", LYCEE),
        ("transfert.acceptation", COLLEGE),
        ("transfert.acceptation", LYCEE),
    ] {
        assert!(
            rows.iter()
                .any(|r| r.1 == action && r.0.as_deref() == Some(uai) && r.2 == "success"),
            "{action} in {uai}: {rows:?}"
        );
    }
    educt_admin::audit::verify_chain(&mut app.conn(), &crate::helpers::test_key()).unwrap();
}

#[tokio::test]
async fn a_delegate_of_the_origin_cannot_accept_and_a_departed_pupil_moves_at_once() {
    let app = TestApp::spawn().await;
    seed_staff(&mut app.conn());
    let (zoe, _) = lycee_pupil(&mut app.conn());
    crate::helpers::add_agent(
        &mut app.conn(),
        "lyc",
        "Paul Lycée",
        "Lycee-2026-lyc",
        &[LYCEE],
        &[],
    );
    delegate(
        &app,
        "lyc",
        LYCEE,
        educt_admin::delegation::Scope::Eleves,
        "2026-11-01",
        "2027-08-31",
    );
    app.signed_in("principal", PRINCIPAL_PW).await;
    let csrf = app.session_csrf().await;
    let row = format!("id;ine;nom;prenom;date_naissance\n9;{INE};Lefèvre;Zoë;14/05/2012\n");
    import_csv(&app, &csrf, &row, false).await;
    let delegate_client = app.new_client();
    app.sign_in_with(&delegate_client, "lyc", "Lycee-2026-lyc")
        .await;
    assert_eq!(
        delegate_client
            .get(app.url(&format!("/transferts?uai={LYCEE}")))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(pupil(&mut app.conn(), zoe).0, LYCEE);

    // Once the lycée has recorded his departure, the collège's import moves him at once and
    // his account comes back to life with its identifiant.
    diesel::update(pupils::table.filter(pupils::id.eq(zoe)))
        .set((
            pupils::departure_date.eq(NaiveDate::from_ymd_opt(2026, 11, 1)),
            pupils::state.eq("desactive"),
            pupils::previous_state.eq(Some("active")),
        ))
        .execute(&mut app.conn())
        .unwrap();
    diesel::delete(educt_admin::db::schema::pending_transfers::table)
        .execute(&mut app.conn())
        .unwrap();
    let (status, body) = import_csv(&app, &csrf, &row, false).await;
    assert_eq!(status, 200);
    assert!(body.contains("arrive de Lycée Ampère"), "{body:.3000}");
    let (uai, state, departure): (String, String, Option<NaiveDate>) = pupils::table
        .filter(pupils::id.eq(zoe))
        .select((pupils::uai, pupils::state, pupils::departure_date))
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(
        (uai.as_str(), state.as_str(), departure),
        (COLLEGE, "active", None)
    );
    let rows = transfer_rows(&mut app.conn());
    for uai in [COLLEGE, LYCEE] {
        assert!(
            rows.iter().any(|r| r.1 == "import.transfert"
                && r.0.as_deref() == Some(uai)
                && r.2 == "success"),
            "{uai}: {rows:?}"
        );
    }
}
