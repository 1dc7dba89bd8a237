//! The ЦОН operator's hand-over list (issue 17 item 4, п. 15): the results of the branch's own
//! filings with their documents to print; an officer is refused the list, and another branch's
//! filings never appear in it.

use base64::Engine;
use serde_json::json;

use crate::harness::TestApp;
use crate::on_both;

async fn signed_in(t: &TestApp, username: &str, role: &str, unit: &str) -> String {
    crate::pr::person_with_role(t, username, role, "other", unit).await.0
}

async fn page(t: &TestApp, cookie: &str) -> (u16, String) {
    let r = t
        .http
        .get(format!("{}/ui/handover", t.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn a_branch_sees_its_results_to_hand_over(t: &TestApp) {
    // A ЦОН filing for ALM-01, issued straight through by the body's duty officer.
    let mut req = t.request("FA1234567", "labour_contract");
    req.channel = Some("con".into());
    req.police_unit = Some("ALM-01".into());
    // A ЦОН sends the electronic copies of the documents it received (п. 5).
    let mut req = serde_json::to_value(&req).unwrap();
    for d in req["documents"].as_array_mut().unwrap() {
        d["attachment"] = json!({
            "media_type": "application/pdf",
            "content_base64": base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 scanned copy"),
        });
    }
    let (s, v) = t.post("con_operator", "/api/v1/applications", &req).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    t.app.service.tick().await.unwrap();
    let case = t.case(&id).await;
    assert_eq!(case["status"], "issued", "{case}");
    let receipt = case["receipt"]["number"].as_str().unwrap().to_string();
    // A desk filing of the police body: not the branch's.
    let desk = t.file_and_process(&t.request("EC7654321", "missionary")).await;
    let desk_receipt = desk["receipt"]["number"].as_str().unwrap().to_string();

    let operator = signed_in(t, "con.operator", "con_operator", "CON-ALM-01").await;
    let (s, list) = page(t, &operator).await;
    assert_eq!(s, 200, "{list}");
    assert!(list.contains(&receipt), "{list}");
    assert!(!list.contains(&desk_receipt), "another unit's filing is not listed");
    assert!(list.contains("Выдано") && list.contains(case["decision"]["permit_number"].as_str().unwrap()));
    // The permit and the receipt, each printable in both languages.
    let docs = t
        .get("officer", &format!("/api/v1/applications/{id}/documents"))
        .await
        .1;
    for d in docs.as_array().unwrap() {
        let href = d["href"].as_str().unwrap();
        assert!(
            list.contains(&format!("{href}?lang=ru")) && list.contains(&format!("{href}?lang=kk")),
            "{list}"
        );
    }
    assert!(docs.as_array().unwrap().len() >= 2, "{docs}");
    assert!(list.contains("href=\"/ui/handover\""), "the header links the list");

    // An officer has no hand-over list.
    let officer = signed_in(t, "desk.officer", "officer", "ALM-01").await;
    let (s, _) = page(t, &officer).await;
    assert_eq!(s, 403);
}

on_both!(handover, Default::default(), a_branch_sees_its_results_to_hand_over);
