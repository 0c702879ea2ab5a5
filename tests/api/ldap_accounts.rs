//! The test directory as the LDAP account store of issue 12 will find it
//! (tests/ldap/accounts.ldif, the ppolicy overlay in tests/ldap/start-slapd): pupils' and
//! parents' entries under their own subtrees, each with its level's password policy; the
//! service account their password administrator, and nobody else's; the staff under a lenient
//! default policy that never locks them out.

use ldap3::exop::PasswordModify;
use ldap3::{LdapConn, Scope, SearchEntry};

use crate::ldap_server::LdapServer;

const SERVICE: &str = "cn=educt-admin,ou=services,dc=ac-test,dc=fr";
const PUPIL: &str = "uid=l.martin,ou=eleves,dc=ac-test,dc=fr";
const STAFF: &str = "uid=cperrin,ou=personnels,dc=ac-test,dc=fr";

fn connect(server: &LdapServer) -> LdapConn {
    server.connect()
}

fn bind(server: &LdapServer, dn: &str, password: &str) -> u32 {
    connect(server).simple_bind(dn, password).unwrap().rc
}

#[test]
fn the_service_resets_pupils_under_their_policy_and_never_the_staff() {
    // A slapd of this test's own: it changes an entry.
    let server = LdapServer::start_own(false);
    let mut service = connect(&server);
    service
        .simple_bind(SERVICE, "service-secret")
        .unwrap()
        .success()
        .unwrap();
    // A provisional password set by the service: the policy marks it to be changed.
    let reset = PasswordModify {
        user_id: Some(PUPIL),
        old_pass: None,
        new_pass: Some("abcd2345efg"),
    };
    assert_eq!(service.extended(reset).unwrap().1.rc, 0);
    let (entries, _) = service
        .search(
            PUPIL,
            Scope::Base,
            "(objectClass=*)",
            vec!["pwdReset", "pwdPolicySubentry"],
        )
        .unwrap()
        .success()
        .unwrap();
    let entry = SearchEntry::construct(entries.into_iter().next().unwrap());
    assert_eq!(entry.attrs["pwdReset"], vec!["TRUE"]);
    assert_eq!(
        entry.attrs["pwdPolicySubentry"],
        vec!["cn=eleves-college,ou=politiques,dc=ac-test,dc=fr"]
    );
    assert_eq!(bind(&server, PUPIL, "abcd2345efg"), 0);
    // A permanent lock (Désactivé) refuses even the right password.
    let lock = ldap3::Mod::Replace("pwdAccountLockedTime", ["000001010000Z"].into());
    service
        .modify(PUPIL, vec![lock])
        .unwrap()
        .success()
        .unwrap();
    assert_eq!(bind(&server, PUPIL, "abcd2345efg"), 49);
    // The staff's passwords are not the service's to set.
    let staff = PasswordModify {
        user_id: Some(STAFF),
        old_pass: None,
        new_pass: Some("abcd2345efg"),
    };
    assert_eq!(service.extended(staff).unwrap().1.rc, 50);
    // The staff's default policy never locks: seven wrong binds, then the right one.
    for _ in 0..7 {
        assert_eq!(bind(&server, STAFF, "wrong"), 49);
    }
    assert_eq!(bind(&server, STAFF, "Principal-2026"), 0);
}
