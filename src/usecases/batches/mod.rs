//! A division's batch of letters (BRIEF rules 3, 4 and 8), the one home of its rules: which
//! accounts a class form chooses and what it refuses (`create`), who may handle a batch and
//! what he may do with it (`actions`), which letters it prints for whom (`letters`). Each
//! function takes the [`Permit`] the caller minted on the establishment (the requested one for
//! a new batch, the batch's own for the others, see [`locate`]), the audit [`Context`] (its
//! gate is the parents' gate the request passed) and typed input; each change runs in one
//! audited transaction, each refusal writes its row alone. The worker that resets the accounts
//! (`accounts::batch::runner`) is started by the caller with the lease owner the outcome names.

mod actions;
mod create;
mod letters;

use std::sync::Arc;

use chrono_tz::Tz;

/// A batch's letter: the same facts as one reset account's.
pub use super::accounts::LetterFacts as LetterItem;
pub use actions::{Located, Resumed, abandon, confirm_printed, locate, resume, wipe_expired_in};
pub use create::{
    BATCH_STATES, ClassChoice, Created, RENOTIFY_WARNING, Refused, create, create_action, divisions,
};
pub use letters::{Letters, Status, letters, status};

use super::authorize::{Attempt, record_refusal};
use super::{Context, Failure};
use crate::accounts::batch::{self, Batch};
use crate::accounts::{AccountKind, AccountOp};
use crate::audit::{AuditAction, AuditEvent, Outcome};
use crate::db::DbConnection;
use crate::delegation::policy::{Action, Basis, Permit};
use crate::directory::Directory;
use crate::secrets::AppKey;

/// What the batch use cases need besides the connection.
#[derive(Clone)]
pub struct Deps {
    pub key: AppKey,
    /// For the dates a message shows.
    pub tz: Tz,
    /// For the names a message shows (never a uid).
    pub directory: Arc<dyn Directory>,
}

/// The right a batch of `kind` needs.
pub fn action_for(kind: AccountKind) -> Action {
    match kind {
        AccountKind::Pupil => Action::ResetPupil,
        AccountKind::Parent => Action::ResetParent,
    }
}

/// The kind of accounts of a stored batch.
pub fn kind_of(batch: &Batch) -> AccountKind {
    batch.kind
}

/// The audit event of each reset the worker makes for `ctx`'s actor under `permit`.
pub fn reset_template(kind: AccountKind, permit: &Permit, ctx: &Context) -> AuditEvent {
    ctx.event(kind.action(AccountOp::ResetPassword), Outcome::Success)
        .uai(permit.uai().as_str())
        .delegation(permit.delegation_id())
}

pub use super::staff_names::agent_name;

/// The batch `id`, if `permit` is about its establishment and its right, and the actor may
/// handle it: a batch is its creator's; the principal, who holds every right there, may also
/// take it up, print what was done or abandon the rest (after a revocation, say). Anyone else
/// is refused (audited, 403).
fn owned_batch(
    conn: &mut DbConnection,
    key: &AppKey,
    permit: &Permit,
    ctx: &Context,
    id: i64,
    action: AuditAction,
) -> Result<Batch, Failure> {
    let found = batch::find(conn, id)?.ok_or_else(Failure::hidden)?;
    if &found.uai != permit.uai() || permit.action() != action_for(kind_of(&found)) {
        return Err(Failure::hidden());
    }
    let creator = ctx.actor.stored() == found.created_by;
    if !creator && permit.basis() != &Basis::Principal {
        let event = Attempt::new(action)
            .on("lot", id)
            .event_in(ctx, Some(&found.uai), Outcome::Refused)
            .details("lot de courriers créé par un autre personnel");
        record_refusal(conn, key, ctx.now, &event)?;
        return Err(Failure::forbidden(
            "Ce lot de courriers a été créé par un autre personnel.",
        ));
    }
    Ok(found)
}

/// The event of a batch action that went through.
fn action_event(ctx: &Context, permit: &Permit, action: AuditAction, id: i64) -> AuditEvent {
    Attempt::new(action)
        .on("lot", id)
        .event_in(ctx, Some(permit.uai()), Outcome::Success)
        .delegation(permit.delegation_id())
}
