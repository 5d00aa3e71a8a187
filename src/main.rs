//! The `nnmilp` binary: parse, delegate, print the error once.

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = nnmilp::cli::Cli::parse();
    match nnmilp::cli::run(cli) {
        Ok(out) => {
            let written = if out.to_stderr {
                std::io::stderr().write_all(out.text.as_bytes())
            } else {
                std::io::stdout().write_all(out.text.as_bytes())
            };
            if written.is_err() {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            // Messages carry their causes inline (e.g. "cannot read X: <io error>").
            eprintln!("nnmilp: error: {e}");
            ExitCode::from(if matches!(e, nnmilp::Error::Usage(_)) { 2 } else { 1 })
        }
    }
}
