//! A signed-in browser per role on the usual cast (`seed_staff`), so a test asks for a role
//! instead of building the client, the delegation and the sign-in by hand.

use chrono::Duration;
use educt_admin::delegation::Scope;
use educt_admin::delegation::store::{self, NewDelegation};
use educt_admin::domain::Uai;

use super::{COLLEGE, PRINCIPAL_PW, Page, TestApp, t0};

/// Who signs in, as seen from the collège (`COLLEGE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `principal`: every right on the collège by his responsibility.
    Principal,
    /// `referent`, with a delegation of the `eleves` scope on the collège.
    PupilsDelegate,
    /// `enseignant`, with a delegation of the `responsables` scope on the collège.
    ParentsDelegate,
    /// `principal2`: signed in, principal of the lycée, nothing on the collège.
    Stranger,
}

impl Role {
    pub fn uid(self) -> &'static str {
        match self {
            Role::Principal => "principal",
            Role::PupilsDelegate => "referent",
            Role::ParentsDelegate => "enseignant",
            Role::Stranger => "principal2",
        }
    }

    pub fn password(self) -> &'static str {
        match self {
            Role::Principal => PRINCIPAL_PW,
            Role::PupilsDelegate => "Referent-2026",
            Role::ParentsDelegate => "Enseignant-2026",
            Role::Stranger => "Proviseur-2026",
        }
    }

    fn delegated(self) -> Option<Scope> {
        match self {
            Role::PupilsDelegate => Some(Scope::Eleves),
            Role::ParentsDelegate => Some(Scope::Responsables),
            Role::Principal | Role::Stranger => None,
        }
    }
}

/// A browser signed in as a role, with its session's CSRF token.
pub struct RoleClient {
    pub role: Role,
    pub client: reqwest::Client,
    pub csrf: String,
}

impl RoleClient {
    pub async fn get(&self, app: &TestApp, path: &str) -> reqwest::Response {
        self.client.get(app.url(path)).send().await.unwrap()
    }

    /// The page at `path`, parsed.
    pub async fn page(&self, app: &TestApp, path: &str) -> Page {
        Page::parse(&self.get(app, path).await.text().await.unwrap())
    }
}

impl TestApp {
    /// A new browser signed in as `role` (the cast must be seeded); a delegate's delegation is
    /// granted first through the delegations' store, valid the whole school year around `t0`.
    pub async fn client_as(&self, role: Role) -> RoleClient {
        if let Some(scope) = role.delegated() {
            let day = |s: &str| s.parse().unwrap();
            store::insert(
                &mut self.conn(),
                &NewDelegation {
                    uai: &Uai::parse(COLLEGE).unwrap(),
                    grantee_uid: role.uid(),
                    grantee_name: role.uid(),
                    scope,
                    valid_from: day("2026-09-01"),
                    valid_until: day("2027-07-07"),
                    motive: "fixture",
                    granted_by: "principal",
                },
                t0() - Duration::days(30),
            )
            .unwrap();
        }
        let client = self.new_client();
        let res = self
            .sign_in_with(&client, role.uid(), role.password())
            .await;
        assert_eq!(res.status(), 303, "sign-in as {role:?} failed");
        let home = client.get(self.url("/")).send().await.unwrap();
        let csrf = Page::parse(&home.text().await.unwrap()).input_value("csrf_token");
        RoleClient { role, client, csrf }
    }
}

#[tokio::test]
async fn each_role_signs_in_and_sees_the_college_only_with_rights_there() {
    let app = TestApp::spawn().await;
    super::seed_staff(&mut app.conn());
    for role in [
        Role::Principal,
        Role::PupilsDelegate,
        Role::ParentsDelegate,
        Role::Stranger,
    ] {
        let browser = app.client_as(role).await;
        assert_eq!(browser.role, role);
        assert_eq!(browser.get(&app, "/").await.status(), 200);
        let home = browser.page(&app, "/").await.texts("main").join(" ");
        assert_eq!(
            home.contains("Collège Jean Moulin"),
            role != Role::Stranger,
            "{role:?}: {home}"
        );
    }
}
