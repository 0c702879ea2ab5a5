//! The same contract on both directory backends: the local one (database) and the LDAP
//! one (the run's slapd, over StartTLS and over ldaps), holding the same staff.

use educt_admin::directory::ldap::LdapDirectory;
use educt_admin::directory::local::LocalDirectory;
use educt_admin::directory::{Directory, DirectoryError, parse_uai_values};
use educt_admin::domain::AgentUid;
use educt_admin::domain::Uai;
use secrecy::SecretString;

use crate::helpers::{TestDb, add_agent, add_direction};
use crate::ldap_server::{LdapServer, fixture_staff};

fn uid(s: &str) -> AgentUid {
    AgentUid::parse(s).unwrap()
}

fn pw(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn uai(s: &str) -> Uai {
    Uai::parse(s).unwrap()
}

fn uids(agents: &[educt_admin::domain::Agent]) -> Vec<&str> {
    agents.iter().map(|a| a.uid.as_str()).collect()
}

fn contract(dir: &dyn Directory) {
    let claire = dir
        .authenticate(&uid("cperrin"), &pw("Principal-2026"))
        .unwrap();
    assert_eq!(claire.display_name, "Claire Perrin");
    assert_eq!(claire.attached, vec![uai("0691234S")]);
    assert_eq!(claire.responsible_for, vec![uai("0691234S")]);
    let sophie = dir
        .authenticate(&uid("slefevre"), &pw("Referent-2026"))
        .unwrap();
    assert_eq!(sophie.attached, vec![uai("0691234S"), uai("0692418D")]);
    assert!(sophie.responsible_for.is_empty());
    // A deputy head by function: direction on her main attachment only.
    let anne = dir
        .authenticate(&uid("adurand"), &pw("Adjointe-2026"))
        .unwrap();
    assert_eq!(anne.attached, vec![uai("0691234S"), uai("0692418D")]);
    assert_eq!(anne.responsible_for, vec![uai("0691234S")]);
    assert!(anne.is_principal_of(&uai("0691234S")));
    assert!(!anne.is_principal_of(&uai("0692418D")));
    let marc = dir
        .authenticate(&uid("mdubois"), &pw("Enseignant-2026"))
        .unwrap();
    assert_eq!(
        marc.display_name, "Marc Dubois-Roche",
        "cn when no displayName"
    );
    assert_eq!(
        marc.attached,
        vec![uai("0691234S")],
        "a value that is not a UAI is skipped"
    );

    for (who, password) in [
        ("cperrin", "principal-2026"),
        ("cperrin", "Referent-2026"),
        ("nobody", "Principal-2026"),
    ] {
        assert!(
            matches!(
                dir.authenticate(&uid(who), &pw(password)),
                Err(DirectoryError::InvalidCredentials(_))
            ),
            "{who}/{password}"
        );
    }
    for blank in ["", " ", "   \t"] {
        assert!(matches!(
            dir.authenticate(&uid("cperrin"), &pw(blank)),
            Err(DirectoryError::InvalidCredentials(_))
        ));
    }

    assert_eq!(
        dir.lookup(&uid("hnguessan"))
            .unwrap()
            .unwrap()
            .responsible_for,
        vec![uai("0692418D")]
    );
    assert!(dir.lookup(&uid("nobody")).unwrap().is_none());

    let college = uai("0691234S");
    assert_eq!(
        uids(&dir.search_staff(&college, "", 50).unwrap()),
        ["adurand", "cperrin", "mdubois", "slefevre"]
    );
    assert_eq!(
        uids(&dir.search_staff(&college, "lef", 50).unwrap()),
        ["slefevre"]
    );
    assert_eq!(
        uids(&dir.search_staff(&college, "Dub", 50).unwrap()),
        ["mdubois"]
    );
    assert_eq!(
        uids(&dir.search_staff(&college, "sophie", 50).unwrap()),
        ["slefevre"]
    );
    assert_eq!(uids(&dir.search_staff(&college, "", 2).unwrap()).len(), 2);
    assert_eq!(
        uids(&dir.search_staff(&uai("0692418D"), "", 50).unwrap()),
        ["adurand", "hnguessan", "slefevre"]
    );
    assert!(
        dir.search_staff(&uai("0330001X"), "", 50)
            .unwrap()
            .is_empty()
    );
    for hostile in ["*", "a)(uid=*", ")(|(uid=*", "\\2a", "*)(FrEduRne=*"] {
        assert!(
            dir.search_staff(&college, hostile, 50).unwrap().is_empty(),
            "{hostile}"
        );
    }
}

#[test]
fn local_directory_keeps_the_contract() {
    let db = TestDb::migrated();
    let mut conn = db.connect();
    for (uid, name, password, attached, responsible, direction) in fixture_staff() {
        let uais = |attribute: &str, values: &[String]| -> Vec<String> {
            parse_uai_values(&uid, attribute, values.iter().map(String::as_str))
                .iter()
                .map(|u| u.as_str().to_owned())
                .collect()
        };
        let attached = uais("FrEduRne", &attached);
        let responsible = uais("FrEduRneResp", &responsible);
        let a: Vec<&str> = attached.iter().map(String::as_str).collect();
        let r: Vec<&str> = responsible.iter().map(String::as_str).collect();
        add_agent(&mut conn, &uid, &name, &password, &a, &r);
        for main in uais("rne", &direction) {
            add_direction(&mut conn, &uid, &main);
        }
    }
    let dir = LocalDirectory::new(db.pool().pool().clone()).unwrap();
    contract(&dir);
}

#[test]
fn ldap_directory_keeps_the_contract_over_starttls() {
    let server = LdapServer::shared();
    contract(&LdapDirectory::new(&server.settings(false)).unwrap());
}

#[test]
fn ldap_directory_keeps_the_contract_over_ldaps() {
    let server = LdapServer::shared();
    contract(&LdapDirectory::new(&server.settings(true)).unwrap());
}
