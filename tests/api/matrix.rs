//! The route × role matrix: every establishment-scoped route, every kind of agent. Refusals
//! are 404 when the agent has nothing on the establishment, 403 otherwise, 303 to the
//! sign-in page when anonymous; each leaves the business tables as they were and writes an
//! audit row. Later issues add their routes to `routes()`.

use educt_admin::delegation::Scope;

use crate::delegations::{delegate, delegation_rows};
use crate::helpers::{
    COLLEGE, LYCEE, PRINCIPAL_PW, TestApp, add_agent, add_pupil, audit_rows, hidden_field,
    seed_staff, t0,
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

/// Who may use a route: principals only, or delegates of a scope too (`Own`: the
/// delegate's own batch only — the matrix's batch is the principal's).
#[derive(Debug, Clone, Copy)]
enum Allowed {
    PrincipalOnly,
    Scope(Scope),
    OwnBatch,
}

struct Route {
    method: &'static str,
    path: String,
    form: Vec<(&'static str, String)>,
    allowed: Allowed,
    /// Status for an allowed agent (303: a redirect after a change).
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
fn routes(d: i64, pupil: i64, other_pupil: i64, batch: i64, parent: i64) -> Vec<Route> {
    use Allowed::*;
    let eleves = Scope(educt_admin::delegation::Scope::Eleves);
    let responsables = Scope(educt_admin::delegation::Scope::Responsables);
    vec![
        get(
            format!("/depannage/responsable?uai={COLLEGE}&q=a"),
            responsables,
        ),
        get(format!("/depannage/responsable/{parent}"), responsables),
        get(
            format!("/depannage/responsable/classe?uai={COLLEGE}"),
            responsables,
        ),
        Route {
            ok: 200,
            ..post(
                format!("/depannage/responsable/{parent}/coordonnees"),
                vec![],
                responsables,
            )
        },
        Route {
            ok: 200,
            ..post(
                format!("/depannage/responsable/{parent}/reinitialisation"),
                vec![],
                responsables,
            )
        },
        post(
            format!("/depannage/responsable/{parent}/desactivation"),
            vec![],
            responsables,
        ),
        post(
            format!("/depannage/responsable/{parent}/reactivation"),
            vec![],
            responsables,
        ),
        get(format!("/depannage/eleve?uai={COLLEGE}&q=a"), eleves),
        get(format!("/depannage/eleve/{pupil}"), eleves),
        get(format!("/depannage/eleve/{pupil}/reinitialisation"), eleves),
        get(format!("/depannage/eleve/classe?uai={COLLEGE}"), eleves),
        get(
            format!("/depannage/eleve/statistiques?uai={COLLEGE}"),
            eleves,
        ),
        get(
            format!("/depannage/eleve/export.csv?uai={COLLEGE}&division=3A"),
            eleves,
        ),
        get(format!("/depannage/eleve/lots/{batch}"), OwnBatch),
        get(format!("/depannage/eleve/lots/{batch}/courriers"), OwnBatch),
        Route {
            ok: 200,
            ..post(
                format!("/depannage/eleve/{pupil}/reinitialisation"),
                vec![],
                eleves,
            )
        },
        post(
            format!("/depannage/eleve/{other_pupil}/desactivation"),
            vec![],
            eleves,
        ),
        post(
            format!("/depannage/eleve/{other_pupil}/reactivation"),
            vec![],
            eleves,
        ),
        post(
            "/depannage/eleve/classe".into(),
            vec![
                ("uai", COLLEGE.into()),
                ("division", "3A".into()),
                ("etat", "notifie".into()),
                ("etat", "non_notifie".into()),
                ("renotifier", "oui".into()),
                ("cle", "RANDOM".into()),
            ],
            eleves,
        ),
        post(
            format!("/depannage/eleve/lots/{batch}/reprise"),
            vec![],
            OwnBatch,
        ),
        post(
            format!("/depannage/eleve/lots/{batch}/impression"),
            vec![],
            OwnBatch,
        ),
        post(
            format!("/depannage/eleve/lots/{batch}/abandon"),
            vec![],
            OwnBatch,
        ),
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

/// The expected status; `None`: allowed (the route's own answer, or 409 when an earlier
/// allowed agent already changed the record).
fn expected(role: Role, route: &Route) -> Option<u16> {
    use educt_admin::delegation::Scope;
    Some(match (role, route.allowed) {
        (Role::Anonymous, _) => 303,
        (Role::Principal, _) => return None,
        (Role::DelegateEleves, Allowed::Scope(Scope::Eleves)) => return None,
        (Role::DelegateResponsables, Allowed::Scope(Scope::Responsables)) => return None,
        (Role::DelegateEleves | Role::DelegateResponsables, _) => 403,
        _ => 404,
    })
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
            for (k, v) in &route.form {
                let v = if v == "RANDOM" {
                    educt_admin::auth::random_token(24).unwrap()
                } else {
                    v.clone()
                };
                form.push((k, v));
            }
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
    // The parents' gate is open here (administrative network): this matrix is about rights;
    // `parents::a_principal_still_needs_the_gate_on_every_parents_route` closes it.
    let app = TestApp::builder()
        .settings(|s| s.network.admin_networks = vec!["127.0.0.0/8".parse().unwrap()])
        .start()
        .await;
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

    let (pupil, other_pupil) = {
        let mut conn = app.conn();
        (
            add_pupil(&mut conn, COLLEGE, "Zoë", "Lefèvre", "3A", "non_notifie"),
            add_pupil(&mut conn, COLLEGE, "Noé", "Da Silva", "3A", "active"),
        )
    };
    let batch = {
        let uai = educt_admin::domain::Uai::parse(COLLEGE).unwrap();
        let new = educt_admin::accounts::batch::NewBatch {
            idempotency_key: "matrix-batch-key-0001",
            kind: "eleves",
            uai: &uai,
            division: "3A",
            states: &[educt_admin::accounts::AccountState::NonNotifie],
            created_by: "principal",
            gate: None,
            accounts: &[],
        };
        educt_admin::accounts::batch::create(&mut app.conn(), &new, t0())
            .unwrap()
            .id()
    };
    let parent = crate::helpers::add_parent(
        &mut app.conn(),
        "Nathalie",
        "Lefèvre",
        Some("n@exemple.fr"),
        None,
        "active",
        &[(pupil, 1)],
    );
    let routes = routes(d, pupil, other_pupil, batch, parent);
    // Refusals first (and the eleves delegate's successes), then the principal's run.
    for role in ROLES
        .into_iter()
        .filter(|r| *r != Role::Principal)
        .chain([Role::Principal])
    {
        let client = signed_in_client(&app, role).await;
        for route in &routes {
            let before = business_rows(&app);
            let audit_before = audit_rows(&mut app.conn()).len();
            let res = call(&app, &client, route).await;
            let status = res.status().as_u16();
            let what = format!("{role:?} {} {}", route.method, route.path);
            let Some(want) = expected(role, route) else {
                assert!(
                    status == route.ok || status == 409,
                    "{what}: allowed, got {status}"
                );
                settle_batches(&app).await;
                continue;
            };
            assert_eq!(status, want, "{what}");
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
                "{what}: nothing revealed"
            );
            assert!(
                business_rows(&app) == before,
                "{what}: business tables unchanged"
            );
            if role != Role::Anonymous {
                assert!(
                    audit_rows(&mut app.conn()).len() > audit_before,
                    "{what}: refusal audited"
                );
            }
        }
    }
}

/// Waits until the batches started by allowed calls have done their work.
async fn settle_batches(app: &TestApp) {
    use diesel::prelude::*;
    use educt_admin::db::schema::{batch_items, batches};
    for _ in 0..500 {
        let mut conn = app.conn();
        let pending: i64 = batch_items::table
            .filter(batch_items::status.eq("pending"))
            .count()
            .get_result(&mut conn)
            .unwrap();
        let leased: i64 = batches::table
            .filter(batches::lease_owner.is_not_null())
            .count()
            .get_result(&mut conn)
            .unwrap();
        if pending == 0 && leased == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("batches never settled");
}

/// The business tables: delegations, pupils, batches.
fn business_rows(app: &TestApp) -> Vec<String> {
    use diesel::prelude::*;
    use educt_admin::db::schema::{batch_items, batches, pupils};
    let mut conn = app.conn();
    let mut rows = delegation_rows(app);
    let p: Vec<(i64, String, Option<String>, Option<String>)> = pupils::table
        .order(pupils::id)
        .select((
            pupils::id,
            pupils::state,
            pupils::password_hash,
            pupils::previous_state,
        ))
        .load(&mut conn)
        .unwrap();
    rows.extend(p.into_iter().map(|r| format!("{r:?}")));
    let b: Vec<(
        i64,
        Option<chrono::NaiveDateTime>,
        Option<chrono::NaiveDateTime>,
    )> = batches::table
        .order(batches::id)
        .select((batches::id, batches::printed_at, batches::wiped_at))
        .load(&mut conn)
        .unwrap();
    rows.extend(b.into_iter().map(|r| format!("{r:?}")));
    let i: i64 = batch_items::table.count().get_result(&mut conn).unwrap();
    rows.push(format!("items {i}"));
    rows
}
