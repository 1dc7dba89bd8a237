//! Security over HTTP: every route × every role (and none) against the permission matrix, unit
//! scoping, the audit trail's integrity through real use, and security headers.

use serde_json::{Value, json};

use crate::harness::{Options, TestApp};
use crate::on_both;

/// Every route of the API with the action of the matrix it needs (`None`: public).
const ROUTES: &[(&str, &str, Option<&str>)] = &[
    ("post", "/api/v1/applications", Some("application.file")),
    ("get", "/api/v1/applications/{id}", Some("application.read")),
    ("post", "/api/v1/applications/{id}/decision", Some("application.decide")),
    (
        "post",
        "/api/v1/applications/{id}/duplicates",
        Some("application.duplicate"),
    ),
    (
        "post",
        "/api/v1/applications/{id}/requests",
        Some("application.pr_requests"),
    ),
    (
        "post",
        "/api/v1/applications/{id}/answers",
        Some("application.agency_answer"),
    ),
    (
        "post",
        "/api/v1/applications/{id}/conclusion",
        Some("application.pr_conclusion"),
    ),
    (
        "post",
        "/api/v1/applications/{id}/approval",
        Some("application.pr_approve"),
    ),
    (
        "post",
        "/api/v1/applications/{id}/approval/return",
        Some("application.pr_approve"),
    ),
    (
        "post",
        "/api/v1/applications/{id}/hearing/notice",
        Some("application.pr_conclusion"),
    ),
    (
        "post",
        "/api/v1/applications/{id}/hearing",
        Some("application.pr_conclusion"),
    ),
    (
        "post",
        "/api/v1/applications/{id}/hearing/position",
        Some("application.pr_conclusion"),
    ),
    (
        "post",
        "/api/v1/applications/{id}/annulment",
        Some("application.pr_conclusion"),
    ),
    (
        "post",
        "/api/v1/applications/{id}/transfer",
        Some("application.pr_transfer"),
    ),
    ("get", "/api/v1/outages", Some("outages.read")),
    ("post", "/api/v1/outage-acts", Some("outage_act.sign")),
    ("get", "/api/v1/outage-acts/{id}", Some("outage_act.read")),
    (
        "post",
        "/api/v1/outage-acts/{id}/countersignature",
        Some("outage_act.countersign"),
    ),
    ("get", "/api/v1/admin/law-data", Some("law_data.read")),
    ("post", "/api/v1/admin/law-data/{kind}", Some("law_data.load")),
    ("post", "/api/v1/admin/clock", Some("clock.move")),
    ("get", "/api/v1/monitoring/deliveries", Some("deliveries.read")),
    ("get", "/api/v1/applications", Some("application.read")),
    ("get", "/api/v1/applications/{id}/access-log", Some("access_log.read")),
    ("get", "/api/v1/openapi.json", None),
    ("get", "/api/v1/applications/{id}/documents", Some("application.read")),
    (
        "post",
        "/api/v1/applications/{id}/documents/application",
        Some("application.read"),
    ),
    ("get", "/api/v1/documents/{id}", Some("application.read")),
    ("get", "/api/v1/documents/{id}/signature", Some("application.read")),
    // The public check of a document: no token, rate-limited (the receipt's code and number).
    ("get", "/api/v1/verify/{code}", None),
    ("post", "/api/v1/verify", None),
    ("get", "/.well-known/koshi/document-keys.json", None),
    ("get", "/api/v1/journal", Some("journal.read")),
    ("post", "/api/v1/session", Some("session")),
    ("get", "/api/v1/session", Some("session")),
    ("delete", "/api/v1/session", Some("session")),
    // The inviting party's ЭЦП sign-in: no token; unsigned, it is refused (422) whoever calls.
    ("post", "/api/v1/portal/sessions", Some("session")),
    ("get", "/health", None),
];

/// The status, and whether it is the matrix refusing (403 `forbidden`), as opposed to another
/// rule (e.g. п. 15's approval authority, 403 `no_approval_authority`).
async fn call(t: &TestApp, method: &str, path: &str, role: Option<&str>, body: &Value) -> u16 {
    let (s, code) = call_code(t, method, path, role, body).await;
    if s == 403 && code != "forbidden" { 4030 } else { s }
}

async fn call_code(t: &TestApp, method: &str, path: &str, role: Option<&str>, body: &Value) -> (u16, String) {
    let url = format!("{}{path}", t.base);
    let mut r = match method {
        "post" => t
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body).unwrap()),
        _ => t.http.get(url),
    };
    if let Some(role) = role {
        r = r.bearer_auth(&t.tokens[role]);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    (status, v["code"].as_str().unwrap_or("").to_string())
}

async fn every_route_and_role_follows_the_permission_matrix(t: &TestApp) {
    // The table covers every documented route.
    let (_, doc) = t.get("", "/api/v1/openapi.json").await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            assert!(
                ROUTES.iter().any(|(m, p, _)| m == method && p == path),
                "{method} {path} is not in the matrix test"
            );
        }
    }
    let case = t.file_and_process(&t.request("FA1234567", "labour_contract")).await;
    let id = case["id"].as_str().unwrap();
    let receipt_code = case["receipt"]["document"]["code"].as_str().unwrap().to_string();
    let receipt_number = case["receipt"]["number"].as_str().unwrap().to_string();
    let holder_iin = t.request("FA1234567", "labour_contract").immigrant.iin.unwrap();
    let authz = &t.app.service.authz;
    let mut pairs = 0;
    for (method, route, action) in ROUTES {
        let path = route.replace("{id}", id).replace("{code}", &receipt_code);
        let body = match *route {
            "/api/v1/applications" => {
                let mut b = serde_json::to_value(t.request("751234567", "labour_contract")).unwrap();
                b["channel"] = Value::Null; // the role's own channel
                b
            }
            r if r.ends_with("/decision") => json!({"action": "confirm"}),
            r if r.ends_with("/duplicates") => json!({"reason": "lost", "statement": "утерян"}),
            r if r.ends_with("/answers") => json!({"agency": "bank", "outcome": "positive"}),
            r if r.ends_with("/conclusion") => json!({"outcome": "issue"}),
            r if r.ends_with("/hearing/notice") => json!({"hearing_on": "2026-02-03"}),
            r if r.ends_with("/hearing") => json!({"position": "не согласен", "result": "refuse"}),
            r if r.ends_with("/hearing/position") => json!({"position": "не согласен"}),
            r if r.ends_with("/annulment") => json!({"grounds": [{"check": "art_49", "detail": "x"}]}),
            r if r.ends_with("/transfer") => json!({"new_address": "г. Алматы"}),
            "/api/v1/verify" => json!({"number": receipt_number, "iin": holder_iin}),
            _ => Value::Null,
        };
        // People's sessions: sign-in needs no token (a bad body is 422); the rest needs a session
        // cookie, which no API token replaces.
        if *action == Some("session") {
            let expected = if *method == "post" { 422 } else { 401 };
            assert_eq!(
                call(t, method, &path, None, &json!({})).await,
                expected,
                "{method} {route}"
            );
            for role in koshi::api::ROLES {
                assert_eq!(
                    call(t, method, &path, Some(role), &json!({})).await,
                    expected,
                    "{role} {method} {route}"
                );
            }
            pairs += 1 + koshi::api::ROLES.len();
            continue;
        }
        // Without a token.
        let s = call(t, method, &path, None, &body).await;
        match action {
            Some(_) => assert_eq!(s, 401, "{method} {route} without a token"),
            None => assert_eq!(s, 200, "{method} {route} is public"),
        }
        pairs += 1;
        for role in koshi::api::ROLES {
            let s = call(t, method, &path, Some(role), &body).await;
            let allowed = action.is_none_or(|a| {
                authz
                    .matrix()
                    .iter()
                    .any(|(r, act, scope)| r == role && act == a && scope.is_some())
            });
            // The case was filed at ALM-01's desk: the ЦОН branch and the portal party did not
            // file it, so the role may act but this case is outside its reach (scope tests below).
            let out_of_reach = route.contains("{id}") && matches!(role, "con_operator" | "portal");
            if allowed && out_of_reach {
                assert!(
                    s == 403 || s == 404,
                    "{role} {method} {route}: {s}, but the case is not its own"
                );
            } else if allowed {
                assert!(
                    s != 401 && s != 403,
                    "{role} {method} {route}: {s}, but the matrix allows it"
                );
            } else {
                assert_eq!(s, 403, "{role} {method} {route}: the matrix forbids it");
            }
            pairs += 1;
        }
    }
    assert_eq!(pairs, ROUTES.len() * (koshi::api::ROLES.len() + 1));
}
on_both!(
    route_matrix,
    super::Options::default(),
    every_route_and_role_follows_the_permission_matrix
);

async fn officers_see_only_the_cases_of_units_they_serve(t: &TestApp) {
    let case = t.file_and_process(&t.request("FA1234567", "labour_contract")).await;
    let id = case["id"].as_str().unwrap();
    let store = &t.app.service.store;
    let (_, other) = koshi::app::issue_token(store, "officer", "ALM-02", "t").await.unwrap();
    let (_, head) = koshi::app::issue_token(store, "officer", "DP-ALM", "t").await.unwrap();
    let (_, auditor) = koshi::app::issue_token(store, "auditor", "MVD", "t").await.unwrap();
    let auditor2 = auditor.clone();
    let status = |token: String| {
        let url = format!("{}/api/v1/applications/{id}", t.base);
        let http = t.http.clone();
        async move { http.get(url).bearer_auth(token).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(other.clone()).await, 403, "another district's officer");
    assert_eq!(status(head).await, 200, "the department serves its districts");
    assert_eq!(status(auditor2).await, 200, "auditors read every unit");
    // Nor may the other district decide it.
    let r = t
        .http
        .post(format!("{}/api/v1/applications/{id}/decision", t.base))
        .bearer_auth(&other)
        .header("content-type", "application/json")
        .body(r#"{"action":"confirm"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // A ЦОН operator files for a police body; the case is that body's, and the operator still
    // reads what it filed.
    let (_, con) = koshi::app::issue_token(store, "con_operator", "CON-ALM-01", "t")
        .await
        .unwrap();
    let mut req = t.request("751234567", "labour_contract");
    req.channel = None;
    req.police_unit = Some("ALM-02".into());
    let r = t
        .http
        .post(format!("{}/api/v1/applications", t.base))
        .bearer_auth(&con)
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let v: Value = r.json().await.unwrap();
    let cid = v["id"].as_str().unwrap();
    let r = t
        .http
        .get(format!("{}/api/v1/applications/{cid}", t.base))
        .bearer_auth(&con)
        .send()
        .await
        .unwrap();
    let case: Value = r.json().await.unwrap();
    assert_eq!(case["unit"], "ALM-02");
    assert_eq!(status(t.tokens["officer"].clone()).await, 200);
    let r = t
        .http
        .get(format!("{}/api/v1/applications/{cid}", t.base))
        .bearer_auth(&t.tokens["officer"])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403, "ALM-01 does not serve ALM-02");
    req.police_unit = Some("CON-ALM-01".into());
    let r = t
        .http
        .post(format!("{}/api/v1/applications", t.base))
        .bearer_auth(&con)
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422, "a ЦОН branch does not decide cases");
    // Deliveries (permit numbers, dates) are read case by case within the units served.
    let deliveries = |token: String, query: String| {
        let url = format!("{}/api/v1/monitoring/deliveries{query}", t.base);
        let http = t.http.clone();
        async move {
            let r = http.get(url).bearer_auth(token).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = deliveries(other.clone(), format!("?application_id={id}")).await;
    assert_eq!(s, 403, "another district's officer reads no delivery of the case: {v}");
    let (s, v) = deliveries(other, String::new()).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("application_id_required")), "{v}");
    let (s, v) = deliveries(t.tokens["officer"].clone(), format!("?application_id={id}")).await;
    assert_eq!(s, 200, "{v}");
    assert!(!v.as_array().unwrap().is_empty());
    let (s, _) = deliveries(auditor, String::new()).await;
    assert_eq!(s, 200, "audit reads every delivery");
}
on_both!(
    unit_scope,
    super::Options::default(),
    officers_see_only_the_cases_of_units_they_serve
);

async fn the_audit_trail_of_real_use_verifies(t: &TestApp) {
    for doc in ["FA1234567", "751234567", "AB7654321"] {
        let case = t.file_and_process(&t.request(doc, "labour_contract")).await;
        assert!(case["id"].is_string());
    }
    let r = t.app.service.store.verify_audit().await.unwrap();
    assert!(r.first_broken.is_none(), "{r:?}");
    // intake + decision or proposal for each, plus the reads of the three cases.
    assert!(r.entries >= 8, "{r:?}");
}
on_both!(
    audit_real_use,
    super::Options::default(),
    the_audit_trail_of_real_use_verifies
);

#[tokio::test]
async fn responses_carry_security_headers() {
    let t = crate::harness::spawn(crate::harness::Backend::Sqlite, Options::default())
        .await
        .unwrap();
    for path in ["/health", "/api/v1/outages", "/api/v1/nowhere"] {
        let r = t.http.get(format!("{}{path}", t.base)).send().await.unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'"),
            "{path}"
        );
    }
    t.done().await;
}

/// A request without a token from the client `ip` (as the trusted proxy in front names it).
async fn from_client(t: &crate::harness::TestApp, path: &str, ip: &str) -> reqwest::Response {
    t.http
        .get(format!("{}{path}", t.base))
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn public_endpoints_and_bad_tokens_are_rate_limited_per_client() {
    // Clients told apart by what the proxy in front (here: this machine) says they are.
    let t = crate::harness::spawn(
        crate::harness::Backend::Sqlite,
        Options {
            trusted_proxies: vec!["127.0.0.1".into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let limit = koshi::accounts::PUBLIC_REQUESTS_PER_MINUTE;
    for i in 0..limit {
        let r = from_client(&t, "/health", "10.9.8.7").await;
        assert_eq!(r.status().as_u16(), 200, "request {i}");
    }
    let r = from_client(&t, "/health", "10.9.8.7").await;
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.headers().get("retry-after").is_some());
    // Another client is not affected; token probing counts too.
    let r = from_client(&t, "/health", "10.9.8.8").await;
    assert_eq!(r.status().as_u16(), 200);
    let mut last = 0;
    for _ in 0..=limit {
        let r = t
            .http
            .get(format!("{}/api/v1/outages", t.base))
            .header("x-forwarded-for", "10.9.8.9")
            .bearer_auth("ksh_guess")
            .send()
            .await
            .unwrap();
        last = r.status().as_u16();
    }
    assert_eq!(last, 429);
    // Checking documents needs no token and is limited per client all the same, on the page and
    // in the API alike (a made-up code is "not found" until the client's limit, then 429 as a
    // problem document); another client still checks.
    let mut seen = Vec::new();
    for i in 0..=limit {
        let path = if i % 2 == 0 {
            "/verify/ZZZZZ-ZZZZZ-ZZZZZ"
        } else {
            "/api/v1/verify/ZZZZZ-ZZZZZ-ZZZZZ"
        };
        let r = from_client(&t, path, "10.9.8.10").await;
        seen.push(r.status().as_u16());
        if i == limit {
            let p: serde_json::Value = r.json().await.unwrap();
            assert_eq!(p["status"], 429, "{p}");
        }
    }
    assert!(seen[..limit as usize].iter().all(|s| *s == 404), "{seen:?}");
    assert_eq!(seen[limit as usize], 429);
    let r = from_client(&t, "/api/v1/verify/ZZZZZ-ZZZZZ-ZZZZZ", "10.9.8.11").await;
    assert_eq!(r.status().as_u16(), 404);
    t.done().await;
}
