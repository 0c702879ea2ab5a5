//! The test harness: the real app on 127.0.0.1:0 with a fresh database — a temp SQLite
//! file, or, when TEST_DATABASE_URL is set, a PostgreSQL database cloned from a migrated
//! template and dropped afterwards.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use educt_admin::clock::FixedClock;
use educt_admin::config::Settings;
use educt_admin::db::{self, Db, DbConnection, DbUrl};
use educt_admin::secrets::AppKey;
use educt_admin::startup::{Application, StartOptions};

pub const TEST_KEY: [u8; 32] = [0x42; 32];

pub fn test_key() -> AppKey {
    AppKey::from_bytes(TEST_KEY)
}

/// A Thursday in term time, 10:00 in Paris.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap()
}

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

/// Settings for a test app on `db`.
pub fn test_settings(db: &TestDb) -> Settings {
    let mut s = Settings::default();
    s.server.bind = "127.0.0.1:0".parse().unwrap();
    s.server.workers = 1;
    s.server.shutdown_timeout_secs = 1;
    s.database.url = Some(db.url.clone().into());
    s.database.pool_size = 4;
    s.secrets.key = Some(hex::encode(TEST_KEY).into());
    s.demo.data_dir = db.dir.path().join("data");
    s
}

pub struct TestApp {
    /// `http://127.0.0.1:PORT/educt-admin-comptes`
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub client: reqwest::Client,
    pub settings: Settings,
    pub clock: Arc<FixedClock>,
    handle: actix_web::dev::ServerHandle,
    pub test_db: TestDb,
}

pub struct TestAppBuilder {
    settings: Option<Settings>,
    demo: bool,
    test_db: Option<TestDb>,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            settings: None,
            demo: false,
            test_db: None,
        }
    }

    pub async fn spawn() -> Self {
        Self::builder().start().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// A second browser: its own cookie jar.
    pub fn new_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap()
    }

    /// Signs in with `client`: fetches the form (and its CSRF cookie), posts it.
    pub async fn sign_in_with(
        &self,
        client: &reqwest::Client,
        uid: &str,
        password: &str,
    ) -> reqwest::Response {
        let form = client
            .get(self.url("/connexion"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = hidden_field(&form, "csrf_token");
        client
            .post(self.url("/connexion"))
            .form(&[
                ("identifiant", uid),
                ("mot_de_passe", password),
                ("csrf_token", &token),
            ])
            .send()
            .await
            .unwrap()
    }

    pub async fn sign_in(&self, uid: &str, password: &str) -> reqwest::Response {
        self.sign_in_with(&self.client, uid, password).await
    }

    /// Signs in and checks it worked.
    pub async fn signed_in(&self, uid: &str, password: &str) {
        let res = self.sign_in(uid, password).await;
        assert_eq!(
            res.status(),
            303,
            "sign-in of {uid} failed: {}",
            res.text().await.unwrap()
        );
    }

    /// The CSRF token of the signed-in session, read from the home page.
    pub async fn session_csrf(&self) -> String {
        hidden_field(&self.get("/").await.text().await.unwrap(), "csrf_token")
    }

    pub fn conn(&self) -> DbConnection {
        self.test_db.connect()
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

impl TestAppBuilder {
    pub fn demo(mut self) -> Self {
        self.demo = true;
        self
    }

    pub fn db(mut self, db: TestDb) -> Self {
        self.test_db = Some(db);
        self
    }

    pub fn settings(mut self, f: impl FnOnce(&mut Settings)) -> Self {
        let db = self.test_db.take().unwrap_or_else(TestDb::migrated);
        let mut s = self.settings.take().unwrap_or_else(|| test_settings(&db));
        f(&mut s);
        self.settings = Some(s);
        self.test_db = Some(db);
        self
    }

    pub async fn start(self) -> TestApp {
        log_buffer();
        let test_db = self.test_db.unwrap_or_else(TestDb::migrated);
        let settings = self.settings.unwrap_or_else(|| test_settings(&test_db));
        let clock = Arc::new(FixedClock::new(t0()));
        let app_clock: educt_admin::clock::SharedClock = clock.clone();
        let app = Application::build(
            settings.clone(),
            StartOptions {
                demo: self.demo,
                clock: app_clock,
            },
        )
        .expect("the app starts");
        let addr = app.addr();
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap();
        TestApp {
            base: format!("http://{addr}/educt-admin-comptes"),
            addr,
            client,
            settings,
            clock,
            handle,
            test_db,
        }
    }
}

/// The value of the first hidden input named `name`.
pub fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Adds an establishment.
pub fn add_establishment(conn: &mut DbConnection, uai: &str, name: &str) {
    use educt_admin::db::schema::establishments;
    diesel::insert_into(establishments::table)
        .values((
            establishments::uai.eq(uai),
            establishments::name.eq(name),
            establishments::kind.eq("college"),
            establishments::created_at.eq(t0().naive_utc()),
            establishments::updated_at.eq(t0().naive_utc()),
        ))
        .execute(conn)
        .unwrap();
}

/// Adds an agent to the local directory (argon2id with the production parameters).
pub fn add_agent(
    conn: &mut DbConnection,
    uid: &str,
    name: &str,
    password: &str,
    attached: &[&str],
    responsible: &[&str],
) {
    use educt_admin::db::schema::agent_uais;
    use educt_admin::domain::AgentUid;
    let hash = cached_hash(password);
    let id = educt_admin::directory::local::insert_agent(
        conn,
        &AgentUid::parse(uid).unwrap(),
        name,
        None,
        &hash,
        t0(),
    )
    .unwrap();
    for (uais, role) in [(attached, "attached"), (responsible, "responsible")] {
        for uai in uais {
            diesel::insert_into(agent_uais::table)
                .values((
                    agent_uais::agent_id.eq(id),
                    agent_uais::uai.eq(*uai),
                    agent_uais::role.eq(role),
                ))
                .execute(conn)
                .unwrap();
        }
    }
}

/// argon2id hashes (production parameters) made once per password per run: each test
/// database gets the same salted hash, which is all the tests need.
pub fn cached_hash(password: &str) -> String {
    static HASHES: OnceLock<std::sync::Mutex<std::collections::HashMap<String, String>>> =
        OnceLock::new();
    let map = HASHES.get_or_init(Default::default);
    if let Some(h) = map.lock().unwrap().get(password) {
        return h.clone();
    }
    let h = educt_admin::auth::password::hash_password(&secrecy::SecretString::from(
        password.to_owned(),
    ))
    .unwrap();
    map.lock().unwrap().insert(password.to_owned(), h.clone());
    h
}

pub const COLLEGE: &str = "0691234S";
pub const LYCEE: &str = "0692418D";
pub const PRINCIPAL_PW: &str = "Principal-2026";

/// The usual cast: the collège and the lycée, their principals and two staff of the collège.
pub fn seed_staff(conn: &mut DbConnection) {
    add_establishment(conn, COLLEGE, "Collège Jean Moulin");
    add_establishment(conn, LYCEE, "Lycée Ampère");
    add_agent(
        conn,
        "principal",
        "Claire Perrin",
        PRINCIPAL_PW,
        &[COLLEGE],
        &[COLLEGE],
    );
    add_agent(
        conn,
        "principal2",
        "Hervé N'Guessan",
        "Proviseur-2026",
        &[LYCEE],
        &[LYCEE],
    );
    add_agent(
        conn,
        "referent",
        "Sophie Lefèvre",
        "Referent-2026",
        &[COLLEGE],
        &[],
    );
    add_agent(
        conn,
        "enseignant",
        "Marc Dubois-Roche",
        "Enseignant-2026",
        &[COLLEGE],
        &[],
    );
}

/// Audit rows, oldest first: (actor, action, outcome, details).
pub fn audit_rows(conn: &mut DbConnection) -> Vec<(String, String, String, Option<String>)> {
    use educt_admin::db::schema::audit_events;
    audit_events::table
        .order(audit_events::seq)
        .select((
            audit_events::actor,
            audit_events::action,
            audit_events::outcome,
            audit_events::details,
        ))
        .load(conn)
        .unwrap()
}

/// Runs the built binary with `args` and extra environment; returns (status, stdout, stderr).
pub fn run_cli(args: &[&str], env: &[(&str, &str)]) -> (std::process::ExitStatus, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_educt-admin"));
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("EDUCT_ADMIN") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Adds a pupil (identifiant by the rules) and returns his id.
pub fn add_pupil(
    conn: &mut DbConnection,
    uai: &str,
    first: &str,
    last: &str,
    division: &str,
    state: &str,
) -> i64 {
    use educt_admin::accounts::identifiants::{IdentifiantKind, allocate};
    use educt_admin::db::schema::pupils;
    let identifiant = allocate(conn, IdentifiantKind::Pupil, first, last, t0()).unwrap();
    diesel::insert_into(pupils::table)
        .values((
            pupils::uai.eq(uai),
            pupils::identifiant.eq(identifiant.as_str()),
            pupils::ine.eq(None::<String>),
            pupils::last_name.eq(last),
            pupils::first_name.eq(first),
            pupils::search_name.eq(educt_admin::domain::search_key(&format!("{last} {first}"))),
            pupils::birth_date.eq(chrono::NaiveDate::from_ymd_opt(2012, 5, 14).unwrap()),
            pupils::division.eq(Some(division)),
            pupils::state.eq(state),
            pupils::must_change.eq(false),
            pupils::created_at.eq(t0().naive_utc()),
            pupils::updated_at.eq(t0().naive_utc()),
        ))
        .returning(pupils::id)
        .get_result(conn)
        .unwrap()
}

/// Every log line of this test process, captured at debug level (to prove secrets never
/// reach the logs).
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}

fn log_buffer() -> &'static Arc<std::sync::Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<std::sync::Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER.get_or_init(|| {
        let buffer = Arc::new(std::sync::Mutex::new(Vec::new()));
        let writer = LogWriter(buffer.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buffer
    })
}

#[derive(Clone)]
struct LogWriter(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Adds a parent linked to `children` (pupil id, legal rank) and returns his id.
pub fn add_parent(
    conn: &mut DbConnection,
    first: &str,
    last: &str,
    email: Option<&str>,
    mobile: Option<&str>,
    state: &str,
    children: &[(i64, i16)],
) -> i64 {
    use educt_admin::accounts::identifiants::{IdentifiantKind, allocate};
    use educt_admin::db::schema::{parents, pupil_parents};
    let identifiant = allocate(conn, IdentifiantKind::Parent, first, last, t0()).unwrap();
    let id: i64 = diesel::insert_into(parents::table)
        .values((
            parents::identifiant.eq(identifiant.as_str()),
            parents::last_name.eq(last),
            parents::first_name.eq(first),
            parents::search_name.eq(educt_admin::domain::search_key(&format!("{last} {first}"))),
            parents::email.eq(email),
            parents::mobile.eq(mobile),
            parents::state.eq(state),
            parents::must_change.eq(false),
            parents::created_at.eq(t0().naive_utc()),
            parents::updated_at.eq(t0().naive_utc()),
        ))
        .returning(parents::id)
        .get_result(conn)
        .unwrap();
    for (pupil, rank) in children {
        diesel::insert_into(pupil_parents::table)
            .values((
                pupil_parents::pupil_id.eq(pupil),
                pupil_parents::parent_id.eq(id),
                pupil_parents::legal_rank.eq(rank),
            ))
            .execute(conn)
            .unwrap();
    }
    id
}

/// Enrols `uid` with a known TOTP secret (as if done long ago) and returns it.
pub fn enrol_totp(conn: &mut DbConnection, uid: &str) -> educt_admin::auth::totp::TotpSecret {
    use educt_admin::auth::totp::{self, TotpSecret};
    let secret =
        TotpSecret::from_bytes(format!("{uid:-<20}").as_bytes().get(..20).unwrap()).unwrap();
    let sealed = secret.seal(&test_key(), uid).unwrap();
    assert!(totp::begin(conn, uid, &sealed, t0() - chrono::Duration::days(30)).unwrap());
    assert!(totp::accept_step(conn, uid, 1, true, t0() - chrono::Duration::days(30)).unwrap());
    secret
}
