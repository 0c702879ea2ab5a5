//! Staff who arrive through an ENT connector (CAS or OpenID Connect). The provider only says
//! who the person is: he must be in the staff directory, whose data and the delegations give
//! his rights exactly as after a password sign-in (a brand-new session, its own CSRF token,
//! the same re-reads). Every arrival, refusal and re-authentication writes an audit row whose
//! access path (`gate`) is the connector (`cas`, `oidc`).

use chrono::{DateTime, Duration, Utc};

use super::signin::{Auth, record};
use super::{Actor, Context, Failure, RequestStamp};
use crate::audit::{self, AuditAction, AuditEvent, Outcome};
use crate::auth::session::{self, Origin, Session, Via};
use crate::db::DbConnection;
use crate::directory::DirectoryError;
use crate::domain::AgentUid;
use crate::secrets::AppKey;

/// The actor of the provider's back-channel logout.
pub const BACKCHANNEL_ACTOR: &str = "oidc-backchannel-logout";
/// A re-authentication at the provider opens the TOTP enrolment for this long.
pub const REAUTH_VALID_MINUTES: i64 = 5;
/// The actor of an arrival whose person is not a well-formed uid.
const ANONYMOUS: &str = "anonymous";

/// What a connector's arrival came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Arrival {
    /// A new session: the cookie value.
    SignedIn { token: String },
    /// The provider named nobody the staff directory knows.
    UnknownUser,
    /// The directory did not answer.
    DirectoryDown,
}

/// The row of one arrival through `via`.
fn arrival_event(
    stamp: &RequestStamp,
    now: DateTime<Utc>,
    via: Via,
    uid: Option<&AgentUid>,
    outcome: Outcome,
    details: &str,
) -> AuditEvent {
    let actor = uid.map_or(ANONYMOUS, AgentUid::as_str).to_owned();
    let mut event = Context::new(Actor::Agent(actor), now)
        .stamped(stamp.clone())
        .event(AuditAction::SignIn, outcome)
        .gate(via.as_str())
        .details(details);
    if let Some(u) = uid {
        event = event.target("agent", u);
    }
    event
}

/// Who a connector's refusal is about and what it refused: nobody named yet (a bad ticket,
/// a forged token, an unreachable provider) at a sign-in, the signed-in agent at his
/// re-authentication, the provider's back-channel logout.
#[derive(Debug, Clone, Copy)]
pub enum Refused<'a> {
    SignIn,
    Reauth(&'a str),
    Logout,
}

/// Records a connector's refusal: `details` says why, in the audit only.
pub async fn record_refusal(
    auth: &Auth<'_>,
    stamp: &RequestStamp,
    via: Via,
    what: Refused<'_>,
    details: &str,
) -> Result<(), Failure> {
    let now = auth.clock.now();
    let event = match what {
        Refused::SignIn => arrival_event(stamp, now, via, None, Outcome::Refused, details),
        Refused::Reauth(uid) => {
            let uid = AgentUid::parse(uid);
            arrival_event(stamp, now, via, uid.as_ref(), Outcome::Refused, details)
        }
        Refused::Logout => Context::new(Actor::Job(BACKCHANNEL_ACTOR), now)
            .stamped(stamp.clone())
            .event(AuditAction::SignOut, Outcome::Refused)
            .gate(via.as_str())
            .details(details),
    };
    record(auth, now, event).await
}

/// Signs in the person the provider vouched for (`uid` from its answer), with the provider's
/// session names in `origin`; the session the browser held before (`previous`, the SHA-256
/// of its cookie) ends, as at a password sign-in.
pub async fn arrive(
    auth: &Auth<'_>,
    stamp: &RequestStamp,
    (uid, origin): (&str, Origin),
    previous: Option<&str>,
) -> Result<Arrival, Failure> {
    let now = auth.clock.now();
    let via = origin.via;
    let Some(parsed) = AgentUid::parse(uid) else {
        let event = arrival_event(stamp, now, via, None, Outcome::Refused, "not a staff uid");
        record(auth, now, event).await?;
        return Ok(Arrival::UnknownUser);
    };
    let directory = auth.directory.clone();
    let lookup_uid = parsed.clone();
    let found = tokio::task::spawn_blocking(move || directory.lookup(&lookup_uid))
        .await
        .map_err(|_| Failure::internal("blocking pool gone"))?;
    let row =
        |outcome, details: &str| arrival_event(stamp, now, via, Some(&parsed), outcome, details);
    let agent = match found {
        Ok(Some(agent)) => agent,
        Ok(None) => {
            let event = row(
                Outcome::Refused,
                "unknown to the staff directory or disabled",
            );
            record(auth, now, event).await?;
            return Ok(Arrival::UnknownUser);
        }
        Err(DirectoryError::Unavailable(e)) => {
            tracing::warn!(error = %e, "directory unavailable at an SSO arrival");
            record(auth, now, row(Outcome::Failure, "directory unavailable")).await?;
            return Ok(Arrival::DirectoryDown);
        }
        Err(e) => return Err(Failure::internal(e.to_string())),
    };
    let success = row(Outcome::Success, "signed in");
    let key = auth.key.clone();
    let previous = previous.map(str::to_owned);
    let token = auth
        .db
        .run(move |conn| {
            audit::audited(conn, &key, now, |tx| -> Result<String, Failure> {
                if let Some(hash) = &previous {
                    session::delete_by_hash(tx.conn(), hash)?;
                }
                let (token, _) = session::create_via(tx.conn(), &agent, now, &origin)
                    .map_err(|e| Failure::internal(e.to_string()))?;
                tx.append(&success)?;
                Ok(token)
            })
        })
        .await?;
    Ok(Arrival::SignedIn { token })
}

/// Who the provider vouched for at a re-authentication: his uid, and for OIDC its new
/// session id and his subject; `proof` says whether it was a sign-in made just now; `state`
/// is the flow's, which the session recorded when it started it.
#[derive(Debug, Clone)]
pub struct Reauth<'a> {
    pub via: Via,
    pub state: &'a str,
    pub uid: &'a str,
    pub sid: Option<&'a str>,
    pub sub: Option<&'a str>,
    pub proof: ReauthProof,
}

/// The person of session `session_id` (whose uid was `expected`) signed in again at his
/// provider: the session is marked re-authenticated (with the provider's new session id).
/// Another person, a sign-in that is not new, or a session that ended or was opened
/// otherwise is refused (403), audited.
pub fn reauthenticated(
    conn: &mut DbConnection,
    key: &AppKey,
    ctx: &Context,
    (session_id, expected): (i64, &str),
    r: &Reauth<'_>,
) -> Result<(), Failure> {
    let same_person = r.uid.trim().eq_ignore_ascii_case(expected);
    let mut reason = match r.proof {
        _ if !same_person => Some("the provider named another person"),
        ReauthProof::Stale => Some("the provider did not ask for the password again"),
        ReauthProof::Fresh => None,
    };
    let event = |reason: Option<&str>| {
        let outcome = if reason.is_some() {
            Outcome::Refused
        } else {
            Outcome::Success
        };
        ctx.event(AuditAction::SignIn, outcome)
            .target("agent", expected)
            .gate(r.via.as_str())
            .details(reason.unwrap_or("signed in again at the provider (TOTP enrolment)"))
    };
    audit::audited(conn, key, ctx.now, |tx| -> Result<(), Failure> {
        let marked = session::Reauthenticated {
            id: session_id,
            uid: expected,
            via: r.via,
            state: r.state,
            sid: r.sid,
            sub: r.sub,
        };
        if reason.is_none() && !session::mark_reauthenticated(tx.conn(), &marked, ctx.now)? {
            reason = Some(
                "no session awaits this re-authentication (ended, another flow, or another subject)",
            );
        }
        tx.append(&event(reason))?;
        Ok(())
    })?;
    match reason {
        None => Ok(()),
        Some(_) => Err(Failure::forbidden(
            "L'ENT n'a pas confirmé votre identité : reprenez l'enrôlement depuis le début.",
        )),
    }
}

/// Session `session_id` starts a re-authentication at its provider with the flow of `state`
/// (only that flow, once, can mark it).
pub fn begin_reauth(conn: &mut DbConnection, session_id: i64, state: &str) -> Result<(), Failure> {
    Ok(session::begin_reauthentication(conn, session_id, state)?)
}

/// Whether the provider's answer proves a sign-in made after the request (CAS `renew`
/// honoured, or an OIDC `auth_time` after the redirect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReauthProof {
    Fresh,
    Stale,
}

impl ReauthProof {
    /// An OIDC `auth_time` proves a sign-in made after `asked_at`, to the second (the
    /// precision of both); no clock skew is allowed: a sign-in made just before the request
    /// is not a new one.
    pub fn of_auth_time(auth_time: Option<DateTime<Utc>>, asked_at: DateTime<Utc>) -> Self {
        let asked = asked_at.timestamp();
        match auth_time {
            Some(t) if t.timestamp() >= asked => ReauthProof::Fresh,
            _ => ReauthProof::Stale,
        }
    }
}

/// Whether `session` proved itself again at its provider recently enough to enrol.
pub fn reauth_is_recent(session: &Session, now: DateTime<Utc>) -> bool {
    session.origin.via != Via::Password
        && session
            .reauthenticated_at
            .is_some_and(|at| now - at < Duration::minutes(REAUTH_VALID_MINUTES) && at <= now)
}

/// The provider's back-channel logout ended its session: ours end with it, audited (one row
/// per agent whose session ended). Returns how many ended.
pub fn provider_logout(
    conn: &mut DbConnection,
    key: &AppKey,
    ctx: &Context,
    via: Via,
    (sid, sub): (Option<&str>, Option<&str>),
) -> Result<usize, Failure> {
    audit::audited(conn, key, ctx.now, |tx| -> Result<usize, Failure> {
        let ended = session::delete_by_provider(tx.conn(), via, sid, sub)?;
        if ended.is_empty() {
            let event = ctx
                .event(AuditAction::SignOut, Outcome::Success)
                .gate(via.as_str())
                .details("signed out at the provider (back-channel logout): no session here");
            tx.append(&event)?;
        }
        for uid in &ended {
            let event = ctx
                .event(AuditAction::SignOut, Outcome::Success)
                .target("agent", uid)
                .gate(via.as_str())
                .details("signed out at the provider (back-channel logout)");
            tx.append(&event)?;
        }
        Ok(ended.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_auth_time_must_follow_the_request() {
        let asked = Utc.with_ymd_and_hms(2026, 12, 8, 9, 0, 0).unwrap();
        let fresh = ReauthProof::of_auth_time;
        assert_eq!(
            fresh(Some(asked + Duration::seconds(5)), asked),
            ReauthProof::Fresh
        );
        assert_eq!(
            fresh(Some(asked + Duration::milliseconds(300)), asked),
            ReauthProof::Fresh
        );
        assert_eq!(
            fresh(Some(asked - Duration::seconds(1)), asked),
            ReauthProof::Stale
        );
        assert_eq!(fresh(None, asked), ReauthProof::Stale);
    }
}
