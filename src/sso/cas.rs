//! A CAS 3.0 client: the browser goes to `{cas}/login?service=…` and comes back to our
//! service URL with a ticket, which we validate with `{cas}/p3/serviceValidate` for the same
//! service URL. The server refuses a ticket issued for another service or already used; with
//! `renew=true` on both legs, it vouches only for a sign-in made just now.

use quick_xml::Reader;
use quick_xml::events::Event;

use super::{CAS_RETURN_PATH, SIGN_IN_PATH, SsoError, http_client};
use crate::config::CasSettings;
use crate::import::xml::resolve_reference;

/// A validation answer larger than this is not a CAS answer.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Who the CAS server vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasIdentity {
    /// The value of the configured attribute, else the CAS user.
    pub uid: String,
}

/// What `p3/serviceValidate` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CasAnswer {
    Success {
        user: String,
        attributes: Vec<(String, String)>,
    },
    /// The server's code (`INVALID_TICKET`…); its message is not kept (it may quote the
    /// ticket).
    Failure { code: String },
}

pub struct Cas {
    base: String,
    user_attribute: String,
    origin: String,
    http: reqwest::Client,
    pub label: String,
}

impl Cas {
    pub fn new(settings: &CasSettings, origin: &str) -> Result<Self, SsoError> {
        Ok(Self {
            base: settings.url.trim().trim_end_matches('/').to_owned(),
            user_attribute: settings.user_attribute.trim().to_owned(),
            origin: origin.to_owned(),
            http: http_client("sso.cas", settings.ca_file.as_deref(), settings.timeout_ms)?,
            label: settings.label.clone(),
        })
    }

    /// Our service URL for one sign-in: the callback with the flow's `state`, which binds the
    /// ticket to the browser that started it.
    pub fn service(&self, state: &str) -> String {
        let mut url = format!("{}{CAS_RETURN_PATH}", self.origin);
        url.push_str("?etat=");
        url.push_str(&encode(state));
        url
    }

    /// Where the browser signs in; `renew`: even with a CAS session, the password again.
    pub fn login_url(&self, service: &str, renew: bool) -> String {
        let mut url = format!("{}/login?service={}", self.base, encode(service));
        if renew {
            url.push_str("&renew=true");
        }
        url
    }

    /// The CAS logout, which sends the browser back to our sign-in page.
    pub fn logout_url(&self) -> String {
        let back = format!("{}{SIGN_IN_PATH}", self.origin);
        format!("{}/logout?service={}", self.base, encode(&back))
    }

    /// Validates `ticket` for `service`: the person the server vouches for, or why not.
    pub async fn validate(
        &self,
        ticket: &str,
        service: &str,
        renew: bool,
    ) -> Result<CasIdentity, SsoError> {
        let mut query = vec![("service", service), ("ticket", ticket)];
        if renew {
            query.push(("renew", "true"));
        }
        let url = format!("{}/p3/serviceValidate", self.base);
        // reqwest's errors name the URL, which holds the ticket: never in a log or the audit.
        let unreachable = |e: reqwest::Error| SsoError::Unreachable(e.without_url().to_string());
        let mut response = self
            .http
            .get(&url)
            .query(&query)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        if !status.is_success() {
            return Err(SsoError::Garbage(format!(
                "serviceValidate answered {status}"
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(SsoError::Garbage("serviceValidate answer too large".into()));
            }
            body.extend_from_slice(&chunk);
        }
        let body = String::from_utf8(body)
            .map_err(|_| SsoError::Garbage("serviceValidate answer is not UTF-8".into()))?;
        if body.trim() == "no" {
            // A CAS 1.0 refusal, which some servers give to `renew=true` with a ticket that
            // did not come from a sign-in just now.
            return Err(SsoError::Refused("CAS answered no".into()));
        }
        match parse_answer(&body)? {
            // The code only: the server's message may quote the ticket.
            CasAnswer::Failure { code } => Err(SsoError::Refused(format!(
                "CAS {}",
                code.chars().take(40).collect::<String>()
            ))),
            CasAnswer::Success { user, attributes } => self.identity(user, &attributes),
        }
    }

    fn identity(
        &self,
        user: String,
        attributes: &[(String, String)],
    ) -> Result<CasIdentity, SsoError> {
        if self.user_attribute.is_empty() {
            return Ok(CasIdentity { uid: user });
        }
        attributes
            .iter()
            .find(|(name, _)| *name == self.user_attribute)
            .map(|(_, value)| CasIdentity { uid: value.clone() })
            .ok_or_else(|| {
                SsoError::Refused(format!(
                    "the CAS answer has no attribute {}",
                    self.user_attribute
                ))
            })
    }
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Reads a `p3/serviceValidate` answer (CAS 3.0 XML, `cas:` namespace): a complete
/// document whose root is `serviceResponse`, with exactly one
/// `serviceResponse/authenticationSuccess/user`, or an `authenticationFailure`.
pub fn parse_answer(xml: &str) -> Result<CasAnswer, SsoError> {
    let garbage = |m: &str| SsoError::Garbage(format!("serviceValidate: {m}"));
    let mut reader = Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let (mut users, mut failure, mut closed) = (Vec::new(), None, false);
    let mut attributes = Vec::new();
    loop {
        match reader.read_event().map_err(|e| garbage(&e.to_string()))? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if path.is_empty() && (closed || name != "serviceResponse") {
                    return Err(garbage("not a serviceResponse document"));
                }
                if name == "authenticationFailure" {
                    let code = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.local_name().as_ref() == b"code")
                        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()));
                    failure = Some(code.unwrap_or_default());
                }
                path.push(name);
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.decode().map_err(|e| garbage(&e.to_string()))?),
            Event::CData(t) => text.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) => {
                text.push(resolve_reference(&r).ok_or_else(|| garbage("unknown entity"))?);
            }
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                let value = text.trim().to_owned();
                match (path.as_slice(), name.as_str()) {
                    ([root, success], "user")
                        if root == "serviceResponse" && success == "authenticationSuccess" =>
                    {
                        users.push(value);
                    }
                    ([.., parent], attribute) if parent == "attributes" => {
                        attributes.push((attribute.to_owned(), value));
                    }
                    ([], "serviceResponse") => closed = true,
                    _ => {}
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !closed {
        return Err(garbage("the document is not complete"));
    }
    if let Some(code) = failure {
        return Ok(CasAnswer::Failure { code });
    }
    match users.as_slice() {
        [user] if !user.is_empty() => Ok(CasAnswer::Success {
            user: user.clone(),
            attributes,
        }),
        _ => Err(garbage("not exactly one user")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_success_with_attributes() {
        let xml = r#"<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
          <cas:authenticationSuccess>
            <cas:user>slefevre</cas:user>
            <cas:attributes>
              <cas:uid>slefevre</cas:uid>
              <cas:cn>Sophie Lef&#232;vre &amp; co</cas:cn>
            </cas:attributes>
          </cas:authenticationSuccess>
        </cas:serviceResponse>"#;
        let CasAnswer::Success { user, attributes } = parse_answer(xml).unwrap() else {
            panic!("not a success");
        };
        assert_eq!(user, "slefevre");
        assert!(attributes.contains(&("cn".into(), "Sophie Lefèvre & co".into())));
    }

    #[test]
    fn a_failure_keeps_its_code() {
        let xml = r#"<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
          <cas:authenticationFailure code="INVALID_SERVICE">Ticket ST-1 does not match</cas:authenticationFailure>
        </cas:serviceResponse>"#;
        assert_eq!(
            parse_answer(xml).unwrap(),
            CasAnswer::Failure {
                code: "INVALID_SERVICE".into()
            }
        );
    }

    #[test]
    fn garbage_is_not_a_user() {
        for body in [
            "",
            "<html><body>Bad gateway</body></html>",
            "<cas:serviceResponse xmlns:cas=\"x\"><cas:authenticationSuccess><cas:user> </cas:user></cas:authenticationSuccess></cas:serviceResponse>",
            "<cas:serviceResponse><cas:authenticationSuccess><cas:user>x",
            "<a>&bogus;</a>",
        ] {
            assert!(
                matches!(parse_answer(body), Err(SsoError::Garbage(_))),
                "{body:?}"
            );
        }
    }

    #[test]
    fn two_users_or_a_truncated_answer_are_not_a_user() {
        let two = "<cas:serviceResponse xmlns:cas=\"x\"><cas:authenticationSuccess><cas:user>a</cas:user><cas:user>b</cas:user></cas:authenticationSuccess></cas:serviceResponse>";
        assert!(parse_answer(two).is_err());
        let cut = "<cas:serviceResponse xmlns:cas=\"x\"><cas:authenticationSuccess><cas:user>a</cas:user></cas:authenticationSuccess>";
        assert!(parse_answer(cut).is_err());
        let nested = "<x><cas:serviceResponse xmlns:cas=\"x\"><cas:authenticationSuccess><cas:user>a</cas:user></cas:authenticationSuccess></cas:serviceResponse></x>";
        assert!(parse_answer(nested).is_err());
    }

    #[test]
    fn a_user_nested_elsewhere_is_not_the_user() {
        let xml = "<cas:serviceResponse xmlns:cas=\"x\"><cas:authenticationSuccess><cas:attributes><cas:user>intrus</cas:user></cas:attributes></cas:authenticationSuccess></cas:serviceResponse>";
        assert!(parse_answer(xml).is_err());
    }
}
