//! Who acts, from where, and when: what every audit row of a use case says about its origin.

use chrono::{DateTime, Utc};

use chrono_tz::Tz;

use crate::audit::{AuditAction, AuditEvent, Outcome};
use crate::domain::Agent;
#[cfg(test)]
use crate::domain::AgentUid;
use crate::secrets::AppKey;

/// An agent's call of a use case behind a permit: the audit context, the agent whose rights
/// are read (delegations now, directory data at most a minute old), the application key that
/// seals the audit chain and the time zone that makes days.
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    pub key: &'a AppKey,
    pub tz: Tz,
    pub ctx: &'a Context,
    pub agent: &'a Agent,
}

/// Who acts. Staff uids are stored bare (the rows of earlier versions say so); every other
/// actor carries a prefix that a staff uid cannot hold (`AgentUid` refuses `:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A staff member, by the uid he signed in with (it passed [`AgentUid::parse`]).
    Agent(String),
    /// The account holder himself (a pupil or parent, by identifiant).
    Holder(String),
    /// A client of the API, by its name.
    Api(String),
    /// An operator at the command line, by his system user.
    Cli(String),
    /// A background job, by its name.
    Job(&'static str),
}

impl Actor {
    /// As stored in `audit_events.actor` and `batches.created_by`.
    pub fn stored(&self) -> String {
        match self {
            Actor::Agent(uid) => uid.clone(),
            Actor::Holder(id) => format!("compte:{id}"),
            Actor::Api(name) => format!("api:{name}"),
            Actor::Cli(user) => format!("cli:{user}"),
            Actor::Job(name) => format!("job:{name}"),
        }
    }

    /// The operator running this process (`cli:$USER`).
    pub fn cli_operator() -> Self {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".into());
        Actor::Cli(user)
    }

    /// The staff uid, when a staff member acts.
    pub fn agent_uid(&self) -> Option<&str> {
        match self {
            Actor::Agent(uid) => Some(uid),
            _ => None,
        }
    }
}

/// Where a request came from, for its audit rows (all absent for the CLI and jobs but the
/// request id, which a job names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestStamp {
    pub request_id: Option<String>,
    pub peer: Option<String>,
    pub client: Option<String>,
}

/// The audit context of one use-case call.
#[derive(Debug, Clone)]
pub struct Context {
    pub actor: Actor,
    pub stamp: RequestStamp,
    /// The parents' gate passed (`reseau` or `totp`), when it matters.
    pub gate: Option<String>,
    pub now: DateTime<Utc>,
}

impl Context {
    pub fn new(actor: Actor, now: DateTime<Utc>) -> Self {
        Self {
            actor,
            stamp: RequestStamp::default(),
            gate: None,
            now,
        }
    }

    pub fn stamped(mut self, stamp: RequestStamp) -> Self {
        self.stamp = stamp;
        self
    }

    pub fn through_gate(mut self, gate: Option<String>) -> Self {
        self.gate = gate;
        self
    }

    /// An audit event of this actor, stamped with the request and the gate.
    pub fn event(&self, action: AuditAction, outcome: Outcome) -> AuditEvent {
        let mut event = AuditEvent::new(self.actor.stored(), action, outcome);
        if let Some(gate) = &self.gate {
            event = event.gate(gate.clone());
        }
        if self.stamp != RequestStamp::default() {
            event = event.request(
                self.stamp.request_id.clone().unwrap_or_default(),
                self.stamp.peer.clone(),
                self.stamp.client.clone(),
            );
        }
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_actor_but_an_agent_can_be_mistaken_for_a_staff_uid() {
        let others = [
            Actor::Holder("jean.dupont1".into()),
            Actor::Api("ent".into()),
            Actor::Cli("root".into()),
            Actor::Job("lots"),
        ];
        for actor in others {
            let stored = actor.stored();
            assert!(
                AgentUid::parse(&stored).is_none(),
                "{stored} parses as a uid"
            );
        }
        assert_eq!(Actor::Agent("marie.curie".into()).stored(), "marie.curie");
    }
}
