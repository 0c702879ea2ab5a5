//! Delegations in the database. Read on every request: revocation and expiry apply to the
//! very next one (no cache).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::{Delegation, Scope};
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::schema::delegations;
use crate::domain::{DelegationId, Uai};

type Row = (
    i64,
    String,
    String,
    String,
    String,
    NaiveDate,
    NaiveDate,
    String,
    String,
    NaiveDateTime,
    Option<String>,
    Option<NaiveDateTime>,
    Option<String>,
    Option<NaiveDateTime>,
);

macro_rules! columns {
    () => {
        (
            delegations::id,
            delegations::uai,
            delegations::grantee_uid,
            delegations::grantee_name,
            delegations::scope,
            delegations::valid_from,
            delegations::valid_until,
            delegations::motive,
            delegations::granted_by,
            delegations::granted_at,
            delegations::extended_by,
            delegations::extended_at,
            delegations::revoked_by,
            delegations::revoked_at,
        )
    };
}

fn from_row(r: Row) -> Option<Delegation> {
    Some(Delegation {
        id: r.0,
        uai: Uai::parse(&r.1).ok()?,
        grantee_uid: r.2,
        grantee_name: r.3,
        scope: Scope::parse(&r.4)?,
        valid_from: r.5,
        valid_until: r.6,
        motive: r.7,
        granted_by: r.8,
        granted_at: r.9.and_utc(),
        extended_by: r.10,
        extended_at: r.11.map(|t| t.and_utc()),
        revoked_by: r.12,
        revoked_at: r.13.map(|t| t.and_utc()),
    })
}

fn load(rows: Vec<Row>) -> Vec<Delegation> {
    rows.into_iter().filter_map(from_row).collect()
}

/// Every delegation granted to `uid` that is not long over (for authorization).
pub fn held_by(
    conn: &mut DbConnection,
    uid: &str,
    today: NaiveDate,
) -> QueryResult<Vec<Delegation>> {
    let since = today.pred_opt().unwrap_or(today);
    Ok(load(
        delegations::table
            .filter(delegations::grantee_uid.eq(uid))
            .filter(delegations::valid_until.ge(since))
            .filter(delegations::revoked_at.is_null())
            .order(delegations::id)
            .select(columns!())
            .load(conn)?,
    ))
}

/// Every delegation on `uai`, newest first (the principal's screen).
pub fn on_establishment(conn: &mut DbConnection, uai: &Uai) -> QueryResult<Vec<Delegation>> {
    Ok(load(
        delegations::table
            .filter(delegations::uai.eq(uai.as_str()))
            .order(delegations::id.desc())
            .select(columns!())
            .load(conn)?,
    ))
}

/// All delegations, or those of one establishment (the CLI).
pub fn all(conn: &mut DbConnection, uai: Option<&Uai>) -> QueryResult<Vec<Delegation>> {
    let mut q = delegations::table
        .order((delegations::uai, delegations::id))
        .select(columns!())
        .into_boxed();
    if let Some(u) = uai {
        q = q.filter(delegations::uai.eq(u.as_str().to_owned()));
    }
    Ok(load(q.load(conn)?))
}

pub fn find(
    conn: &mut DbConnection,
    id: impl Into<DelegationId>,
) -> QueryResult<Option<Delegation>> {
    let id = id.into().get();
    Ok(delegations::table
        .filter(delegations::id.eq(id))
        .select(columns!())
        .first::<Row>(conn)
        .optional()?
        .and_then(from_row))
}

/// A delegation to record.
#[derive(Debug, Clone)]
pub struct NewDelegation<'a> {
    pub uai: &'a Uai,
    pub grantee_uid: &'a str,
    pub grantee_name: &'a str,
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
        .values((
            delegations::uai.eq(new.uai.as_str()),
            delegations::grantee_uid.eq(new.grantee_uid),
            delegations::grantee_name.eq(new.grantee_name),
            delegations::scope.eq(new.scope.as_str()),
            delegations::valid_from.eq(new.valid_from),
            delegations::valid_until.eq(new.valid_until),
            delegations::motive.eq(new.motive),
            delegations::granted_by.eq(new.granted_by),
            delegations::granted_at.eq(db_instant(now)),
        ))
        .returning(delegations::id)
        .get_result(conn)
}

/// Revokes, unless already revoked; returns whether a row changed.
pub fn revoke(
    conn: &mut DbConnection,
    id: impl Into<DelegationId>,
    by: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let id = id.into().get();
    let n = diesel::update(
        delegations::table
            .filter(delegations::id.eq(id))
            .filter(delegations::revoked_at.is_null()),
    )
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
    let id = id.into().get();
    let n = diesel::update(
        delegations::table
            .filter(delegations::id.eq(id))
            .filter(delegations::revoked_at.is_null()),
    )
    .set((
        delegations::valid_until.eq(until),
        delegations::extended_by.eq(Some(by)),
        delegations::extended_at.eq(Some(db_instant(now))),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
