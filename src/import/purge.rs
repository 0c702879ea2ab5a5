//! `purge`: leavers gone for more than 90 days are deleted; their identifiants stay reserved.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::ImportError;
use crate::audit::{self, AuditAction, AuditEvent, Outcome};
use crate::db::DbConnection;
use crate::db::schema::{parent_sources, parents, pupil_parents, pupils};
use crate::secrets::AppKey;

/// Leavers whose departure is more than 90 days old: (id, identifiant).
pub fn purgeable(conn: &mut DbConnection, today: NaiveDate) -> QueryResult<Vec<(i64, String)>> {
    let limit = today - chrono::Duration::days(90);
    pupils::table
        .filter(pupils::departure_date.le(limit))
        .order(pupils::id)
        .select((pupils::id, pupils::identifiant))
        .load(conn)
}

/// The purge's audit details: what was deleted, and the leavers' entries locked for good in
/// the account directory (provisioning).
fn purge_details(pupils: usize, parents: usize, locked: &[String]) -> String {
    let mut text = format!("élèves supprimés : {pupils} ; responsables supprimés : {parents}");
    if !locked.is_empty() {
        let shown: Vec<&str> = locked.iter().take(50).map(String::as_str).collect();
        text.push_str(&format!(
            " ; comptes verrouillés définitivement dans l'annuaire : {}",
            shown.join(", ")
        ));
    }
    text
}

/// Deletes those leavers, and the parents left without a child; identifiants stay taken
/// (their tombstones). Returns (pupils, parents) deleted.
pub fn purge(
    conn: &mut DbConnection,
    key: &AppKey,
    now: DateTime<Utc>,
    today: NaiveDate,
    actor: &str,
    locked: &[String],
) -> Result<(usize, usize), ImportError> {
    let outcome = audit::audited(
        conn,
        key,
        now,
        |tx| -> Result<(usize, usize), ImportError> {
            let ids: Vec<i64> = purgeable(tx.conn(), today)?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            let mut parents_of: HashSet<i64> = HashSet::new();
            for chunk in ids.chunks(500) {
                parents_of.extend(
                    pupil_parents::table
                        .filter(pupil_parents::pupil_id.eq_any(chunk))
                        .select(pupil_parents::parent_id)
                        .load::<i64>(tx.conn())?,
                );
                diesel::delete(pupil_parents::table.filter(pupil_parents::pupil_id.eq_any(chunk)))
                    .execute(tx.conn())?;
                diesel::delete(pupils::table.filter(pupils::id.eq_any(chunk)))
                    .execute(tx.conn())?;
            }
            let mut orphans = 0;
            for parent in parents_of {
                let left: i64 = pupil_parents::table
                    .filter(pupil_parents::parent_id.eq(parent))
                    .count()
                    .get_result(tx.conn())?;
                if left == 0 {
                    diesel::delete(
                        parent_sources::table.filter(parent_sources::parent_id.eq(parent)),
                    )
                    .execute(tx.conn())?;
                    diesel::delete(parents::table.filter(parents::id.eq(parent)))
                        .execute(tx.conn())?;
                    orphans += 1;
                }
            }
            tx.append(
                &AuditEvent::new(actor, AuditAction::ImportPurge, Outcome::Success)
                    .details(purge_details(ids.len(), orphans, locked)),
            )?;
            Ok((ids.len(), orphans))
        },
    )?;
    Ok(outcome)
}
