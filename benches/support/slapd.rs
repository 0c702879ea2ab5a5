//! The benches' test directory: a slapd started by tests/ldap/start-slapd on free loopback
//! ports (StartTLS with a CA made now), and a client TLS configuration trusting that CA.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Starts slapd in `dir` (with the entries of `extra` too): its URL, CA file and pid.
pub fn start(dir: &Path, extra: Option<&Path>) -> (String, PathBuf, u32) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ldap/start-slapd");
    let mut cmd = Command::new(script);
    cmd.arg(dir);
    if let Some(extra) = extra {
        cmd.env("EXTRA_LDIF", extra);
    }
    let out = cmd.output().expect("start-slapd");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .expect(k)
            .to_owned()
    };
    (
        get("LDAP_URL"),
        get("LDAP_CA_FILE").into(),
        get("SLAPD_PID").parse().expect("pid"),
    )
}

/// A client configuration trusting only `ca_file`.
pub fn client_tls(ca_file: &Path) -> Arc<rustls::ClientConfig> {
    let pem = std::fs::read(ca_file).expect("ca");
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.expect("pem")).expect("root");
    }
    Arc::new(
        rustls::ClientConfig::builder_with_provider(educt_admin::tls::provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}
