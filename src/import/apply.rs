//! Writes an [`ImportData`] in one transaction (with its audit row): idempotent, so a second
//! import of the same file changes nothing. `dry_run` runs the very same work and rolls it back.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::{ImportData, ImportError, guardians};
use crate::accounts::AccountState;
use crate::audit::{self, AuditEvent, Outcome};
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::schema::{establishments, identifiants, pupils};
use crate::delegation::local_day;
use crate::domain::{
    Identifiant, Uai, first_free_number, identifiant_base, number_after_base, search_key,
};
use crate::secrets::AppKey;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// `import.siecle` or `import.csv`.
    pub action: &'static str,
    pub actor: String,
    /// The establishment's name, when it is created (or renamed).
    pub name: Option<String>,
    pub dry_run: bool,
    pub tz: chrono_tz::Tz,
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
    pub warnings: Vec<String>,
}

impl ImportReport {
    pub fn summary(&self) -> String {
        format!(
            "pupils: {} created, {} updated, {} unchanged, {} leaving; parents: {} created, {} updated; links changed: {}; warnings: {}",
            self.created,
            self.updated,
            self.unchanged,
            self.leaving,
            self.parents_created,
            self.parents_updated,
            self.links_changed,
            self.warnings.len()
        )
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
    fn load(conn: &mut DbConnection) -> QueryResult<Self> {
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

type PupilRow = (
    i64,
    Option<String>,
    Option<String>,
    String,
    String,
    NaiveDate,
    Option<String>,
    String,
    Option<NaiveDate>,
    String,
);

/// Writes `data` for `uai`. `progress` is told (done, total) as pupils are handled.
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
        let report = write(tx.conn(), now, uai, data, opts, progress)?;
        let event = AuditEvent::new(opts.actor.clone(), opts.action, Outcome::Success)
            .uai(uai.as_str())
            .target("etablissement", uai)
            .details(report.summary());
        tx.append(&event)?;
        if opts.dry_run {
            return Err(Abort::DryRun(Box::new(report)));
        }
        Ok(report)
    });
    match outcome {
        Ok(r) => Ok(r),
        Err(Abort::DryRun(r)) => Ok(*r),
        Err(Abort::Failed(e)) => Err(e),
    }
}

fn write(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    uai: &Uai,
    data: &ImportData,
    opts: &ImportOptions,
    progress: &dyn Fn(usize, usize),
) -> Result<ImportReport, Abort> {
    let at = db_instant(now);
    let today = local_day(now, opts.tz);
    let mut report = ImportReport {
        warnings: data.warnings.clone(),
        ..ImportReport::default()
    };

    // The establishment, created when unknown.
    let existing: Option<Option<String>> = establishments::table
        .filter(establishments::uai.eq(uai.as_str()))
        .select(establishments::last_import_year)
        .first(conn)
        .optional()?;
    let last_year = match existing {
        Some(y) => {
            if let Some(name) = &opts.name {
                diesel::update(establishments::table.filter(establishments::uai.eq(uai.as_str())))
                    .set((
                        establishments::name.eq(name),
                        establishments::updated_at.eq(at),
                    ))
                    .execute(conn)?;
            }
            y
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

    // Pupils: match by (UAI, ELEVE_ID), then INE here, then INE elsewhere (a move).
    let columns = (
        pupils::id,
        pupils::siecle_id,
        pupils::ine,
        pupils::last_name,
        pupils::first_name,
        pupils::birth_date,
        pupils::division,
        pupils::state,
        pupils::departure_date,
        pupils::uai,
    );
    let here: Vec<PupilRow> = pupils::table
        .filter(pupils::uai.eq(uai.as_str()))
        .select(columns)
        .load(conn)?;
    let file_ines: Vec<String> = data.pupils.iter().filter_map(|p| p.ine.clone()).collect();
    let elsewhere: Vec<PupilRow> = if file_ines.is_empty() {
        Vec::new()
    } else {
        let mut v = Vec::new();
        for chunk in file_ines.chunks(500) {
            v.extend(
                pupils::table
                    .filter(pupils::uai.ne(uai.as_str()))
                    .filter(pupils::ine.eq_any(chunk))
                    .select(columns)
                    .load::<PupilRow>(conn)?,
            );
        }
        v
    };
    let by_source: HashMap<&str, &PupilRow> = here
        .iter()
        .filter_map(|r| r.1.as_deref().map(|s| (s, r)))
        .collect();
    let by_ine_here: HashMap<&str, &PupilRow> = here
        .iter()
        .filter_map(|r| r.2.as_deref().map(|s| (s, r)))
        .collect();
    let by_ine_elsewhere: HashMap<&str, &PupilRow> = elsewhere
        .iter()
        .filter_map(|r| r.2.as_deref().map(|s| (s, r)))
        .collect();
    let mut ids = Identifiants::load(conn)?;
    let mut source_to_id: HashMap<&str, i64> = HashMap::new();
    let mut present: HashSet<i64> = HashSet::new();
    let total = data.pupils.len();
    for (n, p) in data.pupils.iter().enumerate() {
        if n % 100 == 0 {
            progress(n, total);
        }
        let found = by_source
            .get(p.source_id.as_str())
            .or_else(|| p.ine.as_deref().and_then(|i| by_ine_here.get(i)))
            .or_else(|| p.ine.as_deref().and_then(|i| by_ine_elsewhere.get(i)))
            .copied();
        match found {
            Some(row) => {
                let id = row.0;
                present.insert(id);
                source_to_id.insert(p.source_id.as_str(), id);
                let leaving = p.left_on.is_some() && row.8.is_none();
                let same = row.1.as_deref() == Some(p.source_id.as_str())
                    && row.2 == p.ine
                    && row.3 == p.last_name
                    && row.4 == p.first_name
                    && row.5 == p.birth_date
                    && row.6 == p.division
                    && row.9 == uai.as_str();
                if same && !leaving {
                    report.unchanged += 1;
                    continue;
                }
                diesel::update(pupils::table.filter(pupils::id.eq(id)))
                    .set((
                        pupils::uai.eq(uai.as_str()),
                        pupils::siecle_id.eq(Some(&p.source_id)),
                        pupils::ine.eq(&p.ine),
                        pupils::last_name.eq(&p.last_name),
                        pupils::first_name.eq(&p.first_name),
                        pupils::search_name
                            .eq(search_key(&format!("{} {}", p.last_name, p.first_name))),
                        pupils::birth_date.eq(p.birth_date),
                        pupils::division.eq(&p.division),
                        pupils::updated_at.eq(at),
                    ))
                    .execute(conn)?;
                if leaving {
                    leave(conn, id, &row.7, p.left_on.unwrap_or(today), at)?;
                    report.leaving += 1;
                } else {
                    report.updated += 1;
                }
            }
            None => {
                if p.left_on.is_some() {
                    report.warnings.push(format!(
                        "pupil {} left before being imported; not created",
                        p.source_id
                    ));
                    continue;
                }
                let identifiant = ids.allocate(conn, "eleve", &p.first_name, &p.last_name, now)?;
                let id: i64 = diesel::insert_into(pupils::table)
                    .values((
                        pupils::uai.eq(uai.as_str()),
                        pupils::identifiant.eq(&identifiant),
                        pupils::siecle_id.eq(Some(&p.source_id)),
                        pupils::ine.eq(&p.ine),
                        pupils::last_name.eq(&p.last_name),
                        pupils::first_name.eq(&p.first_name),
                        pupils::search_name
                            .eq(search_key(&format!("{} {}", p.last_name, p.first_name))),
                        pupils::birth_date.eq(p.birth_date),
                        pupils::division.eq(&p.division),
                        pupils::state.eq(AccountState::NonNotifie.as_str()),
                        pupils::must_change.eq(false),
                        pupils::created_at.eq(at),
                        pupils::updated_at.eq(at),
                    ))
                    .returning(pupils::id)
                    .get_result(conn)?;
                present.insert(id);
                source_to_id.insert(p.source_id.as_str(), id);
                report.created += 1;
            }
        }
    }
    progress(total, total);

    // Rollover: a newer school year makes the missing pupils leavers (a same-year file may be
    // partial and never does).
    let newer = match (&data.school_year, &last_year) {
        (Some(new), Some(old)) => new.as_str() > old.as_str(),
        _ => false,
    };
    if newer {
        for row in here
            .iter()
            .filter(|r| !present.contains(&r.0) && r.8.is_none())
        {
            leave(conn, row.0, &row.7, today, at)?;
            report.leaving += 1;
        }
    }
    if let Some(year) = &data.school_year
        && last_year.as_deref().is_none_or(|old| year.as_str() > old)
    {
        diesel::update(establishments::table.filter(establishments::uai.eq(uai.as_str())))
            .set(establishments::last_import_year.eq(Some(year)))
            .execute(conn)?;
    }

    guardians::write(conn, uai, data, now, &mut ids, &source_to_id, &mut report)?;
    Ok(report)
}

/// A leaver: a departure date, and `desactive` (the state before is kept).
fn leave(
    conn: &mut DbConnection,
    id: i64,
    state: &str,
    on: NaiveDate,
    at: chrono::NaiveDateTime,
) -> QueryResult<usize> {
    let previous = (state != AccountState::Desactive.as_str()).then_some(state);
    diesel::update(pupils::table.filter(pupils::id.eq(id)))
        .set((
            pupils::departure_date.eq(Some(on)),
            pupils::state.eq(AccountState::Desactive.as_str()),
            pupils::previous_state.eq(previous),
            pupils::updated_at.eq(at),
        ))
        .execute(conn)
}
