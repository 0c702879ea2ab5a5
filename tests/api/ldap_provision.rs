//! Provisioning through the LDAP account store (a slapd of each test's own): an import adds
//! the entries the directory lacks (no password: "Non notifié"), writes class changes, and
//! lists by name the accounts it does not hold when provisioning is off; the purge locks a
//! leaver's entry for good before deleting him.

use std::collections::HashMap;

use educt_admin::accounts::AccountState;
use educt_admin::accounts::ldap::LdapAccountStore;
use educt_admin::accounts::store::{AccountRef, AccountStore};
use educt_admin::config::AccountsLdapSettings;
use educt_admin::domain::{Identifiant, Uai};
use educt_admin::import::order::SchoolYear;
use educt_admin::usecases::import::{self, ImportFormat, ImportRequest};
use educt_admin::usecases::{Actor, Context};
use ldap3::{Scope, SearchEntry};

use crate::helpers::{COLLEGE, TestDb, audit_rows, t0, test_key};
use crate::ldap_server::LdapServer;

const PUPILS: &str = "id;ine;nom;prenom;date_naissance;division\n\
    1;123456789AB;Lefèvre;Zoë;14/05/2012;3A\n\
    2;;Œuvray;Anaïs;01/06/2014;6B\n";
const GUARDIANS: &str = "id,nom,prenom,mel,tel_portable,eleve_id,resp_legal\n\
    10,Lefèvre,Nathalie,n.lefevre@exemple.fr,0612345678,1,1\n";

fn settings(server: &LdapServer, provision: bool) -> AccountsLdapSettings {
    AccountsLdapSettings {
        provision,
        provision_object_classes: vec!["inetOrgPerson".into(), "ENTTestCompte".into()],
        ..server.accounts_settings()
    }
}

fn import_csv(db: &TestDb, store: &dyn AccountStore, pupils: &str) -> Vec<String> {
    let req = ImportRequest {
        uai: Uai::parse(COLLEGE).unwrap(),
        format: ImportFormat::Csv(SchoolYear::parse("2026").unwrap()),
        pupils: pupils.as_bytes().to_vec(),
        guardians: Some(GUARDIANS.as_bytes().to_vec()),
        name: Some("Collège Jean Moulin".into()),
        dry_run: false,
        force: true,
    };
    let ctx = Context::new(Actor::Cli("exploitant".into()), t0());
    let tz = chrono_tz::Europe::Paris;
    let mut conn = db.connect();
    let report = import::import(
        &mut conn,
        &test_key(),
        tz,
        store,
        None,
        &ctx,
        &req,
        &|_, _| {},
    );
    report.unwrap().directory
}

/// The attributes of `uid`'s entry under `ou`, as the service reads them.
fn entry(server: &LdapServer, ou: &str, uid: &str) -> Option<HashMap<String, Vec<String>>> {
    let (found, _) = server
        .service()
        .search(
            &format!("ou={ou},dc=ac-test,dc=fr"),
            Scope::Subtree,
            &format!("(uid={uid})"),
            vec!["*", "pwdAccountLockedTime", "pwdPolicySubentry"],
        )
        .unwrap()
        .success()
        .unwrap();
    found
        .into_iter()
        .next()
        .map(|e| SearchEntry::construct(e).attrs)
}

#[test]
fn an_import_provisions_the_directory_and_keeps_classes_up_to_date() {
    let server = LdapServer::start_own(false);
    let store = LdapAccountStore::new(
        &settings(&server, true),
        crate::ldap_server::password_rules(),
    )
    .unwrap();
    let db = TestDb::migrated();
    let lines = import_csv(&db, &store, PUPILS);
    assert!(
        lines[0].starts_with("annuaire des comptes : 3 entrées créées, 0 mise à jour"),
        "{lines:?}"
    );
    let zoe = entry(&server, "eleves", "z.lefevre").expect("added");
    assert_eq!(zoe["sn"], ["Lefèvre"]);
    assert_eq!(zoe["givenName"], ["Zoë"]);
    assert_eq!(zoe["ENTEleveClasses"], ["3A"]);
    assert_eq!(zoe["ENTPersonDateNaissance"], ["20120514"]);
    assert!(!zoe.contains_key("userPassword"));
    // Each entry under its level's policy (tests/ldap/accounts.ldif).
    let policy = |cn: &str| vec![format!("cn={cn},ou=politiques,dc=ac-test,dc=fr")];
    assert_eq!(zoe["pwdPolicySubentry"], policy("eleves-lycee"));
    let anais = entry(&server, "eleves", "a.oeuvray").expect("added");
    assert_eq!(anais["pwdPolicySubentry"], policy("eleves-college"));
    let mother = entry(&server, "responsables", "n.lefevre").expect("the parent too");
    assert_eq!(mother["mail"], ["n.lefevre@exemple.fr"]);
    assert_eq!(mother["pwdPolicySubentry"], policy("responsables"));
    // Our store reads it as never notified.
    let mut conn = db.connect();
    let id: i64 = {
        use diesel::prelude::*;
        use educt_admin::db::schema::pupils as t;
        t::table
            .filter(t::identifiant.eq("z.lefevre"))
            .select(t::id)
            .first(&mut conn)
            .unwrap()
    };
    let st = store
        .status(&mut conn, AccountRef::pupil(id.into()), t0())
        .unwrap();
    assert_eq!(st.unwrap().state, AccountState::NonNotifie);
    // Zoë changes class, Anaïs changes level: both written, the parent untouched.
    let moved = PUPILS.replace(";3A\n", ";3B\n").replace(";6B\n", ";4A\n");
    let lines = import_csv(&db, &store, &moved);
    assert!(
        lines[0].contains("0 entrée créée, 2 mises à jour"),
        "{lines:?}"
    );
    let zoe = entry(&server, "eleves", "z.lefevre").unwrap();
    assert_eq!(zoe["ENTEleveClasses"], ["3B"]);
    let anais = entry(&server, "eleves", "a.oeuvray").unwrap();
    assert_eq!(anais["pwdPolicySubentry"], policy("eleves-lycee"));
    let rows = audit_rows(&mut conn);
    assert!(
        rows.iter()
            .any(|r| r.3.as_deref().is_some_and(|d| d.contains("2 mises à jour")))
    );
    // A leaver's entry is locked for good, once.
    let uid = Identifiant::parse("z.lefevre").unwrap();
    assert!(
        store
            .retire(educt_admin::accounts::AccountKind::Pupil, &uid)
            .unwrap()
    );
    assert!(
        !store
            .retire(educt_admin::accounts::AccountKind::Pupil, &uid)
            .unwrap()
    );
    let locked = entry(&server, "eleves", "z.lefevre").unwrap();
    assert_eq!(locked["pwdAccountLockedTime"], ["000001010000Z"]);
}

#[test]
fn without_provisioning_the_missing_accounts_are_named() {
    let server = LdapServer::start_own(false);
    let store = LdapAccountStore::new(
        &settings(&server, false),
        crate::ldap_server::password_rules(),
    )
    .unwrap();
    let db = TestDb::migrated();
    let lines = import_csv(&db, &store, PUPILS);
    assert!(lines[0].contains("0 entrée créée, 0 mise à jour, 3 comptes introuvables"));
    assert!(
        lines.contains(&"Zoë Lefèvre (z.lefevre, 3A) : aucun compte dans l'annuaire".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"Nathalie Lefèvre (n.lefevre) : aucun compte dans l'annuaire".to_owned())
    );
    assert!(
        entry(&server, "eleves", "z.lefevre").is_none(),
        "nothing added"
    );
    let uid = Identifiant::parse("z.lefevre").unwrap();
    assert!(
        !store
            .retire(educt_admin::accounts::AccountKind::Pupil, &uid)
            .unwrap()
    );
}

#[test]
fn an_entry_of_the_same_uid_born_another_day_is_never_adopted() {
    let server = LdapServer::start_own(false);
    let store = LdapAccountStore::new(
        &settings(&server, true),
        crate::ldap_server::password_rules(),
    )
    .unwrap();
    // Another Zoë Lefèvre, of another school, already holds the uid.
    let attrs = vec![
        ("objectClass", ["inetOrgPerson", "ENTTestCompte"].into()),
        ("uid", ["z.lefevre"].into()),
        ("cn", ["Zoé Lefèvre"].into()),
        ("sn", ["Lefèvre"].into()),
        ("givenName", ["Zoé"].into()),
        ("ENTPersonDateNaissance", ["20110101"].into()),
    ];
    server
        .service()
        .add("uid=z.lefevre,ou=eleves,dc=ac-test,dc=fr", attrs)
        .unwrap()
        .success()
        .unwrap();
    let db = TestDb::migrated();
    let lines = import_csv(&db, &store, PUPILS);
    assert!(lines[0].contains("1 refus"), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Zoë Lefèvre (z.lefevre, 3A) : ")
                && l.contains("autre date de naissance")),
        "{lines:?}"
    );
    let theirs = entry(&server, "eleves", "z.lefevre").unwrap();
    assert_eq!(theirs["givenName"], ["Zoé"], "untouched");
}
