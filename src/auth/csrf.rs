//! CSRF tokens (BRIEF rule 12): a per-session token for signed-in forms, and for the
//! anonymous forms (sign-in, first sign-in) a signed double-submit cookie (no database row
//! per visitor), signed apart for each form.

use base64::Engine;
use subtle::ConstantTimeEq;

use crate::secrets::AppKey;

/// Constant-time comparison of two tokens.
pub fn tokens_match(expected: &str, given: &str) -> bool {
    !expected.is_empty() && expected.as_bytes().ct_eq(given.as_bytes()).into()
}

/// An anonymous form's token for the nonce held in its cookie: HMAC under the application
/// key, bound to the form (`signin`, `first-signin`).
pub fn form_token(key: &AppKey, form: &str, nonce: &str) -> String {
    let label = format!("educt-{form}-csrf/1:");
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(key.hmac(&[label.as_bytes(), nonce.as_bytes()]))
}

/// Whether an anonymous form's token is the one signed for the cookie's nonce.
pub fn form_token_valid(key: &AppKey, form: &str, cookie_nonce: Option<&str>, given: &str) -> bool {
    match cookie_nonce {
        Some(nonce) if nonce.len() >= 32 => tokens_match(&form_token(key, form, nonce), given),
        _ => false,
    }
}

/// The sign-in form's token for the nonce held in its cookie.
pub fn signin_token(key: &AppKey, nonce: &str) -> String {
    form_token(key, "signin", nonce)
}

/// Whether the form's token is the one signed for the cookie's nonce.
pub fn signin_token_valid(key: &AppKey, cookie_nonce: Option<&str>, form_token: &str) -> bool {
    form_token_valid(key, "signin", cookie_nonce, form_token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_double_submit_needs_the_key_and_the_cookie() {
        let key = AppKey::from_bytes([1; 32]);
        let nonce = "n".repeat(43);
        let token = signin_token(&key, &nonce);
        assert!(signin_token_valid(&key, Some(&nonce), &token));
        assert!(!signin_token_valid(&key, None, &token));
        assert!(!signin_token_valid(&key, Some(&"m".repeat(43)), &token));
        assert!(!signin_token_valid(
            &AppKey::from_bytes([2; 32]),
            Some(&nonce),
            &token
        ));
        assert!(!signin_token_valid(&key, Some(&nonce), ""));
        assert!(!signin_token_valid(
            &key,
            Some("short"),
            &signin_token(&key, "short")
        ));
        // Each anonymous form signs apart: a sign-in token is no first sign-in token.
        assert!(!form_token_valid(
            &key,
            "first-signin",
            Some(&nonce),
            &token
        ));
        let first = form_token(&key, "first-signin", &nonce);
        assert!(form_token_valid(&key, "first-signin", Some(&nonce), &first));
    }

    #[test]
    fn empty_tokens_never_match() {
        assert!(!tokens_match("", ""));
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
    }
}
