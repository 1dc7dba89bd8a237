//! The act of failure (п. 9-1 абз. 13 пп. 1; issue 14 item 2): a record Koshi keeps, signed by
//! the ЦОН and countersigned by the police body, naming a journaled outage and the earlier
//! timely application; a late filing of the same person names it, once. On SQLite and PostgreSQL.

use koshi_registries::RegistryKind;
use serde_json::{Value, json};

use crate::harness::TestApp;
use crate::on_both;

async fn as_token(t: &TestApp, token: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let url = format!("{}{path}", t.base);
    let r = match body {
        Some(b) => t.http.post(url).bearer_auth(token).json(b),
        None => t.http.get(url).bearer_auth(token),
    };
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn p9_1_an_act_of_failure_is_kept_signed_and_used_once(t: &TestApp) {
    let sim = t.app.sim.as_ref().unwrap();
    let t0 = t.now();
    // «Беркут» fails for three hours on Monday 2 February; the ЦОН takes the application of a
    // person whose stay ends on Tuesday 3 February, in time.
    sim.set_down(
        RegistryKind::Berkut,
        Some((t0, t0.checked_add(jiff::SignedDuration::from_hours(3)).unwrap())),
    );
    let mut req = t.request("FA1234567", "labour_contract");
    req.channel = Some("con".into());
    req.police_unit = Some("ALM-01".into());
    req.immigrant.stay_until = Some("2026-02-03".parse().unwrap());
    for d in &mut req.documents {
        d.attachment = Some(koshi::model::AttachmentInput {
            media_type: "application/pdf".into(),
            content_base64: Some(base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("%PDF {}", d.kind),
            )),
            sha256: None,
        });
    }
    let con = t.tokens["con_operator"].clone();
    let (s, v) = as_token(
        t,
        &con,
        "/api/v1/applications",
        Some(&serde_json::to_value(&req).unwrap()),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let earlier = v["id"].as_str().unwrap().to_string();
    t.app.service.settle().await;
    let (_, o) = t.get("officer", "/api/v1/outages").await;
    let outage = o[0]["id"].as_str().unwrap().to_string();
    let body = json!({"outage_id": outage, "earlier_application_id": earlier});
    // Not yet in the special journal (less than an hour): no act rests on it.
    let (s, p) = as_token(t, &con, "/api/v1/outage-acts", Some(&body)).await;
    assert_eq!((s, p["code"].as_str()), (409, Some("outage_not_journaled")), "{p}");
    for _ in 0..8 {
        t.advance(10);
        t.app.service.tick().await.unwrap();
    }
    // Only the ЦОН that took the application signs; an officer does not. An act names an outage
    // of the journal and an application Koshi holds. None of these refusals writes anything.
    let before = t.counts().await;
    let (s, p) = t.post("officer", "/api/v1/outage-acts", &body).await;
    assert_eq!(s, 403, "{p}");
    for (bad, code) in [
        (
            json!({"outage_id": "no-such-outage", "earlier_application_id": earlier}),
            "unknown_outage",
        ),
        (
            json!({"outage_id": outage, "earlier_application_id": "no-such-case"}),
            "unknown_application",
        ),
    ] {
        let (s, p) = as_token(t, &con, "/api/v1/outage-acts", Some(&bad)).await;
        assert!((400..500).contains(&s), "{p}");
        assert_eq!(p["code"], code, "{p}");
    }
    assert_eq!(t.counts().await, before);
    let (s, act) = as_token(t, &con, "/api/v1/outage-acts", Some(&body)).await;
    assert_eq!(s, 201, "{act}");
    assert_eq!(act["failure_on"], "2026-02-02");
    assert_eq!(act["police_unit"], "ALM-01");
    assert!(act["police_signed_at"].is_null());
    let act_id = act["id"].as_str().unwrap().to_string();
    // One act per earlier application: a second would open a second late filing.
    let (s, p) = as_token(t, &con, "/api/v1/outage-acts", Some(&body)).await;
    assert_eq!((s, p["code"].as_str()), (409, Some("outage_act_exists")), "{p}");
    // The stay has ended; on Thursday the person files again, naming the act.
    t.clock.set("2026-02-05T10:00:00+05:00".parse().unwrap());
    let mut late = t.request("FA1234567", "labour_contract");
    late.immigrant.stay_until = Some("2026-02-03".parse().unwrap());
    let mut late = serde_json::to_value(&late).unwrap();
    late["late_exception"] = json!({"kind": "outage_act", "act_id": act_id});
    let (_, v) = t.post("officer", "/api/v1/applications", &late).await;
    assert_eq!(v["receipt"]["grounds"][0]["code"], "outage_act_unsigned", "{v}");
    // The police body countersigns (another district cannot); then the act serves the filing.
    let (_, alm02) = koshi::app::issue_token(&t.app.service.store, "officer", "ALM-02", "t")
        .await
        .unwrap();
    let path = format!("/api/v1/outage-acts/{act_id}/countersignature");
    let (s, _) = as_token(t, &alm02, &path, Some(&json!({}))).await;
    assert_eq!(s, 403);
    let (s, signed) = t.post("officer", &path, &json!({})).await;
    assert_eq!(s, 200, "{signed}");
    assert!(signed["police_signed_at"].is_string());
    // Countersigned once: a second signature changes nothing.
    let before = t.counts().await;
    let (s, p) = t.post("officer", &path, &json!({})).await;
    assert_eq!((s, p["code"].as_str()), (409, Some("already_countersigned")), "{p}");
    assert_eq!(t.counts().await, before);
    let (s, v) = t.post("officer", "/api/v1/applications", &late).await;
    assert_eq!((s, v["receipt"]["type"].as_str()), (201, Some("acceptance")), "{v}");
    let (_, seen) = t.get("officer", &format!("/api/v1/outage-acts/{act_id}")).await;
    assert_eq!(seen["used_by"], v["id"]);
    // Once only; and never for another person.
    let (_, v) = t.post("officer", "/api/v1/applications", &late).await;
    assert_eq!(v["receipt"]["grounds"][0]["code"], "outage_act_used", "{v}");
    let mut other = t.request("751234567", "labour_contract");
    other.immigrant.stay_until = Some("2026-02-03".parse().unwrap());
    let mut other = serde_json::to_value(&other).unwrap();
    other["late_exception"] = json!({"kind": "outage_act", "act_id": act_id});
    let (_, v) = t.post("officer", "/api/v1/applications", &other).await;
    assert_eq!(
        v["receipt"]["grounds"][0]["code"], "outage_act_of_another_person",
        "{v}"
    );
    // A made-up act is a malformed filing.
    t.app.service.settle().await; // the accepted filing's checks, in the background
    let before = t.counts().await;
    late["late_exception"] = json!({"kind": "outage_act", "act_id": "no-such-act"});
    let (s, p) = t.post("officer", "/api/v1/applications", &late).await;
    assert_eq!((s, p["code"].as_str()), (422, Some("unknown_outage_act")), "{p}");
    assert_eq!(t.counts().await, before);
}
on_both!(
    act_of_failure,
    crate::harness::Options::default(),
    p9_1_an_act_of_failure_is_kept_signed_and_used_once
);
