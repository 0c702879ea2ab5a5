//! The journal read model: an establishment's audit rows, filtered, paged, as CSV, and the
//! last rows about one record. Times are shown in the establishments' time zone; the
//! stored codes are shown in French, people by their names (`names`, `details_fr`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;

use diesel::dsl::sql;
use diesel::sql_types::{Bool, Text};

use super::details_fr::french_details;
use super::names::{Names, gate_label};
use super::{AuditAction, Outcome, StoredEvent};
use crate::csv_export::to_csv;
use crate::db::DbConnection;
use crate::db::schema::{audit_events, pending_account_writes};
use crate::domain::{ParseError, Uai, parse_form_day};

pub const PAGE_SIZE: i64 = 50;
pub const CSV_MAX_ROWS: i64 = 100_000;

/// One row as the journal shows it: in French, people and delegations named (the stored
/// codes are kept for the CSV and the filters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRow {
    pub at: String,
    /// Who acted, named.
    pub actor: String,
    /// Who acted, as stored (an agent's uid: what the actor filter takes).
    pub actor_code: String,
    /// The action's French label.
    pub action: String,
    /// The action as stored.
    pub action_code: String,
    pub target: String,
    pub outcome: String,
    /// « délégation du 02/12/2026 », when one was used.
    pub delegation: String,
    pub gate: String,
    pub client: String,
    pub request_id: String,
    pub details: String,
    /// A write to the account store begun, whose outcome is not known yet (the
    /// reconciliation job will record it).
    pub awaiting: bool,
}

impl JournalRow {
    fn of(stored: StoredEvent, tz: Tz, names: &Names) -> Self {
        let at: DateTime<Tz> = stored.at.and_utc().with_timezone(&tz);
        let e = stored.event;
        JournalRow {
            at: at.format("%d/%m/%Y %H:%M:%S").to_string(),
            actor: names.actor(&e.actor),
            action: AuditAction::label_of(&e.action).to_owned(),
            target: match (e.target_kind, e.target_id) {
                (Some(k), Some(id)) => names.target(&k, &id),
                _ => String::new(),
            },
            outcome: e.outcome.label().to_owned(),
            delegation: e
                .delegation_id
                .map(|d| names.delegation(d))
                .unwrap_or_default(),
            gate: e
                .gate
                .as_deref()
                .map(gate_label)
                .unwrap_or_default()
                .to_owned(),
            client: e.client_addr.unwrap_or_default(),
            request_id: e.request_id.unwrap_or_default(),
            details: e
                .details
                .as_deref()
                .map(french_details)
                .unwrap_or_default()
                .into_owned(),
            actor_code: e.actor,
            action_code: e.action,
            awaiting: false,
        }
    }

    /// Who acted, and through which delegation: "Sophie Lefèvre (délégation du 02/12/2026)".
    pub fn by(&self) -> String {
        if self.delegation.is_empty() {
            self.actor.clone()
        } else {
            format!("{} ({})", self.actor, self.delegation)
        }
    }
}

/// The rows, named.
fn named(conn: &mut DbConnection, rows: Vec<StoredEvent>, tz: Tz) -> QueryResult<Vec<JournalRow>> {
    let names = Names::load(conn, &rows, tz)?;
    Ok(rows
        .into_iter()
        .map(|e| JournalRow::of(e, tz, &names))
        .collect())
}

/// Which rows of an establishment's journal: days from `from` to `until` (included),
/// actor by prefix, action by its stored code, target by its id.
#[derive(Debug, Clone)]
pub struct JournalFilter {
    pub uai: Uai,
    from: Option<NaiveDateTime>,
    until: Option<NaiveDateTime>,
    pub actor: String,
    pub action: String,
    pub target: String,
}

fn day_start(day: NaiveDate, tz: Tz) -> NaiveDateTime {
    let local = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc).naive_utc())
        .unwrap_or(local)
}

fn optional_day(value: &str, what: &str) -> Result<Option<NaiveDate>, ParseError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    parse_form_day(value, what).map(Some)
}

fn like_prefix(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("{escaped}%")
}

impl JournalFilter {
    /// The filter a form asks for (days as typed, in `tz`; texts clipped to 100 characters).
    pub fn parse(
        uai: Uai,
        [from, until, actor, action, target]: [&str; 5],
        tz: Tz,
    ) -> Result<Self, ParseError> {
        let clip = |s: &str| s.trim().chars().take(100).collect::<String>();
        Ok(Self {
            uai,
            from: optional_day(from, "de début")?.map(|d| day_start(d, tz)),
            until: optional_day(until, "de fin")?
                .and_then(|d| d.succ_opt())
                .map(|d| day_start(d, tz)),
            actor: clip(actor),
            action: clip(action),
            target: clip(target),
        })
    }

    fn rows(
        &self,
        conn: &mut DbConnection,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<StoredEvent>> {
        // The rows about a parent of a pupil of this establishment too (BRIEF rule 4: a
        // parent belongs to every establishment of his children), whichever establishment's
        // staff acted (their stored `uai` is that staff's). Both indexes do the work: the
        // pupils of `uai`, then `audit_events (target_kind, target_id)`.
        let about_a_parent = sql::<Bool>(
            "(audit_events.target_kind = 'responsable' AND audit_events.target_id IN \
             (SELECT CAST(pupil_parents.parent_id AS TEXT) FROM pupil_parents \
             JOIN pupils ON pupils.id = pupil_parents.pupil_id WHERE pupils.uai = ",
        )
        .bind::<Text, _>(self.uai.as_str().to_owned())
        .sql("))");
        let mut q = audit_events::table
            .filter(
                audit_events::uai
                    .eq(self.uai.as_str().to_owned())
                    .or(about_a_parent),
            )
            .into_boxed();
        if let Some(from) = self.from {
            q = q.filter(audit_events::at.ge(from));
        }
        if let Some(until) = self.until {
            q = q.filter(audit_events::at.lt(until));
        }
        if !self.actor.is_empty() {
            q = q.filter(
                audit_events::actor
                    .like(like_prefix(&self.actor))
                    .escape('\\'),
            );
        }
        if !self.action.is_empty() {
            q = q.filter(audit_events::action.eq(self.action.clone()));
        }
        if !self.target.is_empty() {
            q = q.filter(audit_events::target_id.eq(self.target.clone()));
        }
        q.order(audit_events::seq.desc())
            .offset(offset)
            .limit(limit)
            .select(StoredEvent::as_select())
            .load(conn)
    }
}

/// Page `page` (from 1) of the filtered journal, newest first, and whether a next one exists.
pub fn page(
    conn: &mut DbConnection,
    filter: &JournalFilter,
    page: i64,
    tz: Tz,
) -> QueryResult<(Vec<JournalRow>, bool)> {
    let mut rows = filter.rows(conn, (page - 1) * PAGE_SIZE, PAGE_SIZE + 1)?;
    let has_next = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let started: Vec<i64> = rows
        .iter()
        .filter(|e| e.event.outcome == Outcome::Started)
        .map(|e| e.seq)
        .collect();
    let awaiting: Vec<i64> = if started.is_empty() {
        Vec::new()
    } else {
        pending_account_writes::table
            .filter(pending_account_writes::started_seq.eq_any(&started))
            .select(pending_account_writes::started_seq)
            .load(conn)?
    };
    let waiting: Vec<bool> = rows.iter().map(|e| awaiting.contains(&e.seq)).collect();
    let mut shown = named(conn, rows, tz)?;
    for (row, waiting) in shown.iter_mut().zip(waiting) {
        row.awaiting = waiting;
    }
    Ok((shown, has_next))
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error(transparent)]
    Csv(#[from] csv::Error),
}

/// The CSV's columns: the journal's French, and the stored codes scripts match on.
pub const CSV_HEADER: [&str; 12] = [
    "date",
    "par",
    "identifiant de l'acteur",
    "action",
    "code de l'action",
    "cible",
    "résultat",
    "délégation",
    "accès",
    "adresse",
    "requête",
    "détails",
];

/// The filtered journal as CSV (at most [`CSV_MAX_ROWS`] rows; formulas neutralised).
pub fn export_csv(
    conn: &mut DbConnection,
    filter: &JournalFilter,
    tz: Tz,
) -> Result<Vec<u8>, ExportError> {
    let rows = filter.rows(conn, 0, CSV_MAX_ROWS)?;
    Ok(to_csv(
        &CSV_HEADER,
        named(conn, rows, tz)?.into_iter().map(|j| {
            [
                j.at,
                j.actor,
                j.actor_code,
                j.action,
                j.action_code,
                j.target,
                j.outcome,
                j.delegation,
                j.gate,
                j.client,
                j.request_id,
                j.details,
            ]
        }),
    )?)
}

/// The last audit rows about one record (a pupil's page), newest first.
pub fn target_history(
    conn: &mut DbConnection,
    kind: &str,
    id: impl Into<i64>,
    limit: i64,
    tz: Tz,
) -> QueryResult<Vec<JournalRow>> {
    let rows: Vec<StoredEvent> = audit_events::table
        .filter(audit_events::target_kind.eq(kind.to_owned()))
        .filter(audit_events::target_id.eq(id.into().to_string()))
        .order(audit_events::seq.desc())
        .limit(limit)
        .select(StoredEvent::as_select())
        .load(conn)?;
    named(conn, rows, tz)
}
