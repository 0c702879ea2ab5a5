//! Sign-in throttling, in the database so it holds across sessions and instances.
//! Per uid: after 5 consecutive failures, every attempt waits out an increasing delay
//! (1 s, doubling, at most 15 min) and gets the generic refusal, right password included.
//! Per client address: 100 failures in 10 minutes block the address until the window ends.
//! Counters are atomic upserts (`INSERT … ON CONFLICT`, on both databases).

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::schema::login_throttle;

pub const UID_FREE_FAILURES: i64 = 5;
pub const UID_MAX_DELAY_SECS: i64 = 15 * 60;
pub const ADDR_MAX_FAILURES: i64 = 100;
pub const ADDR_WINDOW_MINUTES: i64 = 10;

pub fn uid_key(uid: &str) -> String {
    format!("uid:{}", uid.to_ascii_lowercase())
}

pub fn addr_key(addr: &str) -> String {
    format!("addr:{addr}")
}

/// The delay imposed after `failures` consecutive failures.
pub fn uid_delay(failures: i64) -> Option<Duration> {
    if failures < UID_FREE_FAILURES {
        return None;
    }
    let doublings = (failures - UID_FREE_FAILURES).min(20) as u32;
    Some(Duration::seconds(
        (1i64 << doublings).min(UID_MAX_DELAY_SECS),
    ))
}

/// Why an attempt is refused before the password is even checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    Uid,
    Address,
}

/// Whether the uid or the address is currently blocked.
pub fn check(
    conn: &mut DbConnection,
    uid: Option<&str>,
    addr: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Blocked>> {
    let now_db = db_instant(now);
    if let Some(uid) = uid {
        let until: Option<Option<NaiveDateTime>> = login_throttle::table
            .filter(login_throttle::key.eq(uid_key(uid)))
            .select(login_throttle::blocked_until)
            .first(conn)
            .optional()?;
        if until.flatten().is_some_and(|t| t > now_db) {
            return Ok(Some(Blocked::Uid));
        }
    }
    let window_start = db_instant(now - Duration::minutes(ADDR_WINDOW_MINUTES));
    let row: Option<(i64, NaiveDateTime)> = login_throttle::table
        .filter(login_throttle::key.eq(addr_key(addr)))
        .select((login_throttle::failures, login_throttle::window_start))
        .first(conn)
        .optional()?;
    if row.is_some_and(|(failures, start)| start > window_start && failures >= ADDR_MAX_FAILURES) {
        return Ok(Some(Blocked::Address));
    }
    Ok(None)
}

#[derive(QueryableByName)]
struct Failures {
    #[diesel(sql_type = BigInt)]
    failures: i64,
}

const UID_UPSERT_PG: &str = "INSERT INTO login_throttle (key, failures, window_start, blocked_until, updated_at) \
    VALUES ($1, 1, $2, NULL, $2) \
    ON CONFLICT (key) DO UPDATE SET failures = login_throttle.failures + 1, updated_at = excluded.updated_at \
    RETURNING failures";
const UID_UPSERT_SQLITE: &str = "INSERT INTO login_throttle (key, failures, window_start, blocked_until, updated_at) \
    VALUES (?1, 1, ?2, NULL, ?2) \
    ON CONFLICT (key) DO UPDATE SET failures = login_throttle.failures + 1, updated_at = excluded.updated_at \
    RETURNING failures";
const ADDR_UPSERT_PG: &str = "INSERT INTO login_throttle (key, failures, window_start, blocked_until, updated_at) \
    VALUES ($1, 1, $2, NULL, $2) \
    ON CONFLICT (key) DO UPDATE SET \
      failures = CASE WHEN login_throttle.window_start <= $3 THEN 1 ELSE login_throttle.failures + 1 END, \
      window_start = CASE WHEN login_throttle.window_start <= $3 THEN excluded.window_start ELSE login_throttle.window_start END, \
      updated_at = excluded.updated_at \
    RETURNING failures";
const ADDR_UPSERT_SQLITE: &str = "INSERT INTO login_throttle (key, failures, window_start, blocked_until, updated_at) \
    VALUES (?1, 1, ?2, NULL, ?2) \
    ON CONFLICT (key) DO UPDATE SET \
      failures = CASE WHEN login_throttle.window_start <= ?3 THEN 1 ELSE login_throttle.failures + 1 END, \
      window_start = CASE WHEN login_throttle.window_start <= ?3 THEN excluded.window_start ELSE login_throttle.window_start END, \
      updated_at = excluded.updated_at \
    RETURNING failures";

fn upsert_addr(
    conn: &mut DbConnection,
    key: &str,
    now: NaiveDateTime,
    window: NaiveDateTime,
) -> QueryResult<i64> {
    let out: Failures = match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(ADDR_UPSERT_PG)
            .bind::<Text, _>(key)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(window)
            .get_result(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(ADDR_UPSERT_SQLITE)
            .bind::<Text, _>(key)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(window)
            .get_result(c)?,
    };
    Ok(out.failures)
}

/// Counts one failure against the uid (when the attempt named a well-formed one) and the
/// address; returns the uid's consecutive failures.
pub fn record_failure(
    conn: &mut DbConnection,
    uid: Option<&str>,
    addr: &str,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    let now_db = db_instant(now);
    let window = db_instant(now - Duration::minutes(ADDR_WINDOW_MINUTES));
    upsert_addr(conn, &addr_key(addr), now_db, window)?;
    let Some(uid) = uid else {
        return Ok(0);
    };
    let failures = match conn {
        DbConnection::Postgresql(c) => {
            diesel::sql_query(UID_UPSERT_PG)
                .bind::<Text, _>(uid_key(uid))
                .bind::<Timestamp, _>(now_db)
                .get_result::<Failures>(c)?
                .failures
        }
        DbConnection::Sqlite(c) => {
            diesel::sql_query(UID_UPSERT_SQLITE)
                .bind::<Text, _>(uid_key(uid))
                .bind::<Timestamp, _>(now_db)
                .get_result::<Failures>(c)?
                .failures
        }
    };
    if let Some(delay) = uid_delay(failures) {
        diesel::update(login_throttle::table.filter(login_throttle::key.eq(uid_key(uid))))
            .set(login_throttle::blocked_until.eq(Some(db_instant(now + delay))))
            .execute(conn)?;
    }
    Ok(failures)
}

/// A successful sign-in clears the uid's consecutive failures.
pub fn record_success(conn: &mut DbConnection, uid: &str) -> QueryResult<()> {
    diesel::delete(login_throttle::table.filter(login_throttle::key.eq(uid_key(uid))))
        .execute(conn)
        .map(drop)
}

/// Failures counted for a uid (tests and diagnostics).
pub fn uid_failures(conn: &mut DbConnection, uid: &str) -> QueryResult<i64> {
    Ok(login_throttle::table
        .filter(login_throttle::key.eq(uid_key(uid)))
        .select(login_throttle::failures)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_the_fifth_failure_and_are_capped() {
        assert_eq!(uid_delay(4), None);
        assert_eq!(uid_delay(5), Some(Duration::seconds(1)));
        assert_eq!(uid_delay(6), Some(Duration::seconds(2)));
        assert_eq!(uid_delay(10), Some(Duration::seconds(32)));
        assert_eq!(uid_delay(14), Some(Duration::seconds(512)));
        assert_eq!(uid_delay(15), Some(Duration::seconds(900)));
        assert_eq!(uid_delay(1_000_000), Some(Duration::seconds(900)));
    }
}
