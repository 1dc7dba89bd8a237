//! Work queues over HTTP (issue 17 item 1): `GET /api/v1/applications`, filtered, by legal
//! deadline, paged, counted, exported; scoped like every read. On SQLite and PostgreSQL.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::harness::TestApp;
use crate::on_both;

fn at(t: &TestApp, almaty: &str) {
    let civil = jiff::civil::DateTime::strptime("%Y-%m-%dT%H:%M", almaty).unwrap();
    let ts = t.law.calendar.time_zone().to_zoned_datetime(civil).unwrap().timestamp();
    t.clock.set(ts);
}

async fn list(t: &TestApp, role: &str, query: &str) -> Value {
    let (s, v) = t.get(role, &format!("/api/v1/applications{query}")).await;
    assert_eq!(s, 200, "{query}: {v}");
    v
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

async fn an_officers_queue_is_filtered_paged_counted_and_exported(t: &TestApp) {
    // Two clean cases (issued), one with a record (awaiting confirmation), one PR (registered).
    let issued_a = t.file_and_process(&t.request("FA1234567", "labour_contract")).await;
    let issued_b = t.file_and_process(&t.request("751234567", "education")).await;
    let waiting = t.file_and_process(&t.request("401234567", "labour_contract")).await;
    assert_eq!(waiting["status"], "awaiting_confirmation");
    let (s, pr) = t
        .post(
            "officer",
            "/api/v1/applications",
            &crate::pr::pr_request(t, "AC2345678"),
        )
        .await;
    assert_eq!(s, 201, "{pr}");
    let all: BTreeSet<String> = [&issued_a, &issued_b, &waiting, &pr]
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();

    // The work to do by default: the open cases only.
    let open: BTreeSet<String> = [&waiting, &pr]
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let work = list(t, "officer", "").await;
    assert_eq!(ids(&work).into_iter().collect::<BTreeSet<_>>(), open);
    assert!(work["counts"].get("issued").is_none(), "{work}");
    assert_eq!(
        ids(&list(t, "officer", "?state=closed").await)
            .into_iter()
            .collect::<BTreeSet<_>>(),
        [&issued_a, &issued_b]
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    );
    // Everything, soonest legal deadline first, counted by status.
    let page = list(t, "officer", "?state=all").await;
    assert_eq!(ids(&page).into_iter().collect::<BTreeSet<_>>(), all);
    let dues: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["due_on"].as_str().unwrap_or("9999-12-31"))
        .collect();
    assert!(dues.windows(2).all(|w| w[0] <= w[1]), "{dues:?}");
    assert_eq!(page["counts"]["issued"], 2);
    assert_eq!(page["counts"]["awaiting_confirmation"], 1);
    assert_eq!(page["counts"]["registered"], 1, "{page}");
    // No names in a list: a person's data is read on the case.
    assert!(!page.to_string().contains("DEMO"));

    // Pages of one: each case once, then no `next`.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("?state=all&limit=1&cursor={}", c.replace('|', "%7C")),
            None => "?state=all&limit=1".to_string(),
        };
        let p = list(t, "officer", &q).await;
        seen.extend(ids(&p));
        match p["next"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 4);

    // Filters.
    assert_eq!(
        ids(&list(t, "officer", "?service=pr").await),
        [pr["id"].as_str().unwrap()]
    );
    assert_eq!(
        ids(&list(t, "officer", "?status=awaiting_confirmation,awaiting_officer").await),
        [waiting["id"].as_str().unwrap()]
    );
    assert_eq!(
        ids(&list(t, "officer", "?state=all&purpose=education").await),
        [issued_b["id"].as_str().unwrap()]
    );
    let receipt = waiting["receipt"]["number"].as_str().unwrap();
    assert_eq!(
        ids(&list(t, "officer", &format!("?q={receipt}")).await),
        [waiting["id"].as_str().unwrap()]
    );
    // By a document number of the filing, in any case.
    assert_eq!(
        ids(&list(t, "officer", "?state=all&q=fa1234567").await),
        [issued_a["id"].as_str().unwrap()]
    );
    assert!(
        ids(&list(t, "officer", "?state=all&q=%25").await).is_empty(),
        "a % is text, not a wildcard"
    );

    // The RVP term ends on 3 February: on that day it is at risk, after working hours overdue;
    // a decided case is neither.
    at(t, "2026-02-03T10:00");
    let risky = list(t, "officer", "?at_risk=true").await;
    assert_eq!(ids(&risky), [waiting["id"].as_str().unwrap()]);
    assert_eq!(risky["items"][0]["at_risk"], true);
    assert!(ids(&list(t, "officer", "?overdue=true").await).is_empty());
    at(t, "2026-02-03T19:00");
    let late = list(t, "officer", "?overdue=true").await;
    assert_eq!(ids(&late), [waiting["id"].as_str().unwrap()]);
    assert_eq!(late["items"][0]["overdue"], true);
    assert!(ids(&list(t, "officer", "?at_risk=true").await).is_empty());

    // CSV of the filtered list.
    let r = t
        .http
        .get(format!(
            "{}/api/v1/applications?format=csv&service=rvp&state=all",
            t.base
        ))
        .bearer_auth(&t.tokens["officer"])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("id,service,status,channel,unit"));
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(waiting["id"].as_str().unwrap()) && l.contains(",true,false,"))
    );

    // Refused filters: a clear 4xx naming the parameter, nothing else.
    for (q, code) in [
        ("?status=pending", 422),
        ("?service=visa", 422),
        ("?limit=0", 422),
        ("?limit=201", 422),
        ("?sort=name", 422),
        ("?due_before=tomorrow", 422),
        ("?cursor=nonsense", 422),
        ("?format=xml", 422),
        ("?state=done", 422),
        ("?colour=red", 400),
    ] {
        let (s, v) = t.get("officer", &format!("/api/v1/applications{q}")).await;
        assert_eq!(s, code, "{q}: {v}");
    }
}

on_both!(
    officer_queue,
    Default::default(),
    an_officers_queue_is_filtered_paged_counted_and_exported
);

async fn each_caller_lists_only_what_it_may_read(t: &TestApp) {
    let mine = t.file_and_process(&t.request("FA1234567", "labour_contract")).await;
    let mine = mine["id"].as_str().unwrap().to_string();
    // Another police body's officer: none of ALM-01's cases, and may not ask for its unit.
    let (_, other) = koshi::app::issue_token(&t.app.service.store, "officer", "ALM-02", "test")
        .await
        .unwrap();
    let r = t
        .http
        .get(format!("{}/api/v1/applications", t.base))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert!(ids(&v).is_empty(), "{v}");
    let r = t
        .http
        .get(format!("{}/api/v1/applications?unit=ALM-01", t.base))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The auditor reads every unit's; a ЦОН branch what it filed (here: nothing); an agency none.
    assert_eq!(ids(&list(t, "auditor", "?state=all").await), [mine]);
    assert!(ids(&list(t, "con_operator", "").await).is_empty());
    assert_eq!(t.get("agency", "/api/v1/applications").await.0, 403);
    // The portal: the party's own portal filings only.
    let (s, v) = t.get("portal", "/api/v1/applications").await;
    assert_eq!(s, 200);
    assert!(
        ids(&v).is_empty(),
        "an officer's desk filing is not the party's portal case: {v}"
    );
    assert_eq!(t.get("", "/api/v1/applications").await.0, 401);
}

on_both!(queue_scope, Default::default(), each_caller_lists_only_what_it_may_read);

/// Issue 17 item 1: the cases an officer acted on, by the account's username or `me`; an
/// unknown officer is a malformed filter, not an empty list.
async fn an_officers_own_cases_are_a_filter(t: &TestApp) {
    let one = crate::pr::person(t, "o.one", "other", "ALM-01").await;
    let two = crate::pr::person(t, "o.two", "other", "ALM-01").await;
    let file = |who: &(String, String), doc: &str| {
        let (http, url, cookie, csrf) = (
            t.http.clone(),
            format!("{}/api/v1/applications", t.base),
            who.0.clone(),
            who.1.clone(),
        );
        let body = serde_json::to_vec(&t.request(doc, "labour_contract")).unwrap();
        async move {
            let r = http
                .post(url)
                .header("cookie", cookie)
                .header("x-csrf-token", csrf)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
        }
    };
    let mine = file(&one, "FA1234567").await;
    let theirs = file(&two, "751234567").await;
    let by_name = list(t, "officer", "?state=all&officer=o.one").await;
    assert_eq!(ids(&by_name), vec![mine.clone()]);
    assert_eq!(
        by_name["counts"]
            .as_object()
            .unwrap()
            .values()
            .filter_map(Value::as_i64)
            .sum::<i64>(),
        1
    );
    assert_eq!(ids(&list(t, "officer", "?state=all&officer=o.two").await), vec![theirs]);
    // `me`, for the person signed in.
    let r = t
        .http
        .get(format!("{}/api/v1/applications?state=all&officer=me", t.base))
        .header("cookie", &one.0)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(ids(&r.json::<Value>().await.unwrap()), vec![mine]);
    // Nobody by that name, or `me` for a system token: the filter is refused, naming itself.
    for q in ["?officer=nobody", "?officer=me"] {
        let (s, v) = t.get("officer", &format!("/api/v1/applications{q}")).await;
        assert_eq!(
            (s, v["errors"][0]["pointer"].as_str()),
            (422, Some("/officer")),
            "{q}: {v}"
        );
    }
    // The page offers the filter and keeps it on its CSV export.
    let page = t
        .http
        .get(format!("{}/ui/queue?state=all&officer=me&at_risk=true", t.base))
        .header("cookie", &one.0)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"<option value="me" selected>"#), "{page}");
    assert!(
        page.contains("officer=me") && page.contains("at_risk=true"),
        "the export keeps the filters"
    );
}

on_both!(queue_officer, Default::default(), an_officers_own_cases_are_a_filter);
