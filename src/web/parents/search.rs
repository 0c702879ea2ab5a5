//! `GET /depannage/responsable`: search the parents of one establishment's pupils.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::super::calls::html;
use super::super::calls::permit_requested;
use super::super::chrome::{chrome, establishment_name};
use super::super::errors::AppError;
use super::super::parents_gate::Gate;
use super::super::request::Asker;
use super::super::views::parents::{ParentSearchView, parent_search_page};
use crate::accounts::parents::{self, Child, Parent, ParentSearch};
use crate::accounts::{AccountKind, AccountOp};
use crate::accounts::{AccountState, pupils};
use crate::db::DbConnection;
use crate::delegation::policy::Action;
use crate::domain::Uai;

pub const PAGE_SIZE: usize = 50;

#[derive(Debug, Default, Deserialize)]
pub struct Query {
    uai: Option<String>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    division: String,
    #[serde(default)]
    etat: String,
    #[serde(default)]
    mail: String,
    #[serde(default)]
    parcours: String,
}

pub fn gate_label(g: Gate) -> &'static str {
    match g {
        Gate::Network => "depuis le réseau administratif",
        Gate::Totp => "après vérification du code de l'application d'authentification",
    }
}

impl Query {
    /// The criteria, clipped and typed (an unknown state or path is no criterion).
    fn search(&self) -> ParentSearch {
        let clip = |s: &str, n: usize| s.trim().chars().take(n).collect::<String>();
        ParentSearch {
            text: clip(&self.q, 100),
            division: Some(clip(&self.division, 30)).filter(|d| !d.is_empty()),
            state: AccountState::parse(self.etat.trim()),
            email: clip(&self.mail, 100),
            activation_path: Some(clip(&self.parcours, 20))
                .filter(|p| ["notification", "sms", "franceconnect"].contains(&p.as_str())),
        }
    }
}

/// Whether any criterion was given (no list before).
fn searched(s: &ParentSearch) -> bool {
    !s.text.is_empty()
        || s.division.is_some()
        || s.state.is_some()
        || !s.email.is_empty()
        || s.activation_path.is_some()
}

/// What the page lists: the establishment's classes, and the parents found (when searched)
/// each with his children there, and how many in all.
type Found = (Vec<(String, i64)>, Vec<(Parent, Vec<Child>)>, usize);

fn find(conn: &mut DbConnection, uai: &Uai, search: &ParentSearch) -> Result<Found, AppError> {
    let divisions = pupils::divisions(conn, uai)?;
    if !searched(search) {
        return Ok((divisions, Vec::new(), 0));
    }
    let (found, total) = parents::search(conn, uai, search, 0, PAGE_SIZE)?;
    let mut rows = Vec::new();
    for p in found {
        let kids = parents::children(conn, p.id, uai)?;
        rows.push((p, kids));
    }
    Ok((divisions, rows, total))
}

pub async fn search_parents(who: Asker, q: web::Query<Query>) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let asked = (
        Action::ViewParents,
        AccountKind::Parent.action(AccountOp::Search),
    );
    let who = (&signed_in, &meta);
    let permitted = permit_requested(&state, who, q.uai.as_deref(), asked, None).await?;
    let (uai, gate) = (
        permitted.uai,
        permitted
            .gate
            .ok_or_else(|| AppError::GateClosed(meta.asked.clone()))?,
    );
    let search = q.search();
    let (key, s) = (uai.clone(), search.clone());
    let (divisions, results, total) = state.db.run(move |conn| find(conn, &key, &s)).await?;
    let name = establishment_name(&state, &uai).await?;
    let body = parent_search_page(&ParentSearchView {
        chrome: &chrome(&signed_in),
        uai: uai.as_str(),
        establishment: &name,
        gate: gate_label(gate),
        q: &search.text,
        division: search.division.as_deref().unwrap_or(""),
        etat: q.etat.trim(),
        mail: &search.email,
        parcours: search.activation_path.as_deref().unwrap_or(""),
        divisions: &divisions,
        results: &results,
        total,
        searched: searched(&search),
    });
    Ok(html(StatusCode::OK, body))
}
