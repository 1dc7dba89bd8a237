//! The `koshi` binary: glue between the command line and the crates that do the work.

mod calendar_cmd;
mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // One clear line: the chain of causes, no backtrace, no panic.
            eprintln!("koshi: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
