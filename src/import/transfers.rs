//! Transfers between establishments (BRIEF rule 4). A pupil who changes school keeps his
//! identifiant: an import row whose INE belongs to a pupil of another establishment is a
//! transfer. The surname key and the birth date must match too (INE, surname and birth
//! date are not secrets, so this only stops mistakes and lazy attempts); then the pupil
//! moves at once if he has left the other establishment, else a *pending transfer* waits
//! for his departure (that establishment's next import) or for its principal's acceptance.
//! Every step writes one audit row in each of the two establishments.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl;
use diesel::prelude::*;

use super::PupilRecord;
use crate::accounts::{AccountKind, AccountState};
use crate::audit::{AuditAction, AuditEvent, AuditTx, Outcome};
use crate::db::DbConnection;
use crate::db::schema::{pending_transfers, pupils};
use crate::domain::Uai;
use crate::domain::search_key;

/// The French warning of a refused row.
pub const INE_TAKEN: &str = "INE déjà attribué à un élève d'un autre établissement";

/// The surname as compared: lowercase ASCII letters and digits only (accents, spaces,
/// hyphens and apostrophes do not count).
pub fn surname_key(surname: &str) -> String {
    search_key(surname)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// A pupil of another establishment, as the matching needs him.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = pupils)]
pub struct Resident {
    pub id: i64,
    pub uai: String,
    pub identifiant: String,
    pub ine: Option<String>,
    pub last_name: String,
    pub first_name: String,
    pub birth_date: NaiveDate,
    pub state: String,
    pub previous_state: Option<String>,
    pub departure_date: Option<NaiveDate>,
}

impl Resident {
    pub fn same_person(&self, last_name: &str, birth_date: NaiveDate) -> bool {
        surname_key(&self.last_name) == surname_key(last_name) && self.birth_date == birth_date
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// A pending transfer: what the claiming establishment's file says of the pupil.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = pending_transfers)]
pub struct PendingTransfer {
    pub id: i64,
    pub pupil_id: i64,
    pub from_uai: String,
    pub to_uai: String,
    pub siecle_id: String,
    pub ine: String,
    pub last_name: String,
    pub first_name: String,
    pub birth_date: NaiveDate,
    pub division: Option<String>,
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
}

impl PendingTransfer {
    /// The file's record of the pupil, to write when he moves.
    pub fn record(&self) -> PupilRecord {
        PupilRecord {
            source_id: self.siecle_id.clone(),
            ine: Some(self.ine.clone()),
            last_name: self.last_name.clone(),
            first_name: self.first_name.clone(),
            birth_date: self.birth_date,
            division: self.division.clone(),
            left_on: None,
        }
    }

    fn same_record(&self, p: &PupilRecord) -> bool {
        self.record()
            == PupilRecord {
                left_on: None,
                ..p.clone()
            }
    }
}

pub use crate::establishments::label as establishment_label;

/// The columns a file's record sets on a pupil (created, updated or moved).
pub(super) type RecordColumns<'p> = (
    dsl::Eq<pupils::siecle_id, Option<&'p String>>,
    dsl::Eq<pupils::ine, &'p Option<String>>,
    dsl::Eq<pupils::last_name, &'p String>,
    dsl::Eq<pupils::first_name, &'p String>,
    dsl::Eq<pupils::search_name, String>,
    dsl::Eq<pupils::birth_date, NaiveDate>,
    dsl::Eq<pupils::division, &'p Option<String>>,
);

pub(super) fn record_columns(p: &PupilRecord) -> RecordColumns<'_> {
    (
        pupils::siecle_id.eq(Some(&p.source_id)),
        pupils::ine.eq(&p.ine),
        pupils::last_name.eq(&p.last_name),
        pupils::first_name.eq(&p.first_name),
        pupils::search_name.eq(search_key(&format!("{} {}", p.last_name, p.first_name))),
        pupils::birth_date.eq(p.birth_date),
        pupils::division.eq(&p.division),
    )
}

/// Pupils of other establishments than `uai` holding one of `ines`.
pub fn residents_elsewhere(
    conn: &mut DbConnection,
    uai: &str,
    ines: &[String],
) -> QueryResult<Vec<Resident>> {
    let mut out = Vec::new();
    for chunk in ines.chunks(500) {
        out.extend(
            pupils::table
                .filter(pupils::uai.ne(uai))
                .filter(pupils::ine.eq_any(chunk))
                .select(Resident::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// The pending transfers out of `uai` (its pupils claimed elsewhere), or into it.
pub fn pending_from(conn: &mut DbConnection, uai: &str) -> QueryResult<Vec<PendingTransfer>> {
    let all = pending_of(conn, uai)?;
    Ok(all.into_iter().filter(|t| t.from_uai == uai).collect())
}

pub fn pending_to(conn: &mut DbConnection, uai: &str) -> QueryResult<Vec<PendingTransfer>> {
    let all = pending_of(conn, uai)?;
    Ok(all.into_iter().filter(|t| t.to_uai == uai).collect())
}

/// The pending transfers out of or into `uai`, oldest first.
fn pending_of(conn: &mut DbConnection, uai: &str) -> QueryResult<Vec<PendingTransfer>> {
    pending_transfers::table
        .filter(
            pending_transfers::from_uai
                .eq(uai)
                .or(pending_transfers::to_uai.eq(uai)),
        )
        .order(pending_transfers::id)
        .select(PendingTransfer::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<PendingTransfer>> {
    pending_transfers::table
        .filter(pending_transfers::id.eq(id))
        .select(PendingTransfer::as_select())
        .first(conn)
        .optional()
}

/// What became of a claim on a current pupil of another establishment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// A new pending transfer.
    Created,
    /// Already pending for this establishment (its record refreshed if the file changed).
    AlreadyPending,
    /// Pending for a third establishment: this row is refused.
    PendingElsewhere,
}

/// The columns a file's record sets on a pending transfer (made or refreshed).
type PendingColumns<'p> = (
    dsl::Eq<pending_transfers::siecle_id, &'p String>,
    dsl::Eq<pending_transfers::ine, &'p String>,
    dsl::Eq<pending_transfers::last_name, &'p String>,
    dsl::Eq<pending_transfers::first_name, &'p String>,
    dsl::Eq<pending_transfers::birth_date, NaiveDate>,
    dsl::Eq<pending_transfers::division, &'p Option<String>>,
);

fn pending_columns<'p>(p: &'p PupilRecord, ine: &'p String) -> PendingColumns<'p> {
    (
        pending_transfers::siecle_id.eq(&p.source_id),
        pending_transfers::ine.eq(ine),
        pending_transfers::last_name.eq(&p.last_name),
        pending_transfers::first_name.eq(&p.first_name),
        pending_transfers::birth_date.eq(p.birth_date),
        pending_transfers::division.eq(&p.division),
    )
}

/// Records (or refreshes) the pending transfer of `who` to `to_uai`.
pub fn claim(
    conn: &mut DbConnection,
    who: &Resident,
    to_uai: &str,
    p: &PupilRecord,
    actor: &str,
    at: NaiveDateTime,
) -> QueryResult<Claim> {
    let existing: Option<PendingTransfer> = pending_transfers::table
        .filter(pending_transfers::pupil_id.eq(who.id))
        .select(PendingTransfer::as_select())
        .first(conn)
        .optional()?;
    let ine = p.ine.clone().unwrap_or_default();
    match existing {
        Some(t) if t.to_uai != to_uai => Ok(Claim::PendingElsewhere),
        Some(t) => {
            if !t.same_record(p) {
                diesel::update(pending_transfers::table.filter(pending_transfers::id.eq(t.id)))
                    .set(pending_columns(p, &ine))
                    .execute(conn)?;
            }
            Ok(Claim::AlreadyPending)
        }
        None => {
            diesel::insert_into(pending_transfers::table)
                .values((
                    pending_transfers::pupil_id.eq(who.id),
                    pending_transfers::from_uai.eq(&who.uai),
                    pending_transfers::to_uai.eq(to_uai),
                    pending_columns(p, &ine),
                    pending_transfers::requested_by.eq(actor),
                    pending_transfers::requested_at.eq(at),
                ))
                .execute(conn)?;
            Ok(Claim::Created)
        }
    }
}

/// Moves pupil `id` into `to_uai` with the file's record: same account and identifiant, a
/// leaver becomes current again (his state from before the departure comes back), any
/// pending transfer of his is closed, and he leaves the unfinished letter batches of his
/// former establishment.
pub fn move_pupil(
    conn: &mut DbConnection,
    id: i64,
    to_uai: &str,
    p: &PupilRecord,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let (state, previous, departed): (String, Option<String>, Option<NaiveDate>) = pupils::table
        .filter(pupils::id.eq(id))
        .select((
            pupils::state,
            pupils::previous_state,
            pupils::departure_date,
        ))
        .first(conn)?;
    let (state, previous) = match (departed, previous) {
        (Some(_), Some(before)) if state == AccountState::Desactive.as_str() => (before, None),
        (_, previous) => (state, previous),
    };
    diesel::update(pupils::table.filter(pupils::id.eq(id)))
        .set((
            pupils::uai.eq(to_uai),
            record_columns(p),
            pupils::departure_date.eq(None::<NaiveDate>),
            pupils::state.eq(state),
            pupils::previous_state.eq(previous),
            pupils::updated_at.eq(at),
        ))
        .execute(conn)?;
    diesel::delete(pending_transfers::table.filter(pending_transfers::pupil_id.eq(id)))
        .execute(conn)?;
    // A letter batch of his former establishment must not reset him any more, nor claim him.
    let to = Uai::parse(to_uai).map_err(|_| {
        diesel::result::Error::DeserializationError(format!("UAI {to_uai:?} is not valid").into())
    })?;
    crate::accounts::batch::withdraw_account(conn, AccountKind::Pupil.batch_kind(), id, Some(&to))?;
    Ok(())
}

/// One audit row per establishment, both about pupil `pupil_id`, with the same French text.
pub fn both_journals(
    template: &AuditEvent,
    action: AuditAction,
    outcome: Outcome,
    uais: [&str; 2],
    pupil_id: i64,
    details: &str,
) -> Vec<AuditEvent> {
    uais.iter()
        .map(|uai| {
            let mut e = template.clone();
            e.action = action.as_str().to_owned();
            e.outcome = outcome;
            e.uai(*uai)
                .target(AccountKind::Pupil.target(), pupil_id)
                .details(details.to_owned())
        })
        .collect()
}

/// Why an acceptance did nothing.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(
        "Ce transfert n'est plus en attente : l'élève a déjà changé d'établissement ou la demande a été retirée."
    )]
    Gone,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// The principal of the origin accepts transfer `id` (inside the caller's audited
/// transaction): the pupil moves, both journals say so. Returns the French summary.
pub fn accept(
    tx: &mut AuditTx<'_>,
    id: i64,
    template: &AuditEvent,
    at: NaiveDateTime,
) -> Result<String, TransferError> {
    let t = find(tx.conn(), id)?.ok_or(TransferError::Gone)?;
    let who: Option<Resident> = pupils::table
        .filter(pupils::id.eq(t.pupil_id))
        .select(Resident::as_select())
        .first(tx.conn())
        .optional()?;
    let Some(who) = who.filter(|w| w.uai == t.from_uai) else {
        return Err(TransferError::Gone);
    };
    let to = establishment_label(tx.conn(), &t.to_uai)?;
    let from = establishment_label(tx.conn(), &t.from_uai)?;
    move_pupil(tx.conn(), who.id, &t.to_uai, &t.record(), at)?;
    let text = format!(
        "Transfert accepté : {} (identifiant {}) quitte {from} pour {to} et garde son identifiant",
        who.full_name(),
        who.identifiant
    );
    for e in both_journals(
        template,
        AuditAction::TransferAccept,
        Outcome::Success,
        [&t.from_uai, &t.to_uai],
        who.id,
        &text,
    ) {
        tx.append(&e)?;
    }
    Ok(text)
}
