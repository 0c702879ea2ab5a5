//! Property tests of the client address resolution (BRIEF rule 6) against hostile
//! `X-Forwarded-For` headers and trusted-proxy lists written in every form (IPv4, IPv6,
//! IPv4-mapped IPv6).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;

use super::resolve_client;
use crate::domain::proptests::{config, hostile};

/// Small address spaces, so that peers, entries and networks often meet.
fn v4() -> impl Strategy<Value = Ipv4Addr> {
    (
        prop_oneof![Just(10u8), Just(192u8), Just(203u8)],
        0u8..2,
        0u8..4,
    )
        .prop_map(|(a, c, d)| Ipv4Addr::new(a, 0, c, d))
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        v4().prop_map(IpAddr::V4),
        v4().prop_map(|a| IpAddr::V6(a.to_ipv6_mapped())),
        (0u16..4).prop_map(|n| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n))),
    ]
}

/// A trusted-proxy network as an operator may write it, the IPv4-mapped form included.
fn net() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        (v4(), 24u8..=32).prop_filter_map("prefix", |(a, p)| {
            Ipv4Net::new(a, p).ok().map(|n| IpNet::V4(n.trunc()))
        }),
        (v4(), 120u8..=128).prop_filter_map("prefix", |(a, p)| {
            Ipv6Net::new(a.to_ipv6_mapped(), p)
                .ok()
                .map(|n| IpNet::V6(n.trunc()))
        }),
        (0u16..4, 126u8..=128).prop_filter_map("prefix", |(n, p)| {
            Ipv6Net::new(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n), p)
                .ok()
                .map(|n| IpNet::V6(n.trunc()))
        }),
    ]
}

/// One `X-Forwarded-For` entry: an address in any spelling, or garbage.
#[derive(Debug, Clone)]
enum Entry {
    Addr(IpAddr, bool),
    Junk(String),
}

impl Entry {
    fn text(&self) -> String {
        match self {
            Entry::Addr(IpAddr::V6(a), true) => format!(" [{a}]"),
            Entry::Addr(a, _) => format!(" {a}"),
            Entry::Junk(s) => s.clone(),
        }
    }
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        6 => (ip(), any::<bool>()).prop_map(|(a, b)| Entry::Addr(a, b)),
        1 => hostile().prop_map(Entry::Junk),
        1 => prop_oneof![
            Just("unknown".to_owned()),
            Just(String::new()),
            Just("10.0.0.1:443".to_owned()),
            Just("[2001:db8::1]:443".to_owned()),
            Just("10.0.0.1 10.0.0.2".to_owned()),
            Just("::ffff:10.0.0.1%eth0".to_owned()),
        ]
        .prop_map(Entry::Junk),
    ]
}

fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// The rule's own notion of "a trusted proxy": the address in any of its spellings.
fn trusted_oracle(ip: IpAddr, nets: &[IpNet]) -> bool {
    let ip = canonical(ip);
    let mapped = match ip {
        IpAddr::V4(a) => Some(IpAddr::V6(a.to_ipv6_mapped())),
        IpAddr::V6(_) => None,
    };
    nets.iter()
        .any(|n| n.contains(&ip) || mapped.is_some_and(|m| n.contains(&m)))
}

/// What a well-formed entry means, or `None` for a malformed one (as the rule reads it).
fn meaning(e: &Entry) -> Option<IpAddr> {
    let text = e.text();
    let part = text.trim();
    let bare = part
        .strip_prefix('[')
        .and_then(|p| p.strip_suffix(']'))
        .unwrap_or(part);
    bare.parse::<IpAddr>().ok().map(canonical)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn forwarded_for_never_yields_a_trusted_proxy_nor_a_malformed_address(
        peer in proptest::option::of(ip()),
        trusted in prop::collection::vec(net(), 0..4),
        lines in prop::collection::vec(prop::collection::vec(entry(), 0..5), 0..3),
    ) {
        let mut headers = HeaderMap::new();
        for line in &lines {
            let text = line.iter().map(Entry::text).collect::<Vec<_>>().join(",");
            // A value the HTTP layer would not carry is not sent (it never reaches us).
            if let Ok(value) = HeaderValue::from_str(&text) {
                headers.append(HeaderName::from_static("x-forwarded-for"), value);
            }
        }
        let got = resolve_client(peer, &headers, &trusted);
        if let Some(ip) = got {
            prop_assert_eq!(ip, canonical(ip), "not normalised");
        }
        let Some(peer) = peer else {
            prop_assert_eq!(got, None);
            return Ok(());
        };
        if !trusted_oracle(peer, &trusted) {
            prop_assert_eq!(got, Some(canonical(peer)), "an untrusted peer is the client");
            return Ok(());
        }
        // The peer is a trusted proxy: only a well-formed header can name the client.
        if let Some(ip) = got {
            prop_assert!(!trusted_oracle(ip, &trusted), "a trusted proxy came out: {ip}");
        }
        // The header as the rule reads it: every line, split on commas; one entry that is
        // not a bare address (or a line that is not visible ASCII) makes it malformed.
        let mut parts: Option<Vec<IpAddr>> = Some(Vec::new());
        for value in headers.get_all("x-forwarded-for") {
            let parsed: Option<Vec<IpAddr>> = value
                .to_str()
                .ok()
                .and_then(|text| text.split(',').map(|p| meaning(&Entry::Junk(p.to_owned()))).collect());
            parts = match (parts, parsed) {
                (Some(mut all), Some(more)) => {
                    all.extend(more);
                    Some(all)
                }
                _ => None,
            };
        }
        let Some(parts) = parts else {
            prop_assert_eq!(got, None, "a malformed header gave an address");
            return Ok(());
        };
        let expected = parts
            .into_iter()
            .rev()
            .find(|ip| !trusted_oracle(*ip, &trusted));
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn admin_networks_match_every_spelling_of_an_address(
        client in ip(),
        networks in prop::collection::vec(net(), 0..4),
    ) {
        let addr = super::ClientAddr { peer: None, client: Some(canonical(client)) };
        prop_assert_eq!(addr.is_inside(&networks), trusted_oracle(client, &networks));
    }
}
