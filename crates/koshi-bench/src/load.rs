//! The load generator: keep-alive HTTP/1.1 connections to one server, each request either sent at
//! its scheduled instant (open loop, a fixed offered rate) or as soon as the previous answer came
//! (closed loop, as fast as the server answers).
//!
//! In the open loop a request's latency is counted from the instant it was due, not from when a
//! connection was free to send it: a server that stalls for 100 ms shows 100 ms on every request
//! that fell due meanwhile, rather than on one (no "coordinated omission").

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// Builds the `i`-th request of a phase.
pub type MakeRequest = Arc<dyn Fn(u64) -> Request<Full<Bytes>> + Send + Sync>;

/// What one phase measured.
#[derive(Debug, Clone)]
pub struct Phase {
    pub name: String,
    /// Requests a second offered (open loop); none for a closed loop.
    pub offered: Option<f64>,
    pub connections: usize,
    pub sent: u64,
    /// Answers with a 2xx status.
    pub ok: u64,
    /// Other answers and failed connections.
    pub errors: u64,
    /// Answers a second, over the phase from its start to the last answer.
    pub achieved: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub load_average: String,
    /// The answer of the first successful request (a filing's case id is read from it).
    pub first_body: Option<Bytes>,
}

impl Phase {
    pub fn json(&self) -> Value {
        json!({
            "phase": self.name,
            "offered_per_second": self.offered,
            "connections": self.connections,
            "sent": self.sent,
            "ok": self.ok,
            "errors": self.errors,
            "achieved_per_second": self.achieved.round(),
            "latency_ms": {"p50": round2(self.p50_ms), "p99": round2(self.p99_ms), "max": round2(self.max_ms)},
            "load_average_after": self.load_average,
        })
    }
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Result<Sender> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

async fn send(sender: &mut Sender, req: Request<Full<Bytes>>) -> Result<(u16, Bytes)> {
    sender.ready().await?;
    let resp: hyper::Response<Incoming> = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

/// Runs a phase: `total` requests over `connections`, each sent at `start + i / rate` when a
/// rate is given, else as soon as a connection is free.
pub async fn run(
    name: &str,
    addr: SocketAddr,
    make: MakeRequest,
    rate: Option<f64>,
    total: u64,
    connections: usize,
) -> Result<Phase> {
    let next = Arc::new(AtomicU64::new(0));
    let first_body: Arc<std::sync::Mutex<Option<Bytes>>> = Arc::default();
    // Connections are opened before the clock starts.
    let mut senders = Vec::with_capacity(connections);
    for _ in 0..connections {
        senders.push(connect(addr).await?);
    }
    let start = Instant::now() + Duration::from_millis(20);
    let mut tasks = tokio::task::JoinSet::new();
    for mut sender in senders {
        let (next, make, first_body) = (next.clone(), make.clone(), first_body.clone());
        tasks.spawn(async move {
            let mut out: Vec<(f64, bool)> = Vec::new();
            let mut last = start;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let due = match rate {
                    Some(r) => {
                        let due = start + Duration::from_secs_f64(i as f64 / r);
                        tokio::time::sleep_until(due.into()).await;
                        due
                    }
                    None => Instant::now(),
                };
                let ok = match send(&mut sender, make(i)).await {
                    Ok((status, body)) => {
                        let ok = (200..300).contains(&status);
                        if ok {
                            let mut f = first_body.lock().unwrap_or_else(|p| p.into_inner());
                            if f.is_none() {
                                *f = Some(body);
                            }
                        }
                        ok
                    }
                    Err(_) => {
                        // A broken connection is replaced; its request counts as an error.
                        if let Ok(s) = connect(addr).await {
                            sender = s;
                        }
                        false
                    }
                };
                last = Instant::now();
                out.push((last.duration_since(due).as_secs_f64() * 1000.0, ok));
            }
            (out, last)
        });
    }
    let mut all = Vec::with_capacity(total as usize);
    let mut end = start;
    while let Some(r) = tasks.join_next().await {
        let (out, last) = r?;
        all.extend(out);
        end = end.max(last);
    }
    let ok = all.iter().filter(|(_, ok)| *ok).count() as u64;
    let mut ms: Vec<f64> = all.iter().map(|(m, _)| *m).collect();
    ms.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| {
        ms.get(((ms.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let first_body = first_body.lock().unwrap_or_else(|p| p.into_inner()).take();
    Ok(Phase {
        name: name.to_string(),
        offered: rate,
        connections,
        sent: all.len() as u64,
        ok,
        errors: all.len() as u64 - ok,
        achieved: all.len() as f64 / end.duration_since(start).as_secs_f64().max(1e-9),
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        max_ms: ms.last().copied().unwrap_or(0.0),
        load_average: load_average(),
        first_body,
    })
}
