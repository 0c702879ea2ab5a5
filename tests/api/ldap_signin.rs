//! Sign-in against a real OpenLDAP: TLS, outages, a foreign CA, unauthenticated binds.

use std::time::{Duration, Instant};

use educt_admin::config::DirectoryKind;
use educt_admin::directory::ldap::LdapDirectory;
use educt_admin::directory::{Directory, DirectoryError};
use educt_admin::domain::AgentUid;
use secrecy::SecretString;

use crate::helpers::{TestApp, TestDb, add_establishment, audit_rows, test_settings};
use crate::ldap_server::LdapServer;

async fn app_on(server: &LdapServer, ldaps: bool) -> TestApp {
    let db = TestDb::migrated();
    add_establishment(&mut db.connect(), "0691234S", "Collège Jean Moulin");
    let mut settings = test_settings(&db);
    settings.directory.kind = DirectoryKind::Ldap;
    settings.directory.ldap = Some(server.settings(ldaps));
    TestApp::builder()
        .db(db)
        .settings(|s| *s = settings)
        .start()
        .await
}

#[tokio::test]
async fn a_principal_signs_in_against_the_academie_directory() {
    let server = LdapServer::shared();
    for ldaps in [false, true] {
        let app = app_on(&server, ldaps).await;
        app.signed_in("cperrin", "Principal-2026").await;
        let body = app.get("/").await.text().await.unwrap();
        assert!(
            body.contains("Collège Jean Moulin") && body.contains("Claire Perrin"),
            "ldaps={ldaps}"
        );
        assert_eq!(app.sign_in("slefevre", "wrong").await.status(), 401);
        assert_eq!(app.sign_in("*", "Principal-2026").await.status(), 401);
        assert_eq!(
            app.sign_in("cperrin)(uid=*", "Principal-2026")
                .await
                .status(),
            401
        );
    }
}

#[tokio::test]
async fn an_unreachable_directory_gives_503_quickly_and_heals_without_restart() {
    let mut server = LdapServer::start_own(false);
    let app = app_on(&server, false).await;
    app.signed_in("cperrin", "Principal-2026").await;
    server.stop();
    let client = app.new_client();
    let started = Instant::now();
    let res = app.sign_in_with(&client, "cperrin", "Principal-2026").await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers().get("retry-after").unwrap(), "5");
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("L'annuaire des personnels ne répond pas")
    );
    // A signed-in agent whose directory data is due for a re-read gets the 503 page too.
    app.clock.advance(chrono::Duration::minutes(6));
    let res = app.get("/").await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers().get("retry-after").unwrap(), "5");
    assert!(res.text().await.unwrap().contains("Annuaire indisponible"));
    server.restart();
    app.signed_in("cperrin", "Principal-2026").await;
    let rows = audit_rows(&mut app.conn());
    assert!(rows.iter().any(|r| r.1 == "auth.sign_in"
        && r.2 == "failure"
        && r.3.as_deref() == Some("directory unavailable")));
}

#[test]
fn a_directory_whose_certificate_comes_from_another_ca_is_refused() {
    let shared = LdapServer::shared();
    let foreign = LdapServer::start_own(false);
    for ldaps in [false, true] {
        let mut settings = foreign.settings(ldaps);
        settings.ca_file = Some(shared.ca_file.clone());
        let dir = LdapDirectory::new(&settings).unwrap();
        let res = dir.authenticate(
            &AgentUid::parse("cperrin").unwrap(),
            &SecretString::from("Principal-2026".to_owned()),
        );
        assert!(
            matches!(res, Err(DirectoryError::Unavailable(_))),
            "ldaps={ldaps}: {res:?}"
        );
    }
}

#[test]
fn blank_passwords_never_reach_a_directory_that_would_accept_them() {
    let server = LdapServer::start_own(true);
    // This slapd allows unauthenticated binds: a DN with an empty password "succeeds".
    let mut raw = ldap3::LdapConn::with_settings(
        ldap3::LdapConnSettings::new()
            .set_starttls(true)
            .set_config(std::sync::Arc::new(
                rustls::ClientConfig::builder_with_provider(educt_admin::tls::provider())
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_root_certificates({
                        let mut roots = rustls::RootCertStore::empty();
                        use rustls::pki_types::pem::PemObject;
                        for c in rustls::pki_types::CertificateDer::pem_file_iter(&server.ca_file)
                            .unwrap()
                        {
                            roots.add(c.unwrap()).unwrap();
                        }
                        roots
                    })
                    .with_no_client_auth(),
            )),
        &server.url,
    )
    .unwrap();
    let res = raw
        .simple_bind("uid=cperrin,ou=personnels,dc=ac-test,dc=fr", "")
        .unwrap();
    assert_eq!(res.rc, 0, "the danger the app's own check guards against");
    let dir = LdapDirectory::new(&server.settings(false)).unwrap();
    for blank in ["", "  "] {
        let res = dir.authenticate(
            &AgentUid::parse("cperrin").unwrap(),
            &SecretString::from(blank.to_owned()),
        );
        assert!(
            matches!(
                res,
                Err(DirectoryError::InvalidCredentials("blank password"))
            ),
            "{blank:?}: {res:?}"
        );
    }
}

#[test]
fn debian_slapd_refuses_unauthenticated_binds_with_53() {
    let server = LdapServer::shared();
    let out = std::process::Command::new("ldapwhoami")
        .args([
            "-x",
            "-ZZ",
            "-H",
            &server.url,
            "-D",
            "uid=cperrin,ou=personnels,dc=ac-test,dc=fr",
            "-w",
            "",
        ])
        .env("LDAPTLS_CACERT", &server.ca_file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("(53)") || text.contains("Unwilling"),
        "{text}"
    );
}

#[test]
fn plain_ldap_without_starttls_is_refused_unless_allowed() {
    let server = LdapServer::shared();
    let mut settings = server.settings(false);
    settings.starttls = false;
    let err = LdapDirectory::new(&settings).err().unwrap();
    assert!(err.to_string().contains("allow_insecure"));
    settings.allow_insecure = true;
    let dir = LdapDirectory::new(&settings).unwrap();
    assert!(
        dir.authenticate(
            &AgentUid::parse("cperrin").unwrap(),
            &SecretString::from("Principal-2026".to_owned())
        )
        .is_ok()
    );
    // TLS without a CA file is a configuration error.
    let mut settings = server.settings(true);
    settings.ca_file = None;
    assert!(LdapDirectory::new(&settings).is_err());
}

/// Issue 12: the staff directory keeps its connections open and bound as the service: many
/// look-ups and sign-in checks (right and wrong passwords) go through one connection, bound
/// back as the service after each user's bind.
#[test]
fn the_directory_reuses_one_connection_across_operations() {
    let server = LdapServer::shared();
    let dir = LdapDirectory::new(&server.settings(false)).unwrap();
    let uid = AgentUid::parse("cperrin").unwrap();
    let right = SecretString::from("Principal-2026".to_owned());
    let wrong = SecretString::from("not-the-password".to_owned());
    // Another agent, whom cperrin may not read: found only if the connection is the
    // service's again after cperrin's bind.
    let other = AgentUid::parse("slefevre").unwrap();
    for _ in 0..5 {
        assert!(dir.lookup(&uid).unwrap().is_some());
        assert_eq!(dir.authenticate(&uid, &right).unwrap().uid, "cperrin");
        assert!(dir.lookup(&other).unwrap().is_some());
        assert!(matches!(
            dir.authenticate(&uid, &wrong),
            Err(DirectoryError::InvalidCredentials(_))
        ));
        assert!(dir.lookup(&other).unwrap().is_some());
    }
    assert_eq!(dir.connections_opened(), 1);
}

/// A pooled connection is asked who it is bound as before reuse (here before every reuse):
/// the check keeps the pool's connection while the directory answers, and a restarted
/// directory costs no failed operation (the dead connection is replaced at once).
#[test]
fn a_restarted_directory_costs_no_failed_operation() {
    let mut server = LdapServer::start_own(false);
    let mut settings = server.settings(false);
    settings.idle_check_ms = 0;
    let dir = LdapDirectory::new(&settings).unwrap();
    let uid = AgentUid::parse("cperrin").unwrap();
    for _ in 0..3 {
        assert!(dir.lookup(&uid).unwrap().is_some());
    }
    assert_eq!(dir.connections_opened(), 1, "checked and kept");
    server.stop();
    server.restart();
    assert!(
        dir.lookup(&uid).unwrap().is_some(),
        "no failure after the restart"
    );
    assert_eq!(dir.connections_opened(), 2);
}
