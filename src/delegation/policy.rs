//! Authorization as data plus a pure function (no I/O): who may do what on which
//! establishment, at which instant. Handlers that act hold the [`Permit`] it returns.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{Delegation, Scope};
use crate::domain::Agent;
use crate::domain::Uai;

/// What an agent wants to do on an establishment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ViewPupils,
    ResetPupil,
    ViewParents,
    ResetParent,
    ManageDelegations,
    ReadJournal,
    /// Import pupils and parents (SIECLE, CSV).
    ImportAccounts,
    /// See and accept the transfers of this establishment's pupils to another one.
    AcceptTransfers,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::ViewPupils,
        Action::ResetPupil,
        Action::ViewParents,
        Action::ResetParent,
        Action::ManageDelegations,
        Action::ReadJournal,
        Action::ImportAccounts,
        Action::AcceptTransfers,
    ];

    /// The delegation scope that allows it; `None`: principals only.
    pub fn scope(self) -> Option<Scope> {
        match self {
            Action::ViewPupils | Action::ResetPupil => Some(Scope::Eleves),
            Action::ViewParents | Action::ResetParent => Some(Scope::Responsables),
            Action::ManageDelegations
            | Action::ReadJournal
            | Action::ImportAccounts
            | Action::AcceptTransfers => None,
        }
    }
}

/// On what grounds an action is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    Principal,
    Delegation(i64),
}

/// Proof that `action` was allowed on `uai`. Its fields are private: only [`authorize`]
/// mints one, so holding a `Permit` means the policy said yes (every account-store write
/// takes one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permit {
    uai: Uai,
    action: Action,
    basis: Basis,
}

impl Permit {
    /// The establishment the action was allowed on.
    pub fn uai(&self) -> &Uai {
        &self.uai
    }

    pub fn action(&self) -> Action {
        self.action
    }

    pub fn basis(&self) -> &Basis {
        &self.basis
    }

    pub fn delegation_id(&self) -> Option<i64> {
        match self.basis {
            Basis::Delegation(id) => Some(id),
            Basis::Principal => None,
        }
    }
}

/// Why not. `Hidden`: the agent has nothing on that establishment (answered 404, so its
/// existence is not revealed); `Forbidden`: he has something there, but not this (403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Hidden(&'static str),
    Forbidden(&'static str),
}

impl Refusal {
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::Hidden(r) | Refusal::Forbidden(r) => r,
        }
    }
}

/// The one authorization rule. `delegations` are the agent's (any UAI, any state).
/// A principal holds every right on the UAIs he is responsible for; anyone else needs an
/// active delegation on `target` **and** to be attached to it now (BRIEF rule 3: at grant
/// time and at every use), so a delegate detached from the school holds nothing there.
pub fn authorize(
    agent: &Agent,
    delegations: &[Delegation],
    action: Action,
    target: &Uai,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<Permit, Refusal> {
    if agent.is_principal_of(target) {
        return Ok(Permit {
            uai: target.clone(),
            action,
            basis: Basis::Principal,
        });
    }
    let mut active_here = delegations
        .iter()
        .filter(|d| d.grantee_uid == agent.uid && &d.uai == target && d.is_active(now, tz))
        .peekable();
    if active_here.peek().is_none() {
        return Err(Refusal::Hidden("no right on this establishment"));
    }
    if !agent.is_attached_to(target) {
        return Err(Refusal::Hidden(
            "delegate no longer attached to this establishment",
        ));
    }
    let Some(scope) = action.scope() else {
        return Err(Refusal::Forbidden("principals only"));
    };
    match active_here.find(|d| d.scope == scope) {
        Some(d) => Ok(Permit {
            uai: target.clone(),
            action,
            basis: Basis::Delegation(d.id.get()),
        }),
        None => Err(Refusal::Forbidden("delegation of another scope")),
    }
}

/// The scopes an agent holds on `uai` now (for menus and the home page).
pub fn scopes_on(
    agent: &Agent,
    delegations: &[Delegation],
    uai: &Uai,
    now: DateTime<Utc>,
    tz: Tz,
) -> Vec<Scope> {
    Scope::ALL
        .into_iter()
        .filter(|scope| {
            let action = match scope {
                Scope::Eleves => Action::ViewPupils,
                Scope::Responsables => Action::ViewParents,
            };
            authorize(agent, delegations, action, uai, now, tz).is_ok()
        })
        .collect()
}

#[cfg(test)]
mod tests;
