use std::process::ExitCode;

use clap::Parser;
use educt_admin::cli::{Cli, run};

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            // One line, whatever the cause (libpq's messages span several).
            let text = e.to_string();
            eprintln!(
                "educt-admin: {}",
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            );
            ExitCode::FAILURE
        }
    }
}
