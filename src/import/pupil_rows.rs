//! The pupils' half of an import. A row matches a pupil of its own establishment by
//! (UAI, `ELEVE_ID`), then by INE within that establishment; an INE held by a pupil of
//! another establishment is a transfer ([`super::transfers`]); anything else is a new
//! pupil. Leavers get a departure date, which also completes a transfer waiting for it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::apply::{Abort, Identifiants, ImportOptions, ImportReport};
use super::transfers::{
    self, PendingTransfer, Resident, both_journals, establishment_label, record_columns,
};
use super::{ImportData, PupilRecord};
use crate::accounts::{AccountKind, AccountState};
use crate::audit::{AuditAction, AuditEvent, Outcome};
use crate::clock::db_instant;
use crate::clock::local_day;
use crate::db::DbConnection;
use crate::db::schema::pupils;
use crate::domain::Uai;

/// A pupil of the importing establishment.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = pupils)]
struct Here {
    id: i64,
    siecle_id: Option<String>,
    ine: Option<String>,
    last_name: String,
    first_name: String,
    birth_date: NaiveDate,
    division: Option<String>,
    state: String,
    departure_date: Option<NaiveDate>,
    identifiant: String,
}

/// Everything the pass needs besides the connection.
pub(super) struct Pass<'a> {
    pub now: DateTime<Utc>,
    pub uai: &'a Uai,
    pub data: &'a ImportData,
    pub opts: &'a ImportOptions,
    pub progress: &'a dyn Fn(usize, usize),
    /// A newer school year than the last one: the pupils missing from the file leave.
    pub rollover: bool,
}

/// Writes the pupils; returns the file's pupil ids mapped to the database's.
pub(super) fn write<'d>(
    conn: &mut DbConnection,
    pass: &Pass<'d>,
    ids: &mut Identifiants,
    report: &mut ImportReport,
    events: &mut Vec<AuditEvent>,
) -> Result<HashMap<&'d str, i64>, Abort> {
    let uai = pass.uai.as_str();
    let here: Vec<Here> = pupils::table
        .filter(pupils::uai.eq(uai))
        .select(Here::as_select())
        .load(conn)?;
    let file_ines: Vec<String> = pass
        .data
        .pupils
        .iter()
        .filter_map(|p| p.ine.clone())
        .collect();
    let elsewhere = transfers::residents_elsewhere(conn, uai, &file_ines)?;
    let outgoing: HashMap<i64, PendingTransfer> = transfers::pending_from(conn, uai)?
        .into_iter()
        .map(|t| (t.pupil_id, t))
        .collect();
    let known = Known::new(&here, &elsewhere);
    let mut step = Step {
        conn,
        pass,
        outgoing: &outgoing,
        report,
        events,
        at: db_instant(pass.now),
        today: local_day(pass.now, pass.opts.tz),
    };
    let mut source_to_id: HashMap<&str, i64> = HashMap::new();
    let mut present: HashSet<i64> = HashSet::new();
    let total = pass.data.pupils.len();
    for (n, p) in pass.data.pupils.iter().enumerate() {
        if n % 100 == 0 {
            (pass.progress)(n, total);
        }
        if let Some(id) = step.row(&known, ids, p)? {
            present.insert(id);
            source_to_id.insert(p.source_id.as_str(), id);
        }
    }
    (pass.progress)(total, total);

    // Rollover: a newer school year makes the missing pupils leavers (a same-year file may
    // be partial and never does).
    if pass.rollover {
        for row in here
            .iter()
            .filter(|r| !present.contains(&r.id) && r.departure_date.is_none())
        {
            step.leaves(row, step.today)?;
        }
    }
    Ok(source_to_id)
}

impl Here {
    /// Whether the file's record says nothing new of this pupil.
    fn same_as(&self, p: &PupilRecord) -> bool {
        self.siecle_id.as_deref() == Some(p.source_id.as_str())
            && self.ine == p.ine
            && self.last_name == p.last_name
            && self.first_name == p.first_name
            && self.birth_date == p.birth_date
            && self.division == p.division
    }
}

/// The pupils a row may be: here by `ELEVE_ID` or INE, elsewhere by INE.
struct Known<'k> {
    by_source: HashMap<&'k str, &'k Here>,
    by_ine_here: HashMap<&'k str, &'k Here>,
    by_ine_elsewhere: HashMap<&'k str, Vec<&'k Resident>>,
}

impl<'k> Known<'k> {
    fn new(here: &'k [Here], elsewhere: &'k [Resident]) -> Self {
        let mut by_ine_elsewhere: HashMap<&str, Vec<&Resident>> = HashMap::new();
        for r in elsewhere {
            if let Some(i) = r.ine.as_deref() {
                by_ine_elsewhere.entry(i).or_default().push(r);
            }
        }
        Known {
            by_source: here
                .iter()
                .filter_map(|r| r.siecle_id.as_deref().map(|s| (s, r)))
                .collect(),
            by_ine_here: here
                .iter()
                .filter_map(|r| r.ine.as_deref().map(|s| (s, r)))
                .collect(),
            by_ine_elsewhere,
        }
    }

    /// The pupil of this establishment the row is: by `ELEVE_ID`, then by INE.
    fn here(&self, p: &PupilRecord) -> Option<&'k Here> {
        self.by_source
            .get(p.source_id.as_str())
            .or_else(|| p.ine.as_deref().and_then(|i| self.by_ine_here.get(i)))
            .copied()
    }

    /// The pupils of other establishments holding the row's INE.
    fn elsewhere(&self, p: &PupilRecord) -> Option<&[&'k Resident]> {
        let ine = p.ine.as_deref()?;
        self.by_ine_elsewhere.get(ine).map(Vec::as_slice)
    }
}

/// The pass's writing state: the connection, what it reports and audits.
pub(super) struct Step<'s> {
    pub(super) conn: &'s mut DbConnection,
    pub(super) pass: &'s Pass<'s>,
    outgoing: &'s HashMap<i64, PendingTransfer>,
    pub(super) report: &'s mut ImportReport,
    pub(super) events: &'s mut Vec<AuditEvent>,
    pub(super) at: NaiveDateTime,
    today: NaiveDate,
}

impl Step<'_> {
    /// One row of the file; returns the id of the pupil it is here, if any.
    fn row(
        &mut self,
        known: &Known<'_>,
        ids: &mut Identifiants,
        p: &PupilRecord,
    ) -> Result<Option<i64>, Abort> {
        if let Some(row) = known.here(p) {
            self.refresh(row, p)?;
            return Ok(Some(row.id));
        }
        if p.left_on.is_some() {
            self.report.warnings.push(format!(
                "l'élève {} a quitté l'établissement avant d'avoir été importé ; il n'est pas créé",
                p.label()
            ));
            return Ok(None);
        }
        if let Some(candidates) = known.elsewhere(p) {
            return self.transfer(p, candidates);
        }
        self.create(ids, p).map(Some)
    }

    /// A pupil of this establishment: unchanged, updated, or a leaver now.
    fn refresh(&mut self, row: &Here, p: &PupilRecord) -> Result<(), Abort> {
        let leaving = p.left_on.is_some() && row.departure_date.is_none();
        if row.same_as(p) && !leaving {
            self.report.unchanged += 1;
            return Ok(());
        }
        diesel::update(pupils::table.filter(pupils::id.eq(row.id)))
            .set((record_columns(p), pupils::updated_at.eq(self.at)))
            .execute(self.conn)?;
        if leaving {
            self.leaves(row, p.left_on.unwrap_or(self.today))?;
        } else {
            self.report.updated += 1;
        }
        Ok(())
    }

    /// A new pupil with a new identifiant.
    fn create(&mut self, ids: &mut Identifiants, p: &PupilRecord) -> Result<i64, Abort> {
        let kind = AccountKind::Pupil.identifiant_kind();
        let now = self.pass.now;
        let identifiant = ids.allocate(self.conn, kind, &p.first_name, &p.last_name, now)?;
        let id: i64 = diesel::insert_into(pupils::table)
            .values((
                pupils::uai.eq(self.pass.uai.as_str()),
                pupils::identifiant.eq(&identifiant),
                record_columns(p),
                pupils::state.eq(AccountState::NonNotifie.as_str()),
                pupils::must_change.eq(false),
                pupils::created_at.eq(self.at),
                pupils::updated_at.eq(self.at),
            ))
            .returning(pupils::id)
            .get_result(self.conn)?;
        self.report.created += 1;
        Ok(id)
    }

    /// A pupil of this establishment leaves on `on`; a transfer waiting for that completes.
    fn leaves(&mut self, row: &Here, on: NaiveDate) -> Result<(), Abort> {
        leave(self.conn, row.id, &row.state, on, self.at)?;
        self.report.leaving += 1;
        let Some(t) = self.outgoing.get(&row.id) else {
            return Ok(());
        };
        transfers::move_pupil(self.conn, row.id, &t.to_uai, &t.record(), self.at)?;
        let to_label = establishment_label(self.conn, &t.to_uai)?;
        let text = format!(
            "Transfert : {} {} (identifiant {}) part vers {to_label}, qui l'avait demandé, et garde son identifiant",
            t.first_name, t.last_name, row.identifiant
        );
        self.events.extend(both_journals(
            &self
                .pass
                .opts
                .event(AuditAction::ImportTransfer, Outcome::Success),
            AuditAction::ImportTransfer,
            Outcome::Success,
            [self.pass.uai.as_str(), t.to_uai.as_str()],
            row.id,
            &text,
        ));
        self.report.moved_out.push(text);
        Ok(())
    }
}

/// A leaver: a departure date, and `desactive` (the state before is kept).
fn leave(
    conn: &mut DbConnection,
    id: i64,
    state: &str,
    on: NaiveDate,
    at: NaiveDateTime,
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
