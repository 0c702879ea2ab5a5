//! One integration-test binary. Runs on SQLite by default, on PostgreSQL when
//! TEST_DATABASE_URL names an admin connection (scripts/test runs both).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit;
mod batches;
mod cli;
mod cli_agents;
mod delegations;
mod demo;
mod directory_contract;
mod health;
mod helpers;
mod import;
mod import_order;
mod import_page;
mod import_transfers;
mod journal;
mod ldap_server;
mod ldap_signin;
mod matrix;
mod migrations;
mod pages;
mod parents;
mod pupils;
mod signin;
mod tls;
