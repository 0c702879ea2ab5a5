//! A periodic job's lease, held in the database (`job_leases`): among several instances,
//! the one that holds it does the work; the others take over once it lapses (its holder
//! died or stopped renewing it). The holder renews it at each round.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::schema::job_leases;

/// Takes (or renews) the lease of job `name` for `owner` until `now + ttl`; `false` while
/// someone else holds it.
pub fn acquire(
    conn: &mut DbConnection,
    name: &str,
    owner: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> QueryResult<bool> {
    let until = db_instant(now + ttl);
    let lapsed = job_leases::expires_at.le(db_instant(now));
    let free = job_leases::expires_at.is_null().or(lapsed);
    let mine_or_free = free.or(job_leases::owner.eq(owner));
    let row = job_leases::table.filter(job_leases::name.eq(name));
    let n = diesel::update(row.filter(mine_or_free))
        .set((
            job_leases::owner.eq(owner),
            job_leases::expires_at.eq(until),
        ))
        .execute(conn)?;
    if n == 1 {
        return Ok(true);
    }
    if holder(conn, name)?.is_some() {
        return Ok(false);
    }
    // The job's first round ever: its row is created (one instance wins the race; a
    // savepoint keeps the loser's transaction usable).
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(job_leases::table)
            .values((
                job_leases::name.eq(name),
                job_leases::owner.eq(Some(owner)),
                job_leases::expires_at.eq(Some(until)),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// A lease as stored: its owner and until when (both empty before the first round).
pub type Holder = (Option<String>, Option<DateTime<Utc>>);

/// Who holds the lease of job `name`, until when (`None`: no round yet).
pub fn holder(conn: &mut DbConnection, name: &str) -> QueryResult<Option<Holder>> {
    let row: Option<(Option<String>, Option<chrono::NaiveDateTime>)> = job_leases::table
        .filter(job_leases::name.eq(name))
        .select((job_leases::owner, job_leases::expires_at))
        .first(conn)
        .optional()?;
    Ok(row.map(|(owner, until)| (owner, until.map(|t| t.and_utc()))))
}
