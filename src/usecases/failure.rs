//! What a use case answers when it does not do what was asked: the French sentence the user
//! reads and its class (which the web maps to a status, the CLI to an exit message).

use crate::accounts::reset::{ResetError, store_reason};
use crate::accounts::store::StoreError;
use crate::auth::password::PasswordError;
use crate::db::DbError;

/// The kind of refusal or failure, without any transport type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// The input cannot be acted on (400).
    BadInput,
    /// Nothing there for this actor: its existence is not revealed (404).
    Hidden,
    /// The actor has something here, but not this right (403).
    Forbidden,
    /// The state of things does not allow it now (409).
    Conflict,
    /// Too many attempts: a throttle or a lock (429), with the seconds to wait when known
    /// (`Retry-After`).
    Throttled { retry_after_secs: Option<u64> },
    /// Password hashing stayed busy for the bounded wait: retry later (503).
    Busy,
    /// A service we depend on (database, directory) is unavailable (503).
    Unavailable,
    /// The account store (the LDAP directory of pupils and parents) did not answer in time
    /// (503 with `Retry-After`); the message says it in French.
    StoreUnavailable,
    /// A bug or a broken invariant (500): the message is for the log, never shown.
    Internal,
}

/// A refusal or failure of a use case. Nothing was changed but its audit row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{class:?}: {message}")]
pub struct Failure {
    pub class: FailureClass,
    /// In French for every class but `Internal` (and empty for `Hidden`).
    pub message: String,
}

impl Failure {
    fn new(class: FailureClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(FailureClass::BadInput, message)
    }

    pub fn hidden() -> Self {
        Self::new(FailureClass::Hidden, "")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(FailureClass::Forbidden, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(FailureClass::Conflict, message)
    }

    pub fn busy() -> Self {
        Self::new(FailureClass::Busy, "")
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(FailureClass::Unavailable, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(FailureClass::Internal, message)
    }
}

/// Whole seconds to wait, rounded up, at least one.
pub fn retry_after_secs(wait: chrono::Duration) -> u64 {
    let ms = wait.num_milliseconds().max(1);
    u64::try_from(ms.div_euclid(1000) + i64::from(ms.rem_euclid(1000) > 0)).unwrap_or(1)
}

/// The French sentence of a throttle refusal.
pub fn throttled_message(wait: chrono::Duration) -> String {
    let minutes = retry_after_secs(wait).div_ceil(60);
    let unit = if minutes > 1 { "minutes" } else { "minute" };
    format!(
        "Trop de tentatives de mot de passe depuis votre adresse : réessayez dans {minutes} {unit}."
    )
}

impl Failure {
    /// Too many attempts, with the seconds to wait when known.
    pub fn throttled(message: impl Into<String>, retry_after_secs: Option<u64>) -> Self {
        Self::new(FailureClass::Throttled { retry_after_secs }, message)
    }

    /// The password throttle refused: 429 with the rest of its window as `Retry-After`.
    pub fn password_throttled(wait: chrono::Duration) -> Self {
        Self::throttled(throttled_message(wait), Some(retry_after_secs(wait)))
    }
}

impl From<DbError> for Failure {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(m) => Failure::unavailable(m),
            other => Failure::internal(other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for Failure {
    fn from(e: diesel::result::Error) -> Self {
        Failure::internal(e.to_string())
    }
}

impl From<PasswordError> for Failure {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Busy => Failure::busy(),
            other => Failure::internal(other.to_string()),
        }
    }
}

/// What the page says when the account store does not answer.
pub const STORE_UNAVAILABLE: &str = "L'annuaire des comptes est indisponible pour le moment : \
    le changement n'a pas été confirmé. Réessayez dans quelques instants ; le journal garde la \
    trace de la tentative.";

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => {
                Failure::new(FailureClass::StoreUnavailable, STORE_UNAVAILABLE)
            }
            StoreError::NotFound => Failure::hidden(),
            StoreError::Db(e) => e.into(),
            StoreError::NotCovered => Failure::internal("a permit that does not cover the account"),
            other => Failure::conflict(format!(
                "L'annuaire des comptes a refusé le changement : {}.",
                store_reason(&other)
            )),
        }
    }
}

impl From<ResetError> for Failure {
    fn from(e: ResetError) -> Self {
        match e {
            ResetError::Store(e) => e.into(),
            ResetError::Busy => Failure::busy(),
            ResetError::Pool(m) | ResetError::Directory(m) => Failure::unavailable(m),
            other => Failure::internal(other.to_string()),
        }
    }
}
