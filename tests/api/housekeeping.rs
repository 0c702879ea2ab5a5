//! The housekeeping job: a round wipes the batch passwords past 24 hours (audited), deletes
//! expired sessions and stale throttle counters, and nothing else; among several instances
//! only the holder of the job's lease works, and another takes over once it lapses. All on
//! the injected clock: rounds are called directly, nothing sleeps.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use educt_admin::accounts::AccountState;
use educt_admin::accounts::batch::{self, Created, NewBatch};
use educt_admin::auth::{session, throttle};
use educt_admin::db::DbConnection;
use educt_admin::db::schema::{batches, login_throttle, sessions};
use educt_admin::domain::{Agent, Uai};
use educt_admin::jobs::lease;
use educt_admin::usecases::housekeeping::{self, JOB, LEASE_SECS, Swept};
use educt_admin::usecases::sessions::Timeouts;

use crate::helpers::{COLLEGE, TestDb, audit_rows, t0, test_key};

fn timeouts() -> Timeouts {
    Timeouts {
        idle: Duration::minutes(30),
        absolute: Duration::hours(12),
    }
}

fn round(conn: &mut DbConnection, owner: &str, at: DateTime<Utc>) -> Option<Swept> {
    housekeeping::run_once(conn, &test_key(), owner, at, timeouts()).unwrap()
}

fn agent(uid: &str) -> Agent {
    Agent {
        uid: uid.into(),
        display_name: uid.into(),
        mail: None,
        attached: vec![],
        responsible_for: vec![],
    }
}

/// A batch of the collège's 3A created at `at` holding sealed passwords for `accounts`.
pub fn batch_at(conn: &mut DbConnection, key: &str, at: DateTime<Utc>, accounts: &[i64]) -> i64 {
    let uai = Uai::parse(COLLEGE).unwrap();
    let new = NewBatch {
        idempotency_key: key,
        kind: "eleves",
        uai: &uai,
        division: "3A",
        states: &[AccountState::NonNotifie],
        created_by: "referent",
        gate: None,
        accounts,
    };
    let Created::New(id) = batch::create_leased(conn, &new, None, at).unwrap() else {
        panic!("no batch created");
    };
    diesel::sql_query("UPDATE batch_items SET sealed_password = 'scelle', status = 'done'")
        .execute(conn)
        .unwrap();
    id
}

fn wiped(conn: &mut DbConnection, id: i64) -> bool {
    batches::table
        .find(id)
        .select(batches::wiped_at)
        .first::<Option<chrono::NaiveDateTime>>(conn)
        .unwrap()
        .is_some()
}

fn session_uids(conn: &mut DbConnection) -> Vec<String> {
    let mut uids: Vec<String> = sessions::table
        .select(sessions::agent_uid)
        .load(conn)
        .unwrap();
    uids.sort();
    uids
}

#[test]
fn a_round_purges_what_is_due_and_nothing_else() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    let now = t0() + Duration::days(2);
    let old = batch_at(&mut conn, "ancien", now - Duration::hours(24), &[1, 2]);
    let fresh = batch_at(&mut conn, "recent", now - Duration::hours(23), &[3]);
    session::create(&mut conn, &agent("idle"), now - Duration::minutes(30)).unwrap();
    let (_, long) = session::create(&mut conn, &agent("long"), now - Duration::hours(12)).unwrap();
    session::touch(&mut conn, long.id, now - Duration::minutes(1)).unwrap();
    session::create(&mut conn, &agent("active"), now - Duration::minutes(29)).unwrap();
    throttle::admit(
        &mut conn,
        Some("ancien"),
        "192.0.2.1",
        now - Duration::minutes(16),
    )
    .unwrap();
    throttle::admit(
        &mut conn,
        Some("recent"),
        "192.0.2.2",
        now - Duration::minutes(5),
    )
    .unwrap();

    let swept = round(&mut conn, "instance-a/1", now).unwrap();
    assert_eq!(
        swept,
        Swept {
            batches_wiped: 1,
            sessions_purged: 2,
            throttle_rows_purged: 2,
        }
    );
    assert!(wiped(&mut conn, old));
    assert!(!wiped(&mut conn, fresh), "23 hours old: kept");
    assert_eq!(session_uids(&mut conn), ["active"]);
    let keys: Vec<String> = login_throttle::table
        .select(login_throttle::key)
        .load(&mut conn)
        .unwrap();
    assert_eq!(keys.len(), 2, "the recent pair and address: {keys:?}");
    assert!(keys.iter().all(|k| k.contains("192.0.2.2")), "{keys:?}");
    let wipes: Vec<_> = audit_rows(&mut conn)
        .into_iter()
        .filter(|r| r.1 == "batch.wipe")
        .collect();
    assert_eq!(wipes.len(), 1, "{wipes:?}");
    assert_eq!(wipes[0].0, "job:entretien");
    assert_eq!(wipes[0].2, "success");

    // Nothing more is due: the next round finds nothing and writes no audit row.
    let rows = audit_rows(&mut conn).len();
    let again = round(&mut conn, "instance-a/1", now + Duration::seconds(30)).unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(audit_rows(&mut conn).len(), rows);
}

#[test]
fn only_the_lease_holder_works_and_another_takes_over_once_it_lapses() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    let start = t0();
    assert!(
        round(&mut conn, "a/1", start).is_some(),
        "first round: a takes it"
    );
    // Due work meets b: he leaves it.
    let due = batch_at(&mut conn, "lot", start - Duration::hours(25), &[1]);
    session::create(&mut conn, &agent("gone"), start - Duration::hours(13)).unwrap();
    assert_eq!(round(&mut conn, "b/1", start + Duration::seconds(60)), None);
    assert!(!wiped(&mut conn, due));
    assert_eq!(session_uids(&mut conn), ["gone"]);
    // a renews at his next round and does it.
    let renewed = start + Duration::seconds(120);
    let swept = round(&mut conn, "a/1", renewed).unwrap();
    assert_eq!((swept.batches_wiped, swept.sessions_purged), (1, 1));
    let (owner, until) = lease::holder(&mut conn, JOB).unwrap().unwrap();
    assert_eq!(owner.as_deref(), Some("a/1"));
    assert_eq!(until, Some(renewed + Duration::seconds(LEASE_SECS)));
    // a stops: b waits until the lease lapses, then takes over.
    let lapse = renewed + Duration::seconds(LEASE_SECS);
    assert_eq!(round(&mut conn, "b/1", lapse - Duration::seconds(1)), None);
    assert!(round(&mut conn, "b/1", lapse).is_some());
    assert_eq!(
        lease::holder(&mut conn, JOB).unwrap().unwrap().0.as_deref(),
        Some("b/1")
    );
    assert_eq!(round(&mut conn, "a/1", lapse + Duration::seconds(1)), None);
}
