//! The batches' rows: creation with its claims, leases, items, printing and wiping.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::{Batch, Interruption, LEASE_SECS, Progress, RETENTION_HOURS};
use crate::accounts::AccountState;
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::schema::{batch_items, batches};
use crate::domain::Uai;

#[derive(Queryable, Selectable)]
#[diesel(table_name = batches)]
struct BatchRow {
    id: i64,
    kind: String,
    uai: String,
    division: String,
    states: String,
    created_by: String,
    created_at: NaiveDateTime,
    acting_uid: Option<String>,
    lease_owner: Option<String>,
    lease_until: Option<NaiveDateTime>,
    printed_at: Option<NaiveDateTime>,
    wiped_at: Option<NaiveDateTime>,
    last_error: Option<String>,
    interruption: Option<String>,
    gate: Option<String>,
    abandoned_by: Option<String>,
    abandoned_at: Option<NaiveDateTime>,
}

fn undecodable(what: &str, value: &str) -> DieselError {
    DieselError::DeserializationError(format!("stored batch {what} {value:?} is not valid").into())
}

impl TryFrom<BatchRow> for Batch {
    type Error = DieselError;

    fn try_from(r: BatchRow) -> Result<Self, DieselError> {
        let uai = Uai::parse(&r.uai).map_err(|_| undecodable("UAI", &r.uai))?;
        let mut states = Vec::new();
        for s in r.states.split(',') {
            states.push(AccountState::parse(s).ok_or_else(|| undecodable("state", s))?);
        }
        let interruption = match r.interruption.as_deref() {
            Some(s) => Some(Interruption::parse(s).ok_or_else(|| undecodable("interruption", s))?),
            None => None,
        };
        Ok(Batch {
            id: r.id,
            kind: r.kind,
            uai,
            division: r.division,
            states,
            acting_uid: r.acting_uid.unwrap_or_else(|| r.created_by.clone()),
            created_by: r.created_by,
            created_at: r.created_at.and_utc(),
            lease_owner: r.lease_owner,
            lease_until: r.lease_until.map(|t| t.and_utc()),
            printed_at: r.printed_at.map(|t| t.and_utc()),
            wiped_at: r.wiped_at.map(|t| t.and_utc()),
            last_error: r.last_error,
            interruption,
            gate: r.gate,
            abandoned_by: r.abandoned_by,
            abandoned_at: r.abandoned_at.map(|t| t.and_utc()),
        })
    }
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Batch>> {
    batches::table
        .filter(batches::id.eq(id))
        .select(BatchRow::as_select())
        .first(conn)
        .optional()?
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
}

impl Created {
    /// The batch concerned: the new one, the one of the key, or the one that holds the accounts.
    pub fn id(self) -> i64 {
        match self {
            Created::New(id) | Created::Existing(id) => id,
            Created::Overlap { batch_id, .. } => batch_id,
        }
    }
}

/// The unfinished batch that holds one of `accounts` of `kind`, and how many it holds.
pub fn claimed_by(
    conn: &mut DbConnection,
    kind: &str,
    accounts: &[i64],
) -> QueryResult<Option<(i64, i64)>> {
    let mut holders: Vec<i64> = Vec::new();
    for chunk in accounts.chunks(500) {
        holders.extend(
            batch_items::table
                .filter(batch_items::claimed.eq(true))
                .filter(batch_items::account_kind.eq(kind))
                .filter(batch_items::account_id.eq_any(chunk))
                .select(batch_items::batch_id)
                .load::<i64>(conn)?,
        );
    }
    let Some(first) = holders.iter().min().copied() else {
        return Ok(None);
    };
    let count = holders.iter().filter(|b| **b == first).count() as i64;
    Ok(Some((first, count)))
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
    let existing: Option<i64> = batches::table
        .filter(batches::idempotency_key.eq(new.idempotency_key))
        .select(batches::id)
        .first(conn)
        .optional()?;
    if let Some(id) = existing {
        return Ok(Created::Existing(id));
    }
    if let Some((batch_id, accounts)) = claimed_by(conn, new.kind, new.accounts)? {
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
            batches::lease_until.eq(owner.map(|_| db_instant(now + Duration::seconds(LEASE_SECS)))),
        ))
        .returning(batches::id)
        .get_result::<i64>(conn);
    let id = match inserted {
        Ok(id) => id,
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            let id = batches::table
                .filter(batches::idempotency_key.eq(new.idempotency_key))
                .select(batches::id)
                .first(conn)?;
            return Ok(Created::Existing(id));
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

/// The heartbeat: extends `owner`'s lease; `false` when he lost it.
pub fn renew_lease(
    conn: &mut DbConnection,
    id: i64,
    owner: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let n = diesel::update(
        batches::table
            .filter(batches::id.eq(id))
            .filter(batches::lease_owner.eq(owner)),
    )
    .set(batches::lease_until.eq(Some(db_instant(now + Duration::seconds(LEASE_SECS)))))
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
    .set((
        batches::lease_owner.eq(None::<String>),
        batches::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// Someone with the rights takes the work up again: the error and the interruption are
/// forgotten, and the work now runs under his rights (and the gate he passed).
pub fn prepare_resume(
    conn: &mut DbConnection,
    id: i64,
    acting_uid: &str,
    gate: Option<&str>,
) -> QueryResult<()> {
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

/// The rights check refused the next account: the batch stops here, until someone who holds
/// the rights resumes or abandons it.
pub fn interrupt(
    conn: &mut DbConnection,
    id: i64,
    owner: &str,
    why: Interruption,
) -> QueryResult<()> {
    diesel::update(
        batches::table
            .filter(batches::id.eq(id))
            .filter(batches::lease_owner.eq(owner)),
    )
    .set((
        batches::interruption.eq(Some(why.as_str())),
        batches::lease_owner.eq(None::<String>),
        batches::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
    .map(drop)
}

/// The batches job stops a batch it may not take up (a parents' batch: the gate must be
/// passed again by a person), unless someone holds it.
pub fn interrupt_unleased(
    conn: &mut DbConnection,
    id: i64,
    why: Interruption,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let n = diesel::update(
        batches::table.filter(batches::id.eq(id)).filter(
            batches::lease_until
                .is_null()
                .or(batches::lease_until.le(db_instant(now))),
        ),
    )
    .set((
        batches::interruption.eq(Some(why.as_str())),
        batches::lease_owner.eq(None::<String>),
        batches::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Gives up the accounts not done yet (they keep their password and leave the batch);
/// returns how many.
pub fn abandon_pending(
    conn: &mut DbConnection,
    id: i64,
    by: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let n = diesel::update(
        batch_items::table
            .filter(batch_items::batch_id.eq(id))
            .filter(batch_items::status.eq("pending")),
    )
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

/// Takes an account out of the unfinished batches (of every establishment but `keep_uai`,
/// when given): its pending items there are abandoned and none of its items there claims it
/// any more, so their letters leave it out. For a pupil who moved away, and for a single
/// reset, which makes any letter of a batch void.
pub fn withdraw_account(
    conn: &mut DbConnection,
    kind: &str,
    account: i64,
    keep_uai: Option<&Uai>,
) -> QueryResult<usize> {
    let keep = keep_uai.map(|u| u.as_str().to_owned()).unwrap_or_default();
    let batches_of = || {
        batches::table
            .filter(batches::kind.eq(kind))
            .filter(batches::uai.ne(keep.clone()))
            .select(batches::id)
    };
    let mine = || {
        batch_items::table
            .filter(batch_items::account_kind.eq(kind))
            .filter(batch_items::account_id.eq(account))
    };
    diesel::update(
        mine()
            .filter(batch_items::status.eq("pending"))
            .filter(batch_items::batch_id.eq_any(batches_of())),
    )
    .set(batch_items::status.eq("abandoned"))
    .execute(conn)?;
    diesel::update(
        mine()
            .filter(batch_items::claimed.eq(true))
            .filter(batch_items::batch_id.eq_any(batches_of())),
    )
    .set((
        batch_items::claimed.eq(false),
        batch_items::sealed_password.eq(None::<String>),
    ))
    .execute(conn)
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

pub fn counts(conn: &mut DbConnection, id: i64) -> QueryResult<Progress> {
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
pub fn progress(conn: &mut DbConnection, id: i64) -> QueryResult<(i64, i64)> {
    let p = counts(conn, id)?;
    Ok((p.done, p.total()))
}

/// The done items still in the batch, in order: (account id, sealed password). An account
/// withdrawn from it (a pupil who moved to another establishment) is left out.
pub fn sealed_passwords(
    conn: &mut DbConnection,
    id: i64,
) -> QueryResult<Vec<(i64, Option<String>)>> {
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
    diesel::update(
        batch_items::table
            .filter(batch_items::batch_id.eq(id))
            .filter(batch_items::status.eq("pending")),
    )
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
pub fn mark_printed(conn: &mut DbConnection, id: i64, now: DateTime<Utc>) -> QueryResult<()> {
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
        .filter(
            batches::lease_until
                .is_null()
                .or(batches::lease_until.le(db_instant(now))),
        )
        .filter(batches::last_error.is_null())
        .filter(batches::interruption.is_null())
        .filter(batches::wiped_at.is_null())
        .filter(batches::created_at.gt(db_instant(now - Duration::hours(RETENTION_HOURS))))
        .order(batches::id)
        .select(batches::id)
        .load(conn)
}
