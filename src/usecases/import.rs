//! Importing an establishment's pupils and parents (SIECLE/BEE exports or CSV files), from
//! the web (a principal of the UAI, by his permit) or the command line (the operator): the
//! same reading, the same one transaction, the same audit rows.

use chrono_tz::Tz;

use super::authorize::{self, Attempt, NOT_ALLOWED, permitted};
use super::{Actor, Context, Failure};
use crate::accounts::store::{AccountStore, StoreError, SyncReport};
use crate::audit::{self, AuditAction, Outcome};
use crate::db::DbConnection;
use crate::delegation::policy::{Action, Permit};
use crate::domain::Uai;
use crate::import::apply::{ImportOptions, ImportReport, apply};
use crate::import::order::SchoolYear;
use crate::import::{ImportData, ImportError, csv_input, siecle};
use crate::secrets::AppKey;

/// Which kind of files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Siecle,
    /// A CSV does not say its school year: the operator does.
    Csv(SchoolYear),
}

/// What to import, the files already read.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub uai: Uai,
    pub format: ImportFormat,
    pub pupils: Vec<u8>,
    pub guardians: Option<Vec<u8>>,
    /// The establishment's name, when it is created or renamed (command line).
    pub name: Option<String>,
    /// Show what would happen; change nothing.
    pub dry_run: bool,
    /// Apply a file older than the last one imported (command line only; audited).
    pub force: bool,
}

impl ImportRequest {
    /// `import.siecle` or `import.csv`: the action of its audit rows.
    pub fn action(&self) -> AuditAction {
        match self.format {
            ImportFormat::Siecle => AuditAction::ImportSiecle,
            ImportFormat::Csv(_) => AuditAction::ImportCsv,
        }
    }

    fn read(&self) -> Result<ImportData, ImportError> {
        let mut data = ImportData {
            uai: self.uai.to_string(),
            ..ImportData::default()
        };
        match self.format {
            ImportFormat::Csv(year) => {
                data.school_year = Some(year.as_stored());
                csv_input::read_pupils(&self.pupils, &mut data)?;
                if let Some(g) = &self.guardians {
                    csv_input::read_guardians(g, &mut data)?;
                }
            }
            ImportFormat::Siecle => {
                siecle::read_pupils(&self.pupils, &self.uai, &mut data)?;
                if let Some(g) = &self.guardians {
                    siecle::read_guardians(g, &self.uai, &mut data)?;
                }
            }
        }
        Ok(data)
    }
}

/// Who may import: the operator at the command line; anyone else only with the permit to
/// import on that establishment (a principal of it).
fn allowed(permit: Option<&Permit>, ctx: &Context, uai: &Uai) -> Result<bool, Failure> {
    if matches!(ctx.actor, Actor::Cli(_)) {
        return Ok(true);
    }
    let Some(permit) = permit else {
        return Err(Failure::forbidden(NOT_ALLOWED));
    };
    if permitted(permit, Action::ImportAccounts)? != uai {
        return Err(Failure::internal("permit for another establishment"));
    }
    Ok(false)
}

/// Brings the account store in line with the imported index (provisioning, or the list of
/// accounts it does not hold), with its audit row; its French lines for the report.
fn sync_store(
    conn: &mut DbConnection,
    key: &AppKey,
    store: &dyn AccountStore,
    ctx: &Context,
    req: &ImportRequest,
) -> Result<Vec<String>, Failure> {
    let synced = match store.sync_establishment(conn, &req.uai, ctx.now) {
        Ok(synced) => synced,
        Err(StoreError::Db(e)) => return Err(e.into()),
        Err(e) => {
            tracing::warn!(error = %e, "account store not synchronised after the import");
            SyncReport {
                interrupted: true,
                ..SyncReport::default()
            }
        }
    };
    let summary = synced.summary();
    let row = Attempt::new(req.action())
        .on("etablissement", &req.uai)
        .event_in(ctx, Some(&req.uai), Outcome::Success)
        .details(format!("{summary:.2000}"));
    audit::audited(conn, key, ctx.now, |tx| -> Result<(), Failure> {
        tx.append(&row)?;
        Ok(())
    })?;
    let mut lines = vec![summary];
    lines.extend(
        synced
            .missing
            .into_iter()
            .map(|l| format!("{l} : aucun compte dans l'annuaire")),
    );
    lines.extend(synced.refused);
    Ok(lines)
}

/// Reads the files and writes them in one transaction (or rolls it back for a dry run);
/// `progress` is told (done, total). A file that cannot be read is refused (400, audited);
/// so is a file older than the last one applied (by `apply`).
#[allow(clippy::too_many_arguments)]
pub fn import(
    conn: &mut DbConnection,
    key: &AppKey,
    tz: Tz,
    store: &dyn AccountStore,
    permit: Option<&Permit>,
    ctx: &Context,
    req: &ImportRequest,
    progress: &dyn Fn(usize, usize),
) -> Result<ImportReport, Failure> {
    let operator = allowed(permit, ctx, &req.uai)?;
    let attempt = Attempt::new(req.action()).on("etablissement", &req.uai);
    let data = match req.read() {
        Ok(data) => data,
        Err(e) => {
            let event = attempt.event_in(ctx, Some(&req.uai), Outcome::Refused);
            authorize::record_refusal(conn, key, ctx.now, &event.details(format!("{e:.300}")))?;
            return Err(Failure::bad_input(format!(
                "Import refusé, rien n'a été modifié : {e}"
            )));
        }
    };
    let stamp = &ctx.stamp;
    let opts = ImportOptions {
        action: req.action(),
        actor: ctx.actor.stored(),
        name: req.name.clone(),
        dry_run: req.dry_run,
        tz,
        force: req.force && operator,
        request: (stamp != &Default::default()).then(|| {
            let id = stamp.request_id.clone().unwrap_or_default();
            (id, stamp.peer.clone(), stamp.client.clone())
        }),
    };
    match apply(conn, key, ctx.now, &req.uai, &data, &opts, progress) {
        Ok(mut report) => {
            if store.is_remote() && !req.dry_run {
                report.directory = sync_store(conn, key, store, ctx, req)?;
            }
            Ok(report)
        }
        Err(ImportError::Refused(m)) => Err(Failure::bad_input(m)),
        Err(ImportError::Db(e)) => Err(Failure::internal(e.to_string())),
        Err(e) => Err(Failure::bad_input(format!(
            "Import refusé, rien n'a été modifié : {e}"
        ))),
    }
}
