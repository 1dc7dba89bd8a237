//! Command-line definition and dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use koshi_law::Law;
use koshi_law::calendar::WorkingCalendar;
use koshi_law::params::Parameters;
use koshi_law::requirements::Requirements;

use crate::calendar_cmd;

#[derive(Debug, Parser)]
#[command(
    name = "koshi",
    version,
    about = "Residence permits for foreigners in Kazakhstan under the Rules of Order No. 992"
)]
pub struct Cli {
    /// A calendar file replacing the shipped one (TOML, see crates/koshi-law/data/calendar.toml).
    #[arg(long, global = true, env = "KOSHI_CALENDAR", value_name = "PATH")]
    pub calendar: Option<PathBuf>,
    /// A requirements file replacing the shipped one.
    #[arg(long, global = true, env = "KOSHI_REQUIREMENTS", value_name = "PATH")]
    pub requirements: Option<PathBuf>,
    /// A parameters file replacing the shipped one.
    #[arg(long, global = true, env = "KOSHI_PARAMETERS", value_name = "PATH")]
    pub parameters: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The Kazakhstan working calendar and the service clock.
    #[command(subcommand)]
    Calendar(calendar_cmd::CalendarCommand),
    /// Every implemented rule with its citation.
    Rules {
        #[arg(long)]
        json: bool,
    },
}

/// Parses the command line; a usage error is one line on stderr and exit code 2.
pub fn parse() -> std::result::Result<Cli, ExitCode> {
    match Cli::try_parse() {
        Ok(c) => Ok(c),
        Err(e) => {
            use clap::error::ErrorKind;
            match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    Err(if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                        ExitCode::from(2)
                    } else {
                        ExitCode::SUCCESS
                    })
                }
                _ => {
                    let text = e.render().to_string();
                    let first = text
                        .lines()
                        .find(|l| !l.trim().is_empty())
                        .unwrap_or("invalid arguments");
                    let first = first.trim_start_matches("error: ");
                    eprintln!("koshi: error: {first} (see 'koshi --help')");
                    Err(ExitCode::from(2))
                }
            }
        }
    }
}

fn read(path: &PathBuf, what: &str) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read the {what} file {}", path.display()))
}

/// Loads the law: shipped data unless a replacement file is configured.
pub fn load_law(cli: &Cli) -> Result<Law> {
    let calendar = match &cli.calendar {
        Some(p) => WorkingCalendar::from_toml(&read(p, "calendar")?)
            .map_err(|e| anyhow::anyhow!("calendar file {}: {e}", p.display()))?,
        None => WorkingCalendar::builtin().map_err(|e| anyhow::anyhow!("built-in calendar: {e}"))?,
    };
    let requirements = match &cli.requirements {
        Some(p) => Requirements::from_toml(&read(p, "requirements")?)
            .map_err(|e| anyhow::anyhow!("requirements file {}: {e}", p.display()))?,
        None => Requirements::builtin().map_err(|e| anyhow::anyhow!("built-in requirements: {e}"))?,
    };
    let params = match &cli.parameters {
        Some(p) => Parameters::from_toml(&read(p, "parameters")?)
            .map_err(|e| anyhow::anyhow!("parameters file {}: {e}", p.display()))?,
        None => Parameters::builtin().map_err(|e| anyhow::anyhow!("built-in parameters: {e}"))?,
    };
    Ok(Law {
        calendar,
        requirements,
        params,
    })
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Calendar(cmd) => {
            let law = load_law(&cli)?;
            calendar_cmd::run(&law, cmd)
        }
        Command::Rules { json } => {
            rules(*json);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn rules(json: bool) {
    let rules = koshi_law::rules::RULES;
    if json {
        let list: Vec<_> = rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "citation": r.citation,
                    "summary": r.summary,
                    "implemented_in": format!("koshi_law::{}", r.implemented_in),
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(list));
    } else {
        let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
        for r in rules {
            println!("{:width$}  {}  — {}", r.id, r.citation, r.summary);
        }
    }
}
