//! `educt-admin import siecle|csv` and `educt-admin purge`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::accounts::AccountKind;
use crate::accounts::reset::store_reason;
use crate::accounts::store::AccountStore;
use crate::audit::cli_actor;
use crate::clock::local_day;
use crate::db::DbConnection;
use crate::domain::Identifiant;
use crate::domain::Uai;
use crate::import::ImportError;
use crate::import::apply::ImportReport;
use crate::import::order::SchoolYear;
use crate::import::purge::{purge, purgeable};
use crate::secrets::AppKey;
use crate::usecases::import::{ImportFormat, ImportRequest};
use crate::usecases::{self, Actor, Context};

/// What both imports take: the establishment, the files and how to apply them.
#[derive(Debug, Args)]
pub struct ImportFiles {
    #[arg(long, value_name = "UAI")]
    uai: String,
    /// The establishment's name (when it is created or renamed).
    #[arg(long)]
    name: Option<String>,
    /// Show what would happen; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Apply a file older than the last one imported for this UAI (audited).
    #[arg(long)]
    force: bool,
    pupils: PathBuf,
    guardians: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import SIECLE/BEE exports: ElevesSansAdresses.xml [ResponsablesAvecAdresses.xml].
    Siecle {
        #[command(flatten)]
        files: ImportFiles,
    },
    /// Import CSV files: eleves.csv [responsables.csv] (columns in docs/operations.md).
    Csv {
        #[command(flatten)]
        files: ImportFiles,
        /// The school year of the files, by its first year (2026 for 2026-2027): a CSV does
        /// not say it, and an older year than the last import is refused.
        #[arg(long, value_name = "ANNEE")]
        annee: String,
    },
}

/// Why a file cannot be read, in French (the system's own messages are English).
fn unreadable(path: &std::path::Path, e: &std::io::Error) -> ImportError {
    let why = match e.kind() {
        std::io::ErrorKind::NotFound => "fichier introuvable",
        std::io::ErrorKind::PermissionDenied => "lecture non autorisée",
        std::io::ErrorKind::IsADirectory => "c'est un dossier, pas un fichier",
        _ => "lecture impossible",
    };
    ImportError::Refused(format!("{} : {why}", path.display()))
}

fn read(path: &PathBuf) -> Result<Vec<u8>, ImportError> {
    let meta = std::fs::metadata(path).map_err(|e| unreadable(path, &e))?;
    if meta.len() > 20 * 1024 * 1024 {
        return Err(ImportError::Refused(format!(
            "{} : le fichier dépasse 20 Mo",
            path.display()
        )));
    }
    std::fs::read(path).map_err(|e| unreadable(path, &e))
}

/// What the command line asked for, once the files are read (no database work).
pub fn load(command: &ImportCommand) -> Result<ImportRequest, ImportError> {
    let (ImportCommand::Siecle { files } | ImportCommand::Csv { files, .. }) = command;
    let uai = Uai::parse(&files.uai).map_err(|e| ImportError::Refused(e.to_string()))?;
    let format = match command {
        ImportCommand::Siecle { .. } => ImportFormat::Siecle,
        ImportCommand::Csv { annee, .. } => ImportFormat::Csv(
            SchoolYear::parse(annee).map_err(|e| ImportError::Refused(format!("--annee : {e}")))?,
        ),
    };
    Ok(ImportRequest {
        uai,
        format,
        pupils: read(&files.pupils)?,
        guardians: files.guardians.as_ref().map(read).transpose()?,
        name: files.name.clone(),
        dry_run: files.dry_run,
        force: files.force,
    })
}

/// Counts the pupils of the file for the progress bar (shown from 1000 on).
fn progress_bar(total: usize) -> ProgressBar {
    if total < 1000 {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(total as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} élèves") {
        b.set_style(style);
    }
    b
}

/// Runs the import as the operator (`cli:$USER`), through the web's use case.
pub fn run(
    conn: &mut DbConnection,
    key: &AppKey,
    tz: chrono_tz::Tz,
    store: &dyn AccountStore,
    command: ImportCommand,
) -> Result<String, ImportError> {
    let request = load(&command)?;
    let ctx = Context::new(Actor::cli_operator(), chrono::Utc::now());
    let bar = std::cell::OnceCell::new();
    let progress = |done: usize, total: usize| {
        bar.get_or_init(|| progress_bar(total))
            .set_position(done as u64)
    };
    let report = usecases::import::import(conn, key, tz, store, None, &ctx, &request, &progress)
        .map_err(|f| ImportError::Refused(f.message))?;
    if let Some(b) = bar.get() {
        b.finish_and_clear();
    }
    Ok(render(&report, request.dry_run))
}

pub fn render(report: &ImportReport, dry_run: bool) -> String {
    let mut out = String::new();
    if dry_run {
        out.push_str("SIMULATION : rien n'a été modifié.\n");
    }
    if report.establishment_created {
        out.push_str("établissement créé\n");
    }
    out.push_str(&report.summary());
    for line in report
        .moved_in
        .iter()
        .chain(&report.pending)
        .chain(&report.moved_out)
    {
        out.push('\n');
        out.push_str(line);
    }
    for w in &report.warnings {
        out.push_str("\navertissement : ");
        out.push_str(w);
    }
    for line in &report.directory {
        out.push('\n');
        out.push_str(line);
    }
    out
}

/// `purge [--apply]`
pub fn run_purge(
    conn: &mut DbConnection,
    key: &AppKey,
    tz: chrono_tz::Tz,
    store: &dyn AccountStore,
    apply_it: bool,
) -> Result<String, ImportError> {
    let now = chrono::Utc::now();
    let today = local_day(now, tz);
    if !apply_it {
        let list = purgeable(conn, today)?;
        let mut out = format!(
            "SIMULATION : {} élève(s) parti(s) depuis plus de 90 jours seraient supprimé(s) (relancez avec --apply pour le faire)",
            list.len()
        );
        for (_, ident) in list.iter().take(50) {
            out.push_str("\n  ");
            out.push_str(ident);
        }
        return Ok(out);
    }
    // The leavers' entries are locked for good first (with provisioning): a directory that
    // does not answer stops the purge before anything is deleted.
    let mut locked = Vec::new();
    for (_, identifiant) in purgeable(conn, today)? {
        let Ok(uid) = Identifiant::parse(&identifiant) else {
            continue;
        };
        match store.retire(AccountKind::Pupil, &uid) {
            Ok(true) => locked.push(identifiant),
            Ok(false) => {}
            Err(e) => {
                return Err(ImportError::Refused(format!(
                    "Purge arrêtée, rien n'a été supprimé : {}.",
                    store_reason(&e)
                )));
            }
        }
    }
    let (pupils, parents) = purge(conn, key, now, today, &cli_actor(), &locked)?;
    Ok(format!(
        "{pupils} élève(s) et {parents} responsable(s) supprimé(s) ; leurs identifiants restent réservés ; {} compte(s) verrouillé(s) définitivement dans l'annuaire",
        locked.len()
    ))
}
