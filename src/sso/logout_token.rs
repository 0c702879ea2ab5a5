//! OpenID Connect Back-Channel Logout 1.0: the provider POSTs a signed logout token naming
//! the session (`sid`) or the person (`sub`) it ended. The token is checked as the spec asks:
//! an asymmetric signature by one of the provider's keys, our issuer and audience, a recent
//! `iat`, the back-channel logout event, and no `nonce`. The signature itself is verified by
//! the `openidconnect` crate's key type.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::{ClientId, IssuerUrl, JsonWebKey};
use serde_json::{Map, Value};

use super::SsoError;

/// The event a logout token must carry.
pub const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// How far a token's `iat` may be from our clock.
const IAT_WINDOW_MINUTES: i64 = 5;

/// Who a verified logout token logs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutClaims {
    pub sid: Option<String>,
    pub sub: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LogoutError {
    #[error("not a signed JWT")]
    Malformed,
    #[error("the signing key is not among the provider's keys")]
    UnknownKey,
    #[error("algorithm {0} refused")]
    Algorithm(String),
    #[error("bad signature")]
    Signature,
    #[error("claim {0} missing or wrong")]
    Claim(&'static str),
}

/// The claims of a JWT's payload, without any check (callers check the signature first).
pub fn payload(token: &str) -> Result<Map<String, Value>, SsoError> {
    let part = token
        .split('.')
        .nth(1)
        .ok_or_else(|| SsoError::Garbage("a token without a payload".into()))?;
    json_part(part).ok_or_else(|| SsoError::Garbage("a token whose payload is not JSON".into()))
}

fn json_part(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The signatures a provider's tokens may carry: asymmetric ones only. `none` and the HMAC
/// ones (keyed with the client secret, which proves nothing about the provider) are refused.
pub const ASYMMETRIC: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

fn algorithm(name: &str) -> Result<CoreJwsSigningAlgorithm, LogoutError> {
    serde_json::from_value(Value::String(name.to_owned()))
        .ok()
        .filter(|alg| ASYMMETRIC.contains(alg))
        .ok_or_else(|| LogoutError::Algorithm(name.to_owned()))
}

/// Verifies `token` against the provider's `keys`, `issuer` and our `client_id` at `now`.
pub fn verify(
    token: &str,
    keys: &CoreJsonWebKeySet,
    issuer: &IssuerUrl,
    client_id: &ClientId,
    now: DateTime<Utc>,
) -> Result<LogoutClaims, LogoutError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, body, signature] = parts[..] else {
        return Err(LogoutError::Malformed);
    };
    let header = json_part(header).ok_or(LogoutError::Malformed)?;
    let claims = json_part(body).ok_or(LogoutError::Malformed)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| LogoutError::Malformed)?;
    let alg = algorithm(header.get("alg").and_then(Value::as_str).unwrap_or("none"))?;
    let kid = header.get("kid").and_then(Value::as_str);
    let candidates: Vec<_> = keys
        .keys()
        .iter()
        .filter(|k| kid.is_none_or(|kid| k.key_id().is_some_and(|id| id.as_str() == kid)))
        .collect();
    if candidates.is_empty() {
        return Err(LogoutError::UnknownKey);
    }
    let signed = format!("{}.{}", parts[0], parts[1]);
    if !candidates.iter().any(|k| {
        k.verify_signature(&alg, signed.as_bytes(), &signature)
            .is_ok()
    }) {
        return Err(LogoutError::Signature);
    }
    check_claims(&claims, issuer, client_id, now)
}

fn check_claims(
    claims: &Map<String, Value>,
    issuer: &IssuerUrl,
    client_id: &ClientId,
    now: DateTime<Utc>,
) -> Result<LogoutClaims, LogoutError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(issuer.as_str()) {
        return Err(LogoutError::Claim("iss"));
    }
    let ours = |v: &Value| v.as_str() == Some(client_id.as_str());
    let audience_ok = match claims.get("aud") {
        Some(Value::Array(all)) => all.iter().any(ours),
        Some(one) => ours(one),
        None => false,
    };
    if !audience_ok {
        return Err(LogoutError::Claim("aud"));
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .ok_or(LogoutError::Claim("iat"))?;
    if (now - iat).abs() > Duration::minutes(IAT_WINDOW_MINUTES) {
        return Err(LogoutError::Claim("iat"));
    }
    if claims
        .get("exp")
        .and_then(Value::as_i64)
        .is_some_and(|exp| exp < now.timestamp())
    {
        return Err(LogoutError::Claim("exp"));
    }
    let event = claims
        .get("events")
        .and_then(Value::as_object)
        .is_some_and(|e| e.contains_key(BACKCHANNEL_EVENT));
    if !event {
        return Err(LogoutError::Claim("events"));
    }
    if claims.contains_key("nonce") {
        return Err(LogoutError::Claim("nonce"));
    }
    let (sid, sub) = (text("sid"), text("sub"));
    if sid.is_none() && sub.is_none() {
        return Err(LogoutError::Claim("sid"));
    }
    Ok(LogoutClaims {
        sid: sid.map(str::to_owned),
        sub: sub.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 8, 9, 0, 0).unwrap()
    }

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn check(v: Value) -> Result<LogoutClaims, LogoutError> {
        let issuer = IssuerUrl::new("https://idp.ac-test.fr".into()).unwrap();
        check_claims(&claims(v), &issuer, &ClientId::new("educt".into()), now())
    }

    fn good() -> Value {
        json!({
            "iss": "https://idp.ac-test.fr", "aud": ["educt"], "iat": now().timestamp(),
            "jti": "1", "sid": "s-1", "events": { BACKCHANNEL_EVENT: {} }
        })
    }

    #[test]
    fn a_good_token_names_its_session() {
        let got = check(good()).unwrap();
        assert_eq!(got.sid.as_deref(), Some("s-1"));
    }

    #[test]
    fn each_claim_is_checked() {
        let mutate = |f: &dyn Fn(&mut Map<String, Value>)| {
            let mut v = claims(good());
            f(&mut v);
            check(Value::Object(v))
        };
        type Change<'a> = &'a dyn Fn(&mut Map<String, Value>);
        let cases: [(&str, Change); 7] = [
            ("iss", &|v| {
                drop(v.insert("iss".into(), json!("https://other")))
            }),
            ("aud", &|v| {
                drop(v.insert("aud".into(), json!("someone-else")))
            }),
            ("iat", &|v| {
                drop(v.insert("iat".into(), json!(now().timestamp() - 3600)))
            }),
            ("exp", &|v| {
                drop(v.insert("exp".into(), json!(now().timestamp() - 1)))
            }),
            ("events", &|v| drop(v.insert("events".into(), json!({})))),
            ("nonce", &|v| drop(v.insert("nonce".into(), json!("n")))),
            ("sid", &|v| drop(v.remove("sid"))),
        ];
        for (claim, f) in cases {
            assert_eq!(mutate(f), Err(LogoutError::Claim(claim)), "{claim}");
        }
    }

    #[test]
    fn symmetric_and_absent_algorithms_are_refused() {
        for alg in ["none", "HS256", "bogus"] {
            assert!(algorithm(alg).is_err(), "{alg}");
        }
        assert!(algorithm("RS256").is_ok());
    }

    #[test]
    fn a_token_that_is_not_a_jwt_is_malformed() {
        let keys = CoreJsonWebKeySet::new(vec![]);
        let issuer = IssuerUrl::new("https://idp.ac-test.fr".into()).unwrap();
        let client = ClientId::new("educt".into());
        for token in ["", "a.b", "a.b.c.d", "!!.!!.!!"] {
            assert_eq!(
                verify(token, &keys, &issuer, &client, now()),
                Err(LogoutError::Malformed),
                "{token}"
            );
        }
    }
}
