//! A database for one test: a temp SQLite file, or, when TEST_DATABASE_URL is set, a
//! PostgreSQL database cloned from a migrated template and dropped afterwards.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use diesel::prelude::*;
use educt_admin::db::{self, Db, DbConnection, DbUrl};

pub fn pg_admin_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A database for one test; dropped (PostgreSQL) or deleted (SQLite) at the end.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl TestDb {
    /// A migrated database.
    pub fn migrated() -> Self {
        match pg_admin_url() {
            Some(admin) => Self::postgres(&admin, Some(&template(&admin))),
            None => {
                let db = Self::sqlite();
                let mut conn = db.connect();
                db::run_migrations(&mut conn).unwrap();
                db
            }
        }
    }

    /// An empty database (no migration applied).
    pub fn empty() -> Self {
        match pg_admin_url() {
            Some(admin) => Self::postgres(&admin, None),
            None => Self::sqlite(),
        }
    }

    fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.sqlite3").display());
        Self { url, dir, pg: None }
    }

    fn postgres(admin: &str, template: Option<&str>) -> Self {
        let name = format!("educt_test_{}", random_suffix());
        let mut conn = PgConnection::establish(admin).unwrap();
        let template = template.unwrap_or("template0");
        diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .execute(&mut conn)
            .unwrap();
        Self {
            url: replace_database(admin, &name),
            dir: tempfile::tempdir().unwrap(),
            pg: Some((admin.to_owned(), name)),
        }
    }

    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match DbUrl::parse(&self.url).unwrap() {
            DbUrl::Sqlite(p) => Some(p),
            DbUrl::Postgres(_) => None,
        }
    }

    pub fn pool(&self) -> Db {
        let url = DbUrl::parse(&self.url).unwrap();
        Db::new(db::build_pool(&url, 10, std::time::Duration::from_secs(2), 5000).unwrap())
    }

    pub fn connect(&self) -> DbConnection {
        match DbUrl::parse(&self.url).unwrap() {
            DbUrl::Sqlite(p) => {
                let mut c = SqliteConnection::establish(&p.to_string_lossy()).unwrap();
                // Like the app's own connections: wait for the write lock instead of failing.
                for pragma in ["PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 10000"] {
                    diesel::sql_query(pragma).execute(&mut c).unwrap();
                }
                DbConnection::Sqlite(c)
            }
            DbUrl::Postgres(u) => DbConnection::Postgresql(PgConnection::establish(&u).unwrap()),
        }
    }

    /// Drops the PostgreSQL database now, killing the app's connections.
    pub fn drop_now(&mut self) {
        if let Some((admin, name)) = self.pg.take()
            && let Ok(mut conn) = PgConnection::establish(&admin)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.drop_now();
    }
}

fn random_suffix() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..12)
        .map(|_| rng.random_range(b'a'..=b'z') as char)
        .collect()
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The migrated template, made once per run (an advisory lock covers parallel test
/// processes); its name carries a hash of the migrations so a change makes a new one.
fn template(admin: &str) -> String {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let name = format!("educt_template_{:016x}", migrations_hash());
            let mut conn = PgConnection::establish(admin).unwrap();
            diesel::sql_query("SELECT pg_advisory_lock(4242)")
                .execute(&mut conn)
                .unwrap();
            #[derive(QueryableByName)]
            struct Count {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let exists = diesel::sql_query(format!(
                "SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"
            ))
            .get_result::<Count>(&mut conn)
            .unwrap()
            .n > 0;
            if !exists {
                diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE template0"))
                    .execute(&mut conn)
                    .unwrap();
                let mut t = DbConnection::Postgresql(
                    PgConnection::establish(&replace_database(admin, &name)).unwrap(),
                );
                db::run_migrations(&mut t).unwrap();
            }
            diesel::sql_query("SELECT pg_advisory_unlock(4242)")
                .execute(&mut conn)
                .unwrap();
            name
        })
        .clone()
}

fn migrations_hash() -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files = Vec::new();
    for dir in std::fs::read_dir(root).unwrap() {
        let dir = dir.unwrap().path();
        for f in ["up.sql", "down.sql"] {
            files.push(dir.join(f));
        }
    }
    files.sort();
    for f in files {
        for b in f
            .to_string_lossy()
            .bytes()
            .chain(std::fs::read(&f).unwrap_or_default())
        {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}
