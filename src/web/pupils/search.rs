//! `GET /depannage/eleve`: search one establishment's pupils.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Deserialize;

use super::super::calls::{choose_establishment, html};
use super::super::chrome::{chrome, establishment_name};
use super::super::errors::AppError;
use super::super::guard::{State, delegations_of};
use super::super::request::Queried;
use super::super::session_guard::SignedIn;
use super::super::views::pupils::{SearchView, search_page};
use super::pupils_of;
use crate::accounts::AccountOp;
use crate::accounts::pupils::{self, Pupil, Search};
use crate::db::DbConnection;
use crate::delegation::Scope;
use crate::delegation::policy::scopes_on;
use crate::domain::{Uai, parse_page_number};

pub const PAGE_SIZE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    uai: Option<String>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    division: String,
    page: Option<String>,
}

/// The establishments where the agent may see pupils.
pub async fn pupil_establishments(
    state: &State,
    signed_in: &SignedIn,
) -> Result<Vec<Uai>, AppError> {
    let agent = &signed_in.0.agent;
    let held = delegations_of(state, &agent.uid).await?;
    let now = state.clock.now();
    let mut out: Vec<Uai> = agent.responsible_for.clone();
    for d in &held {
        if !out.contains(&d.uai)
            && scopes_on(agent, &held, &d.uai, now, state.tz).contains(&Scope::Eleves)
        {
            out.push(d.uai.clone());
        }
    }
    Ok(out)
}

/// The classes with their sizes, and a page of pupils with how many in all.
type Found = (Vec<(String, i64)>, (Vec<Pupil>, i64));

/// The establishment's classes, and the page `page` of the pupils found (when searched)
/// with how many in all.
fn find(
    conn: &mut DbConnection,
    uai: &Uai,
    search: Option<&Search>,
    page: i64,
) -> Result<Found, AppError> {
    let divisions = pupils::divisions(conn, uai)?;
    let found = match search {
        Some(s) => pupils::search(conn, uai, s, (page - 1) * PAGE_SIZE, PAGE_SIZE)?,
        None => (Vec::new(), 0),
    };
    Ok((divisions, found))
}

pub async fn search_pupils((who, q): Queried<SearchQuery>) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let Some(raw_uai) = q.uai.as_deref().filter(|u| !u.is_empty()) else {
        let mine = pupil_establishments(&state, &signed_in).await?;
        return choose_establishment(&state, &signed_in, &mine, "depannage/eleve").await;
    };
    let asker = (&state, &signed_in, &meta);
    let uai = pupils_of(asker, Some(raw_uai), AccountOp::Search).await?;
    let page = parse_page_number(q.page.as_deref(), 100_000)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let text: String = q.q.trim().chars().take(100).collect();
    let division: String = q.division.trim().chars().take(30).collect();
    let searched = !text.is_empty() || !division.is_empty();
    let search = searched.then(|| Search {
        text: text.clone(),
        division: (!division.is_empty()).then(|| division.clone()),
    });
    let key = uai.clone();
    let (divisions, (results, total)) = state
        .db
        .run(move |conn| find(conn, &key, search.as_ref(), page))
        .await?;
    let name = establishment_name(&state, &uai).await?;
    let pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    let body = search_page(&SearchView {
        chrome: &chrome(&signed_in),
        uai: uai.as_str(),
        establishment: &name,
        q: &text,
        division: &division,
        divisions: &divisions,
        results: &results,
        total,
        page,
        pages,
        searched,
        now: state.clock.now(),
        tz: state.tz,
    });
    Ok(html(StatusCode::OK, body))
}
