//! HTTP webhooks: each message is POSTed as its JSON text to the configured URL, with
//! - `Idempotency-Key`: the message id (a re-sent message carries the same key; the receiver
//!   keeps the first);
//! - `Koshi-Topic`: the topic;
//! - `X-Request-Id`: the request that queued the message, when a request did;
//! - `Koshi-Signature: sha256=<hex>`: HMAC-SHA256 of the exact body under the configured key
//!   (`KOSHI_WEBHOOK_SECRET`), for the receiver to check that Koshi sent it.
//!
//! 2xx is delivered. 408, 425, 429, 5xx, a timeout or a refused connection are retried with
//! backoff. Any other 4xx is the receiver's refusal: not retried, kept as `rejected` with the
//! answer's status and the start of its body.

use async_trait::async_trait;
use hmac::{KeyInit, Mac};

use super::{Failure, Message, Sink};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

pub struct Webhook {
    url: String,
    client: reqwest::Client,
    secret: Option<Vec<u8>>,
}

/// The `Koshi-Signature` of `body` under `key` (HMAC takes a key of any length: `None` never
/// happens in practice, and is not sent unsigned if it does).
pub fn signature(key: &[u8], body: &[u8]) -> Option<String> {
    let mut mac = HmacSha256::new_from_slice(key).ok()?;
    mac.update(body);
    Some(format!("sha256={}", hex::encode(mac.finalize().into_bytes())))
}

impl Webhook {
    pub fn new(url: &str, secret: Option<Vec<u8>>, timeout: std::time::Duration) -> Result<Webhook, String> {
        let client = koshi_registries::tls::client_builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(std::time::Duration::from_secs(5)))
            .pool_max_idle_per_host(super::CONCURRENCY)
            .build()
            .map_err(|e| format!("webhook {url}: {e}"))?;
        Ok(Webhook {
            url: url.to_string(),
            client,
            secret,
        })
    }
}

#[async_trait]
impl Sink for Webhook {
    async fn deliver(&self, topic: &str, message: Message<'_>) -> Result<(), Failure> {
        let body = message.payload.as_bytes().to_vec();
        let mut req = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", message.id)
            .header("Koshi-Topic", topic);
        if let Some(r) = message.request_id {
            req = req.header("X-Request-Id", r);
        }
        if let Some(key) = &self.secret {
            let sig = signature(key, &body).ok_or_else(|| Failure::Retry("the webhook key cannot be used".into()))?;
            req = req.header("Koshi-Signature", sig);
        }
        let resp = req
            .body(body)
            .send()
            .await
            .map_err(|e| Failure::Retry(format!("{topic}: {}", describe(&e))))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let text = resp.text().await.unwrap_or_default();
        let answer: String = text.chars().filter(|c| !c.is_control()).take(500).collect();
        let why = format!("{topic}: HTTP {}: {answer}", status.as_u16());
        if status.is_server_error() || matches!(status.as_u16(), 408 | 425 | 429) {
            Err(Failure::Retry(why))
        } else {
            Err(Failure::Rejected(why))
        }
    }
}

/// A transport failure in a few words, without the URL's query (which may carry a token).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the receiver did not answer in time".into()
    } else if e.is_connect() {
        // The deepest cause says why (refused, or the certificate the receiver showed).
        let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(e);
        let mut why = None;
        while let Some(c) = cause {
            why = Some(c.to_string());
            cause = c.source();
        }
        match why {
            Some(w) => format!("the receiver could not be reached: {w}"),
            None => "the receiver could not be reached".into(),
        }
    } else {
        match std::error::Error::source(e) {
            Some(cause) => format!("the request failed: {cause}"),
            None => "the request failed".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signature_is_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            super::signature(b"Jefe", b"what do ya want for nothing?").unwrap(),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
