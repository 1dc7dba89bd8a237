//! Durable timers: each fires exactly once, with two instances on one database and a third that
//! claims and dies.

use koshi_store::repo::{self, EventRow};
use koshi_store::{Location, Store, StoreError, Unit, timers};

const T: &str = "2026-02-02T05:00:00.000000Z";
const LEASE: &str = "2026-02-02T05:01:00.000000Z";
const AFTER_LEASE: &str = "2026-02-02T05:02:00.000000Z";
const LATER_LEASE: &str = "2026-02-02T05:03:00.000000Z";

async fn schedule(store: &Store, n: usize) {
    let mut u = Unit::new();
    for i in 0..n {
        u.push(timers::schedule(
            &format!("t{i:05}"),
            "drill",
            &format!("case-{i:05}"),
            T,
            "{}",
        ));
        if u.len() == 500 {
            store.write(std::mem::take(&mut u)).await.unwrap();
        }
    }
    store.write(u).await.unwrap();
}

/// Claims and fires until nothing is due; returns how many this instance fired.
async fn worker(store: Store, owner: &'static str, now: &'static str, lease: &'static str) -> usize {
    let mut fired = 0;
    loop {
        let batch = store.claim_due_timers(owner, now, lease, 250).await.unwrap();
        if batch.is_empty() {
            return fired;
        }
        let mut handles = Vec::new();
        for t in batch {
            let s = store.clone();
            handles.push(tokio::spawn(async move {
                let effect = EventRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    application_id: Some(t.subject.clone()),
                    at: now.into(),
                    actor: owner.into(),
                    action: "timer.fired".into(),
                    citation: "п. 14".into(),
                    rules_version: "992/2024-12-08".into(),
                    detail: format!("{{\"timer\": \"{}\"}}", t.id),
                };
                s.write(
                    Unit::new()
                        .with(repo::insert_event(effect))
                        .with(timers::fired(&t.id, owner, now)),
                )
                .await
            }));
        }
        for h in handles {
            match h.await.unwrap() {
                Ok(()) => fired += 1,
                Err(StoreError::Conflict(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
    }
}

async fn fired_effects(store: &Store) -> (i64, i64) {
    let sql = "SELECT COUNT(*), COUNT(DISTINCT detail) FROM events WHERE action = 'timer.fired'";
    match store.db() {
        koshi_store::Db::Sqlite(p) => sqlx::query_as(sql).fetch_one(p).await.unwrap(),
        koshi_store::Db::Postgres(p) => sqlx::query_as(sql).fetch_one(p).await.unwrap(),
    }
}

async fn drill(loc: &Location, n: usize) {
    let a = Store::open(loc).await.unwrap();
    let b = Store::open(loc).await.unwrap();
    let c = Store::open(loc).await.unwrap();
    schedule(&a, n).await;
    schedule(&b, n).await; // scheduling again changes nothing
    // Instance C claims 300 timers and dies before firing them.
    let stolen = c.claim_due_timers("instance-c", T, LEASE, 300).await.unwrap();
    assert_eq!(stolen.len(), 300);
    // A and B fire everything else concurrently; C's leases hold them off its timers.
    let (fa, fb) = tokio::join!(
        worker(a.clone(), "instance-a", T, LEASE),
        worker(b.clone(), "instance-b", T, LEASE)
    );
    assert_eq!(fa + fb, n - 300, "before C's leases expire");
    // After the lease, the survivors take C's timers over.
    let (ga, gb) = tokio::join!(
        worker(a.clone(), "instance-a", AFTER_LEASE, LATER_LEASE),
        worker(b.clone(), "instance-b", AFTER_LEASE, LATER_LEASE)
    );
    assert_eq!(ga + gb, 300);
    // C comes back and tries to fire a timer it had claimed: its unit is rolled back whole.
    let late = c
        .write(
            Unit::new()
                .with(repo::insert_event(EventRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    application_id: None,
                    at: AFTER_LEASE.into(),
                    actor: "instance-c".into(),
                    action: "timer.fired".into(),
                    citation: "п. 14".into(),
                    rules_version: "992/2024-12-08".into(),
                    detail: format!("{{\"timer\": \"{}\"}}", stolen[0].id),
                }))
                .with(timers::fired(&stolen[0].id, "instance-c", AFTER_LEASE)),
        )
        .await;
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
    let (effects, distinct) = fired_effects(&a).await;
    let counts = a.timer_counts().await.unwrap();
    eprintln!(
        "timer drill ({}): {n} timers; fired by A {} + B {} before the lease ran out, A {} + B {} after; effects {effects}, distinct {distinct}; states {counts:?}",
        a.backend(),
        fa,
        fb,
        ga,
        gb
    );
    assert_eq!(
        (effects, distinct),
        (n as i64, n as i64),
        "each timer's effect exactly once"
    );
    assert_eq!(counts, vec![("fired".to_string(), n as i64)]);
    if a.backend() == "postgres" {
        // SQLite serialises writers, so one handle may win every claim; PostgreSQL shares the work.
        assert!(fa > 0 && fb > 0, "both instances worked");
    }
    assert!(a.verify_audit().await.unwrap().first_broken.is_none());
    for s in [a, b, c] {
        s.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgresql_fire_10000_timers_exactly_once() {
    let Ok(url) = std::env::var("KOSHI_TEST_DATABASE_URL") else {
        return;
    };
    let schema = format!("timers_{}", uuid::Uuid::new_v4().simple());
    let loc = koshi_store::create_test_schema(&url, &schema).await.unwrap();
    drill(&loc, 10_000).await;
    koshi_store::drop_test_schema(&url, &schema).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_on_one_sqlite_file_fire_timers_exactly_once() {
    let dir = std::env::temp_dir().join(format!("koshi-timers-{}", uuid::Uuid::new_v4()));
    drill(&Location::SqliteFile(dir.join("koshi.db")), 2_000).await;
    std::fs::remove_dir_all(dir).ok();
}
