//! The route × role matrix, built from the route table (`educt_admin::web::routes::ROUTES`):
//! every establishment-scoped route is called by every kind of agent, and the answer must be
//! the one its declared access gives. Allowed: exactly the row's status (200 or 303, never a
//! 409). Refused: 404 when the agent has nothing on the establishment, 403 otherwise, 303 to
//! the sign-in page when anonymous; nothing revealed, every business table unchanged
//! (`snapshot`), the refusal audited. Every other route is checked for its session
//! requirement. A route added to the table without a row in `rows.rs` fails here.

mod rows;
pub mod snapshot;

use educt_admin::delegation::Scope;
use educt_admin::web::routes::{Access, GateRule, Method, ROUTES, RouteDef};

use crate::delegations::delegate;
use crate::helpers::{
    COLLEGE, LYCEE, PRINCIPAL_PW, TestApp, add_agent, audit_rows, hidden_field, seed_staff, t0,
};
use rows::{Body, Call, Fixtures, Part, Row, row};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Anonymous,
    StaffWithoutDelegation,
    DelegateOfOtherEstablishment,
    DelegateEleves,
    DelegateResponsables,
    ExpiredDelegate,
    RevokedDelegate,
    UpcomingDelegate,
    PrincipalOfOtherEstablishment,
    Principal,
}

const ROLES: [Role; 10] = [
    Role::Anonymous,
    Role::StaffWithoutDelegation,
    Role::DelegateOfOtherEstablishment,
    Role::DelegateEleves,
    Role::DelegateResponsables,
    Role::ExpiredDelegate,
    Role::RevokedDelegate,
    Role::UpcomingDelegate,
    Role::PrincipalOfOtherEstablishment,
    Role::Principal,
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
        Role::UpcomingDelegate => ("futur", "Futur-2026-x"),
        Role::Principal => ("principal", PRINCIPAL_PW),
        Role::PrincipalOfOtherEstablishment => ("principal2", "Proviseur-2026"),
    })
}

/// The answer the rules give `role` on an establishment-scoped route of the collège;
/// `None`: allowed.
fn expected(role: Role, access: Access) -> Option<u16> {
    let holds = |scope: Scope| match access {
        Access::Scope(s) => s == scope,
        _ => false,
    };
    Some(match role {
        Role::Anonymous => 303,
        Role::Principal => return None,
        Role::DelegateEleves if holds(Scope::Eleves) => return None,
        Role::DelegateResponsables if holds(Scope::Responsables) => return None,
        // Something on the collège, but not this.
        Role::DelegateEleves | Role::DelegateResponsables => 403,
        // Nothing (active) on the collège: its existence is not revealed.
        Role::StaffWithoutDelegation
        | Role::DelegateOfOtherEstablishment
        | Role::ExpiredDelegate
        | Role::RevokedDelegate
        | Role::UpcomingDelegate
        | Role::PrincipalOfOtherEstablishment => 404,
    })
}

fn name(def: &RouteDef) -> String {
    format!("{} {}", def.method.as_str(), def.path)
}

/// Every establishment-scoped route of the table with its row; fails, naming them, when
/// some have none.
fn matrix_rows() -> Vec<(&'static RouteDef, Row)> {
    let mut missing = Vec::new();
    let mut out = Vec::new();
    for def in ROUTES.iter().filter(|r| r.access.is_establishment_scoped()) {
        match row(def.method, def.path) {
            Some(r) => out.push((def, r)),
            None => missing.push(name(def)),
        }
    }
    assert!(
        missing.is_empty(),
        "no route × role matrix row for {}: add one to `row()` in tests/api/matrix/rows.rs",
        missing.join(", ")
    );
    out
}

#[test]
fn every_establishment_route_has_a_matrix_row() {
    let rows = matrix_rows();
    assert!(rows.len() >= 33, "the table lost routes: {}", rows.len());
}

async fn signed_in_client(app: &TestApp, role: Role) -> reqwest::Client {
    let client = app.new_client();
    if let Some((uid, pw)) = credentials(role) {
        let res = app.sign_in_with(&client, uid, pw).await;
        assert_eq!(res.status(), 303, "{role:?}");
    }
    client
}

/// The CSRF token a call's form carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// The session's, read from the home page.
    Session,
    /// One of the right length that is not the session's.
    Forged,
}

async fn send(
    app: &TestApp,
    client: &reqwest::Client,
    method: Method,
    call: Call,
    token: Token,
) -> reqwest::Response {
    let url = app.url(&call.path);
    if method == Method::Get {
        return client.get(url).send().await.unwrap();
    }
    let home = client.get(app.url("/")).send().await.unwrap();
    let home = home.text().await.unwrap();
    let csrf = if token == Token::Forged {
        "forged-token-forged-token-forged-token-x".to_owned()
    } else if home.contains("csrf_token") {
        hidden_field(&home, "csrf_token")
    } else {
        String::new()
    };
    let request = client.post(url);
    let request = match call.body {
        Body::Empty => request.form(&[("csrf_token", csrf)]),
        Body::Form(fields) => {
            let mut form = vec![("csrf_token", csrf)];
            form.extend(fields);
            request.form(&form)
        }
        Body::Multipart(fields) => {
            let mut form = reqwest::multipart::Form::new().text("csrf_token", csrf);
            for (k, part) in fields {
                form = match part {
                    Part::Text(v) => form.text(k, v),
                    Part::File(file, bytes) => {
                        form.part(k, reqwest::multipart::Part::bytes(bytes).file_name(file))
                    }
                };
            }
            request.multipart(form)
        }
    };
    request.send().await.unwrap()
}

/// The cast: the collège's principal and the lycée's, a delegate of each scope on the
/// collège, one on the lycée, an expired, a revoked and an upcoming delegation, a teacher of
/// the collège without any. Returns the referent's delegation.
fn seed_cast(app: &TestApp) -> i64 {
    {
        let mut conn = app.conn();
        seed_staff(&mut conn);
        for (uid, name, pw, uai) in [
            ("cpe", "Inès Benali", "Cpe-2026-cpe", COLLEGE),
            ("lyc", "Paul Martin", "Lycee-2026-lyc", LYCEE),
            ("expire", "Ancien Délégué", "Expire-2026-x", COLLEGE),
            ("revoque", "Délégué Révoqué", "Revoque-2026-x", COLLEGE),
            ("futur", "Future Déléguée", "Futur-2026-x", COLLEGE),
        ] {
            add_agent(&mut conn, uid, name, pw, &[uai], &[]);
        }
    }
    let d = delegate(
        app,
        "referent",
        COLLEGE,
        Scope::Eleves,
        "2026-11-01",
        "2027-06-30",
    );
    for (uid, uai, scope, from, until) in [
        (
            "cpe",
            COLLEGE,
            Scope::Responsables,
            "2026-11-01",
            "2027-06-30",
        ),
        ("lyc", LYCEE, Scope::Eleves, "2026-11-01", "2027-06-30"),
        ("expire", COLLEGE, Scope::Eleves, "2026-09-01", "2026-11-25"),
        ("futur", COLLEGE, Scope::Eleves, "2026-11-27", "2027-06-30"),
    ] {
        delegate(app, uid, uai, scope, from, until);
    }
    let revoked = delegate(
        app,
        "revoque",
        COLLEGE,
        Scope::Eleves,
        "2026-09-01",
        "2027-06-30",
    );
    educt_admin::delegation::store::revoke(&mut app.conn(), revoked, "principal", t0()).unwrap();
    d
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_rules_say() {
    let rows = matrix_rows();
    // The parents' gate is open here (administrative network): this matrix is about rights;
    // `parents::a_principal_still_needs_the_gate_on_every_parents_route` closes it.
    let app = TestApp::on_admin_network().await;
    let d = seed_cast(&app);
    let mut fx = Fixtures::new(&app, d);
    let mut failures = Vec::new();
    for role in ROLES {
        let client = signed_in_client(&app, role).await;
        fx.caller = credentials(role).map_or("principal", |c| c.0);
        for (def, row) in &rows {
            let want = (expected(role, def.access), Token::Session);
            failures.extend(check(&app, &client, role, def, row, &mut fx, want).await);
        }
    }
    // A batch is its creator's alone: a delegate of its scope is refused the principal's.
    fx.caller = "principal";
    for role in [Role::DelegateEleves, Role::DelegateResponsables] {
        let client = signed_in_client(&app, role).await;
        for (def, row) in rows.iter().filter(|(d, _)| d.path.contains("/lots/{id}")) {
            let want = (
                Some(expected(role, def.access).unwrap_or(403)),
                Token::Session,
            );
            failures.extend(check(&app, &client, role, def, row, &mut fx, want).await);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Calls one row as `role` with the form's `token` and returns what went against the rules:
/// `want` is the refusal expected, `None` when allowed.
async fn check(
    app: &TestApp,
    client: &reqwest::Client,
    role: Role,
    def: &RouteDef,
    row: &Row,
    fx: &mut Fixtures<'_>,
    (want, token): (Option<u16>, Token),
) -> Vec<String> {
    let mut failures = Vec::new();
    let call = (row.call)(fx);
    let what = format!("{role:?} {} {}", def.method.as_str(), call.path);
    let before = snapshot::snapshot(&mut app.conn());
    let audit_before = audit_rows(&mut app.conn()).len();
    let res = send(app, client, def.method, call, token).await;
    let status = res.status().as_u16();
    let Some(want) = want else {
        if status != row.ok {
            let body = res.text().await.unwrap_or_default();
            failures.push(format!(
                "{what}: allowed, answered {status} instead of {}: {body:.300}",
                row.ok
            ));
        }
        settle_batches(app).await;
        return failures;
    };
    if status != want {
        failures.push(format!("{what}: answered {status} instead of {want}"));
    }
    if want == 303 {
        let location = res.headers().get("location").map(|l| l.to_str().unwrap());
        if location.map(sign_in_page) != Some("/educt-admin-comptes/connexion") {
            failures.push(format!(
                "{what}: sent to {location:?}, not the sign-in page"
            ));
        }
    }
    let body = res.text().await.unwrap();
    if body.contains("Collège Jean Moulin") && want != 403 {
        failures.push(format!("{what}: the establishment is revealed"));
    }
    let changed = snapshot::changes(&before, &snapshot::snapshot(&mut app.conn()));
    if !changed.is_empty() {
        failures.push(format!("{what}: refused but changed {changed:?}"));
    }
    if role != Role::Anonymous && audit_rows(&mut app.conn()).len() <= audit_before {
        failures.push(format!("{what}: refusal not audited"));
    }
    failures
}

/// The principal, on the seeded cast, calls every matrix row `pick` selects with the form's
/// `token`, and each must be refused (403, nothing changed, audited); `least` rows at least.
/// Returns what went against that, his client, and the fixtures.
async fn principal_refused<'a>(
    app: &'a TestApp,
    pick: fn(&RouteDef) -> bool,
    token: Token,
    least: usize,
) -> (Vec<String>, reqwest::Client, Fixtures<'a>) {
    let d = seed_cast(app);
    let mut fx = Fixtures::new(app, d);
    fx.caller = "principal";
    let client = signed_in_client(app, Role::Principal).await;
    let rows: Vec<_> = matrix_rows()
        .into_iter()
        .filter(|(def, _)| pick(def))
        .collect();
    assert!(rows.len() >= least, "the table lost routes: {}", rows.len());
    let mut failures = Vec::new();
    for (def, row) in &rows {
        let want = (Some(403), token);
        failures.extend(check(app, &client, Role::Principal, def, row, &mut fx, want).await);
    }
    (failures, client, fx)
}

/// BRIEF rule 12, for every POST of the table by construction: the principal, whom the rules
/// allow everything on the collège (the parents' gate open), is refused a form whose CSRF
/// token is not his session's: 403, nothing changed, the refusal audited.
#[tokio::test]
async fn every_post_needs_the_sessions_csrf_token() {
    let app = TestApp::on_admin_network().await;
    let posts = |def: &RouteDef| def.method == Method::Post;
    let (mut failures, client, _) = principal_refused(&app, posts, Token::Forged, 15).await;
    // The forms about no establishment: the session stays, nothing is enrolled.
    for def in ROUTES
        .iter()
        .filter(|r| r.method == Method::Post && r.access == Access::SignedIn)
    {
        let res = client
            .post(app.url(def.path))
            .form(&[("csrf_token", "forged-token-forged-token-forged-token-x")])
            .send()
            .await
            .unwrap();
        if res.status() != 403 {
            failures.push(format!("{}: answered {}", name(def), res.status()));
        }
    }
    let home = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 200, "a forged sign-out ended the session");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// BRIEF rule 5, for every route the table gates: the principal outside the administrative
/// network and without a TOTP check is refused (403), nothing changed, the refusal audited,
/// nothing about any parent shown.
#[tokio::test]
async fn every_gated_route_needs_the_parents_gate() {
    let app = TestApp::spawn().await;
    let gated = |def: &RouteDef| def.gate == GateRule::Parents;
    let (failures, client, mut fx) = principal_refused(&app, gated, Token::Session, 12).await;
    let fetch = |path: String| client.get(app.url(&path)).send();
    // The closed gate's page names no parent (the fixtures' parent is Nathalie Lefèvre).
    let page = fetch(format!("/depannage/responsable/{}", fx.parent))
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    assert!(!page.text().await.unwrap().contains("Nathalie"));
    // A parents' batch needs the gate through the pupils' paths too: the gate follows the
    // record, not the path.
    let batch = fx.fresh_batch(Scope::Responsables);
    let page = fetch(format!("/depannage/eleve/lots/{batch}"))
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    assert!(
        page.text().await.unwrap().contains("Saisir un code"),
        "the gate's page"
    );
    let home = fetch("/".into()).await.unwrap();
    let csrf = hidden_field(&home.text().await.unwrap(), "csrf_token");
    let resumed = client
        .post(app.url(&format!("/depannage/eleve/lots/{batch}/reprise")))
        .form(&[("csrf_token", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 403);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The routes about no establishment: anonymous visitors reach the public ones and are sent
/// to the sign-in page by all the others.
#[tokio::test]
async fn routes_about_no_establishment_need_a_session_unless_public() {
    let app = TestApp::spawn().await;
    let client = app.new_client();
    let mut failures = Vec::new();
    for def in ROUTES
        .iter()
        .filter(|r| !r.access.is_establishment_scoped())
    {
        let path = def.path.replace("{file}", "style.css");
        let url = app.url(&path);
        let res = match def.method {
            Method::Get => client.get(url).send().await.unwrap(),
            Method::Post => client
                .post(url)
                .form(&[("csrf_token", "")])
                .send()
                .await
                .unwrap(),
        };
        let to_sign_in = res.status() == 303
            && res
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(sign_in_page)
                == Some("/educt-admin-comptes/connexion");
        if to_sign_in == (def.access == Access::Public) {
            failures.push(format!("{}: anonymous got {}", name(def), res.status()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A location without its query (the sign-in page carries the page asked for in `suite`).
fn sign_in_page(location: &str) -> &str {
    location.split('?').next().unwrap_or(location)
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
