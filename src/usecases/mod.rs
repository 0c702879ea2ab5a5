//! The use cases (issue 11 step 1): one home for every rule that changes something. Each
//! function runs in one transaction, takes the [`Permit`](crate::delegation::policy::Permit)
//! (or mints it through [`authorize::permit`]), an audit [`Context`] and typed input, and
//! returns a typed outcome or a [`Failure`] that carries the French message and its class,
//! never an actix type. The web handlers and the CLI call the same functions.

pub mod account_upkeep;
pub mod accounts;
pub mod authorize;
pub mod batches;
mod context;
pub mod delegations;
mod failure;
pub mod first_signin;
mod grant_checks;
pub mod housekeeping;
pub mod import;
pub mod sessions;
pub mod signin;
pub mod sso;
pub mod staff_names;
pub mod totp;
pub mod transfers;

pub use context::{Actor, Caller, Context, RequestStamp};
pub use failure::{Failure, FailureClass, STORE_UNAVAILABLE, retry_after_secs, throttled_message};
