//! Allocation of identifiants (BRIEF rule 14): one table holds every identifiant ever
//! given, pupils and parents together, never reused; a race on the unique constraint retries.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::AccountKind;
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::schema::identifiants;
use crate::domain::{Identifiant, first_free_number, identifiant_base, number_after_base};

/// Who holds an identifiant (its stored kind: [`AccountKind::identifiant_kind`]).
pub type IdentifiantKind = AccountKind;

const ATTEMPTS: usize = 8;

/// Reserves the next identifiant for this name. Runs in the caller's transaction; the
/// insert sits in a savepoint so a lost race can be retried.
pub fn allocate(
    conn: &mut DbConnection,
    kind: IdentifiantKind,
    first_name: &str,
    surname: &str,
    now: DateTime<Utc>,
) -> QueryResult<Identifiant> {
    let base = identifiant_base(first_name, surname);
    let mut last_error = DieselError::RollbackTransaction;
    for _ in 0..ATTEMPTS {
        let existing: Vec<String> = identifiants::table
            .filter(identifiants::identifiant.like(format!("{base}%")))
            .select(identifiants::identifiant)
            .load(conn)?;
        let taken: Vec<u32> = existing
            .iter()
            .filter_map(|e| number_after_base(&base, e))
            .collect();
        let candidate = Identifiant::numbered(&base, first_free_number(&taken));
        let inserted = conn.transaction(|c| {
            diesel::insert_into(identifiants::table)
                .values((
                    identifiants::identifiant.eq(candidate.as_str()),
                    identifiants::kind.eq(kind.identifiant_kind()),
                    identifiants::created_at.eq(db_instant(now)),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => return Ok(candidate),
            Err(e @ DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                last_error = e
            }
            Err(e) => return Err(e),
        }
    }
    Err(last_error)
}
