//! Command-line definition and dispatch.

mod dispatch;

pub use dispatch::run;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use koshi_law::Law;
use koshi_law::calendar::WorkingCalendar;
use koshi_law::params::Parameters;
use koshi_law::requirements::Requirements;

use crate::app;
use crate::calendar_cmd;

#[derive(Debug, Parser)]
#[command(
    name = "koshi",
    version,
    about = "Residence permits for foreigners in Kazakhstan under the Rules of Order No. 992"
)]
pub struct Cli {
    /// The configuration file (TOML: the KOSHI_* settings in lower case without the prefix);
    /// default `./koshi.toml` when it exists. Flags and the environment win over it.
    #[arg(long, global = true, env = "KOSHI_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A calendar file replacing the shipped one (TOML, see crates/koshi-law/data/calendar.toml).
    #[arg(long, global = true, env = "KOSHI_CALENDAR", value_name = "PATH")]
    pub calendar: Option<PathBuf>,
    /// A requirements file replacing the shipped one.
    #[arg(long, global = true, env = "KOSHI_REQUIREMENTS", value_name = "PATH")]
    pub requirements: Option<PathBuf>,
    /// A parameters file replacing the shipped one.
    #[arg(long, global = true, env = "KOSHI_PARAMETERS", value_name = "PATH")]
    pub parameters: Option<PathBuf>,
    /// Worker threads of the async runtime (default: one fewer than the cores, at least one;
    /// the store's writer keeps a thread of its own).
    #[arg(long, global = true, env = "KOSHI_WORKER_THREADS", value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub worker_threads: Option<u16>,
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once at start: the size of the `serve` variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The Kazakhstan working calendar and the service clock.
    #[command(subcommand)]
    Calendar(calendar_cmd::CalendarCommand),
    /// The monthly calculation index (МРП) by year.
    #[command(subcommand)]
    Mci(MciCommand),
    /// Every implemented rule with its citation.
    Rules {
        #[arg(long)]
        json: bool,
    },
    /// Runs the HTTP API (`/api/v1`) with background work (check retries, deliveries).
    Serve {
        #[arg(long, env = "KOSHI_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        #[command(flatten)]
        data: DataArgs,
        /// An HTTP registry gateway (e.g. `koshi registry-sim`); without it, built-in simulators.
        #[arg(long, env = "KOSHI_REGISTRY_URL")]
        registry_url: Option<String>,
        /// Registry fixtures for the built-in simulators (TOML); default: the demo fixtures.
        #[arg(long, env = "KOSHI_FIXTURES")]
        fixtures: Option<PathBuf>,
        /// Issue clean cases without an officer's confirmation (refusals always wait for one).
        #[arg(long, env = "KOSHI_STRAIGHT_THROUGH", default_value_t = true, action = clap::ArgAction::Set)]
        straight_through: bool,
        /// The duty officer account in whose name a police body's clean cases are formed
        /// (п. 9-1), as UNIT=ACCOUNT; repeat for each body. A body without one: straight-through
        /// prepares the act and an officer forms it.
        #[arg(long = "duty-officer", env = "KOSHI_DUTY_OFFICERS", value_delimiter = ',')]
        duty_officers: Vec<String>,
        /// PEM file of the trusted roots (and CRLs) for portal ЭЦП (п. 8); without it portal
        /// filings are refused with 503.
        #[arg(long, env = "KOSHI_TRUST_STORE")]
        trust_store: Option<PathBuf>,
        /// The external service that verifies GOST 34.310 signatures (e.g. the NCA's).
        #[arg(long, env = "KOSHI_GOST_VERIFIER_URL")]
        gost_verifier_url: Option<String>,
        /// Where a topic's messages go, as TOPIC=DESTINATION (repeat, or comma-separated in the
        /// environment): an http(s):// webhook, a nats:// JetStream server, or `memory`; `*`
        /// names the destination of every topic not named. Topics: monitoring,
        /// delivery.desk_print, delivery.iis_con, delivery.portal_cabinet, agency.<body>.
        #[arg(long = "deliver", env = "KOSHI_DELIVER", value_delimiter = ',')]
        deliver: Vec<String>,
        /// The JetStream stream Koshi publishes to (created when missing).
        #[arg(long, env = "KOSHI_NATS_STREAM", default_value = "KOSHI")]
        nats_stream: String,
        /// The first token of the JetStream subjects: `<prefix>.<topic>`.
        #[arg(long, env = "KOSHI_NATS_PREFIX", default_value = "koshi")]
        nats_prefix: String,
        /// Production: refuse to start while anything would stand in for a real system (built-in
        /// registry simulators, a topic without a real destination, unsigned webhooks).
        #[arg(long, env = "KOSHI_PRODUCTION", default_value_t = false, action = clap::ArgAction::Set)]
        production: bool,
        /// A reverse proxy (address or network) whose `X-Forwarded-For` names the client; repeat,
        /// or comma-separated in the environment. Without one, the client is the connection's
        /// peer and the header is ignored.
        #[arg(long = "trusted-proxy", env = "KOSHI_TRUSTED_PROXIES", value_delimiter = ',')]
        trusted_proxies: Vec<String>,
        /// A PEM file of CA certificates trusted, besides the system's, for the HTTPS and TLS
        /// connections Koshi opens (registry gateway, GOST verifier, webhooks, NATS). PostgreSQL
        /// takes its own in the URL: `?sslmode=verify-full&sslrootcert=FILE`.
        #[arg(long, env = "KOSHI_CA_FILE")]
        ca_file: Option<PathBuf>,
        /// The address people reach Koshi at (the documents' QR codes link to
        /// `{public-url}/verify/{code}`); default `http://` and the listen address.
        #[arg(long, env = "KOSHI_PUBLIC_URL")]
        public_url: Option<String>,
        /// The documents' signing key: a P-256 PKCS#8 PEM file (`koshi document-key FILE` makes
        /// one). Required in production; otherwise Koshi makes a development key once and keeps
        /// it in the database.
        #[arg(long, env = "KOSHI_DOCUMENT_KEY")]
        document_key: Option<PathBuf>,
        /// The certificate the deployment's PKI issued for the document key (PEM); without one,
        /// a self-signed certificate is published with the key.
        #[arg(long, env = "KOSHI_DOCUMENT_CERTIFICATE")]
        document_certificate: Option<PathBuf>,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        clock: ClockArgs,
    },
    /// Runs Koshi with simulated registries and demo data, and prints the address and tokens.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        clock: ClockArgs,
    },
    /// API tokens for people and other systems.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// People's accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// The durable-timer drill: schedule N timers, fire them from several processes at once, and
    /// verify each fired exactly once (see scripts/timer-drill.sh).
    DrillTimers {
        /// schedule, fire or verify
        step: String,
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// This process's name for leases (fire).
        #[arg(long, default_value = "drill")]
        owner: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// The crash drill: filings under load, kill -9 of a serving process at a random moment, a
    /// restart, and the check that every acknowledged filing is there exactly once, the audit
    /// chain verifies and the background work catches up. Use a data directory (or database)
    /// of its own.
    DrillCrash {
        #[arg(long, default_value_t = 20)]
        rounds: usize,
        /// Serving processes (PostgreSQL only above 1); one of them is killed each round.
        #[arg(long, default_value_t = 1)]
        instances: usize,
        #[command(flatten)]
        data: DataArgs,
    },
    /// The outage drill (п. 9-5): every registry and every receiver of Koshi's messages down for
    /// two hours of simulated time, then back; checks that no case failed for it, that every
    /// outage over an hour is journaled and closed, and that every message held back is
    /// delivered after. Runs on a clock of its own, on a database that holds no case.
    DrillOutage {
        /// Cases filed while everything is down.
        #[arg(long, default_value_t = 200)]
        cases: usize,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Checks a Koshi document offline: reads its 2D code from the page (a PNG, or a PDF through
    /// pdftoppm), verifies a permit's seal against the published keys, and the PDF's detached
    /// signature when FILE.sig (or --signature) is beside it.
    Verify {
        file: PathBuf,
        /// The key set, as published at /.well-known/koshi/document-keys.json.
        #[arg(long)]
        keys: PathBuf,
        /// The PDF's detached signature (GET /api/v1/documents/{id}/signature); default FILE.sig.
        #[arg(long)]
        signature: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Makes a document signing key (ECDSA P-256, PKCS#8 PEM) for `koshi serve --document-key`.
    DocumentKey { file: PathBuf },
    /// Serves the registry simulators over HTTP (the contract of the HTTP adapters).
    RegistrySim {
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: String,
        #[arg(long)]
        fixtures: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MciCommand {
    /// Loads the MCI of a year (a file of schema 1 and its [[mci]] tables, as in
    /// crates/koshi-law/data/parameters.toml) into the database while Koshi runs; a PR solvency
    /// check waiting for the figure can then be made.
    Load {
        file: PathBuf,
        #[command(flatten)]
        data: DataArgs,
        #[arg(long)]
        json: bool,
    },
}

/// The configuration file named by `--config FILE` (or `--config=FILE`), else by `KOSHI_CONFIG`,
/// else `./koshi.toml` when it exists.
fn config_file(args: &[std::ffi::OsString]) -> Option<PathBuf> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let a = a.to_string_lossy();
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(v));
        }
    }
    if let Some(p) = std::env::var_os("KOSHI_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let default = PathBuf::from("koshi.toml");
    default.exists().then_some(default)
}

/// The HTTP server's limits against slow and numerous clients.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Seconds a client has to send a request's headers (and an idle connection stays open).
    #[arg(long, env = "KOSHI_HEADER_TIMEOUT", default_value_t = 10)]
    pub header_timeout: u64,
    /// Seconds a request may take from its headers to its answer, body included (else 408).
    #[arg(long, env = "KOSHI_REQUEST_TIMEOUT", default_value_t = 60)]
    pub request_timeout: u64,
    /// Connections open at once.
    #[arg(long, env = "KOSHI_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Seconds requests in flight may still take after a stop signal.
    #[arg(long, env = "KOSHI_SHUTDOWN_DEADLINE", default_value_t = 20)]
    pub shutdown_deadline: u64,
}

impl LimitArgs {
    pub fn limits(&self) -> crate::server::Limits {
        crate::server::Limits {
            header_read_timeout: std::time::Duration::from_secs(self.header_timeout.max(1)),
            request_timeout: std::time::Duration::from_secs(self.request_timeout.max(1)),
            max_connections: self.max_connections.max(1),
            shutdown_deadline: std::time::Duration::from_secs(self.shutdown_deadline),
        }
    }
}

/// The clock Koshi reads. `simulated` is drill mode: the clock starts at the machine's time (or
/// where the drill's database left it) and an administrator moves it ahead through
/// `POST /api/v1/admin/clock`; every answer carries `Koshi-Clock: simulated`. It is a command-line
/// choice only (no environment variable or file can set it), and a database that holds cases
/// filed on the real clock refuses it, as a drill's database refuses the real clock.
#[derive(Debug, clap::Args)]
pub struct ClockArgs {
    #[arg(long, value_parser = ["system", "simulated"], default_value = "system")]
    pub clock: String,
}

impl ClockArgs {
    fn drill(&self) -> Option<std::sync::Arc<koshi_registries::clock::SimulatedClock>> {
        (self.clock == "simulated").then(|| std::sync::Arc::new(koshi_registries::clock::SimulatedClock::new(0)))
    }
    fn clock(
        drill: &Option<std::sync::Arc<koshi_registries::clock::SimulatedClock>>,
    ) -> std::sync::Arc<dyn koshi_registries::clock::Clock> {
        match drill {
            Some(c) => c.clone(),
            None => std::sync::Arc::new(koshi_registries::clock::SystemClock),
        }
    }
}

pub use crate::config::DataArgs;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Adds an account. The password is read from KOSHI_USER_PASSWORD or the first line of
    /// standard input (never from an argument, which other users of the machine could see).
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        unit: String,
        /// The post (п. 15 approval authority): head_of_police_department,
        /// deputy_head_of_police_department, head_of_city_district_police, head_of_ums, other.
        #[arg(long, default_value = "other")]
        post: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walks the hash chain and names the first broken entry (exit code 1 when broken).
    Verify {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issues a token; it is printed once and stored only as a digest.
    Issue {
        #[arg(long)]
        role: String,
        #[arg(long)]
        unit: String,
        #[arg(long, default_value = "")]
        label: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Revokes a token by id.
    Revoke {
        id: String,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Lists tokens (ids, roles, units; never the secrets).
    List {
        #[command(flatten)]
        data: DataArgs,
    },
}

/// Parses the command line; a usage error is one line on stderr and exit code 2.
pub fn parse() -> std::result::Result<Cli, ExitCode> {
    use clap::{CommandFactory, FromArgMatches};
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut cmd = Cli::command();
    if let Some(path) = config_file(&args) {
        match crate::config::apply_file(cmd, &path) {
            Ok(c) => cmd = c,
            Err(e) => {
                eprintln!("koshi: error: configuration file {e}");
                return Err(ExitCode::from(2));
            }
        }
    }
    let parsed = cmd.try_get_matches_from(args).and_then(|m| Cli::from_arg_matches(&m));
    match parsed {
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
