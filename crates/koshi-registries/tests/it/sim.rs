//! The simulator: every fact of the demo fixtures, outages, failures, latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use koshi_registries::sim::{Fixtures, Simulator};
use koshi_registries::{
    Berkut, BorderAnswer, Fingerprints, GbdFl, HouseholdRvps, Kpsisu, PendingPr, PoliceRecords, RecordsAnswer,
    Registries, RegistryError, RegistryKind,
};

use crate::{demo_sim, demo_sim_at, query, stranger};

const CLEAN: [&str; 6] = [
    "FA1234567",
    "751234567",
    "AC2345678",
    "400345678",
    "EB3456789",
    "002345678",
];

fn no_records() -> RecordsAnswer {
    RecordsAnswer::default()
}

#[tokio::test]
async fn clean_people_get_clean_answers() {
    let sim = demo_sim();
    for doc in CLEAN {
        let q = query(doc);
        let border = sim.border_crossings(&q).await.unwrap();
        assert!(border.lawful_entry_recorded, "{doc}");
        assert!(border.last_entry_on.is_some(), "{doc}");
        assert_eq!(sim.police_records(&q).await.unwrap(), no_records(), "{doc}");
        assert_eq!(sim.kpsisu_records(&q).await.unwrap(), no_records(), "{doc}");
        assert_eq!(sim.iin(&q).await.unwrap().iin, q.iin, "{doc}");
        assert!(sim.fingerprints(&q).await.unwrap().registered, "{doc}");
        assert!(!sim.pending_pr(&q).await.unwrap().pending, "{doc}");
    }
    let q = query("FA1234567");
    assert_eq!(
        sim.border_crossings(&q).await.unwrap(),
        BorderAnswer {
            lawful_entry_recorded: true,
            last_entry_on: Some(jiff::civil::date(2025, 9, 14)),
        }
    );
    assert_eq!(sim.iin(&q).await.unwrap().iin.as_deref(), Some("900315300123"));
}

#[tokio::test]
async fn each_unfavourable_fact_is_answered() {
    let sim = demo_sim();
    let border = sim.border_crossings(&query("AB7654321")).await.unwrap();
    assert_eq!(border, BorderAnswer::default());

    let convicted = query("401234567");
    let police = sim.police_records(&convicted).await.unwrap();
    assert_eq!(
        police,
        RecordsAnswer {
            convicted: true,
            ..no_records()
        }
    );
    assert_eq!(sim.kpsisu_records(&convicted).await.unwrap(), no_records());

    let wanted = query("AN4567890");
    assert_eq!(sim.police_records(&wanted).await.unwrap(), no_records());
    let kpsisu = sim.kpsisu_records(&wanted).await.unwrap();
    assert_eq!(
        kpsisu,
        RecordsAnswer {
            wanted: true,
            ..no_records()
        }
    );

    let penalties = sim.police_records(&query("760987654")).await.unwrap();
    assert_eq!(
        penalties,
        RecordsAnswer {
            unpaid_penalties: true,
            ..no_records()
        }
    );

    let no_iin = query("C01234567");
    assert_eq!(sim.iin(&no_iin).await.unwrap().iin, None);
    assert!(sim.border_crossings(&no_iin).await.unwrap().lawful_entry_recorded);

    assert!(!sim.fingerprints(&query("EC7654321")).await.unwrap().registered);
    assert!(sim.pending_pr(&query("FA7654321")).await.unwrap().pending);
}

#[tokio::test]
async fn a_stranger_is_unknown_everywhere() {
    let sim = demo_sim();
    let q = stranger();
    assert_eq!(sim.border_crossings(&q).await.unwrap(), BorderAnswer::default());
    assert_eq!(sim.police_records(&q).await.unwrap(), no_records());
    assert_eq!(sim.kpsisu_records(&q).await.unwrap(), no_records());
    assert_eq!(sim.iin(&q).await.unwrap().iin, None);
    assert!(!sim.fingerprints(&q).await.unwrap().registered);
    assert!(!sim.pending_pr(&q).await.unwrap().pending);
}

#[tokio::test]
async fn gbd_fl_matches_by_document_number_only() {
    let sim = demo_sim();
    let mut q = query("751234567");
    q.iin = None;
    q.citizenship = "KAZ".into();
    assert_eq!(sim.iin(&q).await.unwrap().iin.as_deref(), Some("881102400342"));
}

#[tokio::test]
async fn household_rvps_of_the_employers() {
    let sim = demo_sim();
    let on = jiff::civil::date(2026, 3, 1);
    assert_eq!(
        sim.household_rvps("780412300119", on)
            .await
            .unwrap()
            .valid_household_rvps,
        0
    );
    assert_eq!(
        sim.household_rvps("850923400279", on)
            .await
            .unwrap()
            .valid_household_rvps,
        3
    );
    assert_eq!(
        sim.household_rvps("900315300123", on)
            .await
            .unwrap()
            .valid_household_rvps,
        0
    );
}

#[tokio::test]
async fn down_during_the_window_and_up_after() {
    let (sim, clock) = demo_sim_at("2026-03-02T04:00:00Z");
    let from: Timestamp = "2026-03-02T05:00:00Z".parse().unwrap();
    let to: Timestamp = "2026-03-02T07:00:00Z".parse().unwrap();
    sim.set_down(RegistryKind::Berkut, Some((from, to)));
    let q = query("FA1234567");

    assert!(sim.border_crossings(&q).await.is_ok(), "before the window");
    clock.set(from);
    match sim.border_crossings(&q).await {
        Err(RegistryError::Unavailable(m)) => {
            assert!(m.contains("berkut") && m.contains("2026-03-02T07:00:00Z"), "{m}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(sim.police_records(&q).await.is_ok(), "other registries stay up");
    clock.advance(SignedDuration::from_secs(2 * 3600 - 1));
    assert!(matches!(
        sim.border_crossings(&q).await,
        Err(RegistryError::Unavailable(_))
    ));
    clock.advance(SignedDuration::from_secs(1));
    assert!(sim.border_crossings(&q).await.is_ok(), "the window is half-open");

    sim.set_down(RegistryKind::Berkut, Some((from, to)));
    clock.set(from);
    sim.set_down(RegistryKind::Berkut, None);
    assert!(sim.border_crossings(&q).await.is_ok(), "the outage was lifted");
    assert_eq!(sim.calls(RegistryKind::Berkut), 5);
    assert_eq!(sim.calls(RegistryKind::PoliceRecords), 1);
}

#[tokio::test]
async fn failure_rate_is_deterministic_and_calls_are_counted() {
    let sim = demo_sim();
    let q = query("FA1234567");
    sim.set_failure_rate(RegistryKind::Fingerprints, 1.0 / 3.0);
    let mut outcomes = Vec::new();
    for _ in 0..6 {
        outcomes.push(sim.fingerprints(&q).await.is_ok());
    }
    assert_eq!(outcomes, [true, true, false, true, true, false]);
    assert_eq!(sim.calls(RegistryKind::Fingerprints), 6);

    sim.set_failure_rate(RegistryKind::Fingerprints, 1.0);
    assert!(matches!(sim.fingerprints(&q).await, Err(RegistryError::Unavailable(_))));
    sim.set_failure_rate(RegistryKind::Fingerprints, 0.0);
    assert!(sim.fingerprints(&q).await.is_ok());
    assert_eq!(sim.calls(RegistryKind::Fingerprints), 8);
    for k in RegistryKind::ALL
        .into_iter()
        .filter(|&k| k != RegistryKind::Fingerprints)
    {
        assert_eq!(sim.calls(k), 0, "{}", k.as_str());
    }
}

#[tokio::test]
async fn latency_is_applied_to_its_registry() {
    let sim = demo_sim();
    let q = query("FA1234567");
    sim.set_latency(RegistryKind::GbdFl, Duration::from_millis(30));
    let started = Instant::now();
    assert!(sim.iin(&q).await.is_ok());
    assert!(
        started.elapsed() >= Duration::from_millis(30),
        "{:?}",
        started.elapsed()
    );
    sim.set_latency(RegistryKind::GbdFl, Duration::ZERO);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_across_tasks_behind_registries() {
    let sim = demo_sim();
    let regs = Registries::all(sim.clone());
    let mut tasks = Vec::new();
    for i in 0..8 {
        let regs = regs.clone();
        tasks.push(tokio::spawn(async move {
            let q = query(CLEAN[i % CLEAN.len()]);
            for _ in 0..250 {
                assert!(regs.berkut.border_crossings(&q).await.unwrap().lawful_entry_recorded);
                assert!(regs.fingerprints.fingerprints(&q).await.unwrap().registered);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(sim.calls(RegistryKind::Berkut), 2000);
    assert_eq!(sim.calls(RegistryKind::Fingerprints), 2000);
}

#[tokio::test]
async fn empty_fixtures_know_nobody() {
    let sim = Simulator::new(Fixtures::empty(), Arc::new(koshi_registries::clock::SystemClock));
    let q = query("FA1234567");
    assert_eq!(sim.border_crossings(&q).await.unwrap(), BorderAnswer::default());
    assert_eq!(sim.iin(&q).await.unwrap().iin, None);
}
