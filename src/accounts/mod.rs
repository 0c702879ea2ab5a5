//! Pupil and parent accounts.

/// One statement on the table of the account's kind (the two tables share these columns).
macro_rules! on_table {
    ($kind:expr, $t:ident => $body:expr) => {
        match $kind {
            AccountKind::Pupil => {
                use pupils as $t;
                $body
            }
            AccountKind::Parent => {
                use parents as $t;
                $body
            }
        }
    };
}

pub mod activation;
pub mod batch;
pub mod identifiants;
pub mod index;
pub mod kind;
pub mod ldap;
pub mod parents;
pub mod password_rules;
pub mod provisional;
pub mod pupils;
pub mod reset;
pub mod store;

pub use kind::{AccountKind, AccountOp};

use crate::domain::stored_code;

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

stored_code!(AccountState, "account state");

/// A state change an agent asks for (the path segment names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateChange {
    Unblock,
    Deactivate,
    Reactivate,
}

impl StateChange {
    /// `deblocage`, `desactivation`, `reactivation`.
    pub fn from_path(which: &str) -> Option<Self> {
        match which {
            "deblocage" => Some(Self::Unblock),
            "desactivation" => Some(Self::Deactivate),
            "reactivation" => Some(Self::Reactivate),
            _ => None,
        }
    }

    /// The audit operation of this change.
    pub fn op(self) -> AccountOp {
        match self {
            Self::Unblock => AccountOp::Unblock,
            Self::Deactivate => AccountOp::Deactivate,
            Self::Reactivate => AccountOp::Reactivate,
        }
    }

    /// The new state and the one to remember, or `None` when the change makes no sense from
    /// `current`. Unblocking and reactivating go back to the state remembered (not a blocked
    /// or deactivated one), else to `non_notifie`.
    pub fn apply(
        self,
        current: AccountState,
        remembered: Option<AccountState>,
    ) -> Option<(AccountState, Option<AccountState>)> {
        let restore = match remembered {
            Some(s) if !matches!(s, AccountState::Bloque | AccountState::Desactive) => s,
            _ => AccountState::NonNotifie,
        };
        match (self, current) {
            (Self::Unblock, AccountState::Bloque) => Some((restore, None)),
            (Self::Deactivate, s) if s != AccountState::Desactive => {
                Some((AccountState::Desactive, Some(s)))
            }
            (Self::Reactivate, AccountState::Desactive) => Some((restore, None)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_changes_follow_the_states() {
        use AccountState::*;
        assert_eq!(
            StateChange::Unblock.apply(Bloque, Some(Active)),
            Some((Active, None))
        );
        assert_eq!(
            StateChange::Unblock.apply(Bloque, Some(Desactive)),
            Some((NonNotifie, None))
        );
        assert_eq!(StateChange::Unblock.apply(Active, None), None);
        assert_eq!(
            StateChange::Deactivate.apply(Notifie, None),
            Some((Desactive, Some(Notifie)))
        );
        assert_eq!(StateChange::Deactivate.apply(Desactive, None), None);
        assert_eq!(
            StateChange::Reactivate.apply(Desactive, Some(Notifie)),
            Some((Notifie, None))
        );
        assert_eq!(StateChange::Reactivate.apply(Active, None), None);
        assert_eq!(StateChange::from_path("x"), None);
    }

    #[test]
    fn states_round_trip() {
        for st in AccountState::ALL {
            assert_eq!(AccountState::parse(st.as_str()), Some(st));
        }
        assert_eq!(AccountState::parse("nope"), None);
    }
}
