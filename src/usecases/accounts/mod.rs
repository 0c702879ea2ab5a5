//! One pupil's or parent's account: open it (the record, the rights on the establishment it
//! belongs to, BRIEF rule 4), reset its password, unblock, deactivate, reactivate it, show a
//! parent's contacts. Each change is one transaction (`audit::audited`) through the
//! [`AccountStore`], with the [`Permit`] that `open` minted; each refusal has its audit row.
//! The parents' gate is the caller's (it is passed in [`Context::through_gate`]).

mod open;
mod pupil_parents;

pub use open::{Opened, ParentRecord, Record, Wanted, open};
pub use pupil_parents::{PupilParents, pupil_parents};

use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::authorize::{Attempt, record_refusal};
use super::{Context, Failure};
use crate::accounts::batch::withdraw_account;
use crate::accounts::parents::{Child, Parent, children_names};
use crate::accounts::provisional::expiry;
use crate::accounts::pupils::Pupil;
use crate::accounts::reset::{apply_reset, finish_remote, start_remote};
pub use crate::accounts::store::Provisional;
use crate::accounts::store::{AccountStatus, AccountStore, StoreError, Transition, refresh_cache};
use crate::accounts::{AccountKind, AccountOp, AccountState, StateChange};
use crate::audit::{self, AuditEvent, AuditTx, Outcome};
use crate::db::DbConnection;
use crate::domain::{Division, Identifiant};
use crate::secrets::AppKey;

/// What a state change refused for the account's current state says.
pub const NOT_POSSIBLE: &str = "Cette action n'est pas possible dans l'état actuel du compte.";

/// What an account's letter needs: one reset account's, or one of a batch's.
pub struct LetterFacts {
    pub password: SecretString,
    pub first_name: String,
    pub last_name: String,
    pub identifiant: Identifiant,
    pub division: Option<Division>,
    /// A parent's children in the establishment acted on: `Zoë Lefèvre, Tom Lefèvre`.
    pub children: Option<String>,
    pub expires: DateTime<Utc>,
}

impl LetterFacts {
    /// A pupil's letter.
    pub fn pupil(p: &Pupil, password: SecretString, expires: DateTime<Utc>) -> Self {
        Self {
            password,
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            identifiant: p.identifiant.clone(),
            division: p.division.clone(),
            children: None,
            expires,
        }
    }

    /// A parent's letter, naming his `children` of the establishment acted on.
    pub fn parent(
        p: &Parent,
        children: &[Child],
        password: SecretString,
        expires: DateTime<Utc>,
    ) -> Self {
        Self {
            password,
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            identifiant: p.identifiant.clone(),
            division: None,
            children: Some(children_names(children)),
            expires,
        }
    }
}

fn event(ctx: &Context, opened: &Opened, op: AccountOp, outcome: Outcome) -> AuditEvent {
    let account = opened.account();
    Attempt::new(account.kind.action(op))
        .on(account.kind.target(), account.id)
        .event_in(ctx, Some(opened.permit.uai()), outcome)
        .delegation(opened.permit.delegation_id())
}

fn blocked_message(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Pupil => {
            "Ce compte est bloqué ou désactivé : débloquez-le ou réactivez-le avant de réinitialiser son mot de passe."
        }
        AccountKind::Parent => {
            "Ce compte est bloqué ou désactivé : débloquez-le ou réactivez-le d'abord."
        }
    }
}

/// Gives the account `provisional` (it first leaves any unfinished batch), or refuses a
/// blocked or deactivated one (audited, 409). Through a remote store the reset is audited
/// as started before the write and its outcome after (`accounts::reset`).
/// The refusal of a reset for a parent who activated his account with FranceConnect.
pub const FRANCECONNECT: &str = "Ce responsable a activé son compte avec FranceConnect : il se connecte avec ses identifiants FranceConnect et n'a pas de mot de passe ÉduConnect à réinitialiser.";

pub fn reset_password(
    conn: &mut DbConnection,
    key: &AppKey,
    store: &dyn AccountStore,
    ctx: &Context,
    opened: &Opened,
    provisional: Provisional,
) -> Result<LetterFacts, Failure> {
    let state = opened.state();
    if matches!(state, AccountState::Bloque | AccountState::Desactive) {
        let refused = event(ctx, opened, AccountOp::ResetPassword, Outcome::Refused)
            .details(format!("compte « {} »", state.label()));
        record_refusal(conn, key, ctx.now, &refused)?;
        return Err(Failure::conflict(blocked_message(opened.account().kind)));
    }
    if opened.through_franceconnect() {
        let refused = event(ctx, opened, AccountOp::ResetPassword, Outcome::Refused)
            .details("compte activé avec FranceConnect : pas de mot de passe");
        record_refusal(conn, key, ctx.now, &refused)?;
        return Err(Failure::conflict(FRANCECONNECT));
    }
    let done = event(ctx, opened, AccountOp::ResetPassword, Outcome::Success)
        .details("réinitialisation individuelle");
    let (account, permit) = (opened.account(), &opened.permit);
    // The account first leaves any unfinished batch: a letter prepared there would carry a
    // dead password.
    let leave = |tx: &mut AuditTx<'_>| {
        withdraw_account(tx.conn(), account.kind.batch_kind(), account.id, None)
    };
    if store.is_remote() {
        let started = audit::audited(conn, key, ctx.now, |tx| -> Result<_, Failure> {
            leave(tx)?;
            Ok(start_remote(tx, account, &done, ctx.now)?)
        })?;
        let written = store.set_provisional(conn, permit, account, &provisional, ctx.now);
        finish_remote(conn, key, ctx.now, started, written, &done, |_| Ok(()))
            .map_err(|e| store_failure(e, account.kind))?;
    } else {
        audit::audited(conn, key, ctx.now, |tx| -> Result<(), Failure> {
            leave(tx)?;
            apply_reset(tx, store, permit, account, &provisional, ctx.now, &done)
                .map_err(|e| store_failure(e, account.kind))
        })?;
    }
    Ok(letter_facts(opened, provisional.password, expiry(ctx.now)))
}

/// A store's refusal as the page says it (a blocked account's own sentence).
fn store_failure(e: crate::accounts::reset::ResetError, kind: AccountKind) -> Failure {
    use crate::accounts::reset::ResetError;
    match e {
        ResetError::Store(StoreError::NotPossible(_)) => Failure::conflict(blocked_message(kind)),
        other => other.into(),
    }
}

/// The account's state as a remote store has it, read without our database (the caller
/// holds no connection meanwhile); `None` with a local store, whose state is the index's.
pub fn read_remote(
    store: &dyn AccountStore,
    opened: &Opened,
    now: DateTime<Utc>,
) -> Result<Option<AccountStatus>, StoreError> {
    let account = opened.account();
    store.remote_status(account.kind, opened.identifiant(), &opened.cached(), now)
}

/// Keeps what the store said: the index's cache refreshed, and `opened` shows it (a pupil
/// who changed his password in the ENT shows "Activé").
pub fn keep_status(
    conn: &mut DbConnection,
    opened: &mut Opened,
    status: &AccountStatus,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    refresh_cache(conn, opened.account(), status, now)?;
    opened.set_status(status);
    Ok(())
}

fn letter_facts(opened: &Opened, password: SecretString, expires: DateTime<Utc>) -> LetterFacts {
    match &opened.record {
        Record::Pupil(p) => LetterFacts::pupil(p, password, expires),
        Record::Parent(r) => {
            let kids: Vec<_> = r.children.iter().map(|(c, _)| c.clone()).collect();
            LetterFacts::parent(&r.parent, &kids, password, expires)
        }
    }
}

/// Unblocks, deactivates or reactivates the account, or refuses a change its state does not
/// allow (audited, 409).
pub fn change_state(
    conn: &mut DbConnection,
    key: &AppKey,
    store: &dyn AccountStore,
    ctx: &Context,
    opened: &Opened,
    change: StateChange,
) -> Result<Transition, Failure> {
    let (state, previous) = opened.states();
    let Some((to, _)) = change.apply(state, previous) else {
        let refused = event(ctx, opened, change.op(), Outcome::Refused)
            .details(format!("impossible depuis l'état « {} »", state.label()));
        record_refusal(conn, key, ctx.now, &refused)?;
        return Err(Failure::conflict(NOT_POSSIBLE));
    };
    let done = event(ctx, opened, change.op(), Outcome::Success).details(format!(
        "« {} » → « {} »",
        state.label(),
        to.label()
    ));
    let (account, permit) = (opened.account(), &opened.permit);
    let refused = |e: StoreError| match e {
        StoreError::NotPossible(_) => Failure::conflict(NOT_POSSIBLE),
        other => other.into(),
    };
    if store.is_remote() {
        let started = audit::audited(conn, key, ctx.now, |tx| -> Result<_, Failure> {
            Ok(start_remote(tx, account, &done, ctx.now)?)
        })?;
        let moved = store.change_state(conn, permit, account, change, ctx.now);
        let (written, moved) = match moved {
            Ok(m) => (Ok(()), Some(m)),
            Err(e) => (Err(e), None),
        };
        return match finish_remote(conn, key, ctx.now, started, written, &done, |_| Ok(())) {
            Ok(()) => moved.ok_or_else(|| Failure::internal("no transition")),
            Err(crate::accounts::reset::ResetError::Store(e)) => Err(refused(e)),
            Err(e) => Err(e.into()),
        };
    }
    audit::audited(conn, key, ctx.now, |tx| -> Result<Transition, Failure> {
        let moved = store
            .change_state(tx.conn(), permit, account, change, ctx.now)
            .map_err(refused)?;
        tx.append(&done)?;
        Ok(moved)
    })
}

/// A parent's unmasked contacts are shown: the showing is audited (with the gate).
pub fn show_contacts(
    conn: &mut DbConnection,
    key: &AppKey,
    ctx: &Context,
    opened: &Opened,
) -> Result<(), Failure> {
    let shown = event(ctx, opened, AccountOp::ShowContacts, Outcome::Success);
    audit::audited(conn, key, ctx.now, |tx| -> Result<(), Failure> {
        tx.append(&shown)?;
        Ok(())
    })
}
