//! `educt-admin agents …` on the local directory.

use std::io::Write;
use std::process::{Command, Stdio};

use educt_admin::directory::Directory;
use educt_admin::directory::local::LocalDirectory;
use educt_admin::domain::AgentUid;
use secrecy::SecretString;

use crate::helpers::{TEST_KEY, TestDb, audit_rows};

fn agents(db: &TestDb, args: &[&str], stdin: &str) -> (bool, String, String) {
    let key = hex::encode(TEST_KEY);
    let mut child = Command::new(env!("CARGO_BIN_EXE_educt-admin"))
        .arg("agents")
        .args(args)
        .env("EDUCT_ADMIN__DATABASE__URL", &db.url)
        .env("EDUCT_ADMIN__SECRETS__KEY", key)
        .env("USER", "operateur")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn can_sign_in(db: &TestDb, uid: &str, password: &str) -> bool {
    let dir = LocalDirectory::new(db.pool().pool().clone()).unwrap();
    dir.authenticate(
        &AgentUid::parse(uid).unwrap(),
        &SecretString::from(password.to_owned()),
    )
    .is_ok()
}

#[test]
fn agents_are_managed_from_the_command_line_and_audited() {
    let db = TestDb::migrated();
    let (ok, out, err) = agents(
        &db,
        &[
            "add",
            "cperrin",
            "--name",
            "Claire Perrin",
            "--attach",
            "0691234S",
            "--responsible",
            "0691234S",
        ],
        "Un-mot-de-passe-long\n",
    );
    assert!(ok, "{out}{err}");
    assert!(can_sign_in(&db, "cperrin", "Un-mot-de-passe-long"));
    let (ok, out, _) = agents(&db, &["list"], "");
    assert!(ok);
    assert!(
        out.contains("cperrin\tClaire Perrin\tactive\t0691234S\t0691234S"),
        "{out}"
    );

    let (ok, _, _) = agents(&db, &["passwd", "cperrin"], "Un-autre-mot-de-passe\n");
    assert!(ok);
    assert!(!can_sign_in(&db, "cperrin", "Un-mot-de-passe-long"));
    assert!(can_sign_in(&db, "cperrin", "Un-autre-mot-de-passe"));

    assert!(agents(&db, &["attach", "cperrin", "0692418D"], "").0);
    assert!(agents(&db, &["detach", "cperrin", "0691234S", "--responsible"], "").0);
    let (_, out, _) = agents(&db, &["list"], "");
    assert!(
        out.lines()
            .any(|l| l == "cperrin\tClaire Perrin\tactive\t0691234S,0692418D\t\t"),
        "{out}"
    );

    assert!(agents(&db, &["disable", "cperrin"], "").0);
    assert!(!can_sign_in(&db, "cperrin", "Un-autre-mot-de-passe"));

    let rows = audit_rows(&mut db.connect());
    let actions: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        actions,
        [
            "agent.create",
            "agent.password_set",
            "agent.attach",
            "agent.detach",
            "agent.disable"
        ]
    );
    assert!(rows.iter().all(|r| r.0 == "cli:operateur"));
    assert!(
        rows.iter()
            .all(|r| !r.3.clone().unwrap_or_default().contains("mot-de-passe"))
    );
    educt_admin::audit::verify_chain(&mut db.connect(), &crate::helpers::test_key()).unwrap();
}

#[test]
fn agents_commands_refuse_bad_input_and_change_nothing() {
    let db = TestDb::migrated();
    let refusals: &[(&[&str], &str, &str)] = &[
        (
            &["add", "c*", "--name", "X"],
            "Un-mot-de-passe-long\n",
            "invalid uid",
        ),
        (
            &["add", "cperrin", "--name", "X", "--attach", "0691234T"],
            "Un-mot-de-passe-long\n",
            "0691234T",
        ),
        (&["add", "cperrin", "--name", "X"], "court\n", "at least 12"),
        (
            &["add", "cperrin", "--name", "X"],
            "            \n",
            "at least 12",
        ),
        (
            &["passwd", "nobody"],
            "Un-mot-de-passe-long\n",
            "no agent nobody",
        ),
        (&["disable", "nobody"], "", "no agent nobody"),
        (&["attach", "nobody", "0691234S"], "", "no agent nobody"),
        (
            &["add", "cperrin", "--name", "X", "--direction", "0691234T"],
            "Un-mot-de-passe-long\n",
            "0691234T",
        ),
        (
            &["attach", "nobody", "0691234S", "--direction"],
            "",
            "no agent nobody",
        ),
    ];
    for (args, stdin, needle) in refusals {
        let (ok, _, err) = agents(&db, args, stdin);
        assert!(!ok, "{args:?}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert!(audit_rows(&mut db.connect()).is_empty());
    assert!(
        agents(
            &db,
            &["add", "cperrin", "--name", "X"],
            "Un-mot-de-passe-long\n"
        )
        .0
    );
    let (ok, _, err) = agents(
        &db,
        &["add", "cperrin", "--name", "X"],
        "Un-mot-de-passe-long\n",
    );
    assert!(!ok && err.contains("already exists"), "{err}");
    let (ok, _, err) = agents(&db, &["detach", "cperrin", "0691234S"], "");
    assert!(!ok && err.contains("is not attached"), "{err}");
}

/// A deputy head in the local directory: `--direction` (which attaches him there too), its
/// own column in the listing, and the rights it gives.
#[test]
fn a_deputy_head_is_added_and_relinked_with_direction() {
    let db = TestDb::migrated();
    let mut add: Vec<&str> = "add adurand --attach 0692418D --direction 0691234S --name"
        .split(' ')
        .collect();
    add.push("Anne Durand");
    let (ok, out, err) = agents(&db, &add, "Un-mot-de-passe-long\n");
    assert!(ok, "{out}{err}");
    let listed = |db: &TestDb| agents(db, &["list"], "").1;
    assert!(listed(&db).starts_with("uid\tname\tstate\tattached\tresponsible\tdirection\n"));
    assert!(
        listed(&db)
            .lines()
            .any(|l| l == "adurand\tAnne Durand\tactive\t0691234S,0692418D\t\t0691234S"),
        "{}",
        listed(&db)
    );
    let anne = || {
        LocalDirectory::new(db.pool().pool().clone())
            .unwrap()
            .lookup(&AgentUid::parse("adurand").unwrap())
            .unwrap()
            .unwrap()
    };
    let (college, lycee) = (uai("0691234S"), uai("0692418D"));
    assert!(anne().is_principal_of(&college));
    assert!(!anne().is_principal_of(&lycee), "a secondary attachment");

    // Only the direction goes: still attached, nothing by right.
    let (ok, out, _) = agents(&db, &["detach", "adurand", "0691234S", "--direction"], "");
    assert!(ok && out.contains("no longer direction 0691234S"), "{out}");
    assert!(anne().is_attached_to(&college) && !anne().is_principal_of(&college));
    // Back, on the lycée this time; both flags at once are refused.
    assert!(agents(&db, &["attach", "adurand", "0692418D", "--direction"], "").0);
    assert_eq!(anne().responsible_for, vec![lycee.clone()]);
    let (ok, _, err) = agents(
        &db,
        &[
            "attach",
            "adurand",
            "0692418D",
            "--direction",
            "--responsible",
        ],
        "",
    );
    assert!(!ok && err.contains("cannot be used with"), "{err}");

    let rows = audit_rows(&mut db.connect());
    let details: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.1.as_str(), r.3.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        details,
        [
            (
                "agent.create",
                "attached=0692418D,0691234S responsible= direction=0691234S"
            ),
            ("agent.detach", "direction"),
            ("agent.attach", "attached,direction"),
        ]
    );
}

fn uai(s: &str) -> educt_admin::domain::Uai {
    educt_admin::domain::Uai::parse(s).unwrap()
}

#[test]
fn delegations_list_prints_the_delegations_with_their_status() {
    use educt_admin::delegation::Scope;
    use educt_admin::delegation::store::{self, NewDelegation};
    let db = TestDb::migrated();
    let uai = educt_admin::domain::Uai::parse("0691234S").unwrap();
    let lycee = educt_admin::domain::Uai::parse("0692418D").unwrap();
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    for (u, who, until) in [
        (&uai, "referent", "2099-08-31"),
        (&lycee, "cpe", "2020-08-31"),
    ] {
        store::insert(
            &mut db.connect(),
            &NewDelegation {
                uai: u,
                grantee_uid: who,
                grantee_name: who,
                scope: Scope::Eleves,
                valid_from: day("2020-01-01"),
                valid_until: day(until),
                motive: "Motif\tavec tabulation",
                granted_by: "principal",
            },
            crate::helpers::t0(),
        )
        .unwrap();
    }
    let env = [("EDUCT_ADMIN__DATABASE__URL", db.url.as_str())];
    let (status, out, err) = crate::helpers::run_cli(&["delegations", "list"], &env);
    assert!(status.success(), "{err}");
    assert!(out.contains("\t0691234S\treferent\televes\t2020-01-01\t2099-08-31\tactive\tprincipal\tMotif avec tabulation"), "{out}");
    assert!(
        out.contains("\t0692418D\tcpe\televes\t2020-01-01\t2020-08-31\texpired\t"),
        "{out}"
    );
    let (_, out, _) = crate::helpers::run_cli(&["delegations", "list", "--uai", "0692418D"], &env);
    assert!(!out.contains("referent") && out.contains("cpe"));
    let (status, _, err) =
        crate::helpers::run_cli(&["delegations", "list", "--uai", "0692418X"], &env);
    assert!(!status.success() && err.contains("UAI"), "{err}");
}

#[test]
fn import_and_purge_commands_report_and_refuse_clearly() {
    use educt_admin::import::synthetic::{Synthetic, guardians_xml, pupils_xml};
    let db = TestDb::migrated();
    let dir = tempfile::tempdir().unwrap();
    let sy = Synthetic {
        uai: "0691234S".into(),
        year: "2026".into(),
        pupils: 25,
        latin9: true,
        ids_as_elements: true,
        leavers: vec![],
        first: 0,
    };
    let (p, g) = (
        dir.path().join("ElevesSansAdresses.xml"),
        dir.path().join("ResponsablesAvecAdresses.xml"),
    );
    std::fs::write(&p, pupils_xml(&sy)).unwrap();
    std::fs::write(&g, guardians_xml(&sy)).unwrap();
    let key = hex::encode(crate::helpers::TEST_KEY);
    let env = [
        ("EDUCT_ADMIN__DATABASE__URL", db.url.as_str()),
        ("EDUCT_ADMIN__SECRETS__KEY", key.as_str()),
    ];
    let (p, g) = (p.to_str().unwrap(), g.to_str().unwrap());
    let (status, out, err) = crate::helpers::run_cli(
        &["import", "siecle", "--uai", "0691234S", "--dry-run", p, g],
        &env,
    );
    assert!(status.success(), "{err}");
    assert!(
        out.contains("SIMULATION") && out.contains("25 créés"),
        "{out}"
    );
    let (status, out, _) = crate::helpers::run_cli(
        &[
            "import",
            "siecle",
            "--uai",
            "0691234S",
            "--name",
            "Collège Jean Moulin",
            p,
            g,
        ],
        &env,
    );
    assert!(status.success());
    assert!(
        out.contains("établissement créé") && out.contains("25 créés"),
        "{out}"
    );
    let (_, out, _) =
        crate::helpers::run_cli(&["import", "siecle", "--uai", "0691234S", p, g], &env);
    assert!(out.contains("0 créés, 0 mis à jour, 25 inchangés"), "{out}");
    let (status, _, err) =
        crate::helpers::run_cli(&["import", "siecle", "--uai", "0692418D", p], &env);
    assert!(!status.success());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("pas de 0692418D"), "{err}");
    let (status, out, _) = crate::helpers::run_cli(&["purge"], &env);
    assert!(
        status.success() && out.contains("SIMULATION : 0 élève(s) parti(s)"),
        "{out}"
    );
    let rows = audit_rows(&mut db.connect());
    assert_eq!(
        rows.iter()
            .filter(|r| r.1 == "import.siecle" && r.2 == "success")
            .count(),
        2,
        "one audit row per import (not the dry run)"
    );
    // The file of another establishment is refused like on the web: audited.
    assert_eq!(
        rows.iter()
            .filter(|r| r.1 == "import.siecle" && r.2 == "refused")
            .count(),
        1
    );
}
