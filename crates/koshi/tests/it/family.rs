//! Family members arriving together (п. 9-1 пп. 4; issue 14 item 7): each is checked and decided
//! on its own and, when issued, gets an RVP of its own, valid no longer than the immigrant's; an
//! immigrant refused is a ground to refuse the members. On SQLite and PostgreSQL.

use koshi::model::{ApplicationRequest, DocumentInput, FamilyMemberInput};
use serde_json::{Value, json};

use crate::harness::TestApp;
use crate::on_both;

/// The immigrant `principal` with the fixture persons `members` as family (spouse, then children).
fn with_family(t: &TestApp, principal: &str, members: &[&str]) -> ApplicationRequest {
    let mut req = t.request(principal, "labour_contract");
    req.family = members
        .iter()
        .enumerate()
        .map(|(i, doc)| FamilyMemberInput {
            person: t.request(doc, "labour_contract").immigrant,
            relationship: if i == 0 { "spouse" } else { "child" }.into(),
        })
        .collect();
    req.documents.push(DocumentInput {
        kind: "kinship_document".into(),
        number: Some("KD-1".into()),
        issued_on: Some("2020-05-05".parse().unwrap()),
        expires_on: None,
        attachment: None,
    });
    req
}

async fn decide(t: &TestApp, id: &str, body: Value) -> (u16, Value) {
    t.post("officer", &format!("/api/v1/applications/{id}/decision"), &body)
        .await
}

async fn p9_1_each_family_member_gets_a_decision_and_a_permit_of_their_own(t: &TestApp) {
    // The spouse is clean; the child has no lawful entry recorded in «Беркут».
    let (s, v) = t.file(&with_family(t, "FA1234567", &["751234567", "AB7654321"])).await;
    assert_eq!(s, 201, "{v}");
    let members: Vec<String> = v["receipt"]["family_cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    assert_eq!(members.len(), 2, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    t.app.service.settle().await;
    t.app.service.tick().await.unwrap();
    let principal = t.case(&id).await;
    assert_eq!(principal["status"], "issued", "{principal}");
    let spouse = t.case(&members[0]).await;
    assert_eq!(spouse["status"], "issued", "{spouse}");
    let (p, m) = (&principal["decision"], &spouse["decision"]);
    assert_ne!(p["permit_number"], m["permit_number"], "a permit of the spouse's own");
    assert!(m["valid_until"].as_str().unwrap() <= p["valid_until"].as_str().unwrap());
    // Each member's own checks ran: the child's «Беркут» finding is the child's alone.
    let child = t.case(&members[1]).await;
    assert_eq!(child["status"], "awaiting_confirmation", "{child}");
    assert_eq!(child["decision"]["proposed"]["outcome"], "refused");
    assert_eq!(child["decision"]["proposed"]["grounds"][0]["check"], "border_crossings");
    for member in [&spouse, &child] {
        let checks = member["checks"].as_array().unwrap();
        assert_eq!(checks.len(), 7);
        assert!(checks.iter().all(|c| c["state"] != "waiting"), "{member}");
        assert_eq!(
            crate::harness::count_actions(member, "intake.accepted_as_family_member"),
            1
        );
    }
    // The spouse's permit is delivered on its own.
    let (_, d) = t
        .get(
            "auditor",
            &format!("/api/v1/monitoring/deliveries?application_id={}", members[0]),
        )
        .await;
    assert!(
        d.as_array()
            .unwrap()
            .iter()
            .any(|m| m["topic"] == "delivery.desk_print"),
        "{d}"
    );
    // A filer cannot mark a filing as a family member's case itself.
    let mut forged = serde_json::to_value(t.request("AC2345678", "labour_contract")).unwrap();
    forged["family_of"] = json!({"principal_id": id, "member": 0, "relationship": "spouse"});
    let before = t.counts().await;
    let (s, p) = t.post("officer", "/api/v1/applications", &forged).await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(t.counts().await, before);
    // Nor mark the version of a stored filing's shape (Koshi's own, on every filing it stores):
    // an RVP and a PR filing that carry one are refused naming the field, nothing written.
    let mut marked = serde_json::to_value(t.request("AC2345678", "labour_contract")).unwrap();
    marked["schema"] = json!(1);
    let (s, p) = t.post("officer", "/api/v1/applications", &marked).await;
    assert_eq!((s, p["errors"][0]["pointer"].as_str()), (422, Some("/schema")), "{p}");
    let mut marked = crate::pr::pr_request(t, "AC2345678");
    marked["schema"] = json!(1);
    let (s, p) = t.post("officer", "/api/v1/applications", &marked).await;
    assert_eq!((s, p["errors"][0]["pointer"].as_str()), (422, Some("/schema")), "{p}");
    assert_eq!(t.counts().await, before);
}
on_both!(
    family_permits,
    crate::harness::Options::default(),
    p9_1_each_family_member_gets_a_decision_and_a_permit_of_their_own
);

async fn p9_3_a_member_waits_for_the_immigrant_and_falls_with_its_refusal(t: &TestApp) {
    // The immigrant has a criminal record: a refusal is proposed and waits for an officer.
    let (s, v) = t.file(&with_family(t, "401234567", &["751234567"])).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let spouse = v["receipt"]["family_cases"][0].as_str().unwrap().to_string();
    t.app.service.settle().await;
    t.app.service.tick().await.unwrap();
    assert_eq!(t.case(&id).await["status"], "awaiting_confirmation");
    let m = t.case(&spouse).await;
    assert_eq!(m["status"], "checking", "the spouse waits for the immigrant: {m}");
    assert_eq!(crate::harness::count_actions(&m, "family.awaiting_principal"), 1, "{m}");
    // Nobody issues the spouse's RVP before the immigrant's.
    let before = t.counts().await;
    let (s, p) = decide(t, &spouse, json!({"action": "issue"})).await;
    assert_eq!((s, p["code"].as_str()), (409, Some("not_awaiting_decision")), "{p}");
    assert_eq!(t.counts().await, before);
    // The officer confirms the immigrant's refusal; the spouse's case is decided next.
    let (s, d) = decide(t, &id, json!({"action": "confirm"})).await;
    assert_eq!((s, d["status"].as_str()), (200, Some("refused")), "{d}");
    t.app.service.tick().await.unwrap();
    let m = t.case(&spouse).await;
    assert_eq!(m["status"], "awaiting_confirmation", "{m}");
    let grounds = m["decision"]["proposed"]["grounds"].as_array().unwrap();
    assert!(grounds.iter().any(|g| g["code"] == "principal_refused"), "{m}");
    let (s, p) = decide(t, &spouse, json!({"action": "issue"})).await;
    assert_eq!((s, p["code"].as_str()), (409, Some("principal_not_issued")), "{p}");
    let (s, d) = decide(t, &spouse, json!({"action": "confirm"})).await;
    assert_eq!((s, d["status"].as_str()), (200, Some("refused")), "{d}");
}
on_both!(
    family_waits,
    crate::harness::Options::default(),
    p9_3_a_member_waits_for_the_immigrant_and_falls_with_its_refusal
);
