//! The process refuses bad configuration with one clear line, within 5 s, no panic.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::helpers::run_cli;

fn config_file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

/// Runs `serve` and expects a quick failure whose one stderr line contains `needle`.
fn assert_refused(args: &[&str], env: &[(&str, &str)], needle: &str) {
    let started = Instant::now();
    let (status, _out, err) = run_cli(args, env);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(!status.success(), "{err}");
    assert_eq!(
        status.code(),
        Some(1),
        "an error exit, not a panic (101): {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(lines[0].contains(needle), "{needle:?} not in {err}");
}

#[test]
fn version_and_help_work() {
    let (status, out, _) = run_cli(&["--version"], &[]);
    assert!(status.success());
    assert!(out.starts_with("educt-admin "));
    let (status, out, _) = run_cli(&["serve", "--help"], &[]);
    assert!(status.success());
    assert!(out.contains("--demo") && out.contains("--bind") && out.contains("--config"));
}

#[test]
fn unknown_config_key_is_refused_and_named() {
    let f = config_file("[server]\nbind = \"127.0.0.1:0\"\nlisten_port = 8\n");
    assert_refused(
        &["serve", "--config", f.path().to_str().unwrap()],
        &[],
        "listen_port",
    );
}

#[test]
fn unknown_key_from_the_environment_is_refused() {
    assert_refused(
        &["serve"],
        &[("EDUCT_ADMIN__SERVER__COLOUR", "blue")],
        "colour",
    );
}

#[test]
fn unreadable_config_file_is_refused() {
    assert_refused(
        &["serve", "--config", "/nonexistent/educt.toml"],
        &[],
        "/nonexistent/educt.toml",
    );
    assert_refused(
        &["migrate"],
        &[("EDUCT_ADMIN_CONFIG", "/nonexistent/env.toml")],
        "/nonexistent/env.toml",
    );
}

#[test]
fn malformed_toml_is_refused() {
    let f = config_file("[server\nbind = ");
    assert_refused(
        &["serve", "--config", f.path().to_str().unwrap()],
        &[],
        "invalid configuration",
    );
}

#[test]
fn malformed_database_url_is_refused() {
    let key = "42".repeat(32);
    assert_refused(
        &["serve", "--bind", "127.0.0.1:0"],
        &[
            ("EDUCT_ADMIN__DATABASE__URL", "mysql://x/y"),
            ("EDUCT_ADMIN__SECRETS__KEY", &key),
        ],
        "mysql",
    );
}

#[test]
fn unreachable_postgresql_is_refused_quickly() {
    let key = "42".repeat(32);
    assert_refused(
        &["serve", "--bind", "127.0.0.1:0"],
        &[
            (
                "EDUCT_ADMIN__DATABASE__URL",
                "postgres://educt@127.0.0.1:1/educt",
            ),
            ("EDUCT_ADMIN__SECRETS__KEY", &key),
        ],
        "database unavailable",
    );
}

#[test]
fn production_refuses_to_start_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("db.sqlite3");
    assert_refused(
        &["serve", "--bind", "127.0.0.1:0"],
        &[("EDUCT_ADMIN__DATABASE__URL", url.to_str().unwrap())],
        "no application key",
    );
    assert_refused(
        &["serve", "--bind", "127.0.0.1:0"],
        &[
            ("EDUCT_ADMIN__DATABASE__URL", url.to_str().unwrap()),
            ("EDUCT_ADMIN__SECRETS__KEY", "c2hvcnQ="),
        ],
        "32 bytes",
    );
}

#[test]
fn demo_refuses_a_non_loopback_bind() {
    assert_refused(&["serve", "--demo", "--bind", "0.0.0.0:0"], &[], "loopback");
}

#[test]
fn plain_http_off_loopback_needs_a_tls_proxy() {
    let key = "42".repeat(32);
    assert_refused(
        &["serve", "--bind", "0.0.0.0:0"],
        &[("EDUCT_ADMIN__SECRETS__KEY", &key)],
        "behind_tls_proxy",
    );
}

#[test]
fn serve_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("db.sqlite3");
    let key = "42".repeat(32);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_educt-admin"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("EDUCT_ADMIN__DATABASE__URL", &url)
        .env("EDUCT_ADMIN__SECRETS__KEY", &key)
        .env("EDUCT_ADMIN__LOG__LEVEL", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the "listening" line.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    assert!(line.contains("/educt-admin-comptes/"), "{line}");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    // Serving: the signal handlers are in place once a request is answered.
    let mut answered = false;
    for _ in 0..100 {
        if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
            use std::io::Read;
            s.write_all(b"GET /educt-admin-comptes/health/live HTTP/1.0\r\n\r\n")
                .unwrap();
            let mut buf = String::new();
            let _ = s.read_to_string(&mut buf);
            if buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200") {
                answered = true;
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(answered);
    let started = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
