//! Passwords as hazardous material: argon2id with the production parameters everywhere
//! (m = 19 MiB, t = 2, p = 1), random passwords from the OS CSPRNG.
//!
//! Every hash and every verification runs on one process-wide [`HashPool`] of dedicated
//! threads (one per core by default), whoever calls: sign-in, the password re-check at
//! enrolment, a reset, a batch item. A call waits at most `max_wait` for a hashing thread,
//! then gets [`PasswordError::Busy`] (the web edge answers a French 503 with `Retry-After`):
//! the argon2 memory in use is bounded by the cores, never by the number of callers.

use std::sync::OnceLock;
use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::TryRngCore;
use secrecy::{ExposeSecret, SecretString};

use super::hash_pool::{HashPool, PoolError, PoolLimits};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed")]
    Hash,
    #[error("stored password hash is malformed")]
    MalformedHash,
    #[error("the operating system's random generator failed")]
    Random,
    /// Every hashing thread stayed busy for the whole bounded wait.
    #[error("password hashing is busy")]
    Busy,
}

impl From<PoolError> for PasswordError {
    fn from(e: PoolError) -> Self {
        match e {
            PoolError::Busy(_) => PasswordError::Busy,
            PoolError::Failed => PasswordError::Hash,
        }
    }
}

/// The default bounded wait for a hashing thread.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(3);
/// Jobs that may wait per hashing thread; beyond, `Busy` at once.
pub const QUEUE_PER_THREAD: usize = 64;

static LIMITS: OnceLock<PoolLimits> = OnceLock::new();
static POOL: OnceLock<Option<HashPool>> = OnceLock::new();

/// One hashing thread per core (`std::thread::available_parallelism`).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Sizes the hashing pool (`threads` 0: one per core). Takes effect only before the first
/// hash of the process; returns whether it did.
pub fn configure_hashing(threads: usize, max_wait: Duration) -> bool {
    let threads = if threads == 0 {
        default_threads()
    } else {
        threads
    };
    LIMITS
        .set(PoolLimits {
            threads,
            max_wait,
            max_queue: threads.saturating_mul(QUEUE_PER_THREAD),
        })
        .is_ok()
}

/// The process-wide hashing pool, started at first use.
pub fn hashing_pool() -> Result<&'static HashPool, PasswordError> {
    POOL.get_or_init(|| {
        let limits = *LIMITS.get_or_init(|| {
            let threads = default_threads();
            PoolLimits {
                threads,
                max_wait: DEFAULT_MAX_WAIT,
                max_queue: threads.saturating_mul(QUEUE_PER_THREAD),
            }
        });
        HashPool::start("argon2", limits)
            .inspect_err(|e| tracing::error!(error = %e, "cannot start the hashing threads"))
            .ok()
    })
    .as_ref()
    .ok_or(PasswordError::Hash)
}

/// Symbols without look-alikes: no 0/O, 1/l/I.
pub const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

/// argon2id PHC string of `password`, computed on the hashing pool. Slow on purpose, and
/// blocks: call it off the async workers.
pub fn hash_password(password: &SecretString) -> Result<String, PasswordError> {
    let password = SecretString::from(password.expose_secret().to_owned());
    hashing_pool()?.run(move || {
        argon2()
            .hash_password(password.expose_secret().as_bytes())
            .map(|h| h.to_string())
            .map_err(|_| PasswordError::Hash)
    })?
}

/// Whether `password` matches `phc` (constant time inside argon2), computed on the hashing
/// pool. A malformed `phc` is refused before any work.
pub fn verify_password(password: &SecretString, phc: &str) -> Result<bool, PasswordError> {
    PasswordHash::new(phc).map_err(|_| PasswordError::MalformedHash)?;
    let password = SecretString::from(password.expose_secret().to_owned());
    let phc = phc.to_owned();
    hashing_pool()?.run(move || {
        let parsed = PasswordHash::new(&phc).map_err(|_| PasswordError::MalformedHash)?;
        Ok(argon2()
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok())
    })?
}

/// `len` symbols of [`ALPHABET`] from the OS CSPRNG, without modulo bias.
pub fn generate_password(len: usize) -> Result<SecretString, PasswordError> {
    generate_from(ALPHABET, len)
}

/// `len` symbols of `alphabet` (at most 256) from the OS CSPRNG, without modulo bias.
pub fn generate_from(alphabet: &[u8], len: usize) -> Result<SecretString, PasswordError> {
    let n = alphabet.len() as u8;
    let limit = u8::MAX - (u8::MAX % n);
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        rand::rngs::OsRng
            .try_fill_bytes(&mut buf)
            .map_err(|_| PasswordError::Random)?;
        for b in buf {
            if b < limit && out.len() < len {
                out.push(alphabet[(b % n) as usize] as char);
            }
        }
    }
    Ok(SecretString::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_with_argon2id_production_parameters_and_verifies() {
        let pw = SecretString::from("correct horse".to_owned());
        let phc = hash_password(&pw).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password(&pw, &phc).unwrap());
        assert!(!verify_password(&SecretString::from("wrong".to_owned()), &phc).unwrap());
        assert!(verify_password(&pw, "not a hash").is_err());
    }

    #[test]
    fn generated_passwords_avoid_look_alikes() {
        let pw = generate_password(200).unwrap();
        assert_eq!(pw.expose_secret().len(), 200);
        for c in ['0', 'O', '1', 'l', 'I'] {
            assert!(!pw.expose_secret().contains(c));
        }
        assert_ne!(
            generate_password(16).unwrap().expose_secret(),
            generate_password(16).unwrap().expose_secret()
        );
    }
}
