//! A batch's lease: who works on it, until when. Short (`LEASE_SECS`), renewed by the
//! worker's heartbeat, owned by `<instance id>/<run>` so a restarted instance gives its
//! former leases back at once.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::dsl;
use diesel::prelude::*;

use super::{Interruption, LEASE_SECS};
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::schema::batches;
use crate::domain::BatchId;

/// The batch `id` while `owner` holds its lease.
type Held<'a> = dsl::Filter<
    dsl::Filter<batches::table, dsl::Eq<batches::id, i64>>,
    dsl::Eq<batches::lease_owner, &'a str>,
>;

fn held(id: i64, owner: &str) -> Held<'_> {
    batches::table
        .filter(batches::id.eq(id))
        .filter(batches::lease_owner.eq(owner))
}

/// Nobody holds the lease.
type Unleased = (
    dsl::Eq<batches::lease_owner, Option<String>>,
    dsl::Eq<batches::lease_until, Option<NaiveDateTime>>,
);

fn unleased() -> Unleased {
    (
        batches::lease_owner.eq(None::<String>),
        batches::lease_until.eq(None::<NaiveDateTime>),
    )
}

/// No live lease at `now`: none taken, or run out.
pub type Lapsed =
    dsl::Or<dsl::IsNull<batches::lease_until>, dsl::LtEq<batches::lease_until, NaiveDateTime>>;

pub fn lapsed(now: DateTime<Utc>) -> Lapsed {
    batches::lease_until
        .is_null()
        .or(batches::lease_until.le(db_instant(now)))
}

/// A lease from `now` on.
pub fn lease_until(now: DateTime<Utc>) -> Option<NaiveDateTime> {
    Some(db_instant(now + Duration::seconds(LEASE_SECS)))
}

/// Takes (or renews) the lease for `owner`; `false` when someone else holds it.
pub fn acquire_lease(
    conn: &mut DbConnection,
    id: impl Into<BatchId>,
    owner: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let id = id.into().get();
    let n = diesel::update(
        batches::table
            .filter(batches::id.eq(id))
            .filter(lapsed(now).or(batches::lease_owner.eq(owner))),
    )
    .set((
        batches::lease_owner.eq(Some(owner)),
        batches::lease_until.eq(lease_until(now)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The heartbeat: extends `owner`'s lease; `false` when he lost it.
pub fn renew_lease(
    conn: &mut DbConnection,
    id: impl Into<BatchId>,
    owner: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let id = id.into().get();
    let n = diesel::update(held(id, owner))
        .set(batches::lease_until.eq(lease_until(now)))
        .execute(conn)?;
    Ok(n == 1)
}

/// At start, an instance gives back the leases its former process held (lease owners are
/// `<instance id>/<run>`): their work died with it and can be taken up again at once.
pub fn release_instance_leases(conn: &mut DbConnection, instance_id: &str) -> QueryResult<usize> {
    let escaped = instance_id
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    diesel::update(
        batches::table.filter(
            batches::lease_owner
                .like(format!("{escaped}/%"))
                .escape('\\'),
        ),
    )
    .set(unleased())
    .execute(conn)
}

/// Gives the lease back, noting the error that stopped the work, if any.
pub fn release_lease(
    conn: &mut DbConnection,
    id: impl Into<BatchId>,
    owner: &str,
    error: Option<&str>,
) -> QueryResult<()> {
    let id = id.into().get();
    diesel::update(held(id, owner))
        .set((unleased(), batches::last_error.eq(error)))
        .execute(conn)
        .map(drop)
}

/// The rights check refused the next account: the batch stops here, until someone who holds
/// the rights resumes or abandons it.
pub fn interrupt(
    conn: &mut DbConnection,
    id: impl Into<BatchId>,
    owner: &str,
    why: Interruption,
) -> QueryResult<()> {
    let id = id.into().get();
    diesel::update(held(id, owner))
        .set((batches::interruption.eq(Some(why.as_str())), unleased()))
        .execute(conn)
        .map(drop)
}

/// The batches job stops a batch it may not take up (a parents' batch: the gate must be
/// passed again by a person), unless someone holds it.
pub fn interrupt_unleased(
    conn: &mut DbConnection,
    id: impl Into<BatchId>,
    why: Interruption,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let id = id.into().get();
    let n = diesel::update(
        batches::table
            .filter(batches::id.eq(id))
            .filter(lapsed(now)),
    )
    .set((batches::interruption.eq(Some(why.as_str())), unleased()))
    .execute(conn)?;
    Ok(n == 1)
}
