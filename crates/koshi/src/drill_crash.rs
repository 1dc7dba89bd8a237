//! `koshi drill-crash`: filings under load, `kill -9` of a serving process at a random moment,
//! a restart, and the proof (issue 15 item 7): every acknowledged filing is there, exactly once
//! (its Idempotency-Key, sent again, answers with the same case, and no case exists that no key
//! explains); the audit chain verifies; the outbox drains and no legal clock is left behind.
//! On SQLite one instance; with a PostgreSQL URL, `--instances 2` kills one while the other
//! goes on serving.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::config::DataArgs;

/// What a round found.
#[derive(Debug, Default, Clone, Copy)]
pub struct Round {
    pub acknowledged: usize,
    pub found: usize,
    pub duplicated: usize,
    pub lost: usize,
    /// Sent, with no answer before the kill: created then or on the replay, once either way.
    pub in_doubt: usize,
}

struct Instance {
    child: Child,
    base: String,
    listen: String,
}

fn free_port() -> Result<String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.to_string())
}

fn spawn(data: &DataArgs, listen: &str) -> Result<Child> {
    let mut c = Command::new(std::env::current_exe()?);
    c.args(["serve", "--listen", listen, "--data-dir"])
        .arg(&data.data_dir)
        .env("KOSHI_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match &data.database_url {
        Some(u) => c.env("KOSHI_DATABASE_URL", u),
        None => c.env_remove("KOSHI_DATABASE_URL"),
    };
    c.spawn().context("cannot start koshi serve")
}

async fn ready(http: &reqwest::Client, base: &str) -> Result<()> {
    for _ in 0..300 {
        if let Ok(r) = http.get(format!("{base}/health/ready")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{base} did not become ready in 30 s")
}

/// A random number below `n` (the moment of a kill, the victim): from a fresh UUID's bits.
fn random_below(n: u64) -> u64 {
    (uuid::Uuid::new_v4().as_u128() as u64) % n.max(1)
}

/// Runs the drill; prints a line a round and the totals. Fails if anything was lost or doubled.
pub async fn run(data: &DataArgs, rounds: usize, instances: usize, law: Arc<koshi_law::Law>) -> Result<Vec<Round>> {
    if instances > 1 && data.database_url.is_none() {
        bail!("--instances above 1 needs PostgreSQL (KOSHI_DATABASE_URL): SQLite is one process's");
    }
    let location = crate::app::location(data)?;
    let (officer, auditor) = {
        let store = koshi_store::Store::open(&location).await?;
        let officer = crate::app::issue_token(&store, "officer", "ALM-01", "drill-crash")
            .await?
            .1;
        let auditor = crate::app::issue_token(&store, "auditor", "MVD", "drill-crash")
            .await?
            .1;
        store.close().await;
        (officer, auditor)
    };
    let fixtures = koshi_registries::sim::Fixtures::demo().map_err(|e| anyhow::anyhow!("{e}"))?;
    let body = serde_json::to_vec(&crate::demo::request(&law, &fixtures, "FA1234567", "labour_contract"))?;
    let http = koshi_registries::tls::client_builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut servers = Vec::new();
    for _ in 0..instances {
        let listen = free_port()?;
        let child = spawn(data, &listen)?;
        let base = format!("http://{listen}");
        ready(&http, &base).await?;
        servers.push(Instance { child, base, listen });
    }
    let mut results = Vec::new();
    // Every key ever sent, with the case it answered (None: no answer before the kill).
    let sent: Arc<Mutex<BTreeMap<String, Option<String>>>> = Arc::default();
    for round in 1..=rounds {
        let stop = Arc::new(AtomicBool::new(false));
        let before: BTreeSet<String> = sent.lock().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect();
        let mut load = tokio::task::JoinSet::new();
        for w in 0..32 {
            let (http, stop, sent, body, token) =
                (http.clone(), stop.clone(), sent.clone(), body.clone(), officer.clone());
            let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
            load.spawn(async move {
                let mut n = w;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let key = uuid::Uuid::new_v4().to_string();
                    sent.lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone(), None);
                    let r = http
                        .post(format!("{}/api/v1/applications", bases[n % bases.len()]))
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .header("Idempotency-Key", &key)
                        .body(body.clone())
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().as_u16() == 201 => {
                            if let Ok(v) = r.json::<Value>().await
                                && let Some(id) = v["id"].as_str()
                            {
                                sent.lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .insert(key, Some(id.to_string()));
                            }
                        }
                        // Never reached a server (it was down): not in doubt.
                        Err(e) if e.is_connect() => {
                            sent.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        _ => {}
                    }
                }
            });
        }
        tokio::time::sleep(Duration::from_millis(300 + random_below(1200))).await;
        let victim = random_below(servers.len() as u64) as usize;
        // SIGKILL: no shutdown, no flush, nothing but what was committed.
        servers[victim].child.kill()?;
        let _ = servers[victim].child.wait();
        tokio::time::sleep(Duration::from_millis(100)).await;
        stop.store(true, Ordering::Relaxed);
        while load.join_next().await.is_some() {}
        servers[victim].child = spawn(data, &servers[victim].listen)?;
        ready(&http, &servers[victim].base).await?;

        // The keys of this round: acknowledged ones must answer with their case again; the
        // ones in doubt are sent again (creating the case now if the first never arrived).
        let round_keys: Vec<(String, Option<String>)> = sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(k, _)| !before.contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut r = Round::default();
        for (key, acked) in &round_keys {
            let resp = http
                .post(format!("{}/api/v1/applications", servers[0].base))
                .bearer_auth(&officer)
                .header("content-type", "application/json")
                .header("Idempotency-Key", key)
                .body(body.clone())
                .send()
                .await?;
            let status = resp.status().as_u16();
            let v: Value = resp.json().await.unwrap_or(Value::Null);
            let id = v["id"].as_str().map(String::from);
            match acked {
                Some(a) => {
                    r.acknowledged += 1;
                    match &id {
                        Some(i) if i == a => r.found += 1,
                        // The key no longer leads to its case: the acknowledged filing is lost
                        // (and the replay made another, which the count below sees).
                        Some(_) => r.lost += 1,
                        None => bail!("round {round}: replaying an acknowledged key answered {status}: {v}"),
                    }
                }
                None => {
                    r.in_doubt += 1;
                    if id.is_none() {
                        bail!("round {round}: replaying a key in doubt answered {status}: {v}");
                    }
                }
            }
            sent.lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone(), id);
        }
        // Every case is explained by exactly one key: none lost, none made twice.
        let explained: BTreeSet<String> = sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .flatten()
            .cloned()
            .collect();
        let cases = count_cases(&http, &servers[0].base, &auditor).await?;
        if cases > explained.len() as i64 {
            r.duplicated += (cases - explained.len() as i64) as usize;
        }
        if cases < explained.len() as i64 {
            r.lost += (explained.len() as i64 - cases) as usize;
        }
        println!(
            "round {round:>2}: killed instance {victim}; acknowledged {}, found {}, duplicated {}, lost {}, in doubt {} (each once after the replay)",
            r.acknowledged, r.found, r.duplicated, r.lost, r.in_doubt
        );
        results.push(r);
    }
    // The background work resumes: the outbox drains, no clock is overdue to fire.
    // Messages a killed instance had claimed wait for their lease to end.
    let mut drained = false;
    let mut behind = String::new();
    let patience = crate::rvp::background::OUTBOX_LEASE.as_secs() as usize + 60;
    for _ in 0..patience * 5 {
        let m = http
            .get(format!("{}/metrics", servers[0].base))
            .bearer_auth(&auditor)
            .send()
            .await?
            .text()
            .await?;
        let lines: Vec<&str> = m
            .lines()
            .filter(|l| l.starts_with("koshi_outbox_backlog{") || l.starts_with("koshi_timers_overdue{"))
            .collect();
        let waiting: f64 = lines
            .iter()
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        behind = lines.join("; ");
        if waiting == 0.0 {
            drained = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for s in &mut servers {
        let _ = s.child.kill();
        let _ = s.child.wait();
    }
    let store = koshi_store::Store::open(&location).await?;
    let audit = store.verify_audit().await?;
    store.close().await;
    let total = results.iter().fold(Round::default(), |a, r| Round {
        acknowledged: a.acknowledged + r.acknowledged,
        found: a.found + r.found,
        duplicated: a.duplicated + r.duplicated,
        lost: a.lost + r.lost,
        in_doubt: a.in_doubt + r.in_doubt,
    });
    println!(
        "total: {} rounds, {} instance(s); acknowledged {}, found {}, duplicated {}, lost {}, in doubt {}; audit chain {} ({} entries); outbox and clocks {}",
        rounds,
        instances,
        total.acknowledged,
        total.found,
        total.duplicated,
        total.lost,
        total.in_doubt,
        if audit.first_broken.is_none() {
            "intact"
        } else {
            "BROKEN"
        },
        audit.entries,
        if drained {
            "caught up".to_string()
        } else {
            format!("NOT caught up after {patience} s: {behind}")
        }
    );
    if total.duplicated > 0 || total.lost > 0 || audit.first_broken.is_some() || !drained {
        bail!("the drill failed");
    }
    Ok(results)
}

/// Cases in the database, by the auditor's work queue counts.
async fn count_cases(http: &reqwest::Client, base: &str, auditor: &str) -> Result<i64> {
    let v: Value = http
        .get(format!("{base}/api/v1/applications?limit=1"))
        .bearer_auth(auditor)
        .send()
        .await?
        .json()
        .await?;
    Ok(v["counts"]
        .as_object()
        .map(|c| c.values().filter_map(Value::as_i64).sum())
        .unwrap_or(0))
}
