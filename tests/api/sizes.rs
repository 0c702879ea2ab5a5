//! The sizes of `docs/architecture.md` ("Sizes"), checked on the source text: no file under
//! `src/` over 400 lines and no function over 80 lines. A function is measured from its
//! `fn` line to the closing brace at its own indentation (rustfmt's layout).

use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 400;
const MAX_FN_LINES: usize = 80;

/// DEBT: functions still over the limit, as `file::name`. A function that comes under the
/// limit must leave this list; a new one over it fails.
const LONG_FUNCTION_DEBT: &[&str] = &[];

fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy();
                out.push((
                    rel.replace('\\', "/"),
                    std::fs::read_to_string(&path).unwrap(),
                ));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out
}

/// The name of the function a line opens, with its indentation.
fn fn_start(line: &str) -> Option<(&str, &str)> {
    let code = line.trim_start();
    let indent = &line[..line.len() - code.len()];
    let mut rest = code;
    for prefix in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?;
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    Some((indent, &rest[..end]))
}

/// Every function of a file with its length in lines, as (name, first line, length).
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some((indent, name)) = fn_start(line) else {
            continue;
        };
        // The signature ends at the first line ending in `{` (a body) or `;` (a declaration).
        let Some(sig_end) = lines[i..]
            .iter()
            .map(|l| l.trim_end())
            .find(|l| l.ends_with('{') || l.ends_with(';') || l.ends_with('}'))
        else {
            continue;
        };
        if !sig_end.ends_with('{') {
            continue;
        }
        let close = format!("{indent}}}");
        let end = lines[i..]
            .iter()
            .position(|l| *l == close)
            .map_or(lines.len(), |p| i + p);
        out.push((name.to_owned(), i + 1, end - i + 1));
    }
    out
}

#[test]
fn no_file_over_400_lines_and_no_function_over_80() {
    let files = sources();
    assert!(files.len() > 50);
    let mut over = Vec::new();
    let mut long_now = Vec::new();
    for (file, text) in &files {
        let n = text.lines().count();
        if n > MAX_FILE_LINES {
            over.push(format!("src/{file}: {n} lines (at most {MAX_FILE_LINES})"));
        }
        for (name, line, len) in functions(text) {
            if len > MAX_FN_LINES {
                let id = format!("{file}::{name}");
                if !LONG_FUNCTION_DEBT.contains(&id.as_str()) {
                    over.push(format!(
                        "src/{file}:{line}: fn {name} is {len} lines (at most {MAX_FN_LINES})"
                    ));
                }
                long_now.push(id);
            }
        }
    }
    for debt in LONG_FUNCTION_DEBT {
        if !long_now.iter().any(|l| l == debt) {
            over.push(format!(
                "{debt} is no longer over {MAX_FN_LINES} lines: remove it from LONG_FUNCTION_DEBT"
            ));
        }
    }
    assert!(over.is_empty(), "{}", over.join("\n"));
}

#[test]
fn the_measure_counts_a_function_from_its_line_to_its_brace() {
    let text = "fn a() {\n    x;\n}\n\nimpl T {\n    pub async fn b(\n        y: u8,\n    ) {\n        z;\n    }\n    fn c();\n    fn d() {}\n    fn e(\n        x: u8,\n    ) -> u8;\n}\n";
    let found = functions(text);
    assert_eq!(
        found,
        [("a".to_owned(), 1, 3), ("b".to_owned(), 6, 5)],
        "{found:?}"
    );
}
