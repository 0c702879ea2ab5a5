//! How a session was opened: a password, or an ENT connector and the provider's names for
//! its session.

/// How a session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Password,
    Cas,
    Oidc,
}

impl Via {
    /// As the audit and the `sessions.via` column write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Password => "password",
            Via::Cas => "cas",
            Via::Oidc => "oidc",
        }
    }

    pub(super) fn stored(self) -> Option<&'static str> {
        (self != Via::Password).then(|| self.as_str())
    }

    pub(super) fn parse(stored: Option<&str>) -> Self {
        match stored {
            Some("cas") => Via::Cas,
            Some("oidc") => Via::Oidc,
            _ => Via::Password,
        }
    }
}

/// The way in, and the provider's names for the session (OIDC `sid` and `sub`) that its
/// back-channel logout uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub via: Via,
    pub provider_session: Option<String>,
    pub provider_subject: Option<String>,
}

impl Origin {
    pub const PASSWORD: Origin = Origin {
        via: Via::Password,
        provider_session: None,
        provider_subject: None,
    };
}
