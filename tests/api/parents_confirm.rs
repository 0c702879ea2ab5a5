//! A parent's reset and deactivation ask for confirmation, like a pupil's reset; a parent
//! activated with FranceConnect has no password to reset, and is told so.

use diesel::prelude::*;
use educt_admin::db::schema::parents;

use crate::helpers::{PRINCIPAL_PW, TestApp, hidden_field, inside_admin_network};
use crate::parents::seed_family;

async fn app() -> (TestApp, i64) {
    let app = TestApp::builder()
        .settings(inside_admin_network)
        .start()
        .await;
    let family = seed_family(&app);
    app.signed_in("principal", PRINCIPAL_PW).await;
    (app, family.college_only)
}

fn state_of(app: &TestApp, id: i64) -> String {
    parents::table
        .find(id)
        .select(parents::state)
        .first(&mut app.conn())
        .unwrap()
}

#[tokio::test]
async fn a_parents_reset_and_deactivation_are_confirmed_first() {
    let (app, id) = app().await;
    let record = app.get(&format!("/depannage/responsable/{id}")).await;
    let record = record.text().await.unwrap();
    for change in ["reinitialisation", "desactivation"] {
        let link = format!("/educt-admin-comptes/depannage/responsable/{id}/{change}?uai=");
        assert!(record.contains(&link), "{change}: {record}");
    }
    let before = state_of(&app, id);
    for (change, words) in [
        (
            "reinitialisation",
            "Un nouveau mot de passe provisoire va être créé pour",
        ),
        ("desactivation", "va être désactivé"),
    ] {
        let res = app
            .get(&format!("/depannage/responsable/{id}/{change}"))
            .await;
        assert_eq!(res.status(), 200, "{change}");
        let page = res.text().await.unwrap();
        assert!(page.contains(words), "{change}: {page}");
        let action = format!("action=\"/educt-admin-comptes/depannage/responsable/{id}/{change}\"");
        assert!(page.contains(&action), "{change}");
        assert!(page.contains("Annuler"));
    }
    assert_eq!(
        state_of(&app, id),
        before,
        "a confirmation page changes nothing"
    );
    assert_eq!(
        app.get(&format!("/depannage/responsable/{id}/autre"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_parent_activated_with_franceconnect_has_no_password_to_reset() {
    let (app, id) = app().await;
    diesel::update(parents::table.find(id))
        .set((
            parents::state.eq("active"),
            parents::activation_path.eq("franceconnect"),
        ))
        .execute(&mut app.conn())
        .unwrap();
    let record = app.get(&format!("/depannage/responsable/{id}")).await;
    let record = record.text().await.unwrap();
    assert!(
        record.contains("activé son compte avec FranceConnect"),
        "{record}"
    );
    assert!(!record.contains(&format!("/depannage/responsable/{id}/reinitialisation")));
    let confirm = app
        .get(&format!("/depannage/responsable/{id}/reinitialisation"))
        .await;
    let confirm = confirm.text().await.unwrap();
    assert!(
        confirm.contains("FranceConnect")
            && !confirm.contains(
                "<form method=\"post\" action=\"/educt-admin-comptes/depannage/responsable"
            )
    );
    let csrf = hidden_field(&record, "csrf_token");
    let res = app
        .client
        .post(app.url(&format!("/depannage/responsable/{id}/reinitialisation")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("FranceConnect"));
    let last = crate::helpers::audit_rows(&mut app.conn()).pop().unwrap();
    assert_eq!(last.2, "refused");
    assert_eq!(state_of(&app, id), "active");
}
