//! GOST 34.310 signatures (the Kazakh national algorithm): no Rust crate verifies them, so they go
//! through this trait to an external verification service (the NCA's), reached over HTTP.
//!
//! Contract of the service: `POST {url}` with `{"cms": base64, "content": base64}`; the answer
//! `{"valid": bool, "reason": str?, "subject": str?, "serial": str?, "iin": str?, "bin": str?}`.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use serde::Deserialize;

/// What the external service established about a GOST signature.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GostVerdict {
    pub valid: bool,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub serial: Option<String>,
    #[serde(default)]
    pub iin: Option<String>,
    #[serde(default)]
    pub bin: Option<String>,
}

#[async_trait]
pub trait GostVerifier: Send + Sync {
    /// `Err` when the service cannot be asked (the filing is not taken, and may be retried).
    async fn verify(&self, cms: &[u8], content: &[u8]) -> Result<GostVerdict, String>;
}

/// The adapter to the external verification service.
pub struct HttpGostVerifier {
    url: String,
    client: reqwest::Client,
}

impl HttpGostVerifier {
    pub fn new(url: &str, timeout: Duration) -> Result<HttpGostVerifier, String> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("the GOST verification service URL must be http(s): {url:?}"));
        }
        let client = koshi_registries::tls::client_builder()
            .timeout(timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(HttpGostVerifier {
            url: url.to_string(),
            client,
        })
    }
}

#[async_trait]
impl GostVerifier for HttpGostVerifier {
    async fn verify(&self, cms: &[u8], content: &[u8]) -> Result<GostVerdict, String> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let body = serde_json::json!({"cms": b64.encode(cms), "content": b64.encode(content)});
        let resp = self.client.post(&self.url).json(&body).send().await.map_err(|e| {
            if e.is_timeout() {
                "the GOST verification service did not answer in time".to_string()
            } else {
                "the GOST verification service is unreachable".to_string()
            }
        })?;
        if !resp.status().is_success() {
            return Err(format!(
                "the GOST verification service answered {}",
                resp.status().as_u16()
            ));
        }
        resp.json::<GostVerdict>()
            .await
            .map_err(|_| "the GOST verification service's answer is not readable".to_string())
    }
}
