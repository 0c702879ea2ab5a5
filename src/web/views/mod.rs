//! maud views: functions returning `Markup`. User data is always escaped by maud;
//! `PreEscaped` is used on constants only.

pub mod accounts;
pub mod batch;
pub mod delegations;
pub mod errors;
pub mod first_signin;
pub mod home;
pub mod import;
pub mod journal;
pub mod layout;
pub mod letters;
pub mod otp;
pub mod parents;
pub mod parts;
pub mod pupils;
pub mod signin;
pub mod sso;
pub mod stats;
pub mod transfers;
