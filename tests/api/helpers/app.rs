//! The real app on 127.0.0.1:0 over a `TestDb`, with a fixed clock and a browser-like client.

use std::sync::Arc;

use educt_admin::clock::FixedClock;
use educt_admin::config::Settings;
use educt_admin::db::DbConnection;
use educt_admin::startup::{Application, StartOptions};

use super::{Page, TEST_KEY, TestDb, hidden_field, log_buffer, t0};

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

/// Settings whose administrative network is loopback (the parents' gate open to the tests).
pub fn inside_admin_network(s: &mut Settings) {
    s.network.admin_networks = vec!["127.0.0.0/8".parse().unwrap()];
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

    /// An app whose administrative network is loopback: the parents' gate is open to the
    /// test's clients.
    pub async fn on_admin_network() -> Self {
        Self::builder().settings(inside_admin_network).start().await
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

    /// Sends the form found on the page at `page` as a browser would: its hidden fields (the
    /// CSRF token, the establishment, a form's key) with `fields` filled in.
    pub async fn submit(&self, page: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let html = self.get(page).await.text().await.unwrap();
        let (action, hidden) = Page::parse(&html).form_of(page);
        let mut sent: Vec<(String, String)> = hidden;
        sent.extend(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let request = self.client.post(self.url(&action)).form(&sent);
        request.send().await.unwrap()
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
