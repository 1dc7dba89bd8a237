//! The HTTP/JSON contract of the registries, both sides: [`HttpRegistries`], the adapter Koshi
//! uses to reach a gateway (or `koshi registry-sim`), and [`router`], which serves the same
//! contract from a [`Simulator`].
//!
//! Contract: `POST {base}/{kind}` (kind = [`RegistryKind::as_str`]) with the JSON body of a
//! [`PersonQuery`] (for `household_rvps`, a [`HouseholdQuery`]); `200` with the JSON answer;
//! `503` with `{"error": "..."}` when the registry is unavailable. `GET {base}/health` is `200`.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use jiff::civil::Date;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::sim::redact_identifiers;
use crate::{
    Berkut, BorderAnswer, FingerprintAnswer, Fingerprints, GbdFl, HouseholdAnswer, HouseholdRvps, IinAnswer, Kpsisu,
    PendingPr, PendingPrAnswer, PersonQuery, PoliceRecords, RecordsAnswer, RegistryError, RegistryKind, RegistryResult,
};

/// The body of `POST /household_rvps`. Personal data: Debug is masked.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdQuery {
    pub employer_iin: String,
    pub on: Date,
}

impl fmt::Debug for HouseholdQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HouseholdQuery")
            .field("on", &self.on)
            .finish_non_exhaustive()
    }
}

/// The error body of every non-200 answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// Why an [`HttpRegistries`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpSetupError {
    #[error("the registry base URL is not an http(s) URL: {0}")]
    BaseUrl(String),
    #[error("the HTTP client could not be built: {0}")]
    Client(String),
}

/// The registries reached over HTTP/JSON. One connection pool shared by all seven ports.
#[derive(Debug, Clone)]
pub struct HttpRegistries {
    client: reqwest::Client,
    /// `{base}/{kind}`, indexed by the kind's discriminant (the order of [`RegistryKind::ALL`]).
    urls: Vec<reqwest::Url>,
}

/// Gateways' 503 messages are shown to operators; they are cut short and identifiers masked.
const MAX_ERROR_MESSAGE: usize = 200;

impl HttpRegistries {
    /// An adapter for the gateway at `base_url` (a path prefix is kept); every call, connection
    /// included, gives up after `timeout`.
    pub fn new(base_url: &str, timeout: Duration) -> Result<HttpRegistries, HttpSetupError> {
        let client = crate::tls::client_builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| HttpSetupError::Client(e.to_string()))?;
        HttpRegistries::with_client(base_url, client)
    }

    /// An adapter with a client configured by the caller (proxy, pool, timeouts).
    pub fn with_client(base_url: &str, client: reqwest::Client) -> Result<HttpRegistries, HttpSetupError> {
        let base = base_url.trim().trim_end_matches('/');
        let bad = || HttpSetupError::BaseUrl(base.to_string());
        let parsed = reqwest::Url::parse(base).map_err(|_| bad())?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(bad());
        }
        let urls = RegistryKind::ALL
            .iter()
            .map(|k| reqwest::Url::parse(&format!("{base}/{}", k.as_str())).map_err(|_| bad()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(HttpRegistries { client, urls })
    }

    async fn call<Q, A>(&self, kind: RegistryKind, query: &Q) -> RegistryResult<A>
    where
        Q: Serialize + Sync + ?Sized,
        A: DeserializeOwned,
    {
        let name = kind.as_str();
        let url = self
            .urls
            .get(kind as usize)
            .ok_or_else(|| RegistryError::Unavailable(format!("{name}: no URL configured")))?;
        let mut request = self.client.post(url.clone()).json(query);
        if let Some(id) = crate::context::current() {
            request = request.header("X-Request-Id", &*id);
        }
        let response = request.send().await.map_err(|e| transport_error(name, &e))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| transport_error(name, &e))?;
        match status {
            reqwest::StatusCode::OK => serde_json::from_slice(&body).map_err(|e| {
                // serde_json's message may quote the answer (an IIN): say only where it broke.
                RegistryError::BadAnswer(format!(
                    "{name}: undecodable JSON answer ({:?} error at line {} column {})",
                    e.classify(),
                    e.line(),
                    e.column()
                ))
            }),
            reqwest::StatusCode::SERVICE_UNAVAILABLE => {
                let detail = serde_json::from_slice::<ErrorBody>(&body)
                    .map(|b| redact_identifiers(&truncate(&b.error, MAX_ERROR_MESSAGE)))
                    .unwrap_or_else(|_| "no detail".to_string());
                Err(RegistryError::Unavailable(format!("{name}: {detail}")))
            }
            other => Err(RegistryError::BadAnswer(format!(
                "{name}: unexpected HTTP status {other}"
            ))),
        }
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Transport failures never fail a case: they become Timeout or Unavailable, and the case waits.
fn transport_error(name: &str, e: &reqwest::Error) -> RegistryError {
    if e.is_timeout() {
        RegistryError::Timeout
    } else if e.is_connect() {
        RegistryError::Unavailable(format!("{name}: cannot connect"))
    } else if e.is_decode() {
        RegistryError::BadAnswer(format!("{name}: unreadable answer body"))
    } else {
        RegistryError::Unavailable(format!("{name}: the connection failed"))
    }
}

#[async_trait]
impl Berkut for HttpRegistries {
    async fn border_crossings(&self, q: &PersonQuery) -> RegistryResult<BorderAnswer> {
        self.call(RegistryKind::Berkut, q).await
    }
}

#[async_trait]
impl PoliceRecords for HttpRegistries {
    async fn police_records(&self, q: &PersonQuery) -> RegistryResult<RecordsAnswer> {
        self.call(RegistryKind::PoliceRecords, q).await
    }
}

#[async_trait]
impl Kpsisu for HttpRegistries {
    async fn kpsisu_records(&self, q: &PersonQuery) -> RegistryResult<RecordsAnswer> {
        self.call(RegistryKind::Kpsisu, q).await
    }
}

#[async_trait]
impl GbdFl for HttpRegistries {
    async fn iin(&self, q: &PersonQuery) -> RegistryResult<IinAnswer> {
        self.call(RegistryKind::GbdFl, q).await
    }
}

#[async_trait]
impl HouseholdRvps for HttpRegistries {
    async fn household_rvps(&self, employer_iin: &str, on: Date) -> RegistryResult<HouseholdAnswer> {
        let query = HouseholdQuery {
            employer_iin: employer_iin.to_string(),
            on,
        };
        self.call(RegistryKind::HouseholdRvps, &query).await
    }
}

#[async_trait]
impl PendingPr for HttpRegistries {
    async fn pending_pr(&self, q: &PersonQuery) -> RegistryResult<PendingPrAnswer> {
        self.call(RegistryKind::PendingPr, q).await
    }
}

#[async_trait]
impl Fingerprints for HttpRegistries {
    async fn fingerprints(&self, q: &PersonQuery) -> RegistryResult<FingerprintAnswer> {
        self.call(RegistryKind::Fingerprints, q).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        let t = Duration::from_millis(50);
        let h = HttpRegistries::new("http://127.0.0.1:9/gw/", t).unwrap();
        assert_eq!(
            h.urls[RegistryKind::GbdFl as usize].as_str(),
            "http://127.0.0.1:9/gw/gbd_fl"
        );
        assert_eq!(h.urls.len(), RegistryKind::ALL.len());
        for (i, k) in RegistryKind::ALL.iter().enumerate() {
            assert!(h.urls[i].as_str().ends_with(k.as_str()));
        }
        assert!(matches!(
            HttpRegistries::new("not a url", t),
            Err(HttpSetupError::BaseUrl(_))
        ));
        assert!(matches!(
            HttpRegistries::new("ftp://x", t),
            Err(HttpSetupError::BaseUrl(_))
        ));
    }

    #[test]
    fn truncation_is_by_characters() {
        assert_eq!(truncate("Беркут", 3), "Бер…");
        assert_eq!(truncate("ok", 3), "ok");
    }

    #[test]
    fn household_query_wire_format() {
        let q = HouseholdQuery {
            employer_iin: "780412300119".into(),
            on: Date::new(2026, 2, 3).unwrap(),
        };
        assert_eq!(
            serde_json::to_string(&q).unwrap(),
            r#"{"employer_iin":"780412300119","on":"2026-02-03"}"#
        );
        assert!(!format!("{q:?}").contains("780412300119"));
    }
}
