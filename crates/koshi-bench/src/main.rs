//! `koshi-bench`: Koshi measured as a client sees it (issue 15 item 7), and the chart of the
//! benches.
//!
//! - `koshi-bench http`: starts `koshi serve` as a process of its own on a fresh database
//!   (SQLite; PostgreSQL with `--database-url`), then over loopback: RVP filings at fixed offered
//!   rates and as fast as it answers; reads of one case after it has been read many times, at
//!   fixed rates and as fast as it answers; the server's memory (VmRSS every 250 ms, VmHWM at the
//!   end) and the machine's load average after each step. Prints a table, writes JSON.
//! - `koshi-bench chart`: draws `bench/bench.png` from that JSON and the throughput bench's.
//!
//! `scripts/bench.sh` builds and runs both benches and the chart.

mod chart;
mod load;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use clap::{Parser, Subcommand};
use http_body_util::Full;
use hyper::Request;
use serde_json::{Value, json};

use load::{MakeRequest, Phase};

#[derive(Parser)]
#[command(name = "koshi-bench", about = "Koshi over HTTP, measured; and the bench chart")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Filings and reads over HTTP at fixed rates and at most, with the server's memory.
    Http(Plan),
    /// Draws the chart of the throughput bench's and the HTTP bench's JSON.
    Chart {
        #[arg(long, default_value = "bench/throughput.json")]
        throughput: PathBuf,
        #[arg(long, default_value = "bench/http.json")]
        http: PathBuf,
        #[arg(long, default_value = "bench/bench.png")]
        out: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line, as Koshi's own CLI answers.
            eprintln!("koshi-bench: error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Cmd::Chart { throughput, http, out } => {
            chart::draw(&read_json(&throughput)?, &read_json(&http)?, &out)?;
            println!("wrote {}", out.display());
            Ok(())
        }
        Cmd::Http(plan) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()?;
            let report = rt.block_on(http(&plan))?;
            if let Some(dir) = plan.out.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&plan.out, serde_json::to_string_pretty(&report)? + "\n")?;
            println!("wrote {}", plan.out.display());
            Ok(())
        }
    }
}

fn read_json(p: &PathBuf) -> Result<Value> {
    let s = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
    serde_json::from_str(&s).with_context(|| format!("{} is not JSON", p.display()))
}

/// What `koshi-bench http` runs: its command-line arguments.
#[derive(clap::Args)]
struct Plan {
    /// The `koshi` binary to serve (by default the one beside this program).
    #[arg(long)]
    koshi: Option<PathBuf>,
    /// PostgreSQL (a database of the bench's own) instead of a fresh SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    /// Where `koshi serve` delivers its messages (`TOPIC=DESTINATION`, as its own `--deliver`;
    /// `*=nats://127.0.0.1:4222` for JetStream). Without it, to its bounded in-memory
    /// receiver, which holds the latest 100,000 messages in the server's memory.
    #[arg(long)]
    deliver: Vec<String>,
    /// Offered filing rates, a second (each for `--seconds`).
    #[arg(long, value_delimiter = ',', default_value = "1000,2500,5000")]
    filing_rates: Vec<f64>,
    /// Offered read rates, a second.
    #[arg(long, value_delimiter = ',', default_value = "5000,10000,20000,30000")]
    read_rates: Vec<f64>,
    /// How long each fixed-rate step lasts.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Reads of the case before it is measured ("however often it has been read").
    #[arg(long, default_value_t = 50_000)]
    prior_reads: u64,
    /// Cases filed as fast as the server answers, watching its memory.
    #[arg(long, default_value_t = 100_000)]
    cases: u64,
    /// Connections of the load generator.
    #[arg(long, default_value_t = 256)]
    connections: usize,
    #[arg(long, default_value = "bench/http.json")]
    out: PathBuf,
}

/// The serving process, killed when dropped.
struct Server {
    child: Child,
    data_dir: PathBuf,
    keep: bool,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// A memory sample of the server: (seconds since the start, VmRSS in MiB, the step running).
type Sample = (f64, f64, String);

fn status_kib(pid: u32, field: &str) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The `koshi` binary to serve: the one named, or the one beside this program.
fn koshi_binary(plan: &Plan) -> Result<PathBuf> {
    match &plan.koshi {
        Some(k) => Ok(k.clone()),
        None => Ok(std::env::current_exe()?
            .parent()
            .context("no directory beside this program")?
            .join("koshi")),
    }
}

async fn http(plan: &Plan) -> Result<Value> {
    let koshi = koshi_binary(plan)?;
    let data_dir = std::env::temp_dir().join(format!("koshi-bench-http-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir)?;
    let location =
        koshi_store::Location::resolve(plan.database_url.as_deref(), &data_dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let token = {
        let store = koshi_store::Store::open(&location).await?;
        let t = koshi::app::issue_token(&store, "officer", "ALM-01", "bench-http")
            .await?
            .1;
        store.close().await;
        t
    };
    let law = koshi_law::Law {
        calendar: koshi_law::calendar::WorkingCalendar::builtin().map_err(|e| anyhow::anyhow!("{e}"))?,
        requirements: koshi_law::requirements::Requirements::builtin().map_err(|e| anyhow::anyhow!("{e}"))?,
        params: koshi_law::params::Parameters::builtin().map_err(|e| anyhow::anyhow!("{e}"))?,
    };
    let fixtures = koshi_registries::sim::Fixtures::demo().map_err(|e| anyhow::anyhow!("{e}"))?;
    let filing = Bytes::from(serde_json::to_vec(&koshi::demo::request(
        &law,
        &fixtures,
        "FA1234567",
        "labour_contract",
    ))?);

    let addr: SocketAddr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?
    };
    let mut cmd = Command::new(&koshi);
    cmd.args(["serve", "--listen", &addr.to_string(), "--data-dir"])
        .arg(&data_dir)
        .env("KOSHI_LOG", "error")
        .args(plan.deliver.iter().flat_map(|d| ["--deliver", d.as_str()]))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match &plan.database_url {
        Some(u) => cmd.env("KOSHI_DATABASE_URL", u),
        None => cmd.env_remove("KOSHI_DATABASE_URL"),
    };
    let server = Server {
        child: cmd
            .spawn()
            .with_context(|| format!("cannot start {}", koshi.display()))?,
        data_dir: data_dir.clone(),
        keep: std::env::var_os("KOSHI_BENCH_KEEP").is_some(),
    };
    let pid = server.child.id();
    ready(addr).await?;

    let started = Instant::now();
    let step = Arc::new(std::sync::Mutex::new(String::from("start")));
    let samples: Arc<std::sync::Mutex<Vec<Sample>>> = Arc::default();
    let sampler = {
        let (step, samples) = (step.clone(), samples.clone());
        tokio::spawn(async move {
            loop {
                if let Some(kib) = status_kib(pid, "VmRSS:") {
                    let s = step.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    samples.lock().unwrap_or_else(|p| p.into_inner()).push((
                        started.elapsed().as_secs_f64(),
                        kib / 1024.0,
                        s,
                    ));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let set_step = |s: &str| *step.lock().unwrap_or_else(|p| p.into_inner()) = s.to_string();

    let auth = format!("Bearer {token}");
    let file: MakeRequest = {
        let (auth, filing) = (auth.clone(), filing.clone());
        Arc::new(move |_| {
            Request::post("/api/v1/applications")
                .header("host", "koshi")
                .header("authorization", &auth)
                .header("content-type", "application/json")
                .body(Full::new(filing.clone()))
                .unwrap_or_default()
        })
    };
    let mut phases: Vec<Phase> = Vec::new();
    println!("koshi-bench http: {} on {addr}", koshi.display());

    set_step("filings, warm-up");
    let warm = load::run("filings, warm-up", addr, file.clone(), None, 2_000, 64).await?;
    let case_id = warm
        .first_body
        .as_ref()
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        .and_then(|v| v["id"].as_str().map(str::to_string))
        .context("the warm-up filed no case")?;
    phases.extend(steps(plan, addr, "filings", &file, &plan.filing_rates, 20_000, &step).await?);

    let read: MakeRequest = {
        let (auth, path) = (auth.clone(), format!("/api/v1/applications/{case_id}"));
        Arc::new(move |_| {
            Request::get(path.as_str())
                .header("host", "koshi")
                .header("authorization", &auth)
                .body(Full::new(Bytes::new()))
                .unwrap_or_default()
        })
    };
    set_step("reads, before");
    let before = load::run(
        "reads of the case before",
        addr,
        read.clone(),
        None,
        plan.prior_reads,
        64,
    )
    .await?;
    print_phase(&before);
    phases.extend(steps(plan, addr, "reads", &read, &plan.read_rates, 100_000, &step).await?);
    let wrk = wrk_reads(addr, &case_id, &token, plan.seconds.max(10.0));
    if let Some(w) = &wrk {
        println!(
            "  reads, at most, by wrk        {:>8} /s  ({w})",
            w["requests_per_second"]
        );
    }
    let view_bytes = load::run("one read", addr, read.clone(), None, 1, 1)
        .await?
        .first_body
        .map(|b| b.len())
        .unwrap_or(0);

    set_step("sustained filings");
    let rss_before = status_kib(pid, "VmRSS:").unwrap_or(0.0) / 1024.0;
    let sustained = load::run("sustained filings", addr, file.clone(), None, plan.cases, 64).await?;
    print_phase(&sustained);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = status_kib(pid, "VmRSS:").unwrap_or(0.0) / 1024.0;
    let peak = status_kib(pid, "VmHWM:").unwrap_or(0.0) / 1024.0;
    sampler.abort();
    let samples = samples.lock().unwrap_or_else(|p| p.into_inner()).clone();
    println!(
        "server memory: {rss_before:.0} MiB before the sustained filings, {rss_after:.0} MiB after {} more cases, peak {peak:.0} MiB",
        plan.cases
    );
    if sustained.errors > 0 || phases.iter().any(|p| p.errors > 0) {
        println!("note: some requests failed (see `errors` in the JSON)");
    }
    drop(server);
    Ok(json!({
        "bench": "Koshi over HTTP on loopback (crates/koshi-bench, `koshi-bench http`)",
        "database": if plan.database_url.is_some() { "postgresql" } else { "sqlite (WAL, synchronous=FULL)" },
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "load_generator": "open loop at fixed rates (latency from each request's due instant), closed loop for 'at most'; one thread, on the same machine as the server",
        "deliveries": if plan.deliver.is_empty() { vec!["*=memory (bounded, in the server)".to_string()] } else { plan.deliver.clone() },
        "case_view_bytes": view_bytes,
        "prior_reads_of_the_case": plan.prior_reads,
        "phases": phases.iter().map(Phase::json).collect::<Vec<_>>(),
        "reads_at_most_by_wrk": wrk,
        "sustained_filings": sustained.json(),
        "server_memory_mib": {
            "rss_before_sustained": rss_before.round(),
            "rss_after_sustained": rss_after.round(),
            "cases_filed_in_sustained": plan.cases,
            "peak_vmhwm": peak.round(),
            "samples": samples.iter().map(|(t, m, s)| json!([load::round2(*t), load::round2(*m), s])).collect::<Vec<_>>(),
        },
    }))
}

/// `what` at each offered rate for `plan.seconds`, then as fast as the server answers
/// (`at_most` requests on 64 connections); `step` names the one running for the memory samples.
async fn steps(
    plan: &Plan,
    addr: SocketAddr,
    what: &str,
    make: &MakeRequest,
    rates: &[f64],
    at_most: u64,
    step: &std::sync::Mutex<String>,
) -> Result<Vec<Phase>> {
    let mut out = Vec::new();
    let offered = rates.iter().map(|&r| (format!("{what} at {r}/s"), Some(r)));
    for (name, rate) in offered.chain([(format!("{what}, at most"), None)]) {
        *step.lock().unwrap_or_else(|p| p.into_inner()) = name.clone();
        let p = match rate {
            Some(r) => {
                load::run(
                    &name,
                    addr,
                    make.clone(),
                    Some(r),
                    (r * plan.seconds) as u64,
                    plan.connections,
                )
                .await?
            }
            None => load::run(&name, addr, make.clone(), None, at_most, 64).await?,
        };
        print_phase(&p);
        out.push(p);
    }
    Ok(out)
}

fn print_phase(p: &Phase) {
    println!(
        "  {:<28} {:>8} /s achieved  p50 {:>7.2} ms  p99 {:>8.2} ms  max {:>8.2} ms  errors {}  (load {})",
        p.name,
        p.achieved.round(),
        p.p50_ms,
        p.p99_ms,
        p.max_ms,
        p.errors,
        p.load_average
    );
}

/// The most reads a second of the case with `wrk` (a C load generator, lighter than this one),
/// when it is installed: one thread, 64 connections.
fn wrk_reads(addr: SocketAddr, case_id: &str, token: &str, seconds: f64) -> Option<Value> {
    let out = Command::new("wrk")
        .args(["-t1", "-c64", &format!("-d{}s", seconds.round()), "--latency", "-H"])
        .arg(format!("Authorization: Bearer {token}"))
        .arg(format!("http://{addr}/api/v1/applications/{case_id}"))
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |label: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(str::to_string)
    };
    let rate: f64 = field("Requests/sec:")?.parse().ok()?;
    let non_2xx = text
        .lines()
        .find(|l| l.trim_start().starts_with("Non-2xx"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or("0")
        .to_string();
    Some(json!({
        "requests_per_second": rate.round(),
        "connections": 64,
        "p50": field("50%"),
        "p99": field("99%"),
        "non_2xx_or_3xx": non_2xx,
        "load_average_after": load::load_average(),
    }))
}

async fn ready(addr: SocketAddr) -> Result<()> {
    for _ in 0..300 {
        if let Ok(mut s) = tokio::net::TcpStream::connect(addr).await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let _ = s
                .write_all(b"GET /health/ready HTTP/1.1\r\nhost: koshi\r\nconnection: close\r\n\r\n")
                .await;
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf).await;
            if buf.starts_with(b"HTTP/1.1 200") {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("koshi serve on {addr} did not become ready in 30 s")
}
