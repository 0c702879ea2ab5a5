//! The LDAP operations of the account store, on a pooled connection bound as the service
//! account: find an entry by its escaped uid (at most two, to see duplicates), read a
//! policy's lockout duration, Password Modify (RFC 3062) and modify, each with the password
//! policy control so a refusal comes back with its reason.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ldap3::controls::{Assertion, MakeCritical, RawControl, RelaxRules};
use ldap3::exop::PasswordModify;
use ldap3::{Ldap, LdapError, LdapResult, Mod, Scope, SearchEntry, SearchOptions, ldap_escape};
use secrecy::{ExposeSecret, SecretString};

use super::entry::{Entry, STATE_ATTRIBUTES};
use super::ppolicy;
use crate::accounts::store::StoreError;
use crate::config::AccountsLdapSettings;
use crate::directory::ldap_pool::Discard;
use crate::domain::Identifiant;

/// LDAP result codes acted on.
const SIZE_LIMIT_EXCEEDED: u32 = 4;
const NO_SUCH_OBJECT: u32 = 32;

/// A transport failure: the connection is not reused, the caller is told the store is
/// unavailable.
pub fn transport(discard: &Discard, e: LdapError) -> StoreError {
    discard.now();
    StoreError::Unavailable(e.to_string())
}

/// The operations of one call, on one connection.
pub struct Ops {
    pub ldap: Ldap,
    pub discard: Discard,
    pub settings: Arc<AccountsLdapSettings>,
}

impl Ops {
    fn timeout(&self) -> Duration {
        Duration::from_millis(self.settings.timeout_ms)
    }

    /// The entry of `uid` under `base`: missing, or several, are errors naming it.
    pub async fn find(&mut self, base: &str, uid: &Identifiant) -> Result<Entry, StoreError> {
        let attrs = STATE_ATTRIBUTES.iter().map(|a| a.to_string()).collect();
        let e = self.find_with(base, uid, attrs).await?;
        Ok(Entry::from_attrs(e.dn, &e.attrs, &e.bin_attrs))
    }

    /// The entry of `uid` under `base` with the attributes `attrs`.
    pub async fn find_with(
        &mut self,
        base: &str,
        uid: &Identifiant,
        attrs: Vec<String>,
    ) -> Result<SearchEntry, StoreError> {
        let s = self.settings.clone();
        let filter = format!(
            "(&(objectClass={})({}={}))",
            ldap_escape(&s.object_class),
            s.attributes.uid,
            ldap_escape(uid.as_str())
        );
        let secs = i32::try_from(s.timeout_ms.div_ceil(1000)).unwrap_or(5);
        let options = SearchOptions::new().sizelimit(2).timelimit(secs);
        let timeout = self.timeout();
        let found = self
            .ldap
            .with_search_options(options)
            .with_timeout(timeout)
            .search(base, Scope::Subtree, &filter, attrs)
            .await;
        let ldap3::SearchResult(entries, result) =
            found.map_err(|e| transport(&self.discard, e))?;
        match result.rc {
            0 => {}
            SIZE_LIMIT_EXCEEDED => return Err(StoreError::Duplicate(uid.clone())),
            NO_SUCH_OBJECT => return Err(StoreError::EntryMissing(uid.clone())),
            rc => {
                return Err(StoreError::Unavailable(format!(
                    "search refused (rc {rc}: {})",
                    result.text
                )));
            }
        }
        let mut entries: Vec<SearchEntry> =
            entries.into_iter().map(SearchEntry::construct).collect();
        if entries.len() > 1 {
            return Err(StoreError::Duplicate(uid.clone()));
        }
        entries
            .pop()
            .ok_or_else(|| StoreError::EntryMissing(uid.clone()))
    }

    /// Adds an entry (provisioning).
    pub async fn add(
        &mut self,
        dn: &str,
        attrs: Vec<(String, HashSet<String>)>,
    ) -> Result<(), StoreError> {
        let timeout = self.timeout();
        let answer = self.ldap.with_timeout(timeout).add(dn, attrs).await;
        refused_unless_done(answer.map_err(|e| transport(&self.discard, e))?)
    }

    /// A policy entry's `pwdLockoutDuration` (`None`: none, or 0: locked until unblocked).
    pub async fn lockout(&mut self, policy: &str) -> Result<Option<i64>, StoreError> {
        let timeout = self.timeout();
        let found = self
            .ldap
            .with_search_options(SearchOptions::new().sizelimit(1))
            .with_timeout(timeout)
            .search(
                policy,
                Scope::Base,
                "(objectClass=*)",
                vec!["pwdLockoutDuration"],
            )
            .await;
        let ldap3::SearchResult(entries, _) = found.map_err(|e| transport(&self.discard, e))?;
        Ok(entries
            .into_iter()
            .map(SearchEntry::construct)
            .flat_map(|e| e.attrs.into_iter())
            .find(|(k, _)| k.eq_ignore_ascii_case("pwdLockoutDuration"))
            .and_then(|(_, v)| v.first()?.trim().parse::<i64>().ok())
            .filter(|secs| *secs > 0))
    }

    /// Sets `dn`'s password as its administrator (the server hashes it).
    pub async fn password_modify(
        &mut self,
        dn: &str,
        password: &SecretString,
    ) -> Result<(), StoreError> {
        let timeout = self.timeout();
        let exop = PasswordModify {
            user_id: Some(dn),
            old_pass: None,
            new_pass: Some(password.expose_secret()),
        };
        // The response's value is never parsed: with a new password given, slapd sends
        // none (and ldap3's parser expects one).
        let answer = self
            .ldap
            .with_controls(vec![ppolicy::request()])
            .with_timeout(timeout)
            .extended(exop)
            .await;
        let ldap3::result::ExopResult(_, result) =
            answer.map_err(|e| transport(&self.discard, e))?;
        refused_unless_done(result)
    }

    /// Modifies `dn`; `relax` lets the service remove `pwdFailureTime` (ppolicy keeps it
    /// from ordinary writes).
    pub async fn modify<S: AsRef<[u8]> + Eq + std::hash::Hash>(
        &mut self,
        dn: &str,
        mods: Vec<Mod<S>>,
        relax: bool,
    ) -> Result<(), StoreError> {
        self.modify_if(dn, mods, relax, None).await
    }

    /// [`Ops::modify`] done only if the entry still matches `assertion` (RFC 4528, critical:
    /// the server refuses the write otherwise, rc 122).
    pub async fn modify_if<S: AsRef<[u8]> + Eq + std::hash::Hash>(
        &mut self,
        dn: &str,
        mods: Vec<Mod<S>>,
        relax: bool,
        assertion: Option<String>,
    ) -> Result<(), StoreError> {
        let timeout = self.timeout();
        let mut controls: Vec<RawControl> = vec![ppolicy::request()];
        if relax {
            controls.push(RelaxRules.critical().into());
        }
        if let Some(filter) = assertion {
            controls.push(Assertion { filter }.critical().into());
        }
        let answer = self
            .ldap
            .with_controls(controls)
            .with_timeout(timeout)
            .modify(dn, mods)
            .await;
        refused_unless_done(answer.map_err(|e| transport(&self.discard, e))?)
    }
}

impl Ops {
    /// "Who am I?" (RFC 4532): the server answers, and we are bound.
    pub async fn who_am_i(&mut self) -> Result<(), StoreError> {
        let timeout = self.timeout();
        let answer = self
            .ldap
            .with_timeout(timeout)
            .extended(ldap3::exop::WhoAmI)
            .await;
        let ldap3::result::ExopResult(_, result) =
            answer.map_err(|e| transport(&self.discard, e))?;
        if result.rc == 0 {
            Ok(())
        } else {
            Err(StoreError::Unavailable(format!(
                "who am I? refused (rc {})",
                result.rc
            )))
        }
    }
}

/// The policies' lockout durations in seconds, each with when it was read.
pub type Lockouts = Mutex<HashMap<String, (Option<i64>, Instant)>>;

/// A policy read this long ago is read again (an administrator may change its duration).
const LOCKOUT_TTL: Duration = Duration::from_secs(300);

/// A policy entry's lockout duration, from the cache when read recently.
pub async fn lockout_of(
    ops: &mut Ops,
    cache: &Lockouts,
    policy: &str,
) -> Result<Option<i64>, StoreError> {
    let known = cache.lock().ok().and_then(|c| c.get(policy).copied());
    if let Some((secs, at)) = known
        && at.elapsed() < LOCKOUT_TTL
    {
        return Ok(secs);
    }
    let secs = ops.lockout(policy).await?;
    if let Ok(mut c) = cache.lock() {
        c.insert(policy.to_owned(), (secs, Instant::now()));
    }
    Ok(secs)
}

fn refused_unless_done(result: LdapResult) -> Result<(), StoreError> {
    if result.rc == 0 {
        Ok(())
    } else {
        Err(StoreError::Refused(ppolicy::reason(&result)))
    }
}

/// `attr: value` (one value), or the whole attribute removed.
pub fn replace<'a>(attr: &'a str, value: Option<&'a str>) -> Mod<&'a str> {
    Mod::Replace(attr, value.into_iter().collect::<HashSet<_>>())
}
