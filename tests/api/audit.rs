use chrono::Duration;
use diesel::prelude::*;
use educt_admin::audit::AuditAction;
use educt_admin::audit::{self, AuditEvent, Outcome, VerifyError};
use educt_admin::db::DbConnection;
use educt_admin::db::schema::{audit_events, audit_head, establishments};
use educt_admin::secrets::AppKey;

use crate::helpers::{TestDb, run_cli, t0, test_key};

fn append_rows(conn: &mut DbConnection, n: usize) {
    for i in 0..n {
        let event = AuditEvent::new(format!("agent{i}"), AuditAction::SignIn, Outcome::Success)
            .with_stored_action("test.action")
            .uai("0691234S")
            .target("eleve", i)
            .details(format!("row {i} — Zoë O'Brien"));
        audit::record(
            conn,
            &test_key(),
            t0() + Duration::nanoseconds(i as i64 * 1_234_567),
            &event,
        )
        .unwrap();
    }
}

fn broken_at(conn: &mut DbConnection, key: &AppKey) -> i64 {
    match audit::verify_chain(conn, key) {
        Err(VerifyError::Broken { seq, .. }) => seq,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[test]
fn an_intact_chain_verifies_and_gives_its_head() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    let empty = audit::verify_chain(&mut conn, &test_key()).unwrap();
    assert_eq!(empty.seq, 0);
    append_rows(&mut conn, 5);
    let head = audit::verify_chain(&mut conn, &test_key()).unwrap();
    assert_eq!(head.seq, 5);
    let stored: (i64, String) = audit_head::table
        .select((audit_head::seq, audit_head::hash))
        .first(&mut conn)
        .unwrap();
    assert_eq!(stored, (5, head.hash.clone()));
    // Timestamps went in truncated to microseconds, so they read back as hashed.
    let at: chrono::NaiveDateTime = audit_events::table
        .filter(audit_events::seq.eq(2))
        .select(audit_events::at)
        .first(&mut conn)
        .unwrap();
    assert_eq!(at.and_utc().timestamp_subsec_nanos() % 1000, 0);
}

#[test]
fn a_changed_row_is_found() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    append_rows(&mut conn, 5);
    diesel::update(audit_events::table.filter(audit_events::seq.eq(3)))
        .set(audit_events::actor.eq("someone.else"))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(broken_at(&mut conn, &test_key()), 3);
}

#[test]
fn a_deleted_row_is_found_in_the_middle_and_at_the_end() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    append_rows(&mut conn, 5);
    diesel::delete(audit_events::table.filter(audit_events::seq.eq(5)))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(
        broken_at(&mut conn, &test_key()),
        5,
        "the head still says 5"
    );
    diesel::delete(audit_events::table.filter(audit_events::seq.eq(2)))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(broken_at(&mut conn, &test_key()), 2);
}

#[test]
fn reordered_rows_are_found() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    append_rows(&mut conn, 5);
    // Swap the sequence numbers of rows 2 and 3.
    for (from, to) in [(2, -2), (3, 2), (-2, 3)] {
        diesel::update(audit_events::table.filter(audit_events::seq.eq(from)))
            .set(audit_events::seq.eq(to))
            .execute(&mut conn)
            .unwrap();
    }
    assert_eq!(broken_at(&mut conn, &test_key()), 2);
}

#[test]
fn a_row_rehashed_without_the_key_is_found() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    append_rows(&mut conn, 4);
    // The forger rewrites row 2 and rehashes the rest of the chain and the head with a
    // key of his own: every link is consistent, but not under the application key.
    let forged_key = AppKey::from_bytes([0x13; 32]);
    diesel::update(audit_events::table.filter(audit_events::seq.eq(2)))
        .set(audit_events::outcome.eq("refused"))
        .execute(&mut conn)
        .unwrap();
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        i64,
        chrono::NaiveDateTime,
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        String,
        Option<String>,
    )> = audit_events::table
        .order(audit_events::seq)
        .select((
            audit_events::seq,
            audit_events::at,
            audit_events::actor,
            audit_events::uai,
            audit_events::action,
            audit_events::target_kind,
            audit_events::target_id,
            audit_events::outcome,
            audit_events::details,
        ))
        .load(&mut conn)
        .unwrap();
    let mut prev = audit::GENESIS_HASH.to_owned();
    for r in rows {
        let mut e = AuditEvent::new(
            r.2,
            AuditAction::SignIn,
            if r.7 == "refused" {
                Outcome::Refused
            } else {
                Outcome::Success
            },
        )
        .with_stored_action(r.4);
        e.uai = r.3;
        e.target_kind = r.5;
        e.target_id = r.6;
        e.details = r.8;
        let hash = audit::chain_hash(&forged_key, &prev, &audit::canonical_encoding(r.0, r.1, &e));
        diesel::update(audit_events::table.filter(audit_events::seq.eq(r.0)))
            .set((
                audit_events::prev_hash.eq(&prev),
                audit_events::hash.eq(&hash),
            ))
            .execute(&mut conn)
            .unwrap();
        prev = hash;
    }
    diesel::update(audit_head::table)
        .set((audit_head::seq.eq(4), audit_head::hash.eq(&prev)))
        .execute(&mut conn)
        .unwrap();
    assert!(
        audit::verify_chain(&mut conn, &forged_key).is_ok(),
        "consistent under the forger's key"
    );
    assert_eq!(broken_at(&mut conn, &test_key()), 1);
}

#[test]
fn eight_concurrent_appends_keep_the_chain_valid() {
    let db = TestDb::migrated();
    let pool = db.pool();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                let event =
                    AuditEvent::new(format!("agent{i}"), AuditAction::SignIn, Outcome::Success)
                        .with_stored_action("test.concurrent");
                audit::record(&mut conn, &test_key(), t0(), &event)
            })
        })
        .collect();
    for t in threads {
        t.join()
            .unwrap()
            .expect("no 'database is locked', no serialisation failure");
    }
    let mut conn = db.connect();
    let head = audit::verify_chain(&mut conn, &test_key()).unwrap();
    assert_eq!(head.seq, 8);
}

#[test]
fn a_change_whose_audit_append_fails_is_rolled_back() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    diesel::sql_query("DROP TABLE audit_events")
        .execute(&mut conn)
        .unwrap();
    let result = audit::audited(
        &mut conn,
        &test_key(),
        t0(),
        |tx| -> Result<(), diesel::result::Error> {
            diesel::insert_into(establishments::table)
                .values((
                    establishments::uai.eq("0691234S"),
                    establishments::name.eq("Collège"),
                    establishments::kind.eq("college"),
                    establishments::created_at.eq(t0().naive_utc()),
                    establishments::updated_at.eq(t0().naive_utc()),
                ))
                .execute(tx.conn())?;
            tx.append(
                &AuditEvent::new("cli:test", AuditAction::SignIn, Outcome::Success)
                    .with_stored_action("establishment.create"),
            )?;
            Ok(())
        },
    );
    assert!(result.is_err());
    let count: i64 = establishments::table.count().get_result(&mut conn).unwrap();
    assert_eq!(count, 0, "the establishment went with the failed audit row");
    let seq: i64 = audit_head::table
        .select(audit_head::seq)
        .first(&mut conn)
        .unwrap();
    assert_eq!(seq, 0, "the head did not move");
}

#[test]
fn audit_verify_command_prints_the_head_and_only_when_the_chain_holds() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    append_rows(&mut conn, 3);
    let key = hex::encode(crate::helpers::TEST_KEY);
    let env = [
        ("EDUCT_ADMIN__DATABASE__URL", db.url.as_str()),
        ("EDUCT_ADMIN__SECRETS__KEY", key.as_str()),
    ];
    let (status, out, err) = run_cli(&["audit", "verify"], &env);
    assert!(status.success(), "{out}{err}");
    let head = audit::verify_chain(&mut conn, &test_key()).unwrap();
    assert!(
        out.contains(&format!("head seq=3 hash={}", head.hash)),
        "{out}"
    );
    diesel::update(audit_events::table.filter(audit_events::seq.eq(2)))
        .set(audit_events::details.eq("nothing to see"))
        .execute(&mut conn)
        .unwrap();
    let (status, out, err) = run_cli(&["audit", "verify"], &env);
    assert!(!status.success());
    assert!(err.contains("row 2"), "{err}");
    // A broken chain has no head to anchor: none is printed, on either stream.
    assert!(
        !out.contains("head") && !err.contains("head seq="),
        "{out}{err}"
    );
    assert!(
        !out.contains(&head.hash) && !err.contains(&head.hash),
        "{out}{err}"
    );
}
