//! Migrations applied on a fresh store and on old stores, on both databases.

use super::*;
use crate::{Location, Store};

/// Migrations 9–11 move every filing out of `applications`, a case's check rows onto its
/// check sheet, and (SQLite) the audit trail into a table keyed by sequence number: a case
/// written before them reads the same after them, on each database, and its chain holds.
async fn cases_written_before_migrations_read_the_same(loc: Location) {
    let db = match &loc {
        Location::SqliteFile(path) => {
            let opts = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true);
            Db::Sqlite(sqlx::SqlitePool::connect_with(opts).await.unwrap())
        }
        Location::Postgres { url, schema } => {
            let opts = std::str::FromStr::from_str(url).map(|o: sqlx::postgres::PgConnectOptions| {
                o.options([("search_path", schema.as_deref().unwrap_or("public"))])
            });
            Db::Postgres(sqlx::PgPool::connect_with(opts.unwrap()).await.unwrap())
        }
    };
    apply_until(&db, 8).await.unwrap();
    let insert = "INSERT INTO applications (id, kind, status, channel, unit, filed_unit, purpose, filed_at, receipt, data, household, person_key, rules_version, created_by, created_at, updated_at) VALUES ('a1', 'rvp', 'checking', 'police_desk', 'ALM-01', 'ALM-01', 'labour_contract', '2026-02-02T05:00:00.000000Z', '{\"type\":\"acceptance\"}', '{\"kind\":\"rvp\"}', 0, 'UZB:FA1', '992/2024-12-08', 'officer', '2026-02-02T05:00:00.000000Z', '2026-02-02T05:00:00.000000Z')";
    let checks = "INSERT INTO checks (application_id, check_name, state, finding, source, checked_at, attempts, next_attempt_at, last_error) VALUES ('a1', 'records', 'clear', '{\"result\":\"clear\"}', 'police_records+kpsisu', '2026-02-02T05:01:00.000000Z', 1, NULL, NULL), ('a1', 'border_crossings', 'waiting', NULL, 'berkut', NULL, 2, '2026-02-02T05:03:00.000000Z', 'berkut: timeout')";
    // An audit event, chained as the writer chains it.
    let fields = [
        Some("e1"),
        Some("a1"),
        Some("2026-02-02T05:00:00.000000Z"),
        Some("officer"),
        Some("intake.accepted"),
        Some("п. 6"),
        Some("992/2024-12-08"),
        Some("{}"),
    ];
    let hash = crate::audit::entry_hash(crate::audit::GENESIS, 1, &fields);
    let event = format!(
        "INSERT INTO events (id, application_id, at, actor, action, citation, rules_version, detail, seq, prev_hash, hash) VALUES ('e1', 'a1', '2026-02-02T05:00:00.000000Z', 'officer', 'intake.accepted', 'п. 6', '992/2024-12-08', '{{}}', 1, '{}', '{hash}')",
        crate::audit::GENESIS
    );
    // Portal requests stored before migration 28: their inviting parties are read from the filing
    // by the number of the party's kind; a desk filing and an unknown kind give no party.
    let portal = |id: &str, channel: &str, party: &str| {
        format!(
            "INSERT INTO applications (id, kind, status, channel, unit, filed_unit, purpose, filed_at, receipt, data, household, person_key, rules_version, created_by, created_at, updated_at) VALUES ('{id}', 'rvp', 'issued', '{channel}', 'ALM-01', 'EGOV', 'labour_contract', '2026-02-02T05:00:00.000000Z', '{{}}', '{{\"inviting_party\":{party}}}', 0, 'UZB:{id}', '992/2024-12-08', 'portal', '2026-02-02T05:00:00.000000Z', '2026-02-02T05:00:00.000000Z')"
        )
    };
    let parties = [
        portal(
            "p1",
            "portal",
            r#"{"kind":"legal_entity","bin":"123456789012","iin":"999999999999"}"#,
        ),
        portal(
            "p2",
            "portal",
            r#"{"kind":"citizen","iin":" 880101300123 ","bin":"123456789012"}"#,
        ),
        portal("p3", "police_desk", r#"{"kind":"legal_entity","bin":"123456789012"}"#),
        portal("p4", "portal", r#"{"kind":"library","bin":"123456789012"}"#),
        // A PR filing (migration 29): its applicant by the IIN given, however the case came in.
        portal("p5", "police_desk", r#"{}, "applicant": {"iin": "900315300123"}"#).replace("'rvp'", "'pr'"),
    ];
    match &db {
        Db::Sqlite(p) => {
            for q in &parties {
                sqlx::query(sqlx::AssertSqlSafe(q.clone())).execute(p).await.unwrap();
            }
            sqlx::query(insert).execute(p).await.unwrap();
            sqlx::query(checks).execute(p).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(event)).execute(p).await.unwrap();
            p.close().await;
        }
        Db::Postgres(p) => {
            for q in &parties {
                sqlx::query(sqlx::AssertSqlSafe(q.clone())).execute(p).await.unwrap();
            }
            sqlx::query(insert).execute(p).await.unwrap();
            sqlx::query(checks).execute(p).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(event)).execute(p).await.unwrap();
            p.close().await;
        }
    }
    let store = Store::open(&loc).await.unwrap();
    // Migration 28: each party follows its own portal requests, and nobody else's.
    let party_cases = |party: &'static str| {
        let store = store.clone();
        async move {
            let q = crate::repo::queue::QueueQuery {
                scope: crate::repo::queue::QueueScope::Party(party.into()),
                state: crate::repo::queue::QueueState::All,
                kind: None,
                statuses: Vec::new(),
                unit: None,
                channel: None,
                purpose: None,
                due_before: None,
                due_on: None,
                text: None,
                actor: None,
                order: crate::repo::queue::QueueOrder::Filed,
                after: None,
                limit: 50,
                with_filing: false,
            };
            let mut ids: Vec<String> = store.queue(&q).await.unwrap().into_iter().map(|r| r.id).collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(party_cases("123456789012").await, vec!["p1".to_string()]);
    assert_eq!(party_cases("880101300123").await, vec!["p2".to_string()]);
    assert!(
        party_cases("999999999999").await.is_empty(),
        "an individual's IIN of an organisation's filing is no party"
    );
    // The PR applicant follows the notices of the case, and reads no request of the cabinet's.
    assert!(
        party_cases("900315300123").await.is_empty(),
        "an applicant's case is no request of its"
    );
    assert_eq!(
        store.party_cases("900315300123", "applicant", 10).await.unwrap(),
        vec!["p5".to_string()]
    );
    assert_eq!(
        store.party_cases("123456789012", "inviting_party", 10).await.unwrap(),
        vec!["p1".to_string()]
    );
    let a = store.application("a1").await.unwrap().expect("the case is still there");
    assert_eq!(a.receipt, r#"{"type":"acceptance"}"#);
    assert_eq!(a.data, r#"{"kind":"rvp"}"#);
    assert_eq!(a.status, "checking");
    // Migration 10: the case's check rows are now its sheet, by name, field for field.
    let checks = store.checks("a1").await.unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!(
        (&*checks[0].check_name, &*checks[0].state, checks[0].attempts),
        ("border_crossings", "waiting", 2)
    );
    assert_eq!(
        checks[0].next_attempt_at.as_deref(),
        Some("2026-02-02T05:03:00.000000Z")
    );
    assert_eq!(checks[0].last_error.as_deref(), Some("berkut: timeout"));
    assert_eq!(checks[0].finding, None);
    assert_eq!(checks[1].check_name, "records");
    assert_eq!(checks[1].finding.as_deref(), Some(r#"{"result":"clear"}"#));
    assert_eq!(checks[1].checked_at.as_deref(), Some("2026-02-02T05:01:00.000000Z"));
    // The waiting check's retry is due at 05:03, not before.
    let due = |at: &'static str| {
        let store = store.clone();
        async move { store.applications_with_due_checks(at, 10).await.unwrap() }
    };
    assert!(due("2026-02-02T05:02:59.000000Z").await.is_empty());
    assert_eq!(due("2026-02-02T05:03:00.000000Z").await, vec!["a1".to_string()]);
    // Migration 11 (SQLite): the audit trail kept its entries, its chain and its guard.
    let report = store.verify_audit().await.unwrap();
    assert_eq!((report.entries, report.first_broken), (1, None));
    assert_eq!(store.events("a1").await.unwrap()[0].action, "intake.accepted");
    let update = "UPDATE events SET detail = 'x' WHERE seq = 1";
    let refused = match store.db() {
        Db::Sqlite(p) => sqlx::query(update).execute(p).await.is_err(),
        Db::Postgres(p) => sqlx::query(update).execute(p).await.is_err(),
    };
    assert!(refused, "the audit trail must stay append-only");
    // The chain goes on from the migrated head.
    store
        .write(
            crate::Unit::new().with(crate::repo::insert_event(crate::repo::EventRow {
                id: "e2".into(),
                application_id: Some("a1".into()),
                at: "2026-02-02T05:04:00.000000Z".into(),
                actor: "system".into(),
                action: "checks.completed".into(),
                citation: "п. 9-1".into(),
                rules_version: "992/2024-12-08".into(),
                detail: "{}".into(),
            })),
        )
        .await
        .unwrap();
    let report = store.verify_audit().await.unwrap();
    assert_eq!((report.entries, report.first_broken), (2, None));
    store.close().await;
}

#[tokio::test]
async fn cases_written_before_migrations_read_the_same_sqlite() {
    let dir = std::env::temp_dir().join(format!("koshi-migrate-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    cases_written_before_migrations_read_the_same(Location::SqliteFile(dir.join("koshi.db"))).await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn cases_written_before_migrations_read_the_same_postgres() {
    let Ok(url) = std::env::var("KOSHI_TEST_DATABASE_URL") else {
        return;
    };
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let loc = crate::create_test_schema(&url, &schema).await.unwrap();
    cases_written_before_migrations_read_the_same(loc).await;
    crate::drop_test_schema(&url, &schema).await.unwrap();
}
