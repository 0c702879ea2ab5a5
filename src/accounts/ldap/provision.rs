//! After an import, the LDAP store is brought in line with the index for the establishment:
//! with `provision = true` the pupils and parents without an entry get one (no password:
//! "Non notifié"), and names and classes that changed are written; with `false` the store
//! only reports the accounts it does not hold. At purge, a leaver's entry is locked for good.
//! One call per account, each within the pool's deadline.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use ldap3::{Mod, dn_escape};

use super::LdapAccountStore;
use super::entry::{Lock, PERMANENT_LOCK};
use super::ops::replace;
use crate::accounts::AccountKind;
use crate::accounts::reset::store_reason;
use crate::accounts::store::{StoreError, SyncReport};
use crate::config::AccountsLdapSettings;
use crate::db::DbConnection;
use crate::db::schema::{parents, pupil_parents, pupils};
use crate::domain::{Division, Identifiant, Uai};

/// A person as the index knows him, and as his entry should say.
struct Person {
    kind: AccountKind,
    uid: Identifiant,
    last: String,
    first: String,
    division: Option<String>,
    birth: Option<NaiveDate>,
    mail: Option<String>,
    /// His level's ppolicy subentry.
    policy: Option<String>,
}

impl Person {
    /// "Zoë Lefèvre (z.lefevre, 3A)".
    fn label(&self) -> String {
        match &self.division {
            Some(d) => format!("{} {} ({}, {d})", self.first, self.last, self.uid),
            None => format!("{} {} ({})", self.first, self.last, self.uid),
        }
    }

    /// The mapped attributes and their wanted values (an empty mapping is not written).
    fn wanted(&self, s: &AccountsLdapSettings) -> Vec<(String, String)> {
        let a = &s.attributes;
        let mut out = vec![
            (a.last_name.clone(), self.last.clone()),
            (a.first_name.clone(), self.first.clone()),
            (
                a.common_name.clone(),
                format!("{} {}", self.first, self.last),
            ),
        ];
        if let Some(d) = &self.division {
            out.push((a.division.clone(), d.clone()));
        }
        if let Some(b) = self.birth {
            out.push((a.birth_date.clone(), b.format("%Y%m%d").to_string()));
        }
        if let Some(m) = &self.mail {
            out.push((a.mail.clone(), m.clone()));
        }
        if let Some(p) = &self.policy {
            out.push(("pwdPolicySubentry".into(), p.clone()));
        }
        out.retain(|(attr, value)| !attr.trim().is_empty() && !value.trim().is_empty());
        out
    }
}

enum Synced {
    Added,
    Updated,
    Same,
    Missing,
}

impl LdapAccountStore {
    pub(super) fn sync_in(
        &self,
        conn: &mut DbConnection,
        uai: &Uai,
        _now: DateTime<Utc>,
    ) -> Result<SyncReport, StoreError> {
        let mut report = SyncReport::default();
        for mut person in people(conn, uai)? {
            let division = person
                .division
                .as_deref()
                .and_then(|d| Division::parse(d).ok());
            person.policy = self.policy(person.kind, division.as_ref());
            match self.sync_one(&person) {
                Ok(Synced::Added) => report.added += 1,
                Ok(Synced::Updated) => report.updated += 1,
                Ok(Synced::Same) => {}
                Ok(Synced::Missing) => report.missing.push(person.label()),
                Err(StoreError::Unavailable(_)) => {
                    report.interrupted = true;
                    break;
                }
                Err(StoreError::Db(e)) => return Err(e.into()),
                Err(e) => report
                    .refused
                    .push(format!("{} : {}", person.label(), store_reason(&e))),
            }
        }
        Ok(report)
    }

    fn sync_one(&self, person: &Person) -> Result<Synced, StoreError> {
        let s = self.settings.clone();
        let base = self.base(person.kind);
        let uid = person.uid.clone();
        let wanted = person.wanted(&s);
        let birth = person.birth.map(|b| b.format("%Y%m%d").to_string());
        let read: Vec<String> = wanted.iter().map(|(a, _)| a.clone()).collect();
        self.call(move |mut ops| async move {
            match ops.find_with(&base, &uid, read).await {
                Ok(entry) => {
                    let held: HashMap<String, Vec<String>> = entry
                        .attrs
                        .into_iter()
                        .map(|(k, v)| (k.to_ascii_lowercase(), v))
                        .collect();
                    // An entry of this uid born another day is someone else's: never adopted.
                    if let Some(born) = &birth {
                        let theirs = held.get(&s.attributes.birth_date.to_ascii_lowercase());
                        if theirs.is_some_and(|v| !v.contains(born)) {
                            return Err(StoreError::Refused(
                                "l'entrée de l'annuaire qui porte cet identifiant a une autre date de naissance : elle n'a pas été modifiée".into(),
                            ));
                        }
                    }
                    let changes: Vec<Mod<String>> = wanted
                        .into_iter()
                        .filter(|(a, v)| {
                            held.get(&a.to_ascii_lowercase()) != Some(&vec![v.clone()])
                        })
                        .map(|(a, v)| Mod::Replace(a, HashSet::from([v])))
                        .collect();
                    if changes.is_empty() || !s.provision {
                        return Ok(Synced::Same);
                    }
                    ops.modify(&entry.dn, changes, false).await?;
                    Ok(Synced::Updated)
                }
                Err(StoreError::EntryMissing(_)) if s.provision => {
                    let dn = format!("{}={},{base}", s.attributes.uid, dn_escape(uid.as_str()));
                    let mut attrs: Vec<(String, HashSet<String>)> = vec![
                        (
                            "objectClass".into(),
                            s.provision_object_classes.iter().cloned().collect(),
                        ),
                        (s.attributes.uid.clone(), HashSet::from([uid.to_string()])),
                    ];
                    attrs.extend(wanted.into_iter().map(|(a, v)| (a, HashSet::from([v]))));
                    ops.add(&dn, attrs).await?;
                    Ok(Synced::Added)
                }
                Err(StoreError::EntryMissing(_)) => Ok(Synced::Missing),
                Err(e) => Err(e),
            }
        })
    }

    pub(super) fn retire_one(
        &self,
        kind: AccountKind,
        uid: &Identifiant,
    ) -> Result<bool, StoreError> {
        if !self.settings.provision {
            return Ok(false);
        }
        let (base, uid) = (self.base(kind), uid.clone());
        self.call(move |mut ops| async move {
            let entry = match ops.find(&base, &uid).await {
                Ok(entry) => entry,
                Err(StoreError::EntryMissing(_)) => return Ok(false),
                Err(e) => return Err(e),
            };
            if entry.locked == Some(Lock::Permanent) {
                return Ok(false);
            }
            let lock = replace("pwdAccountLockedTime", Some(PERMANENT_LOCK));
            ops.modify(&entry.dn, vec![lock], false).await?;
            Ok(true)
        })
    }
}

/// The establishment's pupils still there and their parents, as the index has them.
fn people(conn: &mut DbConnection, uai: &Uai) -> Result<Vec<Person>, StoreError> {
    type PupilRow = (String, String, String, Option<String>, NaiveDate);
    let rows: Vec<PupilRow> = pupils::table
        .filter(pupils::uai.eq(uai.as_str()))
        .filter(pupils::departure_date.is_null())
        .order(pupils::id)
        .select((
            pupils::identifiant,
            pupils::last_name,
            pupils::first_name,
            pupils::division,
            pupils::birth_date,
        ))
        .load(conn)?;
    let guardians: Vec<(String, String, String, Option<String>)> = parents::table
        .filter(
            parents::id.eq_any(
                pupil_parents::table
                    .inner_join(pupils::table)
                    .filter(pupils::uai.eq(uai.as_str()))
                    .filter(pupils::departure_date.is_null())
                    .select(pupil_parents::parent_id),
            ),
        )
        .order(parents::id)
        .select((
            parents::identifiant,
            parents::last_name,
            parents::first_name,
            parents::email,
        ))
        .load(conn)?;
    let uid = |s: String| {
        Identifiant::try_from(s)
            .map_err(|e| StoreError::Db(diesel::result::Error::DeserializationError(e.into())))
    };
    let mut out = Vec::with_capacity(rows.len() + guardians.len());
    for (id, last, first, division, birth) in rows {
        out.push(Person {
            kind: AccountKind::Pupil,
            uid: uid(id)?,
            last,
            first,
            division,
            birth: Some(birth),
            mail: None,
            policy: None,
        });
    }
    for (id, last, first, mail) in guardians {
        out.push(Person {
            kind: AccountKind::Parent,
            uid: uid(id)?,
            last,
            first,
            division: None,
            birth: None,
            mail,
            policy: None,
        });
    }
    Ok(out)
}
