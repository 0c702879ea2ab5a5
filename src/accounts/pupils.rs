//! Pupils' accounts in the database: search, page, state changes, statistics.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::dsl::count_star;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::AccountState;
use crate::db::schema::pupils;
use crate::db::{DbConnection, MultiBackend};
use crate::domain::{Ine, Uai, search_key};

/// A pupil as the pages show him.
#[derive(Debug, Clone)]
pub struct Pupil {
    pub id: i64,
    pub uai: Uai,
    pub identifiant: String,
    pub ine: Option<String>,
    pub last_name: String,
    pub first_name: String,
    pub birth_date: NaiveDate,
    pub division: Option<String>,
    pub state: AccountState,
    pub must_change: bool,
    pub provisional_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub notified_at: Option<DateTime<Utc>>,
    pub activated_at: Option<DateTime<Utc>>,
    pub password_changed_at: Option<DateTime<Utc>>,
    pub previous_state: Option<AccountState>,
}

impl Pupil {
    /// A notified account whose provisional password has run out.
    pub fn provisional_expired(&self, now: DateTime<Utc>) -> bool {
        self.state == AccountState::Notifie && self.provisional_expires_at.is_some_and(|t| t <= now)
    }
}

type Row = (
    i64,
    String,
    String,
    Option<String>,
    String,
    String,
    NaiveDate,
    Option<String>,
    String,
    bool,
    Option<NaiveDateTime>,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<String>,
);

macro_rules! pupil_columns {
    () => {
        (
            pupils::id,
            pupils::uai,
            pupils::identifiant,
            pupils::ine,
            pupils::last_name,
            pupils::first_name,
            pupils::birth_date,
            pupils::division,
            pupils::state,
            pupils::must_change,
            pupils::provisional_expires_at,
            pupils::created_at,
            pupils::notified_at,
            pupils::activated_at,
            pupils::password_changed_at,
            pupils::previous_state,
        )
    };
}

fn from_row(r: Row) -> Option<Pupil> {
    Some(Pupil {
        id: r.0,
        uai: Uai::parse(&r.1).ok()?,
        identifiant: r.2,
        ine: r.3,
        last_name: r.4,
        first_name: r.5,
        birth_date: r.6,
        division: r.7,
        state: AccountState::parse(&r.8)?,
        must_change: r.9,
        provisional_expires_at: r.10.map(|t| t.and_utc()),
        created_at: r.11.and_utc(),
        notified_at: r.12.map(|t| t.and_utc()),
        activated_at: r.13.map(|t| t.and_utc()),
        password_changed_at: r.14.map(|t| t.and_utc()),
        previous_state: r.15.as_deref().and_then(AccountState::parse),
    })
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Pupil>> {
    Ok(pupils::table
        .filter(pupils::id.eq(id))
        .select(pupil_columns!())
        .first::<Row>(conn)
        .optional()?
        .and_then(from_row))
}

type Filter = Box<dyn BoxableExpression<pupils::table, MultiBackend, SqlType = Bool>>;

fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// What the search box and the division list ask for.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// A name (prefix of any word, accents and case ignored), an identifiant or an INE.
    pub text: String,
    pub division: Option<String>,
}

fn filter(uai: &Uai, search: &Search) -> Filter {
    let mut f: Filter = Box::new(pupils::uai.eq(uai.as_str().to_owned()));
    if let Some(d) = &search.division {
        f = Box::new(f.and(pupils::division.eq(d.clone()).assume_not_null()));
    }
    let text = search.text.trim();
    if text.is_empty() {
        return f;
    }
    // Every word of the name must start one of the pupil's name words.
    let words: Vec<String> = search_key(text)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(like_escape)
        .collect();
    let mut by_name: Option<Filter> = None;
    for w in &words {
        let word: Filter = Box::new(
            pupils::search_name
                .like(format!("{w}%"))
                .escape('\\')
                .or(pupils::search_name.like(format!("% {w}%")).escape('\\')),
        );
        by_name = Some(match by_name {
            None => word,
            Some(prev) => Box::new(prev.and(word)),
        });
    }
    let lowered = text.to_lowercase();
    let mut any: Filter = Box::new(
        pupils::identifiant
            .like(format!("{}%", like_escape(&lowered)))
            .escape('\\'),
    );
    if let Some(n) = by_name {
        any = Box::new(any.or(n));
    }
    if let Ok(ine) = Ine::parse(text) {
        any = Box::new(any.or(pupils::ine.eq(ine.as_str().to_owned()).assume_not_null()));
    }
    Box::new(f.and(any))
}

/// One page of the search, sorted by division then name, and the total count.
pub fn search(
    conn: &mut DbConnection,
    uai: &Uai,
    s: &Search,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Pupil>, i64)> {
    let total: i64 = pupils::table
        .filter(filter(uai, s))
        .select(count_star())
        .first(conn)?;
    let rows: Vec<Row> = pupils::table
        .filter(filter(uai, s))
        .order((
            pupils::division.asc(),
            pupils::search_name.asc(),
            pupils::id.asc(),
        ))
        .offset(offset)
        .limit(limit)
        .select(pupil_columns!())
        .load(conn)?;
    Ok((rows.into_iter().filter_map(from_row).collect(), total))
}

/// Every pupil of a division, by name.
pub fn of_division(conn: &mut DbConnection, uai: &Uai, division: &str) -> QueryResult<Vec<Pupil>> {
    let rows: Vec<Row> = pupils::table
        .filter(pupils::uai.eq(uai.as_str()))
        .filter(pupils::division.eq(division))
        .order((pupils::search_name.asc(), pupils::id.asc()))
        .select(pupil_columns!())
        .load(conn)?;
    Ok(rows.into_iter().filter_map(from_row).collect())
}

/// The divisions of an establishment with their number of pupils.
pub fn divisions(conn: &mut DbConnection, uai: &Uai) -> QueryResult<Vec<(String, i64)>> {
    let rows: Vec<(Option<String>, i64)> = pupils::table
        .filter(pupils::uai.eq(uai.as_str()))
        .group_by(pupils::division)
        .select((pupils::division, count_star()))
        .order(pupils::division.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(d, n)| d.map(|d| (d, n)))
        .collect())
}

/// Counts per (division, state).
pub fn counts(
    conn: &mut DbConnection,
    uai: &Uai,
) -> QueryResult<Vec<(Option<String>, String, i64)>> {
    pupils::table
        .filter(pupils::uai.eq(uai.as_str()))
        .group_by((pupils::division, pupils::state))
        .select((pupils::division, pupils::state, count_star()))
        .load(conn)
}

/// The stored hash (tests).
pub fn password_hash(conn: &mut DbConnection, id: i64) -> QueryResult<Option<String>> {
    let account = super::store::AccountRef {
        kind: super::AccountKind::Pupil,
        id,
    };
    super::store::SqlAccountStore::password_hash(conn, account)
}
