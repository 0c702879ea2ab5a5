//! The application key (BRIEF rule 11): 32 bytes that encrypt TOTP secrets and batch
//! passwords, key the audit chain and sign the sign-in form's CSRF cookie.

use std::fmt;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use rand::TryRngCore;

pub const KEY_LEN: usize = 32;

/// `N` bytes from the OS CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], rand::rand_core::OsError> {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.try_fill_bytes(&mut bytes)?;
    Ok(bytes)
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "no application key: set [secrets] key_file (32 bytes) or EDUCT_ADMIN__SECRETS__KEY; `serve --demo` makes one"
    )]
    Missing,
    #[error("cannot read the application key file {path}: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error("the application key must be 32 bytes (raw, 64 hex digits or base64); {0}")]
    Malformed(String),
    #[error("cannot write the application key file {path}: {source}")]
    Unwritable {
        path: String,
        source: std::io::Error,
    },
    #[error("the operating system's random generator failed")]
    Random,
    #[error("sealed data cannot be opened (wrong key, wrong binding or altered)")]
    Unseal,
}

/// 32 secret bytes; never printed.
#[derive(Clone)]
pub struct AppKey([u8; KEY_LEN]);

impl fmt::Debug for AppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppKey(<redacted>)")
    }
}

impl AppKey {
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    pub fn generate() -> Result<Self, KeyError> {
        random_bytes().map(Self).map_err(|_| KeyError::Random)
    }

    /// Raw 32 bytes, or 64 hex digits, or base64 of 32 bytes (surrounding white space ignored).
    pub fn decode(data: &[u8]) -> Result<Self, KeyError> {
        if let Ok(raw) = <[u8; KEY_LEN]>::try_from(data) {
            return Ok(Self(raw));
        }
        let text = std::str::from_utf8(data)
            .map_err(|_| KeyError::Malformed(format!("got {} bytes", data.len())))?
            .trim();
        let decoded = if text.len() == 2 * KEY_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|e| KeyError::Malformed(e.to_string()))?
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| KeyError::Malformed("neither hex nor base64".into()))?
        };
        <[u8; KEY_LEN]>::try_from(decoded.as_slice())
            .map(Self)
            .map_err(|_| KeyError::Malformed(format!("decoded to {} bytes", decoded.len())))
    }

    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let data = std::fs::read(path).map_err(|source| KeyError::Unreadable {
            path: path.display().to_string(),
            source,
        })?;
        Self::decode(&data)
    }

    /// Reads `path`, or creates it (mode 0600, hex) with a fresh key: the demo's way.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        if path.exists() {
            return Self::from_file(path);
        }
        let key = Self::generate()?;
        let unwritable = |source| KeyError::Unwritable {
            path: path.display().to_string(),
            source,
        };
        let mut file = create_private_file(path).map_err(unwritable)?;
        file.write_all(hex::encode(key.0).as_bytes())
            .map_err(unwritable)?;
        Ok(key)
    }

    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// A key of its own for one purpose (domain separation between the key's uses).
    fn subkey(&self, purpose: &str) -> [u8; 32] {
        self.hmac(&[b"educt-subkey/1:", purpose.as_bytes()])
    }

    /// Encrypts with AES-256-GCM under the purpose's subkey, bound to `aad`; returns
    /// base64(nonce ‖ ciphertext).
    pub fn seal(&self, purpose: &str, aad: &[u8], plaintext: &[u8]) -> Result<String, KeyError> {
        use aes_gcm::aead::{Aead, KeyInit as _, Payload};
        let cipher = aes_gcm::Aes256Gcm::new(&self.subkey(purpose).into());
        let nonce: [u8; 12] = random_bytes().map_err(|_| KeyError::Random)?;
        let ct = cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| KeyError::Random)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(base64::engine::general_purpose::STANDARD.encode(out))
    }

    /// The inverse of [`AppKey::seal`], with the same purpose and `aad`.
    pub fn open(&self, purpose: &str, aad: &[u8], sealed: &str) -> Result<Vec<u8>, KeyError> {
        use aes_gcm::aead::{Aead, KeyInit as _, Payload};
        let data = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| KeyError::Unseal)?;
        if data.len() < 12 + 16 {
            return Err(KeyError::Unseal);
        }
        let (nonce, ct) = data.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| KeyError::Unseal)?;
        let cipher = aes_gcm::Aes256Gcm::new(&self.subkey(purpose).into());
        cipher
            .decrypt(&nonce.into(), Payload { msg: ct, aad })
            .map_err(|_| KeyError::Unseal)
    }

    /// HMAC-SHA-256 under the key over the concatenation of `parts`.
    pub fn hmac(&self, parts: &[&[u8]]) -> [u8; 32] {
        use hmac::digest::KeyInit;
        use hmac::{Hmac, Mac};
        // HMAC pads a short key with zeros to the block size (RFC 2104): doing it here
        // gives the infallible constructor.
        let mut block = [0u8; 64];
        block[..KEY_LEN].copy_from_slice(&self.0);
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new(&block.into());
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

/// A new file readable by its owner only.
pub fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_raw_hex_and_base64() {
        let raw = [7u8; 32];
        assert_eq!(AppKey::decode(&raw).unwrap().expose(), &raw);
        let hex_text = format!("{}\n", hex::encode(raw));
        assert_eq!(AppKey::decode(hex_text.as_bytes()).unwrap().expose(), &raw);
        let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
        assert_eq!(AppKey::decode(b64.as_bytes()).unwrap().expose(), &raw);
    }

    #[test]
    fn refuses_wrong_lengths() {
        for data in [
            &b""[..],
            b"abc",
            &[1u8; 31],
            &[1u8; 33],
            b"zz".repeat(32).as_slice(),
        ] {
            assert!(AppKey::decode(data).is_err());
        }
    }

    #[test]
    fn hmac_matches_the_variable_length_constructor() {
        use hmac::{Hmac, Mac};
        let key = AppKey::from_bytes([9; 32]);
        let mut reference = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key.expose()).unwrap();
        reference.update(b"ab");
        reference.update(b"c");
        let expected: [u8; 32] = reference.finalize().into_bytes().into();
        assert_eq!(key.hmac(&[b"a", b"bc"]), expected);
    }

    #[test]
    fn sealed_data_opens_only_with_the_same_key_purpose_and_binding() {
        let k = AppKey::from_bytes([3; 32]);
        let sealed = k.seal("batch", b"1:2", b"abcd efgh jkm").unwrap();
        assert!(!sealed.contains("abcd"));
        assert_eq!(k.open("batch", b"1:2", &sealed).unwrap(), b"abcd efgh jkm");
        assert!(
            k.open("batch", b"1:3", &sealed).is_err(),
            "bound to the pupil"
        );
        assert!(
            k.open("totp", b"1:2", &sealed).is_err(),
            "bound to the purpose"
        );
        assert!(
            AppKey::from_bytes([4; 32])
                .open("batch", b"1:2", &sealed)
                .is_err()
        );
        assert!(k.open("batch", b"1:2", "AAAA").is_err());
        assert_ne!(
            sealed,
            k.seal("batch", b"1:2", b"abcd efgh jkm").unwrap(),
            "fresh nonce"
        );
    }

    #[test]
    fn debug_never_shows_the_key() {
        let k = AppKey::from_bytes([0xAB; 32]);
        assert!(!format!("{k:?}").to_lowercase().contains("ab"));
    }

    #[test]
    fn creates_a_private_key_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.key");
        let a = AppKey::load_or_create(&path).unwrap();
        let b = AppKey::load_or_create(&path).unwrap();
        assert_eq!(a.expose(), b.expose());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
