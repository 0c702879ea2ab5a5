//! Parents on a par with pupils (issue 14): the pupil's page lists his parents for an agent
//! who may see them, behind the parents' gate (BRIEF rule 5); the parent's page shows his
//! dates and his recent history.

use chrono::{TimeZone, Utc};
use diesel::prelude::*;
use educt_admin::clock::Clock;
use educt_admin::db::schema::parents;

use crate::helpers::{
    COLLEGE, PRINCIPAL_PW, Page, TestApp, add_parent, enrol_totp, hidden_field,
    inside_admin_network,
};
use crate::parents::{Family, app_with, code, submit_code};

/// Zoë's second parent, of legal rank 2, notified.
fn second_parent(app: &TestApp, family: &Family) -> i64 {
    add_parent(
        &mut app.conn(),
        "Paul",
        "Lefèvre",
        None,
        None,
        "notifie",
        &[(family.zoe, 2)],
    )
}

async fn page_of(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, String) {
    let res = client.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The pupil `id`'s page as `client` sees it.
async fn pupil_page(app: &TestApp, client: &reqwest::Client, id: i64) -> (u16, String) {
    page_of(app, client, &format!("/depannage/eleve/{id}")).await
}

#[tokio::test]
async fn a_principal_sees_the_pupils_parents_with_links_to_their_pages() {
    let (app, family) = app_with(inside_admin_network).await;
    let paul = second_parent(&app, &family);
    app.signed_in("principal", PRINCIPAL_PW).await;
    let (status, body) = pupil_page(&app, &app.client, family.zoe).await;
    assert_eq!(status, 200);
    let page = Page::parse(&body);
    let rows = page.texts("main table tbody tr");
    assert!(
        rows[0].contains("Nathalie Lefèvre")
            && rows[0].contains("responsable légal 1")
            && rows[0].contains("Activé"),
        "{rows:?}"
    );
    assert!(
        rows[1].contains("Paul Lefèvre")
            && rows[1].contains("responsable légal 2")
            && rows[1].contains("Notifié"),
        "{rows:?}"
    );
    let links = page.links("main table tbody");
    let expected = [
        (
            "Nathalie Lefèvre".to_owned(),
            format!("/depannage/responsable/{}?uai={COLLEGE}", family.shared),
        ),
        (
            "Paul Lefèvre".to_owned(),
            format!("/depannage/responsable/{paul}?uai={COLLEGE}"),
        ),
    ];
    assert_eq!(links, expected);
    for (name, href) in links {
        let (status, parent) = page_of(&app, &app.client, &href).await;
        assert_eq!(status, 200, "{href}");
        let parent = Page::parse(&parent);
        assert_eq!(parent.texts("h1"), [name]);
        assert!(
            parent
                .texts("main li")
                .iter()
                .any(|c| c.contains("Zoë Lefèvre"))
        );
    }
    // Another pupil: his own parent only.
    let (_, tom) = pupil_page(&app, &app.client, family.tom).await;
    assert!(tom.contains("Karim Garcia") && !tom.contains("Nathalie"));
}

#[tokio::test]
async fn a_delegate_of_pupils_only_sees_nothing_of_the_parents() {
    let (app, family) = app_with(inside_admin_network).await;
    app.signed_in("referent", "Referent-2026").await;
    let (status, body) = pupil_page(&app, &app.client, family.zoe).await;
    assert_eq!(status, 200);
    assert!(body.contains("Zoë"));
    assert!(
        !body.contains("Nathalie") && !body.contains("Responsables") && !body.contains("/otp"),
        "nothing about the parents, not even the way to the gate"
    );
    assert!(!body.contains("/depannage/responsable"));
}

#[tokio::test]
async fn outside_the_gate_the_parents_names_wait_for_the_totp_check() {
    let (app, family) = app_with(|_| {}).await;
    let secret = enrol_totp(&mut app.conn(), "principal");
    let client = app.new_client();
    app.sign_in_with(&client, "principal", PRINCIPAL_PW).await;
    let pupil = format!("/depannage/eleve/{}", family.zoe);
    let (status, body) = page_of(&app, &client, &pupil).await;
    assert_eq!(status, 200, "the pupil's page itself needs no gate");
    assert!(body.contains("Zoë"));
    assert!(!body.contains("Nathalie") && !body.contains("/depannage/responsable/"));
    let links = Page::parse(&body).links("main p.message");
    let suite = format!(
        "%2Feduct-admin-comptes%2Fdepannage%2Feleve%2F{}",
        family.zoe
    );
    assert_eq!(
        links,
        [("Saisir un code".to_owned(), format!("/otp?suite={suite}"))]
    );
    let res = submit_code(&app, &client, &code(&secret, "principal", app.clock.now())).await;
    assert_eq!(res.status(), 303);
    let (_, body) = page_of(&app, &client, &pupil).await;
    assert!(body.contains("Nathalie Lefèvre") && body.contains("responsable légal 1"));
}

#[tokio::test]
async fn the_parents_page_shows_his_dates_and_his_history_after_a_reset() {
    let (app, family) = app_with(inside_admin_network).await;
    // Late on the 25th in UTC is the 26th in Paris.
    let late = Utc
        .with_ymd_and_hms(2026, 11, 25, 23, 30, 0)
        .unwrap()
        .naive_utc();
    diesel::update(parents::table.find(family.shared))
        .set((
            parents::activated_at.eq(Some(late)),
            parents::password_changed_at.eq(Some(late)),
        ))
        .execute(&mut app.conn())
        .unwrap();
    app.signed_in("principal", PRINCIPAL_PW).await;
    let path = format!("/depannage/responsable/{}", family.shared);
    let (_, before) = page_of(&app, &app.client, &path).await;
    let before = Page::parse(&before);
    assert_eq!(before.definition("Créé le").as_deref(), Some("26/11/2026"));
    assert_eq!(before.definition("Notifié le").as_deref(), Some("—"));
    assert_eq!(
        before.definition("Activé le").as_deref(),
        Some("26/11/2026")
    );
    assert_eq!(
        before.definition("Mot de passe changé le").as_deref(),
        Some("26/11/2026")
    );
    assert!(
        before
            .texts("main")
            .concat()
            .contains("Aucune action enregistrée.")
    );
    let csrf = hidden_field(&app.get(&path).await.text().await.unwrap(), "csrf_token");
    let reset = app
        .client
        .post(app.url(&format!("{path}/reinitialisation")))
        .form(&[("csrf_token", csrf.as_str()), ("uai", COLLEGE)])
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    let (_, after) = page_of(&app, &app.client, &format!("{path}?uai={COLLEGE}")).await;
    let after = Page::parse(&after);
    assert_eq!(
        after.definition("Notifié le").as_deref(),
        Some("26/11/2026")
    );
    assert_eq!(
        after.texts("h2").last().map(String::as_str),
        Some("Dernières actions sur ce compte")
    );
    let history = after.texts("main table tbody tr");
    assert_eq!(history.len(), 1, "{history:?}");
    assert!(
        history[0].contains("Claire Perrin")
            && history[0].contains("Réinitialisation du mot de passe")
            && history[0].contains("réinitialisation individuelle"),
        "{history:?}"
    );
}
