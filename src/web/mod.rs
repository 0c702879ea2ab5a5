//! The web edge: routes, extractors, middleware, views.

pub mod accounts;
pub mod assets;
pub mod calls;
pub mod chrome;
pub mod client_addr;
pub mod delegation_changes;
pub mod delegations;
pub mod double_submit;
pub mod errors;
pub mod first_signin;
pub mod forms;
pub mod guard;
pub mod health;
pub mod home;
pub mod import_page;
pub mod input_guard;
pub mod journal;
pub mod origin;
pub mod otp;
pub mod parents;
pub mod parents_gate;
pub mod paths;
pub mod pupils;
pub mod request;
pub mod routes;
pub mod security_headers;
pub mod session_guard;
pub mod signin;
pub mod sso;
pub mod state;
pub mod transfers;
pub mod views;

/// Where the app is mounted.
pub const BASE: &str = "/educt-admin-comptes";
