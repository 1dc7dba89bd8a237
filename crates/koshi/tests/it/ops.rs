//! What operations watch (issue 15 item 3): `/metrics` for the roles that may read it, with
//! no personal data; liveness and readiness probes.

use crate::harness::TestApp;
use crate::on_both;

async fn metrics_text(t: &TestApp, role: &str) -> (u16, String, String) {
    let mut r = t.http.get(format!("{}/metrics", t.base));
    if let Some(tok) = t.tokens.get(role) {
        r = r.bearer_auth(tok);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, resp.text().await.unwrap())
}

/// The value of the sample `name{labels}` in a scrape.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map(|v| v.trim().parse().unwrap())
}

async fn metrics_count_what_happens_and_name_no_one(t: &TestApp) {
    let req = t.request("FA1234567", "labour_contract");
    let case = t.file_and_process(&req).await;
    assert_eq!(case["status"], "issued");
    let id = case["id"].as_str().unwrap();
    // A second case waits on a receiver that is down: the backlog shows.
    t.app.sink.set_failing("monitoring", true);
    t.file_and_process(&t.request("751234567", "labour_contract")).await;

    assert_eq!(metrics_text(t, "").await.0, 401);
    assert_eq!(metrics_text(t, "officer").await.0, 403);
    let (s, ct, text) = metrics_text(t, "auditor").await;
    assert_eq!(s, 200, "{text}");
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    assert!(text.trim_end().ends_with("# EOF"));

    // Read from this database at the scrape: exact.
    assert_eq!(
        sample(&text, r#"koshi_cases{service="rvp",status="issued"}"#),
        Some(2.0),
        "{text}"
    );
    assert!(
        sample(&text, r#"koshi_outbox_backlog{topic="monitoring"}"#).unwrap() >= 1.0,
        "{text}"
    );
    assert!(sample(&text, r#"koshi_outbox_oldest_age_seconds{topic="monitoring"}"#).is_some());
    // Counted as it happens in this process (other tests add to them).
    assert!(
        sample(
            &text,
            r#"koshi_filings_total{service="rvp",channel="police_desk",outcome="accepted"}"#
        )
        .unwrap()
            >= 2.0
    );
    assert!(sample(&text, r#"koshi_status_changes_total{service="rvp",status="issued"}"#).unwrap() >= 2.0);
    assert!(
        sample(
            &text,
            r#"koshi_http_requests_total{route="/api/v1/applications",method="POST",status="201"}"#
        )
        .unwrap()
            >= 2.0
    );
    assert!(
        text.contains(r#"koshi_http_request_duration_seconds_bucket{le="#)
            || text.contains("koshi_http_request_duration_seconds_bucket{")
    );
    assert!(
        sample(
            &text,
            r#"koshi_registry_calls_total{registry="berkut",result="answered"}"#
        )
        .unwrap()
            >= 2.0
    );
    assert!(text.contains("koshi_writer_commit_seconds_count"));
    assert!(
        sample(
            &text,
            r#"koshi_delivery_attempts_total{topic="monitoring",result="retry"}"#
        )
        .unwrap()
            >= 1.0
    );
    // Route templates, never paths: no case id, no person.
    assert!(
        text.contains(r#"route="/api/v1/applications/{id}""#),
        "the case read is counted by its template"
    );
    for secret in [
        id,
        req.immigrant.surname.as_str(),
        req.immigrant.given_names.as_str(),
        req.immigrant.document.number.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} in /metrics");
    }
    if let Some(iin) = &req.immigrant.iin {
        assert!(!text.contains(iin.as_str()));
    }
}

on_both!(metrics, Default::default(), metrics_count_what_happens_and_name_no_one);

async fn probes_say_live_and_ready(t: &TestApp) {
    let (s, v) = t.get("", "/health/live").await;
    assert_eq!((s, v["status"].as_str()), (200, Some("live")));
    let (s, v) = t.get("", "/health/ready").await;
    assert_eq!((s, v["status"].as_str()), (200, Some("ready")), "{v}");
    // A closed store is not ready (503, a problem document), and the process is still live.
    t.app.service.store.close().await;
    let (s, v) = t.get("", "/health/ready").await;
    assert_eq!(s, 503, "{v}");
    assert_eq!(v["code"], "unavailable");
    assert_eq!(t.get("", "/health/live").await.0, 200);
}

on_both!(probes, Default::default(), probes_say_live_and_ready);

async fn reads_leave_the_view_small_and_fill_the_access_log(t: &TestApp) {
    let case = t.file_and_process(&t.request("FA1234567", "labour_contract")).await;
    let id = case["id"].as_str().unwrap();
    let first = serde_json::to_vec(&t.case(id).await).unwrap().len();
    for _ in 0..250 {
        t.case(id).await;
    }
    let view = t.case(id).await;
    // The view carries the case's acts, not its 252 reads: its size does not grow with them.
    assert_eq!(serde_json::to_vec(&view).unwrap().len(), first);
    assert!(
        view["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] != "personal_data.read")
    );
    // The access log is the auditor's, newest first, a page at a time, each read once.
    let path = format!("/api/v1/applications/{id}/access-log");
    assert_eq!(t.get("officer", &path).await.0, 403);
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let q = match &next {
            Some(c) => format!("{path}?limit=100&before={}", c.replace('|', "%7C")),
            None => format!("{path}?limit=100"),
        };
        let (s, page) = t.get("auditor", &q).await;
        assert_eq!(s, 200, "{page}");
        for item in page["items"].as_array().unwrap() {
            assert!(item["actor"].as_str().unwrap().starts_with("officer@ALM-01"));
            seen.push(item["at"].as_str().unwrap().to_string());
        }
        match page["next"].as_str() {
            Some(c) => next = Some(c.to_string()),
            None => break,
        }
    }
    // The read by file_and_process, the first, 250, and the last.
    assert_eq!(seen.len(), 253);
    assert!(seen.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let (s, p) = t.get("auditor", &format!("{path}?before=garbage")).await;
    assert_eq!((s, p["code"].as_str()), (422, Some("invalid_cursor")));
}

on_both!(
    access_log,
    Default::default(),
    reads_leave_the_view_small_and_fill_the_access_log
);

/// A request's id is answered back, and follows the work it starts to the registry gateway
/// (`X-Request-Id`), so one filing can be traced through Koshi's logs and the gateway's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_id_reaches_the_registries_its_filing_asks() {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let fixtures = koshi_registries::sim::Fixtures::demo().unwrap();
    let clock = Arc::new(koshi_registries::clock::ManualClock::new(
        crate::harness::T0.parse().unwrap(),
    ));
    let sim = Arc::new(koshi_registries::sim::Simulator::new(fixtures.clone(), clock.clone()));
    let record = seen.clone();
    let gateway = koshi_registries::sim_server::router(sim).layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let record = record.clone();
            async move {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default();
                record.lock().unwrap().push(id);
                next.run(req).await
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, gateway).await.unwrap() });

    let dir = std::env::temp_dir().join(format!("koshi-reqid-{}", uuid::Uuid::new_v4()));
    let law = Arc::new(koshi_law::Law::builtin().unwrap());
    let app = koshi::app::App::build(
        &koshi_store::Location::SqliteFile(dir.join("koshi.db")),
        law.clone(),
        koshi::app::RegistrySource::Http(gateway_url),
        clock,
        koshi::service::ServiceConfig::default(),
    )
    .await
    .unwrap();
    let (_, token) = koshi::app::issue_token(&app.service.store, "officer", "ALM-01", "test")
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router();
    tokio::spawn(koshi::server::serve(
        listener,
        router,
        Default::default(),
        std::future::pending(),
    ));
    let http = koshi_registries::tls::client_builder().build().unwrap();
    let req = koshi::demo::request(&law, &fixtures, "FA1234567", "labour_contract");
    let r = http
        .post(format!("{base}/api/v1/applications"))
        .bearer_auth(&token)
        .header("X-Request-Id", "trace-me-1")
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["x-request-id"], "trace-me-1");
    app.service.settle().await;
    let ids = seen.lock().unwrap().clone();
    assert!(ids.len() >= 5, "the checks asked the gateway: {ids:?}");
    assert!(ids.iter().all(|i| i == "trace-me-1"), "{ids:?}");
    // An id that could carry anything (spaces, personal data) is replaced by Koshi's own.
    let r = http
        .get(format!("{base}/health/live"))
        .header("X-Request-Id", "Иванов Иван 900101300123")
        .send()
        .await
        .unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    app.service.store.close().await;
    std::fs::remove_dir_all(dir).ok();
}
