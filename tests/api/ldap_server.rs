//! Test directories: the run's shared slapd (started by scripts/test, named by
//! TEST_LDAP_URL, TEST_LDAPS_URL and TEST_LDAP_CA_FILE) and slapds of a test's own, made by
//! the same script (tests/ldap/start-slapd) and stopped on drop.

use std::path::{Path, PathBuf};
use std::process::Command;

use educt_admin::config::{AccountsLdapSettings, LdapSettings};

pub struct LdapServer {
    /// `ldap://` (StartTLS) and `ldaps://` URLs.
    pub url: String,
    pub ldaps_url: String,
    pub ca_file: PathBuf,
    own: Option<(tempfile::TempDir, u32)>,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ldap/start-slapd")
}

fn parse(output: &str) -> (String, String, PathBuf, u32) {
    let get = |k: &str| {
        output
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("start-slapd printed no {k}: {output}"))
            .to_owned()
    };
    (
        get("LDAP_URL"),
        get("LDAPS_URL"),
        PathBuf::from(get("LDAP_CA_FILE")),
        get("SLAPD_PID").parse().unwrap(),
    )
}

impl LdapServer {
    /// The shared server of this run.
    pub fn shared() -> Self {
        let var = |k: &str| {
            std::env::var(k).unwrap_or_else(|_| {
                panic!("{k} is not set: run the suite with scripts/test, which starts a throwaway slapd")
            })
        };
        Self {
            url: var("TEST_LDAP_URL"),
            ldaps_url: var("TEST_LDAPS_URL"),
            ca_file: PathBuf::from(var("TEST_LDAP_CA_FILE")),
            own: None,
        }
    }

    /// A slapd of this test's own (its own CA too).
    pub fn start_own(allow_anon_bind: bool) -> Self {
        Self::start_own_with(allow_anon_bind, None)
    }

    /// A slapd of this test's own holding `extra_ldif`'s entries besides the fixed ones.
    pub fn start_own_with(allow_anon_bind: bool, extra_ldif: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(script());
        cmd.arg(dir.path().join("slapd"));
        if allow_anon_bind {
            cmd.arg("--allow-anon-bind");
        }
        if let Some(ldif) = extra_ldif {
            let path = dir.path().join("extra.ldif");
            std::fs::write(&path, ldif).unwrap();
            cmd.env("EXTRA_LDIF", path);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "start-slapd failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (url, ldaps_url, ca_file, pid) = parse(&String::from_utf8_lossy(&out.stdout));
        Self {
            url,
            ldaps_url,
            ca_file,
            own: Some((dir, pid)),
        }
    }

    /// Stops this test's own slapd and waits until it is gone.
    pub fn stop(&self) {
        let Some((_, pid)) = &self.own else {
            panic!("the shared slapd is not ours to stop");
        };
        stop_pid(*pid);
    }

    /// Freezes (`true`) or thaws this test's own slapd: a server that accepts and never answers.
    pub fn freeze(&self, frozen: bool) {
        let Some((_, pid)) = &self.own else {
            panic!("the shared slapd is not ours to freeze");
        };
        let signal = if frozen { "-STOP" } else { "-CONT" };
        let _ = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status();
    }

    /// Something that stops this test's own slapd from anywhere (a store's pause).
    pub fn stopper(&self) -> impl Fn() + Send + Sync + 'static {
        let Some((_, pid)) = &self.own else {
            panic!("the shared slapd is not ours to stop");
        };
        let pid = *pid;
        move || stop_pid(pid)
    }

    /// Starts the same server again (same ports, certificates, data).
    pub fn restart(&mut self) {
        let Some((dir, pid)) = &mut self.own else {
            panic!("the shared slapd is not ours to restart");
        };
        let out = Command::new(script())
            .arg(dir.path().join("slapd"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        *pid = parse(&String::from_utf8_lossy(&out.stdout)).3;
    }

    /// Settings for educt-admin against this server.
    pub fn settings(&self, ldaps: bool) -> LdapSettings {
        LdapSettings {
            url: if ldaps {
                self.ldaps_url.clone()
            } else {
                self.url.clone()
            },
            starttls: true,
            ca_file: Some(self.ca_file.clone()),
            bind_dn: "cn=educt-admin,ou=services,dc=ac-test,dc=fr".into(),
            bind_password: Some("service-secret".into()),
            base_dn: "ou=personnels,dc=ac-test,dc=fr".into(),
            ..LdapSettings::default()
        }
    }
}

impl LdapServer {
    /// Settings of the LDAP account store against this server (StartTLS).
    pub fn accounts_settings(&self) -> AccountsLdapSettings {
        AccountsLdapSettings {
            url: self.url.clone(),
            ca_file: Some(self.ca_file.clone()),
            bind_dn: SERVICE_DN.into(),
            bind_password: Some("service-secret".into()),
            pupils_base: "ou=eleves,dc=ac-test,dc=fr".into(),
            parents_base: "ou=responsables,dc=ac-test,dc=fr".into(),
            ..AccountsLdapSettings::default()
        }
    }

    /// A connection (StartTLS, this server's CA), not bound yet.
    pub fn connect(&self) -> ldap3::LdapConn {
        let pem = std::fs::read(&self.ca_file).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        use rustls::pki_types::pem::PemObject;
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
            roots.add(cert.unwrap()).unwrap();
        }
        let tls = rustls::ClientConfig::builder_with_provider(educt_admin::tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let settings = ldap3::LdapConnSettings::new()
            .set_starttls(true)
            .set_config(std::sync::Arc::new(tls));
        ldap3::LdapConn::with_settings(settings, &self.url).unwrap()
    }

    /// A connection bound as the service account.
    pub fn service(&self) -> ldap3::LdapConn {
        let mut conn = self.connect();
        conn.simple_bind(SERVICE_DN, "service-secret")
            .unwrap()
            .success()
            .unwrap();
        conn
    }
}

fn stop_pid(pid: u32) {
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    for _ in 0..200 {
        if !proc_dir.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("slapd {pid} did not stop");
}

/// The default password rules, each level given its test policy (tests/ldap/accounts.ldif).
pub fn password_settings() -> educt_admin::config::PasswordSettings {
    let mut p = educt_admin::config::PasswordSettings::default();
    let policy = |cn: &str| Some(format!("cn={cn},ou=politiques,dc=ac-test,dc=fr"));
    p.pupils[0].ldap_policy = policy("eleves-college");
    p.pupils[1].ldap_policy = policy("eleves-lycee");
    p.parents.ldap_policy = policy("responsables");
    p
}

/// The rules of [`password_settings`].
pub fn password_rules() -> educt_admin::accounts::password_rules::PasswordRules {
    educt_admin::accounts::password_rules::PasswordRules::from_settings(&password_settings())
}

/// The service account of tests/ldap/staff.ldif.
pub const SERVICE_DN: &str = "cn=educt-admin,ou=services,dc=ac-test,dc=fr";

impl Drop for LdapServer {
    fn drop(&mut self) {
        if let Some((_, pid)) = &self.own {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

/// The staff of tests/ldap/staff.ldif, read from the LDIF so that both directory backends
/// hold the same people: uid, display name, password, FrEduRne values, FrEduRneResp values,
/// and the main attachment (`rne`) of direction staff by function (`FrEduFonctAdm: DIR`).
pub type FixtureAgent = (String, String, String, Values, Values, Values);

/// An attribute's values.
pub type Values = Vec<String>;

pub fn fixture_staff() -> Vec<FixtureAgent> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ldap/staff.ldif"),
    )
    .unwrap();
    let mut out = Vec::new();
    for entry in text.split("\n\n") {
        let lines: Vec<&str> = entry.lines().filter(|l| !l.starts_with('#')).collect();
        let all = |k: &str| -> Vec<String> {
            lines
                .iter()
                .filter_map(|l| l.strip_prefix(&format!("{k}: ")))
                .map(str::to_owned)
                .collect()
        };
        let Some(uid) = all("uid").pop() else {
            continue;
        };
        let name = all("displayName")
            .pop()
            .or_else(|| all("cn").pop())
            .unwrap();
        let direction = if all("FrEduFonctAdm").iter().any(|f| f == "DIR") {
            all("rne")
        } else {
            Vec::new()
        };
        let password = all("userPassword").pop().unwrap();
        let (attached, responsible) = (all("FrEduRne"), all("FrEduRneResp"));
        out.push((uid, name, password, attached, responsible, direction));
    }
    out
}
