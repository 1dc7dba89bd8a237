//! Settings shared by several commands. Every `KOSHI_*` setting, and where it is read:
//!
//! | Setting | Flag | Read by |
//! |---|---|---|
//! | `KOSHI_DATA_DIR` | `--data-dir` | [`DataArgs`] (every data command) |
//! | `KOSHI_DATABASE_URL` | — | `app::location` (PostgreSQL instead of the data directory) |
//! | `KOSHI_CALENDAR`, `KOSHI_REQUIREMENTS`, `KOSHI_PARAMETERS` | `--calendar`, `--requirements`, `--parameters` | `cli::Cli` (the law data files) |
//! | `KOSHI_WORKER_THREADS` | `--worker-threads` | `cli::Cli`, `worker_threads` |
//! | `KOSHI_REGISTRY_URL`, `KOSHI_FIXTURES` | `--registry-url`, `--fixtures` | `koshi serve` |
//! | `KOSHI_STRAIGHT_THROUGH`, `KOSHI_DUTY_OFFICERS` | `--straight-through`, `--duty-officer` | `koshi serve` |
//! | `KOSHI_TRUST_STORE`, `KOSHI_GOST_VERIFIER_URL` | `--trust-store`, `--gost-verifier-url` | `koshi serve` |
//! | `KOSHI_DELIVER`, `KOSHI_NATS_STREAM`, `KOSHI_NATS_PREFIX`, `KOSHI_PRODUCTION` | `--deliver`, `--nats-stream`, `--nats-prefix`, `--production` | `koshi serve` (`delivery::Deliveries`) |
//! | `KOSHI_TRUSTED_PROXIES` | `--trusted-proxy` | `koshi serve`: whose `X-Forwarded-For` names the client |
//! | `KOSHI_HEADER_TIMEOUT`, `KOSHI_REQUEST_TIMEOUT`, `KOSHI_MAX_CONNECTIONS`, `KOSHI_SHUTDOWN_DEADLINE` | `--header-timeout`, `--request-timeout`, `--max-connections`, `--shutdown-deadline` | `koshi serve` (`server::Limits`) |
//! | `KOSHI_CA_FILE` | `--ca-file` | `koshi serve`: CA roots for outbound HTTPS and NATS TLS (`koshi_registries::tls`) |
//! | `KOSHI_WEBHOOK_SECRET` | — (never a flag) | `koshi serve`: the key of webhook signatures |
//! | `KOSHI_UNITS`, `KOSHI_PERMISSIONS` | — | `authz::Authz::load` |
//! | `KOSHI_USER_PASSWORD` | — | `koshi user add` |
//! | `KOSHI_LOG` | — | logging (`cli::init_logging`) |
//!
//! The drill clock is a flag only (`--clock simulated`), never the environment.

use std::path::PathBuf;

/// Where the embedded database lives.
#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// Data directory for the embedded SQLite database (ignored when KOSHI_DATABASE_URL is set).
    #[arg(long, env = "KOSHI_DATA_DIR", default_value = "./koshi-data")]
    pub data_dir: PathBuf,
}
