//! The password policy control (draft-behera-ldap-password-policy), which slapd's ppolicy
//! overlay answers when a request carries it, and what its errors say in French.

use ldap3::LdapResult;
use ldap3::asn1::{TagClass, parse_tag};
use ldap3::controls::RawControl;

pub const PPOLICY_OID: &str = "1.3.6.1.4.1.42.2.27.8.5.1";

/// The request control (no value): "tell me what the policy says".
pub fn request() -> RawControl {
    RawControl {
        ctype: PPOLICY_OID.into(),
        crit: false,
        val: None,
    }
}

/// The error the response control carries, if any (never panics on a malformed value).
pub fn error_of(result: &LdapResult) -> Option<u8> {
    let raw = &result.ctrls.iter().find(|c| c.1.ctype == PPOLICY_OID)?.1;
    let (_, seq) = parse_tag(raw.val.as_deref()?).ok()?;
    seq.expect_constructed()?
        .into_iter()
        .find(|t| t.class == TagClass::Context && t.id == 1)?
        .expect_primitive()?
        .last()
        .copied()
}

/// Error 2: the password was set by an administrator and must be changed now.
pub const CHANGE_AFTER_RESET: u8 = 2;

/// The French reason of a refused write, from the policy's error or else the result code.
pub fn reason(result: &LdapResult) -> String {
    let said = match error_of(result) {
        Some(0) => "le mot de passe a expiré",
        Some(1) => "le compte est bloqué dans l'annuaire",
        Some(2) => "le mot de passe doit d'abord être changé",
        Some(3) => "l'annuaire n'autorise pas ce changement de mot de passe",
        Some(4) => "l'annuaire exige l'ancien mot de passe",
        Some(5) => "le mot de passe est jugé trop simple par l'annuaire",
        Some(6) => "le mot de passe est trop court pour la règle de l'annuaire",
        Some(7) => "le mot de passe a été changé trop récemment",
        Some(8) => "ce mot de passe a déjà été utilisé",
        Some(9) => "le mot de passe est trop long pour la règle de l'annuaire",
        _ => match result.rc {
            19 => "l'annuaire refuse ce mot de passe (règle de mot de passe)",
            32 => "l'entrée du compte n'existe plus dans l'annuaire",
            50 => "le compte de service n'a pas le droit de faire ce changement",
            53 => "l'annuaire refuse d'effectuer ce changement",
            122 => "le compte a changé dans l'annuaire entre-temps ; rechargez la page",
            _ => "l'annuaire a refusé le changement",
        },
    };
    said.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(rc: u32, control: Option<&[u8]>) -> LdapResult {
        LdapResult {
            rc,
            matched: String::new(),
            text: String::new(),
            refs: vec![],
            ctrls: control
                .map(|v| {
                    vec![ldap3::controls::Control(
                        None,
                        RawControl {
                            ctype: PPOLICY_OID.into(),
                            crit: false,
                            val: Some(v.to_vec()),
                        },
                    )]
                })
                .unwrap_or_default(),
        }
    }

    #[test]
    fn the_policy_errors_as_slapd_sends_them() {
        // values seen on slapd 2.5: change after reset, too short, no error
        assert_eq!(error_of(&result(0, Some(&[0x30, 3, 0x81, 1, 2]))), Some(2));
        let short = result(19, Some(&[0x30, 3, 0x81, 1, 6]));
        assert_eq!(error_of(&short), Some(6));
        assert!(reason(&short).contains("trop court"));
        assert_eq!(error_of(&result(49, Some(&[0x30, 0]))), None);
        assert_eq!(error_of(&result(0, None)), None);
        // garbage never panics
        assert_eq!(error_of(&result(0, Some(&[0xff, 0x10, 1]))), None);
        assert!(reason(&result(50, None)).contains("droit"));
    }
}
