//! Where outbox messages go: the monitoring system of public services (п. 9-4), the desk
//! printer, ИИС ЦОН and the portal cabinet (п. 9-1), and the bodies a PR case asks (п. 14).
//!
//! One port, [`Sink`], with adapters chosen per topic in configuration (`--deliver
//! TOPIC=DESTINATION`): an HTTP webhook ([`webhook`]), NATS JetStream ([`jetstream`]), or the
//! bounded in-memory receiver of tests and `koshi demo` ([`MemorySink`]), which production mode
//! refuses. A message is delivered at least once: a failed attempt is retried with backoff, a
//! receiver's refusal (4xx) is kept as `rejected` for a person to see, and receivers deduplicate
//! by the message id (`Idempotency-Key`, `Nats-Msg-Id`).

pub mod jetstream;
pub mod webhook;

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::StreamExt;
use serde_json::Value;

/// Why a delivery did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The receiver could not be reached or failed (timeout, 5xx, no acknowledgement): retried.
    Retry(String),
    /// The receiver refused the message (4xx): not retried; kept as `rejected` with the answer.
    Rejected(String),
}

/// One message to deliver: its id (the receiver's deduplication key) and its JSON text.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub id: &'a str,
    pub payload: &'a str,
    /// The request that queued it, sent on as `X-Request-Id` (a header of the webhook's POST and
    /// of the JetStream message), so that one request is followed into the receiver's logs.
    pub request_id: Option<&'a str>,
}

#[async_trait]
pub trait Sink: Send + Sync {
    /// Delivers one message of `topic`.
    async fn deliver(&self, topic: &str, message: Message<'_>) -> Result<(), Failure>;

    /// Delivers messages of one topic, several at once; the results in the messages' order.
    async fn deliver_many(&self, topic: &str, messages: &[Message<'_>]) -> Vec<Result<(), Failure>> {
        let mut sends = Vec::with_capacity(messages.len());
        for m in messages {
            sends.push(self.deliver(topic, *m));
        }
        futures::stream::iter(sends).buffered(CONCURRENCY).collect().await
    }
}

/// Deliveries in flight at once per destination.
pub const CONCURRENCY: usize = 64;

/// Every topic Koshi sends messages on. Configuration names destinations for these (or `*`).
pub fn topics() -> Vec<String> {
    let mut t: Vec<String> = [
        "monitoring",
        "delivery.desk_print",
        "delivery.iis_con",
        "delivery.portal_cabinet",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    t.extend(
        koshi_law::agencies::Agency::ALL
            .iter()
            .map(|a| format!("agency.{}", a.code())),
    );
    t
}

/// Where one topic's messages go, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `http://…` or `https://…`: an HTTP POST of each message.
    Webhook(String),
    /// `nats://host:port`: JetStream, subject `<prefix>.<topic>`.
    JetStream(String),
    /// `memory`: kept in this process (tests and `koshi demo` only).
    Memory,
}

impl Destination {
    pub fn parse(s: &str) -> Result<Destination, String> {
        let s = s.trim();
        if s == "memory" {
            Ok(Destination::Memory)
        } else if s.starts_with("http://") || s.starts_with("https://") {
            Ok(Destination::Webhook(s.to_string()))
        } else if s.starts_with("nats://") || s.starts_with("tls://") {
            Ok(Destination::JetStream(s.to_string()))
        } else {
            Err(format!(
                "destination {s:?}: expected an http(s):// webhook, a nats:// server or `memory`"
            ))
        }
    }
}

/// The delivery configuration: a destination per topic (`*` for every topic not named).
#[derive(Debug, Clone)]
pub struct Deliveries {
    pub routes: BTreeMap<String, Destination>,
    /// The key of the webhooks' `Koshi-Signature` (HMAC-SHA256 over the body).
    pub webhook_secret: Option<Vec<u8>>,
    /// How long one webhook call may take.
    pub webhook_timeout: std::time::Duration,
    /// The JetStream stream Koshi publishes to (created when missing).
    pub stream: String,
    /// The first token of every JetStream subject: `<prefix>.<topic>`.
    pub subject_prefix: String,
    /// CA certificates (PEM) trusted for a `tls://` NATS server, besides the system's.
    pub ca_file: Option<std::path::PathBuf>,
}

impl Default for Deliveries {
    /// Every topic to memory, webhooks unsigned with a 10 s timeout, stream `KOSHI`, `koshi.*`.
    fn default() -> Deliveries {
        Deliveries {
            routes: BTreeMap::new(),
            webhook_secret: None,
            webhook_timeout: std::time::Duration::from_secs(10),
            stream: "KOSHI".into(),
            subject_prefix: "koshi".into(),
            ca_file: None,
        }
    }
}

impl Deliveries {
    /// Parses `TOPIC=DESTINATION` items (`--deliver`, `KOSHI_DELIVER`).
    pub fn parse(items: &[String]) -> Result<Deliveries, String> {
        let known = topics();
        let mut routes = BTreeMap::new();
        for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            let Some((topic, dest)) = item.split_once('=') else {
                return Err(format!("--deliver {item:?}: expected TOPIC=DESTINATION"));
            };
            let topic = topic.trim();
            if topic != "*" && !known.iter().any(|k| k == topic) {
                return Err(format!(
                    "--deliver: no topic {topic:?}; the topics are {} (or * for all)",
                    known.join(", ")
                ));
            }
            if routes.insert(topic.to_string(), Destination::parse(dest)?).is_some() {
                return Err(format!("--deliver: topic {topic} is named twice"));
            }
        }
        Ok(Deliveries {
            routes,
            ..Deliveries::default()
        })
    }

    /// Where `topic` goes: its own route, else `*`, else nowhere.
    pub fn destination(&self, topic: &str) -> Option<&Destination> {
        self.routes.get(topic).or_else(|| self.routes.get("*"))
    }

    /// Production refuses a topic without a real destination, and webhooks without a key.
    pub fn check_production(&self) -> Result<(), String> {
        for topic in topics() {
            match self.destination(&topic) {
                None => {
                    return Err(format!(
                        "production: topic {topic} has no destination (--deliver {topic}=…)"
                    ));
                }
                Some(Destination::Memory) => {
                    return Err(format!("production: topic {topic} goes to memory, which keeps nothing"));
                }
                Some(Destination::Webhook(_)) if self.webhook_secret.is_none() => {
                    return Err("production: webhooks need KOSHI_WEBHOOK_SECRET to sign what they send".into());
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Builds the sink: each topic to its destination; topics without one to `memory`.
    pub async fn connect(&self, memory: Arc<MemorySink>) -> Result<Arc<dyn Sink>, String> {
        let mut webhooks: BTreeMap<String, Arc<dyn Sink>> = BTreeMap::new();
        let mut servers: BTreeMap<String, Arc<dyn Sink>> = BTreeMap::new();
        let mut by_topic: BTreeMap<String, Arc<dyn Sink>> = BTreeMap::new();
        for topic in topics() {
            let sink: Arc<dyn Sink> = match self.destination(&topic) {
                None | Some(Destination::Memory) => memory.clone(),
                Some(Destination::Webhook(url)) => match webhooks.get(url) {
                    Some(s) => s.clone(),
                    None => {
                        let s: Arc<dyn Sink> = Arc::new(webhook::Webhook::new(
                            url,
                            self.webhook_secret.clone(),
                            self.webhook_timeout,
                        )?);
                        webhooks.insert(url.clone(), s.clone());
                        s
                    }
                },
                Some(Destination::JetStream(url)) => match servers.get(url) {
                    Some(s) => s.clone(),
                    None => {
                        let s: Arc<dyn Sink> = Arc::new(
                            jetstream::JetStream::connect(
                                url,
                                &self.stream,
                                &self.subject_prefix,
                                self.ca_file.as_deref(),
                            )
                            .await?,
                        );
                        servers.insert(url.clone(), s.clone());
                        s
                    }
                },
            };
            by_topic.insert(topic, sink);
        }
        Ok(Arc::new(Routed { by_topic }))
    }
}

/// Each topic to its own sink.
struct Routed {
    by_topic: BTreeMap<String, Arc<dyn Sink>>,
}

impl Routed {
    fn sink(&self, topic: &str) -> Result<&Arc<dyn Sink>, Failure> {
        self.by_topic
            .get(topic)
            .ok_or_else(|| Failure::Retry(format!("no destination for topic {topic}")))
    }
}

#[async_trait]
impl Sink for Routed {
    async fn deliver(&self, topic: &str, message: Message<'_>) -> Result<(), Failure> {
        self.sink(topic)?.deliver(topic, message).await
    }
    async fn deliver_many(&self, topic: &str, messages: &[Message<'_>]) -> Vec<Result<(), Failure>> {
        match self.sink(topic) {
            Ok(s) => s.deliver_many(topic, messages).await,
            Err(e) => messages.iter().map(|_| Err(e.clone())).collect(),
        }
    }
}

/// The in-memory receiver of tests and `koshi demo`: keeps the latest [`MemorySink::CAPACITY`]
/// messages (deduplicated by id, as a real receiver would) and fails on demand for the topics it
/// is told to. Bounded: a long demo does not grow without end.
#[derive(Debug, Default)]
pub struct MemorySink {
    inner: Mutex<MemoryInner>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    received: VecDeque<(String, String, Value)>,
    seen: HashSet<String>,
    failing: HashSet<String>,
    rejecting: HashSet<String>,
}

impl MemorySink {
    /// Messages kept; the oldest go first.
    pub const CAPACITY: usize = 100_000;

    pub fn new() -> MemorySink {
        MemorySink::default()
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Makes deliveries to `topic` fail (or succeed again).
    pub fn set_failing(&self, topic: &str, failing: bool) {
        let mut g = self.lock();
        if failing {
            g.failing.insert(topic.to_string());
        } else {
            g.failing.remove(topic);
        }
    }
    /// Makes the receiver of `topic` refuse what it gets (as a 4xx would), or accept it again.
    pub fn set_rejecting(&self, topic: &str, rejecting: bool) {
        let mut g = self.lock();
        if rejecting {
            g.rejecting.insert(topic.to_string());
        } else {
            g.rejecting.remove(topic);
        }
    }
    /// Messages received so far (the latest [`MemorySink::CAPACITY`]): (topic, id, payload).
    pub fn received(&self) -> Vec<(String, String, Value)> {
        self.lock().received.iter().cloned().collect()
    }
}

#[async_trait]
impl Sink for MemorySink {
    async fn deliver(&self, topic: &str, message: Message<'_>) -> Result<(), Failure> {
        let mut g = self.lock();
        if g.failing.contains(topic) {
            return Err(Failure::Retry(format!("{topic}: receiver unavailable")));
        }
        if g.rejecting.contains(topic) {
            return Err(Failure::Rejected(format!("{topic}: the receiver refused the message")));
        }
        if g.seen.insert(message.id.to_string()) {
            let payload = serde_json::from_str(message.payload).unwrap_or(Value::Null);
            g.received
                .push_back((topic.to_string(), message.id.to_string(), payload));
            if g.received.len() > MemorySink::CAPACITY
                && let Some((_, id, _)) = g.received.pop_front()
            {
                g.seen.remove(&id);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_name_known_topics_and_fall_back_to_the_default() {
        let d = Deliveries::parse(&[
            "*=nats://127.0.0.1:4222".into(),
            "monitoring=https://mon.example/in".into(),
        ])
        .unwrap();
        assert_eq!(
            d.destination("monitoring"),
            Some(&Destination::Webhook("https://mon.example/in".into()))
        );
        assert_eq!(
            d.destination("agency.bank"),
            Some(&Destination::JetStream("nats://127.0.0.1:4222".into()))
        );
        assert!(
            Deliveries::parse(&["monitorng=memory".into()])
                .unwrap_err()
                .contains("no topic")
        );
        assert!(
            Deliveries::parse(&["monitoring=ftp://x".into()])
                .unwrap_err()
                .contains("expected")
        );
        assert!(
            Deliveries::parse(&["monitoring".into()])
                .unwrap_err()
                .contains("TOPIC=DESTINATION")
        );
        assert!(
            Deliveries::parse(&["*=memory".into(), "*=memory".into()])
                .unwrap_err()
                .contains("twice")
        );
    }

    #[test]
    fn production_needs_a_real_destination_for_every_topic_and_a_webhook_key() {
        let mut d = Deliveries::parse(&["monitoring=https://mon.example/in".into()]).unwrap();
        d.webhook_secret = Some(b"k".to_vec());
        assert!(d.check_production().unwrap_err().contains("has no destination"));
        d = Deliveries::parse(&["*=memory".into()]).unwrap();
        assert!(d.check_production().unwrap_err().contains("memory"));
        d = Deliveries::parse(&["*=https://gw.example/in".into()]).unwrap();
        assert!(d.check_production().unwrap_err().contains("KOSHI_WEBHOOK_SECRET"));
        d.webhook_secret = Some(b"k".to_vec());
        d.check_production().unwrap();
    }

    #[tokio::test]
    async fn the_memory_receiver_is_bounded_and_deduplicates() {
        let m = MemorySink::new();
        for i in 0..(MemorySink::CAPACITY + 10) {
            let id = format!("m{i}");
            m.deliver(
                "monitoring",
                Message {
                    id: &id,
                    payload: "{}",
                    request_id: None,
                },
            )
            .await
            .unwrap();
        }
        m.deliver(
            "monitoring",
            Message {
                id: "m20",
                payload: "{}",
                request_id: None,
            },
        )
        .await
        .unwrap();
        let got = m.received();
        assert_eq!(got.len(), MemorySink::CAPACITY);
        assert_eq!(got[0].1, "m10");
        assert_eq!(got.iter().filter(|r| r.1 == "m20").count(), 1);
    }
}
