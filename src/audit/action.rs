//! What an audit row records as its action: one enum, its stored string (pinned: the HMAC
//! chain of every row written so far covers these strings) and its French label for the
//! journal.

use crate::accounts::{AccountKind, AccountOp};

/// Declares the actions: variant, stored string, French label.
macro_rules! audit_actions {
    ($($variant:ident = $stored:literal, $label:literal;)+) => {
        /// Every action the audit trail knows.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AuditAction {
            $($variant,)+
            /// Something done to a pupil's or a parent's account (`eleve.view`, ...).
            Account(AccountKind, AccountOp),
        }

        impl AuditAction {
            const PLAIN: &'static [AuditAction] = &[$(AuditAction::$variant,)+];

            /// As stored in `audit_events.action` (never change one: the chain covers it).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $stored,)+
                    AuditAction::Account(kind, op) => kind.audit(op),
                }
            }

            /// What the journal shows.
            pub fn label(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $label,)+
                    AuditAction::Account(kind, op) => kind.audit_label(op),
                }
            }
        }
    };
}

audit_actions! {
    SignIn = "auth.sign_in", "Connexion";
    SignOut = "auth.sign_out", "Déconnexion";
    CrossSiteRequest = "request.cross_site", "Demande venue d'un autre site";
    TotpEnrol = "totp.enrol", "Enregistrement de l'application d'authentification";
    TotpCheck = "totp.check", "Vérification du code de l'application d'authentification";
    AgentCreate = "agent.create", "Création d'un compte de personnel";
    AgentPasswordSet = "agent.password_set", "Nouveau mot de passe d'un personnel";
    AgentDisable = "agent.disable", "Désactivation d'un compte de personnel";
    AgentTotpReset = "agent.totp_reset", "Réinitialisation de l'authentification à deux facteurs d'un personnel";
    AgentLogout = "agent.logout", "Fin des sessions d'un personnel";
    AgentAttach = "agent.attach", "Rattachement d'un personnel à un établissement";
    AgentDetach = "agent.detach", "Détachement d'un personnel d'un établissement";
    AgentRightsChanged = "agent.rights_changed", "Droits d'un personnel changés dans l'annuaire";
    DelegationView = "delegation.view", "Consultation des délégations";
    DelegationGrant = "delegation.grant", "Délégation accordée";
    DelegationExtend = "delegation.extend", "Délégation prolongée";
    DelegationRevoke = "delegation.revoke", "Délégation révoquée";
    BatchView = "batch.view", "Consultation d'un lot";
    BatchPrint = "batch.print", "Impression des courriers d'un lot";
    BatchPrinted = "batch.printed", "Impression d'un lot confirmée";
    BatchResume = "batch.resume", "Reprise d'un lot";
    BatchAbandon = "batch.abandon", "Abandon de la suite d'un lot";
    BatchInterrupt = "batch.interrupt", "Lot interrompu";
    BatchWipe = "batch.wipe", "Effacement des mots de passe d'un lot";
    ImportView = "import.view", "Consultation de la page d'import";
    ImportSiecle = "import.siecle", "Import SIECLE";
    ImportCsv = "import.csv", "Import CSV";
    ImportTransfer = "import.transfert", "Changement d'établissement d'un élève (import)";
    ImportTransferPending = "import.transfert.attente", "Changement d'établissement en attente";
    ImportPurge = "import.purge", "Suppression des élèves partis";
    TransferView = "transfert.view", "Consultation des changements d'établissement";
    TransferAccept = "transfert.acceptation", "Changement d'établissement accepté";
    JournalRead = "journal.read", "Consultation du journal";
    DemoSeed = "demo.seed", "Données de démonstration";
    FirstSignIn = "account.first_signin", "Première connexion d'un élève ou d'un responsable";
}

impl AuditAction {
    /// Every action, the accounts' ones for both kinds.
    pub fn all() -> impl Iterator<Item = AuditAction> {
        let accounts = AccountKind::ALL.into_iter().flat_map(|k| {
            AccountOp::ALL
                .into_iter()
                .map(move |op| AuditAction::Account(k, op))
        });
        Self::PLAIN.iter().copied().chain(accounts)
    }

    /// The action of a stored string; `None` for a string no version wrote.
    pub fn parse(stored: &str) -> Option<Self> {
        Self::all().find(|a| a.as_str() == stored)
    }

    /// The journal's words for a stored action: its label, or the string itself when no
    /// version of ours wrote it.
    pub fn label_of(stored: &str) -> &str {
        match Self::parse(stored) {
            Some(action) => action.label(),
            None => stored,
        }
    }
}

impl From<AuditAction> for String {
    fn from(action: AuditAction) -> Self {
        action.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored strings, pinned: rows already written are chained over them.
    #[test]
    fn stored_strings_never_change() {
        let stored: Vec<&str> = AuditAction::all().map(|a| a.as_str()).collect();
        assert_eq!(
            stored.join(" "),
            "auth.sign_in auth.sign_out request.cross_site totp.enrol totp.check agent.create \
             agent.password_set agent.disable agent.totp_reset agent.logout agent.attach \
             agent.detach agent.rights_changed delegation.view delegation.grant \
             delegation.extend delegation.revoke batch.view batch.print \
             batch.printed batch.resume batch.abandon batch.interrupt batch.wipe import.view \
             import.siecle import.csv import.transfert import.transfert.attente import.purge \
             transfert.view transfert.acceptation journal.read demo.seed account.first_signin \
             eleve.view eleve.search eleve.reset_password eleve.unblock eleve.deactivate \
             eleve.reactivate eleve.show_contacts eleve.batch_create eleve.statistics \
             eleve.export eleve.expire_provisional responsable.view responsable.search responsable.reset_password \
             responsable.unblock responsable.deactivate responsable.reactivate \
             responsable.show_contacts responsable.batch_create responsable.statistics \
             responsable.export responsable.expire_provisional"
        );
    }

    #[test]
    fn every_action_parses_back_and_has_a_french_label() {
        for a in AuditAction::all() {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
            assert!(a.label().chars().next().is_some_and(char::is_uppercase));
            assert!(!a.label().contains('_') && !a.label().contains('.'));
        }
        assert_eq!(AuditAction::parse("eleve.nothing"), None);
    }
}
