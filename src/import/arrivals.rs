//! A row whose INE is held by a pupil of another establishment (BRIEF rule 4, see
//! [`super::transfers`]): refused when the surname or birth date differ, a move when he has
//! left, else a pending transfer.

use super::PupilRecord;
use super::apply::Abort;
use super::pupil_rows::Step;
use super::transfers::{self, Claim, INE_TAKEN, Resident, both_journals, establishment_label};
use crate::accounts::AccountKind;
use crate::audit::{AuditAction, AuditEvent, Outcome};

impl Step<'_> {
    /// Returns the pupil's id when he moved here now.
    pub(super) fn transfer(
        &mut self,
        p: &PupilRecord,
        candidates: &[&Resident],
    ) -> Result<Option<i64>, Abort> {
        let who = match candidates {
            [one] if one.same_person(&p.last_name, p.birth_date) => *one,
            _ => {
                self.refuse_mismatch(p, candidates)?;
                return Ok(None);
            }
        };
        let from_label = establishment_label(self.conn, &who.uai)?;
        if who.departure_date.is_some() {
            self.arrive(who, p, &from_label)?;
            return Ok(Some(who.id));
        }
        self.claim(who, p, &from_label)?;
        Ok(None)
    }

    fn template(&self) -> AuditEvent {
        self.pass
            .opts
            .event(AuditAction::ImportTransfer, Outcome::Success)
    }

    /// A successful step about `who`, in his establishment's journal and in this one's.
    fn journal_both(&mut self, action: AuditAction, who: &Resident, text: &str) {
        let uais = [who.uai.as_str(), self.pass.uai.as_str()];
        let rows = both_journals(
            &self.template(),
            action,
            Outcome::Success,
            uais,
            who.id,
            text,
        );
        self.events.extend(rows);
    }

    /// A refused row's audit row in the journal of `uai`.
    fn refused(&mut self, uai: &str, target: Option<i64>, details: String) {
        let mut e = self.template().uai(uai);
        if let Some(id) = target {
            e = e.target(AccountKind::Pupil.target(), id);
        }
        e = e.details(details);
        e.outcome = Outcome::Refused;
        self.events.push(e);
    }

    /// The INE is another person's: nothing of the other pupil changes, and the warning
    /// names nobody.
    fn refuse_mismatch(&mut self, p: &PupilRecord, candidates: &[&Resident]) -> Result<(), Abort> {
        let uai = self.pass.uai.as_str();
        let here_label = establishment_label(self.conn, uai)?;
        self.report.warnings.push(format!(
            "l'élève {} : {INE_TAKEN} (nom ou date de naissance différents) ; sa fiche est refusée, rien n'a été modifié",
            p.label()
        ));
        self.refused(
            uai,
            None,
            format!(
                "Fiche de l'élève {} refusée : {INE_TAKEN}, avec un autre nom ou une autre date de naissance",
                p.label()
            ),
        );
        for c in candidates {
            self.refused(c.uai.as_str(), Some(c.id), format!(
                "Refusé : l'import de {here_label} présentait l'INE de {} avec un autre nom ou une autre date de naissance ; rien n'a été modifié",
                c.full_name()
            ));
        }
        Ok(())
    }

    /// He has left the other establishment: he moves here now, keeping his identifiant.
    fn arrive(&mut self, who: &Resident, p: &PupilRecord, from_label: &str) -> Result<(), Abort> {
        let uai = self.pass.uai.as_str();
        transfers::move_pupil(self.conn, who.id, uai, p, self.at)?;
        let text = format!(
            "Transfert : {} {} (né(e) le {}) arrive de {from_label}, parti(e) de cet établissement, et garde son identifiant {}",
            p.first_name,
            p.last_name,
            p.birth_date.format("%d/%m/%Y"),
            who.identifiant
        );
        self.journal_both(AuditAction::ImportTransfer, who, &text);
        self.report.moved_in.push(text);
        Ok(())
    }

    /// He is still enrolled there: a pending transfer, unless another establishment's waits.
    fn claim(&mut self, who: &Resident, p: &PupilRecord, from_label: &str) -> Result<(), Abort> {
        let uai = self.pass.uai.as_str();
        let born = p.birth_date.format("%d/%m/%Y");
        match transfers::claim(self.conn, who, uai, p, &self.pass.opts.actor, self.at)? {
            Claim::Created => {
                let text = format!(
                    "Transfert en attente : {} {} (né(e) le {born}) est encore inscrit(e) à {from_label} ; il (elle) arrivera quand cet établissement aura enregistré son départ ou accepté le transfert",
                    p.first_name, p.last_name
                );
                self.journal_both(AuditAction::ImportTransferPending, who, &text);
                self.report.pending.push(text);
            }
            Claim::AlreadyPending => self.report.pending.push(format!(
                "Transfert toujours en attente : {} {} (né(e) le {born}), encore inscrit(e) à {from_label}",
                p.first_name, p.last_name
            )),
            Claim::PendingElsewhere => {
                self.report.warnings.push(format!(
                    "l'élève {} : un transfert vers un autre établissement est déjà en attente ; sa fiche est refusée",
                    p.label()
                ));
                self.refused(uai, None, format!(
                    "Fiche de l'élève {} refusée : un transfert vers un autre établissement est déjà en attente",
                    p.label()
                ));
            }
        }
        Ok(())
    }
}
