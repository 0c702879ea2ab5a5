//! The accounts' upkeep, done by the holder of the housekeeping lease after each round:
//! the writes a remote account store left without outcome are read again and their outcome
//! recorded (`job:entretien`), and the provisional passwords not used within their validity
//! are retired (the directory's removed; our tables' refused by their date), and the account
//! shows "Notification expirée", each with its audit row. A store
//! that does not answer ends the round; the next one tries again.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::housekeeping::ACTOR;
use super::{Context, Failure, FailureClass};
use crate::accounts::AccountOp;
use crate::accounts::reset::{Pending, pending_before, settle, store_reason};
use crate::accounts::store::{
    AccountRef, AccountStore, Found, StoreError, expired_provisionals, refresh_cache,
};
use crate::audit::{self, AuditEvent, Outcome};
use crate::db::DbConnection;
use crate::db::schema::audit_events;
use crate::secrets::AppKey;

/// A write left pending is read again once it is this old (the request may still be on it).
pub const RECONCILE_AFTER_SECS: i64 = 60;
/// Accounts handled per round, of each kind.
const PER_ROUND: i64 = 200;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Upkept {
    pub reconciled: usize,
    pub provisionals_removed: usize,
}

pub fn run_once(
    conn: &mut DbConnection,
    key: &AppKey,
    store: &dyn AccountStore,
    now: DateTime<Utc>,
) -> Result<Upkept, Failure> {
    let mut done = Upkept::default();
    let before = now - Duration::seconds(RECONCILE_AFTER_SECS);
    for mark in pending_before(conn, before, PER_ROUND)? {
        match reconcile(conn, key, store, &mark, now) {
            Ok(()) => done.reconciled += 1,
            Err(f) if f.class == FailureClass::StoreUnavailable => return Ok(done),
            Err(f) => return Err(f),
        }
    }
    for account in expired_provisionals(conn, now, PER_ROUND)? {
        match store.remove_provisional(conn, account, now) {
            Ok(true) => {
                expired_row(conn, key, account, now)?;
                done.provisionals_removed += 1;
            }
            Ok(false) => {}
            Err(StoreError::Unavailable(_)) => return Ok(done),
            Err(StoreError::Db(e)) => return Err(e.into()),
            // An entry missing or duplicated: named in the log, the others go on.
            Err(e) => tracing::warn!(error = %e, "provisional password not removed"),
        }
    }
    Ok(done)
}

fn expired_row(
    conn: &mut DbConnection,
    key: &AppKey,
    account: AccountRef,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let row = Context::new(ACTOR, now)
        .event(
            account.kind.action(AccountOp::ExpireProvisional),
            Outcome::Success,
        )
        .target(account.kind.target(), account.id)
        .details("mot de passe provisoire non utilisé pendant sa validité : il ne permet plus de se connecter");
    audit::audited(conn, key, now, |tx| -> Result<(), Failure> {
        tx.append(&row)?;
        Ok(())
    })
}

/// Reads the store again for one pending write and records what it found.
fn reconcile(
    conn: &mut DbConnection,
    key: &AppKey,
    store: &dyn AccountStore,
    mark: &Pending,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let started: AuditEvent = audit_events::table
        .find(mark.started.0)
        .select(AuditEvent::as_select())
        .first(conn)?;
    let reset = started.action == mark.account.kind.audit(AccountOp::ResetPassword);
    let (outcome, said) = if reset {
        match store.reconcile_reset(conn, mark.account, mark.started_at, now) {
            Ok(Found::Written) => (
                Outcome::Success,
                "le mot de passe provisoire est bien dans l'annuaire ; si son courrier n'a \
                 pas été remis, imprimez-en un nouveau"
                    .to_owned(),
            ),
            Ok(Found::Completed) => (
                Outcome::Success,
                "le mot de passe provisoire était dans l'annuaire sans l'obligation de le \
                 changer, ajoutée maintenant ; imprimez un nouveau courrier"
                    .to_owned(),
            ),
            Ok(Found::Unchanged) => (
                Outcome::Failure,
                "l'annuaire n'a pas été modifié : la réinitialisation n'a pas eu lieu".to_owned(),
            ),
            Err(e) => refused(e)?,
        }
    } else {
        match store.status(conn, mark.account, now) {
            Ok(Some(status)) => {
                refresh_cache(conn, mark.account, &status, now)?;
                let state = status.state.label();
                (
                    Outcome::Success,
                    format!("état constaté dans l'annuaire : {state}"),
                )
            }
            Ok(None) => refused(StoreError::NotFound)?,
            Err(e) => refused(e)?,
        }
    };
    let mut row = started.clone();
    row.actor = ACTOR.stored();
    row.outcome = outcome;
    row.request_id = None;
    row.details = Some(format!(
        "rattrapage de l'entrée n° {} : {said}",
        mark.started.0
    ));
    audit::audited(conn, key, now, |tx| -> Result<(), Failure> {
        settle(tx.conn(), mark.started)?;
        tx.append(&row)?;
        Ok(())
    })
}

/// A store's answer that settles the mark as a failure, or the failure that ends the round.
fn refused(e: StoreError) -> Result<(Outcome, String), Failure> {
    match e {
        StoreError::Unavailable(_) | StoreError::Db(_) => Err(e.into()),
        other => Ok((Outcome::Failure, store_reason(&other))),
    }
}
