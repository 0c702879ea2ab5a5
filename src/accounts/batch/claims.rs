//! An account belongs to at most one unfinished batch: each item claims its account (a
//! partial unique index backs the check made inside the serialised creation transaction).

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::db::schema::{batch_items, batches};
use crate::domain::Uai;

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
