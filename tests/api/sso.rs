//! The ENT connectors against the run's real identity provider (LemonLDAP::NG): a delegate and
//! a deputy head sign in through CAS and OpenID Connect and get exactly their directory's and
//! delegations' rights; every way a connector can be misused or fail is refused with a French
//! page, an audit row and no session.

use chrono::{Duration, Utc};
use educt_admin::clock::Clock;
use educt_admin::config::{DirectoryKind, Settings};
use educt_admin::delegation::Scope;
use educt_admin::delegation::store;

use crate::delegations::delegate;
use crate::helpers::{COLLEGE, TestApp, TestDb, add_establishment, hidden_field, test_settings};
use crate::ldap_server::LdapServer;
use crate::sso_idp::{AppPort, Idp, sign_in_at_idp};

pub const CAS_RETURN: &str = "/connexion/cas/retour";
pub const OIDC_RETURN: &str = "/connexion/oidc/retour";

/// An app on the test slapd's directory with both connectors, its clock at the real time
/// (the provider's tokens carry real times), on `port` when OIDC must come back to it.
pub async fn sso_app(idp: &Idp, port: Option<&AppPort>, f: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDb::migrated();
    add_establishment(&mut db.connect(), COLLEGE, "Collège Jean Moulin");
    let mut settings = test_settings(&db);
    settings.directory.kind = DirectoryKind::Ldap;
    settings.directory.ldap = Some(LdapServer::shared().settings(false));
    settings.sso.cas = Some(idp.cas());
    settings.sso.oidc = Some(idp.oidc());
    if let Some(p) = port {
        settings.server.bind = format!("127.0.0.1:{}", p.port).parse().unwrap();
    }
    f(&mut settings);
    let app = TestApp::builder()
        .db(db)
        .settings(|s| *s = settings)
        .start()
        .await;
    app.clock.set(Utc::now());
    app
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no location ({})", res.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// Starts a sign-in through `connector` (`cas`, `oidc`) in `browser` and signs `who` in at
/// the provider: the URL the provider sends the browser back to (not followed yet).
pub async fn provider_return(
    app: &TestApp,
    idp: &Idp,
    browser: &reqwest::Client,
    connector: &str,
    who: (&str, &str),
) -> String {
    let start = get(browser, app.url(&format!("/connexion/{connector}"))).await;
    assert_eq!(start.status(), 303, "{connector} start");
    let back = app.url(&format!("/connexion/{connector}/retour"));
    sign_in_at_idp(browser, idp, &location(&start), who, &back).await
}

/// Signs `who` in through `connector` in `browser`: the app's answer to the provider's
/// return (the page that sends the browser on to the home page).
pub async fn through(
    app: &TestApp,
    idp: &Idp,
    browser: &reqwest::Client,
    connector: &str,
    who: (&str, &str),
) -> reqwest::Response {
    let url = provider_return(app, idp, browser, connector, who).await;
    get(browser, url).await
}

/// A GET in `browser`.
pub async fn get(browser: &reqwest::Client, url: impl reqwest::IntoUrl) -> reqwest::Response {
    browser.get(url).send().await.unwrap()
}

/// The last audit row's (actor, action, outcome, gate, details).
pub fn last_row(app: &TestApp) -> (String, String, String, Option<String>, Option<String>) {
    use diesel::prelude::*;
    use educt_admin::db::schema::audit_events as a;
    a::table
        .order(a::seq.desc())
        .select((a::actor, a::action, a::outcome, a::gate, a::details))
        .first(&mut app.conn())
        .unwrap()
}

fn sessions(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use educt_admin::db::schema::sessions;
    sessions::table.count().get_result(&mut app.conn()).unwrap()
}

fn today_plus(days: i64) -> String {
    (Utc::now() + Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn a_delegate_signs_in_through_cas_and_a_revocation_refuses_him_at_the_next_request() {
    let idp = Idp::shared();
    let app = sso_app(&idp, None, |_| {}).await;
    let id = delegate(
        &app,
        "slefevre",
        COLLEGE,
        Scope::Eleves,
        &today_plus(-1),
        &today_plus(30),
    );
    let browser = idp.browser();
    let landed = through(&app, &idp, &browser, "cas", ("slefevre", "Referent-2026")).await;
    assert_eq!(landed.status(), 200);
    assert!(landed.text().await.unwrap().contains("Continuer"));
    let home = get(&browser, app.url("/")).await;
    assert_eq!(home.status(), 200);
    let home = home.text().await.unwrap();
    assert!(
        home.contains("Sophie Lefèvre") && home.contains("Collège Jean Moulin"),
        "{home}"
    );
    let row = last_row(&app);
    assert_eq!(
        (
            row.0.as_str(),
            row.1.as_str(),
            row.2.as_str(),
            row.3.as_deref()
        ),
        ("slefevre", "auth.sign_in", "success", Some("cas"))
    );
    let search = format!("/depannage/eleve?uai={COLLEGE}");
    assert_eq!(get(&browser, app.url(&search)).await.status(), 200);
    store::revoke(&mut app.conn(), id, "cperrin", app.clock.now()).unwrap();
    let refused = get(&browser, app.url(&search)).await;
    assert!(
        matches!(refused.status().as_u16(), 403 | 404),
        "{}",
        refused.status()
    );
}

#[tokio::test]
async fn a_deputy_head_signs_in_through_oidc_with_the_principals_rights() {
    let idp = Idp::shared();
    let port = AppPort::take(&idp).await;
    let app = sso_app(&idp, Some(&port), |_| {}).await;
    let browser = idp.browser();
    let landed = through(&app, &idp, &browser, "oidc", ("adurand", "Adjointe-2026")).await;
    assert_eq!(landed.status(), 200);
    let home = get(&browser, app.url("/")).await.text().await.unwrap();
    assert!(
        home.contains("Anne Durand") && home.contains("Collège Jean Moulin"),
        "{home}"
    );
    assert!(home.contains("Direction de l'établissement"), "{home}");
    let grants = get(&browser, app.url(&format!("/delegations?uai={COLLEGE}"))).await;
    assert_eq!(grants.status(), 200, "the deputy manages the delegations");
    let row = last_row(&app);
    assert_eq!(
        (row.0.as_str(), row.3.as_deref()),
        ("adurand", Some("oidc"))
    );
}

#[tokio::test]
async fn a_staff_member_without_rights_is_told_what_to_ask_for() {
    let idp = Idp::shared();
    let app = sso_app(&idp, None, |_| {}).await;
    let browser = idp.browser();
    through(&app, &idp, &browser, "cas", ("mdubois", "Enseignant-2026")).await;
    let home = get(&browser, app.url("/")).await.text().await.unwrap();
    assert!(
        home.contains("votre chef d'établissement doit vous accorder une délégation DelegCE"),
        "{home}"
    );
}

#[tokio::test]
async fn somebody_the_staff_directory_does_not_know_is_refused_and_audited() {
    let idp = Idp::shared();
    // The local directory: the provider's people are not in it.
    let app = sso_app(&idp, None, |s| {
        s.directory.kind = DirectoryKind::Local;
        s.directory.ldap = None;
    })
    .await;
    let browser = idp.browser();
    let res = through(&app, &idp, &browser, "cas", ("slefevre", "Referent-2026")).await;
    assert_eq!(res.status(), 403);
    let body = res.text().await.unwrap();
    assert!(body.contains("n'est pas dans l'annuaire"), "{body}");
    assert_eq!(sessions(&app), 0);
    let row = last_row(&app);
    assert_eq!(
        (row.0.as_str(), row.2.as_str(), row.3.as_deref()),
        ("slefevre", "refused", Some("cas"))
    );
}

/// The state (`etat`) of the flow a start put in this browser's cookie.
fn query_value(url: &str, name: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    let found = url.query_pairs().find(|(k, _)| k == name);
    found.map(|(_, v)| v.into_owned()).unwrap_or_default()
}

#[tokio::test]
async fn a_cas_ticket_is_good_once_and_for_its_own_service_only() {
    let idp = Idp::shared();
    let app = sso_app(&idp, None, |_| {}).await;
    let browser = idp.browser();
    let back = app.url(CAS_RETURN);
    let url = provider_return(&app, &idp, &browser, "cas", ("slefevre", "Referent-2026")).await;
    assert_eq!(get(&browser, &url).await.status(), 200);
    let ticket = query_value(&url, "ticket");
    // The same ticket in a new flow of this browser: the server knows it no more.
    let fresh = idp.browser();
    let start = get(&fresh, app.url("/connexion/cas")).await;
    let service = query_value(&location(&start), "service");
    let etat = query_value(&service, "etat");
    let replay = format!("{back}?etat={etat}&ticket={ticket}");
    let res = get(&fresh, &replay).await;
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("n'a pas pu être vérifiée")
    );
    assert!(last_row(&app).4.unwrap().contains("INVALID_TICKET"));
    // A ticket issued for another service (another flow's URL), shown with this flow.
    let start = get(&fresh, app.url("/connexion/cas")).await;
    let etat = query_value(&query_value(&location(&start), "service"), "etat");
    let other = format!("{back}?etat=autre");
    let login = format!("{}/login?service={}", idp.cas_url, urlencode(&other));
    let url = sign_in_at_idp(&fresh, &idp, &login, ("slefevre", "Referent-2026"), &back).await;
    let ticket = query_value(&url, "ticket");
    let res = get(&fresh, format!("{back}?etat={etat}&ticket={ticket}")).await;
    assert_eq!(res.status(), 403);
    assert!(last_row(&app).4.unwrap().contains("INVALID_SERVICE"));
    // A return this browser never started.
    let stranger = idp.browser();
    let res = get(&stranger, format!("{back}?etat={etat}&ticket=ST-1")).await;
    assert_eq!(res.status(), 400);
    let row = last_row(&app);
    assert_eq!((row.2.as_str(), row.3.as_deref()), ("refused", Some("cas")));
    // One session only: the first sign-in's.
    assert_eq!(sessions(&app), 1);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn oidc_refuses_a_missing_state_a_spent_code_and_an_expired_id_token() {
    let idp = Idp::shared();
    let port = AppPort::take(&idp).await;
    let app = sso_app(&idp, Some(&port), |_| {}).await;
    let back = app.url(OIDC_RETURN);
    // No flow in this browser.
    let res = idp
        .browser()
        .get(format!("{back}?code=x&state=y"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("n'a pas été demandée depuis ce navigateur")
    );
    // A code is good once.
    let browser = idp.browser();
    let url = provider_return(&app, &idp, &browser, "oidc", ("slefevre", "Referent-2026")).await;
    assert_eq!(get(&browser, &url).await.status(), 200);
    let code = query_value(&url, "code");
    let start = get(&browser, app.url("/connexion/oidc")).await;
    let state = query_value(&location(&start), "state");
    let res = get(&browser, format!("{back}?code={code}&state={state}")).await;
    assert_eq!(res.status(), 403);
    assert!(last_row(&app).4.unwrap().contains("invalid_grant"));
    // An ID token read an hour after it was issued (it lives ten minutes).
    app.clock.set(Utc::now() + Duration::hours(1));
    let fresh = idp.browser();
    let url = provider_return(&app, &idp, &fresh, "oidc", ("slefevre", "Referent-2026")).await;
    let res = get(&fresh, &url).await;
    assert_eq!(res.status(), 403);
    assert!(
        last_row(&app).4.unwrap().contains("ID token"),
        "{:?}",
        last_row(&app)
    );
    assert_eq!(sessions(&app), 1);
}

#[tokio::test]
async fn an_unreachable_or_confused_provider_gives_a_french_page_quickly() {
    use std::time::Instant;
    let idp = Idp::shared();
    // A server that accepts and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!(
        "https://127.0.0.1:{}/cas",
        silent.local_addr().unwrap().port()
    );
    for (url, status, words) in [
        (silent_url, 503, "ne répond pas"),
        (format!("{}/pas-un-cas", idp.url), 502, "réponse illisible"),
    ] {
        let app = sso_app(&idp, None, |s| {
            let cas = s.sso.cas.as_mut().unwrap();
            cas.url = url.clone();
            cas.timeout_ms = 1000;
        })
        .await;
        let browser = idp.browser();
        let start = get(&browser, app.url("/connexion/cas")).await;
        let etat = query_value(&query_value(&location(&start), "service"), "etat");
        let began = Instant::now();
        let res = get(
            &browser,
            app.url(&format!("{CAS_RETURN}?etat={etat}&ticket=ST-1")),
        )
        .await;
        assert!(began.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(res.status(), status, "{url}");
        assert!(res.text().await.unwrap().contains(words), "{url}");
        assert_eq!(sessions(&app), 0);
        assert_eq!(last_row(&app).2, "refused");
    }
    // An OpenID provider whose discovery does not answer: the start itself says so.
    let port = silent.local_addr().unwrap().port();
    let app = sso_app(&idp, None, |s| {
        let oidc = s.sso.oidc.as_mut().unwrap();
        oidc.issuer = format!("https://127.0.0.1:{port}");
        oidc.timeout_ms = 1000;
    })
    .await;
    let began = Instant::now();
    let res = idp
        .browser()
        .get(app.url("/connexion/oidc"))
        .send()
        .await
        .unwrap();
    assert!(began.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    assert!(res.text().await.unwrap().contains("ne répond pas"));
    assert_eq!(last_row(&app).3.as_deref(), Some("oidc"));
    drop(silent);
}

#[tokio::test]
async fn the_uid_comes_from_the_configured_cas_attribute() {
    let idp = Idp::shared();
    for (attribute, status) in [("uid", 200), ("cn", 403), ("absent", 403)] {
        let app = sso_app(&idp, None, |s| {
            s.sso.cas.as_mut().unwrap().user_attribute = attribute.into();
        })
        .await;
        let browser = idp.browser();
        let res = through(&app, &idp, &browser, "cas", ("slefevre", "Referent-2026")).await;
        assert_eq!(res.status(), status, "{attribute}");
        assert_eq!(sessions(&app), i64::from(status == 200), "{attribute}");
    }
}

#[tokio::test]
async fn sso_only_hides_and_refuses_the_password_form() {
    let idp = Idp::shared();
    let app = sso_app(&idp, None, |s| s.directory.password_sign_in = false).await;
    let page = app.get("/connexion").await.text().await.unwrap();
    assert!(!page.contains("mot_de_passe"), "{page}");
    assert!(page.contains("Se connecter avec l'ENT") && page.contains("/connexion/cas"));
    // No form, so no token either: the refusal comes before any check.
    let res = app
        .client
        .post(app.url("/connexion"))
        .form(&[
            ("identifiant", "cperrin"),
            ("mot_de_passe", "Principal-2026"),
            ("csrf_token", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("connectez-vous depuis l'ENT")
    );
    assert_eq!(sessions(&app), 0);
    assert_eq!(
        last_row(&app).4.as_deref(),
        Some("password sign-in disabled")
    );
}

#[tokio::test]
async fn signing_out_of_an_sso_session_offers_the_providers_logout() {
    let idp = Idp::shared();
    let port = AppPort::take(&idp).await;
    let app = sso_app(&idp, Some(&port), |_| {}).await;
    let cas_logout = format!("{}/logout?service=", idp.cas_url);
    let oidc_logout = format!("{}/oauth2/logout?client_id=educt-admin", idp.url);
    for (connector, link) in [("cas", cas_logout), ("oidc", oidc_logout)] {
        let browser = idp.browser();
        through(
            &app,
            &idp,
            &browser,
            connector,
            ("cperrin", "Principal-2026"),
        )
        .await;
        let home = get(&browser, app.url("/")).await;
        let csrf = hidden_field(&home.text().await.unwrap(), "csrf_token");
        let out = browser
            .post(app.url("/deconnexion"))
            .form(&[("csrf_token", csrf)])
            .send()
            .await
            .unwrap();
        let to = location(&out);
        assert!(
            to.ends_with(&format!("session=terminee&ent={connector}")),
            "{to}"
        );
        let page = get(&browser, format!("http://{}{to}", app.addr)).await;
        let page = page.text().await.unwrap();
        assert!(page.contains("Se déconnecter aussi de l'ENT"), "{page}");
        assert!(page.contains(&link), "{connector}: {page}");
    }
}

/// The flow cookie a start sets (its value), with its attributes checked.
fn flow_cookie(res: &reqwest::Response) -> String {
    let header = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-educt-sso="))
        .expect("a flow cookie");
    for attribute in [
        "Secure",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=600",
    ] {
        assert!(header.contains(attribute), "{attribute}: {header}");
    }
    let value = header.split(';').next().unwrap();
    value.trim_start_matches("__Host-educt-sso=").to_owned()
}

#[tokio::test]
async fn the_flow_belongs_to_one_browser_one_connector_and_ten_minutes() {
    let idp = Idp::shared();
    let app = sso_app(&idp, None, |_| {}).await;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let returned = |path: String, cookie: String| {
        let plain = plain.clone();
        let url = app.url(&path);
        async move {
            let res = plain
                .get(url)
                .header("cookie", format!("__Host-educt-sso={cookie}"))
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let start = get(&plain, app.url("/connexion/cas")).await;
    let cookie = flow_cookie(&start);
    let etat = query_value(&query_value(&location(&start), "service"), "etat");
    // Tampered with: refused before the provider is asked anything.
    let mut tampered = cookie.clone();
    tampered.replace_range(10..11, if &cookie[10..11] == "A" { "B" } else { "A" });
    let (status, body) = returned(format!("{CAS_RETURN}?etat={etat}&ticket=ST-1"), tampered).await;
    assert_eq!(status, 400);
    assert!(body.contains("n'a pas été demandée depuis ce navigateur"));
    // A parameter given twice: which one? Refused, audited.
    let twice = format!("{CAS_RETURN}?etat={etat}&etat=autre&ticket=ST-1");
    let (status, _) = returned(twice, cookie.clone()).await;
    assert_eq!(status, 400);
    assert_eq!(last_row(&app).4.as_deref(), Some("a parameter given twice"));
    // The CAS flow shown to the OIDC return.
    let (status, _) = returned(format!("{OIDC_RETURN}?state={etat}&code=c"), cookie.clone()).await;
    assert_eq!(status, 400);
    // Eleven minutes later.
    app.clock.advance(Duration::minutes(11));
    let (status, _) = returned(format!("{CAS_RETURN}?etat={etat}&ticket=ST-1"), cookie).await;
    assert_eq!(status, 400);
    let row = last_row(&app);
    assert_eq!(
        (row.2.as_str(), row.4.as_deref()),
        ("refused", Some("state missing or wrong"))
    );
    // The provider's own refusal comes back to the OIDC return: a French page, audited.
    app.clock.set(Utc::now());
    let start = get(&plain, app.url("/connexion/oidc")).await;
    let cookie = flow_cookie(&start);
    let state = query_value(&location(&start), "state");
    let back = format!("{OIDC_RETURN}?state={state}&error=access_denied");
    let (status, body) = returned(back, cookie).await;
    assert_eq!(status, 403);
    assert!(body.contains("L'ENT n'a pas accepté la connexion"));
    let row = last_row(&app);
    assert_eq!(
        row.4.as_deref(),
        Some("the provider answered access_denied")
    );
    assert_eq!(sessions(&app), 0);
}

#[tokio::test]
async fn an_sso_sign_in_ends_the_session_the_browser_held() {
    let idp = Idp::shared();
    let app = sso_app(&idp, None, |_| {}).await;
    let browser = idp.browser();
    let res = app
        .sign_in_with(&browser, "cperrin", "Principal-2026")
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(sessions(&app), 1);
    through(&app, &idp, &browser, "cas", ("slefevre", "Referent-2026")).await;
    use diesel::prelude::*;
    use educt_admin::db::schema::sessions;
    let left: Vec<String> = sessions::table
        .select(sessions::agent_uid)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(left, ["slefevre"]);
}

#[tokio::test]
async fn a_connector_leads_back_to_the_page_asked_for() {
    let idp = Idp::shared();
    let app = sso_app(&idp, None, |_| {}).await;
    let browser = idp.browser();
    let asked = format!("/educt-admin-comptes/journal?uai={COLLEGE}");
    let to_sign_in = location(&get(&browser, app.url(&format!("/journal?uai={COLLEGE}"))).await);
    let page = get(&browser, format!("http://{}{to_sign_in}", app.addr)).await;
    let page = page.text().await.unwrap();
    let button = format!(
        "/educt-admin-comptes/connexion/cas?suite={}",
        urlencode(&asked)
    );
    assert!(page.contains(&button), "{page}");
    let start = get(&browser, format!("http://{}{button}", app.addr)).await;
    let back = app.url(CAS_RETURN);
    let who = ("cperrin", "Principal-2026");
    let url = sign_in_at_idp(&browser, &idp, &location(&start), who, &back).await;
    let landed = get(&browser, &url).await.text().await.unwrap();
    assert!(
        landed.contains(&format!("url={}", asked.replace('&', "&amp;"))),
        "{landed}"
    );
}
