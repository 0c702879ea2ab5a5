//! The first sign-in's step token: what carries "this person proved identifiant, provisional
//! password and birth date" from the first step to the second without a session or a
//! database row. It is `identifiant~expiry~mac`, the MAC an HMAC-SHA-256 under the
//! application key over the identifiant, the expiry **and the account's password hash at
//! issue**: once the password changes (the second step done, or a new reset) the hash is
//! another and every token issued before is dead, so a token serves once. It travels in a
//! hidden form field, never in a URL, and is short-lived.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use subtle::ConstantTimeEq;

use crate::secrets::AppKey;

/// How long the second step may wait.
pub const LIFETIME_MINUTES: i64 = 15;

const PURPOSE: &[u8] = b"educt-first-signin-step/1|";
const SEP: char = '~';

fn mac(key: &AppKey, identifiant: &str, expires: i64, hash: &str) -> [u8; 32] {
    let expires = expires.to_string();
    // None of the three can hold `|` (identifiants are [a-z0-9.], PHC strings [$=,+/ a-zA-Z0-9]).
    key.hmac(&[
        PURPOSE,
        identifiant.as_bytes(),
        b"|",
        expires.as_bytes(),
        b"|",
        hash.as_bytes(),
    ])
}

/// A token for `identifiant`, whose password hash is `hash` now, valid until `now` plus
/// [`LIFETIME_MINUTES`].
pub fn issue(key: &AppKey, identifiant: &str, hash: &str, now: DateTime<Utc>) -> String {
    let expires = (now + Duration::minutes(LIFETIME_MINUTES)).timestamp();
    let mac = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac(
        key,
        identifiant,
        expires,
        hash,
    ));
    format!("{identifiant}{SEP}{expires}{SEP}{mac}")
}

/// A token as posted, before it is checked against the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepToken {
    /// The identifiant it names (not yet believed).
    pub identifiant: String,
    expires: i64,
    mac: Vec<u8>,
}

impl StepToken {
    /// The parts of `text`, or `None` when it is not a token's shape.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split(SEP);
        let (identifiant, expires, mac) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || identifiant.is_empty() || identifiant.len() > 64 {
            return None;
        }
        let mac = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(mac)
            .ok()
            .filter(|m| m.len() == 32)?;
        // One text per token: the expiry in its canonical form only (no sign, no leading
        // zero), so a token cannot be re-spelled and still verify.
        let at: i64 = expires.parse().ok()?;
        if at.to_string() != expires {
            return None;
        }
        Some(Self {
            identifiant: identifiant.to_owned(),
            expires: at,
            mac,
        })
    }

    /// Whether it was issued under `key` for the account whose password hash is `hash`
    /// (still), and has not expired at `now`.
    pub fn valid_for(&self, key: &AppKey, hash: &str, now: DateTime<Utc>) -> bool {
        let expected = mac(key, &self.identifiant, self.expires, hash);
        let genuine: bool = expected.as_slice().ct_eq(&self.mac).into();
        genuine && now.timestamp() < self.expires
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_token_holds_for_its_account_s_hash_and_its_lifetime_only() {
        let key = AppKey::from_bytes([7; 32]);
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
        let token = issue(&key, "z.lefevre", "$argon2id$old", now);
        let parsed = StepToken::parse(&token).unwrap();
        assert_eq!(parsed.identifiant, "z.lefevre");
        assert!(parsed.valid_for(&key, "$argon2id$old", now + Duration::minutes(14)));
        assert!(!parsed.valid_for(&key, "$argon2id$old", now + Duration::minutes(15)));
        assert!(
            !parsed.valid_for(&key, "$argon2id$new", now),
            "the password changed"
        );
        assert!(!parsed.valid_for(&AppKey::from_bytes([8; 32]), "$argon2id$old", now));
        // Another identifiant or a later expiry breaks the MAC.
        let other = token.replacen("z.lefevre", "z.lefevre2", 1);
        let other = StepToken::parse(&other).unwrap();
        assert!(!other.valid_for(&key, "$argon2id$old", now));
        let (head, mac) = token.rsplit_once(SEP).unwrap();
        let (who, expires) = head.split_once(SEP).unwrap();
        let later: i64 = expires.parse::<i64>().unwrap() + 3600;
        let extended = StepToken::parse(&format!("{who}{SEP}{later}{SEP}{mac}")).unwrap();
        assert!(!extended.valid_for(&key, "$argon2id$old", now));
    }

    #[test]
    fn malformed_tokens_do_not_parse() {
        for bad in [
            "",
            "z.lefevre",
            "z.lefevre~1~",
            "z.lefevre~x~AAAA",
            "~1~AAAA",
            "a~1~b~c",
            "z.lefevre~1~%%%",
            &format!("{}~1~{}", "a".repeat(65), "A".repeat(43)),
            // a valid token's expiry re-spelled (found by an attack on the page)
            &format!("z.lefevre~+1796688417~{}", "A".repeat(43)),
            &format!("z.lefevre~01796688417~{}", "A".repeat(43)),
        ] {
            assert_eq!(StepToken::parse(bad), None, "{bad:?}");
        }
    }
}
