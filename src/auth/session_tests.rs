//! Unit tests of `auth::session`.

use super::*;
use chrono::TimeZone;

fn session(created: DateTime<Utc>, seen: DateTime<Utc>) -> Session {
    Session {
        id: 1,
        agent: Agent {
            uid: "a".into(),
            display_name: "A".into(),
            mail: None,
            attached: vec![],
            responsible_for: vec![],
        },
        csrf_token: String::new(),
        created_at: created,
        last_seen_at: seen,
        directory_checked_at: seen,
        totp_verified_at: None,
        origin: Origin::PASSWORD,
        reauthenticated_at: None,
    }
}

#[test]
fn expiry_at_the_boundaries() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
    let idle = Duration::minutes(30);
    let abs = Duration::hours(12);
    let expiry = |s: &Session, at| s.expiry(at, idle, abs);
    let tick = Duration::microseconds(1);
    let s = session(t0, t0);
    assert_eq!(expiry(&s, t0 + idle - tick), None);
    assert_eq!(expiry(&s, t0 + idle), Some(Expiry::Idle));
    let busy = session(t0, t0 + abs - Duration::seconds(1));
    assert_eq!(expiry(&busy, t0 + abs - tick), None);
    assert_eq!(expiry(&busy, t0 + abs), Some(Expiry::Absolute));
}

#[test]
fn directory_data_is_stale_after_60_seconds() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
    let s = session(t0, t0);
    assert!(!s.directory_is_stale(t0 + Duration::seconds(60) - Duration::microseconds(1)));
    assert!(s.directory_is_stale(t0 + Duration::seconds(60)));
}

#[test]
fn tokens_are_stored_hashed() {
    let h = hash_token("abc");
    assert_eq!(h.len(), 64);
    assert_ne!(h, "abc");
}
