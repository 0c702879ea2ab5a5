//! `cargo bench --bench ldap_reset [-- ENTRIES]`: a password reset through the LDAP account
//! store against a real slapd holding ENTRIES pupils' entries (default 10,000; loaded with
//! slapadd by tests/ldap/start-slapd, StartTLS with a CA made now, stopped at the end), for
//! docs/performance.md:
//!
//! - slapd's own Password Modify, as the service account on an open, bound connection;
//! - the store's reset (`set_provisional`: read the entry, Password Modify, `pwdReset`, the
//!   index row on SQLite) on its pooled connections;
//! - the whole use case (`usecases::accounts::reset_password`: the "started" audit row, the
//!   store's reset, the outcome row); no argon2 hash is made for this store (the directory
//!   hashes the password itself).
//!
//! Each figure is the median of 200 resets after 10 of warm-up, each on another entry.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "support/slapd.rs"]
mod slapd;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use educt_admin::accounts::ldap::LdapAccountStore;
use educt_admin::accounts::password_rules::PasswordRules;
use educt_admin::accounts::store::{AccountRef, AccountStore, Provisional};
use educt_admin::config::{AccountsLdapSettings, PasswordSettings};
use educt_admin::db::schema::{establishments, identifiants, pupils};
use educt_admin::db::{self, DbConnection};
use educt_admin::delegation::policy::{Action, authorize};
use educt_admin::domain::{Agent, Uai};
use educt_admin::secrets::AppKey;
use educt_admin::usecases::accounts::{Opened, Record, reset_password};
use educt_admin::usecases::{Actor, Context};
use ldap3::exop::PasswordModify;
use ldap3::{LdapConn, LdapConnSettings};

const RUNS: usize = 200;
const WARM: usize = 10;
const UAI: &str = "0691234S";
const SERVICE: &str = "cn=educt-admin,ou=services,dc=ac-test,dc=fr";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// `op(i)` for i in 0..WARM+RUNS, the median of the last RUNS.
fn timed(mut op: impl FnMut(usize)) -> Duration {
    let mut times = Vec::with_capacity(RUNS);
    for i in 0..WARM + RUNS {
        let t = Instant::now();
        op(i);
        if i >= WARM {
            times.push(t.elapsed());
        }
    }
    median(times)
}

fn uid(n: usize) -> String {
    format!("b.eleve{}", n + 2)
}

/// `entries` pupils with a password, under the college policy.
fn ldif(path: &Path, entries: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for n in 0..entries {
        let u = uid(n);
        writeln!(
            f,
            "\ndn: uid={u},ou=eleves,dc=ac-test,dc=fr\nobjectClass: inetOrgPerson\nuid: {u}\n\
             cn: Eleve {n}\nsn: Eleve\nuserPassword: Ancien-mot-de-passe-{n}\n\
             pwdPolicySubentry: cn=eleves-college,ou=politiques,dc=ac-test,dc=fr"
        )
        .unwrap();
    }
}

/// The index rows of the accounts measured (the directory holds many more).
fn index(conn: &mut DbConnection, n: usize) -> Vec<i64> {
    let at = chrono::Utc::now().naive_utc();
    diesel::insert_into(establishments::table)
        .values((
            establishments::uai.eq(UAI),
            establishments::name.eq("Collège"),
            establishments::kind.eq("college"),
            establishments::created_at.eq(at),
            establishments::updated_at.eq(at),
        ))
        .execute(conn)
        .unwrap();
    (0..n)
        .map(|i| {
            let u = uid(i);
            diesel::insert_into(identifiants::table)
                .values((
                    identifiants::identifiant.eq(&u),
                    identifiants::kind.eq("eleve"),
                    identifiants::created_at.eq(at),
                ))
                .execute(conn)
                .unwrap();
            diesel::insert_into(pupils::table)
                .values((
                    pupils::uai.eq(UAI),
                    pupils::identifiant.eq(&u),
                    pupils::last_name.eq("Eleve"),
                    pupils::first_name.eq(format!("N{i}")),
                    pupils::search_name.eq(format!("eleve n{i}")),
                    pupils::birth_date.eq(chrono::NaiveDate::from_ymd_opt(2012, 5, 14).unwrap()),
                    pupils::division.eq(Some("6A")),
                    pupils::state.eq("active"),
                    pupils::must_change.eq(false),
                    pupils::created_at.eq(at),
                    pupils::updated_at.eq(at),
                ))
                .returning(pupils::id)
                .get_result(conn)
                .unwrap()
        })
        .collect()
}

fn main() {
    let entries: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let tmp = tempfile::tempdir().unwrap();
    let extra = tmp.path().join("pupils.ldif");
    ldif(&extra, entries);
    let loading = Instant::now();
    let (url, ca_file, pid) = slapd::start(&tmp.path().join("slapd"), Some(&extra));
    let loaded = loading.elapsed();
    let settings = AccountsLdapSettings {
        url: url.clone(),
        ca_file: Some(ca_file.clone()),
        bind_dn: SERVICE.into(),
        bind_password: Some("service-secret".into()),
        pupils_base: "ou=eleves,dc=ac-test,dc=fr".into(),
        parents_base: "ou=responsables,dc=ac-test,dc=fr".into(),
        ..AccountsLdapSettings::default()
    };
    let rules = PasswordRules::from_settings(&PasswordSettings::default());
    let store = LdapAccountStore::new(&settings, rules).unwrap();
    let path = tmp.path().join("db.sqlite3");
    let sqlite = diesel::SqliteConnection::establish(&path.to_string_lossy()).unwrap();
    let mut conn = DbConnection::Sqlite(sqlite);
    db::run_migrations(&mut conn).unwrap();
    let ids = index(&mut conn, 3 * (WARM + RUNS));
    let uai = Uai::parse(UAI).unwrap();
    let principal = Agent {
        uid: "cperrin".into(),
        display_name: "Claire Perrin".into(),
        mail: None,
        attached: vec![uai.clone()],
        responsible_for: vec![uai.clone()],
    };
    let now = chrono::Utc::now();
    let tz = chrono_tz::Europe::Paris;
    let permit = authorize(&principal, &[], Action::ResetPupil, &uai, now, tz).unwrap();
    let provisional = || Provisional {
        password: "abcd2345efgh".to_owned().into(),
        hash: "$argon2id$measured-elsewhere".into(),
    };

    let mut service = LdapConn::with_settings(
        LdapConnSettings::new()
            .set_starttls(true)
            .set_config(slapd::client_tls(&ca_file)),
        &url,
    )
    .unwrap();
    service
        .simple_bind(SERVICE, "service-secret")
        .unwrap()
        .success()
        .unwrap();
    let exop = timed(|i| {
        let dn = format!("uid={},ou=eleves,dc=ac-test,dc=fr", uid(i));
        let pm = PasswordModify {
            user_id: Some(&dn),
            old_pass: None,
            new_pass: Some("abcd2345efgh"),
        };
        assert_eq!(service.extended(pm).unwrap().1.rc, 0);
    });
    let offset = WARM + RUNS;
    let through_store = timed(|i| {
        let account = AccountRef::pupil(ids[offset + i].into());
        store
            .set_provisional(&mut conn, &permit, account, &provisional(), now)
            .unwrap();
    });
    let key = AppKey::generate().unwrap();
    let ctx = Context::new(Actor::Agent("cperrin".into()), now);
    let use_case = timed(|i| {
        let id = ids[2 * offset + i];
        let pupil = educt_admin::accounts::pupils::find(&mut conn, id)
            .unwrap()
            .unwrap();
        let opened = Opened {
            record: Record::Pupil(pupil),
            permit: permit.clone(),
        };
        reset_password(&mut conn, &key, &store, &ctx, &opened, provisional()).unwrap();
    });
    let _ = Command::new("kill").arg(pid.to_string()).status();

    println!(
        "LDAP account store, {entries} pupils' entries (slapadd in {loaded:.1?}), slapd on loopback, StartTLS, index on SQLite; median of {RUNS}:"
    );
    println!("  slapd's Password Modify (open connection)          {exop:?}");
    println!("  store reset (read, Password Modify, pwdReset, index) {through_store:?}");
    println!("  use case reset (+ started and outcome audit rows)  {use_case:?}");
    println!(
        "  overhead of the use case over slapd's Password Modify: {:?}",
        use_case.saturating_sub(exop)
    );
}
