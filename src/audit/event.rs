/// How an audited attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Refused by a rule (rights, CSRF, throttle, bad input).
    Refused,
    /// Failed for a technical reason.
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Refused => "refused",
            Outcome::Failure => "failure",
        }
    }
}

/// What one audit row says. Never put a secret in `details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub actor: String,
    pub uai: Option<String>,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub outcome: Outcome,
    pub delegation_id: Option<i64>,
    pub gate: Option<String>,
    pub peer_addr: Option<String>,
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
    pub details: Option<String>,
}

impl AuditEvent {
    pub fn new(actor: impl Into<String>, action: impl Into<String>, outcome: Outcome) -> Self {
        Self {
            actor: actor.into(),
            uai: None,
            action: action.into(),
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

    pub fn delegation(mut self, id: Option<i64>) -> Self {
        self.delegation_id = id;
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

/// The actor of a command-line action: `cli:<os user>`.
pub fn cli_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}
