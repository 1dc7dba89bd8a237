//! Personal data never reaches the logs; the audit CLI finds tampering. Both drive the real binary.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use serde_json::Value;

fn koshi() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_koshi"));
    c.env_remove("KOSHI_DATABASE_URL");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_scenarios_leave_no_iin_or_passport_number_in_the_logs() {
    let dir = std::env::temp_dir().join(format!("koshi-logscan-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    // Logs go to a file: a pipe nobody drains would fill and stall the server.
    let log_path = dir.join("koshi.log");
    let mut child = koshi()
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir", dir.to_str().unwrap()])
        .env("KOSHI_LOG", "debug")
        .env("KOSHI_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let mut base = String::new();
    let mut officer = String::new();
    let mut auditor = String::new();
    for _ in 0..20 {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(rest) = line.strip_prefix("Koshi demo: ") {
            base = rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches("/api/v1")
                .to_string();
        }
        if line.trim_start().starts_with("officer ") {
            officer = line.split_whitespace().nth(1).unwrap().to_string();
        }
        if line.trim_start().starts_with("auditor ") {
            auditor = line.split_whitespace().nth(1).unwrap().to_string();
        }
        printed.push_str(&line);
        if line.starts_with("try:") {
            break;
        }
    }
    assert!(!base.is_empty() && !officer.is_empty(), "{printed}");
    let http = koshi_registries::tls::client_builder().build().unwrap();
    // Read every demo case, file new ones (good, refused and malformed), decide one.
    let d: Value = http
        .get(format!("{base}/api/v1/monitoring/deliveries?limit=1000"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ids: Vec<String> = d
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["application_id"].as_str().map(String::from))
        .collect();
    ids.sort();
    ids.dedup();
    for id in &ids {
        let r = http
            .get(format!("{base}/api/v1/applications/{id}"))
            .bearer_auth(&officer)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let case: Value = r.json().await.unwrap();
        if case["status"] == "awaiting_confirmation" {
            http.post(format!("{base}/api/v1/applications/{id}/decision"))
                .bearer_auth(&officer)
                .json(&serde_json::json!({"action": "confirm"}))
                .send()
                .await
                .unwrap();
        }
    }
    let law = koshi_law::Law::builtin().unwrap();
    let fixtures = koshi_registries::sim::Fixtures::demo().unwrap();
    for doc in ["760987654", "C01234567", "FA7654321"] {
        let req = koshi::demo::request(&law, &fixtures, doc, "labour_contract");
        let r = http
            .post(format!("{base}/api/v1/applications"))
            .bearer_auth(&officer)
            .json(&req)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let mut bad = serde_json::to_value(&req).unwrap();
        bad["immigrant"]["iin"] = Value::String("900315300124".into());
        let r = http
            .post(format!("{base}/api/v1/applications"))
            .bearer_auth(&officer)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await; // one background pass
    child.kill().unwrap();
    child.wait().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logs.contains("Koshi") || logs.contains("INFO") || logs.contains("DEBUG"),
        "no logs captured"
    );
    // Structured logs: one JSON object a line, each request's lines with its id.
    let lines: Vec<Value> = logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    assert!(lines.len() > 10, "{logs}");
    assert!(
        lines.iter().any(|l| l.to_string().contains("\"request_id\"")),
        "no line carries a request id: {logs}"
    );
    let mut secrets: Vec<String> = Vec::new();
    for p in fixtures.people() {
        secrets.push(p.document_number.clone());
        if let Some(i) = &p.iin {
            secrets.push(i.clone());
        }
    }
    secrets.push("900315300124".into());
    secrets.push(koshi::demo::EMPLOYER_IIN.into());
    for s in &secrets {
        assert!(!logs.contains(s.as_str()), "personal data {s:?} found in the logs");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn koshi_audit_verify_names_the_changed_entry() {
    let dir = std::env::temp_dir().join(format!("koshi-audit-{}", uuid::Uuid::new_v4()));
    // Real use through the service writes a chained trail.
    {
        let t = crate::harness::spawn_at(&dir).await;
        for doc in ["FA1234567", "751234567"] {
            t.file_and_process(&t.request(doc, "labour_contract")).await;
        }
        t.app.service.settle().await;
        t.app.service.store.close().await;
    }
    let data = dir.to_str().unwrap();
    let ok = koshi().args(["audit", "verify", "--data-dir", data]).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stdout));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("intact"));
    // Someone with the database file drops the guards and changes, deletes or reorders a row.
    let tampers: [(&str, &str, i64); 3] = [
        ("changed", "UPDATE events SET actor = 'nobody' WHERE seq = 2", 2),
        ("deleted", "DELETE FROM events WHERE seq = 2", 3),
        (
            "reordered",
            "UPDATE events SET seq = -2 WHERE seq = 2; UPDATE events SET seq = 2 WHERE seq = 3; UPDATE events SET seq = 3 WHERE seq = -2",
            2,
        ),
    ];
    for (what, sql, broken_at) in tampers {
        let copy = dir.join(what);
        std::fs::create_dir_all(&copy).unwrap();
        std::fs::copy(dir.join("koshi.db"), copy.join("koshi.db")).unwrap();
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}/koshi.db", copy.to_str().unwrap()))
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; {sql}"
        )))
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        let bad = koshi()
            .args(["audit", "verify", "--data-dir", copy.to_str().unwrap(), "--json"])
            .output()
            .unwrap();
        assert_eq!(bad.status.code(), Some(1), "{what}");
        let v: Value = serde_json::from_slice(&bad.stdout).unwrap();
        assert_eq!(v["intact"], false, "{what}");
        assert_eq!(v["first_broken"]["seq"], broken_at, "{what}: {v}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
