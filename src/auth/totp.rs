//! TOTP (BRIEF rule 7): RFC 6238, SHA-1, 6 digits, 30 s steps, 160-bit secrets sealed at rest.
//! Only the current and the previous step are accepted (totp-rs would also take the next
//! one); a step is accepted once per agent; failures lock the check for a while.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use totp_rs::{Algorithm, Secret, Totp};

use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::schema::agent_totp;
use crate::secrets::{AppKey, random_bytes};

pub const SECRET_LEN: usize = 20;
pub const STEP_SECS: i64 = 30;
pub const MAX_FAILURES: i64 = 5;
pub const FAILURE_WINDOW_MINUTES: i64 = 15;
pub const LOCK_MINUTES: i64 = 15;
const SEAL_PURPOSE: &str = "totp-secret";

#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    #[error("a TOTP secret is {SECRET_LEN} bytes, got {0}")]
    WrongLength(usize),
    #[error("TOTP: {0}")]
    Totp(String),
    #[error("the sealed secret cannot be opened")]
    Unseal,
    #[error("the operating system's random generator failed")]
    Random,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// 160 secret bits; never printed.
#[derive(Clone)]
pub struct TotpSecret([u8; SECRET_LEN]);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    pub fn generate() -> Result<Self, TotpError> {
        random_bytes().map(Self).map_err(|_| TotpError::Random)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TotpError> {
        <[u8; SECRET_LEN]>::try_from(bytes)
            .map(Self)
            .map_err(|_| TotpError::WrongLength(bytes.len()))
    }

    fn totp(&self, uid: &str, issuer: &str) -> Result<Totp, TotpError> {
        totp_rs::Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(0)
            .with_step_duration(STEP_SECS as u64)
            .with_secret(Secret::from(self.0))
            .with_account_name(uid)
            .with_issuer(Some(issuer))
            .build()
            .map_err(|e| TotpError::Totp(e.to_string()))
    }

    /// The key to type into an app (base32).
    pub fn base32(&self) -> String {
        Secret::from(self.0).to_base32()
    }

    /// The QR code of the `otpauth://` URL, as a PNG data URI.
    pub fn qr_data_uri(&self, uid: &str, issuer: &str) -> Result<String, TotpError> {
        let b64 = self
            .totp(uid, issuer)?
            .to_qr_base64()
            .map_err(|e| TotpError::Totp(e.to_string()))?;
        Ok(format!("data:image/png;base64,{b64}"))
    }

    /// The code for the step of `at` (tests, and the enrolment page's self-check).
    pub fn code_at(&self, uid: &str, issuer: &str, at: DateTime<Utc>) -> Result<String, TotpError> {
        Ok(self
            .totp(uid, issuer)?
            .generate(at.timestamp().max(0) as u64)
            .to_string())
    }

    /// The step `code` belongs to, if it is the current or the previous one.
    pub fn matching_step(
        &self,
        uid: &str,
        issuer: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, TotpError> {
        let code = code.trim().replace(' ', "");
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        let totp = self.totp(uid, issuer)?;
        let step = now.timestamp().div_euclid(STEP_SECS);
        for candidate in [step, step - 1] {
            if candidate >= 0 && totp.check(&code, (candidate * STEP_SECS) as u64).is_some() {
                return Ok(Some(candidate));
            }
        }
        Ok(None)
    }

    pub fn seal(&self, key: &AppKey, uid: &str) -> Result<String, TotpError> {
        key.seal(SEAL_PURPOSE, &binding(uid), &self.0)
            .map_err(|_| TotpError::Random)
    }

    pub fn open(key: &AppKey, uid: &str, sealed: &str) -> Result<Self, TotpError> {
        let bytes = key
            .open(SEAL_PURPOSE, &binding(uid), sealed)
            .map_err(|_| TotpError::Unseal)?;
        Self::from_bytes(&bytes)
    }
}

fn binding(uid: &str) -> Vec<u8> {
    format!("educt-totp/1:{uid}").into_bytes()
}

/// An agent's authenticator as stored.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub sealed_secret: String,
    pub confirmed: bool,
    pub last_step: Option<i64>,
    pub failures: i64,
    pub window_start: Option<DateTime<Utc>>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Enrolment {
    pub fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }
}

pub fn load(conn: &mut DbConnection, uid: &str) -> QueryResult<Option<Enrolment>> {
    type Row = (
        String,
        Option<NaiveDateTime>,
        Option<i64>,
        i64,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let row: Option<Row> = agent_totp::table
        .filter(agent_totp::agent_uid.eq(uid))
        .select((
            agent_totp::sealed_secret,
            agent_totp::confirmed_at,
            agent_totp::last_step,
            agent_totp::failures,
            agent_totp::window_start,
            agent_totp::locked_until,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|r| Enrolment {
        sealed_secret: r.0,
        confirmed: r.1.is_some(),
        last_step: r.2,
        failures: r.3,
        window_start: r.4.map(|t| t.and_utc()),
        locked_until: r.5.map(|t| t.and_utc()),
    }))
}

/// Starts (or restarts, while unconfirmed) an enrolment. `false`: already enrolled.
pub fn begin(
    conn: &mut DbConnection,
    uid: &str,
    sealed: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    if load(conn, uid)?.is_some_and(|e| e.confirmed) {
        return Ok(false);
    }
    diesel::delete(agent_totp::table.filter(agent_totp::agent_uid.eq(uid))).execute(conn)?;
    diesel::insert_into(agent_totp::table)
        .values((
            agent_totp::agent_uid.eq(uid),
            agent_totp::sealed_secret.eq(sealed),
            agent_totp::created_at.eq(db_instant(now)),
            agent_totp::failures.eq(0i64),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Accepts `step` once: atomic, so parallel submissions of one code give one success.
/// `confirming` accepts it on an enrolment not yet confirmed (and confirms it).
pub fn accept_step(
    conn: &mut DbConnection,
    uid: &str,
    step: i64,
    confirming: bool,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let fresh = agent_totp::last_step
        .is_null()
        .or(agent_totp::last_step.lt(step));
    // Confirming takes an enrolment not yet confirmed; a check, a confirmed one.
    let row = agent_totp::table
        .filter(agent_totp::agent_uid.eq(uid))
        .filter(agent_totp::confirmed_at.is_null().eq(confirming))
        .filter(fresh);
    let accepted = (
        agent_totp::last_step.eq(Some(step)),
        agent_totp::failures.eq(0i64),
    );
    let n = if confirming {
        let confirmed = agent_totp::confirmed_at.eq(Some(db_instant(now)));
        diesel::update(row)
            .set((accepted, confirmed))
            .execute(conn)?
    } else {
        diesel::update(row).set(accepted).execute(conn)?
    };
    Ok(n == 1)
}

/// Counts a failure; 5 within 15 minutes lock the check for 15 minutes. Returns whether it
/// is now locked.
pub fn record_failure(conn: &mut DbConnection, uid: &str, now: DateTime<Utc>) -> QueryResult<bool> {
    let Some(e) = load(conn, uid)? else {
        return Ok(false);
    };
    let in_window = e
        .window_start
        .is_some_and(|w| now - w < Duration::minutes(FAILURE_WINDOW_MINUTES));
    let (failures, start) = if in_window {
        (e.failures + 1, e.window_start.unwrap_or(now))
    } else {
        (1, now)
    };
    let locked = failures >= MAX_FAILURES;
    diesel::update(agent_totp::table.filter(agent_totp::agent_uid.eq(uid)))
        .set((
            agent_totp::failures.eq(if locked { 0 } else { failures }),
            agent_totp::window_start.eq(Some(db_instant(start))),
            agent_totp::locked_until.eq(if locked {
                Some(db_instant(now + Duration::minutes(LOCK_MINUTES)))
            } else {
                e.locked_until.map(db_instant)
            }),
        ))
        .execute(conn)?;
    Ok(locked)
}

/// Forgets an agent's authenticator (a lost phone; `agents reset-totp`).
pub fn remove(conn: &mut DbConnection, uid: &str) -> QueryResult<bool> {
    Ok(diesel::delete(agent_totp::table.filter(agent_totp::agent_uid.eq(uid))).execute(conn)? == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(s, 0).unwrap()
    }

    #[test]
    fn only_the_current_and_previous_steps_are_accepted() {
        let secret = TotpSecret::from_bytes(&[7u8; 20]).unwrap();
        let now = at(1_790_000_015); // inside a step
        let step = now.timestamp() / STEP_SECS;
        for (offset, expect) in [
            (-2i64, None),
            (-1, Some(step - 1)),
            (0, Some(step)),
            (1, None),
        ] {
            let code = secret
                .code_at("a", "educt", at((step + offset) * STEP_SECS))
                .unwrap();
            let got = secret.matching_step("a", "educt", &code, now).unwrap();
            assert_eq!(got, expect, "offset {offset}");
        }
        assert_eq!(
            secret.matching_step("a", "educt", "12345", now).unwrap(),
            None
        );
        assert_eq!(
            secret.matching_step("a", "educt", "abcdef", now).unwrap(),
            None
        );
    }

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s → 94287082 (8 digits);
        // the 6-digit code is its last six digits.
        let secret = TotpSecret::from_bytes(b"12345678901234567890").unwrap();
        assert_eq!(secret.code_at("a", "educt", at(59)).unwrap(), "287082");
    }

    #[test]
    fn secrets_have_160_bits_and_are_sealed_to_their_agent() {
        assert!(TotpSecret::from_bytes(&[1u8; 16]).is_err());
        assert!(TotpSecret::from_bytes(&[1u8; 21]).is_err());
        let key = AppKey::from_bytes([5; 32]);
        let s = TotpSecret::generate().unwrap();
        let sealed = s.seal(&key, "agent1").unwrap();
        assert!(!sealed.contains(&s.base32()));
        assert_eq!(
            TotpSecret::open(&key, "agent1", &sealed).unwrap().base32(),
            s.base32()
        );
        assert!(TotpSecret::open(&key, "agent2", &sealed).is_err());
        assert!(!format!("{s:?}").contains(&s.base32()));
    }
}
