//! The principal's import page: the same engine as `educt-admin import`, from uploaded files
//! (20 MB at most each). Nobody but a principal of the UAI imports.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use futures_util::StreamExt;
use maud::Markup;
use serde::Deserialize;

use super::calls::{call, html, permit_requested};
use super::chrome::{chrome, establishment_name};
use super::errors::AppError;
use super::forms::malformed;
use super::guard::{Attempt, Checks, State, admit, permit, requested_uai};
use super::request::{Asker, RequestMeta};
use super::session_guard::SignedIn;
use super::views::import::{ImportView, import_page};
use super::views::layout::Chrome;
use crate::audit::AuditAction;
use crate::clock::local_day;
use crate::csv_export::to_csv;
use crate::delegation::policy::{Action, Permit};
use crate::domain::Uai;
use crate::import::apply::ImportReport;
use crate::import::order::SchoolYear;
use crate::usecases::FailureClass;
use crate::usecases::import::{self, ImportFormat, ImportRequest};

pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;

#[derive(Debug, Deserialize)]
pub struct ImportQuery {
    uai: Option<String>,
}

pub async fn import_form(who: Asker, q: web::Query<ImportQuery>) -> Result<Markup, AppError> {
    let (state, signed_in, meta) = who.parts();
    let asked = (Action::ImportAccounts, AuditAction::ImportView);
    let requested =
        permit_requested(&state, (&signed_in, &meta), q.uai.as_deref(), asked, None).await?;
    let (uai, name) = requested.named(&state).await?;
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
    let bad = malformed;
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

impl Upload {
    fn action(&self) -> AuditAction {
        if self.format == "csv" {
            AuditAction::ImportCsv
        } else {
            AuditAction::ImportSiecle
        }
    }

    /// The school year the page shows again: the one sent, or today's.
    fn shown_year(&self, state: &State) -> String {
        match self.school_year.as_str() {
            "" => current_year(state),
            y => y.to_owned(),
        }
    }

    fn format(&self) -> Result<ImportFormat, String> {
        if self.format != "csv" {
            return Ok(ImportFormat::Siecle);
        }
        SchoolYear::parse(&self.school_year)
            .map(ImportFormat::Csv)
            .map_err(|e| format!("Un fichier CSV ne dit pas son année scolaire : {e}."))
    }

    /// What to import, or why the form cannot be acted on (no file, no year for a CSV).
    fn request(self, uai: Uai) -> Result<ImportRequest, String> {
        if self.pupils.is_empty() {
            return Err("Choisissez le fichier des élèves.".into());
        }
        Ok(ImportRequest {
            uai,
            format: self.format()?,
            guardians: (!self.guardians.is_empty()).then_some(self.guardians),
            pupils: self.pupils,
            name: None,
            dry_run: self.dry_run,
            force: false,
        })
    }
}

/// The page after an import: its report, or why nothing was done (400).
struct Outcome<'a> {
    uai: &'a Uai,
    name: &'a str,
    year: &'a str,
}

impl Outcome<'_> {
    fn page(
        &self,
        chrome: &Chrome<'_>,
        error: Option<&str>,
        report: Option<(&ImportReport, bool)>,
    ) -> Result<HttpResponse, AppError> {
        let csv = match report {
            Some((r, _)) => Some(
                to_csv(
                    &["avertissement"],
                    r.warnings.iter().map(|w| vec![w.clone()]),
                )
                .map_err(|e| AppError::Internal(e.to_string()))?,
            ),
            None => None,
        };
        let page = import_page(&ImportView {
            chrome,
            uai: self.uai.as_str(),
            establishment: self.name,
            school_year: self.year,
            error,
            report,
            report_csv: csv.as_deref(),
        });
        let status = if error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        Ok(html(status, page))
    }
}

/// The establishment the upload names and the permit to import there (rule 4), then the
/// form's CSRF token.
async fn permitted(
    (state, signed_in, meta): (&State, &SignedIn, &RequestMeta),
    up: &Upload,
) -> Result<(Uai, Permit), AppError> {
    let uai = requested_uai(Some(&up.uai))?;
    let attempt = Attempt::new(up.action()).on("etablissement", &uai);
    let action = Action::ImportAccounts;
    let permit = permit(state, signed_in, meta, action, &uai, &attempt).await?;
    let checks = Checks::on(&uai, &attempt, Some(&up.csrf_token));
    admit(state, signed_in, meta, checks).await?;
    Ok((uai, permit))
}

pub async fn run_import(who: Asker, payload: Multipart) -> Result<HttpResponse, AppError> {
    let (state, signed_in, meta) = who.parts();
    let up = read_upload(payload).await?;
    let (uai, permit) = permitted((&state, &signed_in, &meta), &up).await?;
    let name = establishment_name(&state, &uai).await?;
    let year = up.shown_year(&state);
    let shown = Outcome {
        uai: &uai,
        name: &name,
        year: &year,
    };
    let chrome = chrome(&signed_in);
    let dry_run = up.dry_run;
    let request = match up.request(uai.clone()) {
        Ok(r) => r,
        Err(message) => return shown.page(&chrome, Some(&message), None),
    };
    let store = state.accounts.clone();
    let imported = call(&state, &signed_in, &meta, move |conn, c| {
        Ok(import::import(
            conn,
            &c.key,
            c.tz,
            &*store,
            Some(&permit),
            &c.ctx,
            &request,
            &|_, _| {},
        ))
    })
    .await?;
    match imported {
        Ok(report) => shown.page(&chrome, None, Some((&report, dry_run))),
        Err(f) if f.class == FailureClass::BadInput => shown.page(&chrome, Some(&f.message), None),
        Err(f) => Err(f.into()),
    }
}
