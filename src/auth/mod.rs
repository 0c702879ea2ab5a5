//! Credentials and sign-in: passwords (and their hashing pool), sessions, CSRF tokens,
//! throttling.

pub mod csrf;
pub mod hash_pool;
pub mod password;
pub mod session;
pub mod step_token;
pub mod throttle;
pub mod totp;

use base64::Engine;
use rand::TryRngCore;

/// `n` random bytes from the OS CSPRNG, base64url without padding.
pub fn random_token(n: usize) -> Result<String, rand::rand_core::OsError> {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.try_fill_bytes(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}
