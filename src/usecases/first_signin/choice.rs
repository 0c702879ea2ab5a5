//! The first sign-in's second step: the new password, twice, under the reader's rule; then
//! the account is activated in one audited transaction (compare-and-set on the provisional
//! password's hash: a second submission, or a reset meanwhile, changes nothing).

use secrecy::{ExposeSecret, SecretString};

use super::{Attempt, Refusal, Services, verify};
use crate::accounts::activation;
use crate::accounts::password_rules::PasswordRule;
use crate::accounts::provisional;
use crate::audit::{self, Outcome};
use crate::auth::password::hash_password;
use crate::auth::step_token::StepToken;
use crate::db::DbError;
use crate::directory::is_blank;
use crate::domain::Identifiant;
use crate::usecases::signin::record_in;
use crate::usecases::{Failure, RequestStamp};

/// The second step as posted.
pub struct Choice {
    /// The step token of the first step.
    pub token: String,
    pub password: SecretString,
    pub confirmation: SecretString,
    pub csrf_valid: bool,
}

#[derive(Debug)]
pub enum ChoiceOutcome {
    /// The account is active with the new password.
    Activated(Identifiant),
    /// Refused; with the rule (and who) when the second step's form is shown again, without
    /// when the person must start again.
    Refused {
        refusal: Refusal,
        again: Option<(Identifiant, PasswordRule)>,
    },
}

fn back_to_start(refusal: Refusal) -> ChoiceOutcome {
    ChoiceOutcome::Refused {
        refusal,
        again: None,
    }
}

/// What the new password lacks, or `None`: blank, the two differ, the rule's failures.
fn form_refusal(choice: &Choice, rule: &PasswordRule) -> Option<(Refusal, &'static str)> {
    let (new, again) = (
        choice.password.expose_secret(),
        choice.confirmation.expose_secret(),
    );
    if is_blank(&choice.password) {
        return Some((Refusal::BlankNew, "blank new password"));
    }
    if new != again {
        return Some((Refusal::Differ, "the two new passwords differ"));
    }
    let failures = rule.failures(new);
    (!failures.is_empty()).then_some((Refusal::Rules(failures), "new password breaks the rule"))
}

/// The second step: CSRF, the token against the account's current provisional password,
/// the new password's checks, then the activation.
pub async fn choose(
    s: &Services<'_>,
    stamp: &RequestStamp,
    choice: Choice,
) -> Result<ChoiceOutcome, Failure> {
    let now = s.clock.now();
    let token = StepToken::parse(&choice.token);
    let named = token.as_ref().map(|t| Identifiant::parse(&t.identifiant));
    let mut at = Attempt::new(stamp, now, named.and_then(Result::ok));
    if !choice.csrf_valid {
        let why = "CSRF token missing or invalid";
        return at.refuse(s, Refusal::Csrf, why, back_to_start).await;
    }
    let wanted = at.identifiant.clone();
    at.holder =
        s.db.run(move |conn| match wanted {
            Some(identifiant) => Ok::<_, DbError>(activation::find_holder(conn, &identifiant)?),
            None => Ok(None),
        })
        .await?;
    let provisional_hash = at
        .holder
        .as_ref()
        .filter(|h| h.awaits_activation() && !h.letter_expired(now))
        .and_then(|h| h.credentials.password_hash.clone())
        .filter(|hash| {
            token
                .as_ref()
                .is_some_and(|t| t.valid_for(s.key, hash, now))
        });
    let (Some(provisional_hash), Some(identifiant)) = (provisional_hash, at.identifiant.clone())
    else {
        let why = "step token missing, forged, expired or already used";
        return at.refuse(s, Refusal::StepExpired, why, back_to_start).await;
    };
    let rule = at.rule(s.rules);
    let again = |refusal| ChoiceOutcome::Refused {
        refusal,
        again: Some((identifiant.clone(), rule.clone())),
    };
    if let Some((refusal, why)) = form_refusal(&choice, &rule) {
        return at.refuse(s, refusal, why, again).await;
    }
    let typed = provisional::as_typed(&choice.password);
    if provisional::could_be(typed.expose_secret())
        && verify(typed, provisional_hash.clone()).await?
    {
        let why = "new password is the provisional one";
        return at.refuse(s, Refusal::SameAsProvisional, why, again).await;
    }
    let new = choice.password;
    let new_hash = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .map_err(|_| Failure::internal("blocking pool gone"))?;
    let new_hash = match new_hash {
        Ok(h) => h,
        Err(e) => {
            let event = at.event(Outcome::Failure, "password hashing busy or failed");
            record_in(s.db, s.key, now, event).await?;
            return Err(Failure::from(e));
        }
    };
    if !activate(s, &at, provisional_hash, new_hash).await? {
        let why = "provisional password already replaced meanwhile";
        return at.refuse(s, Refusal::StepExpired, why, back_to_start).await;
    }
    Ok(ChoiceOutcome::Activated(identifiant))
}

/// The activation and its audit rows (one per establishment whose journal it belongs to: the
/// pupil's, or each of the parent's children's), in one transaction; a compare-and-set that
/// finds the provisional password already replaced changes nothing (`false`).
async fn activate(
    s: &Services<'_>,
    at: &Attempt<'_>,
    provisional_hash: String,
    new_hash: String,
) -> Result<bool, Failure> {
    let Some(holder) = at.holder.clone() else {
        return Err(Failure::internal("activation without an account"));
    };
    let done = at.event(Outcome::Success, "activated: own password chosen");
    let (key, now) = (s.key.clone(), at.now);
    s.db.run(move |conn| {
        let uais = activation::establishments(conn, &holder)?;
        audit::audited(conn, &key, now, |tx| -> Result<bool, Failure> {
            let account = holder.account;
            if !activation::activate(tx.conn(), account, &provisional_hash, &new_hash, now)? {
                return Ok(false);
            }
            if uais.is_empty() {
                tx.append(&done)?;
            }
            for uai in &uais {
                tx.append(&done.clone().uai(uai.as_str()))?;
            }
            Ok(true)
        })
    })
    .await
}
