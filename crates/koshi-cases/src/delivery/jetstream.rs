//! NATS JetStream: each message is published to `<prefix>.<topic>` (`koshi.<topic>` unless
//! configured) with `Nats-Msg-Id` set to the
//! message id, so that the stream keeps one copy of a message sent again within its duplicate
//! window, and counts as delivered only when the stream acknowledges it (stored).
//!
//! Koshi creates its stream at start when it is missing: file storage, subjects `<prefix>.>`, a
//! duplicate window of one hour (longer than any redelivery of an unacknowledged message). An
//! acknowledged message survives a power loss only if the server runs with
//! `sync_interval: always` (README, "Deliveries").

use async_nats::jetstream::{self, context::Context, stream};
use async_trait::async_trait;

use super::{Failure, Message, Sink};

pub struct JetStream {
    js: Context,
    url: String,
    stream: String,
    prefix: String,
    /// Set once the stream is known to exist.
    ready: tokio::sync::OnceCell<()>,
}

impl JetStream {
    /// A publisher to `url`. The connection is made in the background and remade whenever it
    /// drops: a server that is down when Koshi starts delays messages, it does not stop Koshi.
    pub async fn connect(
        url: &str,
        stream: &str,
        prefix: &str,
        ca_file: Option<&std::path::Path>,
    ) -> Result<JetStream, String> {
        let mut options = async_nats::ConnectOptions::new();
        if let Some(ca) = ca_file {
            options = options.add_root_certificates(ca.to_path_buf());
        }
        if url.starts_with("tls://") {
            options = options.require_tls(true);
        }
        let client = options
            .name("koshi")
            .connection_timeout(std::time::Duration::from_secs(5))
            .retry_on_initial_connect()
            .connect(url)
            .await
            .map_err(|e| format!("NATS {url}: {e}"))?;
        Ok(JetStream {
            js: jetstream::new(client),
            url: url.to_string(),
            stream: stream.to_string(),
            prefix: prefix.to_string(),
            ready: tokio::sync::OnceCell::new(),
        })
    }

    /// The subject a topic's messages are published to.
    pub fn subject(&self, topic: &str) -> String {
        format!("{}.{topic}", self.prefix)
    }

    /// Makes sure the stream exists: created when missing (file storage, subjects
    /// `<prefix>.>`, a duplicate window of one hour), never changed when present.
    async fn ensure_stream(&self) -> Result<(), Failure> {
        self.ready
            .get_or_try_init(|| async {
                self.js
                    .get_or_create_stream(stream::Config {
                        name: self.stream.clone(),
                        subjects: vec![format!("{}.>", self.prefix)],
                        storage: stream::StorageType::File,
                        duplicate_window: std::time::Duration::from_secs(3600),
                        ..Default::default()
                    })
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        Failure::Retry(format!(
                            "NATS {}: the stream {} cannot be found or created: {e}",
                            self.url, self.stream
                        ))
                    })
            })
            .await
            .map(|_| ())
    }

    async fn publish(
        &self,
        topic: &str,
        message: Message<'_>,
    ) -> Result<jetstream::context::PublishAckFuture, Failure> {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", message.id);
        if let Some(r) = message.request_id {
            headers.insert("X-Request-Id", r);
        }
        self.js
            .publish_with_headers(self.subject(topic), headers, message.payload.as_bytes().to_vec().into())
            .await
            .map_err(|e| Failure::Retry(format!("{topic}: publish failed: {e}")))
    }
}

#[async_trait]
impl Sink for JetStream {
    async fn deliver(&self, topic: &str, message: Message<'_>) -> Result<(), Failure> {
        self.ensure_stream().await?;
        let ack = self.publish(topic, message).await?;
        ack.await
            .map(|_| ())
            .map_err(|e| Failure::Retry(format!("{topic}: not acknowledged: {e}")))
    }

    /// Publishes the whole batch, then waits for the acknowledgements.
    async fn deliver_many(&self, topic: &str, messages: &[Message<'_>]) -> Vec<Result<(), Failure>> {
        if let Err(e) = self.ensure_stream().await {
            return messages.iter().map(|_| Err(e.clone())).collect();
        }
        let mut pending = Vec::with_capacity(messages.len());
        for m in messages {
            pending.push(self.publish(topic, *m).await);
        }
        let mut out = Vec::with_capacity(messages.len());
        for p in pending {
            out.push(match p {
                Ok(ack) => ack
                    .await
                    .map(|_| ())
                    .map_err(|e| Failure::Retry(format!("{topic}: not acknowledged: {e}"))),
                Err(e) => Err(e),
            });
        }
        out
    }
}
