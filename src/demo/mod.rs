//! `serve --demo`: two establishments, their principals and staff, ~360 pupils and their
//! parents in varied account states, seeded once on an empty database.

mod names;
mod seeder;

use seeder::Seeder;

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Utc};
use diesel::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use secrecy::{ExposeSecret, SecretString};

use crate::audit::{AuditAction, AuditEvent, Outcome, audited, cli_actor};
use crate::auth::password::{PasswordError, generate_password, hash_password};
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::schema::{agent_uais, agents, establishments};
use crate::secrets::{AppKey, create_private_file};

pub const COLLEGE: &str = "0691234S";
pub const LYCEE: &str = "0692418D";
pub const CREDENTIALS_FILE: &str = "demo-credentials.txt";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One demo agent: uid, display name, role, UAIs responsible for, UAIs attached to.
type StaffMember = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

const STAFF: &[StaffMember] = &[
    (
        "principal.demo",
        "Claire Perrin-Lambert",
        "principal",
        &[COLLEGE],
        &[COLLEGE],
    ),
    (
        "principal2.demo",
        "Hervé N'Guessan",
        "principal",
        &[LYCEE],
        &[LYCEE],
    ),
    (
        "referent.demo",
        "Sophie Lefèvre",
        "referent",
        &[],
        &[COLLEGE],
    ),
    (
        "enseignant.demo",
        "Marc Dubois-Roche",
        "enseignant",
        &[],
        &[COLLEGE],
    ),
];

/// Seeds the demo data when the database has no establishment yet.
/// Returns the credentials written (none when the data was already there).
pub fn seed_if_empty(
    conn: &mut DbConnection,
    key: &AppKey,
    now: DateTime<Utc>,
    data_dir: &Path,
) -> Result<Vec<(String, SecretString, String)>, DemoError> {
    let existing: i64 = establishments::table.count().get_result(conn)?;
    let credentials_path = data_dir.join(CREDENTIALS_FILE);
    if existing > 0 {
        println!(
            "Données de démonstration déjà présentes ; identifiants dans {}",
            credentials_path.display()
        );
        return Ok(Vec::new());
    }
    // Hashing first, outside the write transaction (SQLite has one writer).
    let mut credentials = Vec::new();
    let mut hashes = Vec::new();
    for (uid, _, role, _, _) in STAFF {
        let password = generate_password(16)?;
        hashes.push(hash_password(&password)?);
        credentials.push(((*uid).to_owned(), password, (*role).to_owned()));
    }
    // Seeded accounts that "have" a password carry the hash of a random, forgotten one.
    let decoy_hash = hash_password(&generate_password(24)?)?;
    let stats = audited(conn, key, now, |tx| -> Result<SeedStats, DemoError> {
        let stats = insert_all(tx.conn(), now, &hashes, &decoy_hash)?;
        tx.append(
            &AuditEvent::new(cli_actor(), AuditAction::DemoSeed, Outcome::Success).details(
                format!(
                    "establishments=2 agents={} pupils={} parents={}",
                    STAFF.len(),
                    stats.pupils,
                    stats.parents
                ),
            ),
        )?;
        Ok(stats)
    })?;
    write_credentials(&credentials_path, &credentials)?;
    println!(
        "Démonstration : {} élèves et {} responsables créés. Comptes des personnels (aussi dans {}) :",
        stats.pupils,
        stats.parents,
        credentials_path.display()
    );
    for (uid, password, role) in &credentials {
        println!("  {uid}\t{}\t{role}", password.expose_secret());
    }
    Ok(credentials)
}

fn write_credentials(
    path: &Path,
    credentials: &[(String, SecretString, String)],
) -> Result<(), DemoError> {
    let err = |source| DemoError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = create_private_file(path).map_err(err)?;
    for (uid, password, role) in credentials {
        writeln!(file, "{uid}\t{}\t{role}", password.expose_secret()).map_err(err)?;
    }
    Ok(())
}

struct SeedStats {
    pupils: usize,
    parents: usize,
}

fn insert_all(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    staff_hashes: &[String],
    decoy_hash: &str,
) -> Result<SeedStats, DemoError> {
    let at = db_instant(now);
    for (uai, name, kind) in [
        (COLLEGE, "Collège Jean Moulin", "college"),
        (LYCEE, "Lycée Ampère", "lycee"),
    ] {
        diesel::insert_into(establishments::table)
            .values((
                establishments::uai.eq(uai),
                establishments::name.eq(name),
                establishments::kind.eq(kind),
                establishments::created_at.eq(at),
                establishments::updated_at.eq(at),
            ))
            .execute(conn)?;
    }
    for ((uid, display, _, responsible, attached), hash) in STAFF.iter().zip(staff_hashes) {
        let mail = format!("{}@ac-demo.fr", uid.replace(".demo", ""));
        let id: i64 = diesel::insert_into(agents::table)
            .values((
                agents::uid.eq(uid),
                agents::display_name.eq(display),
                agents::mail.eq(Some(mail)),
                agents::password_hash.eq(Some(hash)),
                agents::disabled.eq(false),
                agents::created_at.eq(at),
                agents::updated_at.eq(at),
            ))
            .returning(agents::id)
            .get_result(conn)?;
        for (uais, role) in [(*responsible, "responsible"), (*attached, "attached")] {
            for uai in uais {
                diesel::insert_into(agent_uais::table)
                    .values((
                        agent_uais::agent_id.eq(id),
                        agent_uais::uai.eq(uai),
                        agent_uais::role.eq(role),
                    ))
                    .execute(conn)?;
            }
        }
    }
    let mut rng = StdRng::seed_from_u64(20_260_901);
    let school_year = if now.month() >= 9 {
        now.year()
    } else {
        now.year() - 1
    };
    let mut seeder = Seeder {
        conn,
        rng: &mut rng,
        now,
        decoy_hash,
        school_year,
        pupils: 0,
        parents: 0,
    };
    seeder.seed_families()?;
    Ok(SeedStats {
        pupils: seeder.pupils,
        parents: seeder.parents,
    })
}
