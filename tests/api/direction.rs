//! Direction staff (BRIEF rule 2): the principal by responsibility and his deputies by
//! function (`FrEduFonctAdm` = `DIR`, on the main attachment `rne` only) hold every right by
//! right; a deputy holds nothing by right on his other attachments. On the real slapd, and on
//! the local directory (`agents … --direction`).

use chrono::Duration;
use diesel::prelude::*;
use educt_admin::config::DirectoryKind;
use educt_admin::db::schema::delegations;
use educt_admin::directory::Directory;
use educt_admin::directory::ldap::LdapDirectory;
use educt_admin::directory::local::{self, Role};
use educt_admin::domain::{AgentUid, Uai};

use crate::helpers::{
    COLLEGE, LYCEE, TestApp, TestDb, add_agent, add_direction, add_establishment, audit_rows,
    seed_staff, test_settings,
};
use crate::ldap_server::LdapServer;
use crate::signin::session_cookie;

const DEPUTY_PW: &str = "Adjointe-2026";

async fn ldap_app(
    server: &LdapServer,
    f: impl FnOnce(&mut educt_admin::config::LdapSettings),
) -> TestApp {
    let db = TestDb::migrated();
    add_establishment(&mut db.connect(), COLLEGE, "Collège Jean Moulin");
    add_establishment(&mut db.connect(), LYCEE, "Lycée Ampère");
    let mut settings = test_settings(&db);
    let mut ldap = server.settings(false);
    f(&mut ldap);
    settings.directory.kind = DirectoryKind::Ldap;
    settings.directory.ldap = Some(ldap);
    TestApp::builder()
        .db(db)
        .settings(|s| *s = settings)
        .start()
        .await
}

async fn status(app: &TestApp, path: &str) -> u16 {
    app.get(path).await.status().as_u16()
}

/// What `client` is answered at `path`: status and body.
async fn answer(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = client.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The status and body of a response.
async fn read(res: reqwest::Response) -> (u16, String) {
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The pages only direction staff open, and one every right opens, on `uai`.
fn direction_pages(uai: &str) -> [String; 4] {
    [
        format!("/delegations?uai={uai}"),
        format!("/journal?uai={uai}"),
        format!("/import?uai={uai}"),
        format!("/depannage/eleve?uai={uai}"),
    ]
}

/// Grants `eleves` on the collège to `grantee`, as the signed-in agent.
async fn grant(app: &TestApp, grantee: &str, motive: &str) -> reqwest::Response {
    let csrf = app.session_csrf().await;
    app.client
        .post(app.url("/delegations"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("uai", COLLEGE),
            ("grantee", grantee),
            ("scope", "eleves"),
            ("valid_from", "2026-11-26"),
            ("valid_until", "2027-08-31"),
            ("motive", motive),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_deputy_head_from_the_directory_holds_every_right_on_her_main_attachment_only() {
    let server = LdapServer::shared();
    let app = ldap_app(&server, |_| {}).await;
    app.signed_in("adurand", DEPUTY_PW).await;
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains("Collège Jean Moulin"), "{home}");
    assert!(home.contains("Direction de l'établissement"), "{home}");
    assert!(
        !home.contains("Lycée Ampère"),
        "her secondary attachment: {home}"
    );
    for path in direction_pages(COLLEGE) {
        assert_eq!(status(&app, &path).await, 200, "{path}");
    }
    for path in direction_pages(LYCEE) {
        assert_eq!(status(&app, &path).await, 404, "{path}");
    }
    // She grants delegations on the collège, to staff who are not direction staff.
    let (_, page) = answer(&app.client, &app, &direction_pages(COLLEGE)[0]).await;
    let offered = |uid: &str| page.contains(&format!(r#"value="{uid}""#));
    assert!(offered("slefevre") && !offered("adurand") && !offered("cperrin"));
    let (granted, body) = read(grant(&app, "slefevre", "Référente du collège").await).await;
    assert_eq!(granted, 303, "{body}");
    // Another member of the direction already holds everything: no delegation for him.
    let (refused, body) = read(grant(&app, "cperrin", "Essai").await).await;
    assert!(refused == 400 && body.contains("fait déjà partie de la direction"));
    let granted_by: Vec<String> = delegations::table
        .select(delegations::granted_by)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(granted_by, ["adurand"]);
}

#[tokio::test]
async fn a_function_that_is_not_a_direction_one_gives_nothing() {
    let server = LdapServer::shared();
    let app = ldap_app(&server, |l| l.direction_functions = vec!["PERDIR".into()]).await;
    app.signed_in("adurand", DEPUTY_PW).await;
    let home = app.get("/").await.text().await.unwrap();
    assert!(home.contains("aucun droit"), "{home}");
    for path in direction_pages(COLLEGE) {
        assert_eq!(status(&app, &path).await, 404, "{path}");
    }
    // The responsibility attribute keeps working whatever the functions.
    let principal = app.new_client();
    app.sign_in_with(&principal, "cperrin", "Principal-2026")
        .await;
    let (opened, _) = answer(&principal, &app, &direction_pages(COLLEGE)[0]).await;
    assert_eq!(opened, 200);
}

/// Two more agents of the académie: direction function but a main attachment he is not
/// attached to; a main attachment but a function that is not a direction one.
const MORE_STAFF: &str = "
dn: uid=bmartin,ou=personnels,dc=ac-test,dc=fr
objectClass: inetOrgPerson
objectClass: FrEduTestAgent
uid: bmartin
cn: Bruno Martin
sn: Martin
userPassword: Adjoint-2026-x
FrEduRne: 0692418D$UAJ$PU$N$T3$LYC$300
FrEduFonctAdm: DIR
rne: 0691234S$UAJ$PU$N$T3$CLG$340

dn: uid=cgarcia,ou=personnels,dc=ac-test,dc=fr
objectClass: inetOrgPerson
objectClass: FrEduTestAgent
uid: cgarcia
cn: Chloé Garcia
sn: Garcia
userPassword: Enseignante-2026
FrEduRne: 0691234S$UAJ$PU$N$T3$CLG$340
FrEduFonctAdm: ENS
rne: 0691234S
";

#[test]
fn a_main_attachment_he_is_not_attached_to_or_another_function_gives_nothing() {
    let server = LdapServer::start_own_with(false, Some(MORE_STAFF));
    let dir = LdapDirectory::new(&server.settings(false)).unwrap();
    let look = |uid: &str| dir.lookup(&AgentUid::parse(uid).unwrap()).unwrap().unwrap();
    let (college, lycee) = (Uai::parse(COLLEGE).unwrap(), Uai::parse(LYCEE).unwrap());
    let moved = look("bmartin");
    assert_eq!(moved.attached, vec![lycee.clone()]);
    assert!(
        moved.responsible_for.is_empty(),
        "main attachment elsewhere"
    );
    let teacher = look("cgarcia");
    assert_eq!(teacher.attached, vec![college.clone()]);
    assert!(
        teacher.responsible_for.is_empty(),
        "ENS is not a direction function"
    );
    assert_eq!(look("adurand").responsible_for, vec![college]);
}

/// `educt-admin agents ARGS`, which must succeed; its output.
fn agents_cli(app: &TestApp, args: &[&str]) -> String {
    let (ok, out, err) = crate::rights_directory::agents_cli(app, args);
    assert!(ok, "{args:?}: {out}{err}");
    out
}

/// The local directory's deputy: attached to both, direction of the collège.
async fn local_app() -> TestApp {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    seed_staff(&mut conn);
    let both = [COLLEGE, LYCEE];
    add_agent(&mut conn, "adjointe", "Anne Durand", DEPUTY_PW, &both, &[]);
    add_direction(&mut conn, "adjointe", COLLEGE);
    app
}

/// Signed in as the local directory's deputy; her journal's path on the collège, which she
/// opens.
async fn deputy_signed_in() -> (TestApp, String) {
    let app = local_app().await;
    app.signed_in("adjointe", DEPUTY_PW).await;
    let journal = format!("/journal?uai={COLLEGE}");
    assert_eq!(status(&app, &journal).await, 200);
    (app, journal)
}

#[tokio::test]
async fn a_deputy_whose_direction_ends_in_the_directory_loses_his_rights_within_a_minute() {
    let (app, journal) = deputy_signed_in().await;
    assert_eq!(status(&app, &format!("/journal?uai={LYCEE}")).await, 404);
    // The direction link goes, as an administrator of the directory would remove it.
    let mut conn = app.conn();
    let id = local::agent_id(&mut conn, "adjointe").unwrap().unwrap();
    let college = Uai::parse(COLLEGE).unwrap();
    assert_eq!(
        local::unlink(&mut conn, id, &college, Role::Direction).unwrap(),
        1
    );
    app.clock.advance(Duration::seconds(59));
    assert_eq!(status(&app, &journal).await, 200, "cached for 60 seconds");
    app.clock.advance(Duration::seconds(1));
    let res = app.get("/").await;
    assert!(
        session_cookie(&res).is_some(),
        "a change of rights rotates the id"
    );
    assert!(res.text().await.unwrap().contains("aucun droit"));
    assert_eq!(status(&app, &journal).await, 404);
    let changed = audit_rows(&mut conn)
        .into_iter()
        .find(|r| r.1 == "agent.rights_changed")
        .and_then(|r| r.3)
        .unwrap_or_default();
    assert!(
        changed.contains(&format!("responsible: {COLLEGE} → -")),
        "{changed}"
    );
}

#[tokio::test]
async fn a_deputy_detached_from_his_school_loses_his_direction_there() {
    let (app, journal) = deputy_signed_in().await;
    let out = agents_cli(&app, &["detach", "adjointe", COLLEGE]);
    assert!(out.contains("no longer attached nor direction"), "{out}");
    app.clock.advance(Duration::seconds(60));
    assert_eq!(status(&app, &journal).await, 404);
    let list = agents_cli(&app, &["list"]);
    let line = format!("adjointe\tAnne Durand\tactive\t{LYCEE}\t\t");
    assert!(list.lines().any(|l| l == line), "{list}");
    // Attached again as direction: every right again.
    agents_cli(&app, &["attach", "adjointe", COLLEGE, "--direction"]);
    app.clock.advance(Duration::seconds(60));
    assert_eq!(status(&app, &journal).await, 200);
}
