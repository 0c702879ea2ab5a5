//! Imports from SIECLE and CSV: idempotent, one transaction, rollover and purge.

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use educt_admin::audit::AuditAction;
use educt_admin::db::DbConnection;
use educt_admin::db::schema::{establishments, identifiants, parents, pupil_parents, pupils};
use educt_admin::domain::Uai;
use educt_admin::import::apply::{ImportOptions, ImportReport, apply};
use educt_admin::import::purge::{purge, purgeable};
use educt_admin::import::synthetic::{Synthetic, guardians_xml, pupils_xml};
use educt_admin::import::{ImportData, ImportError, csv_input, siecle};

use crate::helpers::{TestDb, t0, test_key};

const UAI: &str = "0691234S";

fn synthetic(pupils: usize) -> Synthetic {
    Synthetic {
        uai: UAI.into(),
        year: "2026".into(),
        pupils,
        latin9: false,
        ids_as_elements: false,
        leavers: vec![],
        first: 0,
    }
}

fn read(sy: &Synthetic, with_guardians: bool) -> Result<ImportData, ImportError> {
    let uai = Uai::parse(&sy.uai).unwrap();
    let mut data = ImportData::default();
    siecle::read_pupils(&pupils_xml(sy), &Uai::parse(UAI).unwrap(), &mut data)?;
    if with_guardians {
        siecle::read_guardians(&guardians_xml(sy), &uai, &mut data)?;
    }
    Ok(data)
}

fn opts(dry_run: bool) -> ImportOptions {
    ImportOptions {
        action: AuditAction::ImportSiecle,
        actor: "cli:test".into(),
        name: Some("Collège Jean Moulin".into()),
        dry_run,
        tz: chrono_tz::Europe::Paris,
        force: false,
        request: None,
    }
}

fn run(conn: &mut DbConnection, data: &ImportData, dry_run: bool) -> ImportReport {
    apply(
        conn,
        &test_key(),
        t0(),
        &Uai::parse(UAI).unwrap(),
        data,
        &opts(dry_run),
        &|_, _| {},
    )
    .unwrap()
}

/// Every business row, for "nothing changed" checks.
#[allow(clippy::type_complexity)]
fn fingerprint(conn: &mut DbConnection) -> String {
    type P = (
        i64,
        String,
        Option<String>,
        String,
        String,
        Option<String>,
        String,
        Option<NaiveDate>,
        Option<String>,
    );
    let p: Vec<P> = pupils::table
        .order(pupils::id)
        .select((
            pupils::id,
            pupils::identifiant,
            pupils::ine,
            pupils::last_name,
            pupils::first_name,
            pupils::division,
            pupils::state,
            pupils::departure_date,
            pupils::siecle_id,
        ))
        .load(conn)
        .unwrap();
    let g: Vec<(i64, String, String, Option<String>, Option<String>)> = parents::table
        .order(parents::id)
        .select((
            parents::id,
            parents::identifiant,
            parents::last_name,
            parents::email,
            parents::mobile,
        ))
        .load(conn)
        .unwrap();
    let l: Vec<(i64, i64, i16)> = pupil_parents::table
        .order((pupil_parents::pupil_id, pupil_parents::parent_id))
        .load(conn)
        .unwrap();
    let i: Vec<String> = identifiants::table
        .order(identifiants::identifiant)
        .select(identifiants::identifiant)
        .load(conn)
        .unwrap();
    let e: Vec<(String, String, Option<String>)> = establishments::table
        .select((
            establishments::uai,
            establishments::name,
            establishments::last_import_year,
        ))
        .load(conn)
        .unwrap();
    format!("{p:?}{g:?}{l:?}{i:?}{e:?}")
}

#[test]
fn an_import_creates_everything_and_a_second_one_changes_nothing() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    for (latin9, ids_as_elements) in [(false, false), (true, true)] {
        let sy = Synthetic {
            latin9,
            ids_as_elements,
            ..synthetic(120)
        };
        let data = read(&sy, true).unwrap();
        assert_eq!(data.pupils.len(), 120);
        assert!(
            data.pupils
                .iter()
                .any(|p| p.last_name.starts_with("N'Diaye")),
            "apostrophes survive"
        );
        assert!(
            data.pupils
                .iter()
                .any(|p| p.last_name.starts_with("Œuvray")),
            "Latin-9 œ survives"
        );
        assert!(
            data.warnings
                .iter()
                .any(|w| w.contains("l'élève Côme Nguyễn 4 (n° 100049) n'a pas d'INE")),
            "a warning names the pupil: {:?}",
            data.warnings
        );
        assert!(
            data.warnings
                .iter()
                .any(|w| w.contains("responsable légal") && w.contains("en double"))
        );
        assert!(
            data.pupils
                .iter()
                .all(|p| p.division.as_deref().is_some_and(|d| d.len() == 2)),
            "divisions of type D only"
        );
    }
    let data = read(&synthetic(120), true).unwrap();
    let first = run(&mut conn, &data, false);
    assert!(first.establishment_created);
    assert_eq!((first.created, first.updated, first.leaving), (120, 0, 0));
    assert_eq!(
        first.parents_created,
        2 * 108,
        "two legal guardians a family (every tenth pupil shares)"
    );
    let identifiant: String = pupils::table
        .filter(pupils::siecle_id.eq("100001"))
        .select(pupils::identifiant)
        .first(&mut conn)
        .unwrap();
    assert!(identifiant.starts_with("z.ndiaye"), "{identifiant}");
    let before = fingerprint(&mut conn);
    let again = run(&mut conn, &data, false);
    assert_eq!(
        (
            again.created,
            again.updated,
            again.unchanged,
            again.leaving,
            again.parents_created,
            again.parents_updated,
            again.links_changed
        ),
        (0, 0, 120, 0, 0, 0, 0)
    );
    assert_eq!(
        fingerprint(&mut conn),
        before,
        "a second import changes nothing"
    );
    // The other encoding and id style of the same data: still nothing.
    let latin = read(
        &Synthetic {
            latin9: true,
            ids_as_elements: true,
            ..synthetic(120)
        },
        true,
    )
    .unwrap();
    run(&mut conn, &latin, false);
    assert_eq!(fingerprint(&mut conn), before);
}

#[test]
fn a_new_school_year_updates_adds_and_marks_leavers() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    run(&mut conn, &read(&synthetic(100), true).unwrap(), false);
    // The same year, a partial file: the missing are not touched.
    let partial = read(&synthetic(60), false).unwrap();
    let r = run(&mut conn, &partial, false);
    assert_eq!(r.leaving, 0);
    // Next year: pupils 0..20 gone, 100..120 new, 30 left during the year.
    let next = Synthetic {
        year: "2027".into(),
        first: 20,
        pupils: 100,
        leavers: vec![30],
        ..synthetic(0)
    };
    let r = run(&mut conn, &read(&next, true).unwrap(), false);
    assert_eq!(r.created, 20);
    assert_eq!(r.leaving, 21, "20 missing + 1 DATE_SORTIE");
    let gone: Vec<(String, Option<NaiveDate>)> = pupils::table
        .filter(pupils::state.eq("desactive"))
        .select((pupils::siecle_id.assume_not_null(), pupils::departure_date))
        .load(&mut conn)
        .unwrap();
    assert_eq!(gone.len(), 21);
    assert!(gone.iter().all(|(_, d)| d.is_some()));
    assert!(
        gone.iter()
            .any(|(id, d)| id == "100030" && *d == NaiveDate::from_ymd_opt(2026, 10, 15))
    );
    let total: i64 = pupils::table.count().get_result(&mut conn).unwrap();
    assert_eq!(total, 120, "never duplicated");

    // Purge: nothing before 90 days; then the leavers, keeping their identifiants.
    let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    assert!(
        purgeable(&mut conn, today)
            .unwrap()
            .iter()
            .all(|(_, _)| false)
            || purgeable(&mut conn, today).unwrap().len() <= 1
    );
    let later = today + Duration::days(91);
    let ids_before: i64 = identifiants::table.count().get_result(&mut conn).unwrap();
    let (p, _) = purge(
        &mut conn,
        &test_key(),
        t0() + Duration::days(91),
        later,
        "cli:test",
        &[],
    )
    .unwrap();
    assert_eq!(p, 21);
    assert_eq!(
        pupils::table.count().get_result::<i64>(&mut conn).unwrap(),
        99
    );
    assert_eq!(
        identifiants::table
            .count()
            .get_result::<i64>(&mut conn)
            .unwrap(),
        ids_before,
        "tombstones stay"
    );
    educt_admin::audit::verify_chain(&mut conn, &test_key()).unwrap();
}

#[test]
fn a_pupil_still_current_elsewhere_is_only_claimed_and_moves_when_he_leaves() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    run(&mut conn, &read(&synthetic(5), false).unwrap(), false);
    let before: (i64, String) = pupils::table
        .filter(pupils::siecle_id.eq("100002"))
        .select((pupils::id, pupils::identifiant))
        .first(&mut conn)
        .unwrap();
    let lycee = Uai::parse("0692418D").unwrap();
    let sy = Synthetic {
        uai: "0692418D".into(),
        first: 2,
        pupils: 1,
        ..synthetic(0)
    };
    let mut data = ImportData::default();
    siecle::read_pupils(&pupils_xml(&sy), &lycee, &mut data).unwrap();
    apply(
        &mut conn,
        &test_key(),
        t0(),
        &lycee,
        &data,
        &opts(false),
        &|_, _| {},
    )
    .unwrap();
    let uai_of = |conn: &mut DbConnection| -> String {
        pupils::table
            .filter(pupils::id.eq(before.0))
            .select(pupils::uai)
            .first(conn)
            .unwrap()
    };
    assert_eq!(
        uai_of(&mut conn),
        UAI,
        "still current at the collège: pending"
    );
    // The collège's next import records his departure: he moves, keeping his identifiant.
    let leaving = Synthetic {
        leavers: vec![2],
        ..synthetic(5)
    };
    run(&mut conn, &read(&leaving, false).unwrap(), false);
    let after: (String, String, Option<NaiveDate>) = pupils::table
        .filter(pupils::id.eq(before.0))
        .select((pupils::identifiant, pupils::uai, pupils::departure_date))
        .first(&mut conn)
        .unwrap();
    assert_eq!(after, (before.1, "0692418D".to_owned(), None));
}

#[test]
fn a_fatal_error_changes_nothing_and_says_where() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    run(&mut conn, &read(&synthetic(10), true).unwrap(), false);
    let before = fingerprint(&mut conn);
    let good = String::from_utf8(pupils_xml(&synthetic(10))).unwrap();
    let uai = Uai::parse(UAI).unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            good.replacen("</PRENOM>", "</PRENOMS>", 1).into_bytes(),
            "XML mal formé à la ligne",
        ),
        (
            good.replace("BEE_ELEVES", "BEE_PROFS").into_bytes(),
            "élément racine",
        ),
        (
            good.replace("<UAJ>0691234S</UAJ>", "<UAJ>0692418D</UAJ>")
                .into_bytes(),
            "pas de 0691234S",
        ),
        (good.as_bytes()[..good.len() / 2].to_vec(), "tronqué"),
        (Vec::new(), "vide"),
        (b"   \n".to_vec(), "vide"),
        (b"not xml at all".to_vec(), ""),
    ];
    for (bytes, message) in cases {
        let mut data = ImportData::default();
        let result = siecle::read_pupils(&bytes, &uai, &mut data);
        assert!(result.is_err(), "{message}: accepted");
        let err = result.unwrap_err().to_string();
        assert!(err.contains(message), "{message}: {err}");
    }
    // A failure while writing (the database refuses a row) rolls everything back too.
    let data = read(
        &Synthetic {
            year: "2027".into(),
            ..synthetic(30)
        },
        true,
    )
    .unwrap();
    diesel::sql_query("CREATE TABLE blocker (x INTEGER)")
        .execute(&mut conn)
        .unwrap();
    match &mut conn {
        DbConnection::Sqlite(c) => {
            diesel::sql_query("CREATE TRIGGER no_new_pupils BEFORE INSERT ON pupils BEGIN SELECT RAISE(ABORT, 'full'); END").execute(c).unwrap();
        }
        DbConnection::Postgresql(c) => {
            diesel::sql_query("CREATE FUNCTION full_disk() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'full'; END $$ LANGUAGE plpgsql").execute(c).unwrap();
            diesel::sql_query("CREATE TRIGGER no_new_pupils BEFORE INSERT ON pupils FOR EACH ROW EXECUTE FUNCTION full_disk()").execute(c).unwrap();
        }
    }
    let err = apply(
        &mut conn,
        &test_key(),
        t0(),
        &uai,
        &data,
        &opts(false),
        &|_, _| {},
    );
    assert!(err.is_err());
    assert_eq!(fingerprint(&mut conn), before, "byte-for-byte unchanged");
}

#[test]
fn dry_run_reports_and_changes_nothing() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    let before = fingerprint(&mut conn);
    let r = run(&mut conn, &read(&synthetic(40), true).unwrap(), true);
    assert_eq!(r.created, 40);
    assert_eq!(fingerprint(&mut conn), before);
    assert_eq!(
        educt_admin::audit::verify_chain(&mut conn, &test_key())
            .unwrap()
            .seq,
        0
    );
}

#[test]
fn row_problems_are_warnings_and_huge_values_do_not_break_anything() {
    let huge = "é".repeat(10_000);
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><BEE_ELEVES><PARAMETRES><UAJ>{UAI}</UAJ><ANNEE_SCOLAIRE>2026</ANNEE_SCOLAIRE></PARAMETRES><DONNEES><ELEVES>\
         <ELEVE ELEVE_ID=\"1\"><NOM_DE_FAMILLE>{huge}</NOM_DE_FAMILLE><PRENOM>A</PRENOM><DATE_NAISS>01/01/2012</DATE_NAISS></ELEVE>\
         <ELEVE ELEVE_ID=\"2\"><NOM_DE_FAMILLE>O&apos;Brien &amp; fils</NOM_DE_FAMILLE><PRENOM>Zoë</PRENOM><DATE_NAISS>31/02/2012</DATE_NAISS></ELEVE>\
         <ELEVE ELEVE_ID=\"3\"><NOM_DE_FAMILLE>O&apos;Brien</NOM_DE_FAMILLE><PRENOM>Zoë</PRENOM><DATE_NAISS>01/02/2012</DATE_NAISS><ID_NATIONAL>x</ID_NATIONAL></ELEVE>\
         <ELEVE><NOM_DE_FAMILLE>Sans</NOM_DE_FAMILLE><PRENOM>Id</PRENOM><DATE_NAISS>01/02/2012</DATE_NAISS></ELEVE>\
         </ELEVES></DONNEES></BEE_ELEVES>"
    );
    let mut data = ImportData::default();
    siecle::read_pupils(xml.as_bytes(), &Uai::parse(UAI).unwrap(), &mut data).unwrap();
    assert_eq!(data.pupils.len(), 1);
    assert_eq!(data.pupils[0].last_name, "O'Brien");
    let w = data.warnings.join("\n");
    assert!(
        w.contains("l'élève n° 1 est ignoré") && w.contains("200 caractères"),
        "{w}"
    );
    assert!(w.contains("date de naissance absente ou invalide"), "{w}");
    assert!(
        w.contains("l'élève Zoë O'Brien (n° 3) : l'INE « x » n'est pas valide"),
        "{w}"
    );
    assert!(w.contains("sans numéro (ELEVE_ID)"), "{w}");
}

#[test]
fn csv_files_import_with_either_separator_and_encoding() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    let latin = encoding_rs::ISO_8859_15
        .encode("id;ine;nom;prenom;date_naissance;division\n1;123456789AB;Lefèvre;Zoë;14/05/2012;3A\n2;;Œuvray;Anaïs;2012-06-01;3B\n3;;;X;01/01/2012;3B\n")
        .0
        .into_owned();
    let mut data = ImportData::default();
    csv_input::read_pupils(&latin, &mut data).unwrap();
    assert_eq!(data.pupils.len(), 2);
    assert_eq!(data.pupils[1].last_name, "Œuvray");
    assert!(data.warnings.iter().any(|w| w.contains("ligne 4")));
    let guardians = "id,nom,prenom,mel,tel_portable,eleve_id,resp_legal\n10,Lefèvre,Nathalie,n@exemple.fr,0612345678,1,1\n10,Lefèvre,Nathalie,n@exemple.fr,0612345678,1,1\n11,Martin,Paul,,,2,2\n12,Autre,Contact,,,2,0\n13,X,Y,,,99,1\n";
    csv_input::read_guardians(guardians.as_bytes(), &mut data).unwrap();
    assert_eq!(data.links.len(), 2);
    assert!(
        data.warnings
            .iter()
            .any(|w| w.contains("responsable légal Nathalie Lefèvre (n° 10) figure en double pour l'élève Zoë Lefèvre (n° 1)"))
    );
    assert!(
        data.warnings
            .iter()
            .any(|w| w.contains("Y X (n° 13) est lié à un élève inconnu (n° 99)"))
    );
    data.school_year = Some("2026".into());
    let r = apply(
        &mut conn,
        &test_key(),
        t0(),
        &Uai::parse(UAI).unwrap(),
        &data,
        &ImportOptions {
            action: AuditAction::ImportCsv,
            ..opts(false)
        },
        &|_, _| {},
    )
    .unwrap();
    assert_eq!((r.created, r.parents_created, r.links_changed), (2, 2, 2));
    let err = csv_input::read_pupils(b"nom;prenom\nA;B\n", &mut ImportData::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("colonne(s) manquante(s) : id, date_naissance"),
        "{err}"
    );
}

#[test]
fn five_thousand_pupils_import() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    let data = read(&synthetic(5_000), true).unwrap();
    let r = run(&mut conn, &data, false);
    assert_eq!(r.created, 5_000);
    assert_eq!(
        pupils::table.count().get_result::<i64>(&mut conn).unwrap(),
        5_000
    );
}

#[test]
fn mangled_files_never_panic_the_readers() {
    // A bounded, deterministic mutation loop over valid files (a poor man's fuzzer that runs
    // in every test run): flipped, dropped and duplicated bytes.
    let uai = Uai::parse(UAI).unwrap();
    let xml = pupils_xml(&synthetic(8));
    let guardians = guardians_xml(&synthetic(8));
    let csv = b"id;ine;nom;prenom;date_naissance;division\n1;123456789AB;Lef\xe8vre;Zo\xeb;14/05/2012;3A\n".to_vec();
    let mut seed: u64 = 0x5eed;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..1500 {
        for source in [&xml, &guardians, &csv] {
            let mut b = source.clone();
            for _ in 0..(1 + next() % 8) {
                let i = (next() as usize) % b.len().max(1);
                match next() % 3 {
                    0 if !b.is_empty() => b[i] = next() as u8,
                    1 if !b.is_empty() => {
                        b.remove(i);
                    }
                    _ => b.insert(i.min(b.len()), b"<>&;\"'\xff"[(next() % 7) as usize]),
                }
            }
            let mut d = ImportData::default();
            let _ = siecle::read_pupils(&b, &uai, &mut d);
            let _ = siecle::read_guardians(&b, &uai, &mut d);
            let _ = csv_input::read_pupils(&b, &mut d);
            let _ = csv_input::read_guardians(&b, &mut d);
        }
        let _ = round;
    }
}
