//! The reads on a case's path are led by indexes and build no temporary table.

use super::*;
use crate::{Db, Store};

/// SQLite's plan for each hot read: an index leads it, no table is scanned whole. (PostgreSQL
/// chooses by statistics, so its plans are not fixed for a test on an empty database.)
#[tokio::test]
async fn hot_reads_are_led_by_indexes() {
    let dir = std::env::temp_dir().join(format!("koshi-plan-{}", uuid::Uuid::new_v4()));
    let store = Store::open(&crate::Location::SqliteFile(dir.join("koshi.db")))
        .await
        .unwrap();
    // A connection of its own, opened after the migrations: EXPLAIN plans with the schema a
    // connection has loaded, and a pool connection opened earlier may still hold the old one.
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", dir.join("koshi.db").display()))
        .await
        .unwrap();
    // SQLite's plan lines for `sql`, with `args` placeholder arguments (a plan is made without
    // running the statement, so their values do not matter).
    async fn plan(conn: &mut sqlx::SqliteConnection, sql: &str, args: usize) -> Vec<String> {
        let mut q =
            sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
        for _ in 0..args {
            q = q.bind("x");
        }
        q.fetch_all(conn).await.unwrap().into_iter().map(|r| r.3).collect()
    }
    let sorts = |plan: &[String]| plan.iter().any(|l| l.contains("TEMP B-TREE"));
    for (name, sql, args) in [
        ("due checks", DUE_CHECKS_SQL, 2),
        ("household RVPs", HOUSEHOLD_SQL, 2),
        ("pending PR", PENDING_PR_SQL, 2),
        ("outbox due", OUTBOX_DUE_SQL, 2),
        ("outbox of a case", OUTBOX_BY_CASE_SQL, 2),
        ("a case", APPLICATION_SQL, 1),
        ("a request's token", TOKEN_SQL, 1),
        ("checks of a case", CHECKS_SQL, 1),
        ("events of a case", EVENTS_SQL, 1),
        ("reads of a case", ACCESS_LOG_SQL, 4),
        ("acts on accounts", STAFF_EVENTS_SQL, 1),
    ] {
        let plan = plan(&mut conn, sql, args).await;
        assert!(
            plan.iter().any(|l| l.contains("USING INDEX")
                || l.contains("USING COVERING INDEX")
                || l.contains("USING PRIMARY KEY")),
            "{name}: no index in {plan:?}"
        );
        for line in &plan {
            // A SELECT of scalar subqueries reads one constant row, not a table.
            let scan = line.starts_with("SCAN ") && !line.contains(" USING ") && line != "SCAN CONSTANT ROW";
            assert!(!scan, "{name}: scans a whole table: {plan:?}");
        }
    }
    // A unit's work queue by legal deadline, first page and a later one: read in the queue
    // index's order, no sort of the unit's cases.
    let mut q = queue::QueueQuery {
        scope: queue::QueueScope::Owned(vec!["ALM-01".into()]),
        state: queue::QueueState::All,
        kind: None,
        statuses: Vec::new(),
        unit: None,
        channel: None,
        purpose: None,
        due_before: None,
        due_on: None,
        text: None,
        actor: None,
        order: queue::QueueOrder::Deadline,
        after: None,
        limit: 50,
        with_filing: false,
    };
    for after in [None, Some(("2026-02-03".to_string(), "x".to_string()))] {
        q.after = after;
        let (sql, values) = queue::page_sql(&q);
        let p = plan(&mut conn, &sql, values.len()).await;
        assert!(
            p.iter().any(|l| l.contains("applications_unit_queue")) && !sorts(&p),
            "unit queue: {p:?}"
        );
    }
    // The open work of a unit, first page and a later one: led by a queue index in deadline
    // order, no sort. (PostgreSQL, with statistics, takes the open-cases index: measured on
    // 10,000,000 cases, docs/performance.md. SQLite without statistics takes either; with the
    // unit's whole index, it reads past closed cases to fill a page.)
    q.state = queue::QueueState::Open;
    for after in [None, Some(("2026-02-03".to_string(), "x".to_string()))] {
        q.after = after;
        let (sql, values) = queue::page_sql(&q);
        let p = plan(&mut conn, &sql, values.len()).await;
        assert!(
            p.iter()
                .any(|l| l.contains("applications_unit_open") || l.contains("applications_unit_queue"))
                && !sorts(&p),
            "open unit queue: {p:?}"
        );
    }
    q.state = queue::QueueState::All;
    // A ЦОН branch's: its filings' index.
    q.scope = queue::QueueScope::Filed(vec!["CON-ALM-01".into()]);
    q.after = None;
    let (sql, values) = queue::page_sql(&q);
    let p = plan(&mut conn, &sql, values.len()).await;
    assert!(
        p.iter().any(|l| l.contains("applications_filed_queue")) && !sorts(&p),
        "branch queue: {p:?}"
    );
    // Its open filings: one of its filings' partial indexes (a desk filing is in neither).
    q.state = queue::QueueState::Open;
    let (sql, values) = queue::page_sql(&q);
    let p = plan(&mut conn, &sql, values.len()).await;
    assert!(
        p.iter()
            .any(|l| l.contains("applications_filed_open") || l.contains("applications_filed_queue"))
            && !sorts(&p),
        "branch's open queue: {p:?}"
    );
    q.state = queue::QueueState::All;
    // An officer's cases: the unit's queue leads, each case's acts read through their index.
    q.scope = queue::QueueScope::Owned(vec!["ALM-01".into()]);
    q.actor = Some(":user:u1".into());
    let (sql, values) = queue::page_sql(&q);
    let p = plan(&mut conn, &sql, values.len()).await;
    assert!(
        p.iter().any(|l| l.contains("applications_unit_queue")) && p.iter().any(|l| l.contains("events_case_acts")),
        "officer's cases: {p:?}"
    );
    q.actor = None;
    // An inviting party's cabinet: its cases through its `case_parties` rows (the primary key
    // leads), each case by its primary key; no table is read whole (a party's few cases are
    // sorted, never the store's).
    q.scope = queue::QueueScope::Party("123456789012".into());
    let (sql, values) = queue::page_sql(&q);
    let p = plan(&mut conn, &sql, values.len()).await;
    assert!(
        p.iter()
            .any(|l| l.contains("case_parties") && l.contains("PRIMARY KEY")
                || l.contains("sqlite_autoindex_case_parties"))
            && !p.iter().any(|l| l.starts_with("SCAN ") && !l.contains(" USING ")),
        "party's cases: {p:?}"
    );
    // A case's acts are read through the index that leaves its reads out.
    let acts = plan(&mut conn, EVENTS_SQL, 1).await;
    assert!(
        acts.iter().any(|l| l.contains("events_case_acts")),
        "events of a case: {acts:?}"
    );
    // Due deliveries are read in the pending index's order up to the limit: no sort.
    let due = plan(&mut conn, OUTBOX_DUE_SQL, 2).await;
    assert!(
        due.iter().any(|l| l.contains("outbox_pending")) && !sorts(&due),
        "outbox due: {due:?}"
    );
    // The latest deliveries are read in primary-key order up to the limit: no sort of the
    // whole outbox.
    let latest = plan(&mut conn, OUTBOX_LATEST_SQL, 1).await;
    assert!(!sorts(&latest), "latest deliveries: {latest:?}");
    // The background pass finds cases waiting for checks through the index of open cases.
    let due = plan(&mut conn, DUE_CHECKS_SQL, 2).await;
    assert!(
        due.iter().any(|l| l.contains("applications_open")),
        "due checks: {due:?}"
    );

    // No statement on a case's path builds a temporary b-tree (SQLite does, every time a
    // statement runs, for an IN list of more than two constants; the index of open cases
    // evaluates its condition at every insert and status change).
    let row = ApplicationRow {
        id: "a".into(),
        kind: "rvp".into(),
        status: "checking".into(),
        channel: "police_desk".into(),
        unit: "u".into(),
        filed_unit: "u".into(),
        purpose: "p".into(),
        filed_at: "t".into(),
        accepted_on: None,
        due_on: None,
        receipt: "{}".into(),
        data: "{}".into(),
        decision: None,
        employer_iin: None,
        household: 0,
        person_key: "k".into(),
        permit_number: None,
        valid_from: None,
        valid_until: None,
        rules_version: "v".into(),
        created_by: "c".into(),
        created_at: "t".into(),
        updated_at: "t".into(),
        revision: 0,
    };
    let status = change_status(StatusChange {
        id: "a".into(),
        expected_revision: 0,
        status: "issued".into(),
        decision: None,
        permit_number: None,
        valid_from: None,
        valid_until: None,
        updated_at: "t".into(),
    });
    let [app, filing] = insert_application(&row);
    let shape = app.insert.expect("an insert shape");
    for (name, sql, args) in [
        ("insert application", app.sql, 22),
        // As the SQLite writer inserts a batch's applications: one statement of many rows.
        ("insert 4 applications", crate::writer::insert_rows_sql(shape, 4), 88),
        ("insert filing", filing.sql, 3),
        ("change status", status.sql, 8),
        ("pending PR", PENDING_PR_SQL, 2),
    ] {
        let mut q = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(format!(
            "SELECT addr, opcode FROM (EXPLAIN {sql})"
        )));
        for _ in 0..args {
            q = q.bind("x");
        }
        let program = match q.fetch_all(&mut conn).await {
            Ok(p) => p,
            // Older SQLite cannot select from EXPLAIN: read the program as rows instead.
            Err(_) => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")));
                for _ in 0..args {
                    q = q.bind("x");
                }
                use sqlx::Row;
                q.fetch_all(&mut conn)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| (r.get::<i64, _>(0), r.get::<String, _>(1)))
                    .collect()
            }
        };
        assert!(!program.is_empty(), "{name}: no program");
        assert!(
            !program.iter().any(|(_, op)| op == "OpenEphemeral"),
            "{name} builds a temporary b-tree: {program:?}"
        );
    }
    conn.close().await.ok();
    store.close().await;
    std::fs::remove_dir_all(&dir).ok();
}

/// On SQLite a case, its acts, its check sheet and a request's token are read on the calling
/// thread (`Store::hot_reader`, rusqlite), everything else through the sqlx pool: both read the
/// same rows alike, including absent values, and a key that is not there reads as nothing.
#[tokio::test]
async fn hot_reads_read_what_the_pool_reads() {
    let dir = std::env::temp_dir().join(format!("koshi-hot-{}", uuid::Uuid::new_v4()));
    let store = Store::open(&crate::Location::SqliteFile(dir.join("koshi.db")))
        .await
        .unwrap();
    let app = ApplicationRow {
        id: "a-hot".into(),
        kind: "rvp".into(),
        status: "checking".into(),
        channel: "police_desk".into(),
        unit: "ALM-01".into(),
        filed_unit: "ALM-01".into(),
        purpose: "labour_contract".into(),
        filed_at: "2026-01-05T04:00:00.000000Z".into(),
        accepted_on: Some("2026-01-05".into()),
        due_on: None,
        receipt: r#"{"number":"R-1"}"#.into(),
        data: r#"{"name":"Әлия «Ли»"}"#.into(),
        decision: None,
        employer_iin: Some("900315300123".into()),
        household: 1,
        person_key: "UZB:FA1".into(),
        permit_number: None,
        valid_from: None,
        valid_until: Some("2027-01-05".into()),
        rules_version: "992/2024-12-08".into(),
        created_by: "test".into(),
        created_at: "2026-01-05T04:00:00.000000Z".into(),
        updated_at: "2026-01-05T04:00:00.000000Z".into(),
        revision: 3,
    };
    let token = TokenRow {
        id: "t-hot".into(),
        token_hash: "h".repeat(64),
        role: "portal".into(),
        unit: "PORTAL".into(),
        label: "test".into(),
        created_at: "2026-01-05T04:00:00.000000Z".into(),
        revoked_at: None,
        party: Some("123456789012".into()),
        expires_at: Some("2026-01-05T12:00:00.000000Z".into()),
    };
    let check = CheckRow {
        check_name: "berkut".into(),
        state: "waiting".into(),
        finding: None,
        source: "berkut".into(),
        checked_at: None,
        attempts: 2,
        next_attempt_at: Some("2026-01-05T04:05:00.000000Z".into()),
        last_error: Some("timeout".into()),
    };
    let mut u = crate::Unit::new();
    u.push_all(insert_application(&app));
    u.push(insert_token(&token));
    u.push(record_checks(&app.id, &[&check], true));
    for (i, action) in ["application.filed", "personal_data.read", "checks.recorded"]
        .iter()
        .enumerate()
    {
        u.push(insert_event(NewEvent {
            id: format!("e{i}"),
            application_id: Some(app.id.clone()),
            at: format!("2026-01-05T04:0{i}:00.000000Z"),
            actor: "officer".into(),
            action: action.to_string().into(),
            citation: "п. 9-1".into(),
            rules_version: "992/2024-12-08".into(),
            detail: "{}".into(),
        }));
    }
    store.write(u).await.unwrap();
    assert!(store.hot_reader().is_some());

    async fn pool(
        store: &Store,
        id: &str,
        hash: &str,
    ) -> crate::StoreResult<(
        Option<ApplicationRow>,
        Vec<EventRow>,
        Option<TokenRow>,
        Option<(String,)>,
    )> {
        Ok((
            fetch_optional!(store.db(), ApplicationRow, APPLICATION_SQL, id),
            fetch_all!(store.db(), EventRow, EVENTS_SQL, id),
            fetch_optional!(store.db(), TokenRow, TOKEN_SQL, hash),
            fetch_optional!(store.db(), (String,), CHECKS_SQL, id),
        ))
    }
    let (p_app, p_events, p_token, p_sheet) = pool(&store, &app.id, &token.token_hash).await.unwrap();
    assert_eq!(store.application(&app.id).await.unwrap(), Some(app.clone()));
    assert_eq!(p_app, Some(app.clone()));
    let events = store.events(&app.id).await.unwrap();
    // The record of a read is the access log's, not an act of the case.
    assert_eq!(
        events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["application.filed", "checks.recorded"]
    );
    assert_eq!(events, p_events);
    assert_eq!(
        store.token_by_hash(&token.token_hash).await.unwrap(),
        Some(token.clone())
    );
    assert_eq!(p_token, Some(token));
    assert_eq!(store.checks(&app.id).await.unwrap(), vec![check]);
    assert!(p_sheet.is_some());
    assert_eq!(store.application("none").await.unwrap(), None);
    assert_eq!(store.token_by_hash("none").await.unwrap(), None);
    assert!(store.events("none").await.unwrap().is_empty());
    store.close().await;
    std::fs::remove_dir_all(dir).ok();
}
