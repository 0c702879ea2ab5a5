//! Tests of the configuration loader.
use super::*;
use std::io::Write;

fn with_file(text: &str) -> Result<Settings, ConfigError> {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    Settings::load(Some(f.path()))
}

/// The error a file is refused with.
fn refusal(text: &str) -> String {
    with_file(text).unwrap_err().to_string()
}

#[test]
fn defaults_are_valid() {
    let s = with_file("").unwrap();
    assert_eq!(s.server.bind.to_string(), "127.0.0.1:8080");
    assert_eq!(s.time.zone, chrono_tz::Europe::Paris);
    assert!(s.database_url().unwrap().ends_with("educt-admin.sqlite3"));
}

#[test]
fn unknown_key_is_refused_and_named() {
    let err = refusal("[server]\nbnd = \"127.0.0.1:1\"\n");
    assert!(err.contains("bnd"), "{err}");
    let err = refusal("[nonsense]\na = 1\n");
    assert!(err.contains("nonsense"), "{err}");
}

#[test]
fn unreadable_file_is_refused() {
    let err = Settings::load(Some(Path::new("/nonexistent/educt.toml")))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/educt.toml"), "{err}");
}

#[test]
fn bad_time_zone_is_refused() {
    let err = refusal("[time]\nzone = \"Europe/Lutece\"\n");
    assert!(err.contains("Europe/Lutece"), "{err}");
    assert!(err.contains("time.zone"), "the key is named: {err}");
}

#[test]
fn the_public_url_is_parsed_at_load() {
    let s =
        with_file("[server]\npublic_url = \"https://comptes.ac-test.fr/educt-admin-comptes/\"\n")
            .unwrap();
    let origin = s.server.public_url.as_ref().map(PublicOrigin::as_str);
    assert_eq!(origin, Some("https://comptes.ac-test.fr"));
    let err = refusal("[server]\npublic_url = \"comptes.ac-test.fr\"\n");
    assert!(err.contains("server.public_url"), "the key is named: {err}");
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let s = with_file(
        "[secrets]\nkey = \"c2VjcmV0LWtleS1zZWNyZXQta2V5LXNlY3JldC1rZXk=\"\n[database]\nurl = \"postgres://u:hunter2@db/x\"\n",
    )
    .unwrap();
    let shown = format!("{s:?}");
    assert!(
        !shown.contains("c2VjcmV0") && !shown.contains("hunter2"),
        "{shown}"
    );
    assert!(s.database_url().unwrap().contains("hunter2"));
}

#[test]
fn networks_parse_as_cidr() {
    let s = with_file("[network]\nadmin_networks = [\"10.0.0.0/8\", \"2001:db8::/32\"]\n").unwrap();
    assert_eq!(s.network.admin_networks.len(), 2);
    assert!(with_file("[network]\nadmin_networks = [\"10.0.0.0/33\"]\n").is_err());
}

#[test]
fn the_example_file_loads_and_states_the_defaults() {
    let example = Settings::from_toml(Some(include_str!("../config/example.toml"))).unwrap();
    let defaults = Settings::from_toml(None).unwrap();
    assert_eq!(example.passwords, defaults.passwords);
    assert_eq!(example.activation.enabled, None);
    assert_eq!(example.letters.portal_url, None);
}

#[test]
fn direction_by_function_is_configured_under_directory_ldap() {
    let defaults = crate::config::LdapSettings::default();
    assert_eq!(defaults.direction_functions, ["DIR"]);
    assert_eq!(defaults.attributes.function, "FrEduFonctAdm");
    assert_eq!(defaults.attributes.main_attachment, "rne");
    let s = with_file(
        "[directory.ldap]\ndirection_functions = [\"DIR\", \"PERDIR\"]\n\
         [directory.ldap.attributes]\nfunction = \"title\"\nmain_attachment = \"FrEduRneAffPrinc\"\n",
    )
    .unwrap();
    let ldap = s.directory.ldap.unwrap();
    assert_eq!(ldap.direction_functions, ["DIR", "PERDIR"]);
    assert_eq!(ldap.attributes.function, "title");
    assert_eq!(ldap.attributes.main_attachment, "FrEduRneAffPrinc");
    assert_eq!(ldap.attributes.responsible, "FrEduRneResp", "untouched");
    assert!(with_file("[directory.ldap]\ndirection_function = [\"DIR\"]\n").is_err());
}
