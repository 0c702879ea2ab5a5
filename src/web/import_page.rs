//! The principal's import page: the same engine as `educt-admin import`, from uploaded files
//! (20 MB at most each). Nobody but a principal of the UAI imports.

use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use futures_util::StreamExt;
use maud::Markup;
use serde::Deserialize;

use super::chrome::{chrome, establishment_name};
use super::errors::AppError;
use super::guard::{Attempt, State, permit, record_refusal, requested_uai, require_csrf};
use super::request::RequestMeta;
use super::session_guard::SignedIn;
use super::views::import::{ImportView, import_page};
use crate::audit::{AuditEvent, Outcome};
use crate::clock::local_day;
use crate::csv_export::to_csv;
use crate::delegation::policy::Action;
use crate::import::apply::{ImportOptions, apply};
use crate::import::order::SchoolYear;
use crate::import::{ImportData, ImportError, csv_input, siecle};

pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;

#[derive(Debug, Deserialize)]
pub struct ImportQuery {
    uai: Option<String>,
}

pub async fn import_form(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    q: web::Query<ImportQuery>,
) -> Result<Markup, AppError> {
    let uai = requested_uai(q.uai.as_deref())?;
    permit(
        &state,
        &signed_in,
        &meta,
        Action::ImportAccounts,
        &uai,
        &Attempt::new("import.view"),
    )
    .await?;
    let name = establishment_name(&state, &uai).await?;
    let year = current_year(&state);
    Ok(import_page(&ImportView {
        chrome: &chrome(&signed_in),
        uai: uai.as_str(),
        establishment: &name,
        school_year: &year,
        error: None,
        report: None,
        report_csv: None,
    }))
}

/// The school year of today, to fill the form.
fn current_year(state: &State) -> String {
    SchoolYear::of_day(local_day(state.clock.now(), state.tz)).as_stored()
}

/// The form's fields: small text fields and up to two files.
#[derive(Default)]
struct Upload {
    uai: String,
    csrf_token: String,
    format: String,
    /// The school year of a CSV (`2026` or `2026-2027`).
    school_year: String,
    dry_run: bool,
    pupils: Vec<u8>,
    guardians: Vec<u8>,
}

async fn read_upload(mut payload: Multipart) -> Result<Upload, AppError> {
    let mut up = Upload::default();
    let too_big = || {
        AppError::BadRequest("Un fichier dépasse 20 Mo : découpez l'export ou utilisez la commande `educt-admin import`.".into())
    };
    let bad = || {
        AppError::BadRequest(
            "Le formulaire envoyé est mal formé. Rechargez la page et réessayez.".into(),
        )
    };
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| bad())?;
        let name = field.name().unwrap_or_default().to_owned();
        let limit = if matches!(name.as_str(), "eleves" | "responsables") {
            MAX_FILE_BYTES
        } else {
            1024
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| bad())?;
            if bytes.len() + chunk.len() > limit {
                return Err(if limit == MAX_FILE_BYTES {
                    too_big()
                } else {
                    bad()
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = || String::from_utf8_lossy(&bytes).trim().to_owned();
        match name.as_str() {
            "uai" => up.uai = text(),
            "csrf_token" => up.csrf_token = text(),
            "format" => up.format = text(),
            "annee" => up.school_year = text(),
            "dry_run" => up.dry_run = !bytes.is_empty(),
            "eleves" => up.pupils = bytes,
            "responsables" => up.guardians = bytes,
            _ => {}
        }
    }
    Ok(up)
}

pub async fn run_import(
    state: State,
    signed_in: SignedIn,
    meta: RequestMeta,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let up = read_upload(payload).await?;
    let uai = requested_uai(Some(&up.uai))?;
    let csv = up.format == "csv";
    let action = if csv { "import.csv" } else { "import.siecle" };
    let attempt = Attempt::new(action).on("etablissement", &uai);
    permit(
        &state,
        &signed_in,
        &meta,
        Action::ImportAccounts,
        &uai,
        &attempt,
    )
    .await?;
    require_csrf(
        &state,
        &signed_in,
        &meta,
        &up.csrf_token,
        Some(&uai),
        &attempt,
    )
    .await?;
    let name = establishment_name(&state, &uai).await?;
    let chrome = chrome(&signed_in);
    let shown_year = if up.school_year.is_empty() {
        current_year(&state)
    } else {
        up.school_year.clone()
    };
    let fail = |message: String| {
        let page = import_page(&ImportView {
            chrome: &chrome,
            uai: uai.as_str(),
            establishment: &name,
            school_year: &shown_year,
            error: Some(&message),
            report: None,
            report_csv: None,
        });
        HttpResponse::build(StatusCode::BAD_REQUEST)
            .content_type("text/html; charset=utf-8")
            .body(page.into_string())
    };
    if up.pupils.is_empty() {
        return Ok(fail("Choisissez le fichier des élèves.".into()));
    }
    let csv_year = if csv {
        match SchoolYear::parse(&up.school_year) {
            Ok(y) => Some(y.as_stored()),
            Err(e) => {
                return Ok(fail(format!(
                    "Un fichier CSV ne dit pas son année scolaire : {e}."
                )));
            }
        }
    } else {
        None
    };
    let read_uai = uai.clone();
    let (pupils, guardians) = (up.pupils, up.guardians);
    let read = web::block(move || {
        let mut data = ImportData {
            uai: read_uai.to_string(),
            school_year: csv_year,
            ..ImportData::default()
        };
        if csv {
            csv_input::read_pupils(&pupils, &mut data)?;
            if !guardians.is_empty() {
                csv_input::read_guardians(&guardians, &mut data)?;
            }
        } else {
            siecle::read_pupils(&pupils, &read_uai, &mut data)?;
            if !guardians.is_empty() {
                siecle::read_guardians(&guardians, &read_uai, &mut data)?;
            }
        }
        Ok::<_, crate::import::ImportError>(data)
    })
    .await
    .map_err(|_| AppError::Internal("blocking pool gone".into()))?;
    let data = match read {
        Ok(d) => d,
        Err(e) => {
            record_refusal(
                &state,
                attempt
                    .event(&signed_in, &meta, Some(&uai), Outcome::Refused)
                    .details(format!("{e:.300}")),
            )
            .await?;
            return Ok(fail(format!("Import refusé, rien n'a été modifié : {e}")));
        }
    };
    let stamped = meta.stamp(AuditEvent::new("", "", Outcome::Success));
    let opts = ImportOptions {
        action,
        actor: signed_in.0.agent.uid.clone(),
        name: None,
        dry_run: up.dry_run,
        tz: state.tz,
        force: false,
        request: Some((
            stamped.request_id.unwrap_or_default(),
            stamped.peer_addr,
            stamped.client_addr,
        )),
    };
    let (key, now, apply_uai) = (state.key.clone(), state.clock.now(), uai.clone());
    let applied = state
        .db
        .run(move |conn| {
            Ok::<_, AppError>(apply(conn, &key, now, &apply_uai, &data, &opts, &|_, _| {}))
        })
        .await?;
    let report = match applied {
        Ok(r) => r,
        Err(ImportError::Refused(m)) => return Ok(fail(m)),
        Err(ImportError::Db(e)) => return Err(AppError::Internal(e.to_string())),
        Err(e) => return Ok(fail(format!("Import refusé, rien n'a été modifié : {e}"))),
    };
    let csv_report = to_csv(
        &["avertissement"],
        report.warnings.iter().map(|w| vec![w.clone()]),
    )
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let page = import_page(&ImportView {
        chrome: &chrome,
        uai: uai.as_str(),
        establishment: &name,
        school_year: &shown_year,
        error: None,
        report: Some((&report, up.dry_run)),
        report_csv: Some(&csv_report),
    });
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(page.into_string()))
}
