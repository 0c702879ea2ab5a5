//! The pending transfers of an establishment as its principal's screen lists them.

use diesel::prelude::*;

use super::transfers::{self, PendingTransfer, establishment_label};
use crate::db::DbConnection;
use crate::db::schema::pupils;
use crate::domain::Uai;

/// One pending transfer, in French words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferLine {
    pub id: i64,
    /// The pupil concerned: the acceptance form names him, so a stale page never accepts
    /// another pupil's request that took the same number.
    pub pupil_id: i64,
    pub pupil: String,
    pub division: String,
    pub birth_date: String,
    /// The other establishment: "Collège Jean Moulin (0691234S)".
    pub other: String,
    pub requested_at: String,
}

fn line(
    t: &PendingTransfer,
    pupil: String,
    division: Option<String>,
    other: String,
) -> TransferLine {
    TransferLine {
        id: t.id,
        pupil_id: t.pupil_id,
        pupil,
        division: division.unwrap_or_default(),
        birth_date: t.birth_date.format("%d/%m/%Y").to_string(),
        other,
        requested_at: t.requested_at.format("%d/%m/%Y").to_string(),
    }
}

/// The pupils of `uai` that another establishment claims (its principal accepts them), and
/// the pupils `uai`'s imports claimed, still current elsewhere.
pub fn pending_lines(
    conn: &mut DbConnection,
    uai: &Uai,
) -> QueryResult<(Vec<TransferLine>, Vec<TransferLine>)> {
    let mut to_accept = Vec::new();
    for t in transfers::pending_from(conn, uai.as_str())? {
        let (identifiant, first, last, division): (String, String, String, Option<String>) =
            pupils::table
                .filter(pupils::id.eq(t.pupil_id))
                .select((
                    pupils::identifiant,
                    pupils::first_name,
                    pupils::last_name,
                    pupils::division,
                ))
                .first(conn)?;
        let other = establishment_label(conn, &t.to_uai)?;
        to_accept.push(line(
            &t,
            format!("{first} {last} ({identifiant})"),
            division,
            other,
        ));
    }
    let mut requested = Vec::new();
    for t in transfers::pending_to(conn, uai.as_str())? {
        let other = establishment_label(conn, &t.from_uai)?;
        let pupil = format!("{} {}", t.first_name, t.last_name);
        requested.push(line(&t, pupil, t.division.clone(), other));
    }
    Ok((to_accept, requested))
}
