//! The client address (BRIEF rule 6), used by the parents' gate, the throttles and the audit.
//! Never `realip_remote_addr()`: it believes any `X-Forwarded-For`.

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::http::header::HeaderMap;
use actix_web::{FromRequest, HttpRequest, web};
use ipnet::IpNet;

use crate::web::state::AppState;

/// The socket peer and the client it speaks for (`None`: unknown, inside no network).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr {
    pub peer: Option<IpAddr>,
    pub client: Option<IpAddr>,
}

impl ClientAddr {
    pub fn from_request(req: &HttpRequest, trusted_proxies: &[IpNet]) -> Self {
        let peer = req.peer_addr().map(|a| a.ip().to_canonical());
        let client = resolve_client(peer, req.headers(), trusted_proxies);
        Self { peer, client }
    }

    /// Whether the client is inside one of `networks`; an unknown client never is.
    pub fn is_inside(&self, networks: &[IpNet]) -> bool {
        self.client.is_some_and(|ip| in_any(ip, networks))
    }

    pub fn peer_text(&self) -> Option<String> {
        self.peer.map(|ip| ip.to_string())
    }

    pub fn client_text(&self) -> Option<String> {
        self.client.map(|ip| ip.to_string())
    }
}

/// Whether `ip` is inside one of `networks`, whichever way either is spelt: addresses are
/// normalised to IPv4, so a network written in the IPv4-mapped form (`::ffff:10.0.0.0/104`)
/// must still hold them (else a proxy so listed would itself become the client).
fn in_any(ip: IpAddr, networks: &[IpNet]) -> bool {
    let ip = ip.to_canonical();
    let mapped = match ip {
        IpAddr::V4(v4) => Some(IpAddr::V6(v4.to_ipv6_mapped())),
        IpAddr::V6(_) => None,
    };
    networks
        .iter()
        .any(|n| n.contains(&ip) || mapped.is_some_and(|m| n.contains(&m)))
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    in_any(ip, trusted)
}

/// The peer, unless it is a trusted proxy: then the right-most `X-Forwarded-For` entry
/// that is not itself a trusted proxy. A missing or malformed header, or one holding only
/// trusted proxies, gives `None`.
pub fn resolve_client(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    if !is_trusted(peer, trusted) {
        return Some(peer);
    }
    let mut entries = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let text = value.to_str().ok()?;
        for part in text.split(',') {
            entries.push(parse_entry(part)?);
        }
    }
    entries
        .into_iter()
        .rev()
        .find(|ip| !is_trusted(*ip, trusted))
}

/// One `X-Forwarded-For` entry: an address, IPv6 possibly in brackets; nothing else.
fn parse_entry(part: &str) -> Option<IpAddr> {
    let part = part.trim();
    let bare = part
        .strip_prefix('[')
        .and_then(|p| p.strip_suffix(']'))
        .unwrap_or(part);
    bare.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

impl FromRequest for ClientAddr {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trusted = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.settings.network.trusted_proxies.as_slice())
            .unwrap_or(&[]);
        ready(Ok(ClientAddr::from_request(req, trusted)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    /// One resolution: the socket peer, the `X-Forwarded-For` lines, the client it gives
    /// (`None`: unknown).
    type Case<'a> = (&'a str, &'a [&'a str], Option<&'a str>);

    /// Resolves every case behind the `trusted` proxies.
    fn resolves(trusted: &[&str], cases: &[Case<'_>]) {
        let trusted = nets(trusted);
        for &(peer, lines, client) in cases {
            let got = resolve_client(ip(peer), &headers(lines), &trusted);
            assert_eq!(got, client.and_then(ip), "peer {peer}, header {lines:?}");
        }
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_the_header_says() {
        let client = Some("203.0.113.7");
        resolves(&["10.0.0.1/32"], &[("203.0.113.7", &["10.1.2.3"], client)]);
        resolves(&[], &[("203.0.113.7", &[], client)]);
    }

    #[test]
    fn trusted_proxy_gives_the_rightmost_untrusted_entry() {
        let client = Some("192.0.2.9");
        let one_line = ["198.51.100.1, 192.0.2.9, 10.0.0.5"];
        // The same list split over two header lines.
        let two_lines = ["198.51.100.1", "192.0.2.9, 10.0.0.5"];
        resolves(
            &["10.0.0.0/24"],
            &[
                ("10.0.0.1", &one_line, client),
                ("10.0.0.1", &two_lines, client),
            ],
        );
    }

    #[test]
    fn trusted_proxy_without_usable_header_gives_unknown() {
        let trusted = ["10.0.0.0/24"];
        let only_proxies = ("10.0.0.1", &["10.0.0.2, 10.0.0.3"][..], None);
        resolves(&trusted, &[("10.0.0.1", &[], None), only_proxies]);
        for bad in [
            "",
            "garbage",
            "192.0.2.9, ",
            "192.0.2.9:443",
            "192.0.2.9;x",
            "unknown, 192.0.2.9",
        ] {
            resolves(&trusted, &[("10.0.0.1", &[bad], None)]);
        }
    }

    #[test]
    fn ipv4_mapped_ipv6_is_normalised() {
        let v4 = Some("192.0.2.4");
        resolves(
            &["10.0.0.1/32"],
            &[
                ("::ffff:10.0.0.1", &["::ffff:192.0.2.4"], v4),
                ("::ffff:192.0.2.4", &[], v4),
                ("10.0.0.1", &["[2001:db8::1]"], Some("2001:db8::1")),
            ],
        );
    }

    #[test]
    fn networks_in_the_ipv4_mapped_form_hold_ipv4_addresses() {
        // Found by the property tests: a proxy listed as `::ffff:203.0.1.0/120` was not
        // recognised once its address was normalised, and became the client itself.
        resolves(
            &["::ffff:203.0.1.0/120"],
            &[
                ("::ffff:203.0.1.7", &[], None),
                ("203.0.1.7", &["192.0.2.4, 203.0.1.9"], Some("192.0.2.4")),
            ],
        );
        let inside = ClientAddr {
            peer: None,
            client: ip("10.0.0.9"),
        };
        assert!(inside.is_inside(&nets(&["::ffff:10.0.0.0/120"])));
    }

    #[test]
    fn unknown_is_inside_no_network() {
        let all = nets(&["0.0.0.0/0", "::/0"]);
        let unknown = ClientAddr {
            peer: ip("10.0.0.1"),
            client: None,
        };
        assert!(!unknown.is_inside(&all));
        let known = ClientAddr {
            peer: ip("10.0.0.1"),
            client: ip("192.0.2.1"),
        };
        assert!(known.is_inside(&all));
        assert!(!known.is_inside(&nets(&["198.51.100.0/24"])));
    }
}

#[cfg(test)]
#[path = "client_addr_proptests.rs"]
mod proptests;
