//! The command line: `serve`, `migrate`, `audit verify`, `agents …`.

mod agents;
mod import;

pub use agents::AgentsCommand;
pub use import::{ImportCommand, ImportFiles};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::audit::{self, VerifyError};
use crate::config::Settings;
use crate::db::{self, DbConnection};
use crate::secrets::AppKey;
use crate::startup::{
    Application, StartOptions, StartupError, load_key, open_account_store, open_database,
};
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "educt-admin",
    version,
    about = "Administration déléguée des comptes élèves et responsables (EduConnect, DelegCE)",
    long_about = "educt-admin serves the back office where principals delegate rights (DelegCE) and \
                  delegates manage pupils' and parents' accounts. Configuration comes from built-in \
                  defaults, then a TOML file (--config or EDUCT_ADMIN_CONFIG), then \
                  EDUCT_ADMIN__SECTION__KEY environment variables."
)]
pub struct Cli {
    /// TOML configuration file (default: $EDUCT_ADMIN_CONFIG, else built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web application under /educt-admin-comptes.
    Serve {
        /// Listen on this address instead of [server] bind (e.g. 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR")]
        bind: Option<SocketAddr>,
        /// Demo mode: SQLite and key in the data folder, demo establishments, staff and
        /// pupils seeded on an empty database; loopback only.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// The local staff directory (used when [directory] kind = "local").
    Agents {
        /// Use the key the demo generated in its data folder.
        #[arg(long)]
        demo: bool,
        #[command(subcommand)]
        command: AgentsCommand,
    },
    /// Import pupils and parents from SIECLE exports or CSV files (one transaction).
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Delete the pupils gone for more than 90 days (dry run unless --apply).
    Purge {
        #[arg(long)]
        apply: bool,
    },
    /// DelegCE delegations.
    Delegations {
        #[command(subcommand)]
        command: DelegationsCommand,
    },
    /// Audit trail commands.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum DelegationsCommand {
    /// List delegations (all, or one establishment's) with their status today.
    List {
        #[arg(long, value_name = "UAI")]
        uai: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole HMAC chain; print the head (sequence, hash) to anchor elsewhere.
    /// Exits non-zero naming the first broken row.
    Verify {
        /// Use the key the demo generated in its data folder.
        #[arg(long)]
        demo: bool,
    },
}

/// Runs the command; an `Err` is printed as one line by `main`.
pub fn run(cli: Cli) -> Result<ExitCode, StartupError> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    let tz = settings.time_zone();
    match cli.command {
        Command::Serve { bind, demo } => {
            if let Some(bind) = bind {
                settings.server.bind = bind;
            }
            telemetry::init(&settings.log);
            serve(settings, demo)
        }
        Command::Migrate => migrate(&settings),
        Command::Audit {
            command: AuditCommand::Verify { demo },
        } => verify(&settings, demo),
        Command::Delegations {
            command: DelegationsCommand::List { uai },
        } => list_delegations(&settings, uai),
        Command::Import { command } => {
            let store = open_account_store(&settings)?;
            operate(&settings, false, |conn, key| {
                import::run(conn, key, tz, &*store, command)
            })
        }
        Command::Purge { apply } => {
            let store = open_account_store(&settings)?;
            operate(&settings, false, |conn, key| {
                import::run_purge(conn, key, tz, &*store, apply)
            })
        }
        Command::Agents { demo, command } => operate(&settings, demo, |conn, key| {
            agents::run(conn, key, chrono::Utc::now(), command)
        }),
    }
}

/// Runs `f` on a database connection with the application key (`demo`: the one the demo
/// generated in its data folder).
fn with_database<T>(
    settings: &Settings,
    demo: bool,
    f: impl FnOnce(&mut DbConnection, &AppKey) -> Result<T, StartupError>,
) -> Result<T, StartupError> {
    let key = load_key(settings, demo)?;
    let db = open_database(settings)?;
    let mut conn = db.get()?;
    f(&mut conn, &key)
}

/// Runs an operator's command on the database and prints its answer; its error is the
/// command's refusal.
fn operate<E: std::fmt::Display>(
    settings: &Settings,
    demo: bool,
    f: impl FnOnce(&mut DbConnection, &AppKey) -> Result<String, E>,
) -> Result<ExitCode, StartupError> {
    let out = with_database(settings, demo, |conn, key| {
        f(conn, key).map_err(|e| StartupError::Refused(e.to_string()))
    })?;
    println!("{out}");
    Ok(ExitCode::SUCCESS)
}

/// `migrate`: applies the pending migrations, names each.
fn migrate(settings: &Settings) -> Result<ExitCode, StartupError> {
    let db = open_database(settings)?;
    let mut conn = db.get()?;
    let applied = db::run_migrations(&mut conn)?;
    if applied.is_empty() {
        println!("database is up to date ({})", conn.backend_name());
    }
    for name in applied {
        println!("applied {name}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `delegations list [--uai UAI]`: one tab-separated line each, with its status today.
fn list_delegations(settings: &Settings, uai: Option<String>) -> Result<ExitCode, StartupError> {
    let uai = uai
        .map(|u| crate::domain::Uai::parse(&u))
        .transpose()
        .map_err(|e| StartupError::Refused(e.to_string()))?;
    let tz = settings.time_zone();
    let db = open_database(settings)?;
    let mut conn = db.get()?;
    let list = crate::delegation::store::all(&mut conn, uai.as_ref()).map_err(db::DbError::from)?;
    let now = chrono::Utc::now();
    println!("id\tuai\tgrantee\tscope\tfrom\tuntil\tstatus\tgranted_by\tmotive");
    for d in list {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            d.id,
            d.uai,
            d.grantee_uid,
            d.scope.as_str(),
            d.valid_from,
            d.valid_until,
            format!("{:?}", d.status(now, tz)).to_lowercase(),
            d.granted_by,
            d.motive.replace(['\t', '\n', '\r'], " ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn serve(settings: Settings, demo: bool) -> Result<ExitCode, StartupError> {
    let system = actix_web::rt::System::new();
    system.block_on(async move {
        let app = Application::build(
            settings,
            StartOptions {
                demo,
                ..StartOptions::default()
            },
        )?;
        let scheme = if app.is_tls() { "https" } else { "http" };
        let addr = app.addr();
        tracing::info!(%addr, "listening");
        println!("educt-admin écoute sur {scheme}://{addr}/educt-admin-comptes/");
        app.run_until_stopped()
            .await
            .map_err(|source| StartupError::Bind { addr, source })?;
        Ok(ExitCode::SUCCESS)
    })
}

fn verify(settings: &Settings, demo: bool) -> Result<ExitCode, StartupError> {
    with_database(settings, demo, |conn, key| {
        match audit::verify_chain(conn, key) {
            Ok(head) => {
                println!("audit chain OK: {} rows", head.seq);
                println!("head seq={} hash={}", head.seq, head.hash);
                Ok(ExitCode::SUCCESS)
            }
            // A broken chain has no head worth anchoring: printing one would let a script
            // record a forged head as if it had been verified.
            Err(VerifyError::Broken { seq, reason }) => {
                eprintln!("audit chain BROKEN at row {seq}: {reason}");
                eprintln!(
                    "no head printed: the chain cannot be trusted past row {}",
                    seq - 1
                );
                Ok(ExitCode::from(3))
            }
            Err(VerifyError::Query(e)) => Err(StartupError::Db(e.into())),
        }
    })
}
