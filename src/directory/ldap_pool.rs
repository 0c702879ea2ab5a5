//! A bounded pool of LDAP connections bound as the service account, on ldap3's async API.
//!
//! The connections and their drivers live on one small runtime of the pool's own (one worker
//! thread), so a connection outlives the request that opened it: the next operation reuses
//! it instead of paying a new runtime, a TCP and TLS handshake and a service bind. Callers are
//! blocking threads (`spawn_blocking`, `web::block`, the batch runner): [`LdapPool::run`]
//! waits there for the operation. At most `size` operations run at once; past
//! `checkout_timeout` the directory is unavailable (the caller's French 503), never a queue
//! that grows. A connection that failed, timed out or changed identity is dropped, so an
//! outage heals at the next operation.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings};
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
}

pub struct LdapPool {
    runtime: tokio::runtime::Runtime,
    endpoint: Arc<Endpoint>,
    idle: Arc<Mutex<Vec<Ldap>>>,
    permits: Arc<Semaphore>,
    checkout_timeout: Duration,
    opened: Arc<AtomicUsize>,
}

fn unavailable(e: impl std::fmt::Display) -> DirectoryError {
    DirectoryError::Unavailable(e.to_string())
}

impl LdapPool {
    pub fn new(
        endpoint: Endpoint,
        size: usize,
        checkout_timeout: Duration,
    ) -> Result<Self, DirectoryError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("educt-ldap")
            .enable_all()
            .build()
            .map_err(|e| DirectoryError::Config(format!("LDAP runtime: {e}")))?;
        Ok(Self {
            runtime,
            endpoint: Arc::new(endpoint),
            idle: Arc::new(Mutex::new(Vec::new())),
            permits: Arc::new(Semaphore::new(size.max(1))),
            checkout_timeout,
            opened: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// How many connections the pool has opened since it started (a measure of reuse).
    pub fn connections_opened(&self) -> usize {
        self.opened.load(Ordering::Relaxed)
    }

    /// Runs `op` on a connection bound as the service account and waits for it (from a
    /// blocking thread). The connection goes back to the pool when `op` succeeded and left it
    /// open and bound as the service; `op` closes it (`unbind`) when it changed its identity
    /// and could not bind back.
    pub fn run<T, F, Fut>(&self, op: F) -> Result<T, DirectoryError>
    where
        F: FnOnce(Ldap) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, DirectoryError>> + Send,
        T: Send + 'static,
    {
        let (endpoint, idle) = (self.endpoint.clone(), self.idle.clone());
        let (permits, opened) = (self.permits.clone(), self.opened.clone());
        let checkout_timeout = self.checkout_timeout;
        self.runtime.block_on(async move {
            let _permit = tokio::time::timeout(checkout_timeout, permits.acquire_owned())
                .await
                .map_err(|_| unavailable("every LDAP connection is busy"))?
                .map_err(unavailable)?;
            let mut ldap = match take_idle(&idle) {
                Some(ldap) => ldap,
                None => {
                    let ldap = connect(&endpoint).await?;
                    opened.fetch_add(1, Ordering::Relaxed);
                    ldap
                }
            };
            let result = op(ldap.clone()).await;
            if result.is_ok()
                && !ldap.is_closed()
                && let Ok(mut idle) = idle.lock()
            {
                idle.push(ldap);
            }
            result
        })
    }
}

/// An idle connection still open, if any (closed ones are dropped on the way).
fn take_idle(idle: &Mutex<Vec<Ldap>>) -> Option<Ldap> {
    let mut idle = idle.lock().ok()?;
    while let Some(mut ldap) = idle.pop() {
        if !ldap.is_closed() {
            return Some(ldap);
        }
    }
    None
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

impl LdapPool {
    /// The endpoint, for an operation that must bind back as the service.
    pub fn endpoint(&self) -> Arc<Endpoint> {
        self.endpoint.clone()
    }
}
