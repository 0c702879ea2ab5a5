//! Passwords as hazardous material: argon2id with the production parameters everywhere
//! (m = 19 MiB, t = 2, p = 1), random passwords from the OS CSPRNG.
//!
//! Every hash and every verification runs on one process-wide [`HashPool`] of dedicated
//! threads (one per core by default), whoever calls: sign-in, the password re-check at
//! enrolment, a reset, a batch item. A call waits at most `max_wait` for a hashing thread,
//! then gets [`PasswordError::Busy`] (the web edge answers a French 503 with `Retry-After`):
//! the argon2 memory in use is bounded by the cores, never by the number of callers. Each
//! hashing thread keeps its own argon2 memory (19 MiB) and reuses it, wiped after every use:
//! no 19 MiB allocation per hash, so the allocator's arenas cannot fragment and grow.

use std::cell::RefCell;
use std::sync::OnceLock;
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use super::hash_pool::{HashPool, PoolError, PoolLimits};
use crate::secrets::random_bytes;

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

/// The largest argon2 memory a stored hash may ask for (blocks of 1 KiB): 64 MiB.
const MAX_BLOCKS: usize = 64 * 1024;

thread_local! {
    /// This hashing thread's argon2 memory, reused from hash to hash.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs argon2 over this thread's reused memory, then wipes it.
fn with_memory<T>(
    blocks: usize,
    f: impl FnOnce(&mut [Block]) -> Result<T, PasswordError>,
) -> Result<T, PasswordError> {
    if blocks > MAX_BLOCKS {
        return Err(PasswordError::MalformedHash);
    }
    MEMORY.with(|memory| {
        let mut memory = memory.try_borrow_mut().map_err(|_| PasswordError::Hash)?;
        if memory.len() < blocks {
            memory.resize(blocks, Block::new());
        }
        let area = memory.get_mut(..blocks).ok_or(PasswordError::Hash)?;
        let out = f(area);
        area.fill(Block::new());
        out
    })
}

/// argon2id with the production parameters, on this thread's memory.
fn hash_now(password: &[u8]) -> Result<String, PasswordError> {
    let salt: [u8; 16] = random_bytes().map_err(|_| PasswordError::Random)?;
    let params = Params::DEFAULT;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    with_memory(params.block_count(), |memory| {
        argon2
            .hash_password_into_with_memory(password, &salt, &mut out, memory)
            .map_err(|_| PasswordError::Hash)
    })?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|_| PasswordError::Hash)?,
        salt: Some(Salt::new(&salt).map_err(|_| PasswordError::Hash)?),
        hash: Some(Output::new(&out).map_err(|_| PasswordError::Hash)?),
    };
    out.fill(0);
    Ok(phc.to_string())
}

/// Recomputes `phc` for `password` on this thread's memory; compares in constant time.
fn verify_now(password: &[u8], phc: &str) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(phc).map_err(|_| PasswordError::MalformedHash)?;
    let algorithm =
        Algorithm::try_from(parsed.algorithm.as_str()).map_err(|_| PasswordError::MalformedHash)?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(|_| PasswordError::MalformedHash)?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).map_err(|_| PasswordError::MalformedHash)?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(PasswordError::MalformedHash);
    };
    let mut out = vec![0u8; expected.len()];
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    with_memory(blocks, |memory| {
        argon2
            .hash_password_into_with_memory(password, salt, &mut out, memory)
            .map_err(|_| PasswordError::MalformedHash)
    })?;
    let matches = bool::from(out.as_slice().ct_eq(expected.as_bytes()));
    out.fill(0);
    Ok(matches)
}

/// argon2id PHC string of `password`, computed on the hashing pool. Slow on purpose, and
/// blocks: call it off the async workers.
pub fn hash_password(password: &SecretString) -> Result<String, PasswordError> {
    let password = SecretString::from(password.expose_secret().to_owned());
    hashing_pool()?.run(move || hash_now(password.expose_secret().as_bytes()))?
}

/// Whether `password` matches `phc` (constant time), computed on the hashing pool. A
/// malformed `phc` is refused before any work.
pub fn verify_password(password: &SecretString, phc: &str) -> Result<bool, PasswordError> {
    PasswordHash::new(phc).map_err(|_| PasswordError::MalformedHash)?;
    let password = SecretString::from(password.expose_secret().to_owned());
    let phc = phc.to_owned();
    hashing_pool()?.run(move || verify_now(password.expose_secret().as_bytes(), &phc))?
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
    while out.len() < len {
        let buf: [u8; 64] = random_bytes().map_err(|_| PasswordError::Random)?;
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
        // The argon2 crate reads it as its own.
        use argon2::password_hash::PasswordVerifier;
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &PasswordHash::new(&phc).unwrap())
                .is_ok()
        );
        assert!(verify_password(&pw, &phc).unwrap());
        assert!(!verify_password(&SecretString::from("wrong".to_owned()), &phc).unwrap());
        assert!(verify_password(&pw, "not a hash").is_err());
    }

    #[test]
    fn verifies_hashes_made_by_the_argon2_crate_itself() {
        use argon2::password_hash::PasswordHasher;
        let pw = SecretString::from("Zoë l'Été".to_owned());
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
            .hash_password(pw.expose_secret().as_bytes())
            .unwrap()
            .to_string();
        assert!(verify_password(&pw, &theirs).unwrap());
        assert!(!verify_password(&SecretString::from("zoë l'été".to_owned()), &theirs).unwrap());
        // Other parameters (an older hash) verify too, on the same reused memory.
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 3, 1, None).unwrap(),
        )
        .hash_password(b"court")
        .unwrap()
        .to_string();
        assert!(verify_password(&SecretString::from("court".to_owned()), &small).unwrap());
        let huge = "$argon2id$v=19$m=1048576,t=2,p=1$ZnDW/JLZ5XHP35Xbko/yIg$tvg2dqHJSkEi7Xls2S8rcTg4eXotZHIHj3BSG1jcF6Y";
        assert!(matches!(
            verify_password(&pw, huge),
            Err(PasswordError::MalformedHash)
        ));
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
