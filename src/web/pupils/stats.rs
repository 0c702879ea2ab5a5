//! Statistics of an establishment's accounts, and a division as CSV.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use maud::Markup;
use serde::Deserialize;

use super::super::chrome::{chrome, establishment_name};
use super::super::errors::AppError;
use super::super::request::{Asker, Queried};
use super::super::views::stats::{DivisionStats, stats_page};
use super::pupils_of;
use crate::accounts::AccountOp;
use crate::accounts::{AccountState, pupils};
use crate::csv_export::to_csv;

#[derive(Debug, Deserialize)]
pub struct StatsQuery {
    uai: Option<String>,
    #[serde(default)]
    division: String,
}

pub async fn show_stats(who: Asker, q: web::Query<StatsQuery>) -> Result<Markup, AppError> {
    let (state, signed_in, meta) = who.parts();
    let asker = (&state, &signed_in, &meta);
    let uai = pupils_of(asker, q.uai.as_deref(), AccountOp::Statistics).await?;
    let key = uai.clone();
    let counts = state
        .db
        .run(move |conn| Ok::<_, AppError>(pupils::counts(conn, &key)?))
        .await?;
    let mut rows: Vec<DivisionStats> = Vec::new();
    for (division, st, n) in counts {
        let name = division.map_or_else(|| "—".into(), String::from);
        let idx = match rows.iter().position(|r| r.division == name) {
            Some(i) => i,
            None => {
                rows.push(DivisionStats {
                    division: name,
                    by_state: [0; 5],
                });
                rows.len() - 1
            }
        };
        if let Some(s) = AccountState::ALL.iter().position(|x| *x == st) {
            rows[idx].by_state[s] += n;
        }
    }
    rows.sort_by(|a, b| a.division.cmp(&b.division));
    let name = establishment_name(&state, &uai).await?;
    Ok(stats_page(&chrome(&signed_in), uai.as_str(), &name, &rows))
}

pub async fn export_division((who, q): Queried<StatsQuery>) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let asker = (&state, &signed_in, &meta);
    let uai = pupils_of(asker, q.uai.as_deref(), AccountOp::Export).await?;
    let division = q.division.trim().to_owned();
    if division.is_empty() || division.chars().count() > 30 {
        return Err(AppError::BadRequest("Choisissez une classe.".into()));
    }
    let (key, d) = (uai.clone(), division.clone());
    let list = state
        .db
        .run(move |conn| Ok::<_, AppError>(pupils::of_division(conn, &key, &d)?))
        .await?;
    let body = to_csv(
        &["identifiant", "nom", "prénom", "classe", "état"],
        list.into_iter().map(|p| {
            vec![
                p.identifiant.into(),
                p.last_name,
                p.first_name,
                p.division.map(String::from).unwrap_or_default(),
                p.state.label().to_owned(),
            ]
        }),
    )
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let safe: String = division
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"eleves-{uai}-{safe}.csv\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}
