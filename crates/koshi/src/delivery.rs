//! Where outbox messages go: the monitoring system of public services (п. 9-4), the desk
//! printer, ИИС ЦОН and the portal cabinet (п. 9-1). One port; a simulator records deliveries
//! and can be told to fail.

use std::collections::BTreeSet;
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;

#[async_trait]
pub trait Sink: Send + Sync {
    /// Delivers one message; `Err` is retried later with backoff (at-least-once).
    async fn deliver(&self, topic: &str, message_id: &str, payload: &Value) -> Result<(), String>;
}

/// A simulated receiver: keeps what arrived (deduplicated by message id, as a real receiver
/// would), and fails on demand for the topics it is told to.
#[derive(Debug, Default)]
pub struct MemorySink {
    received: Mutex<Vec<(String, String, Value)>>,
    seen: Mutex<BTreeSet<String>>,
    failing: Mutex<BTreeSet<String>>,
}

impl MemorySink {
    pub fn new() -> MemorySink {
        MemorySink::default()
    }
    /// Makes deliveries to `topic` fail (or succeed again).
    pub fn set_failing(&self, topic: &str, failing: bool) {
        let mut f = self.failing.lock().unwrap_or_else(|p| p.into_inner());
        if failing {
            f.insert(topic.to_string());
        } else {
            f.remove(topic);
        }
    }
    /// Messages received so far: (topic, message id, payload).
    pub fn received(&self) -> Vec<(String, String, Value)> {
        self.received.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait]
impl Sink for MemorySink {
    async fn deliver(&self, topic: &str, message_id: &str, payload: &Value) -> Result<(), String> {
        if self.failing.lock().unwrap_or_else(|p| p.into_inner()).contains(topic) {
            return Err(format!("{topic}: receiver unavailable"));
        }
        if self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(message_id.to_string())
        {
            self.received.lock().unwrap_or_else(|p| p.into_inner()).push((
                topic.to_string(),
                message_id.to_string(),
                payload.clone(),
            ));
        }
        Ok(())
    }
}
