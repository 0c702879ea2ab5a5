//! Opening one account (BRIEF rule 4): the UAI comes from the record. A pupil is seen in his
//! establishment; a parent through his children, in one of their establishments at a time
//! (the one asked for among them, else the first where the agent may act), with only the
//! children there — the kind's hook.

use chrono_tz::Tz;

use super::super::authorize::{Attempt, permit, record_refusal};
use super::super::{Caller, Context, Failure};
use crate::accounts::parents::{self, Child, Parent};
use crate::accounts::pupils::{self, Pupil};
use crate::accounts::store::{AccountRef, AccountStatus};
use crate::accounts::{AccountKind, AccountOp, AccountState};
use crate::audit::Outcome;
use crate::clock::local_day;
use crate::db::DbConnection;
use crate::delegation::policy::{Action, Permit, Refusal, authorize, scopes_on};
use crate::delegation::{Delegation, Scope, store as delegations};
use crate::domain::{Agent, Identifiant, Uai};

/// What is asked: which account, for what, and (parents) in which of the children's
/// establishments.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    pub account: AccountRef,
    pub op: AccountOp,
    /// A parent's establishment to act on, among his children's (the page's `uai`).
    pub uai: Option<&'a str>,
}

/// A parent as this agent may see him in one establishment of his children.
#[derive(Debug, Clone)]
pub struct ParentRecord {
    pub parent: Parent,
    /// His children in the permit's establishment, and whether the agent may open their
    /// pupil page.
    pub children: Vec<(Child, bool)>,
    /// His children's other establishments where this agent may see him too.
    pub elsewhere: Vec<Uai>,
}

#[derive(Debug, Clone)]
pub enum Record {
    Pupil(Pupil),
    Parent(ParentRecord),
}

/// An account opened for an action, with the permit for it.
#[derive(Debug, Clone)]
pub struct Opened {
    pub record: Record,
    pub permit: Permit,
}

impl Opened {
    pub fn account(&self) -> AccountRef {
        match &self.record {
            Record::Pupil(p) => AccountRef::pupil(p.id),
            Record::Parent(r) => AccountRef::parent(r.parent.id),
        }
    }

    pub fn state(&self) -> AccountState {
        self.states().0
    }

    /// A parent who activated his account with FranceConnect: he has no password here.
    pub fn through_franceconnect(&self) -> bool {
        matches!(&self.record, Record::Parent(r)
            if r.parent.activation_path.as_deref() == Some("franceconnect"))
    }

    /// The account's identifiant.
    pub fn identifiant(&self) -> &Identifiant {
        match &self.record {
            Record::Pupil(p) => &p.identifiant,
            Record::Parent(r) => &r.parent.identifiant,
        }
    }

    /// What the index holds of the account's state (as read with the record).
    pub fn cached(&self) -> AccountStatus {
        match &self.record {
            Record::Pupil(p) => AccountStatus {
                state: p.state,
                previous_state: p.previous_state,
                must_change: p.must_change,
                provisional_expires_at: p.provisional_expires_at,
                notified_at: p.notified_at,
            },
            Record::Parent(r) => AccountStatus {
                state: r.parent.state,
                previous_state: r.parent.previous_state,
                must_change: r.parent.state == AccountState::Notifie,
                provisional_expires_at: r.parent.provisional_expires_at,
                notified_at: r.parent.notified_at,
            },
        }
    }

    /// Takes the store's word for the account's state.
    pub fn set_status(&mut self, status: &AccountStatus) {
        match &mut self.record {
            Record::Pupil(p) => {
                p.state = status.state;
                p.previous_state = status.previous_state;
                p.must_change = status.must_change;
                p.provisional_expires_at = status.provisional_expires_at;
                p.notified_at = status.notified_at;
            }
            Record::Parent(r) => {
                let p = &mut r.parent;
                p.state = status.state;
                p.previous_state = status.previous_state;
                p.provisional_expires_at = status.provisional_expires_at;
                p.notified_at = status.notified_at;
            }
        }
    }

    /// The state and the one remembered for an unblock or a reactivation.
    pub fn states(&self) -> (AccountState, Option<AccountState>) {
        match &self.record {
            Record::Pupil(p) => (p.state, p.previous_state),
            Record::Parent(r) => (r.parent.state, r.parent.previous_state),
        }
    }
}

/// The action `op` needs: seeing, or changing.
fn action_of(kind: AccountKind, op: AccountOp) -> Action {
    match op {
        AccountOp::View | AccountOp::ShowContacts | AccountOp::Search => kind.view_action(),
        _ => kind.reset_action(),
    }
}

/// The account and the permit for `wanted.op` on its establishment, or an audited refusal
/// (404 when the agent has nothing there, or no such account; 403 otherwise).
pub fn open(
    conn: &mut DbConnection,
    caller: &Caller<'_>,
    wanted: Wanted<'_>,
) -> Result<Opened, Failure> {
    let Caller {
        key,
        tz,
        ctx,
        agent,
    } = *caller;
    let AccountRef { kind, id } = wanted.account;
    let attempt = Attempt::new(kind.action(wanted.op)).on(kind.target(), id);
    let action = action_of(kind, wanted.op);
    match kind {
        AccountKind::Pupil => {
            let pupil = pupils::find(conn, id)?.ok_or_else(Failure::hidden)?;
            let permit = permit(conn, caller, action, &pupil.uai, &attempt)?;
            Ok(Opened {
                record: Record::Pupil(pupil),
                permit,
            })
        }
        AccountKind::Parent => {
            let parent = parents::find(conn, id)?.ok_or_else(Failure::hidden)?;
            let uais = parents::establishments(conn, id)?;
            let held = delegations::held_by(conn, &agent.uid, local_day(ctx.now, tz))?;
            let permit = match parent_permit(agent, &held, action, &uais, wanted.uai, ctx, tz) {
                Ok(permit) => permit,
                Err(refusal) => {
                    let refused = attempt
                        .event_in(ctx, None, Outcome::Refused)
                        .details("not allowed on any establishment of the children");
                    record_refusal(conn, key, ctx.now, &refused)?;
                    return Err(refusal);
                }
            };
            let record = parent_record(conn, agent, &held, parent, &uais, &permit, ctx, tz)?;
            Ok(Opened {
                record: Record::Parent(record),
                permit,
            })
        }
    }
}

/// The permit on the wanted establishment among the children's, else on the first where the
/// agent may act; the refusal (not yet audited) when there is none: hidden when he has
/// nothing on any of them, forbidden when he holds something else on one.
fn parent_permit(
    agent: &Agent,
    held: &[Delegation],
    action: Action,
    uais: &[Uai],
    wanted: Option<&str>,
    ctx: &Context,
    tz: Tz,
) -> Result<Permit, Failure> {
    let wanted = wanted.map(str::trim).filter(|w| !w.is_empty());
    let mut forbidden = false;
    for uai in uais
        .iter()
        .filter(|u| wanted.is_none_or(|w| u.as_str().eq_ignore_ascii_case(w)))
    {
        match authorize(agent, held, action, uai, ctx.now, tz) {
            Ok(p) => return Ok(p),
            Err(Refusal::Forbidden(_)) => forbidden = true,
            Err(Refusal::Hidden(_)) => {}
        }
    }
    Err(if forbidden {
        Failure::forbidden(FORBIDDEN_PARENT)
    } else {
        Failure::hidden()
    })
}

/// The French sentence of a 403 on a parent.
pub const FORBIDDEN_PARENT: &str = "Vous n'avez pas le droit de faire cela pour ce responsable.";

#[allow(clippy::too_many_arguments)]
fn parent_record(
    conn: &mut DbConnection,
    agent: &Agent,
    held: &[Delegation],
    parent: Parent,
    uais: &[Uai],
    permit: &Permit,
    ctx: &Context,
    tz: Tz,
) -> Result<ParentRecord, Failure> {
    let here = permit.uai();
    let elsewhere = uais
        .iter()
        .filter(|u| *u != here)
        .filter(|u| authorize(agent, held, Action::ViewParents, u, ctx.now, tz).is_ok())
        .cloned()
        .collect();
    let pupil_link = scopes_on(agent, held, here, ctx.now, tz).contains(&Scope::Eleves);
    let children = parents::children(conn, parent.id, here)?;
    Ok(ParentRecord {
        parent,
        children: children.into_iter().map(|c| (c, pupil_link)).collect(),
        elsewhere,
    })
}
