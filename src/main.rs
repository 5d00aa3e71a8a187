//! The `nnmilp` binary: parse, delegate, print the result or the error once.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    nnmilp::cli::tune_allocator();
    match nnmilp::cli::Cli::parse().run_in_pool() {
        Ok(out) => match out.print() {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::from(1),
        },
        Err(e) => {
            // Messages carry their causes inline (e.g. "cannot read X: <io error>").
            eprintln!("nnmilp: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
