//! Writes an [`ImportData`] in one transaction (with its audit row): idempotent, so a second
//! import of the same file changes nothing. `dry_run` runs the very same work and rolls it back.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::order::{FileStamp, SchoolYear};
use super::pupil_rows::{self, Pass};
use super::{ImportData, ImportError, guardians};
use crate::audit::{self, AuditAction, AuditEvent, Outcome};
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::schema::{establishments, identifiants};
use crate::domain::{Identifiant, Uai, first_free_number, identifiant_base, number_after_base};
use crate::secrets::AppKey;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// `import.siecle` or `import.csv`.
    pub action: AuditAction,
    pub actor: String,
    /// The establishment's name, when it is created (or renamed).
    pub name: Option<String>,
    pub dry_run: bool,
    pub tz: chrono_tz::Tz,
    /// Apply a file older than the last one applied (command line only; audited).
    pub force: bool,
    /// The request's id, peer and client addresses, for the audit rows of a web import.
    pub request: Option<(String, Option<String>, Option<String>)>,
}

impl ImportOptions {
    /// An audit event by this import's actor (with the request, if any).
    pub fn event(&self, action: AuditAction, outcome: Outcome) -> AuditEvent {
        let e = AuditEvent::new(self.actor.clone(), action, outcome);
        match &self.request {
            Some((id, peer, client)) => e.request(id.clone(), peer.clone(), client.clone()),
            None => e,
        }
    }
}

/// What an import did (or would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub establishment_created: bool,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub leaving: usize,
    pub parents_created: usize,
    pub parents_updated: usize,
    pub links_changed: usize,
    /// Pupils who arrived from another establishment (French lines).
    pub moved_in: Vec<String>,
    /// Transfers waiting for the other establishment (French lines).
    pub pending: Vec<String>,
    /// Leavers who went to the establishment that had asked for them (French lines).
    pub moved_out: Vec<String>,
    /// An older file applied with `--force`.
    pub forced: bool,
    pub warnings: Vec<String>,
    /// What the account store (the LDAP directory) did after the import (French lines:
    /// its summary, then the accounts it does not hold or refused).
    pub directory: Vec<String>,
}

impl ImportReport {
    /// The French summary (also the audit row's details).
    pub fn summary(&self) -> String {
        let mut s = format!(
            "élèves : {} créés, {} mis à jour, {} inchangés, {} sortants ; transferts : {} arrivés, {} en attente, {} partis ; responsables : {} créés, {} mis à jour ; liens modifiés : {} ; avertissements : {}",
            self.created,
            self.updated,
            self.unchanged,
            self.leaving,
            self.moved_in.len(),
            self.pending.len(),
            self.moved_out.len(),
            self.parents_created,
            self.parents_updated,
            self.links_changed,
            self.warnings.len()
        );
        if self.forced {
            s.push_str(" ; fichier plus ancien que le dernier importé, appliqué avec --force");
        }
        s
    }
}

/// Aborts the transaction of a dry run, carrying its report out.
pub(super) enum Abort {
    DryRun(Box<ImportReport>),
    Failed(ImportError),
}

impl From<diesel::result::Error> for Abort {
    fn from(e: diesel::result::Error) -> Self {
        Abort::Failed(ImportError::Db(e))
    }
}

/// In-memory identifiant allocation over every identifiant ever given (read once), indexed
/// by base (the identifiant without its trailing number).
pub(super) struct Identifiants {
    by_base: HashMap<String, Vec<u32>>,
}

impl Identifiants {
    pub(super) fn load(conn: &mut DbConnection) -> QueryResult<Self> {
        let mut by_base: HashMap<String, Vec<u32>> = HashMap::new();
        for id in identifiants::table
            .select(identifiants::identifiant)
            .load::<String>(conn)?
        {
            let base = id.trim_end_matches(|c: char| c.is_ascii_digit()).to_owned();
            if let Some(n) = number_after_base(&base, &id) {
                by_base.entry(base).or_default().push(n);
            }
        }
        Ok(Self { by_base })
    }

    pub(super) fn allocate(
        &mut self,
        conn: &mut DbConnection,
        kind: &str,
        first: &str,
        last: &str,
        now: DateTime<Utc>,
    ) -> QueryResult<String> {
        let base = identifiant_base(first, last);
        let numbers = self.by_base.entry(base.clone()).or_default();
        let n = first_free_number(numbers);
        let id = Identifiant::numbered(&base, n).as_str().to_owned();
        diesel::insert_into(identifiants::table)
            .values((
                identifiants::identifiant.eq(&id),
                identifiants::kind.eq(kind),
                identifiants::created_at.eq(db_instant(now)),
            ))
            .execute(conn)?;
        numbers.push(n);
        Ok(id)
    }
}

/// Writes `data` for `uai`. `progress` is told (done, total) as pupils are handled. An
/// older file than the last one applied is refused (audited) unless `opts.force`.
pub fn apply(
    conn: &mut DbConnection,
    key: &AppKey,
    now: DateTime<Utc>,
    uai: &Uai,
    data: &ImportData,
    opts: &ImportOptions,
    progress: &dyn Fn(usize, usize),
) -> Result<ImportReport, ImportError> {
    let outcome = audit::audited(conn, key, now, |tx| -> Result<ImportReport, Abort> {
        let mut events = Vec::new();
        let report = write(tx.conn(), now, uai, data, opts, progress, &mut events)?;
        let event = opts
            .event(opts.action, Outcome::Success)
            .uai(uai.as_str())
            .target("etablissement", uai)
            .details(report.summary());
        tx.append(&event)?;
        for e in &events {
            tx.append(e)?;
        }
        if opts.dry_run {
            return Err(Abort::DryRun(Box::new(report)));
        }
        Ok(report)
    });
    match outcome {
        Ok(r) => Ok(r),
        Err(Abort::DryRun(r)) => Ok(*r),
        Err(Abort::Failed(ImportError::Refused(message))) => {
            let event = opts
                .event(opts.action, Outcome::Refused)
                .uai(uai.as_str())
                .target("etablissement", uai)
                .details(message.clone());
            audit::record(conn, key, now, &event)?;
            Err(ImportError::Refused(message))
        }
        Err(Abort::Failed(e)) => Err(e),
    }
}

/// The file's stamp, and the last one applied for the establishment (created when unknown).
fn file_order(
    conn: &mut DbConnection,
    at: NaiveDateTime,
    uai: &Uai,
    data: &ImportData,
    opts: &ImportOptions,
    report: &mut ImportReport,
) -> Result<(FileStamp, Option<FileStamp>), Abort> {
    let year = data.school_year.as_deref().ok_or_else(|| {
        Abort::Failed(ImportError::Refused(
            "L'année scolaire du fichier est inconnue : pour un fichier CSV, indiquez-la avec le fichier.".into(),
        ))
    })?;
    let year = SchoolYear::parse(year).map_err(|e| Abort::Failed(ImportError::Refused(e)))?;
    let new = FileStamp {
        year,
        exported_at: data.exported_at,
    };
    let existing: Option<(Option<String>, Option<NaiveDateTime>)> = establishments::table
        .filter(establishments::uai.eq(uai.as_str()))
        .select((
            establishments::last_import_year,
            establishments::last_import_exported_at,
        ))
        .first(conn)
        .optional()?;
    let last = match existing {
        Some((y, exported_at)) => {
            if let Some(name) = &opts.name {
                diesel::update(establishments::table.filter(establishments::uai.eq(uai.as_str())))
                    .set((
                        establishments::name.eq(name),
                        establishments::updated_at.eq(at),
                    ))
                    .execute(conn)?;
            }
            y.and_then(|y| SchoolYear::parse(&y).ok())
                .map(|year| FileStamp { year, exported_at })
        }
        None => {
            diesel::insert_into(establishments::table)
                .values((
                    establishments::uai.eq(uai.as_str()),
                    establishments::name.eq(opts.name.clone().unwrap_or_else(|| uai.to_string())),
                    establishments::kind.eq("inconnu"),
                    establishments::created_at.eq(at),
                    establishments::updated_at.eq(at),
                ))
                .execute(conn)?;
            report.establishment_created = true;
            None
        }
    };
    if let Some(l) = &last
        && new.is_older_than(l)
    {
        let message = format!(
            "Ce fichier ({}) est plus ancien que le dernier importé pour cet établissement ({}) : rien n'a été modifié.",
            new.describe(),
            l.describe()
        );
        if !opts.force {
            return Err(Abort::Failed(ImportError::Refused(message)));
        }
        report.forced = true;
        report
            .warnings
            .push(format!("{message} Appliqué quand même (--force)."));
    }
    Ok((new, last))
}

fn write(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    uai: &Uai,
    data: &ImportData,
    opts: &ImportOptions,
    progress: &dyn Fn(usize, usize),
    events: &mut Vec<AuditEvent>,
) -> Result<ImportReport, Abort> {
    let at = db_instant(now);
    let mut report = ImportReport {
        warnings: data.warnings.clone(),
        ..ImportReport::default()
    };
    let (new, last) = file_order(conn, at, uai, data, opts, &mut report)?;
    let pass = Pass {
        now,
        uai,
        data,
        opts,
        progress,
        rollover: last.is_some_and(|l| new.year > l.year),
    };
    let mut ids = Identifiants::load(conn)?;
    let source_to_id = pupil_rows::write(conn, &pass, &mut ids, &mut report, events)?;
    let recorded = new.recorded_after(last.as_ref());
    diesel::update(establishments::table.filter(establishments::uai.eq(uai.as_str())))
        .set((
            establishments::last_import_year.eq(Some(recorded.year.as_stored())),
            establishments::last_import_exported_at.eq(recorded.exported_at),
        ))
        .execute(conn)?;
    guardians::write(conn, uai, data, now, &mut ids, &source_to_id, &mut report)?;
    Ok(report)
}
