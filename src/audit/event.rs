use diesel::prelude::*;

use super::AuditAction;
use crate::db::decode::TextRef;
use crate::db::schema::audit_events;
use crate::domain::stored_code;

/// How an audited attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Refused by a rule (rights, CSRF, throttle, bad input).
    Refused,
    /// Failed for a technical reason.
    Failure,
    /// A write to a remote account store begins: its outcome follows in another row (or the
    /// reconciliation job's), and until then the journal shows it as without outcome.
    Started,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Success,
        Outcome::Refused,
        Outcome::Failure,
        Outcome::Started,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Refused => "refused",
            Outcome::Failure => "failure",
            Outcome::Started => "started",
        }
    }

    /// What the journal and an account's history say of it.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Success => "Réussie",
            Outcome::Refused => "Refusée",
            Outcome::Failure => "Échec",
            Outcome::Started => "Commencée",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == stored)
    }
}

stored_code!(Outcome, "audit outcome");

/// The stored form (the written row's column).
impl From<Outcome> for &str {
    fn from(outcome: Outcome) -> Self {
        outcome.as_str()
    }
}

/// What one audit row says (every column but the sequence, the time and the two hashes:
/// the typed part of the row, read and written whole). Never put a secret in `details`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub actor: String,
    pub uai: Option<String>,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    #[diesel(deserialize_as = String, serialize_as = TextRef<'static>)]
    pub outcome: Outcome,
    pub delegation_id: Option<i64>,
    pub gate: Option<String>,
    pub peer_addr: Option<String>,
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
    pub details: Option<String>,
}

impl AuditEvent {
    pub fn new(actor: impl Into<String>, action: AuditAction, outcome: Outcome) -> Self {
        Self {
            actor: actor.into(),
            uai: None,
            action: action.as_str().to_owned(),
            target_kind: None,
            target_id: None,
            outcome,
            delegation_id: None,
            gate: None,
            peer_addr: None,
            client_addr: None,
            request_id: None,
            details: None,
        }
    }

    /// The same event under an action string that no version of ours writes: a row as an
    /// older version or a test stored it (the chain covers whatever string is stored).
    pub fn with_stored_action(mut self, action: impl Into<String>) -> Self {
        self.action = action.into();
        self
    }

    pub fn uai(mut self, uai: impl Into<String>) -> Self {
        self.uai = Some(uai.into());
        self
    }

    pub fn target(mut self, kind: impl Into<String>, id: impl ToString) -> Self {
        self.target_kind = Some(kind.into());
        self.target_id = Some(id.to_string());
        self
    }

    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    pub fn delegation(mut self, id: Option<impl Into<i64>>) -> Self {
        self.delegation_id = id.map(Into::into);
        self
    }

    pub fn gate(mut self, gate: impl Into<String>) -> Self {
        self.gate = Some(gate.into());
        self
    }

    pub fn request(
        mut self,
        request_id: impl Into<String>,
        peer: Option<String>,
        client: Option<String>,
    ) -> Self {
        self.request_id = Some(request_id.into());
        self.peer_addr = peer;
        self.client_addr = client;
        self
    }
}

impl AuditEvent {
    /// The event as it is hashed and stored: a NUL byte that came from outside (a typed
    /// uid, a form field quoted in `details`) becomes `␀`, because PostgreSQL refuses NUL in
    /// text (the refusal would fail the request, and with it the audit row).
    pub fn without_nul(&self) -> std::borrow::Cow<'_, AuditEvent> {
        let has_nul = |s: &Option<String>| s.as_deref().is_some_and(|s| s.contains('\0'));
        let texts = [
            &self.uai,
            &self.target_kind,
            &self.target_id,
            &self.gate,
            &self.peer_addr,
            &self.client_addr,
            &self.request_id,
            &self.details,
        ];
        if !self.actor.contains('\0')
            && !self.action.contains('\0')
            && !texts.into_iter().any(has_nul)
        {
            return std::borrow::Cow::Borrowed(self);
        }
        let clean = |s: &str| s.replace('\0', "\u{2400}");
        let clean_opt = |s: &Option<String>| s.as_deref().map(clean);
        std::borrow::Cow::Owned(AuditEvent {
            actor: clean(&self.actor),
            uai: clean_opt(&self.uai),
            action: clean(&self.action),
            target_kind: clean_opt(&self.target_kind),
            target_id: clean_opt(&self.target_id),
            outcome: self.outcome,
            delegation_id: self.delegation_id,
            gate: clean_opt(&self.gate),
            peer_addr: clean_opt(&self.peer_addr),
            client_addr: clean_opt(&self.client_addr),
            request_id: clean_opt(&self.request_id),
            details: clean_opt(&self.details),
        })
    }
}

/// The actor of a command-line action: `cli:<os user>`.
pub fn cli_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_bytes_become_a_visible_symbol() {
        let e = AuditEvent::new("prin\0cipal", AuditAction::SignIn, Outcome::Refused)
            .target("agent", "a\0b")
            .details("grantee x\0y");
        let clean = e.without_nul();
        assert_eq!(clean.actor, "prin\u{2400}cipal");
        assert_eq!(clean.target_id.as_deref(), Some("a\u{2400}b"));
        assert_eq!(clean.details.as_deref(), Some("grantee x\u{2400}y"));
        let plain = AuditEvent::new("principal", AuditAction::SignIn, Outcome::Success);
        assert!(matches!(plain.without_nul(), std::borrow::Cow::Borrowed(_)));
    }
}
