//! The guardians' half of an import: parents matched by (UAI, `PERSONNE_ID`), and the links
//! of the file's pupils to this establishment's guardians made as the file says.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::ImportData;
use super::apply::{Abort, Identifiants, ImportReport};
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
    let at = db_instant(now);
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
                let identifiant = ids.allocate(
                    conn,
                    AccountKind::Parent.identifiant_kind(),
                    &g.first_name,
                    &g.last_name,
                    now,
                )?;
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
    Ok(())
}
