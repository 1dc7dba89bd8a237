//! Koshi against `koshi registry-sim` over HTTP: the adapters tested for real, end to end.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use koshi::app::{App, RegistrySource};
use koshi::service::{Caller, ServiceConfig};
use koshi_registries::clock::ManualClock;
use koshi_store::Location;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_are_decided_through_the_http_adapters_against_registry_sim() {
    let mut sim = Command::new(env!("CARGO_BIN_EXE_koshi"))
        .args(["registry-sim", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(sim.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("registry simulator: ").unwrap().to_string();
    let dir = std::env::temp_dir().join(format!("koshi-http-reg-{}", uuid::Uuid::new_v4()));
    let mut law = koshi_law::Law::builtin().unwrap();
    law.params.household_limit_per_employer = Some(3);
    let law = Arc::new(law);
    let clock = Arc::new(ManualClock::new(crate::harness::T0.parse().unwrap()));
    let app = App::build(
        &Location::SqliteFile(dir.join("koshi.db")),
        law.clone(),
        RegistrySource::Http(url),
        clock,
        ServiceConfig {
            duty_officers: [("ALM-01".to_string(), "duty.alm01".to_string())].into(),
            ..ServiceConfig::default()
        },
    )
    .await
    .unwrap();
    koshi::demo::duty_officer_accounts(&app).await.unwrap();
    let fixtures = koshi_registries::sim::Fixtures::demo().unwrap();
    let caller = Caller {
        token_id: "t".into(),
        role: "officer".into(),
        unit: "ALM-01".into(),
        post: None,
        party: None,
    };
    // A clean person is issued; a wanted one (КПСиСУ) and one without fingerprints are not.
    for (doc, expected) in [
        ("FA1234567", "issued"),
        ("AN4567890", "awaiting_confirmation"),
        ("EC7654321", "awaiting_confirmation"),
    ] {
        let req = koshi::demo::request(&law, &fixtures, doc, "labour_contract");
        let created = app
            .service
            .file_and_process(&caller, req)
            .await
            .map_err(|p| p.detail.clone())
            .unwrap();
        let row = app.service.store.application(&created.id).await.unwrap().unwrap();
        assert_eq!(row.status, expected, "{doc}");
        let checks = app.service.store.checks(&created.id).await.unwrap();
        assert!(checks.iter().all(|c| c.state != "waiting"), "{doc}: {checks:?}");
    }
    sim.kill().unwrap();
    sim.wait().unwrap();
    // The gateway gone: the case waits, it does not fail.
    let req = koshi::demo::request(&law, &fixtures, "751234567", "labour_contract");
    let created = app.service.file_and_process(&caller, req).await.unwrap();
    let row = app.service.store.application(&created.id).await.unwrap().unwrap();
    assert_eq!(row.status, "checking");
    let checks = app.service.store.checks(&created.id).await.unwrap();
    assert!(checks.iter().any(|c| c.state == "waiting" && c.last_error.is_some()));
    app.service.store.close().await;
    std::fs::remove_dir_all(&dir).ok();
}
