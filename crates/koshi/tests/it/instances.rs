//! Several instances on one PostgreSQL (issue 15 item 4): two Koshi processes' worth of service
//! (their own pools, writers and background work) behind one "load balancer" (the test sends to
//! both): no journal number is given twice, and no message is delivered twice.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::deliveries::{KEY, receiver};
use crate::harness::{Backend, Options, spawn, spawn_delivering};
use crate::pr::pr_request;

/// A second instance on the test's database: its own pool, writer, registries and background
/// work, on the same clock.
async fn second_instance(t: &crate::harness::TestApp, config: koshi::service::ServiceConfig) -> koshi::app::App {
    koshi::app::App::build(
        t.location(),
        t.law.clone(),
        koshi::app::RegistrySource::Simulated(t.fixtures.clone()),
        t.clock.clone(),
        config,
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_postgresql_without_doing_anything_twice() {
    let (rx, url) = receiver().await;
    let mut deliveries = koshi::delivery::Deliveries::parse(&[format!("*={url}")]).unwrap();
    deliveries.webhook_secret = Some(KEY.to_vec());
    let Some(t) = spawn_delivering(Backend::Postgres, deliveries.clone()).await else {
        return;
    };
    // The second instance: the same database, its own everything else.
    let other = second_instance(
        &t,
        koshi::service::ServiceConfig {
            deliveries,
            duty_officers: koshi::demo::DUTY_OFFICERS
                .iter()
                .map(|(u, a)| (u.to_string(), a.to_string()))
                .collect(),
            ..Default::default()
        },
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other_base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(koshi::server::serve(
        listener,
        other.router(),
        Default::default(),
        std::future::pending(),
    ));

    // 40 PR applications at once, alternating between the instances: one journal, no number twice.
    let mut handles = Vec::new();
    for i in 0..40 {
        let base = if i % 2 == 0 { t.base.clone() } else { other_base.clone() };
        let (http, token, body) = (t.http.clone(), t.tokens["officer"].clone(), pr_request(&t, "751234567"));
        handles.push(tokio::spawn(async move {
            let r = http
                .post(format!("{base}/api/v1/applications"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            let v: Value = r.json().await.unwrap();
            v["receipt"]["number"].as_str().unwrap().to_string()
        }));
    }
    let mut numbers = Vec::new();
    for h in handles {
        numbers.push(h.await.unwrap());
    }
    numbers.sort_by_key(|n| n.trim_start_matches("ALM-01/").parse::<i64>().unwrap());
    let expected: Vec<String> = (1..=40).map(|n| format!("ALM-01/{n}")).collect();
    assert_eq!(numbers, expected);
    // And RVP cases, decided through both.
    for (i, doc) in ["FA1234567", "AC2345678"].iter().enumerate() {
        let base = if i == 0 { &t.base } else { &other_base };
        let r = t
            .http
            .post(format!("{base}/api/v1/applications"))
            .bearer_auth(&t.tokens["officer"])
            .json(&t.request(doc, "labour_contract"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    t.app.service.settle().await;
    other.service.settle().await;

    // Both relays at once, until nothing is left: each message delivered once.
    let (a, b) = (Arc::new(t.app.service.clone()), Arc::new(other.service.clone()));
    loop {
        let (x, y) = tokio::join!(a.deliver_due(), b.deliver_due());
        if x.unwrap() + y.unwrap() == 0 {
            break;
        }
    }
    let all = t.app.service.store.outbox(None, 100_000).await.unwrap();
    assert!(all.len() >= 44, "{}", all.len());
    assert!(all.iter().all(|m| m.state == "delivered"));
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    for (id, _, _, _) in rx.got.lock().unwrap().iter() {
        *by_id.entry(id.clone()).or_default() += 1;
    }
    assert_eq!(by_id.len(), all.len());
    let twice: Vec<_> = by_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered twice: {twice:?}");
    other.service.store.close().await;
    t.done().await;
}

/// Two instances passing over the same due check retries at once run each retry once (issue 15
/// item 4): each claims a retry before running it, so the registry that was down is asked once
/// per case, not once per instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_run_each_due_check_retry_once() {
    let Some(t) = spawn(Backend::Postgres, Options::default()).await else {
        return;
    };
    let other = second_instance(&t, koshi::service::ServiceConfig::default()).await;
    let (sim_a, sim_b) = (t.app.sim.clone().unwrap(), other.sim.clone().unwrap());
    // «Беркут» is down while ten cases are filed: each waits for a retry of that check.
    let t0 = t.now();
    let down = Some((t0, t0.checked_add(jiff::SignedDuration::from_mins(30)).unwrap()));
    sim_a.set_down(koshi_registries::RegistryKind::Berkut, down);
    let mut ids = Vec::new();
    for doc in ["FA1234567", "751234567", "AC2345678", "AB7654321", "400345678"] {
        let (s, v) = t.file(&t.request(doc, "labour_contract")).await;
        assert_eq!(s, 201, "{v}");
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    t.app.service.settle().await;
    for id in &ids {
        assert_eq!(t.case(id).await["status"], "checking");
    }
    // It is back; the retries fall due; both instances pass over them at once.
    sim_a.set_down(koshi_registries::RegistryKind::Berkut, None);
    t.advance(31);
    let before =
        sim_a.calls(koshi_registries::RegistryKind::Berkut) + sim_b.calls(koshi_registries::RegistryKind::Berkut);
    let (a, b) = tokio::join!(t.app.service.tick(), other.service.tick());
    a.unwrap();
    b.unwrap();
    let after =
        sim_a.calls(koshi_registries::RegistryKind::Berkut) + sim_b.calls(koshi_registries::RegistryKind::Berkut);
    assert_eq!(
        after - before,
        ids.len() as u64,
        "each case's retry asked «Беркут» once"
    );
    for id in &ids {
        let case = t.case(id).await;
        assert_ne!(case["status"], "checking", "{case}");
    }
    other.service.store.close().await;
    t.done().await;
}

/// A case just filed is its instance's to check (п. 9-1 checks start at intake): another
/// instance's background pass leaves a case whose checks have never run alone until the grace
/// from its filing has passed (`fresh_checks_grace`, half a minute for `koshi serve` on
/// PostgreSQL), and then runs them, as when the instance that took it stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_instance_leaves_a_just_filed_case_to_its_own() {
    let Some(t) = spawn(
        Backend::Postgres,
        Options {
            // The instance that takes the filing has not run its checks yet.
            process_on_intake: false,
            ..Options::default()
        },
    )
    .await
    else {
        return;
    };
    let other = second_instance(
        &t,
        koshi::service::ServiceConfig {
            fresh_checks_grace: std::time::Duration::from_secs(30),
            ..Default::default()
        },
    )
    .await;
    let (s, v) = t.file(&t.request("FA1234567", "labour_contract")).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let sim_b = other.sim.clone().unwrap();
    other.service.tick().await.unwrap();
    assert_eq!(
        sim_b.calls(koshi_registries::RegistryKind::GbdFl),
        0,
        "left to the instance that took it"
    );
    assert_eq!(t.case(&id).await["status"], "checking");
    t.advance(1);
    other.service.tick().await.unwrap();
    assert!(sim_b.calls(koshi_registries::RegistryKind::GbdFl) > 0);
    assert_ne!(t.case(&id).await["status"], "checking");
    other.service.store.close().await;
    t.done().await;
}
