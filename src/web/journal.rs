//! The principal's journal: the audit rows of his establishment, filtered, paged, and as CSV
//! (the read model is `audit::journal`).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use super::calls::permit_requested;
use super::chrome::chrome;
use super::errors::AppError;
use super::guard::State;
use super::request::{Asker, Queried, RequestMeta};
use super::session_guard::SignedIn;
use super::views::journal::{JournalFilters, journal_page};
use crate::audit::AuditAction;
use crate::audit::journal::{self, JournalFilter};
use crate::delegation::policy::Action;
use crate::domain::parse_page_number;

/// The last audit rows about one record (the record pages call it).
pub use crate::audit::journal::target_history;
pub use crate::audit::journal::{CSV_MAX_ROWS, PAGE_SIZE};

#[derive(Debug, Default, Deserialize)]
pub struct JournalQuery {
    pub uai: Option<String>,
    #[serde(default)]
    pub du: String,
    #[serde(default)]
    pub au: String,
    #[serde(default)]
    pub acteur: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub cible: String,
    #[serde(default)]
    pub page: Option<String>,
}

/// The permit to read the journal of the requested establishment, its name and the filter.
async fn allowed_filter(
    state: &State,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    q: &JournalQuery,
) -> Result<(JournalFilter, String), AppError> {
    let asked = (Action::ReadJournal, AuditAction::JournalRead);
    let requested =
        permit_requested(state, (signed_in, meta), q.uai.as_deref(), asked, None).await?;
    let (uai, name) = requested.named(state).await?;
    let asked = [&*q.du, &*q.au, &*q.acteur, &*q.action, &*q.cible];
    let filter = JournalFilter::parse(uai, asked, state.tz)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    Ok((filter, name))
}

pub async fn show_journal(who: Asker, q: web::Query<JournalQuery>) -> Result<Markup, AppError> {
    let (state, signed_in, meta) = who.parts();
    let (filter, name) = allowed_filter(&state, &signed_in, &meta, &q).await?;
    let page = parse_page_number(q.page.as_deref(), 1_000_000)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let (f, tz) = (filter.clone(), state.tz);
    let (rows, has_next) = state
        .db
        .run(move |conn| Ok::<_, AppError>(journal::page(conn, &f, page, tz)?))
        .await?;
    let shown = JournalFilters {
        uai: filter.uai.to_string(),
        du: q.du.chars().take(10).collect(),
        au: q.au.chars().take(10).collect(),
        acteur: filter.actor,
        action: filter.action,
        cible: filter.target,
    };
    let chrome = chrome(&signed_in);
    Ok(journal_page(&chrome, &name, &shown, &rows, page, has_next))
}

pub async fn export_journal((who, q): Queried<JournalQuery>) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let (filter, _) = allowed_filter(&state, &signed_in, &meta, &q).await?;
    let (f, tz) = (filter.clone(), state.tz);
    let body = state
        .db
        .run(move |conn| {
            journal::export_csv(conn, &f, tz).map_err(|e| AppError::Internal(e.to_string()))
        })
        .await?;
    let file = format!("attachment; filename=\"journal-{}.csv\"", filter.uai);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, file))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}
