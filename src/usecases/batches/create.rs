//! A new batch from the class form: which accounts it takes, what it refuses (a class of
//! another establishment, no state ticked, a form replayed, letters already handed out
//! without the explicit choice, accounts in another unfinished batch), and the creation.

use super::{Deps, action_for, agent_name, wipe_expired_in};
use crate::accounts::AccountState;
use crate::accounts::batch::runner::new_owner;
use crate::accounts::batch::{self, NewBatch};
use crate::accounts::{AccountKind, AccountOp};
use crate::accounts::{parents, pupils};
use crate::audit::{self, AuditAction, AuditEvent, Outcome};
use crate::db::DbConnection;
use crate::delegation::policy::{Basis, Permit};
use crate::domain::ParentId;
use crate::usecases::authorize::{Attempt, record_refusal};
use crate::usecases::{Context, Failure};

/// The states a class batch may choose.
pub const BATCH_STATES: [AccountState; 3] = [
    AccountState::NonNotifie,
    AccountState::Notifie,
    AccountState::Active,
];

/// Shown when "Notifié" or "Activé" is ticked without the explicit choice.
pub const RENOTIFY_WARNING: &str = "Vous avez choisi des comptes qui ont déjà reçu un courrier : \
    leur nouveau mot de passe rendra inutilisables les courriers déjà remis. Cochez la case \
    « Je confirme » pour le faire quand même, ou ne gardez que les comptes non notifiés.";

const EXPIRED: &str = "Le formulaire a expiré : rechargez la page et recommencez.";

/// The class form's choices, parsed.
#[derive(Debug, Clone)]
pub struct ClassChoice {
    pub kind: AccountKind,
    /// As chosen, trimmed.
    pub division: String,
    /// The states ticked, each once (none when an unknown one was ticked).
    pub states: Vec<AccountState>,
    /// Whether every ticked box was a known state, ticked once.
    states_ok: bool,
    /// The form's idempotency key, when well formed.
    key: Option<String>,
    /// The explicit choice to issue new letters to accounts already notified.
    pub renotify: bool,
}

impl ClassChoice {
    /// From the form's fields (`division`, `etat`, `cle`, `renotifier`).
    pub fn from_form(
        kind: AccountKind,
        division: &str,
        ticked: &[String],
        key: &str,
        renotify: &str,
    ) -> Self {
        let mut states = Vec::new();
        let mut states_ok = true;
        for s in ticked {
            match AccountState::parse(s).filter(|s| BATCH_STATES.contains(s)) {
                Some(s) if !states.contains(&s) => states.push(s),
                Some(_) => states_ok = false,
                None => {
                    states.clear();
                    states_ok = false;
                    break;
                }
            }
        }
        let key_ok = (16..=64).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        Self {
            kind,
            division: division.trim().to_owned(),
            states_ok: states_ok && !states.is_empty(),
            states,
            key: key_ok.then(|| key.to_owned()),
            renotify: renotify == "oui",
        }
    }

    /// What is wrong with the choice, in French, if anything.
    fn problem(&self, divisions: &[(String, i64)]) -> Option<&'static str> {
        if !divisions.iter().any(|(d, _)| *d == self.division) {
            Some("Choisissez une classe de l'établissement.")
        } else if !self.states_ok {
            Some("Cochez au moins un état de compte (non notifié, notifié, activé).")
        } else if self.key.is_none() {
            Some(EXPIRED)
        } else if !self.renotify && self.states.iter().any(|s| *s != AccountState::NonNotifie) {
            Some(RENOTIFY_WARNING)
        } else {
            None
        }
    }
}

/// What `create` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// A new batch, leased to `owner`: the caller starts its worker.
    New { id: i64, owner: String },
    /// The form was sent twice: the batch of the first.
    Existing(i64),
}

/// The class form refused: its French message (bad input, 400; or conflict, 409, when
/// accounts are in an unfinished batch) and that batch when the actor may open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub failure: Failure,
    pub running: Option<i64>,
}

impl From<Failure> for Refused {
    fn from(failure: Failure) -> Self {
        Self {
            failure,
            running: None,
        }
    }
}

impl From<diesel::result::Error> for Refused {
    fn from(e: diesel::result::Error) -> Self {
        Failure::from(e).into()
    }
}

/// The classes of the permit's establishment and their sizes, for the form.
pub fn divisions(conn: &mut DbConnection, permit: &Permit) -> Result<Vec<(String, i64)>, Failure> {
    Ok(pupils::divisions(conn, permit.uai())?)
}

pub fn create_action(kind: AccountKind) -> AuditAction {
    kind.action(AccountOp::BatchCreate)
}

/// The accounts of the chosen class in the chosen states (a parent: through a child there).
fn accounts(
    conn: &mut DbConnection,
    permit: &Permit,
    c: &ClassChoice,
) -> Result<Vec<i64>, Failure> {
    Ok(match c.kind {
        AccountKind::Pupil => pupils::of_division(conn, permit.uai(), &c.division)?
            .into_iter()
            .filter(|p| c.states.contains(&p.state))
            .map(|p| p.id.get())
            .collect(),
        AccountKind::Parent => parents::of_division(conn, permit.uai(), &c.division, &c.states)?
            .into_iter()
            .map(ParentId::get)
            .collect(),
    })
}

/// Creates the batch of the chosen accounts, leased to a new owner of `instance_id`, with its
/// audit row; or refuses the form (audited). Batches past their 24 hours are closed first,
/// freeing their accounts.
pub fn create(
    conn: &mut DbConnection,
    deps: &Deps,
    permit: &Permit,
    ctx: &Context,
    choice: &ClassChoice,
    instance_id: &str,
) -> Result<Created, Refused> {
    if permit.action() != action_for(choice.kind) {
        return Err(Failure::internal("a permit for another right").into());
    }
    let attempt = Attempt::new(create_action(choice.kind));
    let refused = |conn: &mut DbConnection, event: AuditEvent, failure, running| {
        refuse(conn, deps, ctx, &event, Refused { failure, running })
    };
    let refusal = attempt.event_in(ctx, Some(permit.uai()), Outcome::Refused);
    let divisions = divisions(conn, permit)?;
    let mut problem = choice.problem(&divisions);
    let accounts = match problem {
        None => accounts(conn, permit, choice)?,
        Some(_) => Vec::new(),
    };
    if problem.is_none() && accounts.is_empty() {
        problem = Some(match choice.kind {
            AccountKind::Pupil => "Aucun élève de cette classe n'est dans les états choisis.",
            AccountKind::Parent => {
                "Aucun responsable des élèves de cette classe n'a de compte dans les états choisis."
            }
        });
    }
    if let Some(message) = problem {
        return refused(
            conn,
            refusal.details(message),
            Failure::bad_input(message),
            None,
        );
    }
    let owner = new_owner(instance_id).map_err(Failure::from)?;
    let created = insert(conn, deps, permit, ctx, choice, &accounts, &owner)?;
    match created {
        batch::Created::New(id) => Ok(Created::New { id, owner }),
        batch::Created::Existing(id) => Ok(Created::Existing(id)),
        batch::Created::StaleKey(_) => refused(
            conn,
            refusal.details(EXPIRED),
            Failure::bad_input(EXPIRED),
            None,
        ),
        batch::Created::Overlap { batch_id, accounts } => {
            let event = refusal.target("lot", batch_id).details(format!(
                "{accounts} comptes déjà dans un lot de courriers non terminé"
            ));
            let (message, visible) = overlap(conn, deps, permit, ctx, batch_id, accounts)?;
            let running = visible.then_some(batch_id);
            refused(conn, event, Failure::conflict(message), running)
        }
    }
}

/// Records the refused attempt (alone in its transaction), then refuses.
fn refuse<T>(
    conn: &mut DbConnection,
    deps: &Deps,
    ctx: &Context,
    event: &AuditEvent,
    refused: Refused,
) -> Result<T, Refused> {
    record_refusal(conn, &deps.key, ctx.now, event)?;
    Err(refused)
}

/// The creation's one audited transaction.
fn insert(
    conn: &mut DbConnection,
    deps: &Deps,
    permit: &Permit,
    ctx: &Context,
    choice: &ClassChoice,
    accounts: &[i64],
    owner: &str,
) -> Result<batch::Created, Failure> {
    let creator = ctx.actor.stored();
    let new = NewBatch {
        idempotency_key: choice.key.as_deref().unwrap_or_default(),
        kind: choice.kind.batch_kind(),
        uai: permit.uai(),
        division: &choice.division,
        states: &choice.states,
        created_by: &creator,
        gate: ctx.gate.as_deref(),
        accounts,
    };
    let event = Attempt::new(create_action(choice.kind))
        .event_in(ctx, Some(permit.uai()), Outcome::Success)
        .delegation(permit.delegation_id())
        .details(format!(
            "classe {} : {} comptes",
            choice.division,
            accounts.len()
        ));
    audit::audited(conn, &deps.key, ctx.now, |tx| {
        wipe_expired_in(tx, ctx)?;
        let created = batch::create_leased(tx.conn(), &new, Some(owner), ctx.now)?;
        if let batch::Created::New(id) = created {
            tx.append(&event.clone().target("lot", id))?;
        }
        Ok(created)
    })
}

/// Why the batch is refused: some accounts are in an unfinished batch. Of this
/// establishment: which one, by whom, and a link when the actor may open it (its creator, a
/// principal). Of another establishment (a parent with children in two schools): nothing
/// about it. Returns (message, link shown).
fn overlap(
    conn: &mut DbConnection,
    deps: &Deps,
    permit: &Permit,
    ctx: &Context,
    batch_id: i64,
    accounts: i64,
) -> Result<(String, bool), Failure> {
    let found = batch::find(conn, batch_id)?.ok_or_else(Failure::hidden)?;
    let (who, verb) = if accounts > 1 {
        (format!("{accounts} des comptes choisis"), "sont")
    } else {
        ("Un des comptes choisis".to_owned(), "est")
    };
    if &found.uai != permit.uai() {
        return Ok((
            format!(
                "{who} {verb} déjà dans un lot de courriers d'un autre établissement, qui n'est pas \
                 terminé : un compte ne peut être que dans un lot à la fois. Réessayez plus tard \
                 (24 heures au plus), ou choisissez d'autres comptes."
            ),
            false,
        ));
    }
    let creator = agent_name(&*deps.directory, &found.created_by);
    let at = found.created_at.with_timezone(&deps.tz);
    let visible = found.created_by == ctx.actor.stored() || permit.basis() == &Basis::Principal;
    let next = if visible {
        "Terminez-le avant d'en créer un autre : reprenez-le ou abandonnez ce qui reste, puis \
         imprimez les courriers et confirmez l'impression."
            .to_owned()
    } else {
        format!("Demandez à {creator} ou au chef d'établissement de le terminer.")
    };
    Ok((
        format!(
            "{who} {verb} déjà dans le lot de courriers de la classe {} créé par {creator} le {} à \
             {}, qui n'est pas terminé. Un compte ne peut être que dans un lot à la fois. {next}",
            found.division,
            at.format("%d/%m/%Y"),
            at.format("%H:%M"),
        ),
        visible,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(ticked: &[&str], key: &str) -> ClassChoice {
        let ticked: Vec<String> = ticked.iter().map(|s| s.to_string()).collect();
        ClassChoice::from_form(AccountKind::Pupil, " 4A ", &ticked, key, "")
    }

    #[test]
    fn the_class_form_is_parsed_and_checked_in_order() {
        let classes = [("4A".to_owned(), 2)];
        let key = "abcdefghijklmnop";
        let ok = choice(&["non_notifie"], key);
        assert_eq!(ok.division, "4A");
        assert_eq!(ok.problem(&classes), None);
        assert_eq!(
            ok.problem(&[]),
            Some("Choisissez une classe de l'établissement.")
        );
        for ticked in [&[][..], &["non_notifie", "non_notifie"], &["supprime"]] {
            let p = choice(ticked, key).problem(&classes).unwrap_or_default();
            assert!(p.starts_with("Cochez au moins"), "{ticked:?}: {p}");
        }
        for bad in ["court", "avec des espaces dedans", &"x".repeat(65)] {
            assert_eq!(
                choice(&["non_notifie"], bad).problem(&classes),
                Some(EXPIRED)
            );
        }
        let notified = choice(&["non_notifie", "notifie"], key);
        assert_eq!(notified.problem(&classes), Some(RENOTIFY_WARNING));
        let mut confirmed = notified;
        confirmed.renotify = true;
        assert_eq!(confirmed.problem(&classes), None);
    }
}
