//! TOTP (BRIEF rules 5 and 7): the check that opens the parents' gate for a session, the
//! enrolment (the password again, through the one throttle, or a sign-in again at the ENT's
//! provider for a session opened through it; an enrolled agent cannot enrol
//! again by himself) and its reset by an operator (a lost phone). Each step is one audited
//! transaction; a passed check gives the session a new id (a privilege change).

use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::signin::Auth;
use super::{Context, Failure};
use crate::audit::{self, AuditAction, AuditEvent, AuditTx, Outcome};
use crate::auth::session::{self, Session};
use crate::auth::throttle::{self, PasswordCheck};
use crate::auth::totp::{self, TotpSecret};
use crate::db::DbConnection;
use crate::domain::AgentUid;
use crate::secrets::AppKey;

const CHECK: AuditAction = AuditAction::TotpCheck;
const ENROL: AuditAction = AuditAction::TotpEnrol;
/// The French sentence of a locked check.
pub const LOCKED: &str =
    "Trop de codes incorrects : la vérification est bloquée pendant 15 minutes.";
/// The French sentence of a confirmation with no enrolment under way.
pub const NOTHING_TO_CONFIRM: &str = "Aucun enregistrement en cours : recommencez depuis le début.";

/// What a code typed at the parents' gate came to (each one audited).
#[derive(Debug, PartialEq, Eq)]
pub enum CodeCheck {
    /// The gate is open for this session, under a new id (its cookie value).
    Passed { token: String },
    /// No confirmed authenticator.
    NotEnrolled,
    /// Not the code of the current or the previous step.
    WrongCode,
    /// A step already accepted once (a replay).
    AlreadyUsed,
}

/// Whether the agent has a confirmed authenticator.
pub fn is_enrolled(conn: &mut DbConnection, uid: &str) -> Result<bool, Failure> {
    Ok(totp::load(conn, uid)?.is_some_and(|e| e.confirmed))
}

/// The audit row of the signed-in agent's own TOTP step.
fn own(ctx: &Context, session: &Session, action: AuditAction, outcome: Outcome) -> AuditEvent {
    ctx.event(action, outcome)
        .target("agent", &session.agent.uid)
}

/// The step of `code` for `uid`'s sealed secret, if it is the current or the previous one.
fn step_of(
    key: &AppKey,
    uid: &str,
    sealed: &str,
    issuer: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(TotpSecret, Option<i64>), Failure> {
    let internal = |e: totp::TotpError| Failure::internal(e.to_string());
    let secret = TotpSecret::open(key, uid, sealed).map_err(internal)?;
    let step = secret
        .matching_step(uid, issuer, code, now)
        .map_err(internal)?;
    Ok((secret, step))
}

/// The TOTP pass is marked on the session, which gets a new id.
fn pass_gate(
    tx: &mut AuditTx<'_>,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<String, Failure> {
    session::mark_totp(tx.conn(), session.id, now)?;
    session::rotate(tx.conn(), session.id).map_err(|e| Failure::internal(e.to_string()))
}

/// A code typed by the signed-in agent: at the parents' gate, or the first one of a new
/// authenticator.
pub struct Code<'a> {
    pub session: &'a Session,
    pub issuer: &'a str,
    pub code: &'a str,
}

/// What a submitted code came to, in either step.
enum Submitted {
    Passed(String),
    NoEnrolment,
    Locked,
    Wrong { secret: TotpSecret, replay: bool },
}

/// Tries `code` in one audited transaction: on the confirmed authenticator (`confirming`
/// false: a step accepted once, failures counted and locking) or on the one being enrolled.
fn submit(
    conn: &mut DbConnection,
    key: &AppKey,
    ctx: &Context,
    code: &Code<'_>,
    confirming: bool,
) -> Result<Submitted, Failure> {
    let (uid, now) = (code.session.agent.uid.as_str(), ctx.now);
    let action = if confirming { ENROL } else { CHECK };
    let refused = |details: &str| own(ctx, code.session, action, Outcome::Refused).details(details);
    audit::audited(conn, key, now, |tx| -> Result<Submitted, Failure> {
        let Some(e) = totp::load(tx.conn(), uid)?.filter(|e| e.confirmed != confirming) else {
            let why = if confirming {
                "nothing to confirm"
            } else {
                "not enrolled"
            };
            tx.append(&refused(why))?;
            return Ok(Submitted::NoEnrolment);
        };
        if !confirming && e.is_locked(now) {
            tx.append(&refused("locked"))?;
            return Ok(Submitted::Locked);
        }
        let (secret, step) = step_of(key, uid, &e.sealed_secret, code.issuer, code.code, now)?;
        let accepted = match step {
            Some(s) => totp::accept_step(tx.conn(), uid, s, confirming, now)?,
            None => false,
        };
        if !accepted {
            let replay = step.is_some();
            let why = match (confirming, replay) {
                (true, _) => "wrong first code",
                (false, true) => "code already used",
                (false, false) => "wrong code",
            };
            if !confirming {
                totp::record_failure(tx.conn(), uid, now)?;
            }
            tx.append(&refused(why))?;
            return Ok(Submitted::Wrong { secret, replay });
        }
        let token = pass_gate(tx, code.session, now)?;
        let success = own(ctx, code.session, action, Outcome::Success);
        tx.append(&if confirming {
            success.details("enrolled")
        } else {
            success
        })?;
        Ok(Submitted::Passed(token))
    })
}

/// Checks a code at the parents' gate: a step is accepted once, failures are counted and
/// lock the check (a 429 while locked).
pub fn check_code(
    conn: &mut DbConnection,
    key: &AppKey,
    ctx: &Context,
    code: &Code<'_>,
) -> Result<CodeCheck, Failure> {
    Ok(match submit(conn, key, ctx, code, false)? {
        Submitted::Passed(token) => CodeCheck::Passed { token },
        Submitted::NoEnrolment => CodeCheck::NotEnrolled,
        Submitted::Locked => return Err(Failure::throttled(LOCKED, None)),
        Submitted::Wrong { replay: true, .. } => CodeCheck::AlreadyUsed,
        Submitted::Wrong { .. } => CodeCheck::WrongCode,
    })
}

/// What asking for a new authenticator came to.
#[derive(Debug)]
pub enum EnrolStart {
    /// A new secret, sealed and stored unconfirmed: show it once.
    Started(TotpSecret),
    /// He has one already: only an administrator resets it.
    AlreadyEnrolled,
    WrongPassword,
    /// An SSO session that has not signed in again at its provider just now.
    NeedsReauth,
    /// The directory did not answer: nothing checked, nothing counted.
    DirectoryDown(String),
}

/// How the agent proves himself before an enrolment: his password, or (a session opened
/// through an ENT connector) a sign-in again at the provider just before.
pub enum Proof {
    Password(SecretString),
    Provider,
}

/// Records one refused enrolment step, alone in its transaction.
async fn refuse(auth: &Auth<'_>, event: AuditEvent) -> Result<(), Failure> {
    super::signin::record(auth, auth.clock.now(), event).await
}

/// Starts an enrolment: the password again (through the throttle, counted per account and
/// address like the sign-in), or a recent sign-in again at the ENT's provider, then a new
/// secret.
pub async fn start_enrolment(
    auth: &Auth<'_>,
    ctx: &Context,
    session: &Session,
    addr: &str,
    proof: Proof,
) -> Result<EnrolStart, Failure> {
    let uid = session.agent.uid.clone();
    let refused = |details: &str| own(ctx, session, ENROL, Outcome::Refused).details(details);
    let u = uid.clone();
    if auth.db.run(move |conn| is_enrolled(conn, &u)).await? {
        refuse(auth, refused("already enrolled")).await?;
        return Ok(EnrolStart::AlreadyEnrolled);
    }
    let password = match proof {
        Proof::Password(p) => p,
        Proof::Provider if super::sso::reauth_is_recent(session, auth.clock.now()) => {
            return begin_enrolment(auth, ctx, session, (uid, true)).await;
        }
        Proof::Provider => {
            refuse(auth, refused("no recent sign-in at the provider")).await?;
            return Ok(EnrolStart::NeedsReauth);
        }
    };
    let (db, directory) = (auth.db, auth.directory.clone());
    let parsed = AgentUid::parse(&uid);
    match throttle::check_password(db, directory, auth.clock.now(), parsed, addr, password).await? {
        PasswordCheck::Accepted(_) => {}
        PasswordCheck::Throttled { retry_after } => {
            refuse(auth, refused("throttled")).await?;
            return Err(Failure::password_throttled(retry_after));
        }
        PasswordCheck::Busy => return Err(Failure::busy()),
        PasswordCheck::Unavailable(e) => return Ok(EnrolStart::DirectoryDown(e)),
        PasswordCheck::Refused(_) => {
            refuse(auth, refused("wrong password")).await?;
            return Ok(EnrolStart::WrongPassword);
        }
    }
    begin_enrolment(auth, ctx, session, (uid, false)).await
}

/// A new secret, sealed and stored unconfirmed; with `spend`, the session's re-authentication
/// at its provider is spent first, in the same transaction (two parallel enrolments cannot
/// both use it).
async fn begin_enrolment(
    auth: &Auth<'_>,
    ctx: &Context,
    session: &Session,
    (uid, spend): (String, bool),
) -> Result<EnrolStart, Failure> {
    let internal = |e: totp::TotpError| Failure::internal(e.to_string());
    let secret = TotpSecret::generate().map_err(internal)?;
    let sealed = secret.seal(auth.key, &uid).map_err(internal)?;
    let (key, now) = (auth.key.clone(), auth.clock.now());
    let event = own(ctx, session, ENROL, Outcome::Success).details("enrolment started");
    let session_id = session.id;
    let since = now - chrono::Duration::minutes(super::sso::REAUTH_VALID_MINUTES);
    let started = auth
        .db
        .run(move |conn| {
            audit::audited(conn, &key, now, |tx| -> Result<Option<bool>, Failure> {
                if spend && !session::spend_reauthentication(tx.conn(), session_id, since)? {
                    return Ok(None);
                }
                let ok = totp::begin(tx.conn(), &uid, &sealed, now)?;
                if ok {
                    tx.append(&event)?;
                }
                Ok(Some(ok))
            })
        })
        .await?;
    Ok(match started {
        Some(true) => EnrolStart::Started(secret),
        Some(false) => EnrolStart::AlreadyEnrolled,
        None => EnrolStart::NeedsReauth,
    })
}

/// What the first code of a new authenticator came to.
#[derive(Debug)]
pub enum Confirmation {
    /// Enrolled, and the gate is open for this session under a new id.
    Confirmed { token: String },
    /// Not the code of now: the same secret, to show again.
    WrongCode(TotpSecret),
}

/// The first code confirms the enrolment (and opens the gate); a 409 when there is none
/// under way.
pub fn confirm_enrolment(
    conn: &mut DbConnection,
    key: &AppKey,
    ctx: &Context,
    code: &Code<'_>,
) -> Result<Confirmation, Failure> {
    match submit(conn, key, ctx, code, true)? {
        Submitted::Passed(token) => Ok(Confirmation::Confirmed { token }),
        Submitted::Wrong { secret, .. } => Ok(Confirmation::WrongCode(secret)),
        Submitted::NoEnrolment | Submitted::Locked => Err(Failure::conflict(NOTHING_TO_CONFIRM)),
    }
}

/// Forgets an agent's authenticator (a lost phone; `agents reset-totp`): his sessions end
/// with the TOTP passes they held, audited. `None` when he has none.
pub fn reset(
    conn: &mut DbConnection,
    key: &AppKey,
    ctx: &Context,
    uid: &AgentUid,
) -> Result<Option<usize>, Failure> {
    super::sessions::end_sessions_after(
        conn,
        key,
        ctx,
        (AuditAction::AgentTotpReset, uid),
        |conn| totp::remove(conn, uid.as_str()),
    )
}
