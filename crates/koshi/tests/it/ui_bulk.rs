//! Bulk confirmation from the work queue (issue 17 item 4): an officer confirms clean cases
//! together with one reason; a case whose proposal is a refusal is left for its own page; a
//! missing reason or a forged form changes nothing.

use serde_json::Value;

use crate::harness::{Options, TestApp};
use crate::on_both;
use crate::pr::person;

async fn post_form(t: &TestApp, who: &(String, String), body: String) -> (u16, String) {
    let r = t
        .http
        .post(format!("{}/ui/queue/confirm", t.base))
        .header("cookie", &who.0)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn case(t: &TestApp, id: &str) -> Value {
    t.get("officer", &format!("/api/v1/applications/{id}")).await.1
}

/// Clean cases wait for an officer (no duty officer forms them).
fn no_duty_officer() -> Options {
    Options {
        duty_officers: false,
        ..Options::default()
    }
}

async fn an_officer_confirms_clean_cases_together(t: &TestApp) {
    let mut ids = Vec::new();
    for doc in ["FA1234567", "751234567", "AB7654321"] {
        let c = t.file_and_process(&t.request(doc, "labour_contract")).await;
        ids.push(c["id"].as_str().unwrap().to_string());
    }
    for (id, outcome) in ids.iter().zip(["issued", "issued", "refused"]) {
        let v = case(t, id).await;
        assert_eq!(v["status"], "awaiting_confirmation", "{v}");
        assert_eq!(v["decision"]["proposed"]["outcome"], outcome, "{v}");
    }
    let officer = person(t, "bulk.officer", "other", "ALM-01").await;
    let r = t
        .http
        .get(format!("{}/ui/queue", t.base))
        .header("cookie", &officer.0)
        .send()
        .await
        .unwrap();
    let queue = r.text().await.unwrap();
    assert!(queue.contains("Подтвердить выбранные"), "{queue}");
    assert!(queue.contains(&format!("value=\"{}\"", ids[0])));
    let picked = ids.iter().map(|i| format!("id={i}")).collect::<Vec<_>>().join("&");

    // No reason, or a forged form: refused, nothing decided.
    let (s, _) = post_form(t, &officer, format!("csrf={}&{picked}&comment=", officer.1)).await;
    assert_eq!(s, 422);
    let (s, _) = post_form(t, &officer, format!("csrf=forged&{picked}&comment=Проверки+чисты")).await;
    assert_eq!(s, 403);
    // A control character in the reason (a NUL was a 500 on PostgreSQL through the API) is
    // refused as the API refuses it, naming the field.
    let (s, page) = post_form(
        t,
        &officer,
        format!("csrf={}&{picked}&comment=Проверки%00чисты", officer.1),
    )
    .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("control character"), "{page}");
    for id in &ids {
        assert_eq!(case(t, id).await["status"], "awaiting_confirmation");
    }

    // The two clean cases are issued, each its own act with the reason; the third stays.
    let (s, page) = post_form(
        t,
        &officer,
        format!("csrf={}&{picked}&comment=Проверки+чисты", officer.1),
    )
    .await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("Подтверждено: 2 из 3"), "{page}");
    assert!(page.contains("не бесспорное дело"), "{page}");
    for id in &ids[..2] {
        let v = case(t, id).await;
        assert_eq!(v["status"], "issued", "{v}");
        assert_eq!(
            v["decision"]["comment"], "Проверки чисты",
            "the act carries the reason: {v}"
        );
        let by_officer = v["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "decision.issued")
            .filter(|e| e["actor"].as_str().is_some_and(|a| a.contains(":user:")))
            .count();
        assert_eq!(by_officer, 1, "formed by the officer's account: {v}");
    }
    assert_eq!(case(t, &ids[2]).await["status"], "awaiting_confirmation");
}

on_both!(
    bulk_confirmation,
    super::no_duty_officer(),
    an_officer_confirms_clean_cases_together
);
