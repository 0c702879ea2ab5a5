//! The one password throttle. Every staff password check — sign-in, the re-check at TOTP
//! enrolment, any other — goes through [`check_password`], which counts the attempt
//! **before** the password is hashed (an atomic increment-then-check in the database, so
//! parallel attempts count too and several instances share the counts):
//!
//! - per (account, client address): 10 failures in a 15-minute window, then that account is
//!   refused from that address — right password included — until the window ends;
//! - per client address: 100 failures in a 10-minute window, then the address is refused.
//!
//! Wrong guesses from elsewhere never refuse the right password from the victim's own
//! address (there is no per-account lock). A right password clears its (account, address)
//! count and gives back its place in the address count. An unknown client address (rule 6)
//! is one bucket, `unknown`. Counters are atomic upserts (`INSERT … ON CONFLICT … RETURNING`,
//! a dialect branch each, since diesel's `MultiConnection` has no `on_conflict`).
//!
//! The first sign-in of pupils and parents (`usecases::first_signin`) counts its provisional
//! password checks the same way, with the same limits, in a bucket of its own
//! ([`Bucket::Holders`]), keyed by identifiant instead of staff uid.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use secrecy::SecretString;

use crate::clock::db_instant;
use crate::db::schema::login_throttle;
use crate::db::{Db, DbConnection, DbError};
use crate::directory::{Directory, DirectoryError};
use crate::domain::{Agent, AgentUid};
pub const PAIR_MAX_FAILURES: i64 = 10;
pub const PAIR_WINDOW_MINUTES: i64 = 15;
pub const ADDR_MAX_FAILURES: i64 = 100;
pub const ADDR_WINDOW_MINUTES: i64 = 10;
/// The bucket of every client whose address is unknown.
pub const UNKNOWN_ADDR: &str = "unknown";

pub fn pair_key(uid: &str, addr: &str) -> String {
    Bucket::Staff.pair_key(uid, addr)
}

pub fn addr_key(addr: &str) -> String {
    Bucket::Staff.addr_key(addr)
}

/// Whose passwords a count is about. The staff's and the account holders' (the first sign-in
/// of pupils and parents) are counted apart, with the same limits: a class trying its letters
/// from a school's one address never locks its staff out of signing in, nor the reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Staff,
    Holders,
}

impl Bucket {
    pub fn pair_key(self, name: &str, addr: &str) -> String {
        let name = name.to_ascii_lowercase();
        match self {
            Bucket::Staff => format!("pair:{name}|{addr}"),
            Bucket::Holders => format!("holder:{name}|{addr}"),
        }
    }

    pub fn addr_key(self, addr: &str) -> String {
        match self {
            Bucket::Staff => format!("addr:{addr}"),
            Bucket::Holders => format!("holder-addr:{addr}"),
        }
    }
}

/// One counter after the increment: its count and the start of its window.
#[derive(QueryableByName, Debug, Clone)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    failures: i64,
    #[diesel(sql_type = Timestamp)]
    window_start: NaiveDateTime,
}

// $1 key, $2 now, $3 start of the current window (an older window starts again at 1).
const UPSERT_PG: &str = "INSERT INTO login_throttle (key, failures, window_start, blocked_until, updated_at) \
    VALUES ($1, 1, $2, NULL, $2) \
    ON CONFLICT (key) DO UPDATE SET \
      failures = CASE WHEN login_throttle.window_start <= $3 THEN 1 ELSE login_throttle.failures + 1 END, \
      window_start = CASE WHEN login_throttle.window_start <= $3 THEN excluded.window_start ELSE login_throttle.window_start END, \
      updated_at = excluded.updated_at \
    RETURNING failures, window_start";
const UPSERT_SQLITE: &str = "INSERT INTO login_throttle (key, failures, window_start, blocked_until, updated_at) \
    VALUES (?1, 1, ?2, NULL, ?2) \
    ON CONFLICT (key) DO UPDATE SET \
      failures = CASE WHEN login_throttle.window_start <= ?3 THEN 1 ELSE login_throttle.failures + 1 END, \
      window_start = CASE WHEN login_throttle.window_start <= ?3 THEN excluded.window_start ELSE login_throttle.window_start END, \
      updated_at = excluded.updated_at \
    RETURNING failures, window_start";

fn increment(
    conn: &mut DbConnection,
    key: &str,
    now: DateTime<Utc>,
    window_minutes: i64,
) -> QueryResult<Counted> {
    let now_db = db_instant(now);
    let window = db_instant(now - Duration::minutes(window_minutes));
    match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(UPSERT_PG)
            .bind::<Text, _>(key)
            .bind::<Timestamp, _>(now_db)
            .bind::<Timestamp, _>(window)
            .get_result(c),
        DbConnection::Sqlite(c) => diesel::sql_query(UPSERT_SQLITE)
            .bind::<Text, _>(key)
            .bind::<Timestamp, _>(now_db)
            .bind::<Timestamp, _>(window)
            .get_result(c),
    }
}

/// An attempt let through to the password check: what to give back afterwards.
#[derive(Debug, Clone)]
pub struct Admitted {
    pair: Option<(String, NaiveDateTime)>,
    addr: (String, NaiveDateTime),
}

#[derive(Debug, Clone)]
pub enum Admission {
    Admitted(Admitted),
    /// Refused before any hash; the client may come back after `retry_after`.
    Throttled {
        retry_after: Duration,
    },
}

fn retry_after(window_start: NaiveDateTime, minutes: i64, now: DateTime<Utc>) -> Duration {
    let end = window_start.and_utc() + Duration::minutes(minutes);
    (end - now).max(Duration::seconds(1))
}

/// Counts the attempt against the address and, when it names a well-formed uid, the
/// (account, address) pair, then says whether the password may be checked.
pub fn admit(
    conn: &mut DbConnection,
    uid: Option<&str>,
    addr: &str,
    now: DateTime<Utc>,
) -> QueryResult<Admission> {
    admit_in(conn, Bucket::Staff, uid, addr, now)
}

/// [`admit`] in `bucket`.
pub fn admit_in(
    conn: &mut DbConnection,
    bucket: Bucket,
    uid: Option<&str>,
    addr: &str,
    now: DateTime<Utc>,
) -> QueryResult<Admission> {
    conn.transaction(|conn| {
        let addr_key = bucket.addr_key(addr);
        let by_addr = increment(conn, &addr_key, now, ADDR_WINDOW_MINUTES)?;
        let mut wait = (by_addr.failures > ADDR_MAX_FAILURES)
            .then(|| retry_after(by_addr.window_start, ADDR_WINDOW_MINUTES, now));
        let pair = match uid {
            Some(uid) => {
                let key = bucket.pair_key(uid, addr);
                let by_pair = increment(conn, &key, now, PAIR_WINDOW_MINUTES)?;
                if by_pair.failures > PAIR_MAX_FAILURES {
                    let w = retry_after(by_pair.window_start, PAIR_WINDOW_MINUTES, now);
                    wait = Some(wait.map_or(w, |v| v.max(w)));
                }
                Some((key, by_pair.window_start))
            }
            None => None,
        };
        Ok(match wait {
            Some(retry_after) => Admission::Throttled { retry_after },
            None => Admission::Admitted(Admitted {
                pair,
                addr: (addr_key, by_addr.window_start),
            }),
        })
    })
}

/// Gives back one count of `key` if its window is still the one counted in.
fn give_back(conn: &mut DbConnection, key: &str, window_start: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        login_throttle::table
            .filter(login_throttle::key.eq(key))
            .filter(login_throttle::window_start.eq(window_start))
            .filter(login_throttle::failures.gt(0)),
    )
    .set(login_throttle::failures.eq(login_throttle::failures - 1))
    .execute(conn)
    .map(drop)
}

/// The password was right: the pair's failures are forgotten, the address gets its count back.
pub fn succeeded(conn: &mut DbConnection, admitted: &Admitted) -> QueryResult<()> {
    conn.transaction(|conn| {
        if let Some((key, _)) = &admitted.pair {
            diesel::delete(login_throttle::table.filter(login_throttle::key.eq(key)))
                .execute(conn)?;
        }
        give_back(conn, &admitted.addr.0, admitted.addr.1)
    })
}

/// The password could not be checked (directory down, hashing busy): nothing is counted.
pub fn not_checked(conn: &mut DbConnection, admitted: &Admitted) -> QueryResult<()> {
    conn.transaction(|conn| {
        if let Some((key, start)) = &admitted.pair {
            give_back(conn, key, *start)?;
        }
        give_back(conn, &admitted.addr.0, admitted.addr.1)
    })
}

/// Deletes counters untouched for longer than the longest window (the housekeeping job).
pub fn purge_stale(conn: &mut DbConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    let horizon = db_instant(now - Duration::minutes(PAIR_WINDOW_MINUTES.max(ADDR_WINDOW_MINUTES)));
    diesel::delete(login_throttle::table.filter(login_throttle::updated_at.lt(horizon)))
        .execute(conn)
}

/// Failures counted for `uid` from `addr` in the current window (tests and diagnostics).
pub fn pair_failures(conn: &mut DbConnection, uid: &str, addr: &str) -> QueryResult<i64> {
    Ok(login_throttle::table
        .filter(login_throttle::key.eq(pair_key(uid, addr)))
        .select(login_throttle::failures)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

/// How an admitted attempt's count is settled once the password was checked.
type Settle = fn(&mut DbConnection, &Admitted) -> QueryResult<()>;

/// What a password check came to.
#[derive(Debug)]
pub enum PasswordCheck {
    Accepted(Agent),
    /// Wrong password, unknown or disabled account, malformed uid: the reason is for the audit.
    Refused(&'static str),
    /// Too many failures: refused before any hash.
    Throttled {
        retry_after: Duration,
    },
    /// Every hashing thread stayed busy: nothing was checked, nothing counted.
    Busy,
    /// The directory did not answer: nothing was checked, nothing counted.
    Unavailable(String),
}

/// The one way to check a staff password: the throttle first (counted before the hash),
/// then the directory, then the count settled. `addr` is the client address, or
/// [`UNKNOWN_ADDR`].
pub async fn check_password(
    db: &Db,
    directory: Arc<dyn Directory>,
    now: DateTime<Utc>,
    uid: Option<AgentUid>,
    addr: &str,
    password: SecretString,
) -> Result<PasswordCheck, DbError> {
    let name = uid.as_ref().map(|u| u.as_str().to_owned());
    let at = addr.to_owned();
    let admission = db
        .run(move |conn| Ok::<_, DbError>(admit(conn, name.as_deref(), &at, now)?))
        .await?;
    let admitted = match admission {
        Admission::Throttled { retry_after } => {
            return Ok(PasswordCheck::Throttled { retry_after });
        }
        Admission::Admitted(a) => a,
    };
    let Some(uid) = uid else {
        return Ok(PasswordCheck::Refused("malformed uid"));
    };
    let result = tokio::task::spawn_blocking(move || directory.authenticate(&uid, &password))
        .await
        .map_err(|_| DbError::Blocking)?;
    let (check, settle): (PasswordCheck, Option<Settle>) = match result {
        Ok(agent) => (PasswordCheck::Accepted(agent), Some(succeeded)),
        Err(DirectoryError::InvalidCredentials(reason)) => (PasswordCheck::Refused(reason), None),
        Err(DirectoryError::Busy) => (PasswordCheck::Busy, Some(not_checked)),
        Err(DirectoryError::Unavailable(e) | DirectoryError::Config(e)) => {
            (PasswordCheck::Unavailable(e), Some(not_checked))
        }
    };
    if let Some(settle) = settle {
        db.run(move |conn| {
            settle(conn, &admitted)?;
            Ok::<_, DbError>(check)
        })
        .await
    } else {
        Ok(check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_the_account_and_the_address() {
        assert_eq!(
            pair_key("Principal.Demo", "192.0.2.1"),
            "pair:principal.demo|192.0.2.1"
        );
        assert_eq!(addr_key(UNKNOWN_ADDR), "addr:unknown");
        assert_eq!(
            Bucket::Holders.pair_key("J.Dupont2", "192.0.2.1"),
            "holder:j.dupont2|192.0.2.1"
        );
        assert_eq!(
            Bucket::Holders.addr_key("192.0.2.1"),
            "holder-addr:192.0.2.1"
        );
    }

    #[test]
    fn retry_after_is_the_rest_of_the_window_and_at_least_a_second() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let start = db_instant(now - Duration::minutes(5));
        assert_eq!(retry_after(start, 15, now), Duration::minutes(10));
        assert_eq!(retry_after(start, 5, now), Duration::seconds(1));
    }
}
