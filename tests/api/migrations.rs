use diesel::prelude::*;
use educt_admin::db::schema::*;
use educt_admin::db::{self, DbConnection};

use crate::helpers::TestDb;

/// Reads one row (or none) from every table of the schema, proving each column maps.
fn read_every_table(conn: &mut DbConnection) {
    establishments::table
        .select(establishments::all_columns)
        .load::<(
            i64,
            String,
            String,
            String,
            chrono::NaiveDateTime,
            chrono::NaiveDateTime,
            Option<String>,
            Option<chrono::NaiveDateTime>,
        )>(conn)
        .unwrap();
    pending_transfers::table
        .select(pending_transfers::all_columns)
        .load::<(
            i64,
            i64,
            String,
            String,
            String,
            String,
            String,
            String,
            chrono::NaiveDate,
            Option<String>,
            String,
            chrono::NaiveDateTime,
        )>(conn)
        .unwrap();
    agents::table
        .select((
            agents::id,
            agents::uid,
            agents::display_name,
            agents::mail,
            agents::password_hash,
            agents::disabled,
        ))
        .load::<(i64, String, String, Option<String>, Option<String>, bool)>(conn)
        .unwrap();
    agent_uais::table
        .select(agent_uais::all_columns)
        .load::<(i64, String, String)>(conn)
        .unwrap();
    identifiants::table
        .select((
            identifiants::id,
            identifiants::identifiant,
            identifiants::kind,
        ))
        .load::<(i64, String, String)>(conn)
        .unwrap();
    pupils::table
        .select((
            pupils::id,
            pupils::uai,
            pupils::identifiant,
            pupils::ine,
            pupils::birth_date,
            pupils::division,
            pupils::state,
            pupils::must_change,
            pupils::provisional_expires_at,
        ))
        .load::<(
            i64,
            String,
            String,
            Option<String>,
            chrono::NaiveDate,
            Option<String>,
            String,
            bool,
            Option<chrono::NaiveDateTime>,
        )>(conn)
        .unwrap();
    parents::table
        .select((
            parents::id,
            parents::identifiant,
            parents::email,
            parents::mobile,
            parents::activation_path,
            parents::must_change,
        ))
        .load::<(
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            bool,
        )>(conn)
        .unwrap();
    pupil_parents::table
        .select(pupil_parents::all_columns)
        .load::<(i64, i64, i16)>(conn)
        .unwrap();
    let head = audit_head::table
        .select((audit_head::seq, audit_head::hash))
        .load::<(i64, String)>(conn)
        .unwrap();
    assert_eq!(head, vec![(0, educt_admin::audit::GENESIS_HASH.to_owned())]);
    audit_events::table
        .select((
            audit_events::seq,
            audit_events::at,
            audit_events::delegation_id,
        ))
        .load::<(i64, chrono::NaiveDateTime, Option<i64>)>(conn)
        .unwrap();
    educt_admin::db::schema::job_leases::table
        .select(educt_admin::db::schema::job_leases::all_columns)
        .load::<(String, Option<String>, Option<chrono::NaiveDateTime>)>(conn)
        .unwrap();
}

#[test]
fn migrations_go_up_down_and_up_again() {
    let test_db = TestDb::empty();
    let mut conn = test_db.connect();
    let applied = db::run_migrations(&mut conn).unwrap();
    assert!(!applied.is_empty());
    read_every_table(&mut conn);
    let reverted = db::revert_all_migrations(&mut conn).unwrap();
    assert_eq!(reverted.len(), applied.len());
    assert!(
        establishments::table
            .count()
            .get_result::<i64>(&mut conn)
            .is_err(),
        "tables are gone"
    );
    let again = db::run_migrations(&mut conn).unwrap();
    assert_eq!(again, applied);
    read_every_table(&mut conn);
    assert!(
        db::run_migrations(&mut conn).unwrap().is_empty(),
        "idempotent"
    );
}

#[test]
fn both_backends_have_the_same_migration_names() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let names = |backend: &str| {
        let mut v: Vec<String> = std::fs::read_dir(root.join(backend))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));
}

#[test]
fn identifiants_are_unique_across_pupils_and_parents() {
    let test_db = TestDb::migrated();
    let mut conn = test_db.connect();
    let now = crate::helpers::t0();
    use educt_admin::accounts::identifiants::{IdentifiantKind, allocate};
    let a = allocate(&mut conn, IdentifiantKind::Pupil, "Jean", "Dupont", now).unwrap();
    let b = allocate(&mut conn, IdentifiantKind::Parent, "Julie", "Dupont", now).unwrap();
    let c = allocate(&mut conn, IdentifiantKind::Pupil, "Jérôme", "Düpont", now).unwrap();
    let d = allocate(&mut conn, IdentifiantKind::Pupil, "Jeanne", "Dupontel", now).unwrap();
    assert_eq!(
        (a.as_str(), b.as_str(), c.as_str(), d.as_str()),
        ("j.dupont", "j.dupont2", "j.dupont3", "j.dupontel")
    );
    // A deleted account keeps its tombstone: the name is never given again.
    let e = allocate(&mut conn, IdentifiantKind::Pupil, "J", "Dupont", now).unwrap();
    assert_eq!(e.as_str(), "j.dupont4");
    let dup = diesel::insert_into(identifiants::table)
        .values((
            identifiants::identifiant.eq("j.dupont"),
            identifiants::kind.eq("eleve"),
            identifiants::created_at.eq(now.naive_utc()),
        ))
        .execute(&mut conn);
    assert!(dup.is_err(), "the unique constraint holds");
}
