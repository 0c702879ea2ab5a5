//! What typed rows read columns through (`#[diesel(deserialize_as = …)]`): the derive reads
//! the column as the named type, then calls `.try_into()` for the field's type, so a stored
//! value that does not decode fails the query (a deserialisation error), never becomes a
//! default or a dropped row. Text columns are read as `String` into domain values that
//! implement `TryFrom<String>`; ids as `i64` into typed ids; these cover the rest. A record
//! written whole derives `Insertable`, its domain values written as text ([`TextRef`]).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::dsl;
use diesel::prelude::*;
use diesel::query_builder::QueryId;
use diesel::query_dsl::LoadQuery;
use diesel::query_dsl::methods::{FindDsl, LimitDsl, SelectDsl};
use diesel::result::Error as DieselError;
use diesel::sql_types::{Nullable, SingleValue, SqlType, Text, Timestamp, is_nullable::NotNull};

use super::{DbConnection, MultiBackend};

/// A text column's value as a written row gives it (`#[diesel(serialize_as = TextRef<'a>)]`
/// on a domain value: the attribute takes a type path, not `&str`).
pub type TextRef<'a> = &'a str;

/// A `Timestamp` column (UTC, as `clock::db_instant` writes it) read as `DateTime<Utc>`.
#[derive(Debug, Clone, Copy, FromSqlRow)]
pub struct UtcStamp(NaiveDateTime);

impl<DB> FromSql<Timestamp, DB> for UtcStamp
where
    DB: Backend,
    NaiveDateTime: FromSql<Timestamp, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        NaiveDateTime::from_sql(bytes).map(UtcStamp)
    }
}

impl From<UtcStamp> for DateTime<Utc> {
    fn from(stamp: UtcStamp) -> Self {
        stamp.0.and_utc()
    }
}

/// A nullable column read as `Option<S>` and converted when present: `Maybe<String>` for an
/// `Option<Ine>`, `Maybe<UtcStamp>` for an `Option<DateTime<Utc>>`. (`TryFrom` cannot be
/// implemented for `Option<_>` here; the derive's `.try_into()` finds the inherent method.)
#[derive(Debug, Clone, FromSqlRow)]
pub struct Maybe<S>(Option<S>);

impl<S> Maybe<S> {
    /// The value converted, `None` for SQL `NULL`.
    pub fn try_into<T>(self) -> Result<Option<T>, <S as TryInto<T>>::Error>
    where
        S: TryInto<T>,
    {
        self.0.map(S::try_into).transpose()
    }
}

impl<S, ST, DB> FromSql<Nullable<ST>, DB> for Maybe<S>
where
    DB: Backend,
    ST: SqlType<IsNull = NotNull> + SingleValue,
    S: FromSql<ST, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        S::from_sql(bytes).map(|s| Maybe(Some(s)))
    }

    fn from_nullable_sql(bytes: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        match bytes {
            Some(bytes) => Self::from_sql(bytes),
            None => Ok(Maybe(None)),
        }
    }
}

/// A text column holding values separated by `SEP` (a session's UAIs by spaces, a batch's
/// states by commas), each decoded: one that does not decode fails the read.
#[derive(Debug, Clone, FromSqlRow)]
pub struct Listed<const SEP: char>(String);

impl<const SEP: char, DB> FromSql<Text, DB> for Listed<SEP>
where
    DB: Backend,
    String: FromSql<Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        String::from_sql(bytes).map(Listed)
    }
}

impl<const SEP: char> Listed<SEP> {
    /// The values, in order; none for an empty text. An empty part (`a,,b`) is decoded like
    /// any other, so it fails: we never write one.
    pub fn try_into<T: TryFrom<String>>(self) -> Result<Vec<T>, T::Error> {
        if self.0.is_empty() {
            return Ok(Vec::new());
        }
        self.0
            .split(SEP)
            .map(|part| T::try_from(part.to_owned()))
            .collect()
    }
}

/// The values of a one-column text query, each decoded (the typed rows' rule for a query
/// that selects a bare column).
pub fn decode_each<T>(texts: Vec<String>) -> QueryResult<Vec<T>>
where
    T: TryFrom<String>,
    T::Error: std::error::Error + Send + Sync + 'static,
{
    texts
        .into_iter()
        .map(|text| T::try_from(text).map_err(|e| DieselError::DeserializationError(Box::new(e))))
        .collect()
}

/// The typed row `T` of `table` whose primary key is `id`, if any: one home for every
/// record's `find`.
pub fn find_row<T, Tab>(conn: &mut DbConnection, table: Tab, id: i64) -> QueryResult<Option<T>>
where
    T: Selectable<MultiBackend>,
    T::SelectExpression: QueryId,
    Tab: FindDsl<i64>,
    dsl::Find<Tab, i64>: SelectDsl<dsl::AsSelect<T, MultiBackend>>,
    ById<T, Tab>: LimitDsl + RunQueryDsl<DbConnection>,
    for<'q> dsl::Limit<ById<T, Tab>>: LoadQuery<'q, DbConnection, T>,
{
    table.find(id).select(T::as_select()).first(conn).optional()
}

/// The query of [`find_row`].
type ById<T, Tab> = dsl::Select<dsl::Find<Tab, i64>, dsl::AsSelect<T, MultiBackend>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::AccountState;

    #[test]
    fn a_listed_column_decodes_every_part_and_refuses_an_empty_one() {
        let list = |text: &str| Listed::<','>(text.to_owned()).try_into::<AccountState>();
        assert_eq!(list("").unwrap(), Vec::<AccountState>::new());
        assert_eq!(
            list("non_notifie,notifie").unwrap(),
            vec![AccountState::NonNotifie, AccountState::Notifie]
        );
        assert!(list("non_notifie,,notifie").is_err());
        assert!(list("non_notifie,").is_err());
        assert!(list("inconnu").is_err());
    }
}
