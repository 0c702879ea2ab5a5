//! Accepting a transfer (BRIEF rule 4): the principal of the ORIGIN establishment lets his
//! pupil go to the establishment whose import claimed him. The UAI comes from the transfer
//! record, never from a form.

use super::authorize::{self, Attempt, path_id, permitted};
use super::{Caller, Context, Failure};
use crate::audit::{self, AuditAction, Outcome};
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::delegation::policy::{Action, Permit};
use crate::domain::Uai;
use crate::import::transfers::{self, PendingTransfer, TransferError};
use crate::secrets::AppKey;

fn attempt(t: &PendingTransfer) -> Attempt {
    Attempt::new(AuditAction::TransferAccept).on("eleve", t.pupil_id)
}

/// The transfer `id` names (as the path gives it), the establishment it leaves, and the
/// permit to accept it there: hidden when the id is malformed or unknown.
pub fn permit_on(
    conn: &mut DbConnection,
    caller: &Caller<'_>,
    id: &str,
) -> Result<(PendingTransfer, Uai, Permit), Failure> {
    let id = path_id(id)?;
    let t = transfers::find(conn, id)?.ok_or_else(Failure::hidden)?;
    let from = Uai::parse(&t.from_uai).map_err(|e| Failure::internal(e.to_string()))?;
    let action = Action::AcceptTransfers;
    let permit = authorize::permit(conn, caller, action, &from, &attempt(&t))?;
    Ok((t, from, permit))
}

fn refuse(
    conn: &mut DbConnection,
    key: &AppKey,
    ctx: &Context,
    t: &PendingTransfer,
    uai: &Uai,
    details: &str,
    failure: Failure,
) -> Result<String, Failure> {
    let event = attempt(t).event_in(ctx, Some(uai), Outcome::Refused);
    authorize::record_refusal(conn, key, ctx.now, &event.details(details))?;
    Err(failure)
}

/// Accepts `t`, which the page showed for pupil `shown_pupil` (a stale page, whose request
/// now names another pupil, is refused: 409): the pupil moves and keeps his identifiant,
/// both journals say so. Returns the French summary.
pub fn accept(
    conn: &mut DbConnection,
    key: &AppKey,
    permit: &Permit,
    ctx: &Context,
    t: &PendingTransfer,
    shown_pupil: &str,
) -> Result<String, Failure> {
    let from = permitted(permit, Action::AcceptTransfers)?.clone();
    if from.as_str() != t.from_uai {
        return Err(Failure::internal("permit for another establishment"));
    }
    if shown_pupil.trim().parse::<i64>().ok() != Some(t.pupil_id) {
        let failure = Failure::conflict(
            "Cette demande de transfert a changé depuis l'affichage de la page : rechargez-la et \
             vérifiez l'élève avant d'accepter.",
        );
        let details = "la demande de transfert affichée n'est plus celle-ci";
        return refuse(conn, key, ctx, t, &from, details, failure);
    }
    let template = attempt(t).event_in(ctx, None, Outcome::Success);
    let at = db_instant(ctx.now);
    let accepted = audit::audited(conn, key, ctx.now, |tx| {
        transfers::accept(tx, t.id, &template, at)
    });
    match accepted {
        Ok(text) => Ok(text),
        Err(TransferError::Gone) => {
            let failure = Failure::conflict(TransferError::Gone.to_string());
            refuse(
                conn,
                key,
                ctx,
                t,
                &from,
                "transfert plus en attente",
                failure,
            )
        }
        Err(TransferError::Db(e)) => Err(Failure::internal(e.to_string())),
    }
}
