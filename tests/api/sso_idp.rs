//! The run's identity provider (LemonLDAP::NG, started by scripts/test through
//! tests/sso/start-llng and named by TEST_SSO_*), the app settings that use it, and a
//! browser that signs in on its pages as a person would (tests/sso/README.md).

use std::path::PathBuf;
use std::sync::Mutex;

use educt_admin::config::{CasSettings, OidcSettings};
use scraper::{Html, Selector};

/// The shared provider of this run.
pub struct Idp {
    pub url: String,
    pub ca_file: PathBuf,
    pub cas_url: String,
    pub issuer: String,
    pub client_id: String,
    pub secret_file: PathBuf,
    pub app_ports: Vec<u16>,
    /// Seconds a provider session must be old before `prompt=login`/`renew=true` ask again.
    pub force_interval: u64,
    pub signing_key: PathBuf,
}

fn var(k: &str) -> String {
    std::env::var(k).unwrap_or_else(|_| {
        panic!(
            "{k} is not set: run the suite with scripts/test, which starts the identity provider"
        )
    })
}

impl Idp {
    pub fn shared() -> Self {
        Self {
            url: var("TEST_SSO_URL"),
            ca_file: var("TEST_SSO_CA_FILE").into(),
            cas_url: var("TEST_SSO_CAS_URL"),
            issuer: var("TEST_SSO_OIDC_ISSUER"),
            client_id: var("TEST_SSO_OIDC_CLIENT_ID"),
            secret_file: var("TEST_SSO_OIDC_CLIENT_SECRET_FILE").into(),
            app_ports: var("TEST_SSO_APP_PORTS")
                .split_whitespace()
                .map(|p| p.parse().unwrap())
                .collect(),
            force_interval: var("TEST_SSO_FORCE_AUTHN_INTERVAL").parse().unwrap(),
            signing_key: var("TEST_SSO_OIDC_SIGNING_KEY").into(),
        }
    }

    pub fn cas(&self) -> CasSettings {
        CasSettings {
            url: self.cas_url.clone(),
            ca_file: Some(self.ca_file.clone()),
            ..CasSettings::default()
        }
    }

    pub fn oidc(&self) -> OidcSettings {
        OidcSettings {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret_file: Some(self.secret_file.clone()),
            uid_claim: "uid".into(),
            label: "Se connecter avec le compte académique".into(),
            ca_file: Some(self.ca_file.clone()),
            ..OidcSettings::default()
        }
    }

    /// A browser trusting the provider's CA, with its own cookies, following no redirect.
    pub fn browser(&self) -> reqwest::Client {
        let ca = std::fs::read(&self.ca_file).unwrap();
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap()
    }
}

/// The ports whose OIDC return URL the provider knows: an app that signs in through OIDC
/// listens on one, held until dropped.
pub struct AppPort {
    pub port: u16,
}

static TAKEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());

impl AppPort {
    pub async fn take(idp: &Idp) -> Self {
        loop {
            {
                let mut taken = TAKEN.lock().unwrap();
                if let Some(&port) = idp.app_ports.iter().find(|p| !taken.contains(p)) {
                    taken.push(port);
                    return Self { port };
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

impl Drop for AppPort {
    fn drop(&mut self) {
        if let Ok(mut taken) = TAKEN.lock() {
            taken.retain(|p| *p != self.port);
        }
    }
}

fn location(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned)
}

/// A form's action and hidden fields.
type Form = (Option<String>, Vec<(String, String)>);

/// The hidden fields of the first form of `html` with its action.
fn form_of(html: &str) -> Option<Form> {
    let doc = Html::parse_document(html);
    let form = doc.select(&Selector::parse("form").unwrap()).next()?;
    let action = form.value().attr("action").map(str::to_owned);
    let hidden = form
        .select(&Selector::parse("input[type=hidden]").unwrap())
        .filter_map(|i| {
            let name = i.value().attr("name")?;
            Some((
                name.to_owned(),
                i.value().attr("value").unwrap_or("").to_owned(),
            ))
        })
        .collect();
    Some((action, hidden))
}

/// Follows the provider's pages from `url` as a person would, typing `uid` and `password`
/// when asked (the sign-in form, or its "renew your session" confirmation first), until the
/// provider sends the browser back to `back_to` (a URL prefix): that URL.
pub async fn sign_in_at_idp(
    browser: &reqwest::Client,
    idp: &Idp,
    url: &str,
    who: (&str, &str),
    back_to: &str,
) -> String {
    sign_in_at_idp_typed(browser, idp, url, who, back_to)
        .await
        .0
}

/// [`sign_in_at_idp`], and whether the provider asked for the password on the way.
pub async fn sign_in_at_idp_typed(
    browser: &reqwest::Client,
    idp: &Idp,
    url: &str,
    (uid, password): (&str, &str),
    back_to: &str,
) -> (String, bool) {
    let mut next = url.to_owned();
    let mut posted_password = false;
    for _ in 0..10 {
        if next.starts_with(back_to) {
            return (next, posted_password);
        }
        let res = browser.get(&next).send().await.unwrap();
        if let Some(to) = location(&res) {
            next = absolute(idp, &to);
            continue;
        }
        let page_url = next.clone();
        let body = res.text().await.unwrap();
        let (action, hidden) =
            form_of(&body).unwrap_or_else(|| panic!("no form at {page_url}: {body}"));
        let target = match action.as_deref() {
            None | Some("#") | Some("") => page_url,
            Some(a) => absolute(idp, a),
        };
        let mut fields = hidden;
        let asks_password = body.contains("name=\"password\"");
        if asks_password {
            assert!(
                !posted_password,
                "the provider refused the password for {uid}"
            );
            posted_password = true;
            fields.retain(|(k, _)| k != "user" && k != "password");
            fields.push(("user".into(), uid.into()));
            fields.push(("password".into(), password.into()));
        }
        let res = browser.post(&target).form(&fields).send().await.unwrap();
        match location(&res) {
            Some(to) => next = absolute(idp, &to),
            None => {
                // A page again (the password form after a renew confirmation).
                let body = res.text().await.unwrap();
                let (action, hidden) = form_of(&body).expect("a form after the confirmation");
                let target = match action.as_deref() {
                    None | Some("#") | Some("") => target,
                    Some(a) => absolute(idp, a),
                };
                let mut fields = hidden;
                fields.retain(|(k, _)| k != "user" && k != "password");
                fields.push(("user".into(), uid.into()));
                fields.push(("password".into(), password.into()));
                posted_password = true;
                let res = browser.post(&target).form(&fields).send().await.unwrap();
                next = absolute(idp, &location(&res).expect("a redirect after the password"));
            }
        }
    }
    panic!("the provider never sent the browser back to {back_to}");
}

fn absolute(idp: &Idp, to: &str) -> String {
    if to.starts_with("http://") || to.starts_with("https://") {
        to.to_owned()
    } else {
        format!("{}{}", idp.url, to)
    }
}
