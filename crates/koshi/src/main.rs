//! The `koshi` binary.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match koshi::cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    // One TLS provider for every connection the process opens.
    koshi_registries::tls::init();
    match koshi::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // One clear line: the chain of causes, no backtrace, no panic.
            eprintln!("koshi: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
