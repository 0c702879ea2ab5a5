//! Every import message a user reads is French and names people (BRIEF rule 10): the import
//! page, its warnings CSV and the command's output, for files full of row problems and for
//! a file that cannot be read at all.

use base64::Engine;
use reqwest::multipart::{Form, Part};
use scraper::{Html, Selector};

use crate::helpers::{COLLEGE, PRINCIPAL_PW, TestApp, TestDb, run_cli, seed_staff};

const PUPILS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<BEE_ELEVES><PARAMETRES><UAJ>0691234S</UAJ><ANNEE_SCOLAIRE>2026</ANNEE_SCOLAIRE></PARAMETRES>
<DONNEES><ELEVES>
<ELEVE ELEVE_ID="100005"><NOM_DE_FAMILLE>ÉLUARD</NOM_DE_FAMILLE><PRENOM>Jules</PRENOM><DATE_NAISS>01/02/2012</DATE_NAISS></ELEVE>
<ELEVE ELEVE_ID="100006"><ID_NATIONAL>x</ID_NATIONAL><NOM_DE_FAMILLE>Lefèvre</NOM_DE_FAMILLE><PRENOM>Zoë</PRENOM><DATE_NAISS>03/04/2012</DATE_NAISS><DATE_SORTIE>demain</DATE_SORTIE></ELEVE>
<ELEVE ELEVE_ID="100006"><NOM_DE_FAMILLE>Lefèvre</NOM_DE_FAMILLE><PRENOM>Zoë</PRENOM><DATE_NAISS>03/04/2012</DATE_NAISS></ELEVE>
<ELEVE ELEVE_ID="100007"><ID_NATIONAL>123456789AB</ID_NATIONAL><NOM_DE_FAMILLE>Martin</NOM_DE_FAMILLE><PRENOM>Côme</PRENOM><DATE_NAISS>31/02/2012</DATE_NAISS></ELEVE>
<ELEVE ELEVE_ID="100008"><NOM_DE_FAMILLE> </NOM_DE_FAMILLE><PRENOM>Inès</PRENOM><DATE_NAISS>03/04/2012</DATE_NAISS></ELEVE>
<ELEVE><NOM_DE_FAMILLE>Sans</NOM_DE_FAMILLE><PRENOM>Numéro</PRENOM><DATE_NAISS>03/04/2012</DATE_NAISS></ELEVE>
<ELEVE ELEVE_ID="100009"><ID_NATIONAL>223456789AB</ID_NATIONAL><NOM_DE_FAMILLE>Garcia</NOM_DE_FAMILLE><PRENOM>Léa</PRENOM><DATE_NAISS>05/06/2012</DATE_NAISS><DATE_SORTIE>15/10/2026</DATE_SORTIE></ELEVE>
</ELEVES><STRUCTURES>
<STRUCTURES_ELEVE ELEVE_ID="100005"><STRUCTURE><CODE_STRUCTURE>3A</CODE_STRUCTURE><TYPE_STRUCTURE>D</TYPE_STRUCTURE></STRUCTURE></STRUCTURES_ELEVE>
<STRUCTURES_ELEVE ELEVE_ID="100006"><STRUCTURE><CODE_STRUCTURE>3*B</CODE_STRUCTURE><TYPE_STRUCTURE>D</TYPE_STRUCTURE></STRUCTURE></STRUCTURES_ELEVE>
</STRUCTURES></DONNEES></BEE_ELEVES>
"#;

const GUARDIANS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<BEE_RESPONSABLES><PARAMETRES><UAJ>0691234S</UAJ><ANNEE_SCOLAIRE>2026</ANNEE_SCOLAIRE></PARAMETRES>
<DONNEES><PERSONNES>
<PERSONNE PERSONNE_ID="10"><NOM_DE_FAMILLE>Éluard</NOM_DE_FAMILLE><PRENOM>Nathalie</PRENOM></PERSONNE>
<PERSONNE PERSONNE_ID="11"><NOM_DE_FAMILLE>Lefèvre</NOM_DE_FAMILLE><PRENOM></PRENOM></PERSONNE>
<PERSONNE><NOM_DE_FAMILLE>Sans</NOM_DE_FAMILLE><PRENOM>Numéro</PRENOM></PERSONNE>
</PERSONNES><RESPONSABLES>
<RESPONSABLE_ELEVE><ELEVE_ID>100005</ELEVE_ID><PERSONNE_ID>10</PERSONNE_ID><RESP_LEGAL>1</RESP_LEGAL></RESPONSABLE_ELEVE>
<RESPONSABLE_ELEVE><ELEVE_ID>100005</ELEVE_ID><PERSONNE_ID>10</PERSONNE_ID><RESP_LEGAL>1</RESP_LEGAL></RESPONSABLE_ELEVE>
<RESPONSABLE_ELEVE><ELEVE_ID>100099</ELEVE_ID><PERSONNE_ID>10</PERSONNE_ID><RESP_LEGAL>2</RESP_LEGAL></RESPONSABLE_ELEVE>
<RESPONSABLE_ELEVE><ELEVE_ID>100005</ELEVE_ID><PERSONNE_ID>77</PERSONNE_ID><RESP_LEGAL>2</RESP_LEGAL></RESPONSABLE_ELEVE>
<RESPONSABLE_ELEVE><ELEVE_ID>100005</ELEVE_ID><RESP_LEGAL>2</RESP_LEGAL></RESPONSABLE_ELEVE>
</RESPONSABLES></DONNEES></BEE_RESPONSABLES>
"#;

/// The warnings these files must give, people named (a sample: every one is checked for
/// English below).
const EXPECTED: &[&str] = &[
    "l'élève Jules ÉLUARD (n° 100005) n'a pas d'INE",
    "l'élève Zoë Lefèvre (n° 100006) : l'INE « x » n'est pas valide",
    "l'élève Zoë Lefèvre (n° 100006) : la date de sortie « demain » n'est pas valide",
    "l'élève Zoë Lefèvre (n° 100006) : la classe « 3*B » n'est pas valide",
    "l'élève Zoë Lefèvre (n° 100006) figure deux fois",
    "l'élève Côme Martin (n° 100007) est ignoré : date de naissance absente ou invalide",
    "l'élève n° 100008 est ignoré : nom de famille absent",
    "un élève sans numéro (ELEVE_ID) est ignoré",
    "l'élève Léa Garcia (n° 100009) a quitté l'établissement avant d'avoir été importé",
    "le responsable n° 11 est ignoré : prénom absent",
    "le responsable légal Nathalie Éluard (n° 10) figure en double pour l'élève Jules ÉLUARD (n° 100005)",
    "le responsable Nathalie Éluard (n° 10) est lié à un élève inconnu (n° 100099)",
    "l'élève Jules ÉLUARD (n° 100005) est lié à une personne inconnue (n° 77)",
];

/// English words that betray an untranslated message (whole words, any case).
const ENGLISH: &[&str] = &[
    "the",
    "has",
    "no",
    "is",
    "not",
    "of",
    "and",
    "line",
    "file",
    "pupil",
    "pupils",
    "parent",
    "parents",
    "guardian",
    "warning",
    "warnings",
    "error",
    "ignored",
    "skipped",
    "kept",
    "truncated",
    "missing",
    "invalid",
    "unknown",
    "found",
    "expected",
    "record",
    "leaver",
    "deleted",
    "created",
    "updated",
    "unchanged",
    "would",
    "run",
];

fn assert_french(what: &str, text: &str) {
    let english: Vec<&str> = text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| ENGLISH.contains(&w.to_lowercase().as_str()))
        .collect();
    assert!(english.is_empty(), "{what}: English {english:?} in {text}");
}

fn assert_named(what: &str, text: &str) {
    for w in EXPECTED {
        assert!(text.contains(w), "{what}: no « {w} » in {text}");
    }
}

/// The page's text (tags and attributes left out) and its warnings CSV, decoded.
fn page_text_and_csv(html: &str) -> (String, Option<String>) {
    let page = Html::parse_document(html);
    let body = Selector::parse("body").unwrap();
    let text = page
        .select(&body)
        .flat_map(|b| b.text())
        .collect::<Vec<_>>()
        .join(" ");
    let link = Selector::parse("a[download]").unwrap();
    let csv = page
        .select(&link)
        .filter_map(|a| a.value().attr("href"))
        .find_map(|h| h.strip_prefix("data:text/csv;base64,"))
        .map(|b64| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            String::from_utf8(bytes).unwrap()
        });
    (text, csv)
}

fn upload(csrf: &str, pupils: &[u8], guardians: &[u8]) -> Form {
    Form::new()
        .text("csrf_token", csrf.to_owned())
        .text("uai", COLLEGE)
        .text("format", "siecle")
        .part("eleves", Part::bytes(pupils.to_vec()).file_name("e.xml"))
        .part(
            "responsables",
            Part::bytes(guardians.to_vec()).file_name("r.xml"),
        )
}

#[tokio::test]
async fn the_import_page_and_its_warnings_csv_speak_french_and_name_people() {
    let app = TestApp::spawn().await;
    let post = |form: Form| app.client.post(app.url("/import")).multipart(form).send();
    seed_staff(&mut app.conn());
    app.signed_in("principal", PRINCIPAL_PW).await;
    let csrf = app.session_csrf().await;
    let res = post(upload(&csrf, PUPILS.as_bytes(), GUARDIANS.as_bytes()))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (text, csv) = page_text_and_csv(&res.text().await.unwrap());
    assert_named("page", &text);
    assert_french("page", &text);
    let csv = csv.expect("the warnings CSV is offered");
    assert_named("CSV", &csv);
    assert_french("CSV", &csv);
    // A file that cannot be read: its French reason, on the page.
    let cut = &PUPILS.as_bytes()[..PUPILS.len() / 2];
    let res = post(upload(&csrf, cut, b"")).await.unwrap();
    assert_eq!(res.status(), 400);
    let (text, _) = page_text_and_csv(&res.text().await.unwrap());
    assert!(text.contains("le fichier est tronqué"), "{text}");
    assert_french("refused page", &text);
}

#[test]
fn the_import_command_speaks_french_and_names_people() {
    let db = TestDb::migrated();
    let dir = tempfile::tempdir().unwrap();
    let (p, g, cut) = (
        dir.path().join("ElevesSansAdresses.xml"),
        dir.path().join("ResponsablesAvecAdresses.xml"),
        dir.path().join("Tronque.xml"),
    );
    std::fs::write(&p, PUPILS).unwrap();
    std::fs::write(&g, GUARDIANS).unwrap();
    std::fs::write(&cut, &PUPILS.as_bytes()[..PUPILS.len() / 2]).unwrap();
    let key = hex::encode(crate::helpers::TEST_KEY);
    let env = [
        ("EDUCT_ADMIN__DATABASE__URL", db.url.as_str()),
        ("EDUCT_ADMIN__SECRETS__KEY", key.as_str()),
    ];
    let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    let (p, g, cut) = (path(&p), path(&g), path(&cut));
    for dry in [true, false] {
        let mut args = vec!["import", "siecle", "--uai", COLLEGE, &p, &g];
        if dry {
            args.push("--dry-run");
        }
        let (status, out, err) = run_cli(&args, &env);
        assert!(status.success(), "{err}");
        assert_named("command", &out);
        // The temporary folder's path is not ours to translate.
        assert_french("command", &out.replace(&p, "").replace(&g, ""));
    }
    let (status, _, err) = run_cli(&["import", "siecle", "--uai", COLLEGE, &cut], &env);
    assert!(!status.success());
    assert!(err.contains("le fichier est tronqué"), "{err}");
    assert_french("refused command", &err.replace(&cut, ""));
    let missing = format!("{p}.absent");
    let (status, _, err) = run_cli(&["import", "siecle", "--uai", COLLEGE, &missing], &env);
    assert!(
        !status.success() && err.contains("fichier introuvable"),
        "{err}"
    );
    assert_french("missing file", &err.replace(&missing, ""));
    for args in [&["purge"][..], &["purge", "--apply"]] {
        let (status, out, err) = run_cli(args, &env);
        assert!(status.success(), "{err}");
        assert_french("purge", &out);
    }
}
