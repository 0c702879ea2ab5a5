//! Injected time: the app asks a [`Clock`], tests set it.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, DurationRound, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

/// The day it is at `now` in `tz`.
pub fn local_day(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told (tests).
#[derive(Debug, Clone)]
pub struct FixedClock(Arc<Mutex<DateTime<Utc>>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        if let Ok(mut t) = self.0.lock() {
            *t = at;
        }
    }

    pub fn advance(&self, by: Duration) {
        if let Ok(mut t) = self.0.lock() {
            *t += by;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        match self.0.lock() {
            Ok(t) => *t,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// An instant as stored: UTC, truncated to microseconds (both databases keep that much).
pub fn db_instant(at: DateTime<Utc>) -> NaiveDateTime {
    at.duration_trunc(Duration::microseconds(1))
        .unwrap_or(at)
        .naive_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn fixed_clock_moves_when_told() {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 29, 0, 59, 59).unwrap();
        let c = FixedClock::new(t0);
        assert_eq!(c.now(), t0);
        c.advance(Duration::seconds(2));
        assert_eq!(c.now(), t0 + Duration::seconds(2));
    }

    #[test]
    fn instants_are_truncated_to_microseconds() {
        let t = Utc.timestamp_opt(1_700_000_000, 123_456_789).unwrap();
        assert_eq!(
            db_instant(t).and_utc().timestamp_subsec_nanos(),
            123_456_000
        );
    }
}
