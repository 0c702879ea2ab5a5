//! The route × role matrix: every establishment-scoped route, every kind of agent. Refusals
//! are 404 when the agent has nothing on the establishment, 403 otherwise, 303 to the
//! sign-in page when anonymous; each leaves the business tables as they were and writes an
//! audit row. Later issues add their routes to `routes()`.

use educt_admin::delegation::Scope;

use crate::delegations::{delegate, delegation_rows};
use crate::helpers::{
    COLLEGE, LYCEE, PRINCIPAL_PW, TestApp, add_agent, audit_rows, hidden_field, seed_staff,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Anonymous,
    StaffWithoutDelegation,
    DelegateOfOtherEstablishment,
    DelegateEleves,
    DelegateResponsables,
    ExpiredDelegate,
    RevokedDelegate,
    Principal,
    PrincipalOfOtherEstablishment,
}

const ROLES: [Role; 9] = [
    Role::Anonymous,
    Role::StaffWithoutDelegation,
    Role::DelegateOfOtherEstablishment,
    Role::DelegateEleves,
    Role::DelegateResponsables,
    Role::ExpiredDelegate,
    Role::RevokedDelegate,
    Role::Principal,
    Role::PrincipalOfOtherEstablishment,
];

fn credentials(role: Role) -> Option<(&'static str, &'static str)> {
    Some(match role {
        Role::Anonymous => return None,
        Role::StaffWithoutDelegation => ("enseignant", "Enseignant-2026"),
        Role::DelegateOfOtherEstablishment => ("lyc", "Lycee-2026-lyc"),
        Role::DelegateEleves => ("referent", "Referent-2026"),
        Role::DelegateResponsables => ("cpe", "Cpe-2026-cpe"),
        Role::ExpiredDelegate => ("expire", "Expire-2026-x"),
        Role::RevokedDelegate => ("revoque", "Revoque-2026-x"),
        Role::Principal => ("principal", PRINCIPAL_PW),
        Role::PrincipalOfOtherEstablishment => ("principal2", "Proviseur-2026"),
    })
}

/// Who may use a route: principals only, or delegates of a scope too.
#[derive(Debug, Clone, Copy)]
enum Allowed {
    PrincipalOnly,
}

struct Route {
    method: &'static str,
    path: String,
    form: Vec<(&'static str, String)>,
    allowed: Allowed,
    /// Status for an allowed agent.
    ok: u16,
}

fn get(path: String, allowed: Allowed) -> Route {
    Route {
        method: "GET",
        path,
        form: vec![],
        allowed,
        ok: 200,
    }
}

fn post(path: String, form: Vec<(&'static str, String)>, allowed: Allowed) -> Route {
    Route {
        method: "POST",
        path,
        form,
        allowed,
        ok: 303,
    }
}

/// Every establishment-scoped route, on the collège. State-changing ones come last so the
/// principal's own run can follow the list in order.
fn routes(d: i64) -> Vec<Route> {
    use Allowed::*;
    vec![
        get(format!("/delegations?uai={COLLEGE}"), PrincipalOnly),
        get(format!("/delegations/{d}/revocation"), PrincipalOnly),
        get(format!("/journal?uai={COLLEGE}"), PrincipalOnly),
        get(format!("/journal.csv?uai={COLLEGE}"), PrincipalOnly),
        post(
            "/delegations".into(),
            vec![
                ("uai", COLLEGE.into()),
                ("grantee", "enseignant".into()),
                ("scope", "eleves".into()),
                ("valid_from", "2026-11-26".into()),
                ("valid_until", "2027-06-30".into()),
                ("motive", "Matrice".into()),
            ],
            PrincipalOnly,
        ),
        post(
            format!("/delegations/{d}/prolongation"),
            vec![("valid_until", "2027-08-31".into())],
            PrincipalOnly,
        ),
        post(
            format!("/delegations/{d}/revocation"),
            vec![],
            PrincipalOnly,
        ),
    ]
}

fn expected(role: Role, route: &Route) -> u16 {
    match (role, route.allowed) {
        (Role::Anonymous, _) => 303,
        (Role::Principal, _) => route.ok,
        (Role::DelegateEleves | Role::DelegateResponsables, Allowed::PrincipalOnly) => 403,
        _ => 404,
    }
}

async fn signed_in_client(app: &TestApp, role: Role) -> reqwest::Client {
    let client = app.new_client();
    if let Some((uid, pw)) = credentials(role) {
        let res = app.sign_in_with(&client, uid, pw).await;
        assert_eq!(res.status(), 303, "{role:?}");
    }
    client
}

async fn call(app: &TestApp, client: &reqwest::Client, route: &Route) -> reqwest::Response {
    match route.method {
        "GET" => client.get(app.url(&route.path)).send().await.unwrap(),
        _ => {
            let home = client
                .get(app.url("/"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let csrf = if home.contains("csrf_token") {
                hidden_field(&home, "csrf_token")
            } else {
                String::new()
            };
            let mut form: Vec<(&str, String)> = vec![("csrf_token", csrf)];
            form.extend(route.form.iter().cloned());
            client
                .post(app.url(&route.path))
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    }
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_rules_say() {
    let app = TestApp::spawn().await;
    {
        let mut conn = app.conn();
        seed_staff(&mut conn);
        add_agent(
            &mut conn,
            "cpe",
            "Inès Benali",
            "Cpe-2026-cpe",
            &[COLLEGE],
            &[],
        );
        add_agent(
            &mut conn,
            "lyc",
            "Paul Martin",
            "Lycee-2026-lyc",
            &[LYCEE],
            &[],
        );
        add_agent(
            &mut conn,
            "expire",
            "Ancien Délégué",
            "Expire-2026-x",
            &[COLLEGE],
            &[],
        );
        add_agent(
            &mut conn,
            "revoque",
            "Délégué Révoqué",
            "Revoque-2026-x",
            &[COLLEGE],
            &[],
        );
    }
    let d = delegate(
        &app,
        "referent",
        COLLEGE,
        Scope::Eleves,
        "2026-11-01",
        "2027-06-30",
    );
    delegate(
        &app,
        "cpe",
        COLLEGE,
        Scope::Responsables,
        "2026-11-01",
        "2027-06-30",
    );
    delegate(
        &app,
        "lyc",
        LYCEE,
        Scope::Eleves,
        "2026-11-01",
        "2027-06-30",
    );
    delegate(
        &app,
        "expire",
        COLLEGE,
        Scope::Eleves,
        "2026-09-01",
        "2026-11-25",
    );
    let revoked = delegate(
        &app,
        "revoque",
        COLLEGE,
        Scope::Eleves,
        "2026-09-01",
        "2027-06-30",
    );
    educt_admin::delegation::store::revoke(
        &mut app.conn(),
        revoked,
        "principal",
        crate::helpers::t0(),
    )
    .unwrap();

    let routes = routes(d);
    for role in ROLES.into_iter().filter(|r| *r != Role::Principal) {
        let client = signed_in_client(&app, role).await;
        for route in &routes {
            let before = delegation_rows(&app);
            let audit_before = audit_rows(&mut app.conn()).len();
            let res = call(&app, &client, route).await;
            let want = expected(role, route);
            assert_eq!(
                res.status().as_u16(),
                want,
                "{role:?} {} {}",
                route.method,
                route.path
            );
            if want == 303 {
                assert_eq!(
                    res.headers()["location"],
                    "/educt-admin-comptes/connexion",
                    "{role:?}"
                );
            }
            let body = res.text().await.unwrap();
            assert!(
                !body.contains("Collège Jean Moulin") || want == 403,
                "{role:?} {}: nothing revealed",
                route.path
            );
            assert_eq!(
                delegation_rows(&app),
                before,
                "{role:?} {} {}: business tables unchanged",
                route.method,
                route.path
            );
            if role != Role::Anonymous {
                assert!(
                    audit_rows(&mut app.conn()).len() > audit_before,
                    "{role:?} {}: refusal audited",
                    route.path
                );
            }
        }
    }
    // The principal, in order: reads, then grant, extend, revoke.
    let client = signed_in_client(&app, Role::Principal).await;
    for route in &routes {
        let res = call(&app, &client, route).await;
        assert_eq!(
            res.status().as_u16(),
            route.ok,
            "principal {} {}",
            route.method,
            route.path
        );
    }
}
