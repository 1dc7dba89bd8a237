//! The outage drill (`koshi drill-outage`, п. 9-5) on SQLite and PostgreSQL: every registry and
//! every receiver down for two hours of simulated time, then back.

use std::sync::Arc;

async fn the_outage_drill_loses_nothing(location: koshi_store::Location) {
    let law = Arc::new(koshi_law::Law::builtin().unwrap());
    let r = koshi::drill_outage::run(&location, 12, law.clone()).await.unwrap();
    // No case failed for the outage: each was issued once its checks could run.
    assert_eq!((r.cases, r.issued), (12, 12), "{r}");
    // Every registry the cases asked, and the receiver of the messages sent while it was down
    // (the monitoring stages of п. 9-4), was down for more than an hour: each outage is in the
    // special journal of п. 9-5, and closed.
    assert!(r.registry_outages >= 5, "{r}");
    assert_eq!(r.registry_outages_journaled_and_closed, r.registry_outages, "{r}");
    assert!(r.delivery_outages >= 1, "{r}");
    assert_eq!(r.delivery_outages_journaled_and_closed, r.delivery_outages, "{r}");
    // Every message held back went out after, none is left waiting.
    assert!(r.messages >= 3 * 12, "{r}");
    assert_eq!((r.delivered, r.waiting), (r.messages, 0), "{r}");
    assert!(r.audit_intact && r.passed(), "{r}");
    // A drill runs on a database of its own: one that holds cases is refused.
    let e = koshi::drill_outage::run(&location, 1, law).await.unwrap_err();
    assert!(e.to_string().contains("database of its own"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_drill_sqlite() {
    let dir = std::env::temp_dir().join(format!("koshi-outage-drill-{}", uuid::Uuid::new_v4()));
    the_outage_drill_loses_nothing(koshi_store::Location::SqliteFile(dir.join("koshi.db"))).await;
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_drill_postgres() {
    // Configured but unreachable fails here (create_test_schema), never skips.
    let Ok(url) = std::env::var("KOSHI_TEST_DATABASE_URL") else {
        return;
    };
    let schema = format!("drill_{}", uuid::Uuid::new_v4().simple());
    let location = koshi_store::create_test_schema(&url, &schema).await.unwrap();
    the_outage_drill_loses_nothing(location).await;
    koshi_store::drop_test_schema(&url, &schema).await.unwrap();
}
