//! The guardians' half of an import: parents matched by (UAI, `PERSONNE_ID`), and the links
//! of the file's pupils to this establishment's guardians made as the file says.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl;
use diesel::prelude::*;

use super::apply::{Abort, Identifiants, ImportReport};
use super::{GuardianRecord, ImportData};
use crate::accounts::{AccountKind, AccountState};
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::schema::{parent_sources, parents, pupil_parents};
use crate::domain::{Uai, search_key};

pub(super) fn write(
    conn: &mut DbConnection,
    uai: &Uai,
    data: &ImportData,
    now: DateTime<Utc>,
    ids: &mut Identifiants,
    source_to_id: &HashMap<&str, i64>,
    report: &mut ImportReport,
) -> Result<(), Abort> {
    // Parents, matched by (UAI, PERSONNE_ID).
    let sources: HashMap<String, i64> = parent_sources::table
        .filter(parent_sources::uai.eq(uai.as_str()))
        .select((parent_sources::personne_id, parent_sources::parent_id))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    let mut guardian_to_id: HashMap<&str, i64> = HashMap::new();
    for g in &data.guardians {
        let id = match sources.get(&g.source_id) {
            Some(id) => {
                if refresh(conn, *id, g, db_instant(now))? {
                    report.parents_updated += 1;
                }
                *id
            }
            None => {
                let id = create(conn, uai, g, ids, now)?;
                report.parents_created += 1;
                id
            }
        };
        guardian_to_id.insert(g.source_id.as_str(), id);
    }
    // Links of the file's pupils to this establishment's guardians: as the file says.
    if !data.guardians.is_empty() || !data.links.is_empty() {
        let ours: HashSet<i64> = sources
            .values()
            .copied()
            .chain(guardian_to_id.values().copied())
            .collect();
        let wanted = wanted_links(data, source_to_id, &guardian_to_id);
        report.links_changed += link(conn, source_to_id, &ours, &wanted)?;
    }
    Ok(())
}

/// The columns the file sets on a parent.
type Columns<'g> = (
    dsl::Eq<parents::last_name, &'g String>,
    dsl::Eq<parents::first_name, &'g String>,
    dsl::Eq<parents::search_name, String>,
    dsl::Eq<parents::email, &'g Option<String>>,
    dsl::Eq<parents::mobile, &'g Option<String>>,
);

fn columns(g: &GuardianRecord) -> Columns<'_> {
    (
        parents::last_name.eq(&g.last_name),
        parents::first_name.eq(&g.first_name),
        parents::search_name.eq(search_key(&format!("{} {}", g.last_name, g.first_name))),
        parents::email.eq(&g.email),
        parents::mobile.eq(&g.mobile),
    )
}

/// Rewrites parent `id` when the file changed him; whether it did.
fn refresh(
    conn: &mut DbConnection,
    id: i64,
    g: &GuardianRecord,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let current: (String, String, Option<String>, Option<String>) = parents::table
        .filter(parents::id.eq(id))
        .select((
            parents::last_name,
            parents::first_name,
            parents::email,
            parents::mobile,
        ))
        .first(conn)?;
    let file = (
        g.last_name.clone(),
        g.first_name.clone(),
        g.email.clone(),
        g.mobile.clone(),
    );
    if current == file {
        return Ok(false);
    }
    diesel::update(parents::table.filter(parents::id.eq(id)))
        .set((columns(g), parents::updated_at.eq(at)))
        .execute(conn)?;
    Ok(true)
}

/// A new parent with a new identifiant, known from now on by his `PERSONNE_ID` here.
fn create(
    conn: &mut DbConnection,
    uai: &Uai,
    g: &GuardianRecord,
    ids: &mut Identifiants,
    now: DateTime<Utc>,
) -> Result<i64, Abort> {
    let at = db_instant(now);
    let kind = AccountKind::Parent.identifiant_kind();
    let identifiant = ids.allocate(conn, kind, &g.first_name, &g.last_name, now)?;
    let id: i64 = diesel::insert_into(parents::table)
        .values((
            parents::identifiant.eq(&identifiant),
            columns(g),
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
    Ok(id)
}

/// The file's links between known pupils and guardians, with their legal rank.
fn wanted_links(
    data: &ImportData,
    source_to_id: &HashMap<&str, i64>,
    guardian_to_id: &HashMap<&str, i64>,
) -> HashMap<(i64, i64), i16> {
    data.links
        .iter()
        .filter_map(|l| {
            let p = source_to_id.get(l.pupil_source_id.as_str())?;
            let g = guardian_to_id.get(l.guardian_source_id.as_str())?;
            Some(((*p, *g), l.rank))
        })
        .collect()
}

/// Makes the file's pupils' links to this establishment's guardians (`ours`) the `wanted`
/// ones; returns how many changed.
fn link(
    conn: &mut DbConnection,
    source_to_id: &HashMap<&str, i64>,
    ours: &HashSet<i64>,
    wanted: &HashMap<(i64, i64), i16>,
) -> QueryResult<usize> {
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
    let mut changed = 0;
    for ((p, g), rank) in wanted {
        let one = pupil_parents::table
            .filter(pupil_parents::pupil_id.eq(p))
            .filter(pupil_parents::parent_id.eq(g));
        match existing.get(&(*p, *g)) {
            Some(r) if r == rank => continue,
            Some(_) => diesel::update(one)
                .set(pupil_parents::legal_rank.eq(rank))
                .execute(conn)?,
            None => diesel::insert_into(pupil_parents::table)
                .values((
                    pupil_parents::pupil_id.eq(p),
                    pupil_parents::parent_id.eq(g),
                    pupil_parents::legal_rank.eq(rank),
                ))
                .execute(conn)?,
        };
        changed += 1;
    }
    for (p, g) in existing.keys() {
        if ours.contains(g) && !wanted.contains_key(&(*p, *g)) {
            diesel::delete(
                pupil_parents::table
                    .filter(pupil_parents::pupil_id.eq(p))
                    .filter(pupil_parents::parent_id.eq(g)),
            )
            .execute(conn)?;
            changed += 1;
        }
    }
    Ok(changed)
}
