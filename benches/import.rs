//! `cargo bench --bench import`: measured figures for docs/performance.md.
//!
//! - parsing and writing a generated SIECLE export (2,000 pupils with their guardians) into
//!   a fresh SQLite file, then re-importing it (the idempotent path);
//! - audit appends, one transaction each;
//! - a pupil name search in a 2,000-pupil establishment.
//!
//! Each figure is the median of several runs. Password hashing is not part of an import.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use educt_admin::audit::AuditAction;
use std::time::{Duration, Instant};

use educt_admin::audit::{self, AuditEvent, Outcome};
use educt_admin::db::{self, DbUrl, build_pool};
use educt_admin::domain::Uai;
use educt_admin::import::apply::{ImportOptions, apply};
use educt_admin::import::synthetic::{Synthetic, guardians_xml, pupils_xml};
use educt_admin::import::{ImportData, siecle};
use educt_admin::secrets::AppKey;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let key = AppKey::from_bytes([7; 32]);
    let uai = Uai::parse("0691234S").expect("uai");
    let sy = Synthetic {
        uai: uai.to_string(),
        year: "2026".into(),
        pupils: 2_000,
        latin9: true,
        ids_as_elements: false,
        leavers: vec![],
        first: 0,
    };
    let (pupils, guardians) = (pupils_xml(&sy), guardians_xml(&sy));
    let opts = ImportOptions {
        action: AuditAction::ImportSiecle,
        actor: "bench".into(),
        name: None,
        dry_run: false,
        tz: chrono_tz::Europe::Paris,
        force: false,
        request: None,
    };
    let mut parse = Vec::new();
    let mut first = Vec::new();
    let mut again = Vec::new();
    let mut appends = Vec::new();
    let mut searches = Vec::new();
    for _ in 0..5 {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = DbUrl::parse(&dir.path().join("bench.sqlite3").to_string_lossy()).expect("url");
        let pool = build_pool(&url, 2, Duration::from_secs(5), 5_000).expect("pool");
        let mut conn = pool.get().expect("conn");
        db::run_migrations(&mut conn).expect("migrations");

        let t = Instant::now();
        let mut data = ImportData::default();
        siecle::read_pupils(&pupils, &uai, &mut data).expect("pupils");
        siecle::read_guardians(&guardians, &uai, &mut data).expect("guardians");
        parse.push(t.elapsed());

        let t = Instant::now();
        let r = apply(
            &mut conn,
            &key,
            chrono::Utc::now(),
            &uai,
            &data,
            &opts,
            &|_, _| {},
        )
        .expect("import");
        first.push(t.elapsed());
        assert_eq!(r.created, 2_000);

        let t = Instant::now();
        let r = apply(
            &mut conn,
            &key,
            chrono::Utc::now(),
            &uai,
            &data,
            &opts,
            &|_, _| {},
        )
        .expect("re-import");
        again.push(t.elapsed());
        assert_eq!(r.unchanged, 2_000);

        let t = Instant::now();
        for i in 0..500 {
            let e = AuditEvent::new("bench", AuditAction::SignIn, Outcome::Success)
                .with_stored_action("bench.append")
                .uai("0691234S")
                .target("eleve", i);
            audit::record(&mut conn, &key, chrono::Utc::now(), &e).expect("append");
        }
        appends.push(t.elapsed() / 500);

        let search = educt_admin::accounts::pupils::Search {
            text: "lefevre zo".into(),
            division: None,
        };
        let t = Instant::now();
        for _ in 0..100 {
            educt_admin::accounts::pupils::search(&mut conn, &uai, &search, 0, 50).expect("search");
        }
        searches.push(t.elapsed() / 100);
    }
    println!(
        "SIECLE parse, 2,000 pupils + guardians (ISO-8859-15): {:?}",
        median(parse)
    );
    println!(
        "first import into SQLite (one transaction):            {:?}",
        median(first)
    );
    println!(
        "re-import, nothing changes:                            {:?}",
        median(again)
    );
    println!(
        "audit append (own transaction, SQLite file):           {:?}",
        median(appends)
    );
    println!(
        "pupil search by name, 2,000 pupils, page of 50:        {:?}",
        median(searches)
    );
}
