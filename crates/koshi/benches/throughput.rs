//! Cases per second straight through (intake → seven checks → permit), in process, on SQLite and
//! (when KOSHI_TEST_DATABASE_URL or KOSHI_BENCH_DATABASE_URL is set) PostgreSQL, beside the raw
//! durable-insert ceiling of the same database; then the same with every registry answering in
//! 200 ms, and the decision latency (filing to decision, per case) of each run.
//!
//! `cargo bench -p koshi --bench throughput`. Knobs: KOSHI_BENCH_CASES=N (size, 20,000),
//! KOSHI_BENCH_CONCURRENCY=N (cases in flight, 512), KOSHI_BENCH_REPEAT=N (straight-through
//! runs, 3; the median is reported), KOSHI_BENCH_VERBOSE=1 (each run's CPU per case by thread), KOSHI_BENCH_SLOW_CONCURRENCY=N (in flight with 200 ms
//! registries, 4,096), KOSHI_BENCH_NO_LATENCY=1 (skip the latency
//! runs), KOSHI_BENCH_ONLY_CASES=1 (skip the raw ceilings), KOSHI_BENCH_KEEP=1 (keep the SQLite
//! file), KOSHI_BENCH_SKIP_SQLITE=1 (PostgreSQL only): the last four for profiling one phase.
//! The runtime has as many workers as `koshi serve` gives it (`koshi::worker_threads`;
//! KOSHI_WORKER_THREADS=N overrides, as there).

use std::sync::Arc;
use std::time::{Duration, Instant};

use koshi::app::{App, RegistrySource};
use koshi::service::{Caller, ServiceConfig};
use koshi_law::Law;
use koshi_registries::RegistryKind;
use koshi_registries::clock::ManualClock;
use koshi_registries::sim::Fixtures;
use koshi_store::repo::{self, EventRow};
use koshi_store::{Location, Store, Unit};

/// A positive number from the environment, or `default`.
fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// Cases in flight at once: the group commit's batches grow with it. 512: with the SQLite
/// writer's INSERTs of many rows, 512 in flight gave 21.8–21.9k cases/s against 20.2–21.1k with
/// 256 (three interleaved sets of three runs, 2 cores), and 2 KiB less written a case;
/// PostgreSQL the same either way.
fn concurrency() -> usize {
    knob("KOSHI_BENCH_CONCURRENCY", 512)
}

/// How many times the straight-through run is made.
fn repeats() -> usize {
    knob("KOSHI_BENCH_REPEAT", 3)
}

/// Cases in flight with 200 ms registries: a case then takes at least 200 ms, so the rate is
/// bounded by this number × 5 per second.
fn slow_concurrency() -> usize {
    knob("KOSHI_BENCH_SLOW_CONCURRENCY", 4096)
}

fn main() {
    // Sized as `koshi serve` sizes its runtime (KOSHI_WORKER_THREADS overrides, as there).
    let workers = std::env::var("KOSHI_WORKER_THREADS").ok().and_then(|v| v.parse().ok());
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(koshi::worker_threads(workers))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(run()) {
        eprintln!("bench failed: {e:#}");
        std::process::exit(1);
    }
}

/// The machine's load averages (1, 5, 15 min), as the kernel reports them.
fn load_average() -> Option<String> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

async fn run() -> anyhow::Result<()> {
    let cases = knob("KOSHI_BENCH_CASES", 20_000);
    // KOSHI_BENCH_OUT=FILE: the results as JSON too (bench/throughput.json in the repository).
    let mut report: Vec<serde_json::Value> = Vec::new();
    let dir = std::env::temp_dir().join(format!("koshi-bench-{}", uuid::Uuid::new_v4()));
    let mut targets = Vec::new();
    if std::env::var_os("KOSHI_BENCH_SKIP_SQLITE").is_none() {
        targets.push((
            "sqlite (WAL, synchronous=FULL)",
            Location::SqliteFile(dir.join("koshi.db")),
            None,
        ));
    }
    let pg = std::env::var("KOSHI_BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("KOSHI_TEST_DATABASE_URL"))
        .ok();
    if let Some(url) = &pg {
        let schema = format!("bench_{}", uuid::Uuid::new_v4().simple());
        let loc = koshi_store::create_test_schema(url, &schema).await?;
        targets.push(("postgresql", loc, Some((url.clone(), schema))));
    }
    println!(
        "Koshi throughput bench: {cases} cases, {} concurrent, {} cores, {} runtime worker(s)",
        concurrency(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        tokio::runtime::Handle::current().metrics().num_workers()
    );
    for (name, loc, cleanup) in targets {
        let (ceiling_batched, ceiling_serial) = if std::env::var_os("KOSHI_BENCH_ONLY_CASES").is_some() {
            (f64::NAN, f64::NAN)
        } else {
            (
                raw_ceiling(&loc, cases, concurrency()).await?,
                raw_ceiling(&loc, 2_000.min(cases), 1).await?,
            )
        };
        let app = build(&loc, Duration::ZERO).await?;
        let io_before = io_counters();
        let cpu_before = cpu_seconds();
        let threads_before = thread_cpu();
        // The straight-through run is repeated (this kind of machine varies by ±15% from run to
        // run): the median run is reported, with the range.
        let mut runs = Vec::new();
        let verbose = std::env::var_os("KOSHI_BENCH_VERBOSE").is_some();
        for _ in 0..repeats() {
            let before = thread_cpu_split();
            let read_before = thread_read_bytes("koshi-sqlite-wr");
            runs.push(run_cases(&app, "FA1234567", cases, concurrency()).await?);
            if verbose {
                // Each run's CPU per case by thread, user + system: a run that is slow shows
                // which thread did more work in it, and whether in the kernel.
                let after = thread_cpu_split();
                let per = |name: &str| {
                    let (u0, s0) = before.get(name).copied().unwrap_or_default();
                    let (u1, s1) = after.get(name).copied().unwrap_or_default();
                    format!(
                        "{name} {:.0}+{:.0}",
                        (u1 - u0) * 1e6 / cases as f64,
                        (s1 - s0) * 1e6 / cases as f64
                    )
                };
                let rate = runs.last().map_or(0.0, |r| r.rate);
                // What the writer read back from the files: near nothing while its page cache
                // holds the b-trees' upper pages.
                let read = thread_read_bytes("koshi-sqlite-wr").saturating_sub(read_before);
                println!(
                    "    run: {rate:>6.0} /s; µs of CPU per case, user+system: {}, {}, {}, {}; writer read {:.1} KiB a case",
                    per("koshi-sqlite-wr"),
                    per("tokio-rt-worker"),
                    per("koshi-sqlite-ch"),
                    per("koshi-sqlite-re"),
                    read as f64 / 1024.0 / cases as f64
                );
            }
        }
        let done = cases * runs.len();
        let in_order: Vec<String> = runs.iter().map(|r| format!("{:.0}", r.rate)).collect();
        let io = io_counters().zip(io_before).map(|(a, b)| (a.0 - b.0, a.1 - b.1));
        let cpu = cpu_seconds().zip(cpu_before).map(|(a, b)| a - b);
        runs.sort_by(|a, b| a.rate.total_cmp(&b.rate));
        let range = format!("{:.0}–{:.0}", runs[0].rate, runs[runs.len() - 1].rate);
        let fast = &runs[runs.len() / 2];
        println!("{name}:");
        println!("  raw durable inserts, one commit each (serial):  {ceiling_serial:>10.0} /s");
        println!(
            "  raw durable inserts, group commit ({} conc.):  {ceiling_batched:>10.0} /s",
            concurrency()
        );
        println!(
            "  cases straight through, intake → permit:        {:>10.0} /s   (median of {} runs, {range}; {} in flight; decision latency {})",
            fast.rate,
            runs.len(),
            concurrency(),
            fast.latency()
        );
        println!("    runs in order: {} /s", in_order.join(", "));
        let mut row = serde_json::json!({
            "database": name,
            "cases": cases,
            "in_flight": concurrency(),
            "cases_per_second_median": fast.rate.round(),
            "runs_per_second": runs.iter().map(|r| r.rate.round()).collect::<Vec<_>>(),
            "raw_inserts_serial_per_second": if ceiling_serial.is_nan() { serde_json::Value::Null } else { ceiling_serial.round().into() },
            "raw_inserts_group_commit_per_second": if ceiling_batched.is_nan() { serde_json::Value::Null } else { ceiling_batched.round().into() },
            "decision_latency": fast.latency(),
            "cpu_microseconds_per_case": cpu.map(|c| (c * 1e6 / done as f64).round()),
            "load_average_after": load_average(),
        });
        match (io, cpu, cleanup.is_some()) {
            (Some((wchar, written)), Some(cpu), false) => println!(
                "    per case: {:.0} µs of CPU (all threads), {:.1} KiB passed to write(), {:.1} KiB written to storage",
                cpu * 1e6 / done as f64,
                wchar as f64 / 1024.0 / done as f64,
                written as f64 / 1024.0 / done as f64
            ),
            (_, Some(cpu), true) => println!(
                "    per case: {:.0} µs of Koshi's CPU (the server's own work is in its processes, not counted)",
                cpu * 1e6 / done as f64
            ),
            _ => {}
        }
        if cleanup.is_none() {
            println!(
                "    CPU per case by thread: {}",
                thread_cpu_since(&threads_before, done)
            );
        }
        // The relay keeps up with intake when it sends more messages a second than the runs
        // queued per second of intake (3 a case: two monitoring stages and the permit).
        let per_case = {
            let b = app.service.store.outbox_backlog().await?;
            b.iter().map(|(_, n, _)| *n).sum::<i64>() as f64 / done as f64
        };
        app.service.store.close().await;
        let nats = std::env::var("KOSHI_BENCH_NATS_URL").ok();
        let (label, deliveries) = match &nats {
            Some(url) => {
                let mut d =
                    koshi::delivery::Deliveries::parse(&[format!("*={url}")]).map_err(|e| anyhow::anyhow!(e))?;
                let tag = uuid::Uuid::new_v4().simple().to_string();
                d.stream = format!("KOSHI_BENCH_{tag}");
                d.subject_prefix = format!("koshi_bench_{tag}");
                ("NATS JetStream", d)
            }
            None => ("the in-memory receiver", koshi::delivery::Deliveries::default()),
        };
        let relay_app = build_with(&loc, Duration::ZERO, deliveries).await?;
        let (sent, rate) = relay(&relay_app).await?;
        row["relay"] = serde_json::json!({"to": label, "messages": sent, "messages_per_second": rate.round(), "messages_per_case": per_case, "keeps_up_with_cases_per_second": (rate / per_case.max(1.0)).round()});
        println!(
            "  relay of the queued messages to {label}: {rate:>10.0} messages/s ({sent} messages, {per_case:.1} a case: keeps up with {:.0} cases/s)",
            rate / per_case.max(1.0)
        );
        relay_app.service.store.close().await;
        if std::env::var_os("KOSHI_BENCH_NO_LATENCY").is_none() {
            let app = build(&loc, Duration::from_millis(200)).await?;
            let slow = slow_concurrency();
            let many = run_cases(&app, "751234567", cases, slow).await?;
            println!(
                "  the same, every registry answering in 200 ms:  {:>10.0} /s   ({slow} in flight; decision latency {})",
                many.rate,
                many.latency()
            );
            let one = run_cases(&app, "751234567", 50, 1).await?;
            println!("    one case at a time: decision latency {} (50 cases)", one.latency());
            let hundred = run_cases(&app, "751234567", 1000, 100).await?;
            println!(
                "    100 cases in flight: decision latency {} (1,000 cases, {:.0} /s)",
                hundred.latency(),
                hundred.rate
            );
            row["registries_answering_in_200_ms"] = serde_json::json!({
                "cases": cases, "in_flight": slow, "cases_per_second": many.rate.round(),
                "decision_latency": many.latency(),
                "one_case_at_a_time": {"cases": 50, "decision_latency": one.latency()},
                "hundred_in_flight": {"cases": 1000, "cases_per_second": hundred.rate.round(), "decision_latency": hundred.latency()},
            });
            app.service.store.close().await;
        }
        if std::env::var_os("KOSHI_BENCH_NO_TIMERS").is_none() {
            let clock = Arc::new(ManualClock::new(START.parse()?));
            let app = build_clocked(
                &loc,
                Duration::ZERO,
                koshi::delivery::Deliveries::default(),
                clock.clone(),
            )
            .await?;
            let t = pr_timers(&app, &clock, knob("KOSHI_BENCH_PR_CASES", 5_000)).await?;
            println!(
                "  PR legal clocks fired (one background pass):    {:>10.0} /s   ({} timers of {} PR cases, {:.2} s)",
                t.rate, t.fired, t.cases, t.seconds
            );
            row["pr_timers"] = serde_json::json!({
                "pr_cases": t.cases, "timers_fired": t.fired, "seconds": (t.seconds * 100.0).round() / 100.0,
                "timers_per_second": t.rate.round(),
                "load_average_after": load_average(),
            });
            app.service.store.close().await;
        }
        report.push(row);
        if let Some((url, schema)) = cleanup {
            koshi_store::drop_test_schema(&url, &schema).await?;
        }
    }
    if let Ok(out) = std::env::var("KOSHI_BENCH_OUT") {
        let doc = serde_json::json!({
            "bench": "straight-through RVP cases (crates/koshi/benches/throughput.rs)",
            "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            "results": report,
        });
        std::fs::write(&out, serde_json::to_string_pretty(&doc)? + "\n")?;
        println!("written: {out}");
    }
    if std::env::var_os("KOSHI_BENCH_KEEP").is_some() {
        println!("kept {}", dir.display());
    } else {
        std::fs::remove_dir_all(&dir).ok();
    }
    Ok(())
}

async fn build(loc: &Location, latency: Duration) -> anyhow::Result<App> {
    build_with(loc, latency, koshi::delivery::Deliveries::default()).await
}

/// The relay: the messages the runs queued (monitoring stages, the permits for the printer),
/// claimed and sent until none is left, to `deliveries`. Messages a second.
async fn relay(app: &App) -> anyhow::Result<(usize, f64)> {
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..koshi::rvp::background::RELAY_WORKERS {
        let service = app.service.clone();
        tasks.spawn(async move {
            let mut sent = 0;
            loop {
                let n = service
                    .deliver_due()
                    .await
                    .map_err(|p| anyhow::anyhow!(p.detail.clone()))?;
                if n == 0 {
                    return Ok::<usize, anyhow::Error>(sent);
                }
                sent += n;
            }
        });
    }
    let mut sent = 0;
    while let Some(r) = tasks.join_next().await {
        sent += r??;
    }
    Ok((sent, sent as f64 / start.elapsed().as_secs_f64()))
}

/// The bench's clock: working time of a working day (Wednesday 2 December 2026, 10:00 Almaty),
/// whatever the hour the bench runs at: a clean case is formed at once by the duty officer
/// (п. 9-1), as it is in working time, rather than prepared for the next morning.
const START: &str = "2026-12-02T05:00:00Z";

async fn build_with(loc: &Location, latency: Duration, deliveries: koshi::delivery::Deliveries) -> anyhow::Result<App> {
    build_clocked(loc, latency, deliveries, Arc::new(ManualClock::new(START.parse()?))).await
}

async fn build_clocked(
    loc: &Location,
    latency: Duration,
    deliveries: koshi::delivery::Deliveries,
    clock: Arc<ManualClock>,
) -> anyhow::Result<App> {
    let mut law = Law::builtin().map_err(|e| anyhow::anyhow!("{e}"))?;
    law.params.household_limit_per_employer = Some(1_000_000);
    let fixtures = Fixtures::demo().map_err(|e| anyhow::anyhow!("{e}"))?;
    let app = App::build(
        loc,
        Arc::new(law),
        RegistrySource::Simulated(fixtures),
        clock,
        ServiceConfig {
            duty_officers: [("ALM-01".to_string(), "duty.alm01".to_string())].into(),
            deliveries,
            ..ServiceConfig::default()
        },
    )
    .await?;
    koshi::demo::duty_officer_accounts(&app).await?;
    if let Some(sim) = &app.sim {
        for k in RegistryKind::ALL {
            sim.set_latency(k, latency);
        }
    }
    Ok(app)
}

/// Durable single-row inserts: each a unit of its own, `concurrency` in flight.
async fn raw_ceiling(loc: &Location, n: usize, concurrency: usize) -> anyhow::Result<f64> {
    let store = Store::open(loc).await?;
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let per = n / concurrency;
    for w in 0..concurrency {
        let s = store.clone();
        tasks.spawn(async move {
            for i in 0..per {
                let e = EventRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    application_id: None,
                    at: format!("2026-02-02T05:00:00.{:06}Z", (w * per + i) % 1_000_000),
                    actor: "bench".into(),
                    action: "bench.insert".into(),
                    citation: "—".into(),
                    rules_version: "992/2024-12-08".into(),
                    detail: "{}".into(),
                };
                s.write(Unit::new().with(repo::insert_event(e))).await?;
            }
            Ok::<(), koshi_store::StoreError>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    let rate = (per * concurrency) as f64 / start.elapsed().as_secs_f64();
    store.close().await;
    Ok(rate)
}

/// This process's write counters (Linux `/proc/self/io`): bytes passed to write calls, bytes
/// sent to storage. None elsewhere.
fn io_counters() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/self/io").ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<u64>().ok())
    };
    Some((field("wchar:")?, field("write_bytes:")?))
}

/// CPU seconds this process has used, all threads (Linux `/proc/self/stat`). None elsewhere.
fn cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat (utime, stime), counted from the state field (3) onwards.
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0) // USER_HZ is 100 on Linux
}

/// CPU seconds per thread name (Linux `/proc/self/task/*/stat`; the kernel keeps 15 characters
/// of a name), summed over the threads of that name. Empty elsewhere.
fn thread_cpu() -> std::collections::BTreeMap<String, f64> {
    thread_cpu_split()
        .into_iter()
        .map(|(name, (user, system))| (name, user + system))
        .collect()
}

/// Bytes the threads of this name have read through system calls (Linux
/// `/proc/self/task/*/io`, `rchar`); 0 elsewhere.
fn thread_read_bytes(name: &str) -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end() != name {
            continue;
        }
        let io = std::fs::read_to_string(task.path().join("io")).unwrap_or_default();
        total += io
            .lines()
            .find_map(|l| l.strip_prefix("rchar:")?.trim().parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}

/// As `thread_cpu`, user and system seconds apart.
fn thread_cpu_split() -> std::collections::BTreeMap<String, (f64, f64)> {
    let mut by_name = std::collections::BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return by_name;
    };
    for task in dir.flatten() {
        let Ok(text) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (text.find('('), text.rfind(')')) else {
            continue;
        };
        let name = text[open + 1..close].to_string();
        let f: Vec<&str> = text[close + 2..].split_whitespace().collect();
        let ticks = |i: usize| f.get(i).and_then(|t| t.parse::<u64>().ok()).unwrap_or(0) as f64 / 100.0;
        let e: &mut (f64, f64) = by_name.entry(name).or_default();
        e.0 += ticks(11);
        e.1 += ticks(12);
    }
    by_name
}

/// Microseconds of CPU per case by thread name since `before` (threads that ended meanwhile are
/// not counted), largest first.
fn thread_cpu_since(before: &std::collections::BTreeMap<String, f64>, cases: usize) -> String {
    let mut rows: Vec<(String, f64)> = thread_cpu()
        .into_iter()
        .map(|(name, s)| {
            let d = s - before.get(&name).copied().unwrap_or(0.0);
            (name, d * 1e6 / cases as f64)
        })
        .filter(|(_, us)| *us >= 0.5)
        .collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    rows.iter()
        .map(|(n, us)| format!("{n} {us:.0} µs"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn caller() -> Caller {
    Caller {
        token_id: "bench".into(),
        role: "officer".into(),
        unit: "ALM-01".into(),
        post: None,
        party: None,
    }
}

/// What a closed-loop run measured: the rate, and each case's time from filing to decision.
struct Run {
    rate: f64,
    /// Milliseconds, sorted.
    ms: Vec<f64>,
}

impl Run {
    fn latency(&self) -> String {
        let pct = |p: f64| self.ms[((self.ms.len() as f64 - 1.0) * p) as usize];
        format!(
            "p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
            pct(0.5),
            pct(0.95),
            pct(1.0)
        )
    }
}

/// `n` cases through intake, the seven checks and the decision, `in_flight` at a time (each of
/// `in_flight` workers files its next case when its last is decided). Every case must end issued.
async fn run_cases(app: &App, passport: &str, n: usize, in_flight: usize) -> anyhow::Result<Run> {
    let sim = app.sim.as_ref().ok_or_else(|| anyhow::anyhow!("no simulator"))?;
    let base = koshi::demo::request(&app.service.law(), sim.fixtures(), passport, "labour_contract");
    let issued_before = app.service.store.count_in_status("issued").await?;
    let in_flight = in_flight.clamp(1, n.max(1));
    let per = n / in_flight;
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..in_flight {
        let svc = app.service.clone();
        let req = base.clone();
        tasks.spawn(async move {
            let mut ms = Vec::with_capacity(per);
            for _ in 0..per {
                let t = Instant::now();
                svc.file_and_process(&caller(), req.clone())
                    .await
                    .map_err(|p| anyhow::anyhow!("{}", p.detail))?;
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<Vec<f64>, anyhow::Error>(ms)
        });
    }
    let mut ms = Vec::with_capacity(n);
    while let Some(r) = tasks.join_next().await {
        ms.extend(r??);
    }
    app.service.settle().await;
    let elapsed = start.elapsed().as_secs_f64();
    let issued = usize::try_from(app.service.store.count_in_status("issued").await? - issued_before)?;
    if issued < per * in_flight {
        anyhow::bail!("only {issued} of {} cases were issued", per * in_flight);
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    Ok(Run {
        rate: (per * in_flight) as f64 / elapsed,
        ms,
    })
}

/// What the timer step measured.
struct Timers {
    cases: usize,
    fired: usize,
    seconds: f64,
    rate: f64,
}

/// PR legal clocks fired a second: `n` PR applications registered at the desk (each starts its
/// clocks: the stage to the УМС and the 60-day service term, with their "at risk" marks), then
/// the clock moves 200 days on and the background pass (`fire_due_timers`, as `koshi serve`
/// runs it) fires every one, each a durable unit (the fired mark, the audit event with its
/// citation, the monitoring stage).
async fn pr_timers(app: &App, clock: &ManualClock, n: usize) -> anyhow::Result<Timers> {
    let sim = app.sim.as_ref().ok_or_else(|| anyhow::anyhow!("no simulator"))?;
    let req = koshi::demo::pr_request(sim.fixtures(), "FA1234567", "2026-11-10")
        .ok_or_else(|| anyhow::anyhow!("no fixture person"))?;
    let req: koshi::model::PrApplicationRequest = serde_json::from_value(req)?;
    let mut tasks = tokio::task::JoinSet::new();
    let per = n.div_ceil(64);
    for _ in 0..64 {
        let (svc, req) = (app.service.clone(), req.clone());
        tasks.spawn(async move {
            for _ in 0..per {
                let created = svc
                    .file_pr(&caller(), req.clone(), None, "")
                    .await
                    .map_err(|p| anyhow::anyhow!("{}", p.detail))?;
                anyhow::ensure!(
                    created.status == "registered",
                    "a PR filing was not registered: {}",
                    serde_json::to_string(&created.receipt)?
                );
            }
            Ok::<(), anyhow::Error>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    clock.advance(jiff::SignedDuration::from_hours(24 * 200));
    let start = Instant::now();
    let mut fired = 0;
    loop {
        let k = app
            .service
            .fire_due_timers()
            .await
            .map_err(|p| anyhow::anyhow!(p.detail.clone()))?;
        if k == 0 {
            break;
        }
        fired += k;
    }
    let seconds = start.elapsed().as_secs_f64();
    // Four a case: the stage and the term, each with its "at risk" mark.
    anyhow::ensure!(fired == per * 64 * 4, "{fired} timers fired for {} PR cases", per * 64);
    Ok(Timers {
        cases: per * 64,
        fired,
        seconds,
        rate: fired as f64 / seconds,
    })
}
