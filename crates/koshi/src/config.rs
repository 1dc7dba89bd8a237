//! Settings shared by several commands. Every `KOSHI_*` setting, and where it is read:
//!
//! | Setting | Flag | Read by |
//! |---|---|---|
//! | `KOSHI_LISTEN` | `--listen` | `koshi serve`: the address served |
//! | `KOSHI_DATA_DIR` | `--data-dir` | [`DataArgs`] (every data command) |
//! | `KOSHI_CONFIG` | `--config` | `cli::parse`: the configuration file ([`apply_file`]) |
//! | `KOSHI_DATABASE_URL` | `--database-url` | [`DataArgs`], `app::location` (PostgreSQL instead of the data directory) |
//! | `KOSHI_CALENDAR`, `KOSHI_REQUIREMENTS`, `KOSHI_PARAMETERS` | `--calendar`, `--requirements`, `--parameters` | `cli::Cli` (the law data files) |
//! | `KOSHI_WORKER_THREADS` | `--worker-threads` | `cli::Cli`, `worker_threads` |
//! | `KOSHI_REGISTRY_URL`, `KOSHI_FIXTURES` | `--registry-url`, `--fixtures` | `koshi serve` |
//! | `KOSHI_STRAIGHT_THROUGH`, `KOSHI_DUTY_OFFICERS` | `--straight-through`, `--duty-officer` | `koshi serve` |
//! | `KOSHI_TRUST_STORE`, `KOSHI_GOST_VERIFIER_URL` | `--trust-store`, `--gost-verifier-url` | `koshi serve` |
//! | `KOSHI_DELIVER`, `KOSHI_NATS_STREAM`, `KOSHI_NATS_PREFIX`, `KOSHI_PRODUCTION` | `--deliver`, `--nats-stream`, `--nats-prefix`, `--production` | `koshi serve` (`delivery::Deliveries`) |
//! | `KOSHI_TRUSTED_PROXIES` | `--trusted-proxy` | `koshi serve`: whose `X-Forwarded-For` names the client |
//! | `KOSHI_HEADER_TIMEOUT`, `KOSHI_REQUEST_TIMEOUT`, `KOSHI_MAX_CONNECTIONS`, `KOSHI_SHUTDOWN_DEADLINE` | `--header-timeout`, `--request-timeout`, `--max-connections`, `--shutdown-deadline` | `koshi serve` (`server::Limits`) |
//! | `KOSHI_CA_FILE` | `--ca-file` | `koshi serve`: CA roots for outbound HTTPS and NATS TLS (`koshi_registries::tls`) |
//! | `KOSHI_PUBLIC_URL`, `KOSHI_DOCUMENT_KEY`, `KOSHI_DOCUMENT_CERTIFICATE` | `--public-url`, `--document-key`, `--document-certificate` | `koshi serve` (`document_keys::Documents`): the documents' QR address and signing key |
//! | `KOSHI_WEBHOOK_SECRET` | — (never a flag) | `koshi serve`: the key of webhook signatures |
//! | `KOSHI_UNITS`, `KOSHI_PERMISSIONS` | — | `authz::Authz::load` |
//! | `KOSHI_USER_PASSWORD` | — | `koshi user add` |
//! | `KOSHI_LOG`, `KOSHI_LOG_FORMAT` | — | logging (`cli::init_logging`): the filter; `json` for one object a line |
//!
//! Precedence: a flag, then the environment, then the configuration file (`koshi.toml`), then
//! Koshi's default. The drill clock is a flag only (`--clock simulated`), never the environment
//! or the file; secrets (`KOSHI_WEBHOOK_SECRET`, `KOSHI_USER_PASSWORD`) only the environment.

use std::path::PathBuf;

/// Where the database lives.
#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// Data directory for the embedded SQLite database (ignored when a database URL is given).
    #[arg(long, env = "KOSHI_DATA_DIR", default_value = "./koshi-data")]
    pub data_dir: PathBuf,
    /// PostgreSQL instead of the embedded database: `postgres://user@host/db?sslmode=verify-full&sslrootcert=FILE`.
    #[arg(long, env = "KOSHI_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// Settings that never come from a file or a flag: secrets, and what is read before the file.
const ENVIRONMENT_ONLY: [&str; 3] = ["webhook_secret", "user_password", "config"];

/// The configuration file (`--config FILE`, `KOSHI_CONFIG`, or `./koshi.toml` when it exists):
/// a TOML table whose keys are the `KOSHI_*` names in lower case without the prefix, e.g.
/// `data_dir = "/var/lib/koshi"`, `deliver = ["*=nats://10.0.0.5:4222"]`, `production = true`.
/// Its values become the defaults of the flags they name, so a flag wins over the environment,
/// the environment over the file, and the file over Koshi's defaults. An unknown key, or a
/// secret, is refused with the key named.
pub fn apply_file(mut cmd: clap::Command, path: &std::path::Path) -> Result<clap::Command, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
    let mut values: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for (key, value) in &table {
        if ENVIRONMENT_ONLY.contains(&key.as_str()) {
            return Err(format!(
                "{}: `{key}` comes from the environment only (KOSHI_{})",
                path.display(),
                key.to_uppercase()
            ));
        }
        let scalar = |v: &toml::Value| -> Result<String, String> {
            match v {
                toml::Value::String(s) => Ok(s.clone()),
                toml::Value::Integer(i) => Ok(i.to_string()),
                toml::Value::Boolean(b) => Ok(b.to_string()),
                _ => Err(format!(
                    "{}: `{key}` must be a string, a number, a boolean or a list of them",
                    path.display()
                )),
            }
        };
        let list = match value {
            toml::Value::Array(items) => items.iter().map(scalar).collect::<Result<Vec<_>, _>>()?,
            other => vec![scalar(other)?],
        };
        values.insert(key.clone(), list);
    }
    let mut used = std::collections::BTreeSet::new();
    cmd = with_file_defaults(cmd, &values, &mut used);
    if let Some(unknown) = values.keys().find(|k| !used.contains(*k)) {
        return Err(format!(
            "{}: unknown setting `{unknown}` (the settings are the KOSHI_* names in lower case without the prefix)",
            path.display()
        ));
    }
    Ok(cmd)
}

fn with_file_defaults(
    mut cmd: clap::Command,
    values: &std::collections::BTreeMap<String, Vec<String>>,
    used: &mut std::collections::BTreeSet<String>,
) -> clap::Command {
    let ids: Vec<(clap::Id, String)> = cmd
        .get_arguments()
        .filter_map(|a| {
            let env = a.get_env()?.to_str()?.strip_prefix("KOSHI_")?.to_lowercase();
            Some((a.get_id().clone(), env))
        })
        .collect();
    for (id, key) in ids {
        if let Some(v) = values.get(&key) {
            used.insert(key);
            let v = v.clone();
            cmd = cmd.mut_arg(id, move |a| a.default_values(v));
        }
    }
    let subs: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for name in subs {
        cmd = cmd.mut_subcommand(name, |sc| with_file_defaults(sc, values, used));
    }
    cmd
}
