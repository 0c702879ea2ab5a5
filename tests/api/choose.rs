//! A page about one establishment reached without naming one goes to the agent's only
//! establishment where he may use it, or shows a choice; never a 400 about a UAI's format.

use educt_admin::delegation::Scope;

use crate::delegations::{app, delegate};
use crate::helpers::{COLLEGE, LYCEE, PRINCIPAL_PW};

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_principal_goes_to_his_only_establishment() {
    let app = app().await;
    app.signed_in("principal", PRINCIPAL_PW).await;
    for (path, to) in [
        ("/journal", format!("/journal?uai={COLLEGE}")),
        (
            "/journal?du=2026-11-01",
            format!("/journal?uai={COLLEGE}&du=2026-11-01"),
        ),
        ("/import", format!("/import?uai={COLLEGE}")),
        ("/transferts", format!("/transferts?uai={COLLEGE}")),
        (
            "/depannage/eleve/statistiques",
            format!("/depannage/eleve/statistiques?uai={COLLEGE}"),
        ),
        (
            "/depannage/eleve/classe",
            format!("/depannage/eleve/classe?uai={COLLEGE}"),
        ),
        (
            "/depannage/responsable",
            format!("/depannage/responsable?uai={COLLEGE}"),
        ),
        ("/journal?uai=", format!("/journal?uai={COLLEGE}")),
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 303, "{path}");
        assert_eq!(
            location(&res),
            format!("/educt-admin-comptes{to}"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_delegate_of_two_establishments_chooses_and_one_without_rights_finds_nothing() {
    let app = app().await;
    for uai in [COLLEGE, LYCEE] {
        delegate(&app, "cpe", uai, Scope::Eleves, "2026-11-01", "2027-06-30");
    }
    app.signed_in("cpe", "Cpe-2026-cpe").await;
    let res = app.get("/depannage/eleve/statistiques").await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Choisir un établissement"), "{page}");
    for uai in [COLLEGE, LYCEE] {
        let link = format!("/educt-admin-comptes/depannage/eleve/statistiques?uai={uai}");
        assert!(page.contains(&link), "{uai}: {page}");
    }
    // The journal is the principal's: a delegate has no establishment for it.
    assert_eq!(app.get("/journal").await.status(), 404);
    let other = crate::helpers::TestApp::spawn().await;
    crate::helpers::seed_staff(&mut other.conn());
    other.signed_in("enseignant", "Enseignant-2026").await;
    assert_eq!(
        other.get("/depannage/eleve/statistiques").await.status(),
        404
    );
}
