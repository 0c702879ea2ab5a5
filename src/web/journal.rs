//! The principal's journal: the audit rows of his establishment, filtered, paged, and as CSV.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;
use maud::Markup;
use serde::Deserialize;

use super::chrome::{chrome, establishment_name};
use super::errors::AppError;
use super::guard::{Attempt, State, permit, requested_uai};
use super::request::RequestMeta;
use super::session_guard::SignedIn;
use super::views::journal::{JournalFilters, JournalRow, journal_page};
use crate::csv_export::to_csv;
use crate::db::DbConnection;
use crate::db::schema::audit_events;
use crate::delegation::policy::Action;
use crate::domain::{Uai, parse_form_day, parse_page_number};

pub const PAGE_SIZE: i64 = 50;
pub const CSV_MAX_ROWS: i64 = 100_000;

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

/// The filters once parsed.
#[derive(Debug, Clone)]
struct Filters {
    uai: Uai,
    from: Option<NaiveDateTime>,
    until: Option<NaiveDateTime>,
    actor: String,
    action: String,
    target: String,
}

fn day_start(day: NaiveDate, tz: Tz) -> NaiveDateTime {
    let local = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc).naive_utc())
        .unwrap_or(local)
}

fn parse_day(value: &str, what: &str) -> Result<Option<NaiveDate>, AppError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    parse_form_day(value, what)
        .map(Some)
        .map_err(|e| AppError::BadRequest(e.to_string()))
}

fn like_prefix(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("{escaped}%")
}

type Row = (
    i64,
    NaiveDateTime,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn query(conn: &mut DbConnection, f: &Filters, offset: i64, limit: i64) -> QueryResult<Vec<Row>> {
    let mut q = audit_events::table
        .filter(audit_events::uai.eq(f.uai.as_str().to_owned()))
        .into_boxed();
    if let Some(from) = f.from {
        q = q.filter(audit_events::at.ge(from));
    }
    if let Some(until) = f.until {
        q = q.filter(audit_events::at.lt(until));
    }
    if !f.actor.is_empty() {
        q = q.filter(audit_events::actor.like(like_prefix(&f.actor)).escape('\\'));
    }
    if !f.action.is_empty() {
        q = q.filter(
            audit_events::action
                .like(like_prefix(&f.action))
                .escape('\\'),
        );
    }
    if !f.target.is_empty() {
        q = q.filter(audit_events::target_id.eq(f.target.clone()));
    }
    q.order(audit_events::seq.desc())
        .offset(offset)
        .limit(limit)
        .select((
            audit_events::seq,
            audit_events::at,
            audit_events::actor,
            audit_events::action,
            audit_events::target_kind,
            audit_events::target_id,
            audit_events::outcome,
            audit_events::delegation_id,
            audit_events::gate,
            audit_events::client_addr,
            audit_events::request_id,
            audit_events::details,
        ))
        .load(conn)
}

fn to_journal_row(r: Row, tz: Tz) -> JournalRow {
    let at: DateTime<Tz> = r.1.and_utc().with_timezone(&tz);
    JournalRow {
        at: at.format("%d/%m/%Y %H:%M:%S").to_string(),
        actor: r.2,
        action: r.3,
        target: match (r.4, r.5) {
            (Some(k), Some(id)) => format!("{k} {id}"),
            _ => String::new(),
        },
        outcome: r.6,
        delegation: r.7.map(|d| d.to_string()).unwrap_or_default(),
        gate: r.8.unwrap_or_default(),
        client: r.9.unwrap_or_default(),
        request_id: r.10.unwrap_or_default(),
        details: r.11.unwrap_or_default(),
    }
}

/// The last audit rows about one record (a pupil's page), newest first.
pub fn target_history(
    conn: &mut DbConnection,
    kind: &str,
    id: i64,
    limit: i64,
    tz: Tz,
) -> QueryResult<Vec<JournalRow>> {
    let rows: Vec<Row> = audit_events::table
        .filter(audit_events::target_kind.eq(kind.to_owned()))
        .filter(audit_events::target_id.eq(id.to_string()))
        .order(audit_events::seq.desc())
        .limit(limit)
        .select((
            audit_events::seq,
            audit_events::at,
            audit_events::actor,
            audit_events::action,
            audit_events::target_kind,
            audit_events::target_id,
            audit_events::outcome,
            audit_events::delegation_id,
            audit_events::gate,
            audit_events::client_addr,
            audit_events::request_id,
            audit_events::details,
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(|r| to_journal_row(r, tz)).collect())
}

async fn allowed_filters(
    state: &State,
    signed_in: &SignedIn,
    meta: &RequestMeta,
    q: &JournalQuery,
) -> Result<Filters, AppError> {
    let uai = requested_uai(q.uai.as_deref())?;
    permit(
        state,
        signed_in,
        meta,
        Action::ReadJournal,
        &uai,
        &Attempt::new("journal.read"),
    )
    .await?;
    let from = parse_day(&q.du, "de début")?.map(|d| day_start(d, state.tz));
    let until = parse_day(&q.au, "de fin")?
        .and_then(|d| d.succ_opt())
        .map(|d| day_start(d, state.tz));
    let clip = |s: &str| s.trim().chars().take(100).collect::<String>();
    Ok(Filters {
        uai,
        from,
        until,
        actor: clip(&q.acteur),
        action: clip(&q.action),
        target: clip(&q.cible),
    })
}

pub async fn show_journal(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    q: web::Query<JournalQuery>,
) -> Result<Markup, AppError> {
    let filters = allowed_filters(&state, &signed_in, &meta, &q).await?;
    let page = parse_page_number(q.page.as_deref(), 1_000_000)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let f = filters.clone();
    let mut rows = state
        .db
        .run(move |conn| Ok::<_, AppError>(query(conn, &f, (page - 1) * PAGE_SIZE, PAGE_SIZE + 1)?))
        .await?;
    let has_next = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let rows: Vec<JournalRow> = rows
        .into_iter()
        .map(|r| to_journal_row(r, state.tz))
        .collect();
    let name = establishment_name(&state, &filters.uai).await?;
    Ok(journal_page(
        &chrome(&signed_in),
        &name,
        &JournalFilters {
            uai: filters.uai.to_string(),
            du: q.du.chars().take(10).collect(),
            au: q.au.chars().take(10).collect(),
            acteur: filters.actor,
            action: filters.action,
            cible: filters.target,
        },
        &rows,
        page,
        has_next,
    ))
}

pub async fn export_journal(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    q: web::Query<JournalQuery>,
) -> Result<HttpResponse, AppError> {
    let filters = allowed_filters(&state, &signed_in, &meta, &q).await?;
    let f = filters.clone();
    let rows = state
        .db
        .run(move |conn| Ok::<_, AppError>(query(conn, &f, 0, CSV_MAX_ROWS)?))
        .await?;
    let tz = state.tz;
    let body = to_csv(
        &[
            "date",
            "acteur",
            "action",
            "cible",
            "résultat",
            "délégation",
            "accès",
            "adresse",
            "requête",
            "détails",
        ],
        rows.into_iter().map(|r| {
            let j = to_journal_row(r, tz);
            vec![
                j.at,
                j.actor,
                j.action,
                j.target,
                j.outcome,
                j.delegation,
                j.gate,
                j.client,
                j.request_id,
                j.details,
            ]
        }),
    )
    .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"journal-{}.csv\"", filters.uai),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}
