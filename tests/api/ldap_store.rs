//! The LDAP account store against a real slapd with ppolicy: the same contract as the SQL
//! store (its index on the test database, the credentials and states in the directory), and
//! what only a directory can do wrong: an entry missing or duplicated, a server that stops.

use std::sync::Arc;

use diesel::prelude::*;
use educt_admin::accounts::ldap::LdapAccountStore;
use educt_admin::accounts::ldap::entry::{PERMANENT_LOCK, format_time};
use educt_admin::accounts::ldap::ppolicy;
use educt_admin::accounts::store::{AccountRef, AccountStore, Provisional, StoreError};
use educt_admin::accounts::{AccountKind, AccountState};
use educt_admin::db::DbConnection;
use educt_admin::db::schema::{identifiants, parents, pupils};
use ldap3::{LdapConn, Mod};
use secrecy::ExposeSecret;

use crate::account_store_contract::{ELSEWHERE, Fixture, HERE, Sql, contract, now};
use crate::helpers::{TestDb, add_establishment};
use crate::ldap_server::LdapServer;

/// A password no test hands out: the "own" password of an activated entry.
pub const OWN_PASSWORD: &str = "Mon-propre-mot-de-passe-1";

/// Entries of the LDAP store, with their index rows.
pub struct Directory {
    pub sql: Sql,
    pub store: Arc<LdapAccountStore>,
    pub service: LdapConn,
    pub server: LdapServer,
    /// Makes this run's uids unique on a server shared by runs and tests.
    tag: String,
    _db: TestDb,
}

pub fn base(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Pupil => "ou=eleves,dc=ac-test,dc=fr",
        AccountKind::Parent => "ou=responsables,dc=ac-test,dc=fr",
    }
}

fn policy(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Pupil => "cn=eleves-college,ou=politiques,dc=ac-test,dc=fr",
        AccountKind::Parent => "cn=responsables,ou=politiques,dc=ac-test,dc=fr",
    }
}

impl Directory {
    /// Over a fresh test database with the two establishments of the contract.
    pub fn new(server: LdapServer) -> Self {
        let db = TestDb::migrated();
        let mut conn = db.connect();
        add_establishment(&mut conn, HERE, "Collège Jean Moulin");
        add_establishment(&mut conn, ELSEWHERE, "Lycée Ampère");
        let store = LdapAccountStore::new(
            &server.accounts_settings(),
            crate::ldap_server::password_rules(),
        )
        .unwrap();
        // Letters only: an identifiant's name part has no digits.
        let mut n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let mut tag = String::new();
        for _ in 0..8 {
            tag.push(char::from(b'a' + (n % 26) as u8));
            n /= 26;
        }
        Self {
            sql: Sql { conn, n: 0 },
            store: Arc::new(store),
            service: server.service(),
            server,
            tag,
            _db: db,
        }
    }

    /// The identifiant (and uid) the index gives `account`.
    pub fn identifiant(&mut self, account: AccountRef) -> String {
        match account.kind {
            AccountKind::Pupil => pupils::table
                .filter(pupils::id.eq(account.id))
                .select(pupils::identifiant)
                .first(&mut self.sql.conn),
            AccountKind::Parent => parents::table
                .filter(parents::id.eq(account.id))
                .select(parents::identifiant)
                .first(&mut self.sql.conn),
        }
        .unwrap()
    }

    pub fn dn(&mut self, account: AccountRef) -> String {
        format!("uid={},{}", self.identifiant(account), base(account.kind))
    }

    /// Adds the entry of an index row: `unlocked` says whether it has a password and must
    /// change it; `lock` is written after.
    pub fn add_entry(&mut self, account: AccountRef, unlocked: AccountState, lock: Option<&str>) {
        let uid = self.identifiant(account);
        add_entry(&mut self.service, account.kind, &uid, unlocked, lock);
    }

    /// A bind as the entry: its result code and the password policy's error.
    pub fn bind_as(&mut self, account: AccountRef, password: &str) -> (u32, Option<u8>) {
        let dn = self.dn(account);
        let mut conn = self.server.connect();
        let res = conn
            .with_controls(ppolicy::request())
            .simple_bind(&dn, password)
            .unwrap();
        (res.rc, ppolicy::error_of(&res))
    }

    /// An index row whose identifiant is unique on the server, without an entry yet.
    pub fn index_row(&mut self, kind: AccountKind, state: AccountState) -> AccountRef {
        let account = self.sql.index_row(kind, state, None);
        let letter = &kind.target()[..1];
        let uid = format!("z.{}{letter}{}", self.tag, self.sql.n + 1);
        let conn = &mut self.sql.conn;
        diesel::insert_into(identifiants::table)
            .values((
                identifiants::identifiant.eq(&uid),
                identifiants::kind.eq(kind.identifiant_kind()),
                identifiants::created_at.eq(crate::helpers::t0().naive_utc()),
            ))
            .execute(conn)
            .unwrap();
        match kind {
            AccountKind::Pupil => diesel::update(pupils::table.find(account.id))
                .set(pupils::identifiant.eq(&uid))
                .execute(conn),
            AccountKind::Parent => diesel::update(parents::table.find(account.id))
                .set(parents::identifiant.eq(&uid))
                .execute(conn),
        }
        .unwrap();
        account
    }
}

/// Adds the entry `uid` of `kind` as the service account: `unlocked` says whether it has a
/// password ([`OWN_PASSWORD`]) and must change it; `lock` is written after.
pub fn add_entry(
    service: &mut LdapConn,
    kind: AccountKind,
    uid: &str,
    unlocked: AccountState,
    lock: Option<&str>,
) {
    let dn = format!("uid={uid},{}", base(kind));
    let mut attrs: Vec<(&str, std::collections::HashSet<&str>)> = vec![
        ("objectClass", ["inetOrgPerson"].into()),
        ("uid", [uid].into()),
        ("cn", ["Compte de test"].into()),
        ("sn", ["Test"].into()),
        ("pwdPolicySubentry", [policy(kind)].into()),
    ];
    if unlocked != AccountState::NonNotifie {
        attrs.push(("userPassword", [OWN_PASSWORD].into()));
    }
    service.add(&dn, attrs).unwrap().success().unwrap();
    let mut mods = Vec::new();
    if unlocked == AccountState::Notifie {
        mods.push(Mod::Replace("pwdReset", ["TRUE"].into()));
    }
    if let Some(lock) = lock {
        mods.push(Mod::Replace("pwdAccountLockedTime", [lock].into()));
    }
    if !mods.is_empty() {
        service.modify(&dn, mods).unwrap().success().unwrap();
    }
}

impl Fixture for Directory {
    fn store(&self) -> Arc<dyn AccountStore> {
        self.store.clone()
    }

    fn conn(&mut self) -> &mut DbConnection {
        &mut self.sql.conn
    }

    fn account(
        &mut self,
        kind: AccountKind,
        state: AccountState,
        previous: Option<AccountState>,
    ) -> AccountRef {
        let account = self.index_row(kind, state);
        let (unlocked, lock) = match state {
            AccountState::Bloque => (previous, Some(format_time(now()))),
            AccountState::Desactive => (previous, Some(PERMANENT_LOCK.to_owned())),
            other => (Some(other), None),
        };
        let unlocked = unlocked.unwrap_or(AccountState::NonNotifie);
        self.add_entry(account, unlocked, lock.as_deref());
        account
    }

    fn credential_is(&mut self, account: AccountRef, provisional: &Provisional) -> bool {
        let (rc, error) = self.bind_as(account, provisional.password.expose_secret());
        rc == 0 && error == Some(ppolicy::CHANGE_AFTER_RESET)
    }
}

pub fn directory() -> Directory {
    Directory::new(LdapServer::shared())
}

#[test]
fn the_ldap_store_keeps_the_contract() {
    contract(&mut directory());
}

#[test]
fn a_missing_or_duplicated_entry_is_named() {
    let mut d = directory();
    let store = d.store.clone();
    let missing = d.index_row(AccountKind::Pupil, AccountState::Active);
    let uid = d.identifiant(missing);
    let read = store.status(&mut d.sql.conn, missing, now());
    assert!(
        matches!(&read, Err(StoreError::EntryMissing(id)) if id.as_str() == uid),
        "{read:?}"
    );
    // Two entries carry the same uid (one in a sub-branch).
    let twice = d.index_row(AccountKind::Pupil, AccountState::Active);
    d.add_entry(twice, AccountState::Active, None);
    let uid = d.identifiant(twice);
    let branch = format!("ou=b{},ou=eleves,dc=ac-test,dc=fr", d.tag);
    let ou = std::collections::HashSet::from(["organizationalUnit"]);
    let name = format!("b{}", d.tag);
    d.service
        .add(
            &branch,
            vec![("objectClass", ou), ("ou", [name.as_str()].into())],
        )
        .unwrap()
        .success()
        .unwrap();
    let copy = vec![
        (
            "objectClass",
            std::collections::HashSet::from(["inetOrgPerson"]),
        ),
        ("uid", [uid.as_str()].into()),
        ("cn", ["Copie"].into()),
        ("sn", ["Copie"].into()),
    ];
    d.service
        .add(&format!("uid={uid},{branch}"), copy)
        .unwrap()
        .success()
        .unwrap();
    let read = store.status(&mut d.sql.conn, twice, now());
    assert!(
        matches!(&read, Err(StoreError::Duplicate(id)) if id.as_str() == uid),
        "{read:?}"
    );
}
