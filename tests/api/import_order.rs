//! Hole 3 of issue 10 (an older file than the last one applied is refused; `--force` on the
//! command line, audited; a CSV's school year from the form or `--annee`) and the import
//! part of hole 10 (a non-ASCII byte after `encoding=` is a French 4xx, not a panic).

use diesel::prelude::*;
use educt_admin::db::schema::{audit_events, pupils};
use educt_admin::import::synthetic::{Synthetic, pupils_xml};
use reqwest::multipart::{Form, Part};

use crate::helpers::{COLLEGE, PRINCIPAL_PW, TEST_KEY, TestApp, TestDb, run_cli, seed_staff};

fn export(year: &str, stamp: &str, pupils: usize) -> Vec<u8> {
    let sy = Synthetic {
        uai: COLLEGE.into(),
        year: year.into(),
        pupils,
        latin9: false,
        ids_as_elements: false,
        leavers: vec![],
        first: 0,
    };
    let text = String::from_utf8(pupils_xml(&sy)).unwrap();
    let tag = format!("<ANNEE_SCOLAIRE>{year}</ANNEE_SCOLAIRE>");
    text.replace(&tag, &format!("{tag}<HORODATAGE>{stamp}</HORODATAGE>"))
        .into_bytes()
}

fn count(conn: &mut educt_admin::db::DbConnection) -> i64 {
    pupils::table.count().get_result(conn).unwrap()
}

fn form(csrf: &str, format: &str, year: &str, file: Vec<u8>) -> Form {
    Form::new()
        .text("csrf_token", csrf.to_owned())
        .text("uai", COLLEGE)
        .text("format", format.to_owned())
        .text("annee", year.to_owned())
        .part("eleves", Part::bytes(file).file_name("eleves"))
}

async fn post(app: &TestApp, f: Form) -> (u16, String) {
    let res = app
        .client
        .post(app.url("/import"))
        .multipart(f)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn an_older_export_or_csv_year_is_refused_on_the_page_and_changes_nothing() {
    let app = TestApp::spawn().await;
    seed_staff(&mut app.conn());
    app.signed_in("principal", PRINCIPAL_PW).await;
    let csrf = app.session_csrf().await;
    let (status, _) = post(
        &app,
        form(
            &csrf,
            "siecle",
            "",
            export("2027", "12/09/2027 08:00:00", 12),
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(count(&mut app.conn()), 12);
    // The 2026 export after the 2027 one, and an earlier 2027 export: refused.
    for (year, stamp) in [
        ("2026", "01/06/2027 08:00:00"),
        ("2027", "11/09/2027 17:00:00"),
    ] {
        let (status, body) = post(&app, form(&csrf, "siecle", "", export(year, stamp, 20))).await;
        assert_eq!(status, 400, "{year} {stamp}");
        assert!(
            body.contains("plus ancien que le dernier importé"),
            "{body:.3000}"
        );
        assert_eq!(count(&mut app.conn()), 12, "nothing changed");
    }
    // The same file again is fine.
    let (status, _) = post(
        &app,
        form(
            &csrf,
            "siecle",
            "",
            export("2027", "12/09/2027 08:00:00", 12),
        ),
    )
    .await;
    assert_eq!(status, 200);
    // A CSV: its year comes from the form; an older year is refused, a missing one too.
    let csv = b"id;nom;prenom;date_naissance\n1;Martin;Paul;01/01/2012\n".to_vec();
    for (year, needle) in [
        ("2026", "plus ancien que le dernier importé"),
        ("", "année scolaire"),
        ("20x6", "n'est pas valide"),
    ] {
        let (status, body) = post(&app, form(&csrf, "csv", year, csv.clone())).await;
        assert_eq!(status, 400, "{year}");
        assert!(body.contains(needle), "{year}: {body:.3000}");
    }
    let refused: i64 = audit_events::table
        .filter(audit_events::action.like("import.%"))
        .filter(audit_events::outcome.eq("refused"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert!(refused >= 3, "refusals are audited: {refused}");
    let (status, _) = post(&app, form(&csrf, "csv", "2027-2028", csv)).await;
    assert_eq!(status, 200);
    assert_eq!(count(&mut app.conn()), 13);
}

#[tokio::test]
async fn a_non_ascii_byte_after_encoding_is_a_french_400_not_a_500() {
    let app = TestApp::spawn().await;
    seed_staff(&mut app.conn());
    app.signed_in("principal", PRINCIPAL_PW).await;
    let csrf = app.session_csrf().await;
    for file in [
        &b"<?xml version=\"1.0\" encoding=\xe9\"?><BEE_ELEVES/>"[..],
        b"<?xml version=\"1.0\" encoding=\"\xc3\xa9\xc3\xa9\"?><BEE_ELEVES/>",
        b"<?xml version=\"1.0\" encoding=\xc3\xa9UTF-8\xc3\xa9?>\n<BEE_ELEVES></BEE_ELEVES>",
    ] {
        let (status, body) = post(&app, form(&csrf, "siecle", "", file.to_vec())).await;
        assert_eq!(status, 400, "{body:.2000}");
        assert!(body.contains("Import refusé"), "{body:.3000}");
    }
    let (_, body) = post(
        &app,
        form(
            &csrf,
            "siecle",
            "",
            b"<?xml version=\"1.0\" encoding=\"\xc3\xa9\xc3\xa9\"?><BEE_ELEVES/>".to_vec(),
        ),
    )
    .await;
    assert!(body.contains("encodage inconnu"), "{body:.3000}");
    // The app still answers.
    assert_eq!(
        app.get(&format!("/import?uai={COLLEGE}")).await.status(),
        200
    );
}

#[test]
fn the_command_line_refuses_an_older_file_unless_forced_and_never_panics_on_an_encoding() {
    let db = TestDb::migrated();
    let dir = tempfile::tempdir().unwrap();
    let key = hex::encode(TEST_KEY);
    let env = [
        ("EDUCT_ADMIN__DATABASE__URL", db.url.as_str()),
        ("EDUCT_ADMIN__SECRETS__KEY", key.as_str()),
    ];
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_string_lossy().into_owned()
    };
    let new = write("new.xml", &export("2027", "12/09/2027 08:00:00", 10));
    let old = write("old.xml", &export("2026", "12/09/2026 08:00:00", 15));
    let (status, out, err) = run_cli(&["import", "siecle", "--uai", COLLEGE, &new], &env);
    assert!(status.success(), "{out}{err}");
    let (status, _, err) = run_cli(&["import", "siecle", "--uai", COLLEGE, &old], &env);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("plus ancien que le dernier importé"), "{err}");
    assert_eq!(count(&mut db.connect()), 10);
    let (status, out, err) = run_cli(
        &["import", "siecle", "--uai", COLLEGE, "--force", &old],
        &env,
    );
    assert!(status.success(), "{out}{err}");
    assert!(out.contains("--force"), "{out}");
    assert_eq!(count(&mut db.connect()), 15);
    let forced: Vec<Option<String>> = audit_events::table
        .filter(audit_events::action.eq("import.siecle"))
        .filter(audit_events::outcome.eq("success"))
        .select(audit_events::details)
        .load(&mut db.connect())
        .unwrap();
    assert!(
        forced.iter().flatten().any(|d| d.contains("--force")),
        "{forced:?}"
    );
    // A CSV needs its school year.
    let csv = write(
        "eleves.csv",
        b"id;nom;prenom;date_naissance\n1;Martin;Paul;01/01/2012\n",
    );
    let (status, _, err) = run_cli(&["import", "csv", "--uai", COLLEGE, &csv], &env);
    assert!(!status.success() && err.contains("--annee"), "{err}");
    let (status, out, err) = run_cli(
        &[
            "import",
            "csv",
            "--uai",
            COLLEGE,
            "--annee",
            "2026",
            "--dry-run",
            &csv,
        ],
        &env,
    );
    assert!(status.success(), "{out}{err}");
    // A non-ASCII byte after encoding=: one French line, exit 1, no panic.
    let bad = write(
        "bad.xml",
        b"<?xml version=\"1.0\" encoding=\xe9\"?><BEE_ELEVES/>",
    );
    let (status, _, err) = run_cli(&["import", "siecle", "--uai", COLLEGE, &bad], &env);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("déclaration XML"), "{err}");
}
