//! The RVP service over HTTP (chapter 2), continued: outages and monitoring, officer confirmation, idempotency, copies, bad requests, the OpenAPI document, restarts and the filing instant. On SQLite and PostgreSQL.

use crate::harness::{Options, TestApp};
use crate::on_both;
use base64::Engine;
use koshi_registries::RegistryKind;
use serde_json::{Value, json};

use crate::rvp::*;

// ------------------------------------------------------------------ outages and monitoring

async fn p9_5_a_registry_down_for_two_hours_delays_but_never_fails_the_case(t: &TestApp) {
    let sim = t.app.sim.as_ref().unwrap();
    let t0 = t.now();
    sim.set_down(
        RegistryKind::Berkut,
        Some((t0, t0.checked_add(jiff::SignedDuration::from_hours(2)).unwrap())),
    );
    let case = t.file_and_process(&t.request("FA1234567", "labour_contract")).await;
    let id = case["id"].as_str().unwrap().to_string();
    assert_eq!(case["status"], "checking");
    assert_eq!(check(&case, "border_crossings")["state"], "waiting");
    assert!(
        check(&case, "border_crossings")["last_error"]
            .as_str()
            .unwrap()
            .contains("berkut")
    );
    assert_eq!(check(&case, "fingerprints")["state"], "clear");
    let (_, o) = t.get("officer", "/api/v1/outages").await;
    assert_eq!(o[0]["registry"], "berkut");
    assert!(o[0]["journaled_at"].is_null(), "not journaled before an hour: {o}");
    // Simulated time passes in 10-minute steps; retries follow their backoff.
    let mut journaled_seen = false;
    for _ in 0..14 {
        t.advance(10);
        t.app.service.tick().await.unwrap();
        let (_, o) = t.get("officer", "/api/v1/outages").await;
        journaled_seen |= o[0]["journaled_at"].is_string();
    }
    assert!(journaled_seen);
    let case = t.case(&id).await;
    assert_eq!(case["status"], "issued", "{case}");
    assert!(check(&case, "border_crossings")["attempts"].as_i64().unwrap() >= 3);
    let (_, o) = t.get("officer", "/api/v1/outages").await;
    let o = &o.as_array().unwrap()[0];
    assert!(o["ended_at"].is_string() && o["journaled_at"].is_string(), "{o}");
    assert_eq!(o["citation"], "п. 9-5");
    // A short outage (under an hour) is not journaled.
    let t1 = t.now();
    sim.set_down(
        RegistryKind::Fingerprints,
        Some((t1, t1.checked_add(jiff::SignedDuration::from_mins(20)).unwrap())),
    );
    let case = t.file_and_process(&t.request("751234567", "labour_contract")).await;
    for _ in 0..4 {
        t.advance(10);
        t.app.service.tick().await.unwrap();
    }
    assert_eq!(t.case(case["id"].as_str().unwrap()).await["status"], "issued");
    let (_, o) = t.get("officer", "/api/v1/outages").await;
    let fp = o
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["registry"] == "fingerprints")
        .unwrap();
    assert!(fp["ended_at"].is_string() && fp["journaled_at"].is_null(), "{fp}");
}

on_both!(
    registry_outage,
    super::opts(),
    p9_5_a_registry_down_for_two_hours_delays_but_never_fails_the_case
);

async fn p9_4_monitoring_messages_are_delivered_at_least_once_with_visible_state(t: &TestApp) {
    t.app.sink.set_failing("monitoring", true);
    let case = t.file_and_process(&t.request("FA1234567", "labour_contract")).await;
    let id = case["id"].as_str().unwrap();
    let (_, d) = t
        .get("auditor", &format!("/api/v1/monitoring/deliveries?application_id={id}"))
        .await;
    let monitoring: Vec<&Value> = d
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["topic"] == "monitoring")
        .collect();
    assert_eq!(monitoring.len(), 2);
    assert!(
        monitoring
            .iter()
            .all(|m| m["state"] == "pending" && m["attempts"] == 1 && m["last_error"].is_string()),
        "{d}"
    );
    t.app.sink.set_failing("monitoring", false);
    t.advance(5);
    t.app.service.tick().await.unwrap();
    let (_, d) = t
        .get("auditor", &format!("/api/v1/monitoring/deliveries?application_id={id}"))
        .await;
    assert!(d.as_array().unwrap().iter().all(|m| m["state"] == "delivered"), "{d}");
    let stages: Vec<String> = t
        .app
        .sink
        .received()
        .iter()
        .filter(|(topic, _, p)| topic == "monitoring" && p["application_id"] == id)
        .map(|(_, _, p)| p["stage"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(stages, ["accepted", "issued"]);
}

on_both!(
    monitoring,
    super::opts(),
    p9_4_monitoring_messages_are_delivered_at_least_once_with_visible_state
);

// ------------------------------------------------------------------ officer, duplicates, idempotency

async fn officer_confirms_a_clean_case_when_the_policy_requires(t: &TestApp) {
    let case = t.file_and_process(&t.request("FA1234567", "labour_contract")).await;
    assert_eq!(case["status"], "awaiting_confirmation");
    assert_eq!(case["decision"]["proposed"]["outcome"], "issued");
    let id = case["id"].as_str().unwrap();
    let (s, p) = t
        .post(
            "con_operator",
            &format!("/api/v1/applications/{id}/decision"),
            &json!({"action": "confirm"}),
        )
        .await;
    assert_eq!(s, 403, "{p}");
    let (s, p) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/decision"),
            &json!({"action": "maybe"}),
        )
        .await;
    assert_eq!((s, p["code"].as_str()), (422, Some("unknown_action")));
    let (s, d) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/decision"),
            &json!({"action": "confirm"}),
        )
        .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["status"], "issued");
    assert!(
        d["decision"]["decided_by"]
            .as_str()
            .unwrap()
            .starts_with("officer@ALM-01")
    );
    // п. 9-2: duplicate of a lost permit.
    let (s, dup) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/duplicates"),
            &json!({"reason": "lost", "statement": "Утерян в транспорте"}),
        )
        .await;
    assert_eq!(s, 201, "{dup}");
    assert!(dup["duplicate_number"].as_str().unwrap().ends_with("-D1"));
    assert_eq!(dup["citation"], "п. 9-2");
    let (s, _) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/duplicates"),
            &json!({"reason": "stolen", "statement": "x"}),
        )
        .await;
    assert_eq!(s, 422);
}

on_both!(
    officer_confirmation,
    super::manual(),
    officer_confirms_a_clean_case_when_the_policy_requires
);

async fn a_retried_post_with_the_same_idempotency_key_creates_one_case(t: &TestApp) {
    let body = serde_json::to_vec(&t.request("FA1234567", "labour_contract")).unwrap();
    let (s1, a) = t
        .post_raw("officer", "/api/v1/applications", body.clone(), Some("key-42"))
        .await;
    let (s2, b) = t
        .post_raw("officer", "/api/v1/applications", body.clone(), Some("key-42"))
        .await;
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(a["id"], b["id"]);
    assert_eq!(t.app.service.store.count_applications().await.unwrap(), 1);
    // Concurrent retries too.
    let mut handles = Vec::new();
    for _ in 0..8 {
        let http = t.http.clone();
        let url = format!("{}/api/v1/applications", t.base);
        let token = t.tokens["officer"].clone();
        let body = body.clone();
        handles.push(tokio::spawn(async move {
            let r = http
                .post(url)
                .bearer_auth(token)
                .header("Idempotency-Key", "key-43")
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let v: Value = r.json().await.unwrap();
            v["id"].as_str().unwrap().to_string()
        }));
    }
    let mut ids = Vec::new();
    for h in handles {
        ids.push(h.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(t.app.service.store.count_applications().await.unwrap(), 2);
    // The same key with another body is refused.
    let other = serde_json::to_vec(&t.request("751234567", "labour_contract")).unwrap();
    let (s, p) = t
        .post_raw("officer", "/api/v1/applications", other, Some("key-42"))
        .await;
    assert_eq!((s, p["code"].as_str()), (422, Some("idempotency_key_reused")));
}

on_both!(
    idempotency,
    super::opts(),
    a_retried_post_with_the_same_idempotency_key_creates_one_case
);

// ------------------------------------------------------------------ electronic copies

/// An electronic copy filed with its content is stored once, content-addressed: the filing kept
/// with the case names it by its SHA-256 and does not hold the content again. The case is then
/// checked and decided from that filing as from any other.
async fn electronic_copies_are_stored_once_by_digest(t: &TestApp) {
    let content = b"%PDF-1.4 employment contract".to_vec();
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&content));
    let mut req = serde_json::to_value(t.request("FA1234567", "labour_contract")).unwrap();
    req["documents"][0]["attachment"] = json!({
        "media_type": "application/pdf",
        "content_base64": base64::engine::general_purpose::STANDARD.encode(&content),
    });
    let (s, v) = t.post("officer", "/api/v1/applications", &req).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().unwrap();
    let store = &t.app.service.store;
    assert_eq!(
        store.attachment_size(&digest).await.unwrap(),
        Some(content.len() as i64)
    );
    let filed: Value = serde_json::from_str(&store.application(id).await.unwrap().unwrap().data).unwrap();
    let attachment = &filed["documents"][0]["attachment"];
    assert_eq!(attachment["sha256"], json!(digest), "{filed}");
    assert!(attachment.get("content_base64").is_none_or(Value::is_null), "{filed}");
    assert_eq!(attachment["media_type"], "application/pdf");
    t.app.service.tick().await.unwrap();
    assert_eq!(t.case(id).await["status"], "issued");
}

on_both!(
    electronic_copies,
    super::opts(),
    electronic_copies_are_stored_once_by_digest
);

// ------------------------------------------------------------------ bad requests write nothing

async fn bad_requests_get_a_problem_and_write_nothing(t: &TestApp) {
    let before = t.counts().await;
    let good = serde_json::to_value(t.request("FA1234567", "labour_contract")).unwrap();
    let mut cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("officer", b"{\"kind\": \"rvp\",".to_vec(), 400, "malformed_json"),
        ("officer", b"not json".to_vec(), 400, "malformed_json"),
        ("officer", b"{\"kind\": \"rvp\"}".to_vec(), 422, "invalid_body"),
    ];
    let mut bad_iin = good.clone();
    bad_iin["immigrant"]["iin"] = json!("900315300124");
    let mut bad_party_iin = good.clone();
    bad_party_iin["inviting_party"]["iin"] = json!("12345");
    let mut unknown_purpose = good.clone();
    unknown_purpose["purpose"] = json!("tourism");
    let mut bad_date = good.clone();
    bad_date["immigrant"]["birth_date"] = json!("1990-02-30");
    let mut unknown_field = good.clone();
    unknown_field["surprise"] = json!(1);
    let mut big = good.clone();
    let huge = base64::engine::general_purpose::STANDARD.encode(vec![7u8; 10 * 1024 * 1024 + 1]);
    big["documents"][0]["attachment"] = json!({"media_type": "application/pdf", "content_base64": huge});
    let mut pr = good.clone();
    pr["kind"] = json!("citizenship");
    // п. 9-2 абз. 4, п. 14 пп. 5: a desk filing's results go to the desk's print; the filer
    // cannot send them to a portal cabinet.
    let mut redirected = good.clone();
    redirected["deliver_to"] = json!("portal_cabinet");
    for (v, status, code) in [
        (bad_iin.clone(), 422, "invalid_iin"),
        (bad_party_iin, 422, "invalid_iin"),
        (unknown_purpose, 422, "unknown_purpose"),
        (bad_date.clone(), 422, "invalid_date"),
        (unknown_field, 422, "invalid_body"),
        (big, 413, "attachment_too_large"),
        (pr, 422, "unsupported_kind"),
        (redirected, 422, "deliver_to_not_allowed"),
    ] {
        cases.push(("officer", serde_json::to_vec(&v).unwrap(), status, code));
    }
    let good_bytes = serde_json::to_vec(&good).unwrap();
    cases.push(("", good_bytes.clone(), 401, "unauthorized"));
    cases.push(("ksh_not_a_token", good_bytes.clone(), 401, "unauthorized"));
    cases.push(("auditor", good_bytes, 403, "forbidden"));
    for (role, body, status, code) in cases {
        let (s, p) = t.post_raw(role, "/api/v1/applications", body, None).await;
        assert_eq!((s, p["code"].as_str().unwrap_or("")), (status, code), "{p}");
        assert_eq!(p["status"], status);
    }
    // Field errors name the field, wherever it is in the filing.
    let mut bad_document_date = good.clone();
    bad_document_date["documents"][0]["expires_on"] = json!("2026-13-01");
    let mut bad_passport_date = good.clone();
    bad_passport_date["immigrant"]["document"]["expires_on"] = json!("soon");
    for (v, code, pointer) in [
        (bad_date, "invalid_date", "/immigrant/birth_date"),
        (bad_iin, "invalid_iin", "/immigrant/iin"),
        (bad_document_date, "invalid_date", "/documents/0/expires_on"),
        (bad_passport_date, "invalid_date", "/immigrant/document/expires_on"),
    ] {
        let (s, p) = t
            .post_raw("officer", "/api/v1/applications", serde_json::to_vec(&v).unwrap(), None)
            .await;
        assert_eq!(s, 422, "{p}");
        assert_eq!(p["code"], code, "{p}");
        assert_eq!(p["errors"][0]["pointer"], pointer, "{p}");
    }
    assert_eq!(t.counts().await, before, "a malformed request wrote something");
    let (s, _) = t.get("", "/api/v1/outages").await;
    assert_eq!(s, 401);
    let (s, p) = t.get("officer", "/api/v1/applications/nope").await;
    assert_eq!((s, p["code"].as_str()), (404, Some("not_found")));
}

on_both!(
    bad_requests,
    super::opts(),
    bad_requests_get_a_problem_and_write_nothing
);

// ------------------------------------------------------------------ OpenAPI

#[tokio::test]
async fn openapi_document_is_served_and_lists_the_contract() {
    let t = crate::harness::spawn(crate::harness::Backend::Sqlite, Options::default())
        .await
        .unwrap();
    let (s, doc) = t.get("", "/api/v1/openapi.json").await;
    assert_eq!(s, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for p in [
        "/api/v1/applications",
        "/api/v1/applications/{id}",
        "/api/v1/applications/{id}/decision",
        "/api/v1/outages",
        "/api/v1/monitoring/deliveries",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    t.done().await;
}

// ------------------------------------------------------------------ crash after intake

/// Accepted, then Koshi stops before the checks run (this instance leaves them to the background
/// pass): the case shows all seven checks waiting, survives the restart, and the next pass checks
/// and issues it. Nothing accepted is ever lost between intake and decision.
async fn p9_1_a_case_accepted_before_a_stop_is_checked_after_restart(t: TestApp) -> TestApp {
    let (s, v) = t.file(&t.request("FA1234567", "labour_contract")).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let case = t.case(&id).await;
    assert_eq!(case["status"], "checking", "{case}");
    let checks = case["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 7, "{case}");
    for c in checks {
        assert_eq!(c["state"], "waiting", "{c}");
        assert_eq!(c["attempts"], 0, "{c}");
        assert!(c["citation"].as_str().unwrap().starts_with("п. 9-1"), "{c}");
    }
    let t = t.restart().await;
    assert_eq!(t.case(&id).await["status"], "checking");
    let (processed, _) = t.app.service.tick().await.unwrap();
    assert_eq!(processed, 1);
    let case = t.case(&id).await;
    assert_eq!(case["status"], "issued", "{case}");
    let checks = case["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 7);
    assert!(
        checks.iter().all(|c| c["state"] == "clear" && c["attempts"] == 1),
        "{case}"
    );
    // A second pass finds nothing due.
    assert_eq!(t.app.service.tick().await.unwrap().0, 0);
    t
}

fn deferred() -> Options {
    Options {
        process_on_intake: false,
        ..Options::default()
    }
}

mod rvp_restart {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let t = crate::harness::spawn(crate::harness::Backend::Sqlite, super::deferred())
            .await
            .unwrap();
        super::p9_1_a_case_accepted_before_a_stop_is_checked_after_restart(t)
            .await
            .done()
            .await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some(t) = crate::harness::spawn(crate::harness::Backend::Postgres, super::deferred()).await else {
            return;
        };
        super::p9_1_a_case_accepted_before_a_stop_is_checked_after_restart(t)
            .await
            .done()
            .await;
    }
}

// ------------------------------------------------------------------ the filing instant

/// The filing instant is the server's (п. 9-1, end: a filing after the stay ended is not
/// accepted): the portal and a ЦОН cannot give one, so an expired stay cannot be revived by
/// naming an earlier instant; an officer entering a paper filing received earlier gives its
/// instant only with the paper receipt and a reason, never a later one, and it is recorded.
async fn p9_1_the_filing_instant_is_the_servers(t: &TestApp) {
    let mut late = t.request("FA1234567", "labour_contract");
    late.immigrant.stay_until = Some("2026-01-30".parse().unwrap()); // ended before today (2 February)
    let before = t.counts().await;
    for (role, channel) in [("portal", "portal"), ("con_operator", "con")] {
        let mut req = late.clone();
        req.channel = Some(channel.into());
        req.filed_at = Some("2026-01-29T10:00:00+05:00".into());
        let (s, p) = t
            .post(role, "/api/v1/applications", &serde_json::to_value(&req).unwrap())
            .await;
        assert_eq!(
            (s, p["code"].as_str()),
            (422, Some("filed_at_not_allowed")),
            "{role}: {p}"
        );
        assert_eq!(p["errors"][0]["pointer"], "/filed_at");
    }
    // The desk: an earlier instant without a receipt, or a later one, is refused.
    let mut req = late.clone();
    req.filed_at = Some("2026-01-29T10:00:00+05:00".into());
    let (s, p) = t.file(&req).await;
    assert_eq!((s, p["code"].as_str()), (422, Some("paper_receipt_required")), "{p}");
    req.filed_at = Some("2026-02-03T10:00:00+05:00".into());
    req.paper_filing = Some(koshi::model::PaperFilingInput {
        receipt_number: "П-17".into(),
        reason: "received on paper during the outage".into(),
    });
    let (s, p) = t.file(&req).await;
    assert_eq!((s, p["code"].as_str()), (422, Some("filed_at_in_the_future")), "{p}");
    assert_eq!(t.counts().await, before, "refused attempts write nothing");
    // Without an instant the server's decides: the stay had ended, the filing is refused (a
    // recorded legal outcome).
    let (s, v) = t.file(&late).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["receipt"]["type"], "refusal_to_accept", "{v}");
    // A paper filing received on 29 January, before the stay ended, entered now with its receipt.
    req.filed_at = Some("2026-01-29T10:00:00+05:00".into());
    let (s, v) = t.file(&req).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["receipt"]["type"], "acceptance", "{v}");
    let case = t.case(v["id"].as_str().unwrap()).await;
    let intake = &case["events"][0];
    assert_eq!(intake["action"], "intake.accepted");
    assert_eq!(intake["detail"]["paper_filing"]["receipt_number"], "П-17");
    assert_eq!(
        intake["detail"]["paper_filing"]["reason"],
        "received on paper during the outage"
    );
    assert!(intake["actor"].as_str().unwrap().starts_with("officer@"));
}

on_both!(filing_instant, super::opts(), p9_1_the_filing_instant_is_the_servers);
