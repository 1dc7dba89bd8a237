//! The HTTP adapter against the simulator's router, served for real on 127.0.0.1.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use koshi_registries::http::HttpRegistries;
use koshi_registries::sim::Simulator;
use koshi_registries::sim_server::{router, serve};
use koshi_registries::{
    Berkut, Fingerprints, GbdFl, HouseholdRvps, Kpsisu, PendingPr, PoliceRecords, RegistryError, RegistryKind,
};
use tokio::net::TcpListener;

use crate::{demo_sim, demo_sim_at, stranger};

const TIMEOUT: Duration = Duration::from_secs(5);

async fn spawn_router(app: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn spawn_sim(sim: Arc<Simulator>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, sim));
    format!("http://{addr}")
}

#[tokio::test]
async fn every_answer_equals_the_simulators() {
    let served = demo_sim();
    let direct = demo_sim();
    let http = HttpRegistries::new(&spawn_sim(served.clone()).await, TIMEOUT).unwrap();

    let mut queries: Vec<_> = direct.fixtures().people().iter().map(|p| p.query().unwrap()).collect();
    queries.push(stranger());
    for q in &queries {
        assert_eq!(http.border_crossings(q).await, direct.border_crossings(q).await);
        assert_eq!(http.police_records(q).await, direct.police_records(q).await);
        assert_eq!(http.kpsisu_records(q).await, direct.kpsisu_records(q).await);
        assert_eq!(http.iin(q).await, direct.iin(q).await);
        assert_eq!(http.pending_pr(q).await, direct.pending_pr(q).await);
        assert_eq!(http.fingerprints(q).await, direct.fingerprints(q).await);
    }
    let on = jiff::civil::date(2026, 3, 1);
    for iin in ["780412300119", "850923400279", "010101500000"] {
        assert_eq!(http.household_rvps(iin, on).await, direct.household_rvps(iin, on).await);
    }
    // One HTTP call reaches the simulator exactly once: the adapter does not retry.
    for k in RegistryKind::ALL {
        assert_eq!(served.calls(k), direct.calls(k), "{}", k.as_str());
    }
    assert_eq!(served.calls(RegistryKind::Berkut), queries.len() as u64);
}

#[tokio::test]
async fn health_answers() {
    let base = spawn_sim(demo_sim()).await;
    let client = koshi_registries::tls::client_builder().build().unwrap();
    let r = client.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_base_path_prefix_is_kept() {
    let base = spawn_router(Router::new().nest("/gw", router(demo_sim()))).await;
    let http = HttpRegistries::new(&format!("{base}/gw/"), TIMEOUT).unwrap();
    assert!(http.fingerprints(&stranger()).await.is_ok());
}

#[tokio::test]
async fn an_outage_becomes_unavailable() {
    let (sim, _clock) = demo_sim_at("2026-03-02T05:30:00Z");
    let window = (
        "2026-03-02T05:00:00Z".parse().unwrap(),
        "2026-03-02T06:00:00Z".parse().unwrap(),
    );
    sim.set_down(RegistryKind::Kpsisu, Some(window));
    sim.set_failure_rate(RegistryKind::PendingPr, 1.0);
    let http = HttpRegistries::new(&spawn_sim(sim).await, TIMEOUT).unwrap();
    let q = stranger();
    match http.kpsisu_records(&q).await {
        Err(RegistryError::Unavailable(m)) => assert!(m.contains("kpsisu") && m.contains("outage"), "{m}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(matches!(http.pending_pr(&q).await, Err(RegistryError::Unavailable(_))));
    assert!(http.police_records(&q).await.is_ok());
}

#[tokio::test]
async fn an_unreachable_port_becomes_unavailable_or_timeout() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let http = HttpRegistries::new(&format!("http://127.0.0.1:{port}"), Duration::from_millis(500)).unwrap();
    let got = http.border_crossings(&stranger()).await;
    assert!(
        matches!(got, Err(RegistryError::Unavailable(_) | RegistryError::Timeout)),
        "{got:?}"
    );
}

#[tokio::test]
async fn a_slow_registry_becomes_timeout() {
    let sim = demo_sim();
    sim.set_latency(RegistryKind::GbdFl, Duration::from_millis(120));
    let http = HttpRegistries::new(&spawn_sim(sim.clone()).await, Duration::from_millis(40)).unwrap();
    assert_eq!(http.iin(&stranger()).await, Err(RegistryError::Timeout));
    assert_eq!(sim.calls(RegistryKind::GbdFl), 1);
}

#[tokio::test]
async fn odd_answers_become_bad_answer_without_quoting_them() {
    let app = Router::new()
        .route("/berkut", post(|| async { "not json" }))
        .route("/gbd_fl", post(|| async { r#"{"iin": 900315300123}"# }))
        .route(
            "/kpsisu",
            post(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route(
            "/fingerprints",
            post(|| async {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    r#"{"error": "record FA1234567 is locked"}"#,
                )
            }),
        )
        .route(
            "/pending_pr",
            post(|| async { (StatusCode::SERVICE_UNAVAILABLE, "<html>") }),
        );
    let http = HttpRegistries::new(&spawn_router(app).await, TIMEOUT).unwrap();
    let q = stranger();

    assert!(matches!(
        http.border_crossings(&q).await,
        Err(RegistryError::BadAnswer(_))
    ));
    match http.iin(&q).await {
        Err(RegistryError::BadAnswer(m)) => assert!(!m.contains("900315300123"), "{m}"),
        other => panic!("expected BadAnswer, got {other:?}"),
    }
    match http.kpsisu_records(&q).await {
        Err(RegistryError::BadAnswer(m)) => assert!(m.contains("500"), "{m}"),
        other => panic!("expected BadAnswer, got {other:?}"),
    }
    match http.fingerprints(&q).await {
        Err(RegistryError::Unavailable(m)) => {
            assert!(m.contains("locked") && !m.contains("1234567"), "{m}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(matches!(http.pending_pr(&q).await, Err(RegistryError::Unavailable(_))));
    // A path the gateway does not serve.
    assert!(matches!(
        http.police_records(&q).await,
        Err(RegistryError::BadAnswer(_))
    ));
}

#[tokio::test]
async fn a_malformed_query_is_refused_without_echo() {
    let sim = demo_sim();
    let base = spawn_sim(sim.clone()).await;
    let client = koshi_registries::tls::client_builder().build().unwrap();
    let r = client
        .post(format!("{base}/berkut"))
        .body(r#"{"document_number": "FA1234567"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.unwrap();
    assert!(body.contains("error") && !body.contains("FA1234567"), "{body}");
    assert_eq!(sim.calls(RegistryKind::Berkut), 0);
}
