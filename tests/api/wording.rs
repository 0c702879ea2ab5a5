//! Wording a user reads (issue 14): people by their names, never their uids; the parents'
//! class form speaks of parents; the authenticator's code by its name; an upcoming delegation
//! gives no link yet.

use chrono::{Duration, NaiveDate};
use educt_admin::delegation::Scope;
use educt_admin::delegation::store::{self, NewDelegation};
use educt_admin::domain::Uai;

use crate::helpers::{COLLEGE, PRINCIPAL_PW, Page, TestApp, add_agent, add_pupil, seed_staff, t0};

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A delegation of the collège to `grantee`, granted by `by` (a stored uid).
fn granted(app: &TestApp, grantee: &str, scope: Scope, from: &str, by: &str) -> i64 {
    store::insert(
        &mut app.conn(),
        &NewDelegation {
            uai: &Uai::parse(COLLEGE).unwrap(),
            grantee_uid: grantee,
            grantee_name: "Sophie Lefèvre",
            scope,
            valid_from: day(from),
            valid_until: day("2027-08-31"),
            motive: "ENT",
            granted_by: by,
        },
        t0() - Duration::days(30),
    )
    .unwrap()
}

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> String {
    let res = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

#[tokio::test]
async fn the_delegations_page_names_who_granted_and_revoked_never_their_uids() {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    seed_staff(&mut conn);
    // A deputy of the collège: direction staff, who may grant too.
    let deputy = ("adjoint", "Paul Mercier", "Adjoint-2026-x");
    add_agent(
        &mut conn,
        deputy.0,
        deputy.1,
        deputy.2,
        &[COLLEGE],
        &[COLLEGE],
    );
    granted(&app, "referent", Scope::Eleves, "2026-11-01", "principal");
    let by_deputy = granted(
        &app,
        "referent",
        Scope::Responsables,
        "2026-11-01",
        "adjoint",
    );
    granted(
        &app,
        "enseignant",
        Scope::Eleves,
        "2026-11-01",
        "ancien.chef",
    );
    store::revoke(&mut app.conn(), by_deputy, "principal", t0()).unwrap();
    app.signed_in("principal", PRINCIPAL_PW).await;
    let html = page(&app.client, &app, &format!("/delegations?uai={COLLEGE}")).await;
    let cells = Page::parse(&html).texts("td");
    for name in ["Claire Perrin", "Paul Mercier", "un autre personnel"] {
        assert!(cells.iter().any(|c| c == name), "{name} in {cells:?}");
    }
    for uid in ["principal", "adjoint", "ancien.chef"] {
        assert!(
            !cells.iter().any(|c| c == uid),
            "the uid {uid} shown: {cells:?}"
        );
    }
}

#[tokio::test]
async fn an_upcoming_delegation_shows_when_it_starts_and_no_link() {
    let app = TestApp::spawn().await;
    seed_staff(&mut app.conn());
    granted(&app, "referent", Scope::Eleves, "2027-01-05", "principal");
    let referent = app.new_client();
    app.sign_in_with(&referent, "referent", "Referent-2026")
        .await;
    let html = page(&referent, &app, "/").await;
    let home = Page::parse(&html);
    let cells = home.texts("td");
    assert!(
        cells.iter().any(|c| c == "à partir du 05/01/2027"),
        "{cells:?}"
    );
    assert!(
        cells
            .iter()
            .any(|c| c == "Délégation accordée par Claire Perrin"),
        "{cells:?}"
    );
    assert!(home.texts("td a").is_empty(), "no link yet: {cells:?}");
    // From the day it starts, the links are there.
    app.clock.advance(Duration::days(41));
    let later = app.new_client();
    app.sign_in_with(&later, "referent", "Referent-2026").await;
    let html = page(&later, &app, "/").await;
    assert_eq!(Page::parse(&html).texts("td a"), ["Élèves"]);
}

#[tokio::test]
async fn the_parents_gate_names_the_authenticators_code() {
    let app = TestApp::spawn().await;
    seed_staff(&mut app.conn());
    app.signed_in("principal", PRINCIPAL_PW).await;
    let html = app.get("/").await.text().await.unwrap();
    let status = Page::parse(&html).texts("p.message[role=status]").join(" ");
    assert!(
        status.contains("Saisissez le code de l'application d'authentification")
            && status.contains("Saisir le code de l'application d'authentification"),
        "{status}"
    );
    assert!(!html.contains("TOTP"), "{status}");
}

#[tokio::test]
async fn the_parents_class_form_speaks_of_parents() {
    let app = TestApp::on_admin_network().await;
    let mut conn = app.conn();
    seed_staff(&mut conn);
    // A class whose pupil has no parent account: nothing to notify.
    add_pupil(&mut conn, COLLEGE, "Lina", "Haddad", "6B", "non_notifie");
    app.signed_in("principal", PRINCIPAL_PW).await;
    let form = format!("/depannage/responsable/classe?uai={COLLEGE}");
    let fields = [("division", "6B"), ("etat", "non_notifie")];
    let res = app.submit(&form, &fields).await;
    assert_eq!(res.status(), 400);
    let alert = Page::parse(&res.text().await.unwrap())
        .texts("[role=alert]")
        .join(" ");
    assert!(
        alert.contains(
            "Aucun responsable des élèves de cette classe n'a de compte dans les états choisis"
        ),
        "{alert}"
    );
}
