//! One diesel schema over SQLite (embedded default) and PostgreSQL (production).

pub mod decode;
mod migrations;
mod pool;
pub mod schema;

pub use migrations::{applied_migrations, revert_all_migrations, run_migrations};
pub use pool::{Db, DbManager, DbPool, DbUrl, SqlitePragmas, build_pool};

/// A connection checked out of the pool.
pub type PooledConn = diesel::r2d2::PooledConnection<DbManager>;

use diesel::prelude::*;

/// The connection: the backend is chosen from the URL scheme by [`DbUrl`].
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

impl DbConnection {
    pub fn backend_name(&self) -> &'static str {
        match self {
            DbConnection::Postgresql(_) => "postgresql",
            DbConnection::Sqlite(_) => "sqlite",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Url(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("the blocking thread pool is gone")]
    Blocking,
}

impl From<diesel::r2d2::PoolError> for DbError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        DbError::Unavailable(e.to_string())
    }
}

/// Readiness: the database answers and holds our schema (reads the audit head row).
pub fn ping(conn: &mut DbConnection) -> Result<(), DbError> {
    schema::audit_head::table
        .select(schema::audit_head::seq)
        .first::<i64>(conn)?;
    Ok(())
}
