//! The local directory: agents in the database, passwords as argon2id.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use secrecy::SecretString;

use crate::domain::{Agent, AgentUid};

use super::{Directory, DirectoryError};
use crate::auth::password::{PasswordError, verify_password};
use crate::clock::db_instant;
use crate::db::schema::{agent_uais, agents};
use crate::db::{DbConnection, DbPool, PooledConn};
use crate::domain::{Uai, search_key, stored_code};

/// Verified against when the account is unknown or has no password, so that costs what a
/// wrong password costs: an argon2id hash with the production parameters (m = 19 MiB,
/// t = 2, p = 1) of a random password nobody knows.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$ZnDW/JLZ5XHP35Xbko/yIg$tvg2dqHJSkEi7Xls2S8rcTg4eXotZHIHj3BSG1jcF6Y";

pub struct LocalDirectory {
    pool: DbPool,
    /// argon2 verifications run by `authenticate` (one per attempt, known uid or not).
    verifications: AtomicU64,
}

impl LocalDirectory {
    pub fn new(pool: DbPool) -> Result<Self, DirectoryError> {
        Ok(Self {
            pool,
            verifications: AtomicU64::new(0),
        })
    }

    /// How many argon2 verifications `authenticate` has run: one per non-blank attempt,
    /// whether the uid exists or not.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    fn conn(&self) -> Result<PooledConn, DirectoryError> {
        self.pool
            .get()
            .map_err(|e| DirectoryError::Unavailable(e.to_string()))
    }
}

fn unavailable(e: diesel::result::Error) -> DirectoryError {
    DirectoryError::Unavailable(e.to_string())
}

impl Directory for LocalDirectory {
    fn check_credentials(
        &self,
        uid: &AgentUid,
        password: &SecretString,
    ) -> Result<Agent, DirectoryError> {
        // Read everything first: no pool connection is held while hashing.
        let (row, agent) = {
            let mut conn = self.conn()?;
            let row: Option<(Option<String>, bool)> = agents::table
                .filter(agents::uid.eq(uid.as_str()))
                .select((agents::password_hash, agents::disabled))
                .first(&mut conn)
                .optional()
                .map_err(unavailable)?;
            let agent = match &row {
                Some((Some(_), false)) => {
                    load_agent(&mut conn, uid.as_str()).map_err(unavailable)?
                }
                _ => None,
            };
            (row, agent)
        };
        let (hash, refusal) = match &row {
            None => (DUMMY_HASH, Some("unknown uid")),
            Some((None, _)) => (DUMMY_HASH, Some("no password set")),
            Some((Some(h), true)) => (h.as_str(), Some("disabled account")),
            Some((Some(h), false)) => (h.as_str(), None),
        };
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let matches = match verify_password(password, hash) {
            Ok(m) => m,
            Err(PasswordError::Busy) => return Err(DirectoryError::Busy),
            Err(_) => false,
        };
        if let Some(reason) = refusal {
            return Err(DirectoryError::InvalidCredentials(reason));
        }
        if !matches {
            return Err(DirectoryError::InvalidCredentials("wrong password"));
        }
        agent.ok_or(DirectoryError::InvalidCredentials("unknown uid"))
    }

    fn lookup(&self, uid: &AgentUid) -> Result<Option<Agent>, DirectoryError> {
        let mut conn = self.conn()?;
        load_agent(&mut conn, uid.as_str()).map_err(unavailable)
    }

    fn staff_matching(&self, uai: &Uai, prefix: &str) -> Result<Vec<Agent>, DirectoryError> {
        let mut conn = self.conn()?;
        let uids: Vec<String> = agents::table
            .inner_join(agent_uais::table)
            .filter(agent_uais::uai.eq(uai.as_str()))
            .filter(agent_uais::role.eq(Role::Attached.as_str()))
            .filter(agents::disabled.eq(false))
            .select(agents::uid)
            .distinct()
            .load(&mut conn)
            .map_err(unavailable)?;
        let wanted = search_key(prefix);
        if wanted.is_empty() && !prefix.trim().is_empty() {
            // Only punctuation was typed: it names nobody.
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        for uid in uids {
            if let Some(agent) = load_agent(&mut conn, &uid).map_err(unavailable)?
                && name_matches(&agent, &wanted)
            {
                found.push(agent);
            }
        }
        Ok(found)
    }
}

/// Whether any word of the display name, or the uid, starts with `wanted` (a search key).
pub fn name_matches(agent: &Agent, wanted: &str) -> bool {
    if wanted.is_empty() {
        return true;
    }
    let name = search_key(&agent.display_name);
    name.starts_with(wanted)
        || name.split(' ').any(|w| w.starts_with(wanted))
        || agent.uid.to_ascii_lowercase().starts_with(wanted)
}

/// The agent with his UAIs, unless unknown or disabled.
pub fn load_agent(conn: &mut DbConnection, uid: &str) -> QueryResult<Option<Agent>> {
    let row: Option<(i64, String, Option<String>)> = agents::table
        .filter(agents::uid.eq(uid))
        .filter(agents::disabled.eq(false))
        .select((agents::id, agents::display_name, agents::mail))
        .first(conn)
        .optional()?;
    let Some((id, display_name, mail)) = row else {
        return Ok(None);
    };
    let links: Vec<Link> = agent_uais::table
        .filter(agent_uais::agent_id.eq(id))
        .order(agent_uais::uai)
        .select(Link::as_select())
        .load(conn)?;
    let mut agent = Agent {
        uid: uid.to_owned(),
        display_name,
        mail,
        attached: uais_as(&links, id, Role::Attached).cloned().collect(),
        responsible_for: uais_as(&links, id, Role::Responsible).cloned().collect(),
    };
    for uai in uais_as(&links, id, Role::Direction) {
        agent.add_direction_on_attachment(uai);
    }
    Ok(Some(agent))
}

/// What an agent is to an establishment (`agent_uais.role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Staff of the establishment.
    Attached,
    /// Its principal.
    Responsible,
    /// Direction staff by function (a deputy head): counts only where he is also attached.
    Direction,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Attached, Role::Responsible, Role::Direction];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Attached => "attached",
            Role::Responsible => "responsible",
            Role::Direction => "direction",
        }
    }

    fn parse(stored: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.as_str() == stored)
    }
}

stored_code!(Role, "agent role");

/// A row of `agent_uais`: a stored UAI or role that does not decode fails the read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = agent_uais)]
struct Link {
    agent_id: i64,
    #[diesel(deserialize_as = String)]
    uai: Uai,
    #[diesel(deserialize_as = String)]
    role: Role,
}

/// The UAIs `agent` is linked to as `role`, in the links' order.
fn uais_as(links: &[Link], agent: i64, role: Role) -> impl Iterator<Item = &Uai> {
    links
        .iter()
        .filter(move |l| l.agent_id == agent && l.role == role)
        .map(|l| &l.uai)
}

/// Row of `agents list`.
#[derive(Debug, Clone)]
pub struct AgentListing {
    pub uid: String,
    pub display_name: String,
    pub disabled: bool,
    pub attached: Vec<String>,
    pub responsible: Vec<String>,
    pub direction: Vec<String>,
}

pub fn list_agents(conn: &mut DbConnection) -> QueryResult<Vec<AgentListing>> {
    let rows: Vec<(i64, String, String, bool)> = agents::table
        .order(agents::uid)
        .select((
            agents::id,
            agents::uid,
            agents::display_name,
            agents::disabled,
        ))
        .load(conn)?;
    let links: Vec<Link> = agent_uais::table
        .order(agent_uais::uai)
        .select(Link::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, uid, display_name, disabled)| {
            let of = |role| uais_as(&links, id, role).map(Uai::to_string).collect();
            AgentListing {
                uid,
                display_name,
                disabled,
                attached: of(Role::Attached),
                responsible: of(Role::Responsible),
                direction: of(Role::Direction),
            }
        })
        .collect())
}

pub fn agent_id(conn: &mut DbConnection, uid: &str) -> QueryResult<Option<i64>> {
    agents::table
        .filter(agents::uid.eq(uid))
        .select(agents::id)
        .first(conn)
        .optional()
}

pub fn insert_agent(
    conn: &mut DbConnection,
    uid: &AgentUid,
    display_name: &str,
    mail: Option<&str>,
    password_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    let at = db_instant(now);
    diesel::insert_into(agents::table)
        .values((
            agents::uid.eq(uid.as_str()),
            agents::display_name.eq(display_name),
            agents::mail.eq(mail),
            agents::password_hash.eq(Some(password_hash)),
            agents::disabled.eq(false),
            agents::created_at.eq(at),
            agents::updated_at.eq(at),
        ))
        .returning(agents::id)
        .get_result(conn)
}

/// Disables a local agent; `false` when there is none of that uid.
pub fn disable_agent(conn: &mut DbConnection, uid: &str, now: DateTime<Utc>) -> QueryResult<bool> {
    let n = diesel::update(agents::table.filter(agents::uid.eq(uid)))
        .set((
            agents::disabled.eq(true),
            agents::updated_at.eq(db_instant(now)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Inserts an agent–UAI link unless it is there already.
pub fn link(conn: &mut DbConnection, id: i64, uai: &Uai, role: Role) -> QueryResult<()> {
    let exists: i64 = agent_uais::table
        .filter(agent_uais::agent_id.eq(id))
        .filter(agent_uais::uai.eq(uai.as_str()))
        .filter(agent_uais::role.eq(role.as_str()))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        diesel::insert_into(agent_uais::table)
            .values((
                agent_uais::agent_id.eq(id),
                agent_uais::uai.eq(uai.as_str()),
                agent_uais::role.eq(role.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Removes an agent–UAI link; how many rows went (0 or 1).
pub fn unlink(conn: &mut DbConnection, id: i64, uai: &Uai, role: Role) -> QueryResult<usize> {
    diesel::delete(
        agent_uais::table
            .filter(agent_uais::agent_id.eq(id))
            .filter(agent_uais::uai.eq(uai.as_str()))
            .filter(agent_uais::role.eq(role.as_str())),
    )
    .execute(conn)
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::phc::PasswordHash;
    use secrecy::SecretString;

    use super::*;

    #[test]
    fn the_dummy_hash_costs_a_full_verification_with_production_parameters() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let real =
            crate::auth::password::hash_password(&SecretString::from("x".to_owned())).unwrap();
        let params = |phc: &str| phc.split('$').nth(3).unwrap().to_owned();
        assert_eq!(
            params(DUMMY_HASH),
            params(&real),
            "the production parameters"
        );
        // Well-formed: verifying runs argon2 (a malformed hash would return at once).
        assert!(!verify_password(&SecretString::from("devine".to_owned()), DUMMY_HASH).unwrap());
    }
}
