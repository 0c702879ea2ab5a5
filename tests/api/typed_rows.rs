//! Typed rows (issue 11 step 4): records decode straight into domain types, so a stored
//! value that does not decode (written here with raw SQL: no version of ours writes it)
//! fails the read with a deserialisation error. The row is never hidden ("no such pupil"),
//! dropped from a list, or read back as `None`. Runs on SQLite and PostgreSQL like the rest.
//!
//! Where the schema itself refuses the value (a `CHECK` on states, scopes, roles, batch
//! kinds), the test lifts that check first ([`lift_check`]), as for a row written before
//! the constraint or by hand; most columns (UAIs, previous states, divisions, a batch's
//! states, an audit outcome, a session's UAIs) have no such check.

use std::fmt::Debug;

use diesel::prelude::*;
use diesel::result::Error as DieselError;
use educt_admin::accounts::batch::{self, NewBatch};
use educt_admin::accounts::parents::{self, Child, Parent};
use educt_admin::accounts::pupils::{self, Pupil, Search};
use educt_admin::accounts::store::{AccountRef, AccountStore, SqlAccountStore, StoreError};
use educt_admin::accounts::{AccountKind, AccountState};
use educt_admin::audit::{self, AuditAction, AuditEvent, Outcome, VerifyError};
use educt_admin::auth::session;
use educt_admin::db::DbConnection;
use educt_admin::delegation::store::{self as delegations, NewDelegation};
use educt_admin::delegation::{Delegation, Scope};
use educt_admin::directory::local::load_agent;
use educt_admin::domain::{
    Agent, BatchId, DelegationId, Division, Identifiant, Ine, ParentId, PupilId, Uai,
};

use crate::helpers::{
    COLLEGE, Role, TestApp, TestDb, add_agent, add_establishment, add_parent, add_pupil,
    seed_staff, t0, test_key,
};

fn raw(conn: &mut DbConnection, sql: &str) {
    let changed = diesel::sql_query(sql).execute(conn).unwrap();
    assert_eq!(changed, 1, "{sql}");
}

/// `UPDATE table SET assignments WHERE id = id`, one row.
fn set(conn: &mut DbConnection, table: &str, id: i64, assignments: &str) {
    raw(
        conn,
        &format!("UPDATE {table} SET {assignments} WHERE id = {id}"),
    );
}

/// Lets `conn` store what the `CHECK` of `table.column` refuses: SQLite ignores the checks
/// on this connection; PostgreSQL drops that constraint in this test's own database.
fn lift_check(conn: &mut DbConnection, table: &str, column: &str) {
    let sql = match conn.backend_name() {
        "sqlite" => "PRAGMA ignore_check_constraints = ON".to_owned(),
        _ => format!("ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_check"),
    };
    diesel::sql_query(sql).execute(conn).unwrap();
}

/// A migrated database with the collège, and a connection to it.
fn database() -> (TestDb, DbConnection) {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    add_establishment(&mut conn, COLLEGE, "Collège Jean Moulin");
    (db, conn)
}

/// The read failed as a stored value that does not decode; its message.
fn undecodable<T: Debug>(read: QueryResult<T>) -> String {
    match read {
        Err(DieselError::DeserializationError(e)) => e.to_string(),
        other => panic!("expected a deserialisation error, got {other:?}"),
    }
}

fn college() -> Uai {
    Uai::parse(COLLEGE).unwrap()
}

fn everyone() -> Search {
    Search::default()
}

#[test]
fn a_pupil_whose_stored_uai_is_bad_is_an_error_not_a_missing_pupil() {
    let (_db, conn) = &mut database();
    let id = add_pupil(conn, COLLEGE, "Zoë", "Lefèvre", "5B", "active");
    let pupil: Pupil = pupils::find(conn, id).unwrap().unwrap();
    assert_eq!(pupil.uai, college());

    // `pupils.uai` references `establishments`, whose UAI is free text.
    add_establishment(conn, "0691234T", "Mauvaise lettre de contrôle");
    set(conn, "pupils", id, "uai = '0691234T'");
    assert!(undecodable(pupils::find(conn, id)).contains("UAI"));
}

#[test]
fn an_unknown_state_fails_the_page_the_search_the_class_and_the_counts() {
    let (_db, conn) = &mut database();
    let id = add_pupil(conn, COLLEGE, "Zoë", "Lefèvre", "5B", "active");
    add_pupil(conn, COLLEGE, "Tom", "Lefèvre", "5B", "active");
    assert_eq!(
        pupils::search(conn, &college(), &everyone(), 0, 50)
            .unwrap()
            .1,
        2
    );

    lift_check(conn, "pupils", "state");
    set(conn, "pupils", id, "state = 'gele'");
    assert!(undecodable(pupils::find(conn, id)).contains("\"gele\""));
    // Not a page of one pupil, nor a class without him, nor counts that skip him.
    undecodable(pupils::search(conn, &college(), &everyone(), 0, 50));
    undecodable(pupils::of_division(conn, &college(), "5B"));
    undecodable(pupils::counts(conn, &college()));
    let status = SqlAccountStore.status(conn, AccountRef::pupil(id.into()), t0());
    assert!(
        matches!(
            status,
            Err(StoreError::Db(DieselError::DeserializationError(_)))
        ),
        "{status:?}"
    );
}

#[test]
fn an_unknown_previous_state_is_an_error_not_none() {
    let (_db, conn) = &mut database();
    let id = add_pupil(conn, COLLEGE, "Zoë", "Lefèvre", "5B", "desactive");
    assert_eq!(
        pupils::find(conn, id).unwrap().unwrap().previous_state,
        None
    );

    set(conn, "pupils", id, "previous_state = 'perdu'");
    undecodable(pupils::find(conn, id));
    let status = SqlAccountStore.status(conn, AccountRef::pupil(id.into()), t0());
    assert!(matches!(status, Err(StoreError::Db(_))), "{status:?}");
}

#[test]
fn a_parent_whose_state_identifiant_or_child_does_not_decode_is_an_error() {
    let (_db, conn) = &mut database();
    let child = add_pupil(conn, COLLEGE, "Zoë", "Lefèvre", "5B", "active");
    let id = mother_of(conn, child);
    let search = parents::ParentSearch::default();
    assert_eq!(
        parents::search(conn, &college(), &search, 0, 50).unwrap().1,
        1
    );

    lift_check(conn, "parents", "state");
    set(conn, "parents", id, "state = 'x'");
    undecodable(parents::find(conn, id));
    undecodable(parents::search(conn, &college(), &search, 0, 50));
    let status = SqlAccountStore.status(conn, AccountRef::parent(id.into()), t0());
    assert!(matches!(status, Err(StoreError::Db(_))), "{status:?}");

    // `identifiant` references the register of identifiants given, which takes any text.
    raw(
        conn,
        "INSERT INTO identifiants (identifiant, kind, created_at) \
         VALUES ('Jeanne Lefèvre', 'responsable', '2026-11-26 09:00:00')",
    );
    set(
        conn,
        "parents",
        id,
        "state = 'active', identifiant = 'Jeanne Lefèvre'",
    );
    undecodable(parents::find(conn, id));

    set(conn, "pupils", child, "division = '5B<script>'");
    undecodable(parents::children(conn, id, &college()));
    add_establishment(conn, "12345678", "Pas un UAI");
    set(conn, "pupils", child, "division = '5B', uai = '12345678'");
    // The parent's establishments come from his children's rows: a bad one is not skipped.
    undecodable(parents::establishments(conn, id));
}

/// Jeanne Lefèvre, `child`'s first legal guardian.
fn mother_of(conn: &mut DbConnection, child: i64) -> i64 {
    add_parent(
        conn,
        "Jeanne",
        "Lefèvre",
        None,
        None,
        "active",
        &[(child, 1)],
    )
}

fn delegation(conn: &mut DbConnection) -> i64 {
    let day = |s: &str| s.parse().unwrap();
    delegations::insert(
        conn,
        &NewDelegation {
            uai: &college(),
            grantee_uid: "referent",
            grantee_name: "Référent",
            scope: Scope::Eleves,
            valid_from: day("2026-09-01"),
            valid_until: day("2027-07-07"),
            motive: "fixture",
            granted_by: "principal",
        },
        t0(),
    )
    .unwrap()
}

#[test]
fn a_delegation_with_an_unknown_scope_fails_every_read_authorisation_included() {
    let (_db, conn) = &mut database();
    let id = delegation(conn);
    let today = t0().date_naive();
    assert_eq!(
        delegations::held_by(conn, "referent", today).unwrap().len(),
        1
    );

    lift_check(conn, "delegations", "scope");
    set(conn, "delegations", id, "scope = 'tout'");
    assert!(undecodable(delegations::find(conn, id)).contains("\"tout\""));
    // The rights check does not go on as if the delegation did not exist.
    undecodable(delegations::held_by(conn, "referent", today));
    undecodable(delegations::on_establishment(conn, &college()));
    undecodable(delegations::all(conn, None));

    set(
        conn,
        "delegations",
        id,
        "scope = 'eleves', uai = '0691234s0'",
    );
    undecodable(delegations::find(conn, id));
}

fn new_batch(conn: &mut DbConnection, pupil: i64) -> i64 {
    let uai = college();
    let new = NewBatch {
        idempotency_key: "typed-rows",
        kind: AccountKind::Pupil.batch_kind(),
        uai: &uai,
        division: "5B",
        states: &[AccountState::NonNotifie],
        created_by: "principal",
        gate: None,
        accounts: &[pupil],
    };
    batch::create(conn, &new, t0()).unwrap().id()
}

#[test]
fn a_batch_with_an_unknown_kind_or_state_is_an_error_not_a_pupils_batch() {
    let (_db, conn) = &mut database();
    let pupil = add_pupil(conn, COLLEGE, "Zoë", "Lefèvre", "5B", "non_notifie");
    let id = new_batch(conn, pupil);
    assert_eq!(
        batch::find(conn, id).unwrap().unwrap().kind,
        AccountKind::Pupil
    );

    // Before typed rows, an unknown kind was read as a pupils' batch.
    lift_check(conn, "batches", "kind");
    set(conn, "batches", id, "kind = 'eleve'");
    undecodable(batch::find(conn, id));
    set(
        conn,
        "batches",
        id,
        "kind = 'eleves', states = 'non_notifie,perime'",
    );
    assert!(undecodable(batch::find(conn, id)).contains("\"perime\""));
    set(
        conn,
        "batches",
        id,
        "states = 'non_notifie', interruption = 'panne'",
    );
    undecodable(batch::find(conn, id));
}

#[test]
fn a_session_whose_stored_uais_do_not_decode_is_an_error_not_fewer_rights() {
    let (_db, conn) = &mut database();
    let agent = Agent {
        uid: "principal".into(),
        display_name: "Claire Perrin".into(),
        mail: None,
        attached: vec![college()],
        responsible_for: vec![college()],
    };
    let (token, _) = session::create(conn, &agent, t0()).unwrap();
    let found = session::find(conn, &token).unwrap().unwrap();
    assert_eq!(found.agent, agent);

    let responsible = format!("responsible = '{COLLEGE} 069'");
    set(conn, "sessions", found.id, &responsible);
    undecodable(session::find(conn, &token));
}

#[test]
fn an_agents_link_to_a_bad_uai_or_an_unknown_role_is_an_error() {
    let (_db, conn) = &mut database();
    add_agent(
        conn,
        "referent",
        "Référent",
        "Referent-2026",
        &[COLLEGE],
        &[],
    );
    let agent = load_agent(conn, "referent").unwrap().unwrap();
    assert_eq!(agent.attached, vec![college()]);

    raw(
        conn,
        "UPDATE agent_uais SET uai = '069' WHERE role = 'attached'",
    );
    undecodable(load_agent(conn, "referent"));
    lift_check(conn, "agent_uais", "role");
    raw(
        conn,
        &format!("UPDATE agent_uais SET uai = '{COLLEGE}', role = 'chef' WHERE uai = '069'"),
    );
    undecodable(load_agent(conn, "referent"));
}

#[test]
fn an_audit_row_with_an_unknown_outcome_breaks_the_chain_at_that_row() {
    let (_db, conn) = &mut database();
    for target in ["1", "2", "3"] {
        let event = AuditEvent::new("principal", AuditAction::SignIn, Outcome::Success)
            .target("eleve", target);
        audit::record(conn, &test_key(), t0(), &event).unwrap();
    }
    assert_eq!(audit::verify_chain(conn, &test_key()).unwrap().seq, 3);

    raw(
        conn,
        "UPDATE audit_events SET outcome = 'maybe' WHERE seq = 2",
    );
    match audit::verify_chain(conn, &test_key()) {
        Err(VerifyError::Broken { seq, reason }) => {
            assert_eq!((seq, reason.as_str()), (2, "unknown outcome"));
        }
        other => panic!("expected the chain broken at row 2, got {other:?}"),
    }
    let tz = chrono_tz::Europe::Paris;
    undecodable(audit::journal::target_history(conn, "eleve", 2, 10, tz));
    assert_eq!(
        audit::journal::target_history(conn, "eleve", 3, 10, tz)
            .unwrap()
            .len(),
        1
    );
}

/// Only a typed id goes where that id is expected (a compile-time check, run for its types).
fn ids(pupil: PupilId, parent: ParentId, delegation: DelegationId, batch: BatchId) -> [i64; 4] {
    [pupil.get(), parent.get(), delegation.get(), batch.get()]
}

#[test]
fn records_carry_typed_ids_and_domain_values() {
    let (_db, conn) = &mut database();
    let pupil_id = add_pupil(conn, COLLEGE, "Zoë", "Lefèvre", "5B", "non_notifie");
    set(conn, "pupils", pupil_id, "ine = '123456789ab'");
    let parent_id = mother_of(conn, pupil_id);
    let delegation_id = delegation(conn);
    let batch_id = new_batch(conn, pupil_id);

    let pupil: Pupil = pupils::find(conn, PupilId::from(pupil_id))
        .unwrap()
        .unwrap();
    let parent: Parent = parents::find(conn, ParentId::from(parent_id))
        .unwrap()
        .unwrap();
    let children: Vec<Child> = parents::children(conn, parent.id, &college()).unwrap();
    let delegation: Delegation = delegations::find(conn, delegation_id).unwrap().unwrap();
    let batch = batch::find(conn, BatchId::from(batch_id)).unwrap().unwrap();
    assert_eq!(
        ids(pupil.id, parent.id, delegation.id, batch.id),
        [pupil_id, parent_id, delegation_id, batch_id]
    );
    assert_eq!(children.len(), 1);
    assert_eq!(children[0].id, pupil.id);
    assert_eq!(children[0].division, Some(Division::parse("5B").unwrap()));
    assert_eq!(pupil.ine, Some(Ine::parse("123456789AB").unwrap()));
    assert_eq!(pupil.identifiant, Identifiant::parse("z.lefevre").unwrap());
    assert_eq!(pupil.division, Some(Division::parse("5B").unwrap()));
    assert_eq!(parent.identifiant, Identifiant::parse("j.lefevre").unwrap());
    assert_eq!(delegation.scope, Scope::Eleves);
    assert_eq!(batch.division, Division::parse("5B").unwrap());
    assert_eq!(batch.states, vec![AccountState::NonNotifie]);
}

#[tokio::test]
async fn the_pupil_page_answers_an_error_for_an_undecodable_row_not_a_404() {
    let app = TestApp::spawn().await;
    seed_staff(&mut app.conn());
    let id = add_pupil(&mut app.conn(), COLLEGE, "Zoë", "Lefèvre", "5B", "active");
    let principal = app.client_as(Role::Principal).await;
    let page = format!("/depannage/eleve/{id}");
    let search = format!("/depannage/eleve?uai={COLLEGE}&division=5B");
    assert_eq!(principal.get(&app, &page).await.status(), 200);
    assert_eq!(principal.get(&app, &search).await.status(), 200);

    let conn = &mut app.conn();
    lift_check(conn, "pupils", "state");
    set(conn, "pupils", id, "state = 'gele'");
    assert_eq!(principal.get(&app, &page).await.status(), 500);
    assert_eq!(principal.get(&app, &search).await.status(), 500);
}
