//! The test harness, by purpose: `db` (a fresh database per test, SQLite or PostgreSQL),
//! `app` (the real app on 127.0.0.1:0), `fixtures` (rows to start from), `clients` (a
//! signed-in browser per role), `html` (assertions on parsed pages), `process` (the built
//! binary, the captured logs). Every name is re-exported here: tests use `crate::helpers::X`.

use chrono::{DateTime, TimeZone, Utc};
use educt_admin::secrets::AppKey;

mod app;
mod clients;
mod db;
mod fixtures;
mod html;
mod process;

pub use app::*;
pub use clients::*;
pub use db::*;
pub use fixtures::*;
pub use html::*;
pub use process::*;

pub const TEST_KEY: [u8; 32] = [0x42; 32];

pub fn test_key() -> AppKey {
    AppKey::from_bytes(TEST_KEY)
}

/// A Thursday in term time, 10:00 in Paris.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap()
}
