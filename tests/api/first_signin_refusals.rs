//! Every refusal of the first sign-in: one generic message whatever field was wrong, the
//! expired letter said only when all three match, blank and malformed fields, the second
//! step's checks, the step token's single use, CSRF and origin, the throttle. Each is
//! audited and changes no account.

use chrono::Duration;
use diesel::prelude::*;
use educt_admin::audit::Outcome;
use educt_admin::auth::throttle::{self, Bucket};
use educt_admin::db::DbConnection;
use educt_admin::db::schema::{login_throttle, pupils as pupils_t};
use educt_admin::usecases::first_signin::{EXPIRED_LETTER, GENERIC_REFUSAL};

use crate::first_signin::{Visitor, add_mother, body_of, first_signin_rows, notify};
use crate::helpers::{COLLEGE, PRINCIPAL_PW, Page, TestApp, add_pupil, seed_staff, t0};

const PROVISIONAL: &str = "abcdefghjkmn";
const LETTER: &str = "abcd efgh jkmn";
const BORN: &str = "14/05/2012";

/// Pupils in every state, each with the same letter (but the one never notified), and a
/// parent of Zoë's: (zoe, parent).
async fn app_with_letters() -> (TestApp, i64) {
    let app = TestApp::spawn().await;
    let mut conn = app.conn();
    seed_staff(&mut conn);
    let zoe = add_pupil(&mut conn, COLLEGE, "Zoë", "Lefèvre", "3A", "non_notifie");
    notify(&mut conn, false, zoe, PROVISIONAL, 30);
    for (first, state) in [
        ("Alice", "active"),
        ("Bruno", "bloque"),
        ("Chloé", "desactive"),
    ] {
        let id = add_pupil(&mut conn, COLLEGE, first, "Martin", "3B", "non_notifie");
        notify(&mut conn, false, id, PROVISIONAL, 30);
        set_state(&mut conn, id, state);
    }
    add_pupil(&mut conn, COLLEGE, "David", "Martin", "3B", "non_notifie");
    let parent = add_mother(&mut conn, &[zoe]);
    notify(&mut conn, true, parent, PROVISIONAL, 30);
    drop(conn);
    (app, zoe)
}

fn set_state(conn: &mut DbConnection, id: i64, state: &str) {
    diesel::update(pupils_t::table.filter(pupils_t::id.eq(id)))
        .set(pupils_t::state.eq(state))
        .execute(conn)
        .unwrap();
}

/// Every pupil's (identifiant, state, hash): what no refusal may change.
fn accounts(conn: &mut DbConnection) -> Vec<(String, String, Option<String>)> {
    pupils_t::table
        .order(pupils_t::id)
        .select((
            pupils_t::identifiant,
            pupils_t::state,
            pupils_t::password_hash,
        ))
        .load(conn)
        .unwrap()
}

/// The error summary's messages.
async fn summary(res: reqwest::Response) -> Vec<String> {
    Page::parse(&res.text().await.unwrap()).texts(".error-summary li")
}

fn refused_rows(app: &TestApp) -> usize {
    let rows = first_signin_rows(&mut app.conn());
    rows.iter()
        .filter(|r| r.outcome == Outcome::Refused)
        .count()
}

/// The throttle's counters.
fn counted(app: &TestApp) -> i64 {
    let all = login_throttle::table.count();
    all.get_result(&mut app.conn()).unwrap()
}

/// A pupil's stored state.
fn state_of(app: &TestApp, id: i64) -> String {
    let row = pupils_t::table.filter(pupils_t::id.eq(id));
    row.select(pupils_t::state).first(&mut app.conn()).unwrap()
}

#[tokio::test]
async fn every_mismatch_gets_one_message_that_names_no_field() {
    let (app, _) = app_with_letters().await;
    let before = accounts(&mut app.conn());
    let visitor = Visitor::new(&app);
    for (identifiant, password, birth, why) in [
        ("x.inconnu", LETTER, BORN, "unknown identifiant"),
        ("<script>", LETTER, BORN, "malformed identifiant"),
        ("z.lefevre", "abcd efgh jkmp", BORN, "wrong password"),
        ("z.lefevre", LETTER, "15/05/2012", "wrong birth date"),
        ("z.lefevre", "zzzz", "2001-01-01", "both wrong"),
        ("a.martin", LETTER, BORN, "already active"),
        ("b.martin", LETTER, BORN, "blocked"),
        ("c.martin", LETTER, BORN, "deactivated"),
        ("d.martin", LETTER, BORN, "never notified"),
        (
            "n.lefevre",
            LETTER,
            "2001-01-01",
            "a parent with no such child",
        ),
    ] {
        let audited = refused_rows(&app);
        let res = visitor.prove(identifiant, password, birth).await;
        assert_eq!(res.status(), 401, "{why}");
        assert_eq!(summary(res).await, [GENERIC_REFUSAL], "{why}");
        assert_eq!(refused_rows(&app), audited + 1, "{why}: audited");
    }
    assert_eq!(accounts(&mut app.conn()), before, "nothing changed");
    let rows = first_signin_rows(&mut app.conn());
    let details: Vec<_> = rows.iter().filter_map(|r| r.details.clone()).collect();
    assert!(details.iter().any(|d| d == "unknown identifiant"));
    assert!(details.iter().any(|d| d.contains("state bloque")));
    assert!(
        rows.iter().any(|r| r.actor == "anonymous"),
        "a malformed identifiant"
    );
    assert!(
        rows.iter()
            .any(|r| r.actor == "compte:z.lefevre" && r.uai.as_deref() == Some(COLLEGE))
    );
    // Three failures did not lock Zoë out: her letter still works.
    let step2 = visitor.proven("z.lefevre", LETTER, BORN).await;
    assert!(step2.contains("jeton"));
}

#[tokio::test]
async fn an_expired_letter_is_said_only_when_all_three_match() {
    let (app, _) = app_with_letters().await;
    let visitor = Visitor::new(&app);
    // Past its validity.
    app.clock.advance(Duration::days(31));
    let wrong_date = visitor.prove("z.lefevre", LETTER, "15/05/2012").await;
    assert_eq!(wrong_date.status(), 401);
    assert_eq!(summary(wrong_date).await, [GENERIC_REFUSAL]);
    let wrong_password = visitor.prove("z.lefevre", "abcd efgh jkmp", BORN).await;
    assert_eq!(summary(wrong_password).await, [GENERIC_REFUSAL]);
    let expired = visitor.prove("z.lefevre", LETTER, BORN).await;
    assert_eq!(expired.status(), 410);
    let said = summary(expired).await;
    assert_eq!(said, [EXPIRED_LETTER]);
    assert!(said[0].starts_with("Ce courrier a expiré") && said[0].contains("nouveau courrier"));
    // Once the upkeep has retired it, the page still says so (our tables keep the hash).
    let store = educt_admin::accounts::store::SqlAccountStore;
    let key = crate::helpers::test_key();
    let now = educt_admin::clock::Clock::now(&*app.clock);
    educt_admin::usecases::account_upkeep::run_once(
        &mut app.conn(),
        &key,
        &store,
        now,
        chrono_tz::Europe::Paris,
    )
    .unwrap();
    let again = visitor.prove("z.lefevre", LETTER, BORN).await;
    assert_eq!(again.status(), 410);
}

#[tokio::test]
async fn blank_and_malformed_fields_are_named_and_nothing_is_counted() {
    let (app, _) = app_with_letters().await;
    let visitor = Visitor::new(&app);
    for (identifiant, password, birth, message, field) in [
        (
            "",
            LETTER,
            BORN,
            "Saisissez votre identifiant",
            "#identifiant",
        ),
        (
            "z.lefevre",
            "",
            BORN,
            "Saisissez votre identifiant",
            "#mot_de_passe",
        ),
        (
            "z.lefevre",
            LETTER,
            "",
            "Saisissez votre identifiant",
            "#date_naissance",
        ),
        (
            "z.lefevre",
            LETTER,
            "31/02/2012",
            "La date de naissance doit",
            "#date_naissance",
        ),
        (
            "z.lefevre",
            LETTER,
            "demain",
            "La date de naissance doit",
            "#date_naissance",
        ),
    ] {
        let body = body_of(visitor.prove(identifiant, password, birth).await, 422).await;
        assert!(body.contains(message), "{body}");
        assert!(body.contains(&format!("href=\"{field}\"")), "{field}");
    }
    assert_eq!(counted(&app), 0, "refused before the throttle");
}

#[tokio::test]
async fn the_second_step_refuses_a_mismatch_the_rule_and_the_provisional_password() {
    let (app, zoe) = app_with_letters().await;
    let visitor = Visitor::new(&app);
    let step2 = visitor.proven("z.lefevre", LETTER, BORN).await;
    let before = accounts(&mut app.conn());
    for (new, again, said, field) in [
        (
            "",
            "",
            "Saisissez votre nouveau mot de passe",
            "nouveau_mot_de_passe",
        ),
        (
            "une longue phrase",
            "une longue phrasE",
            "ne sont pas identiques",
            "confirmation",
        ),
        (
            "court",
            "court",
            "au moins 12 caractères",
            "nouveau_mot_de_passe",
        ),
        (
            LETTER,
            LETTER,
            "différent du mot de passe provisoire",
            "nouveau_mot_de_passe",
        ),
        (
            PROVISIONAL,
            PROVISIONAL,
            "différent du mot de passe provisoire",
            "nouveau_mot_de_passe",
        ),
        (
            "tab\tdans le mot",
            "tab\tdans le mot",
            "caractère invisible",
            "nouveau_mot_de_passe",
        ),
    ] {
        let audited = refused_rows(&app);
        let page = body_of(visitor.choose(&step2, new, again).await, 422).await;
        assert!(page.contains(said), "{new:?}: {page}");
        assert!(page.contains(&format!("href=\"#{field}\"")), "{new:?}");
        assert!(page.contains("aria-invalid=\"true\""));
        assert_eq!(refused_rows(&app), audited + 1, "{new:?}: audited");
    }
    assert_eq!(accounts(&mut app.conn()), before, "nothing changed");
    assert_eq!(state_of(&app, zoe), "notifie");
    let done = visitor
        .choose(&step2, "une longue phrase", "une longue phrase")
        .await;
    assert_eq!(
        done.status(),
        200,
        "the step token held through the refusals"
    );
}

#[tokio::test]
async fn the_step_token_is_not_forged_not_late_and_not_reused() {
    let (app, zoe) = app_with_letters().await;
    let visitor = Visitor::new(&app);
    let step2 = visitor.proven("z.lefevre", LETTER, BORN).await;
    let token = crate::helpers::hidden_field(&step2, "jeton");
    let (head, _) = token.rsplit_once('~').unwrap();
    let forged = step2.replace(&token, &format!("{head}~{}", "A".repeat(43)));
    let strong = "une longue phrase";
    for page in [forged, step2.replace(&token, "")] {
        let said = body_of(visitor.choose(&page, strong, strong).await, 403).await;
        assert!(said.contains("Cette étape a expiré ou a déjà servi"));
    }
    // A reset meanwhile: another letter, another hash; the token is dead.
    notify(&mut app.conn(), false, zoe, "mnpqrstuvwxy", 30);
    assert_eq!(visitor.choose(&step2, strong, strong).await.status(), 403);
    // Late: 15 minutes is the step's life.
    let step2 = visitor.proven("z.lefevre", "mnpq rstu vwxy", BORN).await;
    app.clock.advance(Duration::minutes(15));
    assert_eq!(visitor.choose(&step2, strong, strong).await.status(), 403);
    assert_eq!(state_of(&app, zoe), "notifie");
}

#[tokio::test]
async fn both_steps_need_the_form_s_token_and_this_origin() {
    let (app, _) = app_with_letters().await;
    let before = accounts(&mut app.conn());
    let visitor = Visitor::new(&app);
    let csrf = visitor.csrf().await;
    let proof = |token: &'static str| {
        [
            ("identifiant", "z.lefevre"),
            ("mot_de_passe", LETTER),
            ("date_naissance", BORN),
            ("csrf_token", token),
        ]
    };
    // No cookie (another browser), a forged token, no token.
    let stranger = Visitor::new(&app);
    let form = [
        ("identifiant", "z.lefevre"),
        ("mot_de_passe", LETTER),
        ("date_naissance", BORN),
        ("csrf_token", csrf.as_str()),
    ];
    assert_eq!(
        stranger.post("/premiere-connexion", &form).await.status(),
        403
    );
    for token in ["forged-token-forged-token-forged-token-x", ""] {
        let res = visitor.post("/premiere-connexion", &proof(token)).await;
        assert!(body_of(res, 403).await.contains("Le formulaire a expiré"));
    }
    assert_eq!(counted(&app), 0, "nothing checked");
    let rows = first_signin_rows(&mut app.conn());
    let csrf_rows = rows
        .iter()
        .filter(|r| r.details.as_deref() == Some("CSRF token missing or invalid"));
    assert_eq!(csrf_rows.count(), 3, "each audited");
    // Another site's form is refused before anything.
    let res = visitor
        .client
        .post(app.url("/premiere-connexion"))
        .header("Origin", "https://evil.example")
        .form(&proof("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // The second step too.
    let step2 = visitor.proven("z.lefevre", LETTER, BORN).await;
    let token = crate::helpers::hidden_field(&step2, "csrf_token");
    let bad = step2.replace(&token, "forged-token-forged-token-forged-token-x");
    let res = visitor
        .choose(&bad, "une longue phrase", "une longue phrase")
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(accounts(&mut app.conn()), before, "nothing changed");
}

#[tokio::test]
async fn the_throttle_counts_per_identifiant_and_address_and_per_address() {
    let (app, _) = app_with_letters().await;
    let visitor = Visitor::new(&app);
    for _ in 0..throttle::PAIR_MAX_FAILURES {
        let res = visitor.prove("z.lefevre", "abcd efgh jkmp", BORN).await;
        assert_eq!(res.status(), 401);
    }
    let res = visitor.prove("z.lefevre", LETTER, BORN).await;
    assert_eq!(res.status(), 429, "the right letter too, once throttled");
    let retry: i64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(summary(res).await[0].contains("Trop de tentatives"));
    assert!(
        first_signin_rows(&mut app.conn())
            .iter()
            .any(|r| r.details.as_deref() == Some("throttled"))
    );
    app.clock.advance(Duration::minutes(15));
    assert_eq!(visitor.prove("z.lefevre", LETTER, BORN).await.status(), 200);

    // Per address: a hundred failures from it (counted here directly) close it to every
    // identifiant, and not to the staff, whose count is apart.
    let now = t0() + Duration::minutes(15);
    for _ in 0..throttle::ADDR_MAX_FAILURES {
        throttle::admit_in(&mut app.conn(), Bucket::Holders, None, "127.0.0.1", now).unwrap();
    }
    let res = visitor.prove("n.lefevre", LETTER, BORN).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let staff = app.new_client();
    let signed = app.sign_in_with(&staff, "principal", PRINCIPAL_PW).await;
    assert_eq!(
        signed.status(),
        303,
        "the staff's sign-in has its own count"
    );
}
