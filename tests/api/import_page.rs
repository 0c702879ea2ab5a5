//! The principal's import page (multipart upload, same engine as the command).

use diesel::prelude::*;
use educt_admin::db::schema::pupils;
use educt_admin::import::synthetic::{Synthetic, guardians_xml, pupils_xml};
use reqwest::multipart::{Form, Part};

use crate::delegations::delegate;
use crate::helpers::{COLLEGE, PRINCIPAL_PW, TestApp, seed_staff};

fn files(uai: &str) -> (Vec<u8>, Vec<u8>) {
    let sy = Synthetic {
        uai: uai.into(),
        year: "2026".into(),
        pupils: 30,
        latin9: true,
        ids_as_elements: false,
        leavers: vec![],
        first: 0,
    };
    (pupils_xml(&sy), guardians_xml(&sy))
}

fn form(csrf: &str, pupils: Vec<u8>, guardians: Vec<u8>, dry_run: bool) -> Form {
    let mut f = Form::new()
        .text("csrf_token", csrf.to_owned())
        .text("uai", COLLEGE)
        .text("format", "siecle")
        .part(
            "eleves",
            Part::bytes(pupils).file_name("ElevesSansAdresses.xml"),
        )
        .part(
            "responsables",
            Part::bytes(guardians).file_name("ResponsablesAvecAdresses.xml"),
        );
    if dry_run {
        f = f.text("dry_run", "1");
    }
    f
}

fn count(app: &TestApp) -> i64 {
    pupils::table.count().get_result(&mut app.conn()).unwrap()
}

#[tokio::test]
async fn a_principal_imports_from_the_page_and_nobody_else_does() {
    let app = TestApp::spawn().await;
    seed_staff(&mut app.conn());
    delegate(
        &app,
        "referent",
        COLLEGE,
        educt_admin::delegation::Scope::Eleves,
        "2026-11-01",
        "2027-08-31",
    );
    app.signed_in("principal", PRINCIPAL_PW).await;
    let csrf = app.session_csrf().await;
    assert_eq!(
        app.get(&format!("/import?uai={COLLEGE}")).await.status(),
        200
    );
    let (p, g) = files(COLLEGE);
    // A dry run changes nothing.
    let res = app
        .client
        .post(app.url("/import"))
        .multipart(form(&csrf, p.clone(), g.clone(), true))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Simulation"));
    assert_eq!(count(&app), 0);
    let res = app
        .client
        .post(app.url("/import"))
        .multipart(form(&csrf, p.clone(), g.clone(), false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("30 créés") && body.contains("Télécharger les avertissements"),
        "{body:.2000}"
    );
    assert!(body.contains("data:text/csv;base64,"));
    assert_eq!(count(&app), 30);
    // A file of another establishment: refused, nothing changed.
    let (other, _) = files("0692418D");
    let res = app
        .client
        .post(app.url("/import"))
        .multipart(form(&csrf, other, Vec::new(), false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("pas de 0691234S"));
    // More than 20 MB: refused.
    let huge = vec![b' '; 20 * 1024 * 1024 + 1];
    let res = app
        .client
        .post(app.url("/import"))
        .multipart(form(&csrf, huge, Vec::new(), false))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(count(&app), 30);
    // A delegate: 403; the lycée's principal: 404; without the token: 403.
    let referent = app.new_client();
    app.sign_in_with(&referent, "referent", "Referent-2026")
        .await;
    let page = referent
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rcsrf = crate::helpers::hidden_field(&page, "csrf_token");
    assert_eq!(
        referent
            .post(app.url("/import"))
            .multipart(form(&rcsrf, p.clone(), g.clone(), false))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let lycee = app.new_client();
    app.sign_in_with(&lycee, "principal2", "Proviseur-2026")
        .await;
    assert_eq!(
        lycee
            .get(app.url(&format!("/import?uai={COLLEGE}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        app.client
            .post(app.url("/import"))
            .multipart(form("nope", p, g, false))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(count(&app), 30);
}
