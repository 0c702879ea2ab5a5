//! The pupils' half of an import. A row matches a pupil of its own establishment by
//! (UAI, `ELEVE_ID`), then by INE within that establishment; an INE held by a pupil of
//! another establishment is a transfer ([`super::transfers`]); anything else is a new
//! pupil. Leavers get a departure date, which also completes a transfer waiting for it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::apply::{Abort, Identifiants, ImportOptions, ImportReport};
use super::transfers::{
    self, Claim, INE_TAKEN, PendingTransfer, Resident, both_journals, establishment_label,
};
use super::{ImportData, PupilRecord};
use crate::accounts::{AccountKind, AccountState};
use crate::audit::{AuditAction, AuditEvent, Outcome};
use crate::clock::db_instant;
use crate::clock::local_day;
use crate::db::DbConnection;
use crate::db::schema::pupils;
use crate::domain::{Uai, search_key};

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
    let (uai, data, now) = (pass.uai.as_str(), pass.data, pass.now);
    let at = db_instant(now);
    let today = local_day(now, pass.opts.tz);
    let here: Vec<Here> = pupils::table
        .filter(pupils::uai.eq(uai))
        .select(Here::as_select())
        .load(conn)?;
    let file_ines: Vec<String> = data.pupils.iter().filter_map(|p| p.ine.clone()).collect();
    let elsewhere = transfers::residents_elsewhere(conn, uai, &file_ines)?;
    let outgoing: HashMap<i64, PendingTransfer> = transfers::pending_from(conn, uai)?
        .into_iter()
        .map(|t| (t.pupil_id, t))
        .collect();
    let by_source: HashMap<&str, &Here> = here
        .iter()
        .filter_map(|r| r.siecle_id.as_deref().map(|s| (s, r)))
        .collect();
    let by_ine_here: HashMap<&str, &Here> = here
        .iter()
        .filter_map(|r| r.ine.as_deref().map(|s| (s, r)))
        .collect();
    let mut by_ine_elsewhere: HashMap<&str, Vec<&Resident>> = HashMap::new();
    for r in &elsewhere {
        if let Some(i) = r.ine.as_deref() {
            by_ine_elsewhere.entry(i).or_default().push(r);
        }
    }
    let mut source_to_id: HashMap<&str, i64> = HashMap::new();
    let mut present: HashSet<i64> = HashSet::new();
    let total = data.pupils.len();
    for (n, p) in data.pupils.iter().enumerate() {
        if n % 100 == 0 {
            (pass.progress)(n, total);
        }
        let found = by_source
            .get(p.source_id.as_str())
            .or_else(|| p.ine.as_deref().and_then(|i| by_ine_here.get(i)))
            .copied();
        if let Some(row) = found {
            present.insert(row.id);
            source_to_id.insert(p.source_id.as_str(), row.id);
            let leaving = p.left_on.is_some() && row.departure_date.is_none();
            let same = row.siecle_id.as_deref() == Some(p.source_id.as_str())
                && row.ine == p.ine
                && row.last_name == p.last_name
                && row.first_name == p.first_name
                && row.birth_date == p.birth_date
                && row.division == p.division;
            if same && !leaving {
                report.unchanged += 1;
                continue;
            }
            update(conn, row.id, p, at)?;
            if leaving {
                leave(conn, row.id, &row.state, p.left_on.unwrap_or(today), at)?;
                report.leaving += 1;
                depart(
                    conn,
                    pass,
                    row.id,
                    &row.identifiant,
                    &outgoing,
                    report,
                    events,
                )?;
            } else {
                report.updated += 1;
            }
            continue;
        }
        if p.left_on.is_some() {
            report.warnings.push(format!(
                "élève {} : parti avant d'avoir été importé ; non créé",
                p.source_id
            ));
            continue;
        }
        if let Some(candidates) = p.ine.as_deref().and_then(|i| by_ine_elsewhere.get(i)) {
            if let Some(id) = transfer(conn, pass, p, candidates, report, events)? {
                present.insert(id);
                source_to_id.insert(p.source_id.as_str(), id);
            }
            continue;
        }
        let identifiant = ids.allocate(
            conn,
            AccountKind::Pupil.identifiant_kind(),
            &p.first_name,
            &p.last_name,
            now,
        )?;
        let id: i64 = diesel::insert_into(pupils::table)
            .values((
                pupils::uai.eq(uai),
                pupils::identifiant.eq(&identifiant),
                pupils::siecle_id.eq(Some(&p.source_id)),
                pupils::ine.eq(&p.ine),
                pupils::last_name.eq(&p.last_name),
                pupils::first_name.eq(&p.first_name),
                pupils::search_name.eq(search_key(&format!("{} {}", p.last_name, p.first_name))),
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
    (pass.progress)(total, total);

    // Rollover: a newer school year makes the missing pupils leavers (a same-year file may
    // be partial and never does).
    if pass.rollover {
        for row in here
            .iter()
            .filter(|r| !present.contains(&r.id) && r.departure_date.is_none())
        {
            leave(conn, row.id, &row.state, today, at)?;
            report.leaving += 1;
            depart(
                conn,
                pass,
                row.id,
                &row.identifiant,
                &outgoing,
                report,
                events,
            )?;
        }
    }
    Ok(source_to_id)
}

fn update(
    conn: &mut DbConnection,
    id: i64,
    p: &PupilRecord,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(pupils::table.filter(pupils::id.eq(id)))
        .set((
            pupils::siecle_id.eq(Some(&p.source_id)),
            pupils::ine.eq(&p.ine),
            pupils::last_name.eq(&p.last_name),
            pupils::first_name.eq(&p.first_name),
            pupils::search_name.eq(search_key(&format!("{} {}", p.last_name, p.first_name))),
            pupils::birth_date.eq(p.birth_date),
            pupils::division.eq(&p.division),
            pupils::updated_at.eq(at),
        ))
        .execute(conn)
}

/// A row whose INE is held by a pupil of another establishment. Returns the pupil's id
/// when he moved here now.
fn transfer(
    conn: &mut DbConnection,
    pass: &Pass<'_>,
    p: &PupilRecord,
    candidates: &[&Resident],
    report: &mut ImportReport,
    events: &mut Vec<AuditEvent>,
) -> Result<Option<i64>, Abort> {
    let uai = pass.uai.as_str();
    let at = db_instant(pass.now);
    let template = pass
        .opts
        .event(AuditAction::ImportTransfer, Outcome::Success);
    let here_label = establishment_label(conn, uai)?;
    let who = match candidates {
        [one] if one.same_person(&p.last_name, p.birth_date) => *one,
        _ => {
            // Refused: nothing of the other pupil changes, and the warning names nobody.
            report.warnings.push(format!(
                "élève {} : {INE_TAKEN} (nom ou date de naissance différents) ; ligne refusée, rien n'a été modifié",
                p.source_id
            ));
            let mut own = template.clone().uai(uai).details(format!(
                "Ligne {} refusée : {INE_TAKEN}, avec un autre nom ou une autre date de naissance",
                p.source_id
            ));
            own.outcome = Outcome::Refused;
            events.push(own);
            for c in candidates {
                let mut e = template.clone().uai(c.uai.as_str()).target(AccountKind::Pupil.target(), c.id).details(format!(
                    "Refusé : l'import de {here_label} présentait l'INE de {} avec un autre nom ou une autre date de naissance ; rien n'a été modifié",
                    c.full_name()
                ));
                e.outcome = Outcome::Refused;
                events.push(e);
            }
            return Ok(None);
        }
    };
    let from_label = establishment_label(conn, &who.uai)?;
    let born = p.birth_date.format("%d/%m/%Y");
    if who.departure_date.is_some() {
        transfers::move_pupil(conn, who.id, uai, p, at)?;
        let text = format!(
            "Transfert : {} {} (né(e) le {born}) arrive de {from_label}, parti(e) de cet établissement, et garde son identifiant {}",
            p.first_name, p.last_name, who.identifiant
        );
        events.extend(both_journals(
            &template,
            AuditAction::ImportTransfer,
            Outcome::Success,
            [who.uai.as_str(), uai],
            who.id,
            &text,
        ));
        report.moved_in.push(text);
        return Ok(Some(who.id));
    }
    match transfers::claim(conn, who, uai, p, &pass.opts.actor, at)? {
        Claim::Created => {
            let text = format!(
                "Transfert en attente : {} {} (né(e) le {born}) est encore inscrit(e) à {from_label} ; il (elle) arrivera quand cet établissement aura enregistré son départ ou accepté le transfert",
                p.first_name, p.last_name
            );
            events.extend(both_journals(
                &template,
                AuditAction::ImportTransferPending,
                Outcome::Success,
                [who.uai.as_str(), uai],
                who.id,
                &text,
            ));
            report.pending.push(text);
        }
        Claim::AlreadyPending => report.pending.push(format!(
            "Transfert toujours en attente : {} {} (né(e) le {born}), encore inscrit(e) à {from_label}",
            p.first_name, p.last_name
        )),
        Claim::PendingElsewhere => {
            report.warnings.push(format!(
                "élève {} : un transfert de cet élève vers un autre établissement est déjà en attente ; ligne refusée",
                p.source_id
            ));
            let mut e = template.clone().uai(uai).details(format!(
                "Ligne {} refusée : un transfert vers un autre établissement est déjà en attente",
                p.source_id
            ));
            e.outcome = Outcome::Refused;
            events.push(e);
        }
    }
    Ok(None)
}

/// A pupil of this establishment just left: a transfer waiting for that completes now.
fn depart(
    conn: &mut DbConnection,
    pass: &Pass<'_>,
    id: i64,
    identifiant: &str,
    outgoing: &HashMap<i64, PendingTransfer>,
    report: &mut ImportReport,
    events: &mut Vec<AuditEvent>,
) -> Result<(), Abort> {
    let Some(t) = outgoing.get(&id) else {
        return Ok(());
    };
    transfers::move_pupil(conn, id, &t.to_uai, &t.record(), db_instant(pass.now))?;
    let to_label = establishment_label(conn, &t.to_uai)?;
    let text = format!(
        "Transfert : {} {} (identifiant {identifiant}) part vers {to_label}, qui l'avait demandé, et garde son identifiant",
        t.first_name, t.last_name
    );
    events.extend(both_journals(
        &pass
            .opts
            .event(AuditAction::ImportTransfer, Outcome::Success),
        AuditAction::ImportTransfer,
        Outcome::Success,
        [pass.uai.as_str(), t.to_uai.as_str()],
        id,
        &text,
    ));
    report.moved_out.push(text);
    Ok(())
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
