//! Embedded migrations, one tree per backend with the same names.

use diesel::RunQueryDsl;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbConnection, DbError};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Arbitrary key of the advisory lock that keeps two instances from migrating at once.
const MIGRATION_LOCK: i64 = 0x0edc_7ad0;

/// Applies pending migrations; returns the names applied.
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    let done = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE).map(names),
        DbConnection::Postgresql(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(c)?;
            let out = c.run_pending_migrations(POSTGRES).map(names);
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(c)?;
            out
        }
    };
    done.map_err(|e| DbError::Migration(e.to_string()))
}

/// Reverts every migration (tests and disaster recovery only).
pub fn revert_all_migrations(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    let done = match conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE).map(names),
        DbConnection::Postgresql(c) => c.revert_all_migrations(POSTGRES).map(names),
    };
    done.map_err(|e| DbError::Migration(e.to_string()))
}

/// The versions already applied.
pub fn applied_migrations(conn: &mut DbConnection) -> Result<Vec<String>, DbError> {
    let done = match conn {
        DbConnection::Sqlite(c) => c.applied_migrations(),
        DbConnection::Postgresql(c) => c.applied_migrations(),
    };
    done.map(|v| v.into_iter().map(|m| m.to_string()).collect())
        .map_err(|e| DbError::Migration(e.to_string()))
}

fn names(v: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    v.into_iter().map(|m| m.to_string()).collect()
}
