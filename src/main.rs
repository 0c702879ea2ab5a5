use std::process::ExitCode;

use clap::Parser;
use educt_admin::cli::{Cli, run};

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("educt-admin: {e}");
            ExitCode::FAILURE
        }
    }
}
