//! Granting, extending and revoking a delegation (BRIEF rule 3, `docs/delegation-model.md`):
//! each change in one audited transaction, each refusal with its audit row. The UAI of an
//! extension or a revocation comes from the delegation record, never from a form.

use chrono_tz::Tz;

use super::authorize::{self, Attempt, path_id, permitted};
use super::grant_checks::{CheckedGrant, check_grant};
pub use super::grant_checks::{GrantRefusal, GrantRequest, GranteeLookup, look_up_grantee};
use super::{Caller, Context, Failure};
use crate::audit::{self, AuditAction, AuditTx, Outcome};
use crate::clock::local_day;
use crate::db::DbConnection;
use crate::delegation::policy::{Action, Permit};
use crate::delegation::store::{self, NewDelegation};
use crate::delegation::{Delegation, Status, latest_end};
use crate::domain::{Uai, parse_form_day};
use crate::secrets::AppKey;

/// The same grantee already holds one of the scopes on the establishment, now or later.
fn collision(
    tx: &mut AuditTx<'_>,
    uai: &Uai,
    checked: &CheckedGrant,
    ctx: &Context,
    tz: Tz,
) -> Result<Option<GrantRefusal>, Failure> {
    let held = store::held_by(tx.conn(), &checked.grantee.uid, local_day(ctx.now, tz))?;
    Ok(held
        .iter()
        .find(|d| {
            &d.uai == uai
                && checked.scopes.contains(&d.scope)
                && matches!(d.status(ctx.now, tz), Status::Active | Status::Upcoming)
        })
        .map(|d| GrantRefusal {
            failure: Failure::conflict(format!(
                "{} détient déjà une délégation « {} » sur cet établissement, jusqu'au {}. Vous pouvez la prolonger.",
                d.grantee_name,
                d.scope.label(),
                d.valid_until.format("%d/%m/%Y")
            )),
            reason: "same scope already delegated",
            extend: Some(d.id.get()),
        }))
}

/// Grants the checked scopes (one delegation and one audit row each) unless one collides.
fn write_grant(
    tx: &mut AuditTx<'_>,
    uai: &Uai,
    checked: &CheckedGrant,
    ctx: &Context,
    tz: Tz,
    attempt: &Attempt,
) -> Result<Result<Vec<i64>, GrantRefusal>, Failure> {
    if let Some(refusal) = collision(tx, uai, checked, ctx, tz)? {
        return Ok(Err(refusal));
    }
    let by = ctx.actor.stored();
    let mut ids = Vec::new();
    for scope in &checked.scopes {
        let new = NewDelegation {
            uai,
            grantee_uid: &checked.grantee.uid,
            grantee_name: &checked.grantee.display_name,
            scope: *scope,
            valid_from: checked.from,
            valid_until: checked.until,
            motive: &checked.motive,
            granted_by: &by,
        };
        let id = store::insert(tx.conn(), &new, ctx.now)?;
        let event = attempt
            .clone()
            .on("delegation", id)
            .event_in(ctx, Some(uai), Outcome::Success)
            .delegation(Some(id))
            .details(format!(
                "to {} scope {} from {} until {}",
                checked.grantee.uid,
                scope.as_str(),
                checked.from,
                checked.until
            ));
        tx.append(&event)?;
        ids.push(id);
    }
    Ok(Ok(ids))
}

/// Grants `req` on the permit's establishment: the new delegations' ids, or the refusal
/// (audited) the form shows again. `lookup` is the directory's answer about the grantee.
pub fn grant(
    conn: &mut DbConnection,
    key: &AppKey,
    tz: Tz,
    permit: &Permit,
    ctx: &Context,
    req: &GrantRequest,
    lookup: &GranteeLookup,
) -> Result<Result<Vec<i64>, GrantRefusal>, Failure> {
    let uai = permitted(permit, Action::ManageDelegations)?;
    let attempt = Attempt::new(AuditAction::DelegationGrant);
    let today = local_day(ctx.now, tz);
    let checked = match check_grant(ctx.actor.agent_uid(), uai, req, lookup, today) {
        Ok(checked) => checked,
        Err(refusal) => {
            let event = refused_grant(ctx, uai, &attempt, &refusal, req);
            authorize::record_refusal(conn, key, ctx.now, &event)?;
            return Ok(Err(refusal));
        }
    };
    // Checked inside the write transaction: two tabs cannot both grant.
    audit::audited(conn, key, ctx.now, |tx| {
        let written = write_grant(tx, uai, &checked, ctx, tz, &attempt)?;
        if let Err(refusal) = &written {
            tx.append(&refused_grant(ctx, uai, &attempt, refusal, req))?;
        }
        Ok(written)
    })
}

fn refused_grant(
    ctx: &Context,
    uai: &Uai,
    attempt: &Attempt,
    refusal: &GrantRefusal,
    req: &GrantRequest,
) -> audit::AuditEvent {
    attempt
        .event_in(ctx, Some(uai), Outcome::Refused)
        .details(format!("{} (grantee {:.64})", refusal.reason, req.grantee))
}

/// The delegation `id` names (as the path gives it) and the permit to manage it, on the
/// establishment of the record: hidden when the id is malformed or unknown.
pub fn permit_on(
    conn: &mut DbConnection,
    caller: &Caller<'_>,
    id: &str,
    action: AuditAction,
) -> Result<(Delegation, Permit), Failure> {
    let id = path_id(id)?;
    let d = store::find(conn, id)?.ok_or_else(Failure::hidden)?;
    let attempt = Attempt::new(action).on("delegation", d.id);
    let manage = Action::ManageDelegations;
    let permit = authorize::permit(conn, caller, manage, &d.uai, &attempt)?;
    Ok((d, permit))
}

/// `d`'s establishment and the attempt of `action` on `d` there: the permit must be for
/// managing the delegations of that establishment.
fn permitted_on<'a>(
    permit: &Permit,
    d: &'a Delegation,
    action: AuditAction,
) -> Result<(&'a Uai, Attempt), Failure> {
    if permitted(permit, Action::ManageDelegations)? != &d.uai {
        return Err(Failure::internal("permit for another establishment"));
    }
    Ok((&d.uai, Attempt::new(action).on("delegation", d.id)))
}

/// Revokes `d` at once; a second revocation is refused (409, audited).
pub fn revoke(
    conn: &mut DbConnection,
    key: &AppKey,
    permit: &Permit,
    ctx: &Context,
    d: &Delegation,
) -> Result<(), Failure> {
    let (uai, attempt) = permitted_on(permit, d, AuditAction::DelegationRevoke)?;
    let by = ctx.actor.stored();
    let revoked = audit::audited(conn, key, ctx.now, |tx| -> Result<bool, Failure> {
        let changed = store::revoke(tx.conn(), d.id, &by, ctx.now)?;
        let event = if changed {
            attempt
                .event_in(ctx, Some(uai), Outcome::Success)
                .delegation(Some(d.id))
                .details(format!("{} scope {}", d.grantee_uid, d.scope.as_str()))
        } else {
            attempt
                .event_in(ctx, Some(uai), Outcome::Refused)
                .details("already revoked")
        };
        tx.append(&event)?;
        Ok(changed)
    })?;
    if !revoked {
        return Err(Failure::conflict("Cette délégation est déjà révoquée."));
    }
    Ok(())
}

/// Why `d` cannot end on `requested` (its audit reason and the French sentence).
fn extension_refusal(
    d: &Delegation,
    requested: &str,
    ctx: &Context,
    tz: Tz,
) -> Result<chrono::NaiveDate, (&'static str, String)> {
    let until =
        parse_form_day(requested, "de fin").map_err(|e| ("malformed date", e.to_string()))?;
    let today = local_day(ctx.now, tz);
    let refuse = |reason, message: &str| Err((reason, message.to_owned()));
    match d.status(ctx.now, tz) {
        Status::Revoked => refuse(
            "revoked",
            "Une délégation révoquée ne peut pas être prolongée.",
        ),
        Status::Expired => refuse(
            "expired",
            "Cette délégation est expirée : accordez-en une nouvelle.",
        ),
        _ if until <= d.valid_until => refuse(
            "not later",
            "La nouvelle date de fin doit être postérieure à la date de fin actuelle.",
        ),
        _ if until > latest_end(today.max(d.valid_from)) => refuse(
            "longer than a year",
            "Une délégation dure au plus un an : choisissez une date de fin plus proche.",
        ),
        _ => Ok(until),
    }
}

/// Moves `d`'s last day to `valid_until` (as typed): later than today's, within a year of
/// its start (or of today), not on a revoked or expired delegation (400, audited).
pub fn extend(
    conn: &mut DbConnection,
    key: &AppKey,
    tz: Tz,
    permit: &Permit,
    ctx: &Context,
    d: &Delegation,
    valid_until: &str,
) -> Result<(), Failure> {
    let (uai, attempt) = permitted_on(permit, d, AuditAction::DelegationExtend)?;
    let by = ctx.actor.stored();
    audit::audited(
        conn,
        key,
        ctx.now,
        |tx| -> Result<Result<(), Failure>, Failure> {
            // Read again in the transaction: a revocation in between is seen.
            let d = store::find(tx.conn(), d.id)?.ok_or_else(Failure::hidden)?;
            match extension_refusal(&d, valid_until, ctx, tz) {
                Err((reason, message)) => {
                    let event = attempt.event_in(ctx, Some(uai), Outcome::Refused);
                    tx.append(&event.details(reason))?;
                    Ok(Err(Failure::bad_input(message)))
                }
                Ok(until) => {
                    if store::extend(tx.conn(), d.id, until, &by, ctx.now)? {
                        let event = attempt.event_in(ctx, Some(uai), Outcome::Success);
                        let event = event.delegation(Some(d.id));
                        tx.append(&event.details(format!("until {} → {until}", d.valid_until)))?;
                    }
                    Ok(Ok(()))
                }
            }
        },
    )?
}
