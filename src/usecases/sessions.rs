//! Server-side sessions at each request (BRIEF rules 2 and 12): the idle and absolute
//! timeouts, the directory data re-read when 60 seconds old (a loss of rights or a disabled
//! agent takes effect within a minute; a change of rights gives the session a new id), and
//! `last_seen` written at most once a minute. Also what ends an agent's sessions from the
//! command line (`agents logout`, `agents disable`), audited.

use chrono::Duration;

use super::signin::Auth;
use super::{Actor, Context, Failure, RequestStamp};
use crate::audit;
use crate::audit::{AuditAction, Outcome};
use crate::auth::session::{self, Session};
use crate::config::SessionSettings;
use crate::db::DbConnection;
use crate::directory::DirectoryError;
use crate::domain::{Agent, AgentUid, Uai};
use crate::secrets::AppKey;

/// How long a session lives without a request, and at most.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Timeouts {
    pub fn of(settings: &SessionSettings) -> Self {
        Self {
            idle: Duration::minutes(settings.idle_timeout_minutes),
            absolute: Duration::hours(settings.absolute_timeout_hours),
        }
    }
}

/// What the session of a request came to.
#[derive(Debug)]
pub enum Loaded {
    /// The request goes on; `new_token` when the session got a new id.
    Proceed {
        session: Box<Session>,
        new_token: Option<String>,
    },
    /// Back to the sign-in page, with `?session=<reason>` when there is one.
    SignIn(Option<&'static str>),
    /// The directory did not answer the re-read that was due.
    DirectoryDown(String),
}

/// The session of the cookie value `token` at this request.
pub async fn load(
    auth: &Auth<'_>,
    stamp: &RequestStamp,
    timeouts: Timeouts,
    token: String,
) -> Result<Loaded, Failure> {
    let now = auth.clock.now();
    let found = auth
        .db
        .run(move |conn| Ok::<_, Failure>(session::find(conn, &token)?))
        .await?;
    let Some(mut current) = found else {
        return Ok(Loaded::SignIn(None));
    };
    let id = current.id;
    if current
        .expiry(now, timeouts.idle, timeouts.absolute)
        .is_some()
    {
        auth.db
            .run(move |conn| Ok::<_, Failure>(session::delete(conn, id)?))
            .await?;
        return Ok(Loaded::SignIn(Some("expiree")));
    }
    let mut new_token = None;
    if current.directory_is_stale(now) {
        let Some(uid) = AgentUid::parse(&current.agent.uid) else {
            return Ok(Loaded::SignIn(None));
        };
        let directory = auth.directory.clone();
        let fresh = tokio::task::spawn_blocking(move || directory.lookup(&uid))
            .await
            .map_err(|_| Failure::internal("blocking pool gone"))?;
        let ctx = Context::new(Actor::Agent(current.agent.uid.clone()), now).stamped(stamp.clone());
        let key = auth.key.clone();
        match fresh {
            Ok(None) => {
                auth.db
                    .run(move |conn| end_gone(conn, &key, &ctx, id))
                    .await?;
                return Ok(Loaded::SignIn(None));
            }
            Ok(Some(agent)) => {
                let (was, stored) = (current.agent.clone(), agent.clone());
                new_token = auth
                    .db
                    .run(move |conn| refresh(conn, &key, &ctx, id, &was, &stored))
                    .await?;
                current.agent = agent;
                current.directory_checked_at = now;
            }
            Err(DirectoryError::Unavailable(e)) => return Ok(Loaded::DirectoryDown(e)),
            Err(e) => return Err(Failure::internal(e.to_string())),
        }
    }
    if current.needs_touch(now) {
        auth.db
            .run(move |conn| Ok::<_, Failure>(session::touch(conn, id, now)?))
            .await?;
        current.last_seen_at = now;
    }
    Ok(Loaded::Proceed {
        session: Box::new(current),
        new_token,
    })
}

/// The agent is gone from the directory or disabled: his session ends, audited.
fn end_gone(conn: &mut DbConnection, key: &AppKey, ctx: &Context, id: i64) -> Result<(), Failure> {
    let event = rights_changed(ctx).details("gone from the directory or disabled: session ended");
    audit::audited(conn, key, ctx.now, |tx| -> Result<(), Failure> {
        session::delete(tx.conn(), id)?;
        tx.append(&event)?;
        Ok(())
    })
}

/// Stores the fresh directory data; a change of rights gives the session a new id (its new
/// cookie value), audited.
fn refresh(
    conn: &mut DbConnection,
    key: &AppKey,
    ctx: &Context,
    id: i64,
    was: &Agent,
    fresh: &Agent,
) -> Result<Option<String>, Failure> {
    let changed = fresh.attached != was.attached || fresh.responsible_for != was.responsible_for;
    let event = rights_changed(ctx).details(format!(
        "attached: {} → {}; responsible: {} → {}",
        uai_list(&was.attached),
        uai_list(&fresh.attached),
        uai_list(&was.responsible_for),
        uai_list(&fresh.responsible_for)
    ));
    audit::audited(
        conn,
        key,
        ctx.now,
        |tx| -> Result<Option<String>, Failure> {
            session::refresh_agent(tx.conn(), id, fresh, ctx.now)?;
            if !changed {
                return Ok(None);
            }
            let token =
                session::rotate(tx.conn(), id).map_err(|e| Failure::internal(e.to_string()))?;
            tx.append(&event)?;
            Ok(Some(token))
        },
    )
}

fn rights_changed(ctx: &Context) -> audit::AuditEvent {
    let uid = ctx.actor.stored();
    ctx.event(AuditAction::AgentRightsChanged, Outcome::Success)
        .target("agent", uid)
}

fn uai_list(uais: &[Uai]) -> String {
    if uais.is_empty() {
        return "-".into();
    }
    uais.iter().map(Uai::as_str).collect::<Vec<_>>().join(",")
}

/// `1 session ended`, `2 sessions ended` (audit details and the operator's message).
pub fn sessions_ended(n: usize) -> String {
    if n == 1 {
        "1 session ended".into()
    } else {
        format!("{n} sessions ended")
    }
}

/// In one audited transaction: `first` (which says whether there was something to do), then
/// every session of `uid` ends, with the audit row of `action` (`agent.logout`,
/// `agent.disable`, `agent.totp_reset`). `None` when `first` found nothing to do.
pub(super) fn end_sessions_after(
    conn: &mut DbConnection,
    key: &AppKey,
    ctx: &Context,
    (action, uid): (AuditAction, &AgentUid),
    first: impl FnOnce(&mut DbConnection) -> diesel::QueryResult<bool>,
) -> Result<Option<usize>, Failure> {
    audit::audited(conn, key, ctx.now, |tx| -> Result<Option<usize>, Failure> {
        if !first(tx.conn())? {
            return Ok(None);
        }
        let ended = session::delete_all_of(tx.conn(), uid.as_str())?;
        let event = ctx.event(action, Outcome::Success).target("agent", uid);
        tx.append(&event.details(sessions_ended(ended)))?;
        Ok(Some(ended))
    })
}

/// Ends every session of `uid` at once (`agents logout`), audited; returns how many.
pub fn log_out_agent(
    conn: &mut DbConnection,
    key: &AppKey,
    ctx: &Context,
    uid: &AgentUid,
) -> Result<usize, Failure> {
    let ended = end_sessions_after(conn, key, ctx, (AuditAction::AgentLogout, uid), |_| {
        Ok(true)
    })?;
    Ok(ended.unwrap_or_default())
}

/// Disables a local agent: he can no longer sign in and his sessions end at once, audited.
/// `None` when the local directory has no such agent.
pub fn disable_agent(
    conn: &mut DbConnection,
    key: &AppKey,
    ctx: &Context,
    uid: &AgentUid,
) -> Result<Option<usize>, Failure> {
    end_sessions_after(conn, key, ctx, (AuditAction::AgentDisable, uid), |conn| {
        crate::directory::local::disable_agent(conn, uid.as_str(), ctx.now)
    })
}
