//! What an agent does with a batch once created, each in one audited transaction: take it up
//! again, abandon what is left, confirm the letters are printed; and the 24-hour wipe.

use chrono::{DateTime, Utc};

use super::{action_event, kind_of, owned_batch};
use crate::accounts::AccountKind;
use crate::accounts::batch::{self, Batch, Lease, runner, store};
use crate::audit::{self, AuditAction, AuditEvent, AuditTx, Outcome};
use crate::db::DbConnection;
use crate::delegation::policy::Permit;
use crate::domain::Uai;
use crate::secrets::AppKey;
use crate::usecases::authorize::{path_id, record_refusal};
use crate::usecases::{Context, Failure, FailureClass};

const CLOSED: &str = "Ce lot est terminé : ses mots de passe ont été effacés.";
const RUNNING: &str = "Ce lot est en cours de traitement : attendez la fin (la page se met à \
    jour toute seule) avant de le reprendre ou de l'abandonner.";

fn not_finished(n: i64) -> Failure {
    let (s, v) = if n > 1 { ("s", "ont") } else { ("", "a") };
    Failure::conflict(format!(
        "{n} compte{s} de ce lot n'{v} pas encore reçu de mot de passe : reprenez le lot ou \
         abandonnez ce qui reste avant de confirmer l'impression."
    ))
}

/// Where a batch of the path is: what the caller mints the permit on (rule 4: the
/// establishment comes from the record).
#[derive(Debug, Clone)]
pub struct Located {
    pub id: i64,
    pub uai: Uai,
    pub kind: AccountKind,
}

/// The batch `id` of a path, or nothing (404, also for an id that does not parse).
pub fn locate(conn: &mut DbConnection, id: &str) -> Result<Located, Failure> {
    let id = path_id(id)?;
    let found = batch::find(conn, id)?.ok_or_else(Failure::hidden)?;
    Ok(Located {
        id,
        kind: kind_of(&found),
        uai: found.uai,
    })
}

/// Runs `change` in one audited transaction; a conflict it answers rolls it back and is
/// recorded alone, as `event` refused with the French reason (409).
fn audited_or_refused<T>(
    conn: &mut DbConnection,
    key: &AppKey,
    now: DateTime<Utc>,
    event: &AuditEvent,
    change: impl FnOnce(&mut AuditTx<'_>) -> Result<T, Failure>,
) -> Result<T, Failure> {
    match audit::audited(conn, key, now, change) {
        Err(f) if f.class == FailureClass::Conflict => {
            let mut refused = event.clone().details(f.message.clone());
            refused.outcome = Outcome::Refused;
            record_refusal(conn, key, now, &refused)?;
            Err(f)
        }
        other => other,
    }
}

/// The batch as the transaction sees it.
fn current(tx: &mut AuditTx<'_>, id: i64) -> Result<Batch, Failure> {
    batch::find(tx.conn(), id)?.ok_or_else(Failure::hidden)
}

/// A batch taken up again: its worker starts next with this lease owner.
#[derive(Debug, Clone)]
pub struct Resumed {
    pub id: i64,
    pub kind: AccountKind,
    pub owner: String,
}

/// Takes the work up again under the actor's rights and gate (the error or the interruption
/// that stopped it is forgotten) and leases it to a new owner of `instance_id`, whose worker
/// the caller starts. Refused while closed or while someone works on it (409).
pub fn resume(
    conn: &mut DbConnection,
    key: &AppKey,
    permit: &Permit,
    ctx: &Context,
    id: i64,
    instance_id: &str,
) -> Result<Resumed, Failure> {
    let kind = kind_of(&owned_batch(
        conn,
        key,
        permit,
        ctx,
        id,
        AuditAction::BatchResume,
    )?);
    let owner = runner::new_owner(instance_id)?;
    let event = action_event(ctx, permit, AuditAction::BatchResume, id);
    let (now, acting) = (ctx.now, ctx.actor.stored());
    audited_or_refused(conn, key, now, &event, |tx| {
        if current(tx, id)?.is_closed() {
            return Err(Failure::conflict(CLOSED));
        }
        if !Lease::new(id, &owner).acquire(tx.conn(), now)? {
            return Err(Failure::conflict(RUNNING));
        }
        store::prepare_resume(tx.conn(), id, &acting, ctx.gate.as_deref())?;
        tx.append(&event)?;
        Ok(())
    })?;
    Ok(Resumed { id, kind, owner })
}

/// Gives up the accounts not done yet (they keep their password); returns how many.
pub fn abandon(
    conn: &mut DbConnection,
    key: &AppKey,
    permit: &Permit,
    ctx: &Context,
    id: i64,
) -> Result<usize, Failure> {
    owned_batch(conn, key, permit, ctx, id, AuditAction::BatchAbandon)?;
    let event = action_event(ctx, permit, AuditAction::BatchAbandon, id);
    let (now, by) = (ctx.now, ctx.actor.stored());
    audited_or_refused(conn, key, now, &event, |tx| {
        let b = current(tx, id)?;
        if b.is_closed() {
            return Err(Failure::conflict(CLOSED));
        }
        if b.is_leased(now) {
            return Err(Failure::conflict(RUNNING));
        }
        let n = store::abandon_pending(tx.conn(), id, &by, now)?;
        let s = if n > 1 { "s" } else { "" };
        let details = format!(
            "lot n° {id}, classe {} : {n} compte{s} abandonné{s}",
            b.division
        );
        tx.append(&event.clone().details(details))?;
        Ok(n)
    })
}

/// The letters are printed: the passwords are wiped and the accounts freed. Refused while
/// accounts are still to be done (the agent resumes or abandons them first).
pub fn confirm_printed(
    conn: &mut DbConnection,
    key: &AppKey,
    permit: &Permit,
    ctx: &Context,
    id: i64,
) -> Result<(), Failure> {
    owned_batch(conn, key, permit, ctx, id, AuditAction::BatchPrinted)?;
    let event = action_event(ctx, permit, AuditAction::BatchPrinted, id)
        .details("courriers imprimés : mots de passe effacés");
    audited_or_refused(conn, key, ctx.now, &event, |tx| {
        let progress = store::counts(tx.conn(), id)?;
        if progress.pending > 0 {
            return Err(not_finished(progress.pending));
        }
        store::mark_printed(tx.conn(), id, ctx.now)?;
        tx.append(&event)?;
        Ok(())
    })
}

/// Closes the batches past their 24 hours (passwords wiped, accounts freed), one audit row
/// each, in the caller's audited transaction.
pub fn wipe_expired_in(tx: &mut AuditTx<'_>, ctx: &Context) -> Result<usize, Failure> {
    let wiped = store::wipe_expired(tx.conn(), ctx.now)?;
    for id in &wiped {
        let event = ctx
            .event(AuditAction::BatchWipe, Outcome::Success)
            .target("lot", id)
            .details("mots de passe effacés : 24 heures passées");
        tx.append(&event)?;
    }
    Ok(wiped.len())
}
