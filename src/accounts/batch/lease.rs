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

/// The batch while its lease is held by the owner.
type Held<'a> = dsl::Filter<
    dsl::Filter<batches::table, dsl::Eq<batches::id, i64>>,
    dsl::Eq<batches::lease_owner, &'a str>,
>;

/// A batch's lease as a worker asks for it, holds it and gives it back: which batch, whose.
#[derive(Debug, Clone, Copy)]
pub struct Lease<'a> {
    pub batch: BatchId,
    pub owner: &'a str,
}

impl<'a> Lease<'a> {
    pub fn new(batch: impl Into<BatchId>, owner: &'a str) -> Self {
        Self {
            batch: batch.into(),
            owner,
        }
    }

    fn held(self) -> Held<'a> {
        batches::table
            .filter(batches::id.eq(self.batch.get()))
            .filter(batches::lease_owner.eq(self.owner))
    }

    /// Takes (or renews) the lease; `false` when someone else holds it.
    pub fn acquire(self, conn: &mut DbConnection, now: DateTime<Utc>) -> QueryResult<bool> {
        let n = diesel::update(
            batches::table
                .filter(batches::id.eq(self.batch.get()))
                .filter(lapsed(now).or(batches::lease_owner.eq(self.owner))),
        )
        .set((
            batches::lease_owner.eq(Some(self.owner)),
            batches::lease_until.eq(lease_until(now)),
        ))
        .execute(conn)?;
        Ok(n == 1)
    }

    /// The heartbeat: extends the lease; `false` when the owner lost it.
    pub fn renew(self, conn: &mut DbConnection, now: DateTime<Utc>) -> QueryResult<bool> {
        let n = diesel::update(self.held())
            .set(batches::lease_until.eq(lease_until(now)))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Gives the lease back, noting the error that stopped the work, if any.
    pub fn release(self, conn: &mut DbConnection, error: Option<&str>) -> QueryResult<()> {
        diesel::update(self.held())
            .set((unleased(), batches::last_error.eq(error)))
            .execute(conn)
            .map(drop)
    }

    /// The rights check refused the next account: the batch stops here, until someone who
    /// holds the rights resumes or abandons it.
    pub fn interrupt(self, conn: &mut DbConnection, why: Interruption) -> QueryResult<()> {
        diesel::update(self.held())
            .set((batches::interruption.eq(Some(why.as_str())), unleased()))
            .execute(conn)
            .map(drop)
    }
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
