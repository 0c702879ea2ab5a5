//! Writes an [`ImportData`] in one transaction (with its audit row): idempotent, so a second
//! import of the same file changes nothing. `dry_run` runs the very same work and rolls it back.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::{ImportData, ImportError};
use crate::accounts::AccountState;
use crate::audit::{self, AuditEvent, Outcome};
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::schema::{
    establishments, identifiants, parent_sources, parents, pupil_parents, pupils,
};
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
enum Abort {
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
struct Identifiants {
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

    fn allocate(
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

    // Parents, matched by (UAI, PERSONNE_ID).
    let sources: HashMap<String, i64> = parent_sources::table
        .filter(parent_sources::uai.eq(uai.as_str()))
        .select((parent_sources::personne_id, parent_sources::parent_id))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let mut guardian_to_id: HashMap<&str, i64> = HashMap::new();
    for g in &data.guardians {
        match sources.get(&g.source_id) {
            Some(id) => {
                guardian_to_id.insert(g.source_id.as_str(), *id);
                let current: (String, String, Option<String>, Option<String>) = parents::table
                    .filter(parents::id.eq(id))
                    .select((
                        parents::last_name,
                        parents::first_name,
                        parents::email,
                        parents::mobile,
                    ))
                    .first(conn)?;
                if current
                    != (
                        g.last_name.clone(),
                        g.first_name.clone(),
                        g.email.clone(),
                        g.mobile.clone(),
                    )
                {
                    diesel::update(parents::table.filter(parents::id.eq(id)))
                        .set((
                            parents::last_name.eq(&g.last_name),
                            parents::first_name.eq(&g.first_name),
                            parents::search_name
                                .eq(search_key(&format!("{} {}", g.last_name, g.first_name))),
                            parents::email.eq(&g.email),
                            parents::mobile.eq(&g.mobile),
                            parents::updated_at.eq(at),
                        ))
                        .execute(conn)?;
                    report.parents_updated += 1;
                }
            }
            None => {
                let identifiant =
                    ids.allocate(conn, "responsable", &g.first_name, &g.last_name, now)?;
                let id: i64 = diesel::insert_into(parents::table)
                    .values((
                        parents::identifiant.eq(&identifiant),
                        parents::last_name.eq(&g.last_name),
                        parents::first_name.eq(&g.first_name),
                        parents::search_name
                            .eq(search_key(&format!("{} {}", g.last_name, g.first_name))),
                        parents::email.eq(&g.email),
                        parents::mobile.eq(&g.mobile),
                        parents::state.eq(AccountState::NonNotifie.as_str()),
                        parents::must_change.eq(false),
                        parents::created_at.eq(at),
                        parents::updated_at.eq(at),
                    ))
                    .returning(parents::id)
                    .get_result(conn)?;
                diesel::insert_into(parent_sources::table)
                    .values((
                        parent_sources::uai.eq(uai.as_str()),
                        parent_sources::personne_id.eq(&g.source_id),
                        parent_sources::parent_id.eq(id),
                    ))
                    .execute(conn)?;
                guardian_to_id.insert(g.source_id.as_str(), id);
                report.parents_created += 1;
            }
        }
    }

    // Links of the file's pupils to this establishment's guardians: as the file says.
    if !data.guardians.is_empty() || !data.links.is_empty() {
        let ours: HashSet<i64> = sources
            .values()
            .copied()
            .chain(guardian_to_id.values().copied())
            .collect();
        let mut wanted: HashMap<(i64, i64), i16> = HashMap::new();
        for l in &data.links {
            if let (Some(p), Some(g)) = (
                source_to_id.get(l.pupil_source_id.as_str()),
                guardian_to_id.get(l.guardian_source_id.as_str()),
            ) {
                wanted.insert((*p, *g), l.rank);
            }
        }
        let pupil_ids: Vec<i64> = source_to_id.values().copied().collect();
        let mut existing: HashMap<(i64, i64), i16> = HashMap::new();
        for chunk in pupil_ids.chunks(500) {
            for (p, g, r) in pupil_parents::table
                .filter(pupil_parents::pupil_id.eq_any(chunk))
                .select((
                    pupil_parents::pupil_id,
                    pupil_parents::parent_id,
                    pupil_parents::legal_rank,
                ))
                .load::<(i64, i64, i16)>(conn)?
            {
                existing.insert((p, g), r);
            }
        }
        for ((p, g), rank) in &wanted {
            match existing.get(&(*p, *g)) {
                Some(r) if r == rank => {}
                Some(_) => {
                    diesel::update(
                        pupil_parents::table
                            .filter(pupil_parents::pupil_id.eq(p))
                            .filter(pupil_parents::parent_id.eq(g)),
                    )
                    .set(pupil_parents::legal_rank.eq(rank))
                    .execute(conn)?;
                    report.links_changed += 1;
                }
                None => {
                    diesel::insert_into(pupil_parents::table)
                        .values((
                            pupil_parents::pupil_id.eq(p),
                            pupil_parents::parent_id.eq(g),
                            pupil_parents::legal_rank.eq(rank),
                        ))
                        .execute(conn)?;
                    report.links_changed += 1;
                }
            }
        }
        for (p, g) in existing.keys() {
            if ours.contains(g) && !wanted.contains_key(&(*p, *g)) {
                diesel::delete(
                    pupil_parents::table
                        .filter(pupil_parents::pupil_id.eq(p))
                        .filter(pupil_parents::parent_id.eq(g)),
                )
                .execute(conn)?;
                report.links_changed += 1;
            }
        }
    }
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
