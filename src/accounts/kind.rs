//! Whose account: a pupil's or a parent's. The one home of everything the two kinds differ
//! by in names: the delegation scope, the actions to view and to reset, the audit target
//! kind and action names, the URL path segment, the batch kind and the identifiant kind.
//! Every string here is stored (audit chain, batches, identifiants) or routed: the unit
//! test pins them.

use crate::audit::AuditAction;
use crate::delegation::Scope;
use crate::delegation::policy::Action;

/// A pupil's or a parent's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountKind {
    Pupil,
    Parent,
}

/// What is done to an account, as its audit action names it (`eleve.view`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountOp {
    View,
    Search,
    ResetPassword,
    Unblock,
    Deactivate,
    Reactivate,
    /// Parents only: the unmasked contacts shown.
    ShowContacts,
    BatchCreate,
    /// Pupils only: the activation statistics and the division's CSV.
    Statistics,
    Export,
    /// The upkeep job removed a provisional password not used within its validity.
    ExpireProvisional,
}

impl AccountOp {
    pub const ALL: [AccountOp; 11] = [
        AccountOp::View,
        AccountOp::Search,
        AccountOp::ResetPassword,
        AccountOp::Unblock,
        AccountOp::Deactivate,
        AccountOp::Reactivate,
        AccountOp::ShowContacts,
        AccountOp::BatchCreate,
        AccountOp::Statistics,
        AccountOp::Export,
        AccountOp::ExpireProvisional,
    ];

    /// The part of the audit action after the kind (`reset_password`).
    pub fn suffix(self) -> &'static str {
        match self {
            AccountOp::View => "view",
            AccountOp::Search => "search",
            AccountOp::ResetPassword => "reset_password",
            AccountOp::Unblock => "unblock",
            AccountOp::Deactivate => "deactivate",
            AccountOp::Reactivate => "reactivate",
            AccountOp::ShowContacts => "show_contacts",
            AccountOp::BatchCreate => "batch_create",
            AccountOp::Statistics => "statistics",
            AccountOp::Export => "export",
            AccountOp::ExpireProvisional => "expire_provisional",
        }
    }
}

/// `eleve.<op>` and `responsable.<op>` as `&'static str` (audit attempts keep a static name).
macro_rules! audit_names {
    ($kind:expr, $op:expr, $($variant:ident => $suffix:literal),* $(,)?) => {
        match ($kind, $op) {
            $(
                (AccountKind::Pupil, AccountOp::$variant) => concat!("eleve.", $suffix),
                (AccountKind::Parent, AccountOp::$variant) => concat!("responsable.", $suffix),
            )*
        }
    };
}

/// The journal's French words for `<kind>.<op>`: the op's phrase, then whose account.
macro_rules! audit_labels {
    ($kind:expr, $op:expr, $($variant:ident => $phrase:literal, $whose:ident),* $(,)?) => {
        match ($kind, $op) {
            $(
                (AccountKind::Pupil, AccountOp::$variant) =>
                    concat!($phrase, audit_labels!(@pupil $whose)),
                (AccountKind::Parent, AccountOp::$variant) =>
                    concat!($phrase, audit_labels!(@parent $whose)),
            )*
        }
    };
    (@pupil one) => { " d'un élève" };
    (@parent one) => { " d'un responsable" };
    (@pupil all) => { " des élèves" };
    (@parent all) => { " des responsables" };
}

impl AccountKind {
    pub const ALL: [AccountKind; 2] = [AccountKind::Pupil, AccountKind::Parent];

    /// The delegation scope that covers this kind.
    pub fn scope(self) -> Scope {
        match self {
            AccountKind::Pupil => Scope::Eleves,
            AccountKind::Parent => Scope::Responsables,
        }
    }

    /// The action of seeing such an account.
    pub fn view_action(self) -> Action {
        match self {
            AccountKind::Pupil => Action::ViewPupils,
            AccountKind::Parent => Action::ViewParents,
        }
    }

    /// The action of changing such an account (password, state, batches).
    pub fn reset_action(self) -> Action {
        match self {
            AccountKind::Pupil => Action::ResetPupil,
            AccountKind::Parent => Action::ResetParent,
        }
    }

    /// The kind of an action, when it is about accounts.
    pub fn of_action(action: Action) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.view_action() == action || k.reset_action() == action)
    }

    /// The audit target kind (`audit_events.target_kind`).
    pub fn target(self) -> &'static str {
        match self {
            AccountKind::Pupil => "eleve",
            AccountKind::Parent => "responsable",
        }
    }

    /// The path segment under `/depannage/`.
    pub fn path_segment(self) -> &'static str {
        self.target()
    }

    pub fn from_path_segment(segment: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.path_segment() == segment)
    }

    /// The kind stored in `identifiants.kind`.
    pub fn identifiant_kind(self) -> &'static str {
        self.target()
    }

    /// The batch kind (`batches.kind`).
    pub fn batch_kind(self) -> &'static str {
        self.scope().as_str()
    }

    pub fn from_batch_kind(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.batch_kind() == kind)
    }

    /// The audit action name of `op` on this kind.
    /// What the journal says of `audit(op)`.
    pub fn audit_label(self, op: AccountOp) -> &'static str {
        audit_labels!(self, op,
            View => "Consultation du compte", one,
            Search => "Recherche parmi les comptes", all,
            ResetPassword => "Réinitialisation du mot de passe", one,
            Unblock => "Déblocage du compte", one,
            Deactivate => "Désactivation du compte", one,
            Reactivate => "Réactivation du compte", one,
            ShowContacts => "Affichage des coordonnées", one,
            BatchCreate => "Réinitialisation d'une classe : comptes", all,
            Statistics => "Statistiques des comptes", all,
            Export => "Export des comptes", all,
            ExpireProvisional => "Expiration du mot de passe provisoire", one,
        )
    }

    /// The audit action of `op` on this kind's account.
    pub fn action(self, op: AccountOp) -> AuditAction {
        AuditAction::Account(self, op)
    }

    pub fn audit(self, op: AccountOp) -> &'static str {
        audit_names!(self, op,
            View => "view",
            Search => "search",
            ResetPassword => "reset_password",
            Unblock => "unblock",
            Deactivate => "deactivate",
            Reactivate => "reactivate",
            ShowContacts => "show_contacts",
            BatchCreate => "batch_create",
            Statistics => "statistics",
            Export => "export",
            ExpireProvisional => "expire_provisional",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored strings: changing one breaks the audit chain's meaning and the rows.
    #[test]
    fn stored_strings_are_pinned() {
        use AccountKind::*;
        let pinned = [
            (Pupil, "eleve", "eleves", Scope::Eleves),
            (Parent, "responsable", "responsables", Scope::Responsables),
        ];
        for (kind, target, batch, scope) in pinned {
            assert_eq!(kind.target(), target);
            assert_eq!(kind.path_segment(), target);
            assert_eq!(kind.identifiant_kind(), target);
            assert_eq!(kind.batch_kind(), batch);
            assert_eq!(kind.scope(), scope);
            assert_eq!(AccountKind::from_batch_kind(batch), Some(kind));
            assert_eq!(AccountKind::from_path_segment(target), Some(kind));
            assert_eq!(AccountKind::of_action(kind.view_action()), Some(kind));
            assert_eq!(AccountKind::of_action(kind.reset_action()), Some(kind));
        }
        assert_eq!(Pupil.audit(AccountOp::View), "eleve.view");
        assert_eq!(
            Pupil.audit(AccountOp::ResetPassword),
            "eleve.reset_password"
        );
        assert_eq!(Pupil.audit(AccountOp::BatchCreate), "eleve.batch_create");
        assert_eq!(Pupil.audit(AccountOp::Statistics), "eleve.statistics");
        assert_eq!(Pupil.audit(AccountOp::Export), "eleve.export");
        assert_eq!(Parent.audit(AccountOp::Unblock), "responsable.unblock");
        assert_eq!(
            Parent.audit(AccountOp::Deactivate),
            "responsable.deactivate"
        );
        assert_eq!(
            Parent.audit(AccountOp::Reactivate),
            "responsable.reactivate"
        );
        assert_eq!(
            Parent.audit(AccountOp::ShowContacts),
            "responsable.show_contacts"
        );
        assert_eq!(Parent.audit(AccountOp::Search), "responsable.search");
        assert_eq!(AccountKind::from_batch_kind("eleve"), None);
        assert_eq!(AccountKind::of_action(Action::ReadJournal), None);
    }

    #[test]
    fn every_audit_name_is_the_target_then_the_op() {
        let ops = AccountOp::ALL;
        for kind in AccountKind::ALL {
            for op in ops {
                assert_eq!(kind.audit(op), format!("{}.{}", kind.target(), op.suffix()));
            }
        }
    }
}
