//! Hardening under hostile load (issue 15 item 5): each attack, and the server still answering.
//! Timeouts in these tests are safety nets against a hang, never the assertion.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{Backend, Options, TestApp, spawn};

const SAFETY: Duration = Duration::from_secs(30);

fn quick_limits() -> koshi::server::Limits {
    koshi::server::Limits {
        header_read_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(2),
        max_connections: 32,
        shutdown_deadline: Duration::from_secs(1),
    }
}

async fn app(opts: Options) -> TestApp {
    spawn(Backend::Sqlite, opts).await.unwrap()
}

fn addr(t: &TestApp) -> String {
    t.base.trim_start_matches("http://").to_string()
}

/// Reads what the server sends until it closes the connection; panics if it never does.
async fn read_to_close(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    match tokio::time::timeout(SAFETY, s.read_to_end(&mut buf)).await {
        Ok(_) => String::from_utf8_lossy(&buf).into_owned(),
        Err(_) => panic!("the server kept the connection open"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_headers_are_cut_off_and_other_clients_are_served() {
    let t = app(Options {
        limits: Some(quick_limits()),
        ..Default::default()
    })
    .await;
    // More half-sent requests than the server takes connections at once.
    let mut slow = Vec::new();
    for _ in 0..48 {
        let mut s = TcpStream::connect(addr(&t)).await.unwrap();
        s.write_all(b"GET /health/live HTTP/1.1\r\nHost: koshi\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(s);
    }
    // A normal client is still served (once the slow ones have been cut off).
    let r = tokio::time::timeout(SAFETY, t.http.get(format!("{}/health/live", t.base)).send())
        .await
        .expect("the server answers while slow clients hold connections")
        .unwrap();
    assert_eq!(r.status(), 200);
    // Every slow client was disconnected without its request being served.
    for mut s in slow {
        let got = read_to_close(&mut s).await;
        assert!(!got.contains("200 OK"), "{got}");
    }
    t.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_gets_408_as_a_problem_document() {
    let t = app(Options {
        limits: Some(quick_limits()),
        ..Default::default()
    })
    .await;
    let mut s = TcpStream::connect(addr(&t)).await.unwrap();
    let head = format!(
        "POST /api/v1/applications HTTP/1.1\r\nHost: koshi\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{{\"kind\"",
        t.tokens["officer"]
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let got = read_to_close(&mut s).await;
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(
        got.contains("application/problem+json") && got.contains("request_timeout"),
        "{got}"
    );
    assert_eq!(t.get("", "/health/live").await.0, 200);
    assert_eq!(t.app.service.store.count_applications().await.unwrap(), 0);
    t.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_a_client_that_never_finishes() {
    let t = app(Options::default()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let at = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let limits = koshi::server::Limits {
        request_timeout: Duration::from_secs(600),
        shutdown_deadline: Duration::from_secs(1),
        ..Default::default()
    };
    let server = tokio::spawn(koshi::server::serve(listener, t.app.router(), limits, async {
        let _ = stop_rx.await;
    }));
    // A request in flight whose body never comes.
    let mut s = TcpStream::connect(at).await.unwrap();
    s.write_all(b"POST /api/v1/session HTTP/1.1\r\nHost: koshi\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop_tx.send(()).unwrap();
    tokio::time::timeout(SAFETY, server)
        .await
        .expect("the server stops at its shutdown deadline")
        .unwrap()
        .unwrap();
    t.done().await;
}

async fn sign_in(t: &TestApp, user: &str, password: &str, xff: Option<&str>) -> (u16, Value) {
    let mut r = t
        .http
        .post(format!("{}/api/v1/session", t.base))
        .json(&json!({"username": user, "password": password}));
    if let Some(x) = xff {
        r = r.header("X-Forwarded-For", x);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn add_user(t: &TestApp, name: &str) {
    koshi::accounts::add_user(
        &t.app.service.store,
        name,
        "a-long-password-2026",
        "officer",
        "ALM-01",
        "other",
        t.now(),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_forwarded_for_does_not_escape_the_sign_in_limit() {
    let t = app(Options::default()).await;
    add_user(&t, "a.victim").await;
    // No trusted proxy: rotating the header changes nothing, the client is the connection.
    for i in 0..5 {
        let (s, _) = sign_in(
            &t,
            &format!("guess{i}"),
            "wrong-password-xx",
            Some(&format!("203.0.113.{i}")),
        )
        .await;
        assert_eq!(s, 401);
    }
    let (s, v) = sign_in(&t, "guess9", "wrong-password-xx", Some("198.51.100.77")).await;
    assert_eq!((s, v["code"].as_str()), (429, Some("too_many_sign_in_attempts")), "{v}");
    t.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_one_client_failing_does_not_lock_out_the_others() {
    let t = app(Options {
        trusted_proxies: vec!["127.0.0.1".into()],
        ..Default::default()
    })
    .await;
    add_user(&t, "b.worker").await;
    add_user(&t, "c.target").await;
    // Client A guesses five times: A is held back.
    for i in 0..5 {
        assert_eq!(
            sign_in(&t, &format!("x{i}"), "wrong-password-xx", Some("198.51.100.1"))
                .await
                .0,
            401
        );
    }
    assert_eq!(
        sign_in(&t, "b.worker", "a-long-password-2026", Some("198.51.100.1"))
            .await
            .0,
        429
    );
    // Client B, behind the same proxy, signs in.
    assert_eq!(
        sign_in(&t, "b.worker", "a-long-password-2026", Some("198.51.100.2"))
            .await
            .0,
        201
    );
    // A user guessed at from many clients is held back whichever client comes next.
    for i in 0..5 {
        let xff = format!("192.0.2.{i}");
        assert_eq!(sign_in(&t, "c.target", "wrong-password-xx", Some(&xff)).await.0, 401);
    }
    assert_eq!(
        sign_in(&t, "c.target", "a-long-password-2026", Some("192.0.2.200"))
            .await
            .0,
        429
    );
    t.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_flood_leaves_the_service_answering() {
    let t = app(Options {
        trusted_proxies: vec!["127.0.0.1".into()],
        ..Default::default()
    })
    .await;
    add_user(&t, "d.officer").await;
    // 40 guesses from 40 clients at once: each a full password hash.
    let flood: Vec<_> = (0..40)
        .map(|i| {
            let http = t.http.clone();
            let url = format!("{}/api/v1/session", t.base);
            tokio::spawn(async move {
                http.post(url)
                    .header("X-Forwarded-For", format!("10.{i}.0.1"))
                    .json(&json!({"username": format!("u{i}"), "password": "wrong-password-xx"}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    // Meanwhile: the service answers, and a person signs in.
    let (s, v) = t.get("officer", "/api/v1/outages").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        sign_in(&t, "d.officer", "a-long-password-2026", Some("10.200.0.1"))
            .await
            .0,
        201
    );
    for f in flood {
        assert_eq!(f.await.unwrap().unwrap(), 401);
    }
    t.done().await;
}

async fn raw(
    t: &TestApp,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
) -> (u16, String, Value, reqwest::header::HeaderMap) {
    let mut r = t
        .http
        .request(method.parse().unwrap(), format!("{}{path}", t.base))
        .bearer_auth(&t.tokens["auditor"]);
    if let Some(b) = body {
        r = r.header("content-type", "application/json").body(b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let ct = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, resp.json().await.unwrap_or(Value::Null), headers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_is_a_problem_document() {
    let t = app(Options::default()).await;
    type Attempt = (&'static str, String, Option<Vec<u8>>, u16, &'static str);
    let cases: Vec<Attempt> = vec![
        ("DELETE", "/api/v1/applications".into(), None, 405, "method_not_allowed"),
        (
            "GET",
            "/api/v1/monitoring/deliveries?limit=many".into(),
            None,
            400,
            "bad_request",
        ),
        (
            "GET",
            format!("/api/v1/applications/{}", "a".repeat(9000)),
            None,
            414,
            "uri_too_long",
        ),
        (
            "POST",
            "/api/v1/applications".into(),
            Some(vec![b' '; koshi::api::MAX_BODY_BYTES + 1]),
            413,
            "payload_too_large",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let (s, ct, v, headers) = raw(&t, method, &path, body).await;
        assert_eq!(s, status, "{method} {}: {v}", &path[..path.len().min(60)]);
        assert_eq!(ct, "application/problem+json", "{method}: {v}");
        assert_eq!(v["code"], code, "{v}");
        assert_eq!(v["status"], status);
        if status == 405 {
            assert!(headers.get("allow").is_some());
        }
    }
    assert_eq!(t.app.service.store.count_applications().await.unwrap(), 0);
    t.done().await;
}
