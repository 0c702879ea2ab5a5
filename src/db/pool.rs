//! The connection pool: our own r2d2 manager so that the URL scheme picks the backend
//! (the derive's `establish` tries each backend in turn and hides the real error).

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::Connection;
use diesel::RunQueryDsl;
use diesel::r2d2::{self, CustomizeConnection, ManageConnection};

use super::{DbConnection, DbError};

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DbUrl {
    /// `sqlite://PATH` or a plain path → SQLite; `postgres://` / `postgresql://` → PostgreSQL.
    pub fn parse(url: &str) -> Result<Self, DbError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(DbError::Url("database URL is empty".into()));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(DbError::Url("sqlite:// URL names no file".into()));
            }
            return Ok(DbUrl::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let rest = url.split_once("://").map(|(_, r)| r).unwrap_or_default();
            if rest.is_empty() || rest.starts_with('/') && rest.len() == 1 {
                return Err(DbError::Url(
                    "postgres URL names no host or database".into(),
                ));
            }
            return Ok(DbUrl::Postgres(with_connect_timeout(url)));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(DbError::Url(format!(
                "unsupported database URL scheme {scheme:?} (use sqlite:// or postgres://)"
            )));
        }
        if url.contains('\0') {
            return Err(DbError::Url("database path contains a NUL byte".into()));
        }
        Ok(DbUrl::Sqlite(PathBuf::from(url)))
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, DbUrl::Sqlite(_))
    }

    /// For logs: the backend and, for PostgreSQL, no credentials.
    pub fn redacted(&self) -> String {
        match self {
            DbUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DbUrl::Postgres(u) => {
                let rest = u.split_once("://").map(|(_, r)| r).unwrap_or(u);
                let host = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
                let host = host.split('?').next().unwrap_or(host);
                format!("postgres://{host}")
            }
        }
    }

    fn connect(&self) -> Result<DbConnection, diesel::ConnectionError> {
        match self {
            DbUrl::Sqlite(path) => {
                let path = path.to_string_lossy();
                diesel::SqliteConnection::establish(&path).map(DbConnection::Sqlite)
            }
            DbUrl::Postgres(url) => {
                diesel::PgConnection::establish(url).map(DbConnection::Postgresql)
            }
        }
    }
}

/// libpq waits forever on an unroutable host by default.
fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}connect_timeout=3")
}

pub struct DbManager {
    url: DbUrl,
}

impl ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        self.url.connect().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        diesel::sql_query("SELECT 1")
            .execute(conn)
            .map(|_| ())
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// SQLite settings applied to every new connection: WAL, foreign keys, busy timeout.
#[derive(Debug)]
pub struct SqlitePragmas {
    pub busy_timeout_ms: u64,
}

impl CustomizeConnection<DbConnection, r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            for pragma in [
                format!("PRAGMA busy_timeout = {}", self.busy_timeout_ms),
                "PRAGMA journal_mode = WAL".to_owned(),
                "PRAGMA synchronous = NORMAL".to_owned(),
                "PRAGMA foreign_keys = ON".to_owned(),
            ] {
                diesel::sql_query(pragma)
                    .execute(c)
                    .map_err(r2d2::Error::QueryError)?;
            }
        }
        Ok(())
    }
}

/// Connection errors reach the caller through the checkout error; the pool's own
/// report goes to debug level so that a failed start prints one line.
#[derive(Debug)]
struct QuietErrors;

impl r2d2::HandleError<r2d2::Error> for QuietErrors {
    fn handle_error(&self, error: r2d2::Error) {
        tracing::debug!(%error, "database connection attempt failed");
    }
}

pub type DbPool = r2d2::Pool<DbManager>;

/// Builds the pool and checks that one connection can be made.
pub fn build_pool(
    url: &DbUrl,
    size: u32,
    checkout_timeout: Duration,
    busy_timeout_ms: u64,
) -> Result<DbPool, DbError> {
    if let DbUrl::Sqlite(path) = url {
        create_parent_folder(path)?;
    }
    r2d2::Pool::builder()
        .max_size(size.max(1))
        .min_idle(Some(1))
        .connection_timeout(checkout_timeout)
        .connection_customizer(Box::new(SqlitePragmas { busy_timeout_ms }))
        .error_handler(Box::new(QuietErrors))
        .build(DbManager { url: url.clone() })
        .map_err(|e| DbError::Unavailable(format!("{}: {e}", url.redacted())))
}

fn create_parent_folder(path: &Path) -> Result<(), DbError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => std::fs::create_dir_all(dir)
            .map_err(|e| DbError::Url(format!("cannot create folder {}: {e}", dir.display()))),
        _ => Ok(()),
    }
}

/// The pool, with the diesel calls moved off the async workers.
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
}

impl Db {
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(DbError::from)?;
            f(&mut conn)
        })
        .await
        .map_err(|_| E::from(DbError::Blocking))?
    }

    /// The same, synchronously (CLI commands).
    pub fn get(&self) -> Result<r2d2::PooledConnection<DbManager>, DbError> {
        Ok(self.pool.get()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_backend_from_the_scheme() {
        assert_eq!(
            DbUrl::parse("data/x.sqlite3").unwrap(),
            DbUrl::Sqlite("data/x.sqlite3".into())
        );
        assert_eq!(
            DbUrl::parse("sqlite:///tmp/x.db").unwrap(),
            DbUrl::Sqlite("/tmp/x.db".into())
        );
        assert!(
            matches!(DbUrl::parse("postgres://u@h/db").unwrap(), DbUrl::Postgres(u) if u.ends_with("connect_timeout=3"))
        );
        assert!(
            matches!(DbUrl::parse("postgresql://u@h/db?sslmode=require").unwrap(), DbUrl::Postgres(u) if u.contains("&connect_timeout=3"))
        );
    }

    #[test]
    fn refuses_malformed_urls() {
        for u in [
            "",
            "  ",
            "mysql://x/y",
            "sqlite://",
            "postgres://",
            "http://x",
        ] {
            assert!(DbUrl::parse(u).is_err(), "{u:?}");
        }
    }

    #[test]
    fn redacts_credentials() {
        let u = DbUrl::parse("postgres://user:s3cret@db.example:5432/educt").unwrap();
        assert!(!u.redacted().contains("s3cret"));
        assert!(u.redacted().contains("db.example:5432/educt"));
    }
}
