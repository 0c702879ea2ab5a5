//! One integration-test binary. Runs on SQLite by default, on PostgreSQL when
//! TEST_DATABASE_URL names an admin connection (scripts/test runs both).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account_store_contract;
mod audit;
mod batch_page;
mod batch_rights;
mod batch_usecases;
pub mod batches;
mod choose;
mod cli;
mod cli_agents;
mod delegations;
mod demo;
mod direction;
mod directory_contract;
mod first_signin;
mod first_signin_refusals;
mod hardening;
mod health;
mod helpers;
mod housekeeping;
mod import;
mod import_french;
mod import_order;
mod import_page;
mod import_transfers;
mod journal;
mod journal_french;
mod layering;
mod ldap_accounts;
mod ldap_faults;
mod ldap_provision;
mod ldap_resets;
mod ldap_server;
mod ldap_signin;
mod ldap_store;
mod matrix;
mod migrations;
mod pages;
pub mod parents;
mod parents_confirm;
mod parents_establishment;
mod parents_par;
mod pupils;
mod return_to;
mod rights_directory;
mod signin;
mod sizes;
mod sso;
mod sso_idp;
mod sso_tokens;
mod throttle;
mod tls;
mod typed_rows;
mod usecases_principal;
mod wording;
