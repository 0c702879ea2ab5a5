//! `educt-admin agents …`: the local staff directory. Passwords come from standard input
//! or a prompt, never from the command line. Every change is audited as `cli:<os user>`.

use std::io::{BufRead, IsTerminal};

use clap::Subcommand;
use diesel::prelude::*;
use secrecy::{ExposeSecret, SecretString};

use crate::audit::{self, AuditAction, AuditEvent, Outcome, cli_actor};
use crate::auth::password::hash_password;
use crate::db::DbConnection;
use crate::db::schema::agents;
use crate::directory::local::{Role, agent_id, insert_agent, link, list_agents, unlink};
use crate::domain::AgentUid;
use crate::domain::Uai;
use crate::secrets::AppKey;
use crate::usecases::sessions::{self, sessions_ended};
use crate::usecases::{Actor, Context, Failure, totp};

pub const MIN_PASSWORD_CHARS: usize = 12;

#[derive(Debug, Subcommand)]
pub enum AgentsCommand {
    /// Add an agent; the password is read from standard input (or asked twice on a terminal).
    Add {
        uid: String,
        /// Display name, e.g. "Claire Perrin".
        #[arg(long)]
        name: String,
        #[arg(long)]
        mail: Option<String>,
        /// UAI of an establishment he works in (repeatable).
        #[arg(long = "attach", value_name = "UAI")]
        attach: Vec<String>,
        /// UAI of an establishment he is principal of (repeatable).
        #[arg(long = "responsible", value_name = "UAI")]
        responsible: Vec<String>,
        /// UAI of an establishment whose direction he belongs to, as a deputy head
        /// (repeatable; attaches him there too).
        #[arg(long = "direction", value_name = "UAI")]
        direction: Vec<String>,
    },
    /// Set an agent's password (read from standard input or asked twice on a terminal).
    Passwd { uid: String },
    /// List the agents with their establishments.
    List,
    /// Disable an agent: he can no longer sign in, and his open sessions end at once.
    Disable { uid: String },
    /// Forget an agent's TOTP authenticator (a lost phone): he enrols again. His open
    /// sessions end at once, with the TOTP passes they held.
    ResetTotp { uid: String },
    /// End every open session of an agent (local or LDAP directory) at once.
    Logout { uid: String },
    /// Attach an agent to an establishment (as staff, with --responsible as principal, with
    /// --direction as a deputy head, which attaches him too).
    Attach {
        uid: String,
        uai: String,
        #[arg(long, conflicts_with = "direction")]
        responsible: bool,
        #[arg(long)]
        direction: bool,
    },
    /// Detach an agent from an establishment (as staff, which also ends a direction there;
    /// with --responsible or --direction, only that role).
    Detach {
        uid: String,
        uai: String,
        #[arg(long, conflicts_with = "direction")]
        responsible: bool,
        #[arg(long)]
        direction: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum AgentsError {
    #[error("{0}")]
    Invalid(String),
    #[error("no agent {0}")]
    UnknownAgent(String),
    #[error("agent {0} already exists")]
    Exists(String),
    #[error("cannot read the password: {0}")]
    Input(String),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error("{0}")]
    Failed(#[from] Failure),
}

fn parse_uid(uid: &str) -> Result<AgentUid, AgentsError> {
    AgentUid::parse(uid).ok_or_else(|| {
        AgentsError::Invalid(format!(
            "invalid uid {uid:?}: use letters, digits and . _ - @"
        ))
    })
}

fn parse_uais(values: &[String]) -> Result<Vec<Uai>, AgentsError> {
    values
        .iter()
        .map(|v| Uai::parse(v).map_err(|e| AgentsError::Invalid(format!("{v}: {e}"))))
        .collect()
}

/// Reads the new password: twice with a hidden prompt on a terminal, else one line of stdin.
fn read_password() -> Result<SecretString, AgentsError> {
    let input = |e: std::io::Error| AgentsError::Input(e.to_string());
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Mot de passe : ").map_err(input)?;
        let second = rpassword::prompt_password("Confirmation : ").map_err(input)?;
        if first != second {
            return Err(AgentsError::Invalid("the two passwords differ".into()));
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(input)?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    let password = SecretString::from(password);
    if password.expose_secret().trim().chars().count() < MIN_PASSWORD_CHARS {
        return Err(AgentsError::Invalid(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(password)
}

fn hash(password: &SecretString) -> Result<String, AgentsError> {
    hash_password(password).map_err(|e| AgentsError::Input(e.to_string()))
}

fn require_agent(conn: &mut DbConnection, uid: &AgentUid) -> Result<i64, AgentsError> {
    agent_id(conn, uid.as_str())?.ok_or_else(|| AgentsError::UnknownAgent(uid.to_string()))
}

/// Runs one `agents` command; returns what to print.
pub fn run(
    conn: &mut DbConnection,
    key: &AppKey,
    now: chrono::DateTime<chrono::Utc>,
    command: AgentsCommand,
) -> Result<String, AgentsError> {
    let mut op = Op { conn, key, now };
    match command {
        AgentsCommand::Add {
            uid,
            name,
            mail,
            attach,
            responsible,
            direction,
        } => {
            let links = Links {
                attached: parse_uais(&attach)?,
                responsible: parse_uais(&responsible)?,
                direction: parse_uais(&direction)?,
            };
            op.add(&parse_uid(&uid)?, &name, mail.as_deref(), links)
        }
        AgentsCommand::Passwd { uid } => op.passwd(&parse_uid(&uid)?),
        AgentsCommand::List => op.list(),
        AgentsCommand::Disable { uid } => {
            let uid = parse_uid(&uid)?;
            let ended = sessions::disable_agent(op.conn, key, &operator(now), &uid)?
                .ok_or_else(|| AgentsError::UnknownAgent(uid.to_string()))?;
            Ok(format!("agent {uid} disabled; {}", sessions_ended(ended)))
        }
        AgentsCommand::ResetTotp { uid } => {
            let uid = parse_uid(&uid)?;
            let Some(ended) = totp::reset(op.conn, key, &operator(now), &uid)? else {
                return Err(AgentsError::Invalid(format!(
                    "{uid} has no TOTP authenticator"
                )));
            };
            Ok(format!(
                "TOTP authenticator of {uid} removed ({}): he enrols again at his next parents' access",
                sessions_ended(ended)
            ))
        }
        AgentsCommand::Logout { uid } => {
            let uid = parse_uid(&uid)?;
            let ended = sessions::log_out_agent(op.conn, key, &operator(now), &uid)?;
            Ok(format!("{uid}: {}", sessions_ended(ended)))
        }
        AgentsCommand::Attach {
            uid,
            uai,
            responsible,
            direction,
        } => {
            let role = role_of(responsible, direction);
            op.relink(&parse_uid(&uid)?, &parse_uai(&uai)?, role, true)
        }
        AgentsCommand::Detach {
            uid,
            uai,
            responsible,
            direction,
        } => {
            let role = role_of(responsible, direction);
            op.relink(&parse_uid(&uid)?, &parse_uai(&uai)?, role, false)
        }
    }
}

/// The role a link command is about (clap refuses both flags at once).
fn role_of(responsible: bool, direction: bool) -> Role {
    match (responsible, direction) {
        (true, _) => Role::Responsible,
        (_, true) => Role::Direction,
        _ => Role::Attached,
    }
}

/// The links of a new agent. A direction holds only where he is attached: each of its UAIs
/// is added to his attachments.
struct Links {
    attached: Vec<Uai>,
    responsible: Vec<Uai>,
    direction: Vec<Uai>,
}

impl Links {
    fn by_role(mut self) -> [(Role, Vec<Uai>); 3] {
        for uai in &self.direction {
            if !self.attached.contains(uai) {
                self.attached.push(uai.clone());
            }
        }
        [
            (Role::Attached, self.attached),
            (Role::Responsible, self.responsible),
            (Role::Direction, self.direction),
        ]
    }
}

fn parse_uai(value: &str) -> Result<Uai, AgentsError> {
    Uai::parse(value).map_err(|e| AgentsError::Invalid(e.to_string()))
}

fn event(action: AuditAction, uid: &AgentUid) -> AuditEvent {
    AuditEvent::new(cli_actor(), action, Outcome::Success).target("agent", uid)
}

fn joined(uais: &[Uai]) -> String {
    uais.iter().map(Uai::as_str).collect::<Vec<_>>().join(",")
}

/// One command's connection, key and instant.
struct Op<'a> {
    conn: &'a mut DbConnection,
    key: &'a AppKey,
    now: chrono::DateTime<chrono::Utc>,
}

impl Op<'_> {
    fn add(
        &mut self,
        uid: &AgentUid,
        name: &str,
        mail: Option<&str>,
        links: Links,
    ) -> Result<String, AgentsError> {
        let name = crate::domain::PersonName::parse(name)
            .map_err(|e| AgentsError::Invalid(e.to_string()))?;
        if agent_id(self.conn, uid.as_str())?.is_some() {
            return Err(AgentsError::Exists(uid.to_string()));
        }
        let hash = hash(&read_password()?)?;
        let links = links.by_role();
        let details = links
            .iter()
            .map(|(role, uais)| format!("{}={}", role.as_str(), joined(uais)))
            .collect::<Vec<_>>()
            .join(" ");
        let now = self.now;
        audit::audited(self.conn, self.key, now, |tx| -> Result<(), AgentsError> {
            let id = insert_agent(tx.conn(), uid, name.as_str(), mail, &hash, now)?;
            for (role, uais) in &links {
                for uai in uais {
                    link(tx.conn(), id, uai, *role)?;
                }
            }
            tx.append(&event(AuditAction::AgentCreate, uid).details(details))?;
            Ok(())
        })?;
        Ok(format!("agent {uid} added"))
    }

    fn passwd(&mut self, uid: &AgentUid) -> Result<String, AgentsError> {
        let id = require_agent(self.conn, uid)?;
        let hash = hash(&read_password()?)?;
        let now = self.now;
        audit::audited(self.conn, self.key, now, |tx| -> Result<(), AgentsError> {
            diesel::update(agents::table.filter(agents::id.eq(id)))
                .set((
                    agents::password_hash.eq(Some(&hash)),
                    agents::updated_at.eq(crate::clock::db_instant(now)),
                ))
                .execute(tx.conn())?;
            tx.append(&event(AuditAction::AgentPasswordSet, uid))?;
            Ok(())
        })?;
        Ok(format!("password of {uid} set"))
    }

    fn list(&mut self) -> Result<String, AgentsError> {
        let mut out = String::from("uid\tname\tstate\tattached\tresponsible\tdirection\n");
        for a in list_agents(self.conn)? {
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\n",
                a.uid,
                a.display_name,
                if a.disabled { "disabled" } else { "active" },
                a.attached.join(","),
                a.responsible.join(","),
                a.direction.join(",")
            ));
        }
        Ok(out.trim_end_matches('\n').to_owned())
    }

    /// Adds (`attach`) or removes the link of `uid` to `uai` as `role`, audited. A direction
    /// holds only where he is attached: attaching one attaches him, detaching him ends it.
    fn relink(
        &mut self,
        uid: &AgentUid,
        uai: &Uai,
        role: Role,
        attach: bool,
    ) -> Result<String, AgentsError> {
        let id = require_agent(self.conn, uid)?;
        let (action, roles) = match (attach, role) {
            (true, Role::Direction) => (AuditAction::AgentAttach, vec![Role::Attached, role]),
            (true, _) => (AuditAction::AgentAttach, vec![role]),
            (false, Role::Attached) => (AuditAction::AgentDetach, vec![role, Role::Direction]),
            (false, _) => (AuditAction::AgentDetach, vec![role]),
        };
        let changed = audit::audited(self.conn, self.key, self.now, |tx| {
            let mut changed = Vec::new();
            for r in roles {
                if attach {
                    link(tx.conn(), id, uai, r)?;
                } else if unlink(tx.conn(), id, uai, r)? == 0 {
                    continue;
                }
                changed.push(r.as_str());
            }
            if !changed.is_empty() {
                let details = changed.join(",");
                tx.append(&event(action, uid).uai(uai.as_str()).details(details))?;
            }
            Ok::<_, AgentsError>(changed)
        })?;
        let role = role.as_str();
        match (attach, changed.as_slice()) {
            (true, _) => Ok(format!("{uid} {role} {uai}")),
            (false, []) => Err(AgentsError::Invalid(format!("{uid} is not {role} {uai}"))),
            (false, [_]) => Ok(format!("{uid} no longer {role} {uai}")),
            (false, _) => Ok(format!("{uid} no longer {} {uai}", changed.join(" nor "))),
        }
    }
}

/// The audit context of the operator running this command.
fn operator(now: chrono::DateTime<chrono::Utc>) -> Context {
    Context::new(Actor::cli_operator(), now)
}
