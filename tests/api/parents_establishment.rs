//! A parent with a child in the collège and one in the lycée: every view, letter and batch
//! about him shows only the children of the establishment the agent acts on (issue 10,
//! hole 4; BRIEF rule 4). There is no parents' CSV export.

use diesel::prelude::*;
use educt_admin::db::schema::parents as parents_table;

use crate::helpers::{
    COLLEGE, LYCEE, PRINCIPAL_PW, TestApp, TestDb, add_agent, hidden_field, test_settings,
};
use crate::parents::{Family, seed_family};

const CITE_PW: &str = "Cite-scolaire-2026";

/// The family fixture with the parents' gate open from loopback, plus the principal of a
/// cité scolaire (both establishments), who may see both children.
async fn app() -> (TestApp, Family) {
    let db = TestDb::migrated();
    let mut s = test_settings(&db);
    s.network.admin_networks = vec!["127.0.0.0/8".parse().unwrap()];
    let app = TestApp::builder().db(db).settings(|x| *x = s).start().await;
    let family = seed_family(&app);
    add_agent(
        &mut app.conn(),
        "cite",
        "Agnès Morel",
        CITE_PW,
        &[COLLEGE, LYCEE],
        &[COLLEGE, LYCEE],
    );
    (app, family)
}

async fn text(res: reqwest::Response) -> (u16, String) {
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn the_parent_page_shows_only_the_children_of_the_establishment_acted_on() {
    let (app, family) = app().await;
    app.signed_in("cite", CITE_PW).await;
    let path = format!("/depannage/responsable/{}", family.shared);
    let (status, page) = text(app.get(&path).await).await;
    assert_eq!(status, 200);
    assert!(page.contains("Zoë") && !page.contains("Léo"), "{page}");
    assert!(
        page.contains(&format!("?uai={LYCEE}")),
        "a link to the same parent seen from the lycée"
    );
    let (status, page) = text(app.get(&format!("{path}?uai={LYCEE}")).await).await;
    assert_eq!(status, 200);
    assert!(page.contains("Léo") && !page.contains("Zoë"), "{page}");
    // An establishment that is not one of his children's: nothing to show.
    for other in ["0693333Y", "nope"] {
        assert_eq!(
            app.get(&format!("{path}?uai={other}")).await.status(),
            404,
            "{other}"
        );
    }
    // The collège's principal cannot ask for the lycée's side.
    let college = app.new_client();
    app.sign_in_with(&college, "principal", PRINCIPAL_PW).await;
    let (status, page) = text(
        college
            .get(app.url(&format!("{path}?uai={LYCEE}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert!(!page.contains("Léo") && !page.contains("Zoë"));
}

#[tokio::test]
async fn the_contacts_page_shows_only_the_children_of_the_establishment_acted_on() {
    let (app, family) = app().await;
    app.signed_in("cite", CITE_PW).await;
    let csrf = app.session_csrf().await;
    let url = app.url(&format!(
        "/depannage/responsable/{}/coordonnees",
        family.shared
    ));
    let (status, page) = text(
        app.client
            .post(&url)
            .form(&[("csrf_token", csrf.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("nathalie.lefevre@exemple.fr"));
    assert!(page.contains("Zoë") && !page.contains("Léo"), "{page}");
    let (status, page) = text(
        app.client
            .post(&url)
            .form(&[("csrf_token", csrf.as_str()), ("uai", LYCEE)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("Léo") && !page.contains("Zoë"), "{page}");
}

#[tokio::test]
async fn the_reset_letter_names_only_the_children_of_the_establishment_acted_on() {
    let (app, family) = app().await;
    app.signed_in("cite", CITE_PW).await;
    let page = app
        .get(&format!(
            "/depannage/responsable/{}?uai={LYCEE}",
            family.shared
        ))
        .await
        .text()
        .await
        .unwrap();
    // The page's own reset form carries the establishment it shows.
    let csrf = hidden_field(&page, "csrf_token");
    assert_eq!(hidden_field(&page, "uai"), LYCEE);
    let (status, letter) = text(
        app.client
            .post(app.url(&format!(
                "/depannage/responsable/{}/reinitialisation",
                family.shared
            )))
            .form(&[("csrf_token", csrf.as_str()), ("uai", LYCEE)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        letter.contains("responsable de Léo Lefèvre") && !letter.contains("Zoë"),
        "{letter}"
    );
    assert!(letter.contains("Lycée Ampère"));
}

#[tokio::test]
async fn the_search_lists_only_the_children_of_the_searched_establishment() {
    let (app, family) = app().await;
    app.signed_in("cite", CITE_PW).await;
    let (status, page) = text(
        app.get(&format!("/depannage/responsable?uai={COLLEGE}&q=lefevre"))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("Nathalie"));
    assert!(page.contains("Zoë") && !page.contains("Léo"), "{page}");
    let (status, page) = text(
        app.get(&format!("/depannage/responsable?uai={LYCEE}&q=lefevre"))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("Léo") && !page.contains("Zoë"), "{page}");
    // The result leads to the parent seen from the searched establishment.
    assert!(page.contains(&format!(
        "/depannage/responsable/{}?uai={LYCEE}",
        family.shared
    )));
}

#[tokio::test]
async fn a_class_batch_letter_names_only_the_children_of_the_batch_establishment() {
    let (app, family) = app().await;
    diesel::update(parents_table::table.filter(parents_table::id.eq(family.shared)))
        .set(parents_table::state.eq("non_notifie"))
        .execute(&mut app.conn())
        .unwrap();
    // The collège's own principal, who has nothing on the lycée.
    app.signed_in("principal", PRINCIPAL_PW).await;
    let page = app
        .get(&format!("/depannage/responsable/classe?uai={COLLEGE}"))
        .await
        .text()
        .await
        .unwrap();
    let (csrf, key) = (
        hidden_field(&page, "csrf_token"),
        hidden_field(&page, "cle"),
    );
    let res = app
        .client
        .post(app.url("/depannage/responsable/classe"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("uai", COLLEGE),
            ("division", "3A"),
            ("etat", "non_notifie"),
            ("cle", key.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let mut letters = String::new();
    for _ in 0..300 {
        letters = app
            .client
            .get(format!("http://{}{}/courriers", app.addr, location))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if letters.contains("Nathalie") && letters.contains("Karim") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        letters.contains("responsable de Zoë Lefèvre"),
        "{letters:.600}"
    );
    assert!(letters.contains("responsable de Tom Garcia"));
    assert!(!letters.contains("Léo"), "the lycée's pupil is not named");
}
