//! The first sign-in of pupils and parents on the embedded store (`/premiere-connexion`),
//! end to end: a reset through the web app, the letter read back, both steps posted as a
//! browser would, then the account is Activé, the provisional password dead, the audit row
//! written by the holder. The refusals are in `first_signin_refusals`.

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use educt_admin::accounts::{AccountState, parents, pupils};
use educt_admin::audit::{AuditEvent, Outcome, StoredEvent};
use educt_admin::auth::password::verify_password;
use educt_admin::config::Settings;
use educt_admin::db::DbConnection;
use educt_admin::db::schema::{audit_events, parents as parents_t, pupils as pupils_t};
use educt_admin::usecases::first_signin::GENERIC_REFUSAL;
use secrecy::SecretString;

use crate::batches::{batch_id, form_fields, settle, submit};
use crate::helpers::{
    COLLEGE, LYCEE, PRINCIPAL_PW, Page, TestApp, add_parent, add_pupil, cached_hash, captured_logs,
    hidden_field, seed_staff, t0,
};

/// Someone at the first sign-in page, with his own cookie jar (the double-submit cookie).
pub struct Visitor<'a> {
    pub app: &'a TestApp,
    pub client: reqwest::Client,
}

impl<'a> Visitor<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            client: app.new_client(),
        }
    }

    /// The first step's form token (the cookie set along).
    pub async fn csrf(&self) -> String {
        let form = self.client.get(self.app.url("/premiere-connexion")).send();
        hidden_field(&form.await.unwrap().text().await.unwrap(), "csrf_token")
    }

    /// Posts the first step as given (the token included, or not).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let url = self.app.url(path);
        self.client.post(url).form(form).send().await.unwrap()
    }

    /// The first step: fetches the form, posts the letter's proof.
    pub async fn prove(&self, identifiant: &str, password: &str, birth: &str) -> reqwest::Response {
        let csrf = self.csrf().await;
        let form = [
            ("identifiant", identifiant),
            ("mot_de_passe", password),
            ("date_naissance", birth),
            ("csrf_token", &csrf),
        ];
        self.post("/premiere-connexion", &form).await
    }

    /// The first step, which must pass: the second step's page.
    pub async fn proven(&self, identifiant: &str, password: &str, birth: &str) -> String {
        let res = self.prove(identifiant, password, birth).await;
        assert_eq!(res.status(), 200, "{identifiant}");
        assert_eq!(res.headers()["cache-control"], "no-store");
        res.text().await.unwrap()
    }

    /// The second step from its page.
    pub async fn choose(&self, page: &str, new: &str, again: &str) -> reqwest::Response {
        let (csrf, token) = (
            hidden_field(page, "csrf_token"),
            hidden_field(page, "jeton"),
        );
        let form = [
            ("jeton", token.as_str()),
            ("nouveau_mot_de_passe", new),
            ("confirmation", again),
            ("csrf_token", &csrf),
        ];
        self.post("/premiere-connexion/mot-de-passe", &form).await
    }
}

/// The update that notifies row `$id` of table `$t` with `$hash`, valid until `$expires`.
macro_rules! notified {
    ($t:ident, $id:expr, $hash:expr, $expires:expr) => {
        diesel::update($t::table.filter($t::id.eq($id))).set((
            $t::state.eq("notifie"),
            $t::must_change.eq(true),
            $t::password_hash.eq($hash),
            $t::provisional_expires_at.eq($expires),
        ))
    };
}

/// Gives an account a provisional password (hash of `password`), valid `days` from `t0`,
/// as a reset would.
pub fn notify(conn: &mut DbConnection, parent: bool, id: i64, password: &str, days: i64) {
    let expires = Some((t0() + Duration::days(days)).naive_utc());
    let hash = Some(cached_hash(password));
    let changed = match parent {
        true => notified!(parents_t, id, hash, expires).execute(conn),
        false => notified!(pupils_t, id, hash, expires).execute(conn),
    };
    assert_eq!(changed.unwrap(), 1);
}

/// Nathalie Lefèvre, mother of `children` (pupil ids).
pub fn add_mother(conn: &mut DbConnection, children: &[i64]) -> i64 {
    let links: Vec<(i64, i16)> = children.iter().map(|c| (*c, 1)).collect();
    add_parent(
        conn,
        "Nathalie",
        "Lefèvre",
        None,
        None,
        "non_notifie",
        &links,
    )
}

/// The account page's state, as the principal reads it.
async fn badge(app: &TestApp, path: &str) -> String {
    let page = Page::parse(&app.get(path).await.text().await.unwrap());
    page.definition("État du compte").unwrap_or_default()
}

/// The audit rows of the first sign-in, oldest first.
pub fn first_signin_rows(conn: &mut DbConnection) -> Vec<AuditEvent> {
    let stored: Vec<StoredEvent> = audit_events::table
        .filter(audit_events::action.eq("account.first_signin"))
        .order(audit_events::seq)
        .select(StoredEvent::as_select())
        .load(conn)
        .unwrap();
    stored.into_iter().map(|row| row.event).collect()
}

/// The answer's body, once its status is checked.
pub async fn body_of(res: reqwest::Response, status: u16) -> String {
    assert_eq!(res.status(), status);
    res.text().await.unwrap()
}

/// An app (with `settings`) whose principal is signed in, and Zoë Lefèvre (3A) in the collège.
async fn app_with_zoe(settings: impl FnOnce(&mut Settings)) -> (TestApp, i64) {
    let app = TestApp::builder().settings(settings).start().await;
    let mut conn = app.conn();
    seed_staff(&mut conn);
    let zoe = add_pupil(&mut conn, COLLEGE, "Zoë", "Lefèvre", "3A", "non_notifie");
    drop(conn);
    app.signed_in("principal", PRINCIPAL_PW).await;
    (app, zoe)
}

/// The letter's provisional password as printed (grouped), from a reset's answer.
async fn reset_letter(app: &TestApp, path: &str) -> (String, String) {
    let csrf = app.session_csrf().await;
    let res = app.client.post(app.url(path)).form(&[("csrf_token", csrf)]);
    let res = res.send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let letter = res.text().await.unwrap();
    let printed = Page::parse(&letter).definition("Mot de passe provisoire");
    (printed.unwrap(), letter)
}

#[tokio::test]
async fn a_pupil_reset_through_the_web_app_activates_with_his_letter() {
    let (app, zoe) = app_with_zoe(|_| {}).await;
    let path = format!("/depannage/eleve/{zoe}/reinitialisation");
    let (grouped, letter) = reset_letter(&app, &path).await;
    assert_eq!(grouped.len(), 14, "three groups of four: {grouped}");
    let portal = format!("http://{}/educt-admin-comptes/premiere-connexion", app.addr);
    assert!(letter.contains(&portal), "the letter points to our page");
    assert!(letter.contains("au moins 12 caractères"), "the 3e's rule");
    assert!(letter.contains("votre date de naissance"));

    let visitor = Visitor::new(&app);
    let step2 = visitor.proven("z.lefevre", &grouped, "14/05/2012").await;
    assert!(step2.contains("Votre nouveau mot de passe doit contenir au moins 12 caractères."));
    let new = "mon chat s'appelle Caramel";
    let done = body_of(visitor.choose(&step2, new, new).await, 200).await;
    assert!(done.contains("Votre compte est activé"));

    assert_eq!(
        badge(&app, &format!("/depannage/eleve/{zoe}")).await,
        "Activé"
    );
    let mut conn = app.conn();
    let pupil = pupils::find(&mut conn, zoe).unwrap().unwrap();
    assert_eq!(pupil.state, AccountState::Active);
    assert!(!pupil.must_change && pupil.provisional_expires_at.is_none());
    assert_eq!(
        (pupil.activated_at, pupil.password_changed_at),
        (Some(t0()), Some(t0()))
    );
    let hash = pupils::password_hash(&mut conn, zoe).unwrap().unwrap();
    assert!(verify_password(&SecretString::from(new.to_owned()), &hash).unwrap());
    let rows = first_signin_rows(&mut conn);
    let last = rows.last().unwrap();
    assert_eq!(
        (last.actor.as_str(), last.uai.as_deref(), last.outcome),
        ("compte:z.lefevre", Some(COLLEGE), Outcome::Success)
    );
    // The provisional password is dead; the step token served once.
    let again = visitor.prove("z.lefevre", &grouped, "2012-05-14").await;
    assert!(body_of(again, 401).await.contains(GENERIC_REFUSAL));
    let replay = visitor
        .choose(&step2, "autre chose encore", "autre chose encore")
        .await;
    assert_eq!(replay.status(), 403);
    let logs = captured_logs();
    let typed = grouped.replace(' ', "");
    assert!(!logs.contains(&typed) && !logs.contains(&grouped) && !logs.contains(new));
}

#[tokio::test]
async fn a_parent_activates_with_a_child_s_birth_date() {
    let app = TestApp::on_admin_network().await;
    seed_staff(&mut app.conn());
    let mut conn = app.conn();
    let zoe = add_pupil(&mut conn, COLLEGE, "Zoë", "Lefèvre", "6A", "non_notifie");
    let leo = add_pupil(&mut conn, LYCEE, "Léo", "Lefèvre", "2NDE1", "non_notifie");
    diesel::update(pupils_t::table.filter(pupils_t::id.eq(leo)))
        .set(pupils_t::birth_date.eq(NaiveDate::from_ymd_opt(2009, 3, 2).unwrap()))
        .execute(&mut conn)
        .unwrap();
    let mother = add_mother(&mut conn, &[zoe, leo]);
    drop(conn);
    app.signed_in("principal", PRINCIPAL_PW).await;
    let path = format!("/depannage/responsable/{mother}/reinitialisation");
    let (grouped, letter) = reset_letter(&app, &path).await;
    assert!(letter.contains("la date de naissance de l'un de vos enfants"));
    assert!(letter.contains(
        "au moins 12 caractères, dont au moins une majuscule, une minuscule, un chiffre et un caractère spécial"
    ));

    // The lycée child's birth date proves it too (a parent belongs to both establishments).
    let visitor = Visitor::new(&app);
    let step2 = visitor.proven("n.lefevre", &grouped, "2009-03-02").await;
    let weak = visitor.choose(&step2, "toutenminuscules", "toutenminuscules");
    assert!(
        body_of(weak.await, 422)
            .await
            .contains("il y manque une majuscule")
    );
    let strong = "Lefèvre-2026 et Zoë !";
    let done = visitor.choose(&step2, strong, strong).await;
    assert_eq!(done.status(), 200);

    let path = format!("/depannage/responsable/{mother}");
    assert_eq!(badge(&app, &path).await, "Activé");
    let mut conn = app.conn();
    let parent = parents::find(&mut conn, mother).unwrap().unwrap();
    assert_eq!(parent.state, AccountState::Active);
    let success: Vec<_> = first_signin_rows(&mut conn)
        .into_iter()
        .filter(|r| r.outcome == Outcome::Success)
        .collect();
    let journals: Vec<_> = success.iter().map(|r| r.uai.as_deref()).collect();
    assert_eq!(
        journals,
        [Some(COLLEGE), Some(LYCEE)],
        "one row per establishment"
    );
    assert!(success.iter().all(|r| r.actor == "compte:n.lefevre"));
}

#[tokio::test]
async fn a_batch_letter_states_its_level_s_rule_and_activates_the_pupil() {
    let app = TestApp::spawn().await;
    seed_staff(&mut app.conn());
    add_pupil(
        &mut app.conn(),
        COLLEGE,
        "Tom",
        "Garcia",
        "6B",
        "non_notifie",
    );
    app.signed_in("principal", PRINCIPAL_PW).await;
    let (csrf, key) = form_fields(&app).await;
    let id = batch_id(&submit(&app, &csrf, &key, "6B", &["non_notifie"]).await);
    assert_eq!(settle(&app, id).await, (1, 1));
    let path = format!("/depannage/eleve/lots/{id}/courriers");
    let letters = body_of(app.get(&path).await, 200).await;
    let rule = "Votre nouveau mot de passe doit contenir au moins 8 caractères.";
    assert!(letters.contains(rule), "the 6e's rule");
    let printed = crate::batches::passwords(&letters);
    let (identifiant, password) = &printed[0];
    let visitor = Visitor::new(&app);
    let step2 = visitor.proven(identifiant, password, "14/05/2012").await;
    assert!(step2.contains(rule));
    let done = visitor.choose(&step2, "vacances", "vacances").await;
    assert_eq!(done.status(), 200, "8 characters are enough in 6e");
}

#[tokio::test]
async fn the_page_does_not_exist_where_activation_is_off_and_letters_say_educonnect() {
    let (app, zoe) = app_with_zoe(|s| s.activation.enabled = Some(false)).await;
    notify(&mut app.conn(), false, zoe, "abcdefghjkmn", 30);
    let visitor = Visitor::new(&app);
    for path in ["/premiere-connexion", "/premiere-connexion/mot-de-passe"] {
        let get = visitor.client.get(app.url(path)).send();
        assert_eq!(get.await.unwrap().status(), 404, "GET {path}");
    }
    for path in ["/premiere-connexion", "/premiere-connexion/mot-de-passe"] {
        let res = visitor.post(path, &[("identifiant", "z.lefevre")]).await;
        assert_eq!(res.status(), 404, "{path}");
    }
    let (_, letter) = reset_letter(&app, &format!("/depannage/eleve/{zoe}/reinitialisation")).await;
    assert!(letter.contains("https://educonnect.education.gouv.fr"));
    assert!(!letter.contains("premiere-connexion"));
}

#[tokio::test]
async fn reloading_the_second_step_goes_back_to_the_first_not_to_the_staff_sign_in() {
    let (app, _) = app_with_zoe(|_| {}).await;
    let visitor = Visitor::new(&app);
    let res = visitor
        .client
        .get(app.url("/premiere-connexion/mot-de-passe"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/educt-admin-comptes/premiere-connexion"
    );
}

#[tokio::test]
async fn a_portal_url_set_overrides_the_page_s_address() {
    let portal = Some("https://ent.ac-test.fr/activer".to_owned());
    let (app, zoe) = app_with_zoe(|s| s.letters.portal_url = portal).await;
    let (_, letter) = reset_letter(&app, &format!("/depannage/eleve/{zoe}/reinitialisation")).await;
    assert!(letter.contains("https://ent.ac-test.fr/activer"));
    assert!(
        letter.contains("votre date de naissance"),
        "our page is still on"
    );
}
