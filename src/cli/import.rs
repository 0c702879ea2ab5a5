//! `educt-admin import siecle|csv` and `educt-admin purge`.

use std::path::PathBuf;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::audit::cli_actor;
use crate::db::DbConnection;
use crate::delegation::local_day;
use crate::domain::Uai;
use crate::import::apply::{ImportOptions, ImportReport, apply};
use crate::import::purge::{purge, purgeable};
use crate::import::{ImportData, ImportError, csv_input, siecle};
use crate::secrets::AppKey;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import SIECLE/BEE exports: ElevesSansAdresses.xml [ResponsablesAvecAdresses.xml].
    Siecle {
        #[arg(long, value_name = "UAI")]
        uai: String,
        /// The establishment's name (when it is created or renamed).
        #[arg(long)]
        name: Option<String>,
        /// Show what would happen; change nothing.
        #[arg(long)]
        dry_run: bool,
        pupils: PathBuf,
        guardians: Option<PathBuf>,
    },
    /// Import CSV files: eleves.csv [responsables.csv] (columns in docs/operations.md).
    Csv {
        #[arg(long, value_name = "UAI")]
        uai: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        dry_run: bool,
        pupils: PathBuf,
        guardians: Option<PathBuf>,
    },
}

fn read(path: &PathBuf) -> Result<Vec<u8>, ImportError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| ImportError::Refused(format!("{}: {e}", path.display())))?;
    if meta.len() > 20 * 1024 * 1024 {
        return Err(ImportError::Refused(format!(
            "{}: larger than 20 MB",
            path.display()
        )));
    }
    std::fs::read(path).map_err(|e| ImportError::Refused(format!("{}: {e}", path.display())))
}

/// Reads the files (no database work).
pub fn load(
    command: &ImportCommand,
) -> Result<(Uai, Option<String>, bool, ImportData, &'static str), ImportError> {
    let (uai, name, dry_run, pupils, guardians, csv) = match command {
        ImportCommand::Siecle {
            uai,
            name,
            dry_run,
            pupils,
            guardians,
        } => (uai, name, *dry_run, pupils, guardians, false),
        ImportCommand::Csv {
            uai,
            name,
            dry_run,
            pupils,
            guardians,
        } => (uai, name, *dry_run, pupils, guardians, true),
    };
    let uai = Uai::parse(uai).map_err(|e| ImportError::Refused(e.to_string()))?;
    let mut data = ImportData {
        uai: uai.to_string(),
        ..ImportData::default()
    };
    let pupils = read(pupils)?;
    let guardians = guardians.as_ref().map(read).transpose()?;
    if csv {
        csv_input::read_pupils(&pupils, &mut data)?;
        if let Some(g) = guardians {
            csv_input::read_guardians(&g, &mut data)?;
        }
    } else {
        siecle::read_pupils(&pupils, &uai, &mut data)?;
        if let Some(g) = guardians {
            siecle::read_guardians(&g, &uai, &mut data)?;
        }
    }
    Ok((
        uai,
        name.clone(),
        dry_run,
        data,
        if csv { "import.csv" } else { "import.siecle" },
    ))
}

pub fn run(
    conn: &mut DbConnection,
    key: &AppKey,
    tz: chrono_tz::Tz,
    command: ImportCommand,
) -> Result<String, ImportError> {
    let (uai, name, dry_run, data, action) = load(&command)?;
    let bar = if data.pupils.len() >= 1000 {
        let b = ProgressBar::new(data.pupils.len() as u64);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} élèves") {
            b.set_style(style);
        }
        b
    } else {
        ProgressBar::hidden()
    };
    let opts = ImportOptions {
        action,
        actor: cli_actor(),
        name,
        dry_run,
        tz,
    };
    let report = apply(
        conn,
        key,
        chrono::Utc::now(),
        &uai,
        &data,
        &opts,
        &|done, _| bar.set_position(done as u64),
    )?;
    bar.finish_and_clear();
    Ok(render(&report, dry_run))
}

pub fn render(report: &ImportReport, dry_run: bool) -> String {
    let mut out = String::new();
    if dry_run {
        out.push_str("DRY RUN: nothing was changed.\n");
    }
    if report.establishment_created {
        out.push_str("establishment created\n");
    }
    out.push_str(&report.summary());
    for w in &report.warnings {
        out.push_str("\nwarning: ");
        out.push_str(w);
    }
    out
}

/// `purge [--apply]`
pub fn run_purge(
    conn: &mut DbConnection,
    key: &AppKey,
    tz: chrono_tz::Tz,
    apply_it: bool,
) -> Result<String, ImportError> {
    let now = chrono::Utc::now();
    let today = local_day(now, tz);
    if !apply_it {
        let list = purgeable(conn, today)?;
        let mut out = format!(
            "DRY RUN: {} leaver(s) gone for more than 90 days would be deleted (run with --apply)",
            list.len()
        );
        for (_, ident) in list.iter().take(50) {
            out.push_str("\n  ");
            out.push_str(ident);
        }
        return Ok(out);
    }
    let (pupils, parents) = purge(conn, key, now, today, &cli_actor())?;
    Ok(format!(
        "{pupils} pupil(s) and {parents} parent(s) deleted; their identifiants stay reserved"
    ))
}
