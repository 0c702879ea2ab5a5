//! DelegCE: a principal delegates one scope on one of his establishments to a staff member
//! of it, for days counted in the configured time zone (BRIEF rule 3).

pub mod policy;
pub mod store;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;

use crate::clock::local_day;
use crate::db::decode::{Maybe, UtcStamp};
use crate::db::schema::delegations;
use crate::domain::{DelegationId, Uai, stored_code};

/// What a delegation covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Pupils' accounts.
    Eleves,
    /// Parents' accounts.
    Responsables,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::Eleves, Scope::Responsables];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Eleves => "eleves",
            Scope::Responsables => "responsables",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Scope::Eleves => "Élèves",
            Scope::Responsables => "Responsables",
        }
    }
}

stored_code!(Scope, "delegation scope");

/// The stored form (a written row's column).
impl From<Scope> for &str {
    fn from(scope: Scope) -> Self {
        scope.as_str()
    }
}

/// A delegation record, read as a typed row: a stored UAI or scope that does not decode
/// fails the read. (The motive stays text: rows older than its rules are shown as stored.)
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = delegations)]
pub struct Delegation {
    #[diesel(deserialize_as = i64)]
    pub id: DelegationId,
    #[diesel(deserialize_as = String)]
    pub uai: Uai,
    pub grantee_uid: String,
    pub grantee_name: String,
    #[diesel(deserialize_as = String)]
    pub scope: Scope,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub motive: String,
    pub granted_by: String,
    #[diesel(deserialize_as = UtcStamp)]
    pub granted_at: DateTime<Utc>,
    pub extended_by: Option<String>,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    pub extended_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Where a delegation stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Upcoming,
    Active,
    Expired,
    Revoked,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Upcoming => "À venir",
            Status::Active => "En cours",
            Status::Expired => "Expirée",
            Status::Revoked => "Révoquée",
        }
    }
}

impl Delegation {
    /// Active from the start of its first day to the end of its last day, in `tz`, unless
    /// revoked at or before `now`.
    pub fn status(&self, now: DateTime<Utc>, tz: Tz) -> Status {
        if self.revoked_at.is_some_and(|r| r <= now) {
            return Status::Revoked;
        }
        let today = local_day(now, tz);
        if today < self.valid_from {
            Status::Upcoming
        } else if today > self.valid_until {
            Status::Expired
        } else {
            Status::Active
        }
    }

    pub fn is_active(&self, now: DateTime<Utc>, tz: Tz) -> bool {
        self.status(now, tz) == Status::Active
    }
}

/// The coming 31 August (today if it is 31 August), the default last day.
pub fn coming_31_august(today: NaiveDate) -> NaiveDate {
    let this_year = NaiveDate::from_ymd_opt(today.year(), 8, 31).unwrap_or(today);
    if today <= this_year {
        this_year
    } else {
        NaiveDate::from_ymd_opt(today.year() + 1, 8, 31).unwrap_or(today)
    }
}

/// The latest last day allowed for a delegation starting `from`: one year later.
pub fn latest_end(from: NaiveDate) -> NaiveDate {
    from.checked_add_months(chrono::Months::new(12))
        .unwrap_or(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_coming_31_august() {
        assert_eq!(coming_31_august(d(2026, 11, 28)), d(2027, 8, 31));
        assert_eq!(coming_31_august(d(2027, 3, 1)), d(2027, 8, 31));
        assert_eq!(coming_31_august(d(2027, 8, 31)), d(2027, 8, 31));
        assert_eq!(coming_31_august(d(2027, 9, 1)), d(2028, 8, 31));
        assert_eq!(latest_end(d(2026, 11, 28)), d(2027, 11, 28));
        assert_eq!(latest_end(d(2028, 2, 29)), d(2029, 2, 28));
    }
}
