//! DelegCE over HTTP: grant, revoke, extend, their refusals, and what delegates see.

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use educt_admin::db::schema::delegations;
use educt_admin::delegation::Scope;
use educt_admin::delegation::store::{self, NewDelegation};
use educt_admin::domain::Uai;

use crate::helpers::{
    COLLEGE, LYCEE, PRINCIPAL_PW, TestApp, add_agent, audit_rows, hidden_field, seed_staff, t0,
};

pub async fn app() -> TestApp {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    seed_staff(&mut conn);
    add_agent(
        &mut conn,
        "cpe",
        "Inès Benali",
        "Cpe-2026-cpe",
        &[COLLEGE, LYCEE],
        &[],
    );
    app
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Inserts a delegation directly (fixtures).
pub fn delegate(app: &TestApp, uid: &str, uai: &str, scope: Scope, from: &str, until: &str) -> i64 {
    let uai = Uai::parse(uai).unwrap();
    store::insert(
        &mut app.conn(),
        &NewDelegation {
            uai: &uai,
            grantee_uid: uid,
            grantee_name: uid,
            scope,
            valid_from: day(from),
            valid_until: day(until),
            motive: "fixture",
            granted_by: "principal",
        },
        t0() - Duration::days(30),
    )
    .unwrap()
}

pub fn delegation_rows(app: &TestApp) -> Vec<String> {
    type Row = (
        i64,
        String,
        String,
        String,
        NaiveDate,
        NaiveDate,
        String,
        Option<String>,
        Option<chrono::NaiveDateTime>,
    );
    delegations::table
        .order(delegations::id)
        .select((
            delegations::id,
            delegations::uai,
            delegations::grantee_uid,
            delegations::scope,
            delegations::valid_from,
            delegations::valid_until,
            delegations::motive,
            delegations::revoked_by,
            delegations::revoked_at,
        ))
        .load::<Row>(&mut app.conn())
        .unwrap()
        .into_iter()
        .map(|r| format!("{r:?}"))
        .collect()
}

async fn grant(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    let csrf = app.session_csrf().await;
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    app.client
        .post(app.url("/delegations"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

const GOOD: &[(&str, &str)] = &[
    ("uai", COLLEGE),
    ("grantee", "referent"),
    ("scope", "eleves"),
    ("valid_from", "2026-11-26"),
    ("valid_until", "2027-08-31"),
    ("motive", "Référente numérique du collège"),
];

fn with(over: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<(&str, &str)> = GOOD
        .iter()
        .filter(|(k, _)| !over.iter().any(|(o, _)| o == k))
        .copied()
        .collect();
    v.extend(over.iter().filter(|(_, val)| !val.is_empty()).copied());
    v
}

#[tokio::test]
async fn a_principal_grants_and_the_delegate_sees_it_until_revoked() {
    let app = app().await;
    app.signed_in("principal", PRINCIPAL_PW).await;
    let page = app
        .get(&format!("/delegations?uai={COLLEGE}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"value="2026-11-26""#),
        "default first day: today"
    );
    assert!(
        page.contains(r#"value="2027-08-31""#),
        "default last day: the coming 31 August"
    );
    assert!(
        page.contains("Sophie Lefèvre") && !page.contains(r#"value="principal""#),
        "staff, without the principal"
    );
    let res = grant(&app, GOOD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(delegation_rows(&app).len(), 1);

    let referent = app.new_client();
    app.sign_in_with(&referent, "referent", "Referent-2026")
        .await;
    let home = referent
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("Collège Jean Moulin")
            && home.contains("31/08/2027")
            && home.contains("accordée par Claire Perrin")
    );

    // Both scopes at once give two records.
    let res = grant(&app, &with(&[("grantee", "cpe"), ("scope", "eleves")])).await;
    assert_eq!(res.status(), 303);
    let csrf = app.session_csrf().await;
    let res = app
        .client
        .post(app.url("/delegations"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("uai", COLLEGE),
            ("grantee", "enseignant"),
            ("scope", "eleves"),
            ("scope", "responsables"),
            ("valid_from", "2026-11-27"),
            ("valid_until", "2027-01-31"),
            ("motive", "Remplacement"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(delegation_rows(&app).len(), 4);

    // Revocation: confirmation, then the delegate's very next request is refused.
    let confirm = app.get("/delegations/1/revocation").await;
    assert_eq!(confirm.status(), 200);
    let token = hidden_field(&confirm.text().await.unwrap(), "csrf_token");
    let res = app
        .client
        .post(app.url("/delegations/1/revocation"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let home = referent
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("aucun droit"),
        "revocation applies to the next request"
    );
    let again = app
        .client
        .post(app.url("/delegations/1/revocation"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);

    let actions: Vec<(String, String)> = audit_rows(&mut app.conn())
        .into_iter()
        .map(|r| (r.1, r.2))
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| a.0 == "delegation.grant" && a.1 == "success")
            .count(),
        4
    );
    assert!(actions.contains(&("delegation.revoke".into(), "success".into())));
    assert!(actions.contains(&("delegation.revoke".into(), "refused".into())));
}

#[tokio::test]
async fn every_grant_refusal_explains_itself_and_changes_nothing() {
    let app = app().await;
    delegate(
        &app,
        "cpe",
        COLLEGE,
        Scope::Responsables,
        "2026-11-01",
        "2027-06-30",
    );
    app.signed_in("principal", PRINCIPAL_PW).await;
    let before = delegation_rows(&app);
    let long_motive = "m".repeat(501);
    type Case = (Vec<(&'static str, &'static str)>, u16, &'static str);
    let cases: Vec<Case> = vec![
        (
            with(&[("valid_until", "2026-11-26")]),
            400,
            "postérieure à la date de début",
        ),
        (
            with(&[("valid_from", "2026-11-20"), ("valid_until", "2026-11-25")]),
            400,
            "déjà passée",
        ),
        (
            with(&[("valid_from", "2026-11-20")]),
            400,
            "antérieure à aujourd'hui",
        ),
        (with(&[("valid_until", "2027-11-27")]), 400, "au plus un an"),
        (with(&[("valid_until", "31/08/2027")]), 400, "date valide"),
        (
            with(&[("grantee", "principal")]),
            400,
            "vous déléguer vos propres droits",
        ),
        (
            with(&[("grantee", "principal2")]),
            400,
            "pas rattaché à cet établissement",
        ),
        (with(&[("grantee", "nobody")]), 400, "inconnu de l'annuaire"),
        (with(&[("grantee", "*")]), 400, "Choisissez le personnel"),
        (with(&[("scope", "")]), 400, "Cochez au moins un droit"),
        (with(&[("scope", "tout")]), 400, "Droit délégué inconnu"),
        (with(&[("motive", "   ")]), 400, "Indiquez le motif"),
        (
            with(&[("motive", Box::leak(long_motive.into_boxed_str()))]),
            400,
            "500 caractères",
        ),
        (
            with(&[("grantee", "cpe"), ("scope", "responsables")]),
            409,
            "Vous pouvez la prolonger",
        ),
    ];
    for (form, status, message) in &cases {
        let res = grant(&app, form).await;
        assert_eq!(res.status().as_u16(), *status, "{message}");
        let body = res.text().await.unwrap();
        assert!(body.contains(message), "{message}: {body}");
        assert!(body.contains(r#"name="motive""#), "the form comes back");
    }
    assert_eq!(delegation_rows(&app), before, "nothing changed");
    let refused = audit_rows(&mut app.conn())
        .into_iter()
        .filter(|r| r.1 == "delegation.grant" && r.2 == "refused")
        .count();
    assert_eq!(refused, cases.len());

    // A principal cannot grant on an establishment he is staff of only… nor on another one.
    let res = grant(&app, &with(&[("uai", LYCEE), ("grantee", "cpe")])).await;
    assert_eq!(res.status(), 404);
    let res = grant(&app, &with(&[("uai", "0691234T")])).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("UAI"));
    assert_eq!(delegation_rows(&app), before);
}

#[tokio::test]
async fn the_conflict_offers_an_extension_that_works() {
    let app = app().await;
    let id = delegate(
        &app,
        "cpe",
        COLLEGE,
        Scope::Responsables,
        "2026-11-01",
        "2027-06-30",
    );
    app.signed_in("principal", PRINCIPAL_PW).await;
    let res = grant(
        &app,
        &with(&[("grantee", "cpe"), ("scope", "responsables")]),
    )
    .await;
    assert_eq!(res.status(), 409);
    let body = res.text().await.unwrap();
    assert!(body.contains(&format!("/delegations/{id}/prolongation")));
    let csrf = app.session_csrf().await;
    let extend = |until: &'static str| {
        let csrf = csrf.clone();
        let app = &app;
        async move {
            app.client
                .post(app.url(&format!("/delegations/{id}/prolongation")))
                .form(&[("csrf_token", csrf.as_str()), ("valid_until", until)])
                .send()
                .await
                .unwrap()
        }
    };
    for (until, message) in [
        ("2027-05-31", "postérieure à la date de fin actuelle"),
        ("2027-11-27", "au plus un an"),
        ("demain", "date valide"),
    ] {
        let res = extend(until).await;
        assert_eq!(res.status(), 400, "{until}");
        assert!(res.text().await.unwrap().contains(message));
    }
    assert_eq!(extend("2027-08-31").await.status(), 303);
    let until: NaiveDate = delegations::table
        .filter(delegations::id.eq(id))
        .select(delegations::valid_until)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(until, day("2027-08-31"));
    let rows = audit_rows(&mut app.conn());
    assert!(
        rows.iter()
            .any(|r| r.1 == "delegation.extend" && r.2 == "success")
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.1 == "delegation.extend" && r.2 == "refused")
            .count(),
        3
    );
}

#[tokio::test]
async fn a_signed_in_delegate_loses_access_on_the_next_request_after_expiry() {
    let app = app().await;
    delegate(
        &app,
        "referent",
        COLLEGE,
        Scope::Eleves,
        "2026-11-01",
        "2026-11-26",
    );
    app.signed_in("referent", "Referent-2026").await;
    assert!(
        app.get("/")
            .await
            .text()
            .await
            .unwrap()
            .contains("26/11/2026")
    );
    // 2026-11-26 23:59:59 in Paris is 22:59:59 UTC (signed in again: the first session idled out).
    app.clock
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 26, 22, 59, 59).unwrap());
    app.signed_in("referent", "Referent-2026").await;
    assert!(
        app.get("/")
            .await
            .text()
            .await
            .unwrap()
            .contains("26/11/2026")
    );
    app.clock.advance(Duration::seconds(1));
    assert!(
        app.get("/")
            .await
            .text()
            .await
            .unwrap()
            .contains("aucun droit")
    );
}
