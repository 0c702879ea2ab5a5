//! The anonymous forms' CSRF defence (BRIEF rule 12): a signed double-submit cookie. The
//! cookie holds a random nonce; the form carries the nonce's HMAC under the application key,
//! signed for that form (`auth::csrf::form_token`). No database row per visitor.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time};

use super::errors::AppError;
use crate::auth::{csrf, random_token};
use crate::secrets::AppKey;

/// One anonymous form's cookie and signature.
#[derive(Debug, Clone, Copy)]
pub struct DoubleSubmit {
    pub cookie: &'static str,
    pub form: &'static str,
}

/// The staff sign-in form.
pub const SIGNIN: DoubleSubmit = DoubleSubmit {
    cookie: "__Host-educt-signin",
    form: "signin",
};

/// The first sign-in of pupils and parents (both steps).
pub const FIRST_SIGNIN: DoubleSubmit = DoubleSubmit {
    cookie: "__Host-educt-premiere-connexion",
    form: "first-signin",
};

impl DoubleSubmit {
    /// The form's token for this visitor, and the cookie to set when he had none.
    pub fn prepare(
        self,
        req: &HttpRequest,
        key: &AppKey,
    ) -> Result<(String, Option<Cookie<'static>>), AppError> {
        let kept = req
            .cookie(self.cookie)
            .map(|c| c.value().to_owned())
            .filter(|v| (32..=64).contains(&v.len()));
        let (nonce, fresh) = match kept {
            Some(nonce) => (nonce, false),
            None => random_token(32)
                .map(|n| (n, true))
                .map_err(|_| AppError::Internal("random generator failed".into()))?,
        };
        let token = csrf::form_token(key, self.form, &nonce);
        let cookie = fresh.then(|| {
            Cookie::build(self.cookie, nonce)
                .path("/")
                .secure(true)
                .http_only(true)
                .same_site(SameSite::Strict)
                .max_age(time::Duration::hours(12))
                .finish()
        });
        Ok((token, cookie))
    }

    /// Whether the posted token is the one signed for the visitor's cookie.
    pub fn valid(self, req: &HttpRequest, key: &AppKey, given: &str) -> bool {
        let nonce = req.cookie(self.cookie).map(|c| c.value().to_owned());
        csrf::form_token_valid(key, self.form, nonce.as_deref(), given)
    }
}
