//! A bounded pool of LDAP connections bound as the service account, on ldap3's async API.
//!
//! The connections and their drivers live on one small runtime of the pool's own (one worker
//! thread), so a connection outlives the request that opened it: the next operation reuses
//! it instead of paying a new runtime, a TCP and TLS handshake and a service bind. Callers are
//! blocking threads (`spawn_blocking`, `web::block`, the batch runner): [`LdapPool::run`]
//! waits there for the operation. At most `size` operations run at once; the others wait,
//! but every call, its wait included, ends within the pool's deadline (past it the directory
//! is unavailable: the caller's French 503). A connection that failed, timed out or could not
//! bind back as the service is dropped, one idle for long is checked before reuse and one
//! idle for too long is closed, so an outage or a silently dropped connection heals at the
//! next operation.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings};
use rustls::ClientConfig;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use super::DirectoryError;

/// Where and as whom the pool's connections bind.
pub struct Endpoint {
    pub url: String,
    pub settings: LdapConnSettings,
    pub bind_dn: String,
    pub bind_password: SecretString,
    /// Each LDAP operation's own limit.
    pub op_timeout: Duration,
    /// A connection idle for longer is checked before reuse.
    pub check_after: Duration,
}

/// How to reach a directory, as a configuration section says it (`section` names it in
/// the errors): the staff directory's and the account store's share this shape.
pub struct Connection<'a> {
    pub section: &'static str,
    /// `ldaps://host:636` or `ldap://host:389` (then StartTLS unless `starttls` is false).
    pub url: &'a str,
    pub starttls: bool,
    pub ca_file: Option<&'a std::path::Path>,
    /// Plain `ldap://` without StartTLS (loopback tests only).
    pub allow_insecure: bool,
    pub bind_dn: &'a str,
    pub bind_password: Option<&'a SecretString>,
    pub bind_password_file: Option<&'a std::path::Path>,
    pub connect_timeout_ms: u64,
    /// A whole call, waiting for a connection included, ends within this.
    pub timeout_ms: u64,
    pub pool_size: usize,
    pub idle_check_ms: u64,
}

pub struct LdapPool {
    /// Taken at drop to shut down without blocking (the pool may be dropped on an async
    /// thread, e.g. when startup fails after the directory was opened).
    runtime: Option<tokio::runtime::Runtime>,
    endpoint: Arc<Endpoint>,
    idle: Arc<Mutex<Vec<Idle>>>,
    permits: Arc<Semaphore>,
    deadline: Duration,
    opened: Arc<AtomicUsize>,
}

/// A connection back in the pool, and since when.
struct Idle {
    ldap: Ldap,
    since: Instant,
}

/// An idle connection older than this is closed rather than reused.
const MAX_IDLE: Duration = Duration::from_secs(300);
/// How long the check of a connection idle for long may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// Tells the pool not to take the connection back (an operation that changed its identity
/// and could not bind back as the service).
#[derive(Clone)]
pub struct Discard(Arc<AtomicBool>);

impl Discard {
    pub fn now(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn unavailable(e: impl std::fmt::Display) -> DirectoryError {
    DirectoryError::Unavailable(e.to_string())
}

impl LdapPool {
    /// The pool a configuration section describes: TLS (`ldaps://` or StartTLS) checked
    /// against its CA file, the service's password from its file.
    pub fn open(c: &Connection<'_>) -> Result<Self, DirectoryError> {
        let section = c.section;
        let config_err = |m: String| DirectoryError::Config(format!("{section}: {m}"));
        let url = c.url.trim();
        let (tls_needed, starttls) = if url.starts_with("ldaps://") {
            (true, false)
        } else if url.starts_with("ldap://") {
            if c.starttls {
                (true, true)
            } else if c.allow_insecure {
                (false, false)
            } else {
                return Err(config_err(
                    "plain ldap:// without StartTLS is refused; use ldaps://, keep starttls = true, or set allow_insecure = true (loopback tests only)".into(),
                ));
            }
        } else {
            return Err(config_err(format!(
                "url must start with ldaps:// or ldap://, got {url:?}"
            )));
        };
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(Duration::from_millis(c.connect_timeout_ms))
            .set_starttls(starttls);
        if tls_needed {
            let ca = c
                .ca_file
                .ok_or_else(|| config_err("ca_file is required for TLS".into()))?;
            settings = settings.set_config(Arc::new(client_config(section, ca)?));
        }
        let bind_password = match (c.bind_password, c.bind_password_file) {
            (Some(p), None) => p.clone(),
            (None, Some(path)) => SecretString::from(
                std::fs::read_to_string(path)
                    .map_err(|e| config_err(format!("cannot read {}: {e}", path.display())))?
                    .trim_end_matches(['\n', '\r'])
                    .to_owned(),
            ),
            (Some(_), Some(_)) => {
                return Err(config_err(
                    "set bind_password or bind_password_file, not both".into(),
                ));
            }
            (None, None) => return Err(config_err("bind_password_file is required".into())),
        };
        let endpoint = Endpoint {
            url: url.to_owned(),
            settings,
            bind_dn: c.bind_dn.to_owned(),
            bind_password,
            op_timeout: Duration::from_millis(c.timeout_ms),
            check_after: Duration::from_millis(c.idle_check_ms),
        };
        Self::new(endpoint, c.pool_size, Duration::from_millis(c.timeout_ms))
    }

    /// A pool of at most `size` connections; each call, waiting for a connection included,
    /// ends within `deadline`.
    pub fn new(
        endpoint: Endpoint,
        size: usize,
        deadline: Duration,
    ) -> Result<Self, DirectoryError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("educt-ldap")
            .enable_all()
            .build()
            .map_err(|e| DirectoryError::Config(format!("LDAP runtime: {e}")))?;
        Ok(Self {
            runtime: Some(runtime),
            endpoint: Arc::new(endpoint),
            idle: Arc::new(Mutex::new(Vec::new())),
            permits: Arc::new(Semaphore::new(size.max(1))),
            deadline,
            opened: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// How many connections the pool has opened since it started (a measure of reuse).
    pub fn connections_opened(&self) -> usize {
        self.opened.load(Ordering::Relaxed)
    }

    /// The endpoint, for an operation that must bind back as the service.
    pub fn endpoint(&self) -> Arc<Endpoint> {
        self.endpoint.clone()
    }

    /// Runs `op` on a connection bound as the service account and waits for it (from a
    /// blocking thread), the whole call within the pool's deadline (past it: unavailable, and
    /// the connection is closed). The connection goes back to the pool when `op` succeeded,
    /// did not [`Discard`] it, and left it open.
    pub fn run<T, F, Fut>(&self, op: F) -> Result<T, DirectoryError>
    where
        F: FnOnce(Ldap, Discard) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, DirectoryError>> + Send,
        T: Send + 'static,
    {
        let Some(runtime) = &self.runtime else {
            return Err(unavailable("the LDAP pool is shut down"));
        };
        let (endpoint, idle) = (self.endpoint.clone(), self.idle.clone());
        let (permits, opened) = (self.permits.clone(), self.opened.clone());
        let work = async move {
            let _permit = permits.acquire_owned().await.map_err(unavailable)?;
            let mut ldap = checkout(&idle, &endpoint, &opened).await?;
            let discard = Arc::new(AtomicBool::new(false));
            let result = op(ldap.clone(), Discard(discard.clone())).await;
            if result.is_ok()
                && !discard.load(Ordering::Relaxed)
                && !ldap.is_closed()
                && let Ok(mut idle) = idle.lock()
            {
                let since = Instant::now();
                idle.push(Idle { ldap, since });
            }
            result
        };
        let deadline = self.deadline;
        runtime.block_on(async move {
            tokio::time::timeout(deadline, work)
                .await
                .map_err(|_| unavailable("the directory did not answer in time"))?
        })
    }
}

impl Drop for LdapPool {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// An idle connection fit for reuse, else a new one.
async fn checkout(
    idle: &Mutex<Vec<Idle>>,
    endpoint: &Endpoint,
    opened: &AtomicUsize,
) -> Result<Ldap, DirectoryError> {
    while let Some(Idle { mut ldap, since }) = take_idle(idle) {
        let age = since.elapsed();
        if ldap.is_closed() || age > MAX_IDLE {
            continue;
        }
        if age < endpoint.check_after || bound_as_service(&mut ldap, endpoint).await {
            return Ok(ldap);
        }
    }
    let ldap = connect(endpoint).await?;
    opened.fetch_add(1, Ordering::Relaxed);
    Ok(ldap)
}

fn take_idle(idle: &Mutex<Vec<Idle>>) -> Option<Idle> {
    idle.lock().ok()?.pop()
}

/// Whether the connection still answers, bound as the service (Who am I?, RFC 4532).
async fn bound_as_service(ldap: &mut Ldap, endpoint: &Endpoint) -> bool {
    let answer = ldap
        .with_timeout(CHECK_TIMEOUT)
        .extended(ldap3::exop::WhoAmI)
        .await;
    let Ok(ldap3::result::ExopResult(exop, result)) = answer else {
        return false;
    };
    let normal = |dn: &str| dn.replace(", ", ",").to_ascii_lowercase();
    let service = format!("dn:{}", normal(&endpoint.bind_dn));
    let authzid: Option<String> = exop
        .val
        .as_deref()
        .map(|v: &[u8]| String::from_utf8_lossy(v).into_owned());
    result.rc == 0 && authzid.is_some_and(|id: String| normal(&id) == service)
}

/// A new connection, its driver spawned on the pool's runtime, bound as the service.
async fn connect(endpoint: &Endpoint) -> Result<Ldap, DirectoryError> {
    let (conn, mut ldap) = LdapConnAsync::with_settings(endpoint.settings.clone(), &endpoint.url)
        .await
        .map_err(unavailable)?;
    ldap3::drive!(conn);
    bind_service(&mut ldap, endpoint).await?;
    Ok(ldap)
}

/// Binds `ldap` as the service account (again, after a user's bind).
pub async fn bind_service(ldap: &mut Ldap, endpoint: &Endpoint) -> Result<(), DirectoryError> {
    let res = ldap
        .with_timeout(endpoint.op_timeout)
        .simple_bind(&endpoint.bind_dn, endpoint.bind_password.expose_secret())
        .await
        .map_err(unavailable)?;
    if res.rc != 0 {
        return Err(unavailable(format!("service bind refused (rc {})", res.rc)));
    }
    Ok(())
}

/// rustls client configuration trusting only `ca_file`, with the ring provider.
fn client_config(section: &str, ca_file: &std::path::Path) -> Result<ClientConfig, DirectoryError> {
    crate::tls::client_config(Some(ca_file)).map_err(|m| {
        DirectoryError::Config(format!("{section}.ca_file {}: {m}", ca_file.display()))
    })
}
