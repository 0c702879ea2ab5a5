//! The accounts' upkeep, done by the holder of the housekeeping lease after each round:
//! the writes a remote account store left without outcome are read again and their outcome
//! recorded (`job:entretien`), and the provisional passwords not used within their validity
//! are retired (the directory's removed; our tables' refused by their date), and the account
//! shows "Notification expirée", each with its audit row. A store
//! that does not answer ends the round; the next one tries again.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;

use super::housekeeping::ACTOR;
use super::{Context, Failure, FailureClass};
use crate::accounts::reset::{Pending, pending_before, settle, store_reason};
use crate::accounts::store::{
    AccountRef, AccountStore, Found, StoreError, expired_provisionals, mark_checked, mark_removed,
    refresh_cache, stale_accounts,
};
use crate::accounts::{AccountKind, AccountOp, AccountState, parents, pupils};
use crate::audit::{self, AuditEvent, Outcome};
use crate::db::DbConnection;
use crate::db::schema::audit_events;
use crate::domain::Uai;
use crate::secrets::AppKey;

/// A write left pending is read again once it is this old (the request may still be on it).
pub const RECONCILE_AFTER_SECS: i64 = 60;
/// Accounts handled per round, of each kind.
const PER_ROUND: i64 = 200;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Upkept {
    pub reconciled: usize,
    pub provisionals_removed: usize,
    /// Accounts whose cached state was read again from a remote store.
    pub refreshed: usize,
}

pub fn run_once(
    conn: &mut DbConnection,
    key: &AppKey,
    store: &dyn AccountStore,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<Upkept, Failure> {
    let mut done = Upkept::default();
    let before = now - Duration::seconds(RECONCILE_AFTER_SECS);
    for mark in pending_before(conn, before, PER_ROUND)? {
        match reconcile(conn, key, store, &mark, (now, tz)) {
            Ok(true) => done.reconciled += 1,
            Ok(false) => {}
            Err(f) if f.class == FailureClass::StoreUnavailable => return Ok(done),
            Err(f) => return Err(f),
        }
    }
    for account in expired_provisionals(conn, now, PER_ROUND)? {
        let rows = expiry_rows(conn, account, now)?;
        // Our own tables: the retirement and its rows in one transaction. A directory
        // cannot join it: its rows follow its write.
        let retired = if store.is_remote() {
            store
                .remove_provisional(conn, account, now)
                .and_then(|removed| {
                    if removed {
                        append_all(conn, key, now, &rows)?;
                    }
                    Ok(removed)
                })
        } else {
            audit::audited(conn, key, now, |tx| -> Result<bool, StoreError> {
                let removed = store.remove_provisional(tx.conn(), account, now)?;
                if removed {
                    for row in &rows {
                        tx.append(row)?;
                    }
                }
                Ok(removed)
            })
        };
        match retired {
            Ok(true) => done.provisionals_removed += 1,
            Ok(false) => {}
            Err(StoreError::Unavailable(_)) => return Ok(done),
            Err(StoreError::Db(e)) => return Err(e.into()),
            // An entry missing or duplicated, or a holder who activated meanwhile: named in
            // the log and not tried again (the refresh below reads its state).
            Err(e) => {
                tracing::warn!(error = %e, "provisional password not removed");
                mark_removed(conn, account, now)?;
            }
        }
    }
    if store.is_remote() {
        done.refreshed = refresh_stale(conn, store, now)?;
    }
    Ok(done)
}

/// Reads again the state of the accounts read longest ago (the ones that change on their
/// own first), so that search, statistics and class forms see what the directory says.
fn refresh_stale(
    conn: &mut DbConnection,
    store: &dyn AccountStore,
    now: DateTime<Utc>,
) -> Result<usize, Failure> {
    let mut accounts = stale_accounts(conn, true, PER_ROUND)?;
    accounts.extend(stale_accounts(conn, false, PER_ROUND / 4)?);
    accounts.dedup();
    let mut refreshed = 0;
    for account in accounts {
        match store.status(conn, account, now) {
            Ok(Some(status)) => {
                refresh_cache(conn, account, &status, now)?;
                refreshed += 1;
            }
            Ok(None) => {}
            Err(StoreError::Unavailable(_)) => return Ok(refreshed),
            Err(StoreError::Db(e)) => return Err(e.into()),
            // An entry missing or duplicated: named in the log, read again in its turn.
            Err(e) => tracing::warn!(error = %e, "account state not refreshed"),
        }
        mark_checked(conn, account, now)?;
    }
    Ok(refreshed)
}

/// The audit rows of an expiry: one in each establishment's journal (the pupil's, or each
/// of a parent's children's).
fn expiry_rows(
    conn: &mut DbConnection,
    account: AccountRef,
    now: DateTime<Utc>,
) -> Result<Vec<AuditEvent>, Failure> {
    let row = Context::new(ACTOR, now)
        .event(
            account.kind.action(AccountOp::ExpireProvisional),
            Outcome::Success,
        )
        .target(account.kind.target(), account.id)
        .details("mot de passe provisoire non utilisé pendant sa validité : il ne permet plus de se connecter");
    let uais: Vec<Uai> = match account.kind {
        AccountKind::Pupil => pupils::find(conn, account.id)?
            .map(|p| p.uai)
            .into_iter()
            .collect(),
        AccountKind::Parent => parents::establishments(conn, account.id)?,
    };
    if uais.is_empty() {
        return Ok(vec![row]);
    }
    Ok(uais
        .iter()
        .map(|uai| row.clone().uai(uai.as_str()))
        .collect())
}

fn append_all(
    conn: &mut DbConnection,
    key: &AppKey,
    now: DateTime<Utc>,
    rows: &[AuditEvent],
) -> Result<(), StoreError> {
    audit::audited(conn, key, now, |tx| -> Result<(), StoreError> {
        for row in rows {
            tx.append(row)?;
        }
        Ok(())
    })
}

/// Reads the store again for one pending write and records what it found; `false` when
/// another instance settled it meanwhile (its row is the one kept).
fn reconcile(
    conn: &mut DbConnection,
    key: &AppKey,
    store: &dyn AccountStore,
    mark: &Pending,
    (now, tz): (DateTime<Utc>, Tz),
) -> Result<bool, Failure> {
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
                state_found(&started, mark, status.state)
            }
            Ok(None) => refused(StoreError::NotFound)?,
            Err(e) => refused(e)?,
        }
    };
    let mut row = started.clone();
    row.actor = ACTOR.stored();
    row.outcome = outcome;
    row.request_id = None;
    let when = mark
        .started_at
        .with_timezone(&tz)
        .format("%d/%m/%Y à %H:%M");
    row.details = Some(format!(
        "vérification d'une tentative du {when} (par {}) dont l'issue n'avait pas été enregistrée : {said}",
        started.actor
    ));
    audit::audited(conn, key, now, |tx| -> Result<bool, Failure> {
        if settle(tx.conn(), mark.started)? != 1 {
            return Ok(false);
        }
        tx.append(&row)?;
        Ok(true)
    })
}

/// Whether a state change left pending reached its aim, as the store shows the account:
/// deactivating aims at Désactivé, unblocking and reactivating at no lock.
fn state_found(started: &AuditEvent, mark: &Pending, state: AccountState) -> (Outcome, String) {
    let deactivating = started.action == mark.account.kind.audit(AccountOp::Deactivate);
    let locked = matches!(state, AccountState::Bloque | AccountState::Desactive);
    let reached = if deactivating {
        state == AccountState::Desactive
    } else {
        !locked
    };
    let said = format!("l'annuaire montre le compte « {} »", state.label());
    if reached {
        (
            Outcome::Success,
            format!("{said} : le changement a eu lieu"),
        )
    } else {
        (
            Outcome::Failure,
            format!("{said} : le changement n'a pas eu lieu"),
        )
    }
}

/// A store's answer that settles the mark as a failure, or the failure that ends the round.
fn refused(e: StoreError) -> Result<(Outcome, String), Failure> {
    match e {
        StoreError::Unavailable(_) | StoreError::Db(_) => Err(e.into()),
        other => Ok((Outcome::Failure, store_reason(&other))),
    }
}
