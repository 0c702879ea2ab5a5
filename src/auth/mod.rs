//! Credentials: password hashing and generation.

pub mod password;
