//! The layering of `docs/architecture.md`, checked on the source text: every file under
//! `src/` is read and a forbidden import fails the test with the file and the line.
//!
//! - `domain/` imports nothing of the crate but `domain` itself;
//! - only `web/`, `startup.rs`, `cli/` and `main.rs` import `crate::web` or `actix_web`;
//! - `web/` imports neither `crate::db::schema` nor `crate::startup`.

use std::path::{Path, PathBuf};

/// Outside the edge but allowed `actix_web`: the request span builder wired by `startup`
/// (edge code that lives at the crate root; DEBT: move it under `web/`).
const ACTIX_OUTSIDE_EDGE: &[&str] = &["telemetry.rs"];

fn src_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src/`, as (path relative to `src/` with `/`, text).
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy();
                let rel = rel.replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let root = src_root();
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out
}

/// `needle` as a path start: not preceded by an identifier character (so `actix_web`
/// does not match inside `tracing_actix_web`).
fn mentions(line: &str, needle: &str) -> bool {
    line.match_indices(needle).any(|(i, _)| {
        !line[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// The crate modules a line names through `crate::` (`crate::db::schema` gives `db`).
fn crate_modules(line: &str) -> Vec<&str> {
    line.match_indices("crate::")
        .filter(|(i, _)| {
            !line[..*i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
        .map(|(i, m)| {
            let rest = &line[i + m.len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

fn opens_transaction(line: &str) -> bool {
    mentions(line, "audit::audited(")
        || mentions(line, "audit::record(")
        || line.contains(".transaction(")
        || line.contains("build_transaction(")
}

fn imports_schema(line: &str) -> bool {
    mentions(line, "crate::db::schema")
        || (mentions(line, "crate::db::{") && line.contains("schema"))
}

/// The forbidden imports of one file, as `src/FILE:LINE: why: the line`.
fn violations_in(file: &str, text: &str) -> Vec<String> {
    let in_web = file.starts_with("web/");
    let edge = in_web
        || file == "startup.rs"
        || file == "main.rs"
        || file.starts_with("cli/")
        || ACTIX_OUTSIDE_EDGE.contains(&file);
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut why = Vec::new();
        if file.starts_with("domain/") {
            for m in crate_modules(code) {
                if m != "domain" {
                    why.push(format!("domain/ imports crate::{m}"));
                }
            }
        }
        if !edge {
            if mentions(code, "crate::web") {
                why.push("only web/, startup.rs, cli/, main.rs import crate::web".to_owned());
            }
            if mentions(code, "actix_web") {
                why.push("only web/, startup.rs, cli/, main.rs import actix_web".to_owned());
            }
        }
        if in_web {
            if imports_schema(code) {
                why.push("web/ imports crate::db::schema (go through a store)".to_owned());
            }
            if opens_transaction(code) {
                why.push("web/ opens a transaction (call a use case in usecases/)".to_owned());
            }
            if mentions(code, "crate::startup") {
                why.push("web/ imports crate::startup".to_owned());
            }
        }
        for w in why {
            out.push(format!("src/{file}:{}: {w}: {}", n + 1, line.trim()));
        }
    }
    out
}

#[test]
fn no_module_imports_across_the_layers() {
    let files = sources();
    assert!(files.len() > 50, "src/ not found: {}", src_root().display());
    let violations: Vec<String> = files
        .iter()
        .flat_map(|(file, text)| violations_in(file, text))
        .collect();
    assert!(
        violations.is_empty(),
        "forbidden imports (see docs/architecture.md, Layers):\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_checker_names_the_file_and_the_line() {
    assert_eq!(
        violations_in("web/new.rs", "    audit::audited(conn, &key, now, |tx| {").len(),
        1
    );
    assert!(violations_in("usecases/x.rs", "audit::audited(conn, &key, now, f)").is_empty());
    let v = violations_in("domain/x.rs", "use super::Uai;\nuse crate::db::Db;\n");
    assert_eq!(
        v,
        ["src/domain/x.rs:2: domain/ imports crate::db: use crate::db::Db;"]
    );
    assert_eq!(
        violations_in("audit/x.rs", "use actix_web::HttpResponse;").len(),
        1
    );
    assert!(violations_in("telemetry.rs", "use tracing_actix_web::RequestId;").is_empty());
    assert_eq!(
        violations_in("web/new.rs", "use crate::db::{Db, schema::pupils};").len(),
        1
    );
    assert_eq!(
        violations_in("web/x.rs", "use crate::startup::AppState;").len(),
        1
    );
    assert!(violations_in("web/x.rs", "// crate::startup builds it").is_empty());
}
