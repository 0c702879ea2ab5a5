//! The journal's names for what its rows store as codes: the people (pupils, parents,
//! agents) by their current records, the delegations by their grant day, the access paths.
//! Read once per page, a query per kind of record, never one per row.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;

use super::StoredEvent;
use crate::db::DbConnection;
use crate::db::schema::{
    agents, audit_events, delegations, establishments, parents, pupils, sessions,
};

/// How many keys one `IN (…)` holds (far under both databases' limits).
const CHUNK: usize = 500;

const PUPIL: &str = "eleve";
const PARENT: &str = "responsable";
const AGENT: &str = "agent";

/// A source of agents' names: (uid, name) for the uids asked.
type NameSource = fn(&mut DbConnection, Vec<String>) -> QueryResult<Vec<(String, String)>>;

/// Where an agent's name is looked for, in order: the local directory, then (a directory
/// agent) the name his sessions recorded, then the one his delegations recorded; the
/// newest of each wins.
const AGENT_NAMES: [NameSource; 3] = [local_names, session_names, grantee_names];

fn local_names(conn: &mut DbConnection, uids: Vec<String>) -> QueryResult<Vec<(String, String)>> {
    agents::table
        .filter(agents::uid.eq_any(uids))
        .select((agents::uid, agents::display_name))
        .load(conn)
}

fn session_names(conn: &mut DbConnection, uids: Vec<String>) -> QueryResult<Vec<(String, String)>> {
    sessions::table
        .select((sessions::agent_uid, sessions::display_name))
        .filter(sessions::agent_uid.eq_any(uids))
        .order(sessions::last_seen_at)
        .load(conn)
}

fn grantee_names(conn: &mut DbConnection, uids: Vec<String>) -> QueryResult<Vec<(String, String)>> {
    let granted = delegations::table.filter(delegations::grantee_uid.eq_any(uids));
    granted
        .order(delegations::granted_at)
        .select((delegations::grantee_uid, delegations::grantee_name))
        .load(conn)
}

/// The names a set of rows needs.
#[derive(Debug, Default)]
pub struct Names {
    pupils: HashMap<i64, String>,
    parents: HashMap<i64, String>,
    /// Purged accounts: the identifiant an older row of theirs names (`compte:…`).
    gone: HashMap<(String, i64), String>,
    agents: HashMap<String, String>,
    delegations: HashMap<i64, (String, String)>,
    establishments: HashMap<String, String>,
}

/// "Jules ÉLUARD (j.eluard2, 3A)".
fn person(first: &str, last: &str, identifiant: &str, division: Option<&str>) -> String {
    let last = last.to_uppercase();
    match division {
        Some(d) => format!("{first} {last} ({identifiant}, {d})"),
        None => format!("{first} {last} ({identifiant})"),
    }
}

/// Runs `load` over `keys` a chunk at a time.
fn chunked<K: Clone, T>(
    conn: &mut DbConnection,
    keys: &HashSet<K>,
    mut load: impl FnMut(&mut DbConnection, Vec<K>) -> QueryResult<Vec<T>>,
) -> QueryResult<Vec<T>> {
    let keys: Vec<K> = keys.iter().cloned().collect();
    let mut out = Vec::new();
    for chunk in keys.chunks(CHUNK) {
        out.extend(load(conn, chunk.to_vec())?);
    }
    Ok(out)
}

/// The ids of the rows' targets of `kind`.
fn target_ids(rows: &[StoredEvent], kind: &str) -> HashSet<i64> {
    rows.iter()
        .filter(|r| r.event.target_kind.as_deref() == Some(kind))
        .filter_map(|r| r.event.target_id.as_deref()?.parse().ok())
        .collect()
}

impl Names {
    pub fn load(conn: &mut DbConnection, rows: &[StoredEvent], tz: Tz) -> QueryResult<Self> {
        let mut names = Names::default();
        names.load_accounts(conn, rows)?;
        names.load_agents(conn, rows)?;
        let ids: HashSet<i64> = rows
            .iter()
            .filter_map(|r| r.event.delegation_id)
            .chain(target_ids(rows, "delegation"))
            .collect();
        let found: Vec<(i64, NaiveDateTime, String)> = chunked(conn, &ids, |c, k| {
            delegations::table
                .filter(delegations::id.eq_any(k))
                .select((
                    delegations::id,
                    delegations::granted_at,
                    delegations::grantee_name,
                ))
                .load(c)
        })?;
        for (id, at, grantee) in found {
            let day = Utc.from_utc_datetime(&at).with_timezone(&tz);
            names
                .delegations
                .insert(id, (day.format("%d/%m/%Y").to_string(), grantee));
        }
        let uais: HashSet<String> = rows
            .iter()
            .filter(|r| r.event.target_kind.as_deref() == Some("etablissement"))
            .filter_map(|r| r.event.target_id.clone())
            .collect();
        names.establishments = chunked(conn, &uais, |c, k| {
            establishments::table
                .filter(establishments::uai.eq_any(k))
                .select((establishments::uai, establishments::name))
                .load(c)
        })?
        .into_iter()
        .collect();
        Ok(names)
    }

    /// The pupils and parents the rows are about; a purged one by an older row's actor.
    fn load_accounts(&mut self, conn: &mut DbConnection, rows: &[StoredEvent]) -> QueryResult<()> {
        let ids = target_ids(rows, PUPIL);
        type Found = (i64, String, String, String, Option<String>);
        let found: Vec<Found> = chunked(conn, &ids, |c, k| {
            pupils::table
                .filter(pupils::id.eq_any(k))
                .select((
                    pupils::id,
                    pupils::first_name,
                    pupils::last_name,
                    pupils::identifiant,
                    pupils::division,
                ))
                .load(c)
        })?;
        for (id, first, last, identifiant, division) in found {
            let shown = person(&first, &last, &identifiant, division.as_deref());
            self.pupils.insert(id, shown);
        }
        let ids = target_ids(rows, PARENT);
        let found: Vec<(i64, String, String, String)> = chunked(conn, &ids, |c, k| {
            parents::table
                .filter(parents::id.eq_any(k))
                .select((
                    parents::id,
                    parents::first_name,
                    parents::last_name,
                    parents::identifiant,
                ))
                .load(c)
        })?;
        for (id, first, last, identifiant) in found {
            self.parents
                .insert(id, person(&first, &last, &identifiant, None));
        }
        for (kind, known) in [(PUPIL, &self.pupils), (PARENT, &self.parents)] {
            let missing: HashSet<String> = target_ids(rows, kind)
                .into_iter()
                .filter(|id| !known.contains_key(id))
                .map(|id| id.to_string())
                .collect();
            let holders: Vec<(Option<String>, String)> = chunked(conn, &missing, |c, k| {
                audit_events::table
                    .filter(audit_events::target_kind.eq(kind))
                    .filter(audit_events::target_id.eq_any(k))
                    .filter(audit_events::actor.like("compte:%"))
                    .select((audit_events::target_id, audit_events::actor))
                    .distinct()
                    .load(c)
            })?;
            for (id, actor) in holders {
                let (Some(id), Some(identifiant)) = (id, actor.strip_prefix("compte:")) else {
                    continue;
                };
                if let Ok(id) = id.parse() {
                    self.gone
                        .insert((kind.to_owned(), id), identifiant.to_owned());
                }
            }
        }
        Ok(())
    }

    /// The agents acting or acted on: the local directory's names, else the name their last
    /// session or a delegation to them recorded.
    fn load_agents(&mut self, conn: &mut DbConnection, rows: &[StoredEvent]) -> QueryResult<()> {
        let mut uids: HashSet<String> = rows
            .iter()
            .filter(|r| !r.event.actor.contains(':'))
            .map(|r| r.event.actor.clone())
            .collect();
        uids.extend(
            rows.iter()
                .filter(|r| r.event.target_kind.as_deref() == Some(AGENT))
                .filter_map(|r| r.event.target_id.clone()),
        );
        for source in AGENT_NAMES {
            let found = chunked(conn, &uids, source)?;
            let named = found
                .into_iter()
                .filter(|(_, name)| !name.trim().is_empty());
            self.agents.extend(named);
            uids.retain(|u| !self.agents.contains_key(u));
        }
        Ok(())
    }

    /// Who acted: an agent's name, or what the stored actor stands for.
    pub fn actor(&self, stored: &str) -> String {
        if let Some(user) = stored.strip_prefix("cli:") {
            return format!("ligne de commande ({user})");
        }
        if stored.starts_with("job:") {
            return "tâche automatique".into();
        }
        if stored.starts_with("compte:") {
            return "le titulaire du compte".into();
        }
        if let Some(client) = stored.strip_prefix("api:") {
            return format!("application {client} (API)");
        }
        if stored == "anonymous" {
            return "personne non identifiée".into();
        }
        self.agent(stored)
    }

    fn agent(&self, uid: &str) -> String {
        self.agents
            .get(uid)
            .cloned()
            .unwrap_or_else(|| uid.to_owned())
    }

    /// What a row is about, named.
    pub fn target(&self, kind: &str, id: &str) -> String {
        let number = id.parse::<i64>().ok();
        let account = |known: &HashMap<i64, String>, gone: &str| {
            let id = number?;
            let shown = known.get(&id).cloned().unwrap_or_else(|| {
                match self.gone.get(&(kind.to_owned(), id)) {
                    Some(identifiant) => format!("{identifiant} ({gone})"),
                    None => gone.to_owned(),
                }
            });
            Some(shown)
        };
        let named = match kind {
            PUPIL => account(&self.pupils, "élève supprimé"),
            PARENT => account(&self.parents, "responsable supprimé"),
            AGENT => Some(self.agent(id)),
            "delegation" => number
                .and_then(|n| self.delegations.get(&n))
                .map(|(day, grantee)| format!("délégation du {day} à {grantee}")),
            "lot" => Some(format!("lot de courriers n° {id}")),
            "etablissement" => Some(match self.establishments.get(id) {
                Some(name) => format!("{name} ({id})"),
                None => format!("établissement {id}"),
            }),
            "route" => Some(format!("page {id}")),
            _ => None,
        };
        named.unwrap_or_else(|| format!("{kind} {id}"))
    }

    /// « délégation du 02/12/2026 », for a delegation still recorded.
    pub fn delegation(&self, id: i64) -> String {
        match self.delegations.get(&id) {
            Some((day, _)) => format!("délégation du {day}"),
            None => format!("délégation n° {id}"),
        }
    }
}

/// The access path a row stored (the parents' gate, or the sign-in's way in).
pub fn gate_label(stored: &str) -> &str {
    match stored {
        "network" | "reseau" => "réseau administratif",
        "totp" => "code de l'application d'authentification",
        "cas" => "ENT (CAS)",
        "oidc" => "ENT (OpenID Connect)",
        "password" => "mot de passe",
        other => other,
    }
}
