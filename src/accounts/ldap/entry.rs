//! An account's entry as the LDAP store reads it, and the state it means (ppolicy's
//! operational attributes, observed on slapd 2.5: see docs/ldap-accounts.md).

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

use crate::accounts::AccountState;

/// `pwdAccountLockedTime`'s value for a lock only an administrator lifts.
pub const PERMANENT_LOCK: &str = "000001010000Z";

/// The operational attributes the store asks for (the server returns them only when named).
pub const STATE_ATTRIBUTES: [&str; 6] = [
    "userPassword",
    "pwdReset",
    "pwdChangedTime",
    "pwdAccountLockedTime",
    "pwdPolicySubentry",
    "pwdFailureTime",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Deactivated: [`PERMANENT_LOCK`].
    Permanent,
    /// Locked by failed binds at this time (lifted by the policy's lockout duration).
    Since(DateTime<Utc>),
}

/// What the store needs of an entry: never the password, only whether there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub dn: String,
    pub has_password: bool,
    /// `pwdReset: TRUE`: the password was set by an administrator and must be changed.
    pub reset: bool,
    pub changed: Option<DateTime<Utc>>,
    pub locked: Option<Lock>,
    /// `pwdAccountLockedTime` as stored (a write conditional on it asserts this value).
    pub lock_value: Option<String>,
    pub policy: Option<String>,
}

/// An LDAP generalized time as slapd writes it (`20261207203231Z`, maybe with fractions).
pub fn parse_time(value: &str) -> Option<DateTime<Utc>> {
    let v = value.trim().strip_suffix('Z')?;
    let whole = v.split(['.', ',']).next()?;
    NaiveDateTime::parse_from_str(whole, "%Y%m%d%H%M%S")
        .ok()
        .map(|t| t.and_utc())
}

/// A time as an LDAP generalized time.
pub fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%SZ").to_string()
}

impl Entry {
    /// From a search entry's attributes (keys in any case; `userPassword` may come back
    /// among the binary values). An unreadable lock time counts as a lock.
    pub fn from_attrs(
        dn: String,
        attrs: &HashMap<String, Vec<String>>,
        binary: &HashMap<String, Vec<Vec<u8>>>,
    ) -> Self {
        let get = |name: &str| {
            attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.first())
                .map(String::as_str)
        };
        let has_password = get("userPassword").is_some()
            || binary
                .keys()
                .any(|k| k.eq_ignore_ascii_case("userPassword"));
        let locked = get("pwdAccountLockedTime").map(|v| {
            if v.trim() == PERMANENT_LOCK {
                Lock::Permanent
            } else {
                Lock::Since(parse_time(v).unwrap_or(DateTime::<Utc>::MIN_UTC))
            }
        });
        Self {
            dn,
            has_password,
            reset: get("pwdReset").is_some_and(|v| v.eq_ignore_ascii_case("TRUE")),
            changed: get("pwdChangedTime").and_then(parse_time),
            locked,
            lock_value: get("pwdAccountLockedTime").map(str::to_owned),
            policy: get("pwdPolicySubentry").map(str::to_owned),
        }
    }

    /// The state without any lock: no password yet (or an expired provisional one that the
    /// job removed: still `pwdReset`, shown as an expired notification), a provisional
    /// password to change, or the holder's own.
    pub fn unlocked_state(&self) -> AccountState {
        if self.reset {
            AccountState::Notifie
        } else if self.has_password {
            AccountState::Active
        } else {
            AccountState::NonNotifie
        }
    }

    /// The state at `now` and the one an unblock or a reactivation goes back to. A lock
    /// from failed binds older than the policy's `lockout` (when it has one) is over: slapd
    /// leaves it in the entry until the next bind.
    pub fn state(
        &self,
        lockout: Option<Duration>,
        now: DateTime<Utc>,
    ) -> (AccountState, Option<AccountState>) {
        let unlocked = self.unlocked_state();
        match self.locked {
            Some(Lock::Permanent) => (AccountState::Desactive, Some(unlocked)),
            Some(Lock::Since(at))
                if lockout.is_none_or(|d| at.checked_add_signed(d).is_none_or(|end| end > now)) =>
            {
                (AccountState::Bloque, Some(unlocked))
            }
            _ => (unlocked, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(pairs: &[(&str, &str)]) -> Entry {
        let attrs = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
            .collect();
        Entry::from_attrs("uid=x,ou=eleves".into(), &attrs, &HashMap::new())
    }

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, h, m, s).unwrap()
    }

    #[test]
    fn times_as_slapd_writes_them() {
        assert_eq!(parse_time("20261207203231Z"), Some(at(20, 32, 31)));
        assert_eq!(parse_time("20261207203246.801219Z"), Some(at(20, 32, 46)));
        assert_eq!(parse_time(PERMANENT_LOCK), None);
        assert_eq!(parse_time("nonsense"), None);
        assert_eq!(format_time(at(20, 32, 31)), "20261207203231Z");
    }

    #[test]
    fn states_from_the_entry() {
        use AccountState::*;
        let now = at(12, 0, 0);
        let none = Some(Duration::seconds(900));
        assert_eq!(entry(&[]).state(none, now), (NonNotifie, None));
        assert_eq!(
            entry(&[("userPassword", "x")]).state(none, now),
            (Active, None)
        );
        let notified = entry(&[("userpassword", "x"), ("pwdReset", "TRUE")]);
        assert_eq!(notified.state(none, now), (Notifie, None));
        // the job removed an unused provisional password: still to change
        assert_eq!(
            entry(&[("pwdReset", "TRUE")]).state(none, now),
            (Notifie, None)
        );
        let off = entry(&[
            ("userPassword", "x"),
            ("pwdAccountLockedTime", PERMANENT_LOCK),
        ]);
        assert_eq!(off.state(none, now), (Desactive, Some(Active)));
        let locked = entry(&[
            ("userPassword", "x"),
            ("pwdAccountLockedTime", "20261207115500Z"),
        ]);
        assert_eq!(locked.state(none, now), (Bloque, Some(Active)));
        // 15 minutes later the lock is over, though slapd still shows it
        assert_eq!(locked.state(none, at(12, 10, 1)), (Active, None));
        // a policy without a lockout duration: locked until unblocked
        assert_eq!(locked.state(None, at(23, 0, 0)).0, Bloque);
        let garbled = entry(&[("pwdAccountLockedTime", "garbled")]);
        assert_eq!(garbled.state(None, now).0, Bloque);
    }
}
