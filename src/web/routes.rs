//! The one route table: every route under the mount point, declared once as data
//! (method, path, access, handler). [`configure`] builds the router from it, the session
//! guard reads it to know which requests need no session (BRIEF rule 1), and the route ×
//! role matrix test (`tests/api/matrix/`) walks it, so a route added here without a matrix
//! row fails the suite.

use actix_web::{HttpResponse, web};

use super::accounts::{Parents, Pupils, record};
use super::import_page;
use super::parents::search as parent_search;
use super::pupils::{batch_pages, classes, search, stats};
use super::{
    BASE, assets, delegation_changes, delegations, errors, first_signin, health, home, journal,
    otp, signin, sso, transfers,
};
use crate::delegation::Scope;

/// The HTTP methods the app answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }

    fn route(self) -> actix_web::Route {
        match self {
            Method::Get => web::get(),
            Method::Post => web::post(),
        }
    }

    /// The request's method, as the table knows it (HEAD is a GET without a body).
    fn of(method: &actix_web::http::Method) -> Option<Self> {
        use actix_web::http::Method as M;
        if method == M::GET || method == M::HEAD {
            Some(Method::Get)
        } else if method == M::POST {
            Some(Method::Post)
        } else {
            None
        }
    }
}

/// Who may call a route. Deny by default: a request that matches no route that says
/// otherwise needs a signed-in agent. The establishment-scoped kinds (`Scope`,
/// `PrincipalOnly`) are checked by the handler through `web::guard::permit` (the UAI comes
/// from the record or the request, BRIEF rule 4); the matrix test holds every handler to the
/// kind declared here. The kinds the coming features use are here already, each with the
/// guard that enforces it, so that none of them bends rule 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No session: sign-in (and the ENT connectors' starts, callbacks and back-channel
    /// logout: 404 unless configured), health, static assets, the first sign-in of pupils
    /// and parents (a 404 unless `[activation] enabled`).
    Public,
    /// No session, but only from a client address inside `[network] metrics_networks`
    /// (metrics); from anywhere else the route does not exist (404).
    NetworkOnly,
    /// No session and no cookie: the handler's extractor checks a service token (the API).
    Bearer,
    /// No session: the single-use token in the path is the credential, checked and spent by
    /// the handler (a letter's PDF, an activation link).
    TokenLink,
    /// Any signed-in agent; about no establishment (home page, sign-out, his own TOTP).
    SignedIn,
    /// A signed-in agent of the académie's helpdesk. Until the helpdesk exists, nobody is
    /// one: the session guard refuses every agent (403).
    Helpdesk,
    /// A principal of the establishment, or an active delegate of this scope there.
    Scope(Scope),
    /// A principal of the establishment only (delegations, journal, import).
    PrincipalOnly,
}

impl Access {
    pub fn needs_session(self) -> bool {
        match self {
            Access::Public | Access::NetworkOnly | Access::Bearer | Access::TokenLink => false,
            Access::SignedIn | Access::Helpdesk | Access::Scope(_) | Access::PrincipalOnly => true,
        }
    }

    /// About one establishment: the route × role matrix must have a row for it.
    pub fn is_establishment_scoped(self) -> bool {
        match self {
            Access::Public
            | Access::NetworkOnly
            | Access::Bearer
            | Access::TokenLink
            | Access::SignedIn
            | Access::Helpdesk => false,
            Access::Scope(_) | Access::PrincipalOnly => true,
        }
    }
}

/// What a route needs after the rights: the parents' gate (BRIEF rule 5) or nothing. The
/// one guard after a permit (`web::guard::admit`) reads it from the table; a record of a
/// parent needs the gate whatever the path it is reached by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateRule {
    None,
    Parents,
}

/// One route: `path` is relative to the mount point ([`BASE`]); `{name}` is one path segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteDef {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub gate: GateRule,
}

impl RouteDef {
    /// Whether `path` (relative to the mount point, without the query) is this route's.
    pub fn matches(&self, path: &str) -> bool {
        let mut want = self.path.split('/');
        let mut got = path.split('/');
        loop {
            match (want.next(), got.next()) {
                (None, None) => return true,
                (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') => {
                    if g.is_empty() {
                        return false;
                    }
                }
                (Some(w), Some(g)) if w == g => {}
                _ => return false,
            }
        }
    }
}

/// The route under the mount point that a request reaches, if any (first match wins, as in
/// the router).
pub fn find(method: &actix_web::http::Method, path: &str) -> Option<&'static RouteDef> {
    let method = Method::of(method)?;
    let rest = path.strip_prefix(BASE)?;
    ROUTES
        .iter()
        .find(|r| r.method == method && r.matches(rest))
}

/// Declares the table once: [`ROUTES`] and the actix registration, in the same order (the
/// router tries routes in order: literal paths before `{id}` ones). A route's gate follows
/// its access after a comma (none when absent).
macro_rules! route_table {
    (@gate) => { GateRule::None };
    (@gate $gate:expr) => { $gate };
    ($( $method:ident $path:literal $access:expr $(, $gate:expr)? => $handler:path; )*) => {
        /// Every route under the mount point.
        pub const ROUTES: &[RouteDef] = &[
            $( RouteDef {
                method: Method::$method,
                path: $path,
                access: $access,
                gate: route_table!(@gate $($gate)?),
            }, )*
        ];

        fn register(scope: actix_web::Scope) -> actix_web::Scope {
            scope $( .route($path, Method::$method.route().to($handler)) )*
        }
    };
}

use Access::{PrincipalOnly, Public, SignedIn};
const ELEVES: Access = Access::Scope(Scope::Eleves);
const RESPONSABLES: Access = Access::Scope(Scope::Responsables);
const PARENTS: GateRule = GateRule::Parents;

route_table! {
    Get "/" SignedIn => home::show_home;
    Get "/connexion" Public => signin::sign_in_form;
    Post "/connexion" Public => signin::sign_in;
    Post "/deconnexion" SignedIn => signin::sign_out;
    Get "/connexion/cas" Public => sso::cas_start;
    Get "/connexion/cas/retour" Public => sso::cas_return;
    Get "/connexion/oidc" Public => sso::oidc_start;
    Get "/connexion/oidc/retour" Public => sso::oidc_return;
    Post "/connexion/oidc/deconnexion-canal-arriere" Public => sso::backchannel_logout;
    Get "/premiere-connexion" Public => first_signin::proof_form;
    Post "/premiere-connexion" Public => first_signin::prove;
    Post "/premiere-connexion/mot-de-passe" Public => first_signin::choose;
    Get "/premiere-connexion/mot-de-passe" Public => first_signin::start_again;
    Get "/otp" SignedIn => otp::otp_form;
    Post "/otp" SignedIn => otp::check_code;
    Get "/otp/enrolement" SignedIn => otp::enrol_form;
    Post "/otp/enrolement" SignedIn => otp::start_enrolment;
    Post "/otp/enrolement/confirmation" SignedIn => otp::confirm_enrolment;
    Get "/otp/enrolement/ent" SignedIn => sso::reauth_at_provider;
    Get "/delegations" PrincipalOnly => delegations::show_delegations;
    Post "/delegations" PrincipalOnly => delegations::grant_delegation;
    Get "/delegations/{id}/revocation" PrincipalOnly => delegation_changes::confirm_revocation;
    Post "/delegations/{id}/revocation" PrincipalOnly => delegation_changes::revoke_delegation;
    Post "/delegations/{id}/prolongation" PrincipalOnly => delegation_changes::extend_delegation;
    Get "/journal" PrincipalOnly => journal::show_journal;
    Get "/journal.csv" PrincipalOnly => journal::export_journal;
    Get "/import" PrincipalOnly => import_page::import_form;
    Post "/import" PrincipalOnly => import_page::run_import;
    Get "/transferts" PrincipalOnly => transfers::show_transfers;
    Post "/transferts/{id}/acceptation" PrincipalOnly => transfers::accept_transfer;
    Get "/depannage/eleve" ELEVES => search::search_pupils;
    Get "/depannage/responsable" RESPONSABLES, PARENTS => parent_search::search_parents;
    Get "/depannage/responsable/classe" RESPONSABLES, PARENTS => classes::class_form::<Parents>;
    Post "/depannage/responsable/classe" RESPONSABLES, PARENTS => classes::create_batch::<Parents>;
    Get "/depannage/responsable/lots/{id}" RESPONSABLES, PARENTS => batch_pages::show_batch;
    Get "/depannage/responsable/lots/{id}/courriers" RESPONSABLES, PARENTS => batch_pages::print_letters;
    Post "/depannage/responsable/lots/{id}/reprise" RESPONSABLES, PARENTS => batch_pages::resume_batch;
    Post "/depannage/responsable/lots/{id}/impression" RESPONSABLES, PARENTS => batch_pages::confirm_printed;
    Post "/depannage/responsable/lots/{id}/abandon" RESPONSABLES, PARENTS => batch_pages::abandon_batch;
    Get "/depannage/responsable/{id}" RESPONSABLES, PARENTS => record::show::<Parents>;
    Post "/depannage/responsable/{id}/coordonnees" RESPONSABLES, PARENTS => record::show_contacts;
    Get "/depannage/responsable/{id}/{change}" RESPONSABLES, PARENTS => record::confirm_parent_change;
    Post "/depannage/responsable/{id}/reinitialisation" RESPONSABLES, PARENTS => record::reset_password::<Parents>;
    Post "/depannage/responsable/{id}/{change}" RESPONSABLES, PARENTS => record::change_state::<Parents>;
    Get "/depannage/eleve/classe" ELEVES => classes::class_form::<Pupils>;
    Post "/depannage/eleve/classe" ELEVES => classes::create_batch::<Pupils>;
    Get "/depannage/eleve/statistiques" ELEVES => stats::show_stats;
    Get "/depannage/eleve/export.csv" ELEVES => stats::export_division;
    Get "/depannage/eleve/lots/{id}" ELEVES => batch_pages::show_batch;
    Get "/depannage/eleve/lots/{id}/courriers" ELEVES => batch_pages::print_letters;
    Post "/depannage/eleve/lots/{id}/reprise" ELEVES => batch_pages::resume_batch;
    Post "/depannage/eleve/lots/{id}/impression" ELEVES => batch_pages::confirm_printed;
    Post "/depannage/eleve/lots/{id}/abandon" ELEVES => batch_pages::abandon_batch;
    Get "/depannage/eleve/{id}" ELEVES => record::show::<Pupils>;
    Get "/depannage/eleve/{id}/reinitialisation" ELEVES => record::confirm_reset;
    Post "/depannage/eleve/{id}/reinitialisation" ELEVES => record::reset_password::<Pupils>;
    Post "/depannage/eleve/{id}/{change}" ELEVES => record::change_state::<Pupils>;
    Get "/health/live" Public => health::live;
    Get "/health/ready" Public => health::ready;
    Get "/assets/{file}" Public => assets::serve_asset;
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The two redirects to the mount point live outside it (the session guard lets every
    // path outside the mount point through: only these and the 404 page are there).
    cfg.route("/", web::get().to(redirect_to_base))
        .route(BASE, web::get().to(redirect_to_base))
        .service(register(web::scope(BASE)))
        .default_service(web::to(errors::not_found));
}

async fn redirect_to_base() -> HttpResponse {
    HttpResponse::Found()
        .insert_header(("Location", format!("{BASE}/")))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::Method as M;

    fn access(method: M, path: &str) -> Option<Access> {
        find(&method, &format!("{BASE}{path}")).map(|r| r.access)
    }

    #[test]
    fn a_request_finds_its_route_as_the_router_would() {
        assert_eq!(access(M::GET, "/connexion"), Some(Public));
        assert_eq!(access(M::POST, "/connexion"), Some(Public));
        assert_eq!(access(M::GET, "/premiere-connexion"), Some(Public));
        assert_eq!(
            access(M::POST, "/premiere-connexion/mot-de-passe"),
            Some(Public)
        );
        assert_eq!(
            access(M::GET, "/premiere-connexion/mot-de-passe"),
            Some(Public)
        );
        assert_eq!(access(M::HEAD, "/health/live"), Some(Public));
        assert_eq!(access(M::GET, "/assets/style.css"), Some(Public));
        assert_eq!(access(M::GET, "/"), Some(SignedIn));
        assert_eq!(access(M::GET, "/depannage/eleve/classe"), Some(ELEVES));
        assert_eq!(access(M::GET, "/depannage/eleve/12"), Some(ELEVES));
        assert_eq!(
            access(M::POST, "/depannage/responsable/12/desactivation"),
            Some(RESPONSABLES)
        );
        assert_eq!(access(M::GET, "/journal.csv"), Some(PrincipalOnly));
    }

    #[test]
    fn the_parents_gate_guards_exactly_the_parents_routes() {
        for r in ROUTES {
            let parents = r.access == RESPONSABLES;
            assert_eq!(r.gate == GateRule::Parents, parents, "{}", r.path);
            assert_eq!(
                parents,
                r.path.starts_with("/depannage/responsable"),
                "{}",
                r.path
            );
        }
    }

    #[test]
    fn only_the_routes_without_a_session_say_so() {
        let open = [
            Access::Public,
            Access::NetworkOnly,
            Access::Bearer,
            Access::TokenLink,
        ];
        for a in open {
            assert!(!a.needs_session() && !a.is_establishment_scoped(), "{a:?}");
        }
        for a in [
            SignedIn,
            Access::Helpdesk,
            ELEVES,
            RESPONSABLES,
            PrincipalOnly,
        ] {
            assert!(a.needs_session(), "{a:?}");
        }
    }

    #[test]
    fn what_matches_no_route_is_no_route() {
        assert_eq!(access(M::GET, "/assets/a/b.css"), None);
        assert_eq!(access(M::GET, "/assets/"), None);
        assert_eq!(access(M::GET, "/assets/../delegations"), None);
        assert_eq!(access(M::GET, "/connexion/"), None);
        assert_eq!(access(M::GET, ""), None);
        assert_eq!(access(M::PUT, "/connexion"), None);
        assert_eq!(access(M::GET, "/deconnexion"), None);
        assert_eq!(find(&M::GET, "/connexion"), None);
        assert_eq!(find(&M::GET, "/educt-admin-comptesX/connexion"), None);
    }

    #[test]
    fn every_route_is_declared_once() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in ROUTES.iter().skip(i + 1) {
                assert!(
                    (a.method, a.path) != (b.method, b.path),
                    "{} {} is declared twice",
                    a.method.as_str(),
                    a.path
                );
            }
        }
    }

    #[test]
    fn only_sign_in_sso_first_sign_in_health_and_assets_are_public() {
        let mut public: Vec<String> = ROUTES
            .iter()
            .filter(|r| !r.access.needs_session())
            .map(|r| format!("{} {}", r.method.as_str(), r.path))
            .collect();
        public.sort();
        assert_eq!(
            public,
            [
                "GET /assets/{file}",
                "GET /connexion",
                "GET /connexion/cas",
                "GET /connexion/cas/retour",
                "GET /connexion/oidc",
                "GET /connexion/oidc/retour",
                "GET /health/live",
                "GET /health/ready",
                "GET /premiere-connexion",
                "GET /premiere-connexion/mot-de-passe",
                "POST /connexion",
                "POST /connexion/oidc/deconnexion-canal-arriere",
                "POST /premiere-connexion",
                "POST /premiere-connexion/mot-de-passe",
            ]
        );
    }
}
