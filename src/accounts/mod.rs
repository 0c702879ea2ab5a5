//! Pupil and parent accounts.

pub mod batch;
pub mod identifiants;
pub mod parents;
pub mod provisional;
pub mod pupils;
pub mod reset;

/// The state of a pupil's or parent's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountState {
    NonNotifie,
    Notifie,
    Active,
    Bloque,
    Desactive,
}

impl AccountState {
    pub const ALL: [AccountState; 5] = [
        AccountState::NonNotifie,
        AccountState::Notifie,
        AccountState::Active,
        AccountState::Bloque,
        AccountState::Desactive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::NonNotifie => "non_notifie",
            AccountState::Notifie => "notifie",
            AccountState::Active => "active",
            AccountState::Bloque => "bloque",
            AccountState::Desactive => "desactive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The French badge label.
    pub fn label(self) -> &'static str {
        match self {
            AccountState::NonNotifie => "Non notifié",
            AccountState::Notifie => "Notifié",
            AccountState::Active => "Activé",
            AccountState::Bloque => "Bloqué",
            AccountState::Desactive => "Désactivé",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip() {
        for st in AccountState::ALL {
            assert_eq!(AccountState::parse(st.as_str()), Some(st));
        }
        assert_eq!(AccountState::parse("nope"), None);
    }
}
