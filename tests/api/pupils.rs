//! Pupil troubleshooting: search, page, reset and letter, state changes, CSV, statistics.

use chrono::Duration;
use diesel::prelude::*;
use educt_admin::accounts::pupils;
use educt_admin::auth::password::verify_password;
use educt_admin::db::schema::{audit_events, pupils as pupils_t};
use educt_admin::delegation::Scope;
use secrecy::SecretString;

use crate::delegations::delegate;
use crate::helpers::{
    COLLEGE, LYCEE, PRINCIPAL_PW, Page, TestApp, TestAppBuilder, add_agent, add_pupil, audit_rows,
    captured_logs, hidden_field, seed_staff, t0,
};

pub struct Cast {
    pub zoe: i64,
    pub compound: i64,
    pub hostile: i64,
    pub lycee: i64,
    pub blocked: i64,
}

/// The collège and the lycée with a few pupils, the referent delegated `eleves` on the
/// collège, the CPE `responsables` only.
pub async fn app_with_pupils() -> (TestApp, Cast) {
    app_with_pupils_on(TestApp::builder()).await
}

/// The same, on an app built by `builder` (another account store, say).
pub async fn app_with_pupils_on(builder: TestAppBuilder) -> (TestApp, Cast) {
    let app = builder.start().await;
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
    let zoe = add_pupil(&mut conn, COLLEGE, "Zoë", "Lefèvre", "3A", "non_notifie");
    let compound = add_pupil(
        &mut conn,
        COLLEGE,
        "Jean-Baptiste",
        "Martin-Dubois",
        "3A",
        "active",
    );
    let hostile = add_pupil(
        &mut conn,
        COLLEGE,
        "<script>alert(1)</script>",
        "=HYPERLINK(\"http://x\")",
        "3B",
        "notifie",
    );
    add_pupil(&mut conn, COLLEGE, "Éloïse", "O'Brien", "3B", "notifie");
    let blocked = add_pupil(&mut conn, COLLEGE, "Noé", "Da Silva", "4A", "bloque");
    let lycee = add_pupil(&mut conn, LYCEE, "Léo", "Lefèvre", "2NDE1", "non_notifie");
    drop(conn);
    delegate(
        &app,
        "referent",
        COLLEGE,
        Scope::Eleves,
        "2026-11-01",
        "2027-08-31",
    );
    delegate(
        &app,
        "cpe",
        COLLEGE,
        Scope::Responsables,
        "2026-11-01",
        "2027-08-31",
    );
    delegate(
        &app,
        "lyc",
        LYCEE,
        Scope::Eleves,
        "2026-11-01",
        "2027-08-31",
    );
    (
        app,
        Cast {
            zoe,
            compound,
            hostile,
            lycee,
            blocked,
        },
    )
}

async fn search(app: &TestApp, query: &str) -> String {
    let res = app
        .get(&format!("/depannage/eleve?uai={COLLEGE}&{query}"))
        .await;
    assert_eq!(res.status(), 200, "{query}");
    res.text().await.unwrap()
}

#[tokio::test]
async fn search_ignores_accents_and_case_and_finds_either_part_of_a_compound_name() {
    let (app, _) = app_with_pupils().await;
    app.signed_in("referent", "Referent-2026").await;
    for (q, found, not) in [
        ("q=lefevre", "z.lefevre", "j.martindubois"),
        ("q=LEFÈVRE", "z.lefevre", "j.martindubois"),
        ("q=zoe", "z.lefevre", "j.martindubois"),
        ("q=dubois", "j.martindubois", "z.lefevre"),
        ("q=martin", "j.martindubois", "z.lefevre"),
        ("q=dubois+jean", "j.martindubois", "z.lefevre"),
        ("q=jean+zoe", "0 élève", "z.lefevre"),
        ("q=obrien", "e.obrien", "z.lefevre"),
        ("q=z.lef", "z.lefevre", "j.martindubois"),
        ("division=3B", "e.obrien", "j.martindubois"),
    ] {
        let body = search(&app, q).await;
        assert!(body.contains(found), "{q} should find {found}");
        assert!(!body.contains(not), "{q} should not find {not}");
    }
    let none = search(&app, "q=personne").await;
    assert!(none.contains("Aucun élève ne correspond"));
    let empty_division = search(&app, "division=5Z").await;
    assert!(empty_division.contains("0 élève"));
    // The other establishment's Lefèvre is never listed.
    assert!(!search(&app, "q=leo").await.contains("l.lefevre"));
    // % and _ are not wildcards.
    assert!(search(&app, "q=%25").await.contains("Aucun élève"));
    assert!(search(&app, "q=_").await.contains("Aucun élève"));
}

#[tokio::test]
async fn search_pages_by_50_sorted_by_division_then_name() {
    let (app, _) = app_with_pupils().await;
    {
        let mut conn = app.conn();
        for i in 0..51 {
            add_pupil(
                &mut conn,
                COLLEGE,
                "Élève",
                &format!("Nom{i:02}"),
                "6A",
                "non_notifie",
            );
        }
        add_pupil(&mut conn, COLLEGE, "Aaron", "Test", "4B", "non_notifie");
        add_pupil(&mut conn, COLLEGE, "Zed", "Test", "3A", "non_notifie");
    }
    app.signed_in("referent", "Referent-2026").await;
    let p1 = search(&app, "division=6A").await;
    assert!(p1.contains("51 élèves") && p1.contains("Page 1 sur 2") && p1.contains("Suivante"));
    assert!(p1.find("Nom00").unwrap() < p1.find("Nom01").unwrap());
    assert!(!p1.contains("Nom50"));
    let p2 = search(&app, "division=6A&page=2").await;
    assert!(p2.contains("Nom50") && !p2.contains("Nom49") && p2.contains("Précédente"));
    let p3 = search(&app, "division=6A&page=3").await;
    assert!(!p3.contains("Nom0") && !p3.contains("Nom5"));
    let both = search(&app, "q=test").await;
    assert!(
        both.find("z.test").unwrap() < both.find("a.test").unwrap(),
        "division before name"
    );
    for bad in ["page=0", "page=-1", "page=x", "page=99999999999"] {
        assert_eq!(
            app.get(&format!("/depannage/eleve?uai={COLLEGE}&q=a&{bad}"))
                .await
                .status(),
            400,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_reset_shows_the_password_once_and_stores_only_its_hash() {
    let (app, cast) = app_with_pupils().await;
    app.signed_in("referent", "Referent-2026").await;
    let confirm = app
        .get(&format!("/depannage/eleve/{}/reinitialisation", cast.zoe))
        .await
        .text()
        .await
        .unwrap();
    let csrf = hidden_field(&confirm, "csrf_token");
    let res = app
        .client
        .post(app.url(&format!("/depannage/eleve/{}/reinitialisation", cast.zoe)))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body = res.text().await.unwrap();
    let grouped = &crate::helpers::Page::parse(&body)
        .definition("Mot de passe provisoire")
        .unwrap();
    let password = grouped.replace(' ', "");
    assert_eq!(password.len(), 12);
    assert!(
        password
            .bytes()
            .all(|b| educt_admin::accounts::provisional::ALPHABET.contains(&b))
    );
    assert!(
        body.contains("z.lefevre") && body.contains("Collège Jean Moulin") && body.contains("3A")
    );
    assert!(body.contains("date de naissance"), "the instructions");
    assert!(body.contains("26/02/2027"), "valid 3 months");

    let mut conn = app.conn();
    let pupil = pupils::find(&mut conn, cast.zoe).unwrap().unwrap();
    assert_eq!(pupil.state, educt_admin::accounts::AccountState::Notifie);
    assert!(pupil.must_change);
    assert_eq!(
        pupil.provisional_expires_at.unwrap(),
        t0().checked_add_months(chrono::Months::new(3)).unwrap()
    );
    let hash = pupils::password_hash(&mut conn, cast.zoe).unwrap().unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(verify_password(&SecretString::from(password.clone()), &hash).unwrap());
    // Never in the audit, the logs, or the pupil page.
    let audit: Vec<String> = audit_events::table
        .select(audit_events::details.assume_not_null())
        .filter(audit_events::details.is_not_null())
        .load(&mut conn)
        .unwrap();
    assert!(
        audit
            .iter()
            .all(|d| !d.contains(&password) && !d.contains(grouped))
    );
    let logs = captured_logs();
    assert!(!logs.is_empty());
    assert!(!logs.contains(&password) && !logs.contains(grouped));
    let page = app
        .get(&format!("/depannage/eleve/{}", cast.zoe))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains(&password) && !page.contains(grouped));
    assert!(
        page.contains("Réinitialisation du mot de passe d'un élève"),
        "the pupil's history, in French"
    );
    let history = Page::parse(&page);
    let outcomes = history.texts("table tbody tr td:nth-child(4)");
    assert!(
        !outcomes.is_empty() && outcomes.iter().all(|o| o == "Réussie" || o == "Refusée"),
        "the history's outcomes, in French: {outcomes:?}"
    );
    let rows = audit_rows(&mut conn);
    let last = rows.last().unwrap();
    assert_eq!(
        (last.1.as_str(), last.2.as_str()),
        ("eleve.reset_password", "success")
    );
}

#[tokio::test]
async fn an_expired_provisional_password_shows_as_expired_and_can_be_reissued() {
    let (app, cast) = app_with_pupils().await;
    diesel::update(pupils_t::table.filter(pupils_t::id.eq(cast.hostile)))
        .set(pupils_t::provisional_expires_at.eq(Some((t0() - Duration::days(2)).naive_utc())))
        .execute(&mut app.conn())
        .unwrap();
    app.signed_in("referent", "Referent-2026").await;
    let page = app
        .get(&format!("/depannage/eleve/{}", cast.hostile))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Notification expirée (le 24/11/2026)"));
    assert!(page.contains("Réinitialiser le mot de passe"));
    // The upkeep retires the unused provisional password, once (the app's own job may have
    // done it already); its audit row names the job. Our tables keep the hash: the letter is
    // refused by its date, and the first sign-in page can say it expired.
    let store = educt_admin::accounts::store::SqlAccountStore;
    let key = crate::helpers::test_key();
    let before = pupils::password_hash(&mut app.conn(), cast.hostile).unwrap();
    let upkeep = || {
        educt_admin::usecases::account_upkeep::run_once(
            &mut app.conn(),
            &key,
            &store,
            t0(),
            chrono_tz::Europe::Paris,
        )
        .unwrap()
        .provisionals_removed
    };
    assert!(upkeep() <= 1);
    assert_eq!(upkeep(), 0);
    let hash = pupils::password_hash(&mut app.conn(), cast.hostile).unwrap();
    assert_eq!(
        hash, before,
        "kept: the first sign-in page says the letter expired"
    );
    let rows = audit_rows(&mut app.conn());
    let expired: Vec<_> = rows
        .iter()
        .filter(|r| r.1 == "eleve.expire_provisional")
        .collect();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].0, "job:entretien");
    let csrf = hidden_field(&page, "csrf_token");
    let res = app
        .client
        .post(app.url(&format!(
            "/depannage/eleve/{}/reinitialisation",
            cast.hostile
        )))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = app
        .get(&format!("/depannage/eleve/{}", cast.hostile))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Notifié (expire le 26/02/2027)"));
}

#[tokio::test]
async fn hostile_names_are_escaped_everywhere() {
    let (app, cast) = app_with_pupils().await;
    let huge = "Ä".repeat(5_000);
    let big = add_pupil(&mut app.conn(), COLLEGE, &huge, &huge, "3B", "non_notifie");
    app.signed_in("referent", "Referent-2026").await;
    let csrf = app.session_csrf().await;
    let mut pages = vec![
        app.get(&format!("/depannage/eleve?uai={COLLEGE}&division=3B"))
            .await,
        app.get(&format!("/depannage/eleve/{}", cast.hostile)).await,
        app.get(&format!("/depannage/eleve/{big}")).await,
        app.get(&format!(
            "/depannage/eleve/{}/reinitialisation",
            cast.hostile
        ))
        .await,
    ];
    pages.push(
        app.client
            .post(app.url(&format!(
                "/depannage/eleve/{}/reinitialisation",
                cast.hostile
            )))
            .form(&[("csrf_token", csrf.as_str())])
            .send()
            .await
            .unwrap(),
    );
    pages.push(
        app.client
            .post(app.url(&format!("/depannage/eleve/{big}/reinitialisation")))
            .form(&[("csrf_token", csrf.as_str())])
            .send()
            .await
            .unwrap(),
    );
    for res in pages {
        assert_eq!(res.status(), 200);
        let body = res.text().await.unwrap();
        assert!(!body.contains("<script>alert(1)</script>"));
        // The one script element allowed is the assets' script (the letter page's print
        // button): any other `<script` would be an unescaped name.
        let ours = r#"<script src="/educt-admin-comptes/assets/app.js" defer></script>"#;
        assert_eq!(body.matches("<script").count(), body.matches(ours).count());
        assert!(body.contains("&lt;script&gt;") || body.contains("ÄÄÄ"));
    }
}

#[tokio::test]
async fn the_division_csv_neutralises_formulas_and_holds_no_password() {
    let (app, _) = app_with_pupils().await;
    app.signed_in("referent", "Referent-2026").await;
    let res = app
        .get(&format!(
            "/depannage/eleve/export.csv?uai={COLLEGE}&division=3B"
        ))
        .await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(
        text.contains("'=HYPERLINK(\"\"http://x\"\")")
            || text.contains("\"'=HYPERLINK(\"\"http://x\"\")\""),
        "{text}"
    );
    assert!(
        text.lines()
            .next()
            .unwrap()
            .contains("identifiant;nom;prénom;classe;état")
    );
    assert!(!text.to_lowercase().contains("argon2"));
    assert_eq!(
        app.get(&format!("/depannage/eleve/export.csv?uai={COLLEGE}"))
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn statistics_count_states_per_division() {
    let (app, _) = app_with_pupils().await;
    app.signed_in("referent", "Referent-2026").await;
    let body = app
        .get(&format!("/depannage/eleve/statistiques?uai={COLLEGE}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains("Taux d'activation"));
    assert!(
        body.contains("1 comptes activés sur 5") || body.contains("(1 comptes activés sur 5)"),
        "{body}"
    );
}

#[tokio::test]
async fn unblock_deactivate_and_reactivate_follow_the_states() {
    let (app, cast) = app_with_pupils().await;
    app.signed_in("referent", "Referent-2026").await;
    let csrf = app.session_csrf().await;
    let post = |path: String| {
        let csrf = csrf.clone();
        let app = &app;
        async move {
            app.client
                .post(app.url(&path))
                .form(&[("csrf_token", csrf.as_str())])
                .send()
                .await
                .unwrap()
        }
    };
    let state = |id: i64| {
        pupils::find(&mut app.conn(), id)
            .unwrap()
            .unwrap()
            .state
            .as_str()
    };
    // A blocked account cannot be reset before it is unblocked.
    assert_eq!(
        post(format!(
            "/depannage/eleve/{}/reinitialisation",
            cast.blocked
        ))
        .await
        .status(),
        409
    );
    assert_eq!(
        post(format!("/depannage/eleve/{}/reactivation", cast.blocked))
            .await
            .status(),
        409
    );
    assert_eq!(
        post(format!("/depannage/eleve/{}/deblocage", cast.blocked))
            .await
            .status(),
        303
    );
    assert_eq!(state(cast.blocked), "non_notifie");
    assert_eq!(
        post(format!("/depannage/eleve/{}/deblocage", cast.blocked))
            .await
            .status(),
        409
    );
    // Deactivate an active account, then reactivate it: back to active.
    assert_eq!(
        post(format!("/depannage/eleve/{}/desactivation", cast.compound))
            .await
            .status(),
        303
    );
    assert_eq!(state(cast.compound), "desactive");
    assert_eq!(
        post(format!("/depannage/eleve/{}/desactivation", cast.compound))
            .await
            .status(),
        409
    );
    assert_eq!(
        post(format!("/depannage/eleve/{}/reactivation", cast.compound))
            .await
            .status(),
        303
    );
    assert_eq!(state(cast.compound), "active");
    // An unknown change is no route at all.
    assert_eq!(
        post(format!("/depannage/eleve/{}/suppression", cast.compound))
            .await
            .status(),
        404
    );
    // Without the CSRF token: refused, nothing changed.
    let res = app
        .client
        .post(app.url(&format!("/depannage/eleve/{}/desactivation", cast.compound)))
        .form(&[("csrf_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(state(cast.compound), "active");
    let actions: Vec<String> = audit_rows(&mut app.conn())
        .into_iter()
        .filter(|r| r.2 == "success")
        .map(|r| r.1)
        .collect();
    assert!(
        actions.contains(&"eleve.unblock".into())
            && actions.contains(&"eleve.deactivate".into())
            && actions.contains(&"eleve.reactivate".into())
    );
}

#[tokio::test]
async fn other_establishments_and_other_scopes_are_refused() {
    let (app, cast) = app_with_pupils().await;
    let before = pupils::find(&mut app.conn(), cast.zoe).unwrap().unwrap();
    // A delegate of the lycée posting a collège pupil's id: 404, nothing changed.
    app.signed_in("lyc", "Lycee-2026-lyc").await;
    let csrf = app.session_csrf().await;
    let res = app
        .client
        .post(app.url(&format!("/depannage/eleve/{}/reinitialisation", cast.zoe)))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(
        app.get(&format!("/depannage/eleve/{}", cast.zoe))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.get(&format!("/depannage/eleve/{}", cast.lycee))
            .await
            .status(),
        200,
        "mirror: his own pupils"
    );
    // A `responsables`-only delegate: 403 on pupils.
    let cpe = app.new_client();
    app.sign_in_with(&cpe, "cpe", "Cpe-2026-cpe").await;
    assert_eq!(
        cpe.get(app.url(&format!("/depannage/eleve/{}", cast.zoe)))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        cpe.get(app.url(&format!("/depannage/eleve?uai={COLLEGE}&q=a")))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let after = pupils::find(&mut app.conn(), cast.zoe).unwrap().unwrap();
    assert_eq!(format!("{before:?}"), format!("{after:?}"));
    // Unknown and malformed ids are 404 too.
    let principal = app.new_client();
    app.sign_in_with(&principal, "principal", PRINCIPAL_PW)
        .await;
    for id in ["999999", "abc", "-1", "1.5"] {
        assert_eq!(
            principal
                .get(app.url(&format!("/depannage/eleve/{id}")))
                .send()
                .await
                .unwrap()
                .status(),
            404,
            "{id}"
        );
    }
}
