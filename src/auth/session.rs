//! Server-side sessions (BRIEF rule 12): the cookie carries a random 256-bit id, the
//! database its SHA-256 and the agent's directory data with the time it was read.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::random_token;
use crate::clock::db_instant;
use crate::db::DbConnection;
use crate::db::decode::{Listed, Maybe, UtcStamp};
use crate::db::schema::sessions;
use crate::domain::{Agent, Uai};

pub const COOKIE_NAME: &str = "__Host-educt-session";
/// Directory data this old is read again (BRIEF rule 2): an agent who loses his
/// responsibility or attachment, or is disabled, loses his rights within a minute.
pub const DIRECTORY_MAX_AGE_SECS: i64 = 60;
/// `last_seen_at` is written at most this often.
pub const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error("the operating system's random generator failed")]
    Random,
}

/// The SHA-256 of a cookie value, as stored.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> Result<String, SessionError> {
    random_token(32).map_err(|_| SessionError::Random)
}

/// A session as loaded for a request.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub agent: Agent,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub directory_checked_at: DateTime<Utc>,
    pub totp_verified_at: Option<DateTime<Utc>>,
    /// How it was opened: a password, or an ENT connector and the provider's session.
    pub origin: Origin,
    /// When the agent last proved himself again at the provider (SSO sessions).
    pub reauthenticated_at: Option<DateTime<Utc>>,
}

/// Why a session is no longer valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Idle,
    Absolute,
}

impl Session {
    pub fn expiry(&self, now: DateTime<Utc>, idle: Duration, absolute: Duration) -> Option<Expiry> {
        if now - self.created_at >= absolute {
            Some(Expiry::Absolute)
        } else if now - self.last_seen_at >= idle {
            Some(Expiry::Idle)
        } else {
            None
        }
    }

    pub fn directory_is_stale(&self, now: DateTime<Utc>) -> bool {
        now - self.directory_checked_at >= Duration::seconds(DIRECTORY_MAX_AGE_SECS)
    }

    pub fn needs_touch(&self, now: DateTime<Utc>) -> bool {
        now - self.last_seen_at >= Duration::seconds(TOUCH_EVERY_SECS)
    }
}

fn join_uais(uais: &[Uai]) -> String {
    uais.iter().map(Uai::as_str).collect::<Vec<_>>().join(" ")
}

/// Creates a password session for `agent`; returns the cookie value and the session.
pub fn create(
    conn: &mut DbConnection,
    agent: &Agent,
    now: DateTime<Utc>,
) -> Result<(String, Session), SessionError> {
    create_via(conn, agent, now, &Origin::PASSWORD)
}

/// Creates a session for `agent` opened through `origin`.
pub fn create_via(
    conn: &mut DbConnection,
    agent: &Agent,
    now: DateTime<Utc>,
    origin: &Origin,
) -> Result<(String, Session), SessionError> {
    let token = new_token()?;
    let csrf = new_token()?;
    let at = db_instant(now);
    let id = diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(hash_token(&token)),
            sessions::agent_uid.eq(&agent.uid),
            sessions::display_name.eq(&agent.display_name),
            sessions::mail.eq(&agent.mail),
            sessions::attached.eq(join_uais(&agent.attached)),
            sessions::responsible.eq(join_uais(&agent.responsible_for)),
            sessions::csrf_token.eq(&csrf),
            sessions::created_at.eq(at),
            sessions::last_seen_at.eq(at),
            sessions::directory_checked_at.eq(at),
            sessions::via.eq(origin.via.stored()),
            sessions::sso_session.eq(&origin.provider_session),
            sessions::sso_subject.eq(&origin.provider_subject),
        ))
        .returning(sessions::id)
        .get_result(conn)?;
    let at = at.and_utc();
    Ok((
        token,
        Session {
            id,
            agent: agent.clone(),
            csrf_token: csrf,
            created_at: at,
            last_seen_at: at,
            directory_checked_at: at,
            totp_verified_at: None,
            origin: origin.clone(),
            reauthenticated_at: None,
        },
    ))
}

/// A `sessions` row (the agent's UAIs stored space-separated; one that does not decode
/// fails the read).
#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions)]
struct SessionRow {
    id: i64,
    agent_uid: String,
    display_name: String,
    mail: Option<String>,
    #[diesel(deserialize_as = Listed<' '>)]
    attached: Vec<Uai>,
    #[diesel(deserialize_as = Listed<' '>)]
    responsible: Vec<Uai>,
    csrf_token: String,
    #[diesel(deserialize_as = UtcStamp)]
    created_at: DateTime<Utc>,
    #[diesel(deserialize_as = UtcStamp)]
    last_seen_at: DateTime<Utc>,
    #[diesel(deserialize_as = UtcStamp)]
    directory_checked_at: DateTime<Utc>,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    totp_verified_at: Option<DateTime<Utc>>,
    via: Option<String>,
    sso_session: Option<String>,
    sso_subject: Option<String>,
    #[diesel(deserialize_as = Maybe<UtcStamp>)]
    reauthenticated_at: Option<DateTime<Utc>>,
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            id: r.id,
            agent: Agent {
                uid: r.agent_uid,
                display_name: r.display_name,
                mail: r.mail,
                attached: r.attached,
                responsible_for: r.responsible,
            },
            csrf_token: r.csrf_token,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            directory_checked_at: r.directory_checked_at,
            totp_verified_at: r.totp_verified_at,
            origin: Origin {
                via: Via::parse(r.via.as_deref()),
                provider_session: r.sso_session,
                provider_subject: r.sso_subject,
            },
            reauthenticated_at: r.reauthenticated_at,
        }
    }
}

/// The session of a cookie value, if any.
pub fn find(conn: &mut DbConnection, token: &str) -> QueryResult<Option<Session>> {
    let row = sessions::table
        .filter(sessions::token_hash.eq(hash_token(token)))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Session::from))
}

pub fn touch(conn: &mut DbConnection, id: i64, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(sessions::table.filter(sessions::id.eq(id)))
        .set(sessions::last_seen_at.eq(db_instant(now)))
        .execute(conn)
        .map(drop)
}

/// Stores fresh directory data.
pub fn refresh_agent(
    conn: &mut DbConnection,
    id: i64,
    agent: &Agent,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(sessions::table.filter(sessions::id.eq(id)))
        .set((
            sessions::display_name.eq(&agent.display_name),
            sessions::mail.eq(&agent.mail),
            sessions::attached.eq(join_uais(&agent.attached)),
            sessions::responsible.eq(join_uais(&agent.responsible_for)),
            sessions::directory_checked_at.eq(db_instant(now)),
        ))
        .execute(conn)
        .map(drop)
}

/// Gives the session a new id (privilege change); returns the new cookie value.
pub fn rotate(conn: &mut DbConnection, id: i64) -> Result<String, SessionError> {
    let token = new_token()?;
    diesel::update(sessions::table.filter(sessions::id.eq(id)))
        .set(sessions::token_hash.eq(hash_token(&token)))
        .execute(conn)?;
    Ok(token)
}

/// A TOTP check passed in this session now.
pub fn mark_totp(conn: &mut DbConnection, id: i64, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(sessions::table.filter(sessions::id.eq(id)))
        .set(sessions::totp_verified_at.eq(Some(db_instant(now))))
        .execute(conn)
        .map(drop)
}

/// A re-authentication at the provider starts for session `id` with the flow of `state`:
/// only that flow can mark the session (an earlier one of this session no longer can).
pub fn begin_reauthentication(conn: &mut DbConnection, id: i64, state: &str) -> QueryResult<()> {
    diesel::update(sessions::table.filter(sessions::id.eq(id)))
        .set(sessions::reauth_state.eq(Some(hash_token(state))))
        .execute(conn)
        .map(drop)
}

/// What a provider's answer to a re-authentication names: the session that started it (its
/// id, agent and connector, and the flow's `state`), and for OIDC the provider's new session
/// id and the person's subject.
pub struct Reauthenticated<'a> {
    pub id: i64,
    pub uid: &'a str,
    pub via: Via,
    pub state: &'a str,
    pub sid: Option<&'a str>,
    pub sub: Option<&'a str>,
}

/// The agent proved himself again at his provider now, through the flow this session started
/// last: the session is marked, the flow spent, and the provider's new session id replaces the
/// stored one (so that its logout still ends ours). The subject must be the one the session
/// was opened with. False when no session matches all of it (ended, another agent's, opened
/// otherwise, another flow or one already used, another subject).
pub fn mark_reauthenticated(
    conn: &mut DbConnection,
    r: &Reauthenticated<'_>,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let target = sessions::table
        .filter(sessions::id.eq(r.id))
        .filter(sessions::agent_uid.eq(r.uid))
        .filter(sessions::via.eq(r.via.stored()))
        .filter(sessions::reauth_state.eq(hash_token(r.state)));
    let at = Some(db_instant(now));
    let changed = match r.sub {
        Some(sub) => diesel::update(target.filter(sessions::sso_subject.eq(sub)))
            .set((
                sessions::reauthenticated_at.eq(at),
                sessions::reauth_state.eq(None::<String>),
                sessions::sso_session.eq(r.sid),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                sessions::reauthenticated_at.eq(at),
                sessions::reauth_state.eq(None::<String>),
            ))
            .execute(conn)?,
    };
    Ok(changed == 1)
}

/// Spends the re-authentication of session `id` made at `since` or later (an enrolment
/// starts): true when there was one. One statement, so two parallel enrolments cannot both
/// spend it.
pub fn spend_reauthentication(
    conn: &mut DbConnection,
    id: i64,
    since: DateTime<Utc>,
) -> QueryResult<bool> {
    let spent = diesel::update(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::reauthenticated_at.ge(db_instant(since))),
    )
    .set(sessions::reauthenticated_at.eq(None::<chrono::NaiveDateTime>))
    .execute(conn)?;
    Ok(spent == 1)
}

/// Ends the sessions a provider's back-channel logout names: those opened through `via`
/// with its session id `sid` (and its subject `sub` when it names both), or, when it names
/// no session, every one of its subject `sub`.
/// Returns the uids whose session ended.
pub fn delete_by_provider(
    conn: &mut DbConnection,
    via: Via,
    sid: Option<&str>,
    sub: Option<&str>,
) -> QueryResult<Vec<String>> {
    let mut query = sessions::table
        .filter(sessions::via.eq(via.stored()))
        .select((sessions::id, sessions::agent_uid))
        .into_boxed();
    query = match (sid, sub) {
        (Some(sid), Some(sub)) => query
            .filter(sessions::sso_session.eq(sid))
            .filter(sessions::sso_subject.eq(sub)),
        (Some(sid), None) => query.filter(sessions::sso_session.eq(sid)),
        (None, Some(sub)) => query.filter(sessions::sso_subject.eq(sub)),
        (None, None) => return Ok(Vec::new()),
    };
    let found: Vec<(i64, String)> = query.load(conn)?;
    let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    diesel::delete(sessions::table.filter(sessions::id.eq_any(ids))).execute(conn)?;
    Ok(found.into_iter().map(|(_, uid)| uid).collect())
}

/// Ends every session of `uid` (disabled, TOTP reset, `agents logout`): the TOTP passes
/// they hold go with them. Returns how many ended.
pub fn delete_all_of(conn: &mut DbConnection, uid: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::agent_uid.eq(uid))).execute(conn)
}

/// Ends the session whose cookie hashes to `hash` (an SSO sign-in replacing it).
pub fn delete_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<()> {
    diesel::delete(sessions::table.filter(sessions::token_hash.eq(hash)))
        .execute(conn)
        .map(drop)
}

pub fn delete(conn: &mut DbConnection, id: i64) -> QueryResult<()> {
    diesel::delete(sessions::table.filter(sessions::id.eq(id)))
        .execute(conn)
        .map(drop)
}

/// Deletes every session past its idle or absolute timeout (the housekeeping job).
pub fn purge_expired(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    idle: Duration,
    absolute: Duration,
) -> QueryResult<usize> {
    diesel::delete(
        sessions::table.filter(
            sessions::last_seen_at
                .le(db_instant(now - idle))
                .or(sessions::created_at.le(db_instant(now - absolute))),
        ),
    )
    .execute(conn)
}

#[path = "session_origin.rs"]
mod origin;
pub use origin::{Origin, Via};

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
