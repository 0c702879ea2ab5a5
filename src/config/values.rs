//! Configuration values parsed at load: the public origin, the time zone. A bad value stops
//! the start with figment's message, which names the key (`server.public_url`, `time.zone`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The site's origin as users reach it (`https://admin.ac-exemple.fr`, a port if not the
/// scheme's default): what an unsafe request's `Origin` must be behind a proxy. Read from
/// `server.public_url`, any path after the host is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicOrigin(String);

impl PublicOrigin {
    pub fn parse(text: &str) -> Result<Self, String> {
        let url =
            url::Url::parse(text.trim()).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!("{text:?} is not an http(s) URL with a host"));
        }
        Ok(Self(url.origin().ascii_serialization()))
    }

    /// `scheme://host[:port]`, no trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for PublicOrigin {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PublicOrigin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with)]` for a `chrono_tz::Tz` written as its IANA name.
pub(super) mod tz_name {
    use super::*;

    pub fn serialize<S: Serializer>(tz: &chrono_tz::Tz, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(tz.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
        let name = String::deserialize(d)?;
        name.parse()
            .map_err(|_| serde::de::Error::custom(format!("unknown time zone {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_origin_keeps_scheme_host_and_port() {
        let o = PublicOrigin::parse("https://comptes.ac-test.fr/educt-admin-comptes/").unwrap();
        assert_eq!(o.as_str(), "https://comptes.ac-test.fr");
        let o = PublicOrigin::parse(" HTTP://Admin.Example:8443 ").unwrap();
        assert_eq!(o.as_str(), "http://admin.example:8443");
        assert_eq!(
            PublicOrigin::parse("https://a.example:443")
                .unwrap()
                .as_str(),
            "https://a.example"
        );
        for bad in [
            "",
            "admin.example",
            "ftp://admin.example",
            "https://",
            "mailto:a@b",
        ] {
            assert!(PublicOrigin::parse(bad).is_err(), "{bad:?}");
        }
    }
}
