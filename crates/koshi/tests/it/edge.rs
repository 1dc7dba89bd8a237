//! Absurd or hostile input is refused at the edge with a 4xx problem naming the field, on both
//! databases, and nothing is written (issue 14 item 10).

use serde_json::{Value, json};

use crate::harness::TestApp;
use crate::on_both;

async fn raw(t: &TestApp, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let r = t
        .http
        .post(format!("{}{path}", t.base))
        .bearer_auth(&t.tokens["officer"])
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn hostile_input_is_refused_naming_the_field_and_writes_nothing(t: &TestApp) {
    let good = serde_json::to_value(t.request("FA1234567", "labour_contract")).unwrap();
    let before = t.counts().await;
    let cases: Vec<(&str, Value, u16, &str, &str)> = vec![
        (
            "NUL in a name",
            json!({"immigrant": {"surname": "IVA\u{0000}NOV"}}),
            422,
            "invalid_text",
            "/immigrant/surname",
        ),
        (
            "a 20 MiB surname",
            json!({"immigrant": {"surname": "A".repeat(20 * 1024 * 1024)}}),
            422,
            "text_too_long",
            "/immigrant/surname",
        ),
        (
            "born in 2030",
            json!({"immigrant": {"birth_date": "2030-01-01"}}),
            422,
            "implausible_date",
            "/immigrant/birth_date",
        ),
        (
            "born in 1800",
            json!({"immigrant": {"birth_date": "1800-01-01"}}),
            422,
            "implausible_date",
            "/immigrant/birth_date",
        ),
        (
            "a library card",
            json!({"immigrant": {"document": {"kind": "library_card"}}}),
            422,
            "unknown_document_kind",
            "/immigrant/document/kind",
        ),
        (
            "an instant in the future",
            json!({"filed_at": "2030-01-01T10:00:00+05:00", "paper_filing": {"receipt_number": "1", "reason": "x"}}),
            422,
            "filed_at_in_the_future",
            "/filed_at",
        ),
        (
            "an executable as a copy",
            json!({"documents": {"0": {"attachment": {"media_type": "application/pdf", "content_base64": "TVqQAAMAAAAEAAAA"}}}}),
            422,
            "attachment_not_its_media_type",
            "/documents/0/attachment",
        ),
        (
            "a document issued in 2099",
            json!({"documents": {"1": {"issued_on": "2099-01-01"}}}),
            422,
            "implausible_date",
            "/documents/1/issued_on",
        ),
        (
            "a document valid until 9999",
            json!({"documents": {"1": {"expires_on": "9999-12-31"}}}),
            422,
            "implausible_date",
            "/documents/1/expires_on",
        ),
        (
            "a date that is no day",
            json!({"documents": {"1": {"expires_on": "2027-02-29"}}}),
            422,
            "invalid_date",
            "/documents/1/expires_on",
        ),
        (
            "an unknown media type",
            json!({"documents": {"0": {"attachment": {"media_type": "application/x-msdownload", "content_base64": "TVqQAAMAAAAEAAAA"}}}}),
            422,
            "unsupported_media_type",
            "/documents/0/attachment",
        ),
    ];
    for (what, patch, status, code, pointer) in cases {
        let (s, p) = file_patched(t, &good, &patch).await;
        assert_eq!((s, p["code"].as_str()), (status, Some(code)), "{what}: {p}");
        assert_eq!(p["errors"][0]["pointer"], pointer, "{what}: {p}");
    }
    // 100,000 documents.
    let mut body = good.clone();
    body["documents"] = Value::Array(vec![json!({"kind": "passport_copy"}); 100_000]);
    let (s, p) = raw(
        t,
        "/api/v1/applications",
        "application/json",
        serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!((s, p["code"].as_str()), (422, Some("too_many_items")), "{p}");
    // A body sent as text/plain.
    let (s, p) = raw(
        t,
        "/api/v1/applications",
        "text/plain",
        serde_json::to_vec(&good).unwrap(),
    )
    .await;
    assert_eq!((s, p["code"].as_str()), (415, Some("unsupported_media_type")), "{p}");
    // NUL in the path and the query.
    for path in [
        "/api/v1/applications/a%00b",
        "/api/v1/monitoring/deliveries?application_id=a%00b",
    ] {
        let r = t
            .http
            .get(format!("{}{path}", t.base))
            .bearer_auth(&t.tokens["officer"])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{path}");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["code"], "invalid_request_target");
    }
    // NUL in the sign-in body.
    let r = t
        .http
        .post(format!("{}/api/v1/session", t.base))
        .json(&json!({"username": "a\u{0000}b", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    // A PR filing is held to the same bounds.
    let pr = crate::pr::pr_request(t, "FA1234567");
    for (patch, code, pointer) in [
        (
            json!({"applicant": {"birth_date": "2030-01-01"}}),
            "implausible_date",
            "/applicant/birth_date",
        ),
        (
            json!({"applicant": {"document": {"kind": "library_card"}}}),
            "unknown_document_kind",
            "/applicant/document/kind",
        ),
        (
            json!({"documents": {"0": {"issued_on": "2099-01-01"}}}),
            "implausible_date",
            "/documents/0/issued_on",
        ),
        (
            json!({"applicant": {"surname": "A\u{0007}"}}),
            "invalid_text",
            "/applicant/surname",
        ),
    ] {
        let (s, p) = file_patched(t, &pr, &patch).await;
        assert_eq!(
            (s, p["code"].as_str(), p["errors"][0]["pointer"].as_str()),
            (422, Some(code), Some(pointer)),
            "{p}"
        );
    }
    assert_eq!(t.counts().await, before, "nothing written");
}

/// Files `base` with `patch` merged into it, as JSON.
async fn file_patched(t: &TestApp, base: &Value, patch: &Value) -> (u16, Value) {
    let mut body = base.clone();
    merge(&mut body, patch);
    raw(
        t,
        "/api/v1/applications",
        "application/json",
        serde_json::to_vec(&body).unwrap(),
    )
    .await
}

/// Merges `patch` into `v`; an object keyed by numbers patches the array items at those indices.
fn merge(v: &mut Value, patch: &Value) {
    match (v, patch) {
        (Value::Array(items), Value::Object(p)) => {
            for (k, pv) in p {
                let i: usize = k.parse().unwrap();
                merge(&mut items[i], pv);
            }
        }
        (Value::Object(o), Value::Object(p)) => {
            for (k, pv) in p {
                match o.get_mut(k) {
                    Some(slot) if pv.is_object() => merge(slot, pv),
                    _ => {
                        o.insert(k.clone(), pv.clone());
                    }
                }
            }
        }
        (slot, pv) => *slot = pv.clone(),
    }
}

on_both!(
    hostile_input,
    crate::harness::Options::default(),
    hostile_input_is_refused_naming_the_field_and_writes_nothing
);

async fn post_as(t: &TestApp, token: &str, body: &Value) -> (u16, Value) {
    let r = t
        .http
        .post(format!("{}/api/v1/applications", t.base))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Every case has a police body (п. 5, 7, 14): a ЦОН or portal filing names it, an officer files
/// only for a body the officer's unit serves, and a non-police unit never owns a case.
async fn every_case_has_a_police_body(t: &TestApp) {
    let store = &t.app.service.store;
    let (_, con) = koshi::app::issue_token(store, "con_operator", "CON-ALM-01", "t")
        .await
        .unwrap();
    let (_, alm02) = koshi::app::issue_token(store, "officer", "ALM-02", "t").await.unwrap();
    // A token of one role at a unit of another kind is not issued: an officer at a ЦОН branch,
    // a ЦОН operator at a police body, a portal token without the party its ЭЦП proves.
    for (role, unit) in [
        ("officer", "CON-ALM-01"),
        ("con_operator", "ALM-01"),
        ("portal", "EGOV"),
    ] {
        let e = koshi::app::issue_token(store, role, unit, "t").await.unwrap_err();
        assert!(
            e.to_string().contains("kind") || e.to_string().contains("ЭЦП"),
            "{role}: {e}"
        );
    }
    let mut body = serde_json::to_value(t.request("FA1234567", "labour_contract")).unwrap();
    body["channel"] = json!("con");
    let before = t.counts().await;
    let (s, p) = post_as(t, &con, &body).await;
    assert_eq!((s, p["code"].as_str()), (422, Some("police_unit_required")), "{p}");
    assert_eq!(p["errors"][0]["pointer"], "/police_unit");
    body["police_unit"] = json!("CON-ALM-01");
    let (s, p) = post_as(t, &con, &body).await;
    assert_eq!((s, p["code"].as_str()), (422, Some("unknown_police_unit")), "{p}");
    let mut desk = serde_json::to_value(t.request("FA1234567", "labour_contract")).unwrap();
    desk["police_unit"] = json!("ALM-01");
    let (s, p) = post_as(t, &alm02, &desk).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (403, Some("forbidden")),
        "another body's officer: {p}"
    );
    assert_eq!(t.counts().await, before, "nothing written");
    // Named, the ЦОН's filing belongs to the police body, which reads and decides it.
    body["police_unit"] = json!("ALM-01");
    let (s, v) = post_as(t, &con, &body).await;
    assert_eq!(s, 201, "{v}");
    let case = t.case(v["id"].as_str().unwrap()).await;
    assert_eq!(case["unit"], "ALM-01");
}

on_both!(
    police_body,
    crate::harness::Options::default(),
    every_case_has_a_police_body
);
