//! The batches' rows: creation with its claims, leases, items, printing and wiping.

use chrono::{DateTime, Duration, Utc};
use diesel::dsl;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::{Batch, Progress, RETENTION_HOURS};
use crate::accounts::AccountState;
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::decode::find_row;
use crate::db::schema::{batch_items, batches};
use crate::domain::{BatchId, Uai};

use super::row::BatchRow;

pub fn find(conn: &mut DbConnection, id: impl Into<BatchId>) -> QueryResult<Option<Batch>> {
    find_row::<BatchRow, _>(conn, batches::table, id.into().get())?
        .map(Batch::try_from)
        .transpose()
}

/// What to create.
pub struct NewBatch<'a> {
    pub idempotency_key: &'a str,
    pub kind: &'a str,
    pub uai: &'a Uai,
    pub division: &'a str,
    pub states: &'a [AccountState],
    pub created_by: &'a str,
    pub gate: Option<&'a str>,
    pub accounts: &'a [i64],
}

/// What `create` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// A new batch.
    New(i64),
    /// The key was used already: that batch (a double submit makes one batch).
    Existing(i64),
    /// Some of the accounts belong to this unfinished batch already; nothing was created.
    Overlap { batch_id: i64, accounts: i64 },
    /// The key belongs to another agent's batch, or to another class: nothing was created
    /// (a form from another session or another tab, replayed).
    StaleKey(i64),
}

impl Created {
    /// The batch concerned: the new one, the one of the key, or the one that holds the accounts.
    pub fn id(self) -> i64 {
        match self {
            Created::New(id) | Created::Existing(id) | Created::StaleKey(id) => id,
            Created::Overlap { batch_id, .. } => batch_id,
        }
    }
}

/// The batch of `new`'s key, if any: the same one (a double submit) only when it is this
/// agent's, on this establishment and this class.
fn same_key(conn: &mut DbConnection, new: &NewBatch<'_>) -> QueryResult<Option<Created>> {
    let found: Option<(i64, String, String, String)> = batches::table
        .filter(batches::idempotency_key.eq(new.idempotency_key))
        .select((
            batches::id,
            batches::created_by,
            batches::uai,
            batches::division,
        ))
        .first(conn)
        .optional()?;
    Ok(found.map(|(id, by, uai, division)| {
        if by == new.created_by && uai == new.uai.as_str() && division == new.division {
            Created::Existing(id)
        } else {
            Created::StaleKey(id)
        }
    }))
}

/// Creates the batch and its items, each claiming its account. Call it inside an audited
/// transaction (serialised), so the claim check and the inserts cannot interleave with
/// another creation; the partial unique index backs it up.
pub fn create(
    conn: &mut DbConnection,
    new: &NewBatch<'_>,
    now: DateTime<Utc>,
) -> QueryResult<Created> {
    create_leased(conn, new, None, now)
}

/// `create`, the new batch leased to `owner` at once (its runner starts right after, and the
/// batches job never sees it unowned).
pub fn create_leased(
    conn: &mut DbConnection,
    new: &NewBatch<'_>,
    owner: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<Created> {
    if let Some(found) = same_key(conn, new)? {
        return Ok(found);
    }
    if let Some((batch_id, accounts)) = super::claims::claimed_by(conn, new.kind, new.accounts)? {
        return Ok(Created::Overlap { batch_id, accounts });
    }
    let states: Vec<&str> = new.states.iter().map(|s| s.as_str()).collect();
    let inserted = diesel::insert_into(batches::table)
        .values((
            batches::idempotency_key.eq(new.idempotency_key),
            batches::kind.eq(new.kind),
            batches::uai.eq(new.uai.as_str()),
            batches::division.eq(new.division),
            batches::states.eq(states.join(",")),
            batches::created_by.eq(new.created_by),
            batches::acting_uid.eq(Some(new.created_by)),
            batches::gate.eq(new.gate),
            batches::created_at.eq(db_instant(now)),
            batches::lease_owner.eq(owner),
            batches::lease_until.eq(owner.and_then(|_| super::lease::lease_until(now))),
        ))
        .returning(batches::id)
        .get_result::<i64>(conn);
    let id = match inserted {
        Ok(id) => id,
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            return same_key(conn, new)?.ok_or(DieselError::NotFound);
        }
        Err(e) => return Err(e),
    };
    for (position, account) in new.accounts.iter().enumerate() {
        diesel::insert_into(batch_items::table)
            .values((
                batch_items::batch_id.eq(id),
                batch_items::account_kind.eq(new.kind),
                batch_items::account_id.eq(account),
                batch_items::position.eq(position as i32),
                batch_items::status.eq("pending"),
                batch_items::claimed.eq(true),
            ))
            .execute(conn)?;
    }
    Ok(Created::New(id))
}

/// Someone with the rights takes the work up again: the error and the interruption are
/// forgotten, and the work now runs under his rights (and the gate he passed).
pub fn prepare_resume(
    conn: &mut DbConnection,
    id: impl Into<BatchId>,
    acting_uid: &str,
    gate: Option<&str>,
) -> QueryResult<()> {
    let id = id.into().get();
    diesel::update(batches::table.filter(batches::id.eq(id)))
        .set((
            batches::last_error.eq(None::<String>),
            batches::interruption.eq(None::<String>),
            batches::acting_uid.eq(Some(acting_uid)),
            batches::gate.eq(gate),
        ))
        .execute(conn)
        .map(drop)
}

/// The items of batch `id` still to be done.
type PendingOf = dsl::Filter<
    dsl::Filter<batch_items::table, dsl::Eq<batch_items::batch_id, i64>>,
    dsl::Eq<batch_items::status, &'static str>,
>;

fn pending_of(id: i64) -> PendingOf {
    batch_items::table
        .filter(batch_items::batch_id.eq(id))
        .filter(batch_items::status.eq("pending"))
}

/// Gives up the accounts not done yet (they keep their password and leave the batch);
/// returns how many.
pub fn abandon_pending(
    conn: &mut DbConnection,
    id: impl Into<BatchId>,
    by: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let id = id.into().get();
    let n = diesel::update(pending_of(id))
        .set((
            batch_items::status.eq("abandoned"),
            batch_items::claimed.eq(false),
        ))
        .execute(conn)?;
    diesel::update(batches::table.filter(batches::id.eq(id)))
        .set((
            batches::abandoned_by.eq(Some(by)),
            batches::abandoned_at.eq(Some(db_instant(now))),
            batches::interruption.eq(None::<String>),
            batches::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(n)
}

/// The next pending items: (item id, account id).
pub fn pending(
    conn: &mut DbConnection,
    id: impl Into<BatchId>,
    limit: i64,
) -> QueryResult<Vec<(i64, i64)>> {
    let id = id.into().get();
    pending_of(id)
        .order(batch_items::position)
        .limit(limit)
        .select((batch_items::id, batch_items::account_id))
        .load(conn)
}

/// Marks an item done with its sealed password; `false` when it is not pending any more
/// (done by another worker, or abandoned): then the caller rolls its transaction back.
pub fn complete_item(
    conn: &mut DbConnection,
    item: i64,
    sealed: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let n = diesel::update(
        batch_items::table
            .filter(batch_items::id.eq(item))
            .filter(batch_items::status.eq("pending")),
    )
    .set((
        batch_items::status.eq("done"),
        batch_items::sealed_password.eq(Some(sealed)),
        batch_items::done_at.eq(Some(db_instant(now))),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Whether the item is still to be done (not withdrawn, not done elsewhere).
pub fn item_pending(conn: &mut DbConnection, item: i64) -> QueryResult<bool> {
    let n: i64 = batch_items::table
        .filter(batch_items::id.eq(item))
        .filter(batch_items::status.eq("pending"))
        .count()
        .get_result(conn)?;
    Ok(n == 1)
}

/// Sets one pending account aside (the store refused it); the batch goes on without it.
pub fn abandon_item(conn: &mut DbConnection, item: i64) -> QueryResult<usize> {
    diesel::update(
        batch_items::table
            .filter(batch_items::id.eq(item))
            .filter(batch_items::status.eq("pending")),
    )
    .set(batch_items::status.eq("abandoned"))
    .execute(conn)
}

pub fn counts(conn: &mut DbConnection, id: impl Into<BatchId>) -> QueryResult<Progress> {
    let id = id.into().get();
    let rows: Vec<String> = batch_items::table
        .filter(batch_items::batch_id.eq(id))
        .select(batch_items::status)
        .load(conn)?;
    let count = |s: &str| rows.iter().filter(|x| *x == s).count() as i64;
    Ok(Progress {
        done: count("done"),
        pending: count("pending"),
        abandoned: count("abandoned"),
    })
}

/// (done, total)
pub fn progress(conn: &mut DbConnection, id: impl Into<BatchId>) -> QueryResult<(i64, i64)> {
    let id = id.into().get();
    let p = counts(conn, id)?;
    Ok((p.done, p.total()))
}

/// The done items still in the batch, in order: (account id, sealed password). An account
/// withdrawn from it (a pupil who moved to another establishment) is left out.
pub fn sealed_passwords(
    conn: &mut DbConnection,
    id: impl Into<BatchId>,
) -> QueryResult<Vec<(i64, Option<String>)>> {
    let id = id.into().get();
    batch_items::table
        .filter(batch_items::batch_id.eq(id))
        .filter(batch_items::status.eq("done"))
        .filter(batch_items::claimed.eq(true))
        .order(batch_items::position)
        .select((batch_items::account_id, batch_items::sealed_password))
        .load(conn)
}

/// Wipes the passwords and frees the accounts for another batch; what was still to do is
/// given up (a batch past its 24 hours never resets anyone any more).
fn close(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    diesel::update(pending_of(id))
        .set(batch_items::status.eq("abandoned"))
        .execute(conn)?;
    diesel::update(batch_items::table.filter(batch_items::batch_id.eq(id)))
        .set((
            batch_items::sealed_password.eq(None::<String>),
            batch_items::claimed.eq(false),
        ))
        .execute(conn)
        .map(drop)
}

/// The letters are printed: wipe the passwords.
pub fn mark_printed(
    conn: &mut DbConnection,
    id: impl Into<BatchId>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let id = id.into().get();
    close(conn, id)?;
    diesel::update(batches::table.filter(batches::id.eq(id)))
        .set((
            batches::printed_at.eq(Some(db_instant(now))),
            batches::wiped_at.eq(Some(db_instant(now))),
        ))
        .execute(conn)
        .map(drop)
}

/// Wipes the passwords of every batch older than 24 hours; returns those batches.
pub fn wipe_expired(conn: &mut DbConnection, now: DateTime<Utc>) -> QueryResult<Vec<i64>> {
    let old: Vec<i64> = batches::table
        .filter(batches::wiped_at.is_null())
        .filter(batches::created_at.le(db_instant(now - Duration::hours(RETENTION_HOURS))))
        .select(batches::id)
        .load(conn)?;
    for id in &old {
        close(conn, *id)?;
        diesel::update(batches::table.filter(batches::id.eq(id)))
            .set(batches::wiped_at.eq(Some(db_instant(now))))
            .execute(conn)?;
    }
    Ok(old)
}

/// Batches whose worker died: accounts still pending, no live lease, not stopped by an error
/// or a rights check, passwords still kept. Oldest first.
pub fn orphans(conn: &mut DbConnection, now: DateTime<Utc>) -> QueryResult<Vec<i64>> {
    let with_pending = batch_items::table
        .filter(batch_items::status.eq("pending"))
        .select(batch_items::batch_id);
    batches::table
        .filter(batches::id.eq_any(with_pending))
        .filter(super::lease::lapsed(now))
        .filter(batches::last_error.is_null())
        .filter(batches::interruption.is_null())
        .filter(batches::wiped_at.is_null())
        .filter(batches::created_at.gt(db_instant(now - Duration::hours(RETENTION_HOURS))))
        .order(batches::id)
        .select(batches::id)
        .load(conn)
}
