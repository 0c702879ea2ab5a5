//! The local directory: agents in the database, passwords as argon2id.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use secrecy::SecretString;

use super::{Agent, AgentUid, Directory, DirectoryError, is_blank};
use crate::auth::password::{generate_password, hash_password, verify_password};
use crate::clock::db_instant;
use crate::db::schema::{agent_uais, agents};
use crate::db::{DbConnection, DbPool, PooledConn};
use crate::domain::{Uai, search_key};

pub struct LocalDirectory {
    pool: DbPool,
    /// Verified against when the uid is unknown, so that costs what a wrong password costs.
    dummy_hash: String,
}

impl LocalDirectory {
    pub fn new(pool: DbPool) -> Result<Self, DirectoryError> {
        let random = generate_password(24).map_err(|e| DirectoryError::Config(e.to_string()))?;
        let dummy_hash =
            hash_password(&random).map_err(|e| DirectoryError::Config(e.to_string()))?;
        Ok(Self { pool, dummy_hash })
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
    fn authenticate(
        &self,
        uid: &AgentUid,
        password: &SecretString,
    ) -> Result<Agent, DirectoryError> {
        if is_blank(password) {
            return Err(DirectoryError::InvalidCredentials("blank password"));
        }
        let mut conn = self.conn()?;
        let row: Option<(i64, Option<String>, bool)> = agents::table
            .filter(agents::uid.eq(uid.as_str()))
            .select((agents::id, agents::password_hash, agents::disabled))
            .first(&mut conn)
            .optional()
            .map_err(unavailable)?;
        let (hash, refusal) = match &row {
            None => (self.dummy_hash.as_str(), Some("unknown uid")),
            Some((_, None, _)) => (self.dummy_hash.as_str(), Some("no password set")),
            Some((_, Some(h), true)) => (h.as_str(), Some("disabled account")),
            Some((_, Some(h), false)) => (h.as_str(), None),
        };
        let matches = verify_password(password, hash).unwrap_or(false);
        if let Some(reason) = refusal {
            return Err(DirectoryError::InvalidCredentials(reason));
        }
        if !matches {
            return Err(DirectoryError::InvalidCredentials("wrong password"));
        }
        load_agent(&mut conn, uid.as_str())
            .map_err(unavailable)?
            .ok_or(DirectoryError::InvalidCredentials("unknown uid"))
    }

    fn lookup(&self, uid: &AgentUid) -> Result<Option<Agent>, DirectoryError> {
        let mut conn = self.conn()?;
        load_agent(&mut conn, uid.as_str()).map_err(unavailable)
    }

    fn search_staff(
        &self,
        uai: &Uai,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<Agent>, DirectoryError> {
        let mut conn = self.conn()?;
        let uids: Vec<String> = agents::table
            .inner_join(agent_uais::table)
            .filter(agent_uais::uai.eq(uai.as_str()))
            .filter(agent_uais::role.eq("attached"))
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
        found.sort_by_cached_key(|a| search_key(&a.display_name));
        found.truncate(limit);
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
    let links: Vec<(String, String)> = agent_uais::table
        .filter(agent_uais::agent_id.eq(id))
        .select((agent_uais::uai, agent_uais::role))
        .order(agent_uais::uai)
        .load(conn)?;
    let pick = |role: &str| -> Vec<Uai> {
        links
            .iter()
            .filter(|(_, r)| r == role)
            .filter_map(|(u, _)| Uai::parse(u).ok())
            .collect()
    };
    Ok(Some(Agent {
        uid: uid.to_owned(),
        display_name,
        mail,
        attached: pick("attached"),
        responsible_for: pick("responsible"),
    }))
}

/// Row of `agents list`.
#[derive(Debug, Clone)]
pub struct AgentListing {
    pub uid: String,
    pub display_name: String,
    pub disabled: bool,
    pub attached: Vec<String>,
    pub responsible: Vec<String>,
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
    let links: Vec<(i64, String, String)> = agent_uais::table
        .order(agent_uais::uai)
        .select((agent_uais::agent_id, agent_uais::uai, agent_uais::role))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, uid, display_name, disabled)| {
            let of = |role: &str| {
                links
                    .iter()
                    .filter(|(a, _, r)| *a == id && r == role)
                    .map(|(_, u, _)| u.clone())
                    .collect()
            };
            AgentListing {
                uid,
                display_name,
                disabled,
                attached: of("attached"),
                responsible: of("responsible"),
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

/// The role column of `agent_uais`.
pub fn role_name(responsible: bool) -> &'static str {
    if responsible {
        "responsible"
    } else {
        "attached"
    }
}
