//! `GET /depannage/responsable`: search the parents of one establishment's pupils.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::super::calls::permit_requested;
use super::super::chrome::{chrome, establishment_name};
use super::super::errors::AppError;
use super::super::parents_gate::Gate;
use super::super::request::Asker;
use super::super::views::parents::{ParentSearchView, parent_search_page};
use crate::accounts::parents::{self, ParentSearch};
use crate::accounts::{AccountKind, AccountOp};
use crate::accounts::{AccountState, pupils};
use crate::delegation::policy::Action;

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
        Gate::Totp => "après vérification du code TOTP",
    }
}

pub async fn search_parents(who: Asker, q: web::Query<Query>) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let asked = (
        Action::ViewParents,
        AccountKind::Parent.action(AccountOp::Search),
    );
    let who = (&signed_in, &meta);
    let permitted = permit_requested(&state, who, q.uai.as_deref(), asked, None).await?;
    let (uai, gate) = (permitted.uai, permitted.gate.ok_or(AppError::GateClosed)?);
    let clip = |s: &str, n: usize| s.trim().chars().take(n).collect::<String>();
    let search = ParentSearch {
        text: clip(&q.q, 100),
        division: Some(clip(&q.division, 30)).filter(|d| !d.is_empty()),
        state: AccountState::parse(q.etat.trim()),
        email: clip(&q.mail, 100),
        activation_path: Some(clip(&q.parcours, 20))
            .filter(|p| ["notification", "sms", "franceconnect"].contains(&p.as_str())),
    };
    let searched = !search.text.is_empty()
        || search.division.is_some()
        || search.state.is_some()
        || !search.email.is_empty()
        || search.activation_path.is_some();
    let (key, s) = (uai.clone(), search.clone());
    let (divisions, results, total) = state
        .db
        .run(move |conn| {
            let divisions = pupils::divisions(conn, &key)?;
            if !searched {
                return Ok::<_, AppError>((divisions, Vec::new(), 0));
            }
            let (found, total) = parents::search(conn, &key, &s, 0, PAGE_SIZE)?;
            let mut rows = Vec::new();
            for p in found {
                let kids = parents::children(conn, p.id, &key)?;
                rows.push((p, kids));
            }
            Ok((divisions, rows, total))
        })
        .await?;
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
        searched,
    });
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body.into_string()))
}
