//! Delegations in the database. Read on every request: revocation and expiry apply to the
//! very next one (no cache).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl;
use diesel::prelude::*;

use super::{Delegation, Scope};
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::decode::{TextRef, find_row};
use crate::db::schema::delegations;
use crate::domain::{DelegationId, Uai};

/// Every delegation granted to `uid` that is not long over (for authorization).
pub fn held_by(
    conn: &mut DbConnection,
    uid: &str,
    today: NaiveDate,
) -> QueryResult<Vec<Delegation>> {
    let since = today.pred_opt().unwrap_or(today);
    delegations::table
        .filter(delegations::grantee_uid.eq(uid))
        .filter(delegations::valid_until.ge(since))
        .filter(delegations::revoked_at.is_null())
        .order(delegations::id)
        .select(Delegation::as_select())
        .load(conn)
}

/// Every delegation on `uai`, newest first (the principal's screen).
pub fn on_establishment(conn: &mut DbConnection, uai: &Uai) -> QueryResult<Vec<Delegation>> {
    delegations::table
        .filter(delegations::uai.eq(uai.as_str()))
        .order(delegations::id.desc())
        .select(Delegation::as_select())
        .load(conn)
}

/// All delegations, or those of one establishment (the CLI).
pub fn all(conn: &mut DbConnection, uai: Option<&Uai>) -> QueryResult<Vec<Delegation>> {
    let mut q = delegations::table
        .order((delegations::uai, delegations::id))
        .select(Delegation::as_select())
        .into_boxed();
    if let Some(u) = uai {
        q = q.filter(delegations::uai.eq(u.as_str().to_owned()));
    }
    q.load(conn)
}

pub fn find(
    conn: &mut DbConnection,
    id: impl Into<DelegationId>,
) -> QueryResult<Option<Delegation>> {
    find_row(conn, delegations::table, id.into().get())
}

/// A delegation to record (the grant time is added by [`insert`]).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = delegations)]
pub struct NewDelegation<'a> {
    #[diesel(serialize_as = TextRef<'a>)]
    pub uai: &'a Uai,
    pub grantee_uid: &'a str,
    pub grantee_name: &'a str,
    #[diesel(serialize_as = TextRef<'a>)]
    pub scope: Scope,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub motive: &'a str,
    pub granted_by: &'a str,
}

pub fn insert(
    conn: &mut DbConnection,
    new: &NewDelegation<'_>,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    diesel::insert_into(delegations::table)
        .values((new.clone(), delegations::granted_at.eq(db_instant(now))))
        .returning(delegations::id)
        .get_result(conn)
}

/// The delegation `id` unless revoked: what a revocation or an extension changes.
type Live = dsl::Filter<
    dsl::Filter<delegations::table, dsl::Eq<delegations::id, i64>>,
    dsl::IsNull<delegations::revoked_at>,
>;

fn live(id: impl Into<DelegationId>) -> Live {
    delegations::table
        .filter(delegations::id.eq(id.into().get()))
        .filter(delegations::revoked_at.is_null())
}

/// Revokes, unless already revoked; returns whether a row changed.
pub fn revoke(
    conn: &mut DbConnection,
    id: impl Into<DelegationId>,
    by: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let n = diesel::update(live(id))
        .set((
            delegations::revoked_by.eq(Some(by)),
            delegations::revoked_at.eq(Some(db_instant(now))),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn extend(
    conn: &mut DbConnection,
    id: impl Into<DelegationId>,
    until: NaiveDate,
    by: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let n = diesel::update(live(id))
        .set((
            delegations::valid_until.eq(until),
            delegations::extended_by.eq(Some(by)),
            delegations::extended_at.eq(Some(db_instant(now))),
        ))
        .execute(conn)?;
    Ok(n == 1)
}
