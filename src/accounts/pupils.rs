//! Pupils' accounts in the database: search, page, state changes, statistics.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::count_star;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::AccountState;
use crate::db::decode::{Maybe, UtcStamp, find_row};
use crate::db::schema::pupils;
use crate::db::{DbConnection, MultiBackend};
use crate::domain::{Division, Identifiant, Ine, PupilId, Uai, search_key};

/// A pupil as the pages show him: a typed row of `pupils`, whose stored UAI, identifiant,
/// INE, division and states must decode (else the read fails; nothing is hidden).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = pupils)]
pub struct Pupil {
    #[diesel(deserialize_as = i64)]
    pub id: PupilId,
    #[diesel(deserialize_as = String)]
    pub uai: Uai,
    #[diesel(deserialize_as = String)]
    pub identifiant: Identifiant,
    #[diesel(deserialize_as = Maybe<String>)]
    pub ine: Option<Ine>,
    pub last_name: String,
    pub first_name: String,
    pub birth_date: NaiveDate,
    #[diesel(deserialize_as = Maybe<String>)]
    pub division: Option<Division>,
    #[diesel(deserialize_as = String)]
    pub state: AccountState,
    pub must_change: bool,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    pub provisional_expires_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = UtcStamp)]
    pub created_at: DateTime<Utc>,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    pub notified_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    pub activated_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    pub password_changed_at: Option<DateTime<Utc>>,
    #[diesel(deserialize_as = Maybe<String>)]
    pub previous_state: Option<AccountState>,
}

impl Pupil {
    /// A notified account whose provisional password has run out.
    pub fn provisional_expired(&self, now: DateTime<Utc>) -> bool {
        self.state == AccountState::Notifie && self.provisional_expires_at.is_some_and(|t| t <= now)
    }
}

pub fn find(conn: &mut DbConnection, id: impl Into<PupilId>) -> QueryResult<Option<Pupil>> {
    find_row(conn, pupils::table, id.into().get())
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
    let found = pupils::table
        .filter(filter(uai, s))
        .order((
            pupils::division.asc(),
            pupils::search_name.asc(),
            pupils::id.asc(),
        ))
        .offset(offset)
        .limit(limit)
        .select(Pupil::as_select())
        .load(conn)?;
    Ok((found, total))
}

/// Every pupil of a division, by name.
pub fn of_division(conn: &mut DbConnection, uai: &Uai, division: &str) -> QueryResult<Vec<Pupil>> {
    pupils::table
        .filter(pupils::uai.eq(uai.as_str()))
        .filter(pupils::division.eq(division))
        .order((pupils::search_name.asc(), pupils::id.asc()))
        .select(Pupil::as_select())
        .load(conn)
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

/// One group of [`counts`].
#[derive(Queryable)]
struct CountRow {
    #[diesel(deserialize_as = Maybe<String>)]
    division: Option<Division>,
    #[diesel(deserialize_as = String)]
    state: AccountState,
    count: i64,
}

/// Counts per (division, state).
pub fn counts(
    conn: &mut DbConnection,
    uai: &Uai,
) -> QueryResult<Vec<(Option<Division>, AccountState, i64)>> {
    let rows: Vec<CountRow> = pupils::table
        .filter(pupils::uai.eq(uai.as_str()))
        .group_by((pupils::division, pupils::state))
        .select((pupils::division, pupils::state, count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.division, r.state, r.count))
        .collect())
}

/// The stored hash (tests).
pub fn password_hash(
    conn: &mut DbConnection,
    id: impl Into<PupilId>,
) -> QueryResult<Option<String>> {
    let account = super::store::AccountRef::pupil(id.into());
    super::store::SqlAccountStore::password_hash(conn, account)
}
