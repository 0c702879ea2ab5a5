//! The rules a grant must satisfy besides the rights (`docs/delegation-model.md`), checked
//! before its transaction; the refusals name what is wrong in French.

use chrono::NaiveDate;

use super::Failure;
use crate::delegation::{Scope, latest_end};
use crate::directory::{Directory, DirectoryError};
use crate::domain::{Agent, AgentUid, Motive, Uai, parse_form_day};

/// A grant as the principal asked for it (the form's fields, untrusted).
#[derive(Debug, Clone, Default)]
pub struct GrantRequest {
    /// The grantee's uid.
    pub grantee: String,
    /// `eleves`, `responsables`.
    pub scopes: Vec<String>,
    pub valid_from: String,
    pub valid_until: String,
    pub motive: String,
}

/// What the directory says of the requested grantee, asked before any database work (a
/// directory call blocks: run it on the blocking pool).
#[derive(Debug, Clone)]
pub enum GranteeLookup {
    /// The requested uid is not a uid: nothing was asked.
    NotAsked,
    Found(Agent),
    Unknown,
    Unavailable,
}

/// Asks the directory for the requested grantee.
pub fn look_up_grantee(directory: &dyn Directory, requested: &str) -> GranteeLookup {
    let Some(uid) = AgentUid::parse(requested) else {
        return GranteeLookup::NotAsked;
    };
    match directory.lookup(&uid) {
        Ok(Some(agent)) => GranteeLookup::Found(agent),
        Ok(None) => GranteeLookup::Unknown,
        Err(DirectoryError::Unavailable(_)) | Err(_) => GranteeLookup::Unavailable,
    }
}

/// A refused grant: the French message and its class, the reason its audit row gives, and
/// the delegation it collides with (offered for an extension).
#[derive(Debug, Clone)]
pub struct GrantRefusal {
    pub failure: Failure,
    pub reason: &'static str,
    pub extend: Option<i64>,
}

impl GrantRefusal {
    fn bad(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            failure: Failure::bad_input(message),
            reason,
            extend: None,
        }
    }
}

/// A grant that passed every check.
#[derive(Debug, Clone)]
pub(super) struct CheckedGrant {
    pub scopes: Vec<Scope>,
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub grantee: Agent,
    pub motive: String,
}

fn scopes(requested: &[String]) -> Result<Vec<Scope>, GrantRefusal> {
    let mut scopes = Vec::new();
    for s in requested {
        let scope = Scope::parse(s)
            .ok_or_else(|| GrantRefusal::bad("unknown scope", "Droit délégué inconnu."))?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err(GrantRefusal::bad(
            "no scope",
            "Cochez au moins un droit à déléguer (élèves ou responsables).",
        ));
    }
    Ok(scopes)
}

fn period(req: &GrantRequest, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), GrantRefusal> {
    let day = |value: &str, what| {
        parse_form_day(value, what).map_err(|e| GrantRefusal::bad("malformed date", e.to_string()))
    };
    let from = day(&req.valid_from, "de début")?;
    let until = day(&req.valid_until, "de fin")?;
    let refusal = if until <= from {
        Some((
            "end not after start",
            "La date de fin doit être postérieure à la date de début.",
        ))
    } else if until < today {
        Some(("end in the past", "La date de fin est déjà passée."))
    } else if from < today {
        Some((
            "start in the past",
            "La date de début ne peut pas être antérieure à aujourd'hui.",
        ))
    } else if until > latest_end(from) {
        Some((
            "longer than a year",
            "Une délégation dure au plus un an : choisissez une date de fin plus proche.",
        ))
    } else {
        None
    };
    match refusal {
        Some((reason, message)) => Err(GrantRefusal::bad(reason, message)),
        None => Ok((from, until)),
    }
}

fn grantee(
    principal_uid: Option<&str>,
    uai: &Uai,
    req: &GrantRequest,
    lookup: &GranteeLookup,
) -> Result<Agent, GrantRefusal> {
    let Some(uid) = AgentUid::parse(&req.grantee) else {
        return Err(GrantRefusal::bad(
            "no grantee",
            "Choisissez le personnel à qui déléguer.",
        ));
    };
    if Some(uid.as_str()) == principal_uid {
        return Err(GrantRefusal::bad(
            "grantee is the principal himself",
            "Vous ne pouvez pas vous déléguer vos propres droits.",
        ));
    }
    let grantee = match lookup {
        GranteeLookup::Found(a) if a.uid == uid.as_str() => a.clone(),
        GranteeLookup::Unavailable => {
            return Err(GrantRefusal {
                failure: Failure::unavailable(
                    "L'annuaire des personnels ne répond pas pour le moment. Réessayez dans quelques instants.",
                ),
                reason: "directory unavailable",
                extend: None,
            });
        }
        _ => {
            return Err(GrantRefusal::bad(
                "grantee unknown",
                "Ce personnel est inconnu de l'annuaire.",
            ));
        }
    };
    if grantee.is_principal_of(uai) {
        return Err(GrantRefusal::bad(
            "grantee already principal",
            "Ce personnel fait déjà partie de la direction de cet établissement : il a déjà tous les droits.",
        ));
    }
    if !grantee.is_attached_to(uai) {
        return Err(GrantRefusal::bad(
            "grantee not attached",
            "Ce personnel n'est pas rattaché à cet établissement dans l'annuaire.",
        ));
    }
    Ok(grantee)
}

/// Everything a grant by `principal_uid` on `uai` must satisfy but the rights (checked
/// before) and the collision with a running delegation (checked in its transaction).
pub(super) fn check_grant(
    principal_uid: Option<&str>,
    uai: &Uai,
    req: &GrantRequest,
    lookup: &GranteeLookup,
    today: NaiveDate,
) -> Result<CheckedGrant, GrantRefusal> {
    let scopes = scopes(&req.scopes)?;
    let (from, until) = period(req, today)?;
    let motive =
        Motive::parse(&req.motive).map_err(|e| GrantRefusal::bad("bad motive", e.to_string()))?;
    let grantee = grantee(principal_uid, uai, req, lookup)?;
    Ok(CheckedGrant {
        scopes,
        from,
        until,
        grantee,
        motive: motive.as_str().to_owned(),
    })
}
