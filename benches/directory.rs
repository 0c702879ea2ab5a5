//! `cargo bench --bench directory`: the staff directory's cost per operation against a real
//! slapd (started here by tests/ldap/start-slapd on free loopback ports, StartTLS with a CA
//! made now, stopped at the end), for docs/performance.md:
//!
//! - a look-up (the 60-second re-read of a signed-in agent) and a sign-in check (search, the
//!   agent's bind, the bind back as the service) through the pool of `LdapDirectory`;
//! - the same look-up done the former way, one connection per operation (a new ldap3 sync
//!   connection with its runtime, the TLS handshake, the service bind, the search, unbind).
//!
//! Each figure is the median of 200 operations after 10 of warm-up.

#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "support/slapd.rs"]
mod slapd;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use educt_admin::config::LdapSettings;
use educt_admin::directory::Directory;
use educt_admin::directory::ldap::LdapDirectory;
use educt_admin::domain::AgentUid;
use ldap3::{LdapConn, LdapConnSettings, Scope};
use secrecy::SecretString;

const RUNS: usize = 200;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn timed(mut op: impl FnMut()) -> Duration {
    for _ in 0..10 {
        op();
    }
    median(
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                op();
                t.elapsed()
            })
            .collect(),
    )
}

/// One look-up the former way: a connection of its own for one operation.
fn lookup_on_a_new_connection(s: &LdapSettings, tls: Arc<rustls::ClientConfig>) {
    let settings = LdapConnSettings::new().set_starttls(true).set_config(tls);
    let mut conn = LdapConn::with_settings(settings, &s.url).expect("connect");
    conn.simple_bind(&s.bind_dn, "service-secret")
        .expect("bind")
        .success()
        .expect("service bind");
    let (entries, _) = conn
        .search(&s.base_dn, Scope::Subtree, "(uid=cperrin)", vec!["uid"])
        .expect("search")
        .success()
        .expect("found");
    assert_eq!(entries.len(), 1);
    let _ = conn.unbind();
}

fn main() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (url, ca_file, pid) = slapd::start(&tmp.path().join("slapd"), None);
    let settings = LdapSettings {
        url,
        starttls: true,
        ca_file: Some(ca_file.clone()),
        bind_dn: "cn=educt-admin,ou=services,dc=ac-test,dc=fr".into(),
        bind_password: Some("service-secret".into()),
        base_dn: "ou=personnels,dc=ac-test,dc=fr".into(),
        ..LdapSettings::default()
    };
    let dir = LdapDirectory::new(&settings).expect("directory");
    let uid = AgentUid::parse("cperrin").expect("uid");
    let password = SecretString::from("Principal-2026".to_owned());

    let pooled_lookup = timed(|| {
        dir.lookup(&uid).expect("lookup").expect("found");
    });
    let pooled_signin = timed(|| {
        dir.authenticate(&uid, &password).expect("sign-in");
    });
    let opened = dir.connections_opened();

    let tls = slapd::client_tls(&ca_file);
    let fresh_lookup = timed(|| lookup_on_a_new_connection(&settings, tls.clone()));
    let _ = Command::new("kill").arg(pid.to_string()).status();

    println!("staff directory (slapd on loopback, StartTLS), median of {RUNS}:");
    println!("  look-up on a pooled connection        {pooled_lookup:?}");
    println!("  sign-in check on a pooled connection  {pooled_signin:?}");
    println!("  look-up on a new connection (former)  {fresh_lookup:?}");
    println!(
        "  connections opened by the pool for {} operations: {opened}",
        2 * (RUNS + 10)
    );
}
