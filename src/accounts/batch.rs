//! Batches of letters for a division (BRIEF rule 8): crash-safe and idempotent. Each account
//! of the batch is reset in its own transaction together with its audit row and its
//! password, kept sealed (AES-256-GCM, bound to the batch and the account) until the agent
//! confirms the letters are printed, or 24 hours at most. A lease keeps two tabs or two
//! instances from working on one batch at once.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::AccountState;
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::schema::{batch_items, batches};
use crate::domain::Uai;

pub const SEAL_PURPOSE: &str = "batch-password";
pub const RETENTION_HOURS: i64 = 24;
pub const LEASE_SECS: i64 = 60;

/// The sealed password's binding: this batch, this account.
pub fn binding(batch_id: i64, account_id: i64) -> Vec<u8> {
    format!("educt-batch/1:{batch_id}:{account_id}").into_bytes()
}

#[derive(Debug, Clone)]
pub struct Batch {
    pub id: i64,
    /// `eleves` or `responsables`.
    pub kind: String,
    pub uai: Uai,
    pub division: String,
    pub states: Vec<AccountState>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub printed_at: Option<DateTime<Utc>>,
    pub wiped_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl Batch {
    pub fn is_leased(&self, now: DateTime<Utc>) -> bool {
        self.lease_until.is_some_and(|t| t > now)
    }

    /// Passwords are kept 24 hours at most, and wiped once the letters are printed.
    pub fn passwords_available(&self, now: DateTime<Utc>) -> bool {
        self.wiped_at.is_none() && now - self.created_at < Duration::hours(RETENTION_HOURS)
    }
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    String,
    NaiveDateTime,
    Option<String>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<String>,
);

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Batch>> {
    let row: Option<Row> = batches::table
        .filter(batches::id.eq(id))
        .select((
            batches::id,
            batches::kind,
            batches::uai,
            batches::division,
            batches::states,
            batches::created_by,
            batches::created_at,
            batches::lease_owner,
            batches::lease_until,
            batches::printed_at,
            batches::wiped_at,
            batches::last_error,
        ))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|r| {
        Some(Batch {
            id: r.0,
            kind: r.1,
            uai: Uai::parse(&r.2).ok()?,
            division: r.3,
            states: r.4.split(',').filter_map(AccountState::parse).collect(),
            created_by: r.5,
            created_at: r.6.and_utc(),
            lease_owner: r.7,
            lease_until: r.8.map(|t| t.and_utc()),
            printed_at: r.9.map(|t| t.and_utc()),
            wiped_at: r.10.map(|t| t.and_utc()),
            last_error: r.11,
        })
    }))
}

/// What to create.
pub struct NewBatch<'a> {
    pub idempotency_key: &'a str,
    pub kind: &'a str,
    pub uai: &'a Uai,
    pub division: &'a str,
    pub states: &'a [AccountState],
    pub created_by: &'a str,
    pub accounts: &'a [i64],
}

/// Creates the batch and its items, or, when the key was used already, returns that batch
/// (`false`): a double submit makes one batch.
pub fn create(
    conn: &mut DbConnection,
    new: &NewBatch<'_>,
    now: DateTime<Utc>,
) -> QueryResult<(i64, bool)> {
    let existing: Option<i64> = batches::table
        .filter(batches::idempotency_key.eq(new.idempotency_key))
        .select(batches::id)
        .first(conn)
        .optional()?;
    if let Some(id) = existing {
        return Ok((id, false));
    }
    let states: Vec<&str> = new.states.iter().map(|s| s.as_str()).collect();
    let inserted = conn.transaction(|c| {
        diesel::insert_into(batches::table)
            .values((
                batches::idempotency_key.eq(new.idempotency_key),
                batches::kind.eq(new.kind),
                batches::uai.eq(new.uai.as_str()),
                batches::division.eq(new.division),
                batches::states.eq(states.join(",")),
                batches::created_by.eq(new.created_by),
                batches::created_at.eq(db_instant(now)),
            ))
            .returning(batches::id)
            .get_result::<i64>(c)
    });
    let id = match inserted {
        Ok(id) => id,
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            let id = batches::table
                .filter(batches::idempotency_key.eq(new.idempotency_key))
                .select(batches::id)
                .first(conn)?;
            return Ok((id, false));
        }
        Err(e) => return Err(e),
    };
    for (position, account) in new.accounts.iter().enumerate() {
        diesel::insert_into(batch_items::table)
            .values((
                batch_items::batch_id.eq(id),
                batch_items::account_id.eq(account),
                batch_items::position.eq(position as i32),
                batch_items::status.eq("pending"),
            ))
            .execute(conn)?;
    }
    Ok((id, true))
}

/// Takes (or renews) the lease for `owner`; `false` when someone else holds it.
pub fn acquire_lease(
    conn: &mut DbConnection,
    id: i64,
    owner: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let n = diesel::update(
        batches::table.filter(batches::id.eq(id)).filter(
            batches::lease_until
                .is_null()
                .or(batches::lease_until.le(db_instant(now)))
                .or(batches::lease_owner.eq(owner)),
        ),
    )
    .set((
        batches::lease_owner.eq(Some(owner)),
        batches::lease_until.eq(Some(db_instant(now + Duration::seconds(LEASE_SECS)))),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Forgets the error of an earlier run (the work is about to be resumed).
pub fn clear_error(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    diesel::update(batches::table.filter(batches::id.eq(id)))
        .set(batches::last_error.eq(None::<String>))
        .execute(conn)
        .map(drop)
}

/// Gives the lease back, noting the error that stopped the work, if any.
pub fn release_lease(
    conn: &mut DbConnection,
    id: i64,
    owner: &str,
    error: Option<&str>,
) -> QueryResult<()> {
    diesel::update(
        batches::table
            .filter(batches::id.eq(id))
            .filter(batches::lease_owner.eq(owner)),
    )
    .set((
        batches::lease_owner.eq(None::<String>),
        batches::lease_until.eq(None::<NaiveDateTime>),
        batches::last_error.eq(error),
    ))
    .execute(conn)
    .map(drop)
}

/// The next pending items: (item id, account id).
pub fn pending(conn: &mut DbConnection, id: i64, limit: i64) -> QueryResult<Vec<(i64, i64)>> {
    batch_items::table
        .filter(batch_items::batch_id.eq(id))
        .filter(batch_items::status.eq("pending"))
        .order(batch_items::position)
        .limit(limit)
        .select((batch_items::id, batch_items::account_id))
        .load(conn)
}

/// Marks an item done with its sealed password; `false` when it was done already (then the
/// caller rolls its transaction back: one password per account).
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

/// (done, total)
pub fn progress(conn: &mut DbConnection, id: i64) -> QueryResult<(i64, i64)> {
    let rows: Vec<String> = batch_items::table
        .filter(batch_items::batch_id.eq(id))
        .select(batch_items::status)
        .load(conn)?;
    let done = rows.iter().filter(|s| *s == "done").count() as i64;
    Ok((done, rows.len() as i64))
}

/// The done items in order: (account id, sealed password).
pub fn sealed_passwords(
    conn: &mut DbConnection,
    id: i64,
) -> QueryResult<Vec<(i64, Option<String>)>> {
    batch_items::table
        .filter(batch_items::batch_id.eq(id))
        .filter(batch_items::status.eq("done"))
        .order(batch_items::position)
        .select((batch_items::account_id, batch_items::sealed_password))
        .load(conn)
}

/// The letters are printed: wipe the passwords.
pub fn mark_printed(conn: &mut DbConnection, id: i64, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(batch_items::table.filter(batch_items::batch_id.eq(id)))
        .set(batch_items::sealed_password.eq(None::<String>))
        .execute(conn)?;
    diesel::update(batches::table.filter(batches::id.eq(id)))
        .set((
            batches::printed_at.eq(Some(db_instant(now))),
            batches::wiped_at.eq(Some(db_instant(now))),
        ))
        .execute(conn)
        .map(drop)
}

/// Wipes the passwords of every batch older than 24 hours; returns how many batches.
pub fn wipe_expired(conn: &mut DbConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    let old: Vec<i64> = batches::table
        .filter(batches::wiped_at.is_null())
        .filter(batches::created_at.le(db_instant(now - Duration::hours(RETENTION_HOURS))))
        .select(batches::id)
        .load(conn)?;
    for id in &old {
        diesel::update(batch_items::table.filter(batch_items::batch_id.eq(id)))
            .set(batch_items::sealed_password.eq(None::<String>))
            .execute(conn)?;
        diesel::update(batches::table.filter(batches::id.eq(id)))
            .set(batches::wiped_at.eq(Some(db_instant(now))))
            .execute(conn)?;
    }
    Ok(old.len())
}
