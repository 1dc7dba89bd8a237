//! Store tests, the same bodies on SQLite and (when KOSHI_TEST_DATABASE_URL is set) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use koshi_store::repo::{self, EventRow, IdempotencyRow};
use koshi_store::{Location, Store, StoreError, Unit};

struct TestDb {
    store: Store,
    cleanup: Option<(String, String)>,
    _dir: Option<std::path::PathBuf>,
}

async fn sqlite() -> TestDb {
    let dir = std::env::temp_dir().join(format!("koshi-store-{}", uuid::Uuid::new_v4()));
    let store = Store::open(&Location::SqliteFile(dir.join("koshi.db"))).await.unwrap();
    TestDb {
        store,
        cleanup: None,
        _dir: Some(dir),
    }
}

async fn postgres() -> Option<TestDb> {
    let url = std::env::var("KOSHI_TEST_DATABASE_URL").ok()?;
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let loc = koshi_store::create_test_schema(&url, &schema).await.unwrap();
    let store = Store::open(&loc).await.unwrap();
    Some(TestDb {
        store,
        cleanup: Some((url, schema)),
        _dir: None,
    })
}

impl TestDb {
    async fn done(self) {
        self.store.close().await;
        if let Some((url, schema)) = self.cleanup {
            koshi_store::drop_test_schema(&url, &schema).await.unwrap();
        }
        if let Some(d) = self._dir {
            std::fs::remove_dir_all(d).ok();
        }
    }
}

macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = super::sqlite().await;
                super::$body(&db.store).await;
                db.done().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = super::postgres().await else { return };
                super::$body(&db.store).await;
                db.done().await;
            }
        }
    };
}

fn event(id: &str) -> EventRow {
    EventRow {
        id: id.into(),
        application_id: None,
        at: "2026-01-05T04:00:00.000000Z".into(),
        actor: "test".into(),
        action: "test".into(),
        citation: "п. 9".into(),
        rules_version: "992/2024-12-08".into(),
        detail: "{}".into(),
    }
}

async fn concurrent_units_commit_and_a_failing_unit_leaves_nothing(store: &Store) {
    // 200 concurrent units, one of which conflicts half-way: it alone is rolled back.
    let mut handles = Vec::new();
    for i in 0..200 {
        let s = store.clone();
        handles.push(tokio::spawn(async move {
            let mut u = Unit::new();
            u.push(repo::insert_event(&event(&format!("e{i}"))));
            if i == 100 {
                // Duplicate primary key inside the same unit: the whole unit must vanish.
                u.push(repo::insert_event(&event("e100-extra")));
                u.push(repo::insert_event(&event("e100-extra")));
            }
            s.write(u).await
        }));
    }
    let mut ok = 0;
    let mut conflicts = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::Conflict(_)) => conflicts += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((ok, conflicts), (199, 1));
    let counts = store.table_counts().await.unwrap();
    let events = counts.iter().find(|(t, _)| t == "events").unwrap().1;
    assert_eq!(events, 199);
}
both!(group_commit, concurrent_units_commit_and_a_failing_unit_leaves_nothing);

async fn idempotency_key_is_unique_per_subject(store: &Store) {
    let row = IdempotencyRow {
        subject: "tok1".into(),
        key: "k1".into(),
        request_hash: "h".into(),
        application_id: "a1".into(),
        created_at: "2026-01-05T04:00:00.000000Z".into(),
    };
    store
        .write(Unit::new().with(repo::insert_idempotency(&row)))
        .await
        .unwrap();
    let again = store.write(Unit::new().with(repo::insert_idempotency(&row))).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let other = IdempotencyRow {
        subject: "tok2".into(),
        ..row
    };
    store
        .write(Unit::new().with(repo::insert_idempotency(&other)))
        .await
        .unwrap();
    assert_eq!(
        store.idempotency("tok1", "k1").await.unwrap().unwrap().application_id,
        "a1"
    );
}
both!(idempotency, idempotency_key_is_unique_per_subject);

async fn migrations_are_idempotent_across_restarts(store: &Store) {
    // Re-applying on an existing database is a no-op (exercised by reopening in the sqlite case).
    assert!(store.count_applications().await.unwrap() == 0);
}
both!(migrations, migrations_are_idempotent_across_restarts);

#[tokio::test]
async fn sqlite_survives_reopen() {
    let dir = std::env::temp_dir().join(format!("koshi-store-{}", uuid::Uuid::new_v4()));
    let loc = Location::SqliteFile(dir.join("koshi.db"));
    let s = Store::open(&loc).await.unwrap();
    s.write(Unit::new().with(repo::insert_event(&event("persisted"))))
        .await
        .unwrap();
    s.close().await;
    drop(s);
    let s = Store::open(&loc).await.unwrap();
    let counts = s.table_counts().await.unwrap();
    assert_eq!(counts.iter().find(|(t, _)| t == "events").unwrap().1, 1);
    s.close().await;
    std::fs::remove_dir_all(dir).ok();
}
