//! Passwords as hazardous material: argon2id with the production parameters everywhere
//! (m = 19 MiB, t = 2, p = 1), random passwords from the OS CSPRNG.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::TryRngCore;
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed")]
    Hash,
    #[error("stored password hash is malformed")]
    MalformedHash,
    #[error("the operating system's random generator failed")]
    Random,
}

/// Symbols without look-alikes: no 0/O, 1/l/I.
pub const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

/// argon2id PHC string of `password`. Slow on purpose: call it on the blocking pool.
pub fn hash_password(password: &SecretString) -> Result<String, PasswordError> {
    argon2()
        .hash_password(password.expose_secret().as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| PasswordError::Hash)
}

/// Whether `password` matches `phc` (constant time inside argon2).
pub fn verify_password(password: &SecretString, phc: &str) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(phc).map_err(|_| PasswordError::MalformedHash)?;
    Ok(argon2()
        .verify_password(password.expose_secret().as_bytes(), &parsed)
        .is_ok())
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
