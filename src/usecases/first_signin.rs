//! The first sign-in of pupils and parents on the embedded (SQL) store (`/premiere-connexion`,
//! where `[activation] enabled`). Step 1 ([`prove`]): the identifiant, the provisional
//! password of the letter and a birth date (a pupil's own, one of a parent's children's).
//! Every mismatch — unknown identifiant, wrong password, wrong date, an account that does not
//! wait for activation (not notified, blocked, deactivated) — gets one refusal that does not
//! say which; only when all three match but the letter's validity is over does the answer
//! say the letter expired. The check is counted by the password throttle before any hash
//! (per identifiant and address, per address, in the holders' bucket), and an unknown
//! identifiant costs the same argon2 verification as a known one. Step 2
//! ([`choice::choose`]): the new password twice, under the reader's rule; the step token of
//! step 1 (`auth::step_token`) carries the proof, bound to the provisional password's hash,
//! so it serves once. Every refusal is audited; the activation is one audited transaction
//! whose actor is the account holder (`compte:<identifiant>`).

mod choice;

pub use choice::{Choice, ChoiceOutcome, choose};

use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::signin::record_in;
use super::{Actor, Context, Failure, RequestStamp, throttled_message};
use crate::accounts::activation::{self, Holder};
use crate::accounts::password_rules::{PasswordRule, PasswordRuleError, PasswordRules};
use crate::accounts::provisional;
use crate::audit::{AuditAction, AuditEvent, Outcome};
use crate::auth::password::{PasswordError, verify_password};
use crate::auth::step_token;
use crate::auth::throttle::{self, Admission, Admitted, Bucket};
use crate::clock::SharedClock;
use crate::db::{Db, DbError};
use crate::directory::is_blank;
use crate::domain::{Identifiant, parse_birth_date};
use crate::secrets::AppKey;

const ACTION: AuditAction = AuditAction::FirstSignIn;
/// The actor of an attempt whose identifiant is not one.
const ANONYMOUS: &str = "anonymous";

/// A PHC string with the production parameters that no password is known to match: what an
/// unknown identifiant (or an account without a password) is verified against, so the answer
/// takes as long as for a real account.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$uwYakm8m3h77AbatfUBpVQ$Wa5gzrQsTrlIqBjlNxpQoHCn/0cRaufqCIpnESpZIEU";

/// The one answer to any mismatch of the first step.
pub const GENERIC_REFUSAL: &str = "Ces informations ne permettent pas d'activer un compte. Vérifiez l'identifiant, le mot de passe provisoire et la date de naissance, tels qu'ils figurent sur le courrier.";
/// All three match, but the letter's validity is over.
pub const EXPIRED_LETTER: &str = "Ce courrier a expiré : son mot de passe provisoire ne fonctionne plus. Demandez un nouveau courrier à votre établissement (secrétariat, professeur principal ou conseiller principal d'éducation).";

/// What the first sign-in needs.
#[derive(Clone, Copy)]
pub struct Services<'a> {
    pub db: &'a Db,
    pub key: &'a AppKey,
    pub clock: &'a SharedClock,
    pub rules: &'a PasswordRules,
}

/// Why a step was refused (each audited); [`Refusal::message`] is what the person reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The form's double-submit token was missing or wrong: nothing checked.
    Csrf,
    /// A field of the first step left blank.
    Blank,
    /// The birth date is not a date.
    BadDate,
    /// Any mismatch of the first step (which one is not said).
    Mismatch,
    /// All three match, the letter's validity is over.
    Expired,
    /// Too many failures: refused before any hash.
    Throttled(chrono::Duration),
    /// The second step's token is not (or no longer) good: start again.
    StepExpired,
    /// The new password left blank.
    BlankNew,
    /// The two new passwords differ.
    Differ,
    /// The new password breaks the reader's rule.
    Rules(Vec<PasswordRuleError>),
    /// The new password is the provisional one.
    SameAsProvisional,
}

impl Refusal {
    /// The French sentences the person reads.
    pub fn messages(&self) -> Vec<String> {
        let one = |s: &str| vec![s.to_owned()];
        match self {
            Refusal::Csrf => one(
                "Le formulaire a expiré ou ne provient pas de ce site. Rien n'a été fait : recommencez.",
            ),
            Refusal::Blank => one(
                "Saisissez votre identifiant, le mot de passe provisoire et la date de naissance.",
            ),
            Refusal::BadDate => {
                one("La date de naissance doit être une date valide, par exemple 14/05/2012.")
            }
            Refusal::Mismatch => one(GENERIC_REFUSAL),
            Refusal::Expired => one(EXPIRED_LETTER),
            Refusal::Throttled(wait) => vec![throttled_message(*wait)],
            Refusal::StepExpired => one(
                "Cette étape a expiré ou a déjà servi : recommencez depuis le début avec votre courrier.",
            ),
            Refusal::BlankNew => one("Saisissez votre nouveau mot de passe dans les deux champs."),
            Refusal::Differ => one("Les deux mots de passe saisis ne sont pas identiques."),
            Refusal::Rules(failures) => failures.iter().map(ToString::to_string).collect(),
            Refusal::SameAsProvisional => one(
                "Le nouveau mot de passe doit être différent du mot de passe provisoire du courrier.",
            ),
        }
    }
}

/// The first step as posted.
pub struct Proof {
    pub identifiant: String,
    /// As typed, the letter's spaces included.
    pub password: SecretString,
    pub birth_date: String,
    pub csrf_valid: bool,
    /// The client address the throttle counts against (rule 6).
    pub addr: String,
}

/// The first step passed: the token of the second, and the rule it states.
#[derive(Debug, Clone)]
pub struct Proven {
    pub identifiant: Identifiant,
    pub token: String,
    pub rule: PasswordRule,
}

#[derive(Debug)]
pub enum ProofOutcome {
    Proven(Proven),
    Refused(Refusal),
}

/// Who and what an attempt is about, for its audit rows.
pub(super) struct Attempt<'a> {
    pub stamp: &'a RequestStamp,
    pub now: DateTime<Utc>,
    pub identifiant: Option<Identifiant>,
    pub holder: Option<Holder>,
}

impl<'a> Attempt<'a> {
    pub fn new(
        stamp: &'a RequestStamp,
        now: DateTime<Utc>,
        identifiant: Option<Identifiant>,
    ) -> Self {
        Self {
            stamp,
            now,
            identifiant,
            holder: None,
        }
    }

    /// The attempt's row: the holder as actor once the identifiant parses, the account as
    /// target (and a pupil's establishment) once found.
    pub fn event(&self, outcome: Outcome, details: &str) -> AuditEvent {
        let actor = self.identifiant.as_ref().map_or_else(
            || Actor::Agent(ANONYMOUS.into()),
            |i| Actor::Holder(i.as_str().to_owned()),
        );
        let mut event = Context::new(actor, self.now)
            .stamped(self.stamp.clone())
            .event(ACTION, outcome)
            .details(details);
        if let Some(h) = &self.holder {
            event = event.target(h.account.kind.target(), h.account.id);
            if let Some(uai) = h.uai() {
                event = event.uai(uai.as_str());
            }
        }
        event
    }

    /// Records the refusal (alone in its transaction) and answers it.
    pub async fn refuse<T>(
        &self,
        s: &Services<'_>,
        refusal: Refusal,
        details: &str,
        outcome: impl FnOnce(Refusal) -> T,
    ) -> Result<T, Failure> {
        let event = self.event(Outcome::Refused, details);
        record_in(s.db, s.key, self.now, event).await?;
        Ok(outcome(refusal))
    }

    /// The reader's rule: the pupil's level, or the parents'.
    pub fn rule(&self, rules: &PasswordRules) -> PasswordRule {
        let h = self.holder.as_ref();
        let parent = h.is_some_and(|h| h.account.kind == crate::accounts::AccountKind::Parent);
        rules
            .for_reader(parent, h.and_then(Holder::division))
            .clone()
    }
}

/// Checks `password` against `hash` on the hashing pool: `Ok(false)` for a stored hash that
/// does not parse (logged), `Err` when hashing stayed busy or failed.
pub(super) async fn verify(password: SecretString, hash: String) -> Result<bool, PasswordError> {
    let checked = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|_| PasswordError::Hash)?;
    match checked {
        Err(PasswordError::MalformedHash) => {
            tracing::warn!("an account's stored password hash does not parse");
            Ok(false)
        }
        other => other,
    }
}

/// Settles the throttle's count once the password was checked (`settle`), or not.
async fn settle(
    db: &Db,
    admitted: Admitted,
    settle: fn(&mut crate::db::DbConnection, &Admitted) -> diesel::QueryResult<()>,
) -> Result<(), Failure> {
    Ok(db
        .run(move |conn| Ok::<_, DbError>(settle(conn, &admitted)?))
        .await?)
}

/// The first step: CSRF and the fields first, then the throttle, then the account, the
/// provisional password (argon2, or the dummy) and the birth date.
pub async fn prove(
    s: &Services<'_>,
    stamp: &RequestStamp,
    proof: Proof,
) -> Result<ProofOutcome, Failure> {
    let named = Identifiant::parse(&proof.identifiant).ok();
    let mut at = Attempt::new(stamp, s.clock.now(), named);
    let now = at.now;
    let refused = ProofOutcome::Refused;
    if !proof.csrf_valid {
        return at
            .refuse(s, Refusal::Csrf, "CSRF token missing or invalid", refused)
            .await;
    }
    let blank = proof.identifiant.trim().is_empty() || proof.birth_date.trim().is_empty();
    if blank || is_blank(&proof.password) {
        return at.refuse(s, Refusal::Blank, "blank field", refused).await;
    }
    let Ok(day) = parse_birth_date(&proof.birth_date) else {
        return at
            .refuse(s, Refusal::BadDate, "malformed birth date", refused)
            .await;
    };
    let (name, addr) = (at.identifiant.clone(), proof.addr.clone());
    let admitted = match s
        .db
        .run(move |conn| {
            let name = name.as_ref().map(|i| i.as_str());
            Ok::<_, DbError>(throttle::admit_in(conn, Bucket::Holders, name, &addr, now)?)
        })
        .await?
    {
        Admission::Admitted(a) => a,
        Admission::Throttled { retry_after } => {
            let refusal = Refusal::Throttled(retry_after);
            return at.refuse(s, refusal, "throttled", refused).await;
        }
    };
    let wanted = at.identifiant.clone();
    let (holder, date_ok) =
        s.db.run(move |conn| {
            let Some(identifiant) = wanted else {
                return Ok::<_, DbError>((None, false));
            };
            let holder = activation::find_holder(conn, &identifiant)?;
            let date_ok = match &holder {
                Some(h) => activation::birth_date_matches(conn, h.account, day)?,
                None => false,
            };
            Ok((holder, date_ok))
        })
        .await?;
    at.holder = holder;
    let stored = at
        .holder
        .as_ref()
        .and_then(|h| h.credentials.password_hash.clone());
    let hash = stored.clone().unwrap_or_else(|| DUMMY_HASH.to_owned());
    let password = provisional::as_typed(&proof.password);
    let password_ok = match verify(password, hash).await {
        Ok(matched) => matched && stored.is_some(),
        Err(e) => {
            settle(s.db, admitted, throttle::not_checked).await?;
            let event = at.event(Outcome::Failure, "password hashing busy or failed");
            record_in(s.db, s.key, now, event).await?;
            return Err(Failure::from(e));
        }
    };
    decide(s, at, admitted, password_ok, date_ok).await
}

/// The first step's answer once everything was checked.
async fn decide(
    s: &Services<'_>,
    at: Attempt<'_>,
    admitted: Admitted,
    password_ok: bool,
    date_ok: bool,
) -> Result<ProofOutcome, Failure> {
    let refused = ProofOutcome::Refused;
    let waiting = at.holder.as_ref().filter(|h| h.awaits_activation());
    let Some(holder) = waiting.filter(|_| password_ok && date_ok) else {
        let why = mismatch_reasons(at.holder.as_ref(), password_ok, date_ok);
        return at.refuse(s, Refusal::Mismatch, &why, refused).await;
    };
    // The letter is proved: the failures of this identifiant from here are forgotten.
    settle(s.db, admitted, throttle::succeeded).await?;
    if holder.letter_expired(at.now) {
        return at
            .refuse(s, Refusal::Expired, "letter expired", refused)
            .await;
    }
    let hash = holder
        .credentials
        .password_hash
        .as_deref()
        .unwrap_or_default();
    let token = step_token::issue(s.key, holder.identifiant.as_str(), hash, at.now);
    Ok(ProofOutcome::Proven(Proven {
        identifiant: holder.identifiant.clone(),
        token,
        rule: at.rule(s.rules),
    }))
}

/// What went wrong, for the audit only (never shown).
fn mismatch_reasons(holder: Option<&Holder>, password_ok: bool, date_ok: bool) -> String {
    let Some(h) = holder else {
        return "unknown identifiant".into();
    };
    let mut why = Vec::new();
    if !h.awaits_activation() {
        why.push(format!(
            "account not awaiting activation (state {})",
            h.credentials.state.as_str()
        ));
    }
    if !password_ok {
        why.push("wrong password".into());
    }
    if !date_ok {
        why.push("wrong birth date".into());
    }
    why.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_has_the_production_parameters_and_parses() {
        assert!(DUMMY_HASH.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let blank = SecretString::from(String::new());
        assert_eq!(verify_password(&blank, DUMMY_HASH).ok(), Some(false));
    }

    #[test]
    fn every_refusal_speaks_french_and_the_mismatch_names_no_field() {
        let all = [
            Refusal::Csrf,
            Refusal::Blank,
            Refusal::BadDate,
            Refusal::Mismatch,
            Refusal::Expired,
            Refusal::Throttled(chrono::Duration::minutes(3)),
            Refusal::StepExpired,
            Refusal::BlankNew,
            Refusal::Differ,
            Refusal::Rules(vec![PasswordRuleError::TooShort(8)]),
            Refusal::SameAsProvisional,
        ];
        for r in all {
            let m = r.messages();
            assert!(!m.is_empty() && m.iter().all(|s| s.ends_with('.')), "{r:?}");
        }
        assert!(EXPIRED_LETTER.contains("Ce courrier a expiré"));
        assert!(EXPIRED_LETTER.contains("nouveau courrier"));
    }
}
