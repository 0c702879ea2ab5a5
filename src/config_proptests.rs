//! Property tests of the configuration's CIDR lists (`[network] trusted_proxies`,
//! `admin_networks`): any text is refused or kept exactly, never a panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use proptest::prelude::*;

use super::Settings;
use crate::domain::proptests::{config, hostile};

/// A TOML basic string holding `s` exactly.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A network as an operator writes it, host bits and the IPv4-mapped form included.
fn cidr() -> impl Strategy<Value = String> {
    prop_oneof![
        (any::<u32>(), 0u8..=32).prop_map(|(a, p)| format!("{}/{p}", Ipv4Addr::from(a))),
        (any::<u128>(), 0u8..=128).prop_map(|(a, p)| format!("{}/{p}", Ipv6Addr::from(a))),
        (any::<u32>(), 96u8..=128)
            .prop_map(|(a, p)| format!("{}/{p}", Ipv4Addr::from(a).to_ipv6_mapped())),
    ]
}

fn entry() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => cidr(),
        1 => hostile().prop_map(|s| s.chars().take(64).collect()),
        1 => prop_oneof![
            Just("10.0.0.1".to_owned()),
            Just("10.0.0.0/33".to_owned()),
            Just("10.0.0.0/8 ".to_owned()),
            Just("2001:db8::/129".to_owned()),
            Just("::ffff:10.0.0.0/104".to_owned()),
            Just("0.0.0.0/0".to_owned()),
        ],
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn network_lists_are_kept_exactly_or_refused(
        trusted in prop::collection::vec(entry(), 0..4),
        admin in prop::collection::vec(entry(), 0..4),
    ) {
        let list = |v: &[String]| v.iter().map(|s| toml_string(s)).collect::<Vec<_>>().join(", ");
        let text = format!(
            "[network]\ntrusted_proxies = [{}]\nadmin_networks = [{}]\n",
            list(&trusted),
            list(&admin)
        );
        let parse = |v: &[String]| v.iter().map(|s| s.parse::<IpNet>()).collect::<Result<Vec<_>, _>>();
        match (Settings::from_toml(Some(&text)), parse(&trusted), parse(&admin)) {
            (Ok(settings), Ok(t), Ok(a)) => {
                prop_assert_eq!(settings.network.trusted_proxies, t);
                prop_assert_eq!(settings.network.admin_networks, a);
            }
            (Err(e), Err(_), _) | (Err(e), _, Err(_)) => {
                let e = e.to_string();
                prop_assert!(e.contains("network") || e.contains("proxies"), "{e}");
            }
            (got, t, a) => prop_assert!(false, "{got:?} for {t:?} / {a:?}"),
        }
    }

    #[test]
    fn every_configured_network_holds_its_own_address(net in cidr()) {
        let text = format!("[network]\nadmin_networks = [{}]\n", toml_string(&net));
        let settings = Settings::from_toml(Some(&text))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let parsed = settings.network.admin_networks.first().copied()
            .ok_or_else(|| TestCaseError::fail("no network kept"))?;
        let addr: IpAddr = net.split('/').next().unwrap_or_default().parse()
            .map_err(|_| TestCaseError::fail("address"))?;
        prop_assert!(parsed.contains(&addr));
    }
}
