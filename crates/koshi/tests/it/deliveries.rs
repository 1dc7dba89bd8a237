//! Outbox messages that leave the process (issue 15 item 1): to an HTTP webhook, signed and
//! keyed by the message id, retried while the receiver is down and kept as `rejected` when it
//! refuses; to NATS JetStream, once per id. Each on SQLite and PostgreSQL.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use koshi::delivery::Deliveries;

use crate::harness::{Backend, TestApp, spawn_delivering};

pub(crate) const KEY: &[u8] = b"webhook test key";

/// A webhook receiver: records every request, and answers with the status it is told to.
#[derive(Default)]
pub(crate) struct Receiver {
    pub(crate) got: Mutex<Vec<(String, String, bool, serde_json::Value)>>,
    pub(crate) answer: AtomicU16,
    /// The `X-Request-Id` of each message that carried one, by message id.
    pub(crate) request_ids: Mutex<BTreeMap<String, String>>,
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let answer = r.answer.load(Ordering::SeqCst);
    if answer != 200 {
        return StatusCode::from_u16(answer).unwrap();
    }
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let signed = Some(h("koshi-signature")) == koshi::delivery::webhook::signature(KEY, &body);
    let payload = serde_json::from_slice(&body).unwrap();
    assert_eq!(h("content-type"), "application/json");
    if !h("x-request-id").is_empty() {
        r.request_ids
            .lock()
            .unwrap()
            .insert(h("idempotency-key"), h("x-request-id"));
    }
    r.got
        .lock()
        .unwrap()
        .push((h("idempotency-key"), h("koshi-topic"), signed, payload));
    StatusCode::NO_CONTENT
}

pub(crate) async fn receiver() -> (Arc<Receiver>, String) {
    let r = Arc::new(Receiver {
        answer: AtomicU16::new(200),
        ..Default::default()
    });
    let app = axum::Router::new()
        .route("/in", axum::routing::post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/in", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, url)
}

/// Delivery passes until nothing is due.
pub(crate) async fn relay(t: &TestApp) {
    while t.app.service.deliver_due().await.unwrap() > 0 {}
}

pub(crate) async fn outbox(t: &TestApp) -> Vec<koshi_store::repo::OutboxRow> {
    t.app.service.store.outbox(None, 100_000).await.unwrap()
}

pub(crate) async fn file_clean_case(t: &TestApp, passport: &str) -> String {
    let case = t.file_and_process(&t.request(passport, "labour_contract")).await;
    assert_eq!(case["status"], "issued", "{case}");
    case["id"].as_str().unwrap().to_string()
}

async fn webhook_gets_each_message_once_and_everything_after_an_outage(backend: Backend) {
    let (rx, url) = receiver().await;
    let mut deliveries = Deliveries::parse(&[format!("*={url}")]).unwrap();
    deliveries.webhook_secret = Some(KEY.to_vec());
    let Some(t) = spawn_delivering(backend, deliveries).await else {
        return;
    };
    file_clean_case(&t, "FA1234567").await;
    relay(&t).await;
    let sent = outbox(&t).await;
    assert!(sent.len() >= 3, "accepted, issued, the permit: {sent:?}");
    assert!(sent.iter().all(|m| m.state == "delivered"), "{sent:?}");

    // The receiver goes down: a second case's messages wait, retried with backoff.
    rx.answer.store(503, Ordering::SeqCst);
    file_clean_case(&t, "751234567").await;
    relay(&t).await;
    let waiting: Vec<_> = outbox(&t).await.into_iter().filter(|m| m.state == "pending").collect();
    assert!(!waiting.is_empty());
    assert!(
        waiting
            .iter()
            .all(|m| m.attempts >= 1 && m.last_error.as_deref().unwrap_or("").contains("HTTP 503")),
        "{waiting:?}"
    );
    // Back up: after the backoff everything arrives.
    rx.answer.store(200, Ordering::SeqCst);
    t.advance(2);
    relay(&t).await;
    let all = outbox(&t).await;
    assert!(all.iter().all(|m| m.state == "delivered"), "{all:?}");

    // Every message once per id, with its topic, signed with the key; the payload is the stored one.
    let got = rx.got.lock().unwrap().clone();
    let mut by_id: BTreeMap<&str, usize> = BTreeMap::new();
    for (id, _, _, _) in &got {
        *by_id.entry(id.as_str()).or_default() += 1;
    }
    assert_eq!(by_id.len(), all.len());
    assert!(by_id.values().all(|n| *n == 1), "{by_id:?}");
    for m in &all {
        let (_, topic, signed, payload) = got.iter().find(|g| g.0 == m.id).unwrap();
        assert_eq!(topic, &m.topic);
        assert!(signed, "{} is signed with the configured key", m.id);
        assert_eq!(payload, &serde_json::from_str::<serde_json::Value>(&m.payload).unwrap());
    }

    // The receiver refuses (422): the message is not sent again, and shows as rejected.
    rx.answer.store(422, Ordering::SeqCst);
    let id = file_clean_case(&t, "AC2345678").await;
    relay(&t).await;
    rx.answer.store(200, Ordering::SeqCst);
    t.advance(60);
    relay(&t).await;
    let (s, d) = t
        .get("auditor", &format!("/api/v1/monitoring/deliveries?application_id={id}"))
        .await;
    assert_eq!(s, 200);
    let d = d.as_array().unwrap();
    assert!(!d.is_empty());
    assert!(
        d.iter().all(|m| m["state"] == "rejected"
            && m["attempts"] == 1
            && m["last_error"].as_str().unwrap().contains("HTTP 422")),
        "{d:?}"
    );
    assert!(!rx.got.lock().unwrap().iter().any(|g| g.3["application_id"] == id));

    // The request that filed a case goes on with the case's messages (`X-Request-Id`), so that
    // it can be followed from the caller into the receiver's logs.
    let r = t
        .http
        .post(format!("{}/api/v1/applications", t.base))
        .bearer_auth(&t.tokens["officer"])
        .header("x-request-id", "req-deliveries-1")
        .json(&t.request("AB7654321", "labour_contract"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let filed: serde_json::Value = r.json().await.unwrap();
    relay(&t).await;
    let of_case: Vec<_> = outbox(&t)
        .await
        .into_iter()
        .filter(|m| m.application_id.as_deref() == filed["id"].as_str())
        .collect();
    assert!(!of_case.is_empty());
    let ids = rx.request_ids.lock().unwrap().clone();
    for m in &of_case {
        assert_eq!(m.request_id.as_deref(), Some("req-deliveries-1"), "{m:?}");
        assert_eq!(ids.get(&m.id).map(String::as_str), Some("req-deliveries-1"), "{m:?}");
    }
    t.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_sqlite() {
    webhook_gets_each_message_once_and_everything_after_an_outage(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_postgres() {
    webhook_gets_each_message_once_and_everything_after_an_outage(Backend::Postgres).await;
}

/// The JetStream server of the tests: `KOSHI_TEST_NATS_URL` (CI sets it). Unset, the JetStream
/// tests do not run; set but unreachable, they fail.
pub(crate) fn nats_url() -> Option<String> {
    std::env::var("KOSHI_TEST_NATS_URL").ok().filter(|s| !s.is_empty())
}

async fn jetstream_keeps_each_message_once(backend: Backend) {
    let Some(url) = nats_url() else {
        eprintln!("KOSHI_TEST_NATS_URL is not set: the JetStream test does not run");
        return;
    };
    // A stream and subjects of this test's own.
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let mut deliveries = Deliveries::parse(&[format!("*={url}")]).unwrap();
    deliveries.stream = format!("KOSHI_IT_{tag}");
    deliveries.subject_prefix = format!("koshi_it_{tag}");
    let Some(t) = spawn_delivering(backend, deliveries.clone()).await else {
        return;
    };
    file_clean_case(&t, "FA1234567").await;
    file_clean_case(&t, "751234567").await;
    relay(&t).await;
    let all = outbox(&t).await;
    assert!(all.iter().all(|m| m.state == "delivered"), "{all:?}");

    // A message sent again (a crash between the acknowledgement and its mark) is kept once.
    let again = &all[0];
    t.app
        .service
        .sink
        .deliver(
            &again.topic,
            koshi::delivery::Message {
                id: &again.id,
                payload: &again.payload,
                request_id: again.request_id.as_deref(),
            },
        )
        .await
        .unwrap();

    // A consumer reads the stream: every message once per id, on its topic's subject.
    let client = async_nats::connect(&url).await.unwrap();
    let by_id = stream_by_id(client.clone(), &deliveries.stream).await;
    assert_eq!(by_id.len(), all.len());
    for m in &all {
        let (subject, n, request) = &by_id[&m.id];
        assert_eq!(*n, 1);
        assert_eq!(subject, &format!("{}.{}", deliveries.subject_prefix, m.topic));
        // Each message carries the request that queued it (the filing's, over HTTP).
        assert!(m.request_id.is_some(), "{m:?}");
        assert_eq!(request, &m.request_id, "{m:?}");
    }
    async_nats::jetstream::new(client)
        .delete_stream(&deliveries.stream)
        .await
        .unwrap();
    t.done().await;
}

/// What a consumer finds in a stream, by `Nats-Msg-Id`: the subject, how many copies, and the
/// `X-Request-Id` of the first.
pub(crate) async fn stream_by_id(
    client: async_nats::Client,
    stream: &str,
) -> BTreeMap<String, (String, usize, Option<String>)> {
    let js = async_nats::jetstream::new(client);
    let mut stream = js.get_stream(stream).await.unwrap();
    let n = stream.info().await.unwrap().state.messages;
    let mut by_id: BTreeMap<String, (String, usize, Option<String>)> = BTreeMap::new();
    for seq in 1..=n {
        let m = stream.get_raw_message(seq).await.unwrap();
        let id = m.headers.get("Nats-Msg-Id").unwrap().as_str().to_string();
        let request = m.headers.get("X-Request-Id").map(|v| v.as_str().to_string());
        by_id.entry(id).or_insert((m.subject.to_string(), 0, request)).1 += 1;
    }
    by_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jetstream_sqlite() {
    jetstream_keeps_each_message_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jetstream_postgres() {
    jetstream_keeps_each_message_once(Backend::Postgres).await;
}

/// A CA made for the test, and a server certificate for `localhost` and 127.0.0.1 signed by it.
pub(crate) struct TestPki {
    pub(crate) ca_pem: String,
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
    pub(crate) config: Arc<rustls::ServerConfig>,
}

pub(crate) fn test_pki() -> TestPki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, "Koshi test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    koshi_registries::tls::init();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    TestPki {
        ca_pem: ca_cert.pem(),
        cert_pem: leaf.pem(),
        key_pem: leaf_key.serialize_pem(),
        config: Arc::new(config),
    }
}

/// The webhook receiver behind TLS.
async fn tls_receiver(config: Arc<rustls::ServerConfig>) -> (Arc<Receiver>, String) {
    let r = Arc::new(Receiver {
        answer: AtomicU16::new(200),
        ..Default::default()
    });
    let app = axum::Router::new()
        .route("/in", axum::routing::post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}/in", listener.local_addr().unwrap().port());
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate ends the handshake here.
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    tower::ServiceExt::oneshot(app.clone(), req.map(axum::body::Body::new))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (r, url)
}

/// Webhooks over HTTPS (issue 15 item 2): a receiver whose certificate chains to no trusted root
/// gets nothing (the attempt is retried, saying why); once its CA is trusted (`--ca-file`),
/// the message arrives, signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_over_tls_trust_the_named_ca_and_no_other() {
    use koshi::delivery::{Failure, Message, Sink, webhook::Webhook};
    let TestPki { ca_pem, config, .. } = test_pki();
    let (rx, url) = tls_receiver(config).await;
    let m = Message {
        id: "m-tls-1",
        payload: r#"{"stage":"accepted"}"#,
        request_id: None,
    };
    let untrusting = Webhook::new(&url, Some(KEY.to_vec()), Duration::from_secs(5)).unwrap();
    match untrusting.deliver("monitoring", m).await {
        Err(Failure::Retry(why)) => assert!(why.to_lowercase().contains("certificate"), "{why}"),
        other => panic!("an untrusted certificate was accepted: {other:?}"),
    }
    assert!(rx.got.lock().unwrap().is_empty());
    koshi_registries::tls::add_roots_pem(ca_pem.as_bytes()).unwrap();
    let trusting = Webhook::new(&url, Some(KEY.to_vec()), Duration::from_secs(5)).unwrap();
    trusting.deliver("monitoring", m).await.unwrap();
    let got = rx.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "m-tls-1");
    assert!(got[0].2, "signed");
}
