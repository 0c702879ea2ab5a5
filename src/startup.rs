//! Building and running the application: key, database, migrations, demo data, server.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, Service};
use actix_web::error::{PayloadError, UrlencodedError};
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use futures_util::FutureExt;
use secrecy::ExposeSecret;
use tracing_actix_web::TracingLogger;

use crate::accounts::batch;
use crate::accounts::ldap::LdapAccountStore;
use crate::accounts::password_rules::PasswordRules;
use crate::accounts::store::{AccountStore, SqlAccountStore};
use crate::clock::{SharedClock, SystemClock};
use crate::config::AccountStoreKind;
use crate::config::DirectoryKind;
use crate::config::{ConfigError, ServerSettings, Settings};
use crate::db::{self, Db, DbError, DbUrl};
use crate::demo;
use crate::directory::ldap::LdapDirectory;
use crate::directory::local::LocalDirectory;
use crate::directory::{Directory, DirectoryError};
use crate::secrets::{AppKey, KeyError};
use crate::telemetry::RequestSpan;
use crate::tls::{self, TlsError};
use crate::web::state::AppState;
use crate::web::views::letters::LetterPortal;
use crate::web::{errors, input_guard, origin, routes, security_headers, session_guard};

/// `host:port`, the default instance id.
fn default_instance_id(port: u16) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{port}")
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Sso(#[from] crate::sso::SsoError),
    #[error("demo data: {0}")]
    Demo(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Refused(String),
}

/// How to start: the demo flag and the clock (tests inject theirs).
pub struct StartOptions {
    pub demo: bool,
    pub clock: SharedClock,
}

impl Default for StartOptions {
    fn default() -> Self {
        Self {
            demo: false,
            clock: Arc::new(SystemClock),
        }
    }
}

pub struct Application {
    server: Server,
    addr: SocketAddr,
    tls: bool,
    /// The background jobs run while this lives (it goes with the server's future).
    jobs_alive: Arc<()>,
}

/// Resolves the application key: configured, or (demo) generated in the data folder.
pub fn load_key(settings: &Settings, demo: bool) -> Result<AppKey, KeyError> {
    if let Some(text) = &settings.secrets.key {
        return AppKey::decode(text.expose_secret().as_bytes());
    }
    if let Some(path) = &settings.secrets.key_file {
        return AppKey::from_file(path);
    }
    if demo {
        std::fs::create_dir_all(&settings.demo.data_dir).map_err(|source| {
            KeyError::Unwritable {
                path: settings.demo.data_dir.display().to_string(),
                source,
            }
        })?;
        return AppKey::load_or_create(&settings.demo.data_dir.join("app.key"));
    }
    Err(KeyError::Missing)
}

/// Opens the pool (within the checkout timeout) from the settings.
pub fn open_database(settings: &Settings) -> Result<Db, StartupError> {
    let url = DbUrl::parse(&settings.database_url()?)?;
    let pool = db::build_pool(
        &url,
        settings.database.pool_size,
        Duration::from_millis(settings.database.checkout_timeout_ms),
        settings.database.busy_timeout_ms,
    )?;
    Ok(Db::new(pool))
}

/// The agents directory the settings name.
pub fn open_directory(settings: &Settings, db: &Db) -> Result<Arc<dyn Directory>, StartupError> {
    Ok(match settings.directory.kind {
        DirectoryKind::Local => Arc::new(LocalDirectory::new(db.pool().clone())?),
        DirectoryKind::Ldap => {
            let ldap = settings.directory.ldap.as_ref().ok_or_else(|| {
                DirectoryError::Config(
                    "[directory] kind = \"ldap\" needs a [directory.ldap] section".into(),
                )
            })?;
            Arc::new(LdapDirectory::new(ldap)?)
        }
    })
}

/// The account store the settings name: our tables, or the LDAP directory.
pub fn open_account_store(settings: &Settings) -> Result<Arc<dyn AccountStore>, StartupError> {
    Ok(match settings.accounts.store {
        AccountStoreKind::Sql => Arc::new(SqlAccountStore),
        AccountStoreKind::Ldap => {
            let ldap = settings.accounts.ldap.as_ref().ok_or_else(|| {
                DirectoryError::Config(
                    "[accounts] store = \"ldap\" needs an [accounts.ldap] section".into(),
                )
            })?;
            let rules = PasswordRules::from_settings(&settings.passwords);
            Arc::new(LdapAccountStore::new(ldap, rules)?)
        }
    })
}

/// Largest body of a form or of any other non-multipart request (the import page's
/// uploads have their own limits).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Form and query errors become French pages: 413 for a body over the limit, else 400.
fn bad_form(err: impl std::fmt::Display) -> actix_web::Error {
    tracing::info!(error = %err, "malformed form or query");
    errors::AppError::BadRequest(
        "Le formulaire envoyé est incomplet ou mal formé. Rechargez la page et réessayez.".into(),
    )
    .into()
}

fn form_error(err: UrlencodedError) -> actix_web::Error {
    match err {
        UrlencodedError::Overflow { .. } | UrlencodedError::Payload(PayloadError::Overflow) => {
            tracing::info!(error = %err, "form body over the limit");
            errors::AppError::TooLarge.into()
        }
        other => bad_form(other),
    }
}

/// Refuses an address the settings do not allow (the demo listens on loopback only, plain
/// HTTP only on loopback or behind a TLS proxy); the TLS configuration when there is one.
fn tls_for(settings: &Settings, demo: bool) -> Result<Option<rustls::ServerConfig>, StartupError> {
    let bind = settings.server.bind;
    let tls_config = settings
        .server
        .tls
        .as_ref()
        .map(tls::server_config)
        .transpose()?;
    if demo && !bind.ip().is_loopback() {
        return Err(StartupError::Refused(format!(
            "--demo listens on loopback only; {bind} is not a loopback address"
        )));
    }
    if tls_config.is_none() && !bind.ip().is_loopback() && !settings.server.behind_tls_proxy {
        return Err(StartupError::Refused(format!(
            "plain HTTP on {bind} is refused: configure [server.tls] or set [server] behind_tls_proxy = true"
        )));
    }
    Ok(tls_config)
}

/// Migrations (when the settings say so) and, for the demo, its data on an empty database.
fn prepare_database(
    settings: &Settings,
    db: &Db,
    key: &AppKey,
    options: &StartOptions,
) -> Result<(), StartupError> {
    let mut conn = db.get()?;
    if settings.database.migrate_on_start {
        let applied = db::run_migrations(&mut conn)?;
        if !applied.is_empty() {
            tracing::info!(count = applied.len(), "database migrations applied");
        }
    }
    if options.demo {
        let data_dir = &settings.demo.data_dir;
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StartupError::Demo(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        demo::seed_if_empty(&mut conn, key, options.clock.now(), data_dir)
            .map_err(|e| StartupError::Demo(e.to_string()))?;
    }
    Ok(())
}

/// Gives back at once the batch leases this instance's former process held.
fn release_former_leases(db: &Db, instance_id: &str) -> Result<(), StartupError> {
    let released = batch::release_instance_leases(&mut *db.get()?, instance_id)
        .map_err(|e| StartupError::Db(DbError::from(e)))?;
    if released > 0 {
        tracing::info!(
            count = released,
            "batch leases of the former process released"
        );
    }
    Ok(())
}

/// Listens on `bind`; the address it got (its port, when `bind` asks for any).
fn listen(bind: SocketAddr) -> Result<(TcpListener, SocketAddr), StartupError> {
    let refused = |source| StartupError::Bind { addr: bind, source };
    let listener = TcpListener::bind(bind).map_err(refused)?;
    let addr = listener.local_addr().map_err(refused)?;
    Ok((listener, addr))
}

/// The body and query limits, whose errors are French pages.
fn input_limits(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::FormConfig::default()
            .limit(BODY_LIMIT)
            .error_handler(|e, _| form_error(e)),
    )
    .app_data(web::PayloadConfig::new(BODY_LIMIT))
    .app_data(web::QueryConfig::default().error_handler(|e, _| bad_form(e)));
}

/// Every 500 and every client error the framework answers become French pages.
fn error_pages<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new()
        .handler(
            StatusCode::INTERNAL_SERVER_ERROR,
            errors::render_internal_error,
        )
        .default_handler_client(errors::render_client_error)
}

/// The HTTP server on `listener`: the routes behind every middleware, outermost last.
fn http_server(
    state: web::Data<AppState>,
    server: &ServerSettings,
    listener: TcpListener,
    tls_config: Option<rustls::ServerConfig>,
) -> Result<Server, StartupError> {
    let tls = tls_config.is_some();
    let mut http = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(input_limits)
            .configure(routes::configure)
            .wrap(from_fn(input_guard::refuse_nul_in_query))
            .wrap(from_fn(origin::same_origin_only))
            .wrap(from_fn(session_guard::require_session))
            .wrap(error_pages())
            .wrap(security_headers::default_headers(tls))
            .wrap_fn(|req, srv| {
                let header = security_headers::request_id_header(req.request());
                srv.call(req).map(move |res| {
                    res.map(|mut res| {
                        if let Some((name, value)) = header {
                            res.headers_mut().insert(name, value);
                        }
                        res
                    })
                })
            })
            .wrap(TracingLogger::<RequestSpan>::new())
    })
    .shutdown_timeout(server.shutdown_timeout_secs);
    if server.workers > 0 {
        http = http.workers(server.workers);
    }
    let bind = server.bind;
    Ok(match tls_config {
        Some(config) => http.listen_rustls_0_23(listener, config),
        None => http.listen(listener),
    }
    .map_err(|source| StartupError::Bind { addr: bind, source })?
    .run())
}

impl Application {
    pub fn build(settings: Settings, options: StartOptions) -> Result<Self, StartupError> {
        let tls_config = tls_for(&settings, options.demo)?;
        // Before any hash (the demo seeds hashed passwords); the pool is process-wide.
        crate::auth::password::configure_hashing(
            settings.hashing.threads,
            Duration::from_millis(settings.hashing.max_wait_ms),
        );
        let key = load_key(&settings, options.demo)?;
        let db = open_database(&settings)?;
        let directory = open_directory(&settings, &db)?;
        let accounts = open_account_store(&settings)?;
        prepare_database(&settings, &db, &key, &options)?;
        let (listener, addr) = listen(settings.server.bind)?;
        let instance_id = settings
            .server
            .instance_id
            .clone()
            .unwrap_or_else(|| default_instance_id(addr.port()));
        release_former_leases(&db, &instance_id)?;
        let portal = LetterPortal::of(&settings, addr, tls_config.is_some());
        let sso = Arc::new(crate::sso::Connectors::for_server(
            &settings,
            addr,
            tls_config.is_some(),
        )?);
        let state = web::Data::new(AppState {
            settings: Arc::new(settings.clone()),
            db,
            key,
            clock: options.clock,
            tz: settings.time_zone(),
            directory,
            accounts,
            instance_id,
            portal,
            sso,
        });
        let jobs_alive = Arc::new(());
        crate::jobs::spawn_all(
            Arc::downgrade(&jobs_alive),
            state.batch_services(),
            &settings.session,
        )
        .map_err(|source| StartupError::Bind { addr, source })?;
        let tls = tls_config.is_some();
        Ok(Self {
            server: http_server(state, &settings.server, listener, tls_config)?,
            addr,
            tls,
            jobs_alive,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Serves until SIGINT/SIGTERM (graceful) or the server is stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let _jobs = self.jobs_alive;
        self.server.await
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}
