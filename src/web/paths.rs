//! Typed URL builders: every link, form action and redirect of the app is made here, for a
//! route of the table (`routes::ROUTES`), with its path parameters typed and its query
//! encoded (a class named `3A&B` stays one value). The tests check that each builder lands on
//! the route it names, so a renamed route cannot leave a dead link behind.

use std::fmt;

use super::BASE;
use crate::accounts::AccountKind;

/// A URL under the mount point, with its query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    path: String,
    query: Vec<(&'static str, String)>,
}

impl Url {
    fn at(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            query: Vec::new(),
        }
    }

    /// Adds `name=value` to the query.
    pub fn with(mut self, name: &'static str, value: impl fmt::Display) -> Self {
        self.query.push((name, value.to_string()));
        self
    }

    /// Adds `name=value` when there is a value.
    pub fn with_some(self, name: &'static str, value: Option<impl fmt::Display>) -> Self {
        match value {
            Some(v) => self.with(name, v),
            None => self,
        }
    }

    /// The path under the mount point, without the query (for the route table).
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{BASE}{}", self.path)?;
        if !self.query.is_empty() {
            let query = serde_html_form::to_string(&self.query).map_err(|_| fmt::Error)?;
            write!(f, "?{query}")?;
        }
        Ok(())
    }
}

impl maud::Render for Url {
    fn render_to(&self, buffer: &mut String) {
        use std::fmt::Write as _;
        write!(maud::Escaper::new(buffer), "{self}").ok();
    }
}

/// The query parameter that carries the page an agent asked for through the sign-in and the
/// TOTP check.
pub const RETURN_PARAM: &str = "suite";

/// `asked` if it is a page of this site an agent may be sent back to: a local path (ASCII, no
/// scheme or host, no `//`, backslash, space or control character) to a GET route under the
/// mount point that needs a session, the home page excepted; else `None` (the caller goes
/// home). No open redirect.
pub fn local_return(asked: &str) -> Option<Url> {
    let clean = asked.len() <= 1024
        && asked.is_ascii()
        && !asked
            .chars()
            .any(|c| c.is_ascii_control() || c == '\\' || c == ' ');
    let rest = asked.strip_prefix(BASE).filter(|_| clean)?;
    if !rest.starts_with('/') || rest.starts_with("//") || rest == "/" {
        return None;
    }
    let rest = rest.split('#').next().unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or(rest);
    let get = actix_web::http::Method::GET;
    let route = super::routes::find(&get, &format!("{BASE}{path}"))?;
    route.access.needs_session().then(|| Url::at(rest))
}

pub fn home() -> Url {
    Url::at("/")
}

pub fn sign_in() -> Url {
    Url::at("/connexion")
}

pub fn sign_out() -> Url {
    Url::at("/deconnexion")
}

/// The first sign-in of pupils and parents (step 1; step 2 posts to its `mot-de-passe`).
pub fn first_signin() -> Url {
    Url::at("/premiere-connexion")
}

pub fn first_signin_choice() -> Url {
    Url::at("/premiere-connexion/mot-de-passe")
}

pub fn otp() -> Url {
    Url::at("/otp")
}

pub fn otp_enrolment() -> Url {
    Url::at("/otp/enrolement")
}

/// An SSO session proves itself again at its provider before an enrolment.
pub fn otp_enrolment_at_provider() -> Url {
    Url::at("/otp/enrolement/ent")
}

/// The ENT connectors: where the sign-in page's buttons go.
pub fn sso_cas() -> Url {
    Url::at("/connexion/cas")
}

pub fn sso_oidc() -> Url {
    Url::at("/connexion/oidc")
}

pub fn otp_confirmation() -> Url {
    Url::at("/otp/enrolement/confirmation")
}

/// An establishment's page (`delegations`, `journal`, `import`, `transferts`, or a kind's
/// search `depannage/eleve`), for `uai` when given.
pub fn establishment_page(page: &str, uai: Option<impl fmt::Display>) -> Url {
    Url::at(format!("/{page}")).with_some("uai", uai)
}

pub fn delegations(uai: Option<impl fmt::Display>) -> Url {
    establishment_page("delegations", uai)
}

pub fn revocation(delegation: impl fmt::Display) -> Url {
    Url::at(format!("/delegations/{delegation}/revocation"))
}

pub fn extension(delegation: impl fmt::Display) -> Url {
    Url::at(format!("/delegations/{delegation}/prolongation"))
}

pub fn journal(uai: Option<impl fmt::Display>) -> Url {
    establishment_page("journal", uai)
}

pub fn journal_csv() -> Url {
    Url::at("/journal.csv")
}

pub fn import(uai: Option<impl fmt::Display>) -> Url {
    establishment_page("import", uai)
}

pub fn transfers(uai: Option<impl fmt::Display>) -> Url {
    establishment_page("transferts", uai)
}

pub fn transfer_acceptance(transfer: impl fmt::Display) -> Url {
    Url::at(format!("/transferts/{transfer}/acceptation"))
}

/// A kind's search page (`/depannage/eleve`, `/depannage/responsable`).
pub fn search(kind: AccountKind, uai: Option<impl fmt::Display>) -> Url {
    Url::at(format!("/depannage/{}", kind.path_segment())).with_some("uai", uai)
}

/// An account's page; a parent's names the establishment he is shown in.
pub fn account(kind: AccountKind, id: impl fmt::Display) -> Url {
    Url::at(format!("/depannage/{}/{id}", kind.path_segment()))
}

/// An action on an account (`reinitialisation`, `deblocage`, `coordonnees`…).
pub fn account_action(kind: AccountKind, id: impl fmt::Display, action: &str) -> Url {
    Url::at(format!("/depannage/{}/{id}/{action}", kind.path_segment()))
}

/// The class letters' form of a kind.
pub fn class_form(kind: AccountKind) -> Url {
    Url::at(format!("/depannage/{}/classe", kind.path_segment()))
}

/// A batch's page.
pub fn batch(kind: AccountKind, id: impl fmt::Display) -> Url {
    Url::at(format!("/depannage/{}/lots/{id}", kind.path_segment()))
}

/// A batch's letters or one of its actions (`courriers`, `reprise`, `impression`, `abandon`).
pub fn batch_part(kind: AccountKind, id: impl fmt::Display, part: &str) -> Url {
    Url::at(format!(
        "/depannage/{}/lots/{id}/{part}",
        kind.path_segment()
    ))
}

pub fn statistics(uai: impl fmt::Display) -> Url {
    Url::at("/depannage/eleve/statistiques").with("uai", uai)
}

pub fn division_csv(uai: impl fmt::Display, division: &str) -> Url {
    Url::at("/depannage/eleve/export.csv")
        .with("uai", uai)
        .with("division", division)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::routes::{self, ROUTES};
    use AccountKind::{Parent, Pupil};
    use actix_web::http::Method as M;

    /// The route template `url` reaches with `method`.
    fn route_of(method: M, url: &Url) -> Option<&'static str> {
        routes::find(&method, &format!("{BASE}{}", url.path())).map(|r| r.path)
    }

    /// The builders of the sign-in, TOTP and first sign-in routes.
    fn sign_in_cases() -> Vec<(M, Url, &'static str)> {
        vec![
            (M::GET, home(), "/"),
            (M::POST, sign_in(), "/connexion"),
            (M::POST, sign_out(), "/deconnexion"),
            (M::GET, first_signin(), "/premiere-connexion"),
            (M::POST, first_signin(), "/premiere-connexion"),
            (
                M::POST,
                first_signin_choice(),
                "/premiere-connexion/mot-de-passe",
            ),
            (M::GET, otp(), "/otp"),
            (M::POST, otp_enrolment(), "/otp/enrolement"),
            (M::POST, otp_confirmation(), "/otp/enrolement/confirmation"),
            (M::GET, otp_enrolment_at_provider(), "/otp/enrolement/ent"),
            (M::GET, sso_cas(), "/connexion/cas"),
            (M::GET, sso_oidc(), "/connexion/oidc"),
        ]
    }

    #[test]
    fn every_builder_lands_on_the_route_it_names() {
        let uai = Some("0750001A");
        let mut cases = sign_in_cases();
        cases.extend([
            (M::GET, delegations(uai), "/delegations"),
            (M::POST, revocation(7), "/delegations/{id}/revocation"),
            (M::POST, extension(7), "/delegations/{id}/prolongation"),
            (M::GET, journal(uai), "/journal"),
            (M::GET, journal_csv(), "/journal.csv"),
            (M::POST, import(uai), "/import"),
            (M::GET, transfers(uai), "/transferts"),
            (
                M::POST,
                transfer_acceptance(3),
                "/transferts/{id}/acceptation",
            ),
            (
                M::GET,
                statistics("0750001A"),
                "/depannage/eleve/statistiques",
            ),
            (
                M::GET,
                division_csv("0750001A", "3A"),
                "/depannage/eleve/export.csv",
            ),
            (
                M::POST,
                account_action(Parent, 12, "coordonnees"),
                "/depannage/responsable/{id}/coordonnees",
            ),
        ]);
        for kind in [Pupil, Parent] {
            let at = |rest: &str| format!("/depannage/{}{rest}", kind.path_segment());
            let templates = |rest: &str| -> &'static str {
                ROUTES
                    .iter()
                    .map(|r| r.path)
                    .find(|p| *p == at(rest))
                    .unwrap_or("missing")
            };
            cases.push((M::GET, search(kind, uai), templates("")));
            cases.push((M::GET, account(kind, 12), templates("/{id}")));
            cases.push((M::POST, class_form(kind), templates("/classe")));
            cases.push((M::GET, batch(kind, 4), templates("/lots/{id}")));
            let reset = account_action(kind, 12, "reinitialisation");
            cases.push((M::POST, reset, templates("/{id}/reinitialisation")));
            let change = account_action(kind, 12, "deblocage");
            cases.push((M::POST, change, templates("/{id}/{change}")));
            for part in ["courriers", "reprise", "impression", "abandon"] {
                let template = templates(&format!("/lots/{{id}}/{part}"));
                let method = if part == "courriers" { M::GET } else { M::POST };
                cases.push((method, batch_part(kind, 4, part), template));
            }
        }
        for (method, url, template) in &cases {
            assert_eq!(route_of(method.clone(), url), Some(*template), "{url}");
        }
        // Every route but the public ones is reached by some builder.
        for r in ROUTES.iter().filter(|r| r.access.needs_session()) {
            assert!(
                cases.iter().any(|(_, _, t)| *t == r.path),
                "no URL builder for {}",
                r.path
            );
        }
    }

    #[test]
    fn query_values_are_encoded_and_paths_are_under_the_mount_point() {
        assert_eq!(home().to_string(), format!("{BASE}/"));
        assert_eq!(
            division_csv("0750001A", "3A&B #2").to_string(),
            format!("{BASE}/depannage/eleve/export.csv?uai=0750001A&division=3A%26B+%232")
        );
        assert_eq!(
            account(Parent, 9).with("uai", "0750001A").to_string(),
            format!("{BASE}/depannage/responsable/9?uai=0750001A")
        );
        assert_eq!(
            delegations(None::<&str>).to_string(),
            format!("{BASE}/delegations")
        );
        let rendered = maud::html! { a href=(division_csv("0750001A", "<3A>")) {} };
        assert_eq!(
            rendered.into_string(),
            format!(
                r#"<a href="{BASE}/depannage/eleve/export.csv?uai=0750001A&amp;division=%3C3A%3E"></a>"#
            )
        );
    }
}
