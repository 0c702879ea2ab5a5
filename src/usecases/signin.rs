//! Staff sign-in and sign-out (BRIEF rules 9 and 12). Every success, failure and refusal
//! writes an audit row; the person signing in only ever reads the generic refusal (the
//! reason goes to the audit). The password is checked through the one throttle,
//! [`throttle::check_password`]; a success creates a brand-new session (an earlier cookie
//! is never adopted: its session ends).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::{Actor, Context, Failure, RequestStamp};
use crate::audit::{self, AuditAction, AuditEvent, Outcome};
use crate::auth::session::{self, Session};
use crate::auth::throttle::{self, PasswordCheck};
use crate::clock::SharedClock;
use crate::db::{Db, DbConnection};
use crate::directory::{Directory, is_blank};
use crate::domain::AgentUid;
use crate::secrets::AppKey;

const SIGN_IN: AuditAction = AuditAction::SignIn;
const SIGN_OUT: AuditAction = AuditAction::SignOut;
/// The actor of an attempt whose identifiant is not a well-formed uid.
const ANONYMOUS: &str = "anonymous";
/// The French sentence of a session form's bad CSRF token at sign-out.
pub const SIGN_OUT_CSRF: &str =
    "Le formulaire a expiré ou ne provient pas de ce site. Rien n'a été fait.";

/// What a password check needs: the database (throttle, sessions, audit), the application
/// key, the agents directory and the clock.
#[derive(Clone, Copy)]
pub struct Auth<'a> {
    pub db: &'a Db,
    pub key: &'a AppKey,
    pub directory: &'a Arc<dyn Directory>,
    pub clock: &'a SharedClock,
}

/// The sign-in form as posted.
pub struct SignInInput {
    /// The identifiant as typed.
    pub identifiant: String,
    pub password: SecretString,
    /// Whether the form's double-submit token matched its cookie.
    pub csrf_valid: bool,
    /// The client address the throttle counts against (rule 6).
    pub addr: String,
    /// The session cookie the browser sent along, if any: its session ends.
    pub previous_token: Option<String>,
}

/// What a sign-in came to (each one audited).
#[derive(Debug, PartialEq, Eq)]
pub enum SignInOutcome {
    /// A new session: the cookie value.
    SignedIn { token: String },
    /// The form's token was missing or wrong: nothing checked.
    CsrfRefused,
    /// Blank identifiant or password: nothing checked.
    Blank,
    /// Wrong password, unknown, disabled or malformed account: the generic refusal.
    Refused,
    /// The throttle refused before any hash.
    Throttled { wait: chrono::Duration },
    /// The directory did not answer: nothing checked, nothing counted.
    DirectoryDown,
}

/// The audit row of one sign-in attempt: the person is the agent of the uid once it parses.
fn attempt_event(
    stamp: &RequestStamp,
    now: DateTime<Utc>,
    uid: Option<&AgentUid>,
    outcome: Outcome,
    details: &str,
) -> AuditEvent {
    let actor = uid.map_or_else(
        || Actor::Agent(ANONYMOUS.into()),
        |u| Actor::Agent(u.as_str().to_owned()),
    );
    let mut event = Context::new(actor, now)
        .stamped(stamp.clone())
        .event(SIGN_IN, outcome)
        .details(details);
    if let Some(u) = uid {
        event = event.target("agent", u);
    }
    event
}

/// Records one attempt's row, alone in its transaction.
pub(super) async fn record(
    auth: &Auth<'_>,
    now: DateTime<Utc>,
    event: AuditEvent,
) -> Result<(), Failure> {
    record_in(auth.db, auth.key, now, event).await
}

/// Records one row, alone in its transaction, on the blocking pool.
pub(super) async fn record_in(
    db: &Db,
    key: &AppKey,
    now: DateTime<Utc>,
    event: AuditEvent,
) -> Result<(), Failure> {
    let key = key.clone();
    db.run(move |conn| Ok::<_, Failure>(audit::record(conn, &key, now, &event).map(drop)?))
        .await
}

/// Signs an agent in: CSRF and blank fields first, then the throttle and the directory,
/// then a brand-new session. `Err` only when hashing stayed busy (503) or the database
/// failed.
pub async fn sign_in(
    auth: &Auth<'_>,
    stamp: &RequestStamp,
    input: SignInInput,
) -> Result<SignInOutcome, Failure> {
    let uid = AgentUid::parse(&input.identifiant);
    let now = auth.clock.now();
    let refuse = |outcome: SignInOutcome, details: &str| {
        let event = attempt_event(stamp, now, uid.as_ref(), Outcome::Refused, details);
        async move { record(auth, now, event).await.map(|()| outcome) }
    };
    if !input.csrf_valid {
        return refuse(SignInOutcome::CsrfRefused, "CSRF token missing or invalid").await;
    }
    if input.identifiant.trim().is_empty() || is_blank(&input.password) {
        return refuse(SignInOutcome::Blank, "blank identifiant or password").await;
    }
    let check = throttle::check_password(
        auth.db,
        auth.directory.clone(),
        now,
        uid.clone(),
        &input.addr,
        input.password,
    )
    .await?;
    let failed = |details: &str| attempt_event(stamp, now, uid.as_ref(), Outcome::Failure, details);
    let agent = match check {
        PasswordCheck::Accepted(agent) => agent,
        PasswordCheck::Refused(reason) => return refuse(SignInOutcome::Refused, reason).await,
        PasswordCheck::Throttled { retry_after } => {
            return refuse(SignInOutcome::Throttled { wait: retry_after }, "throttled").await;
        }
        PasswordCheck::Busy => {
            record(auth, now, failed("password hashing busy")).await?;
            return Err(Failure::busy());
        }
        PasswordCheck::Unavailable(e) => {
            tracing::warn!(error = %e, "directory unavailable at sign-in");
            record(auth, now, failed("directory unavailable")).await?;
            return Ok(SignInOutcome::DirectoryDown);
        }
    };
    let now = auth.clock.now();
    let success = attempt_event(stamp, now, uid.as_ref(), Outcome::Success, "signed in");
    let (key, previous) = (auth.key.clone(), input.previous_token);
    let token = auth
        .db
        .run(move |conn| {
            audit::audited(conn, &key, now, |tx| -> Result<String, Failure> {
                if let Some(old) = previous
                    && let Some(s) = session::find(tx.conn(), &old)?
                {
                    session::delete(tx.conn(), s.id)?;
                }
                let (token, _) = session::create(tx.conn(), &agent, now)
                    .map_err(|e| Failure::internal(e.to_string()))?;
                tx.append(&success)?;
                Ok(token)
            })
        })
        .await?;
    Ok(SignInOutcome::SignedIn { token })
}

/// Records a password sign-in refused because the password form is off (`[directory]
/// password_sign_in = false`): nothing was checked.
pub async fn refuse_password_off(auth: &Auth<'_>, stamp: &RequestStamp) -> Result<(), Failure> {
    let now = auth.clock.now();
    let event = attempt_event(
        stamp,
        now,
        None,
        Outcome::Refused,
        "password sign-in disabled",
    );
    record(auth, now, event).await
}

/// Ends the signed-in agent's session, when the form carries the session's CSRF token
/// (else a 403, audited, and nothing ends).
pub fn sign_out(
    conn: &mut DbConnection,
    key: &AppKey,
    ctx: &Context,
    session: &Session,
    given_csrf: &str,
) -> Result<(), Failure> {
    let uid = &session.agent.uid;
    let valid = crate::auth::csrf::tokens_match(&session.csrf_token, given_csrf);
    let outcome = if valid {
        Outcome::Success
    } else {
        Outcome::Refused
    };
    let mut event = ctx.event(SIGN_OUT, outcome).target("agent", uid);
    if !valid {
        event = event.details("CSRF token missing or invalid");
    }
    audit::audited(conn, key, ctx.now, |tx| -> Result<(), Failure> {
        if valid {
            session::delete(tx.conn(), session.id)?;
        }
        tx.append(&event)?;
        Ok(())
    })?;
    if valid {
        Ok(())
    } else {
        Err(Failure::forbidden(SIGN_OUT_CSRF))
    }
}
