//! HTTPS with rustls (ring provider), TLS 1.2 and 1.3, HSTS.

use crate::helpers::{TestApp, TestDb, test_settings};
use educt_admin::config::TlsSettings;

fn self_signed(dir: &std::path::Path) -> (TlsSettings, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert = params.self_signed(&key).unwrap();
    let cert_file = dir.join("cert.pem");
    let key_file = dir.join("key.pem");
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    (
        TlsSettings {
            cert_file,
            key_file,
        },
        cert.pem(),
    )
}

fn client(ca_pem: &str, version: reqwest::tls::Version) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .min_tls_version(version)
        .max_tls_version(version)
        .build()
        .unwrap()
}

#[tokio::test]
async fn https_serves_tls12_and_tls13_with_hsts() {
    let db = TestDb::migrated();
    let dir = tempfile::tempdir().unwrap();
    let (tls, ca) = self_signed(dir.path());
    let mut settings = test_settings(&db);
    settings.server.tls = Some(tls);
    let app = TestApp::builder()
        .db(db)
        .settings(|s| *s = settings)
        .start()
        .await;
    for version in [
        reqwest::tls::Version::TLS_1_2,
        reqwest::tls::Version::TLS_1_3,
    ] {
        let res = client(&ca, version)
            .get(format!(
                "https://127.0.0.1:{}/educt-admin-comptes/health/live",
                app.addr.port()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["strict-transport-security"]
                .to_str()
                .unwrap()
                .starts_with("max-age=")
        );
    }
    // Plain HTTP on the TLS port gets no page.
    let plain = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{}/educt-admin-comptes/health/live",
            app.addr.port()
        ))
        .send()
        .await;
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));
}

#[test]
fn unreadable_certificate_files_are_refused() {
    let err = educt_admin::tls::server_config(&TlsSettings {
        cert_file: "/nonexistent/cert.pem".into(),
        key_file: "/nonexistent/key.pem".into(),
    })
    .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/cert.pem"));
}
