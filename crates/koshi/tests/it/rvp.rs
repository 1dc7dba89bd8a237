//! The RVP service over HTTP (chapter 2), on SQLite and PostgreSQL.

use serde_json::{Value, json};

use crate::harness::{Options, TestApp};
use crate::on_both;

pub(crate) fn opts() -> Options {
    Options::default()
}

pub(crate) fn manual() -> Options {
    Options {
        straight_through: false,
        ..Options::default()
    }
}

pub(crate) fn check<'a>(case: &'a Value, name: &str) -> &'a Value {
    case["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap()
}

// ------------------------------------------------------------------ straight through

async fn p9_1_each_purpose_goes_straight_through_to_a_permit(t: &TestApp) {
    let purposes: Vec<String> = t.law.requirements.purposes.iter().map(|p| p.id.clone()).collect();
    for purpose in purposes {
        let req = t.request("FA1234567", &purpose);
        let case = t.file_and_process(&req).await;
        assert_eq!(case["status"], "issued", "{purpose}: {case}");
        let d = &case["decision"];
        assert!(d["permit_number"].as_str().unwrap().starts_with("KZ-RVP-2026-"), "{d}");
        assert_eq!(d["valid_from"], "2026-02-02");
        let until = d["valid_until"].as_str().unwrap();
        assert!(until <= "2027-06-30" && until > "2026-02-02", "{purpose}: {until}");
        assert_eq!(case["receipt"]["type"], "acceptance");
        assert_eq!(case["receipt"]["form"], "App. 1-2");
        assert_eq!(case["accepted_on"], "2026-02-02");
        assert_eq!(case["due_on"], "2026-02-03");
        assert_eq!(case["overdue"], false);
        for c in case["checks"].as_array().unwrap() {
            assert_eq!(c["state"], "clear", "{purpose}: {c}");
            assert!(c["citation"].as_str().unwrap().starts_with("п. 9-1 пп."));
            assert!(c["checked_at"].is_string());
        }
        let actions: Vec<&str> = case["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        // The case's acts; its reads are in the access log, not in the view.
        assert_eq!(actions, ["intake.accepted", "decision.issued"], "{purpose}");
        // Reading the case is itself on record, with who read it.
        let (s, log) = t
            .get(
                "auditor",
                &format!("/api/v1/applications/{}/access-log", case["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(s, 200, "{log}");
        let reads = log["items"].as_array().unwrap();
        assert_eq!(reads.len(), 1, "{purpose}");
        assert!(reads[0]["actor"].as_str().unwrap().starts_with("officer@ALM-01"));
        assert_eq!(reads[0]["fields"], "case file");
        assert!(
            case["events"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["rules_version"] == "992/2024-12-08")
        );
    }
    // The result and every stage reached the monitoring system and the desk printer.
    let (s, deliveries) = t.get("auditor", "/api/v1/monitoring/deliveries?limit=1000").await;
    assert_eq!(s, 200);
    let list = deliveries.as_array().unwrap();
    assert!(list.iter().all(|m| m["state"] == "delivered"), "{deliveries}");
    assert!(list.iter().any(|m| m["topic"] == "delivery.desk_print"));
    assert!(
        list.iter()
            .any(|m| m["topic"] == "monitoring" && m["payload"]["stage"] == "issued")
    );
}
on_both!(
    each_purpose,
    super::opts(),
    p9_1_each_purpose_goes_straight_through_to_a_permit
);

async fn rvp_validity_is_bounded_by_the_passport(t: &TestApp) {
    let mut req = t.request("751234567", "labour_contract");
    req.immigrant.document.expires_on = "2026-08-31".parse().unwrap();
    let case = t.file_and_process(&req).await;
    assert_eq!(case["status"], "issued");
    assert_eq!(case["decision"]["valid_until"], "2026-08-31");
    assert_eq!(case["decision"]["bounds"][0]["bound"], "passport");
}
on_both!(
    validity_passport,
    super::opts(),
    rvp_validity_is_bounded_by_the_passport
);

// ------------------------------------------------------------------ the seven grounds

async fn p9_3_each_refusal_ground_is_motivated_and_cited(t: &TestApp) {
    // (fixture person, purpose, check, citation)
    let cases = [
        ("AB7654321", "labour_contract", "border_crossings", "п. 9-1 пп. 2"),
        ("401234567", "labour_contract", "records", "п. 9-1 пп. 3"),
        ("AN4567890", "labour_contract", "records", "п. 9-1 пп. 3"),
        ("760987654", "labour_contract", "records", "п. 9-1 пп. 3"),
        ("C01234567", "labour_contract", "iin", "п. 9-1 пп. 4"),
        ("FA7654321", "labour_contract", "pending_pr", "п. 9-1 пп. 6"),
        ("EC7654321", "labour_contract", "fingerprints", "п. 9-1 пп. 7"),
    ];
    for (doc, purpose, check_name, cite) in cases {
        let case = t.file_and_process(&t.request(doc, purpose)).await;
        assert_eq!(case["status"], "awaiting_confirmation", "{doc}: {case}");
        assert_eq!(check(&case, check_name)["state"], "ground", "{doc}");
        let proposed = &case["decision"]["proposed"];
        assert_eq!(proposed["outcome"], "refused");
        let id = case["id"].as_str().unwrap();
        let (s, d) = t
            .post(
                "officer",
                &format!("/api/v1/applications/{id}/decision"),
                &json!({"action": "confirm"}),
            )
            .await;
        assert_eq!(s, 200, "{d}");
        assert_eq!(d["status"], "refused");
        let grounds = d["decision"]["grounds"].as_array().unwrap();
        assert_eq!(grounds.len(), 1, "{doc}: {d}");
        assert_eq!(grounds[0]["check"], check_name);
        assert!(grounds[0]["citation"].as_str().unwrap().contains(cite));
        assert!(grounds[0]["citation"].as_str().unwrap().contains("п. 9-3"));
        assert_eq!(d["decision"]["form"], "App. 2-1");
        // An issue over a ground is impossible.
        let (s, p) = t
            .post(
                "officer",
                &format!("/api/v1/applications/{id}/decision"),
                &json!({"action": "issue"}),
            )
            .await;
        assert_eq!((s, p["code"].as_str()), (409, Some("not_awaiting_decision")));
    }
    // Completeness (пп. 1) is judged at intake: an incomplete package is a refusal to accept.
    let mut req = t.request("FA1234567", "labour_contract");
    req.documents.retain(|d| d.kind != "employment_contract");
    let (s, v) = t.file(&req).await;
    assert_eq!(s, 201);
    assert_eq!(v["receipt"]["type"], "refusal_to_accept");
}
on_both!(
    refusal_grounds,
    super::opts(),
    p9_3_each_refusal_ground_is_motivated_and_cited
);

async fn p9_1_sub5_household_limit_refuses_the_fourth_rvp(t: &TestApp) {
    // The busy employer holds 3 household RVPs already (limit 3 in this test's configuration).
    let mut req = t.request("AC2345678", "labour_household");
    req.inviting_party.iin = Some(koshi::demo::BUSY_EMPLOYER_IIN.into());
    let case = t.file_and_process(&req).await;
    assert_eq!(case["status"], "awaiting_confirmation", "{case}");
    assert_eq!(check(&case, "household_quota")["state"], "ground");
    assert_eq!(
        check(&case, "household_quota")["finding"]["code"],
        "household_limit_reached"
    );
    // The other employer: permits issued by Koshi count too. Three pass, the fourth is refused.
    for (i, doc) in ["FA1234567", "751234567", "400345678", "EB3456789"].iter().enumerate() {
        let case = t.file_and_process(&t.request(doc, "labour_household")).await;
        let expected = if i < 3 { "issued" } else { "awaiting_confirmation" };
        assert_eq!(case["status"], expected, "{doc}: {case}");
    }
}
on_both!(
    household_limit,
    super::opts(),
    p9_1_sub5_household_limit_refuses_the_fourth_rvp
);

async fn p9_1_sub5_without_a_configured_limit_an_officer_decides(t: &TestApp) {
    let case = t.file_and_process(&t.request("FA1234567", "labour_household")).await;
    assert_eq!(case["status"], "awaiting_officer", "{case}");
    assert_eq!(check(&case, "household_quota")["state"], "officer");
    let id = case["id"].as_str().unwrap();
    let (s, d) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/decision"),
            &json!({"action": "issue"}),
        )
        .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["status"], "issued");
}
on_both!(
    household_unconfigured,
    super::Options {
        household_limit: None,
        ..super::Options::default()
    },
    p9_1_sub5_without_a_configured_limit_an_officer_decides
);

// ------------------------------------------------------------------ intake outcomes

async fn p6_incomplete_and_expired_packages_are_refused_and_recorded(t: &TestApp) {
    let mut incomplete = t.request("FA1234567", "education");
    incomplete
        .documents
        .retain(|d| d.kind != "education_petition" && d.kind != "health_insurance");
    let (s, v) = t.file(&incomplete).await;
    assert_eq!(s, 201);
    assert_eq!(v["status"], "refused_to_accept");
    assert_eq!(v["receipt"]["form"], "App. 1-3");
    let missing: Vec<&str> = v["receipt"]["grounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["document"].as_str().unwrap())
        .collect();
    assert_eq!(missing, ["health_insurance", "education_petition"]);
    assert!(v["accepted_on"].is_null());

    let mut expired = t.request("FA1234567", "labour_contract");
    expired.immigrant.document.expires_on = "2026-01-31".parse().unwrap();
    let (s, v) = t.file(&expired).await;
    assert_eq!(s, 201);
    assert_eq!(v["status"], "refused_to_accept");
    assert_eq!(v["receipt"]["grounds"][0]["code"], "expired_document");
    // Recorded: the case exists, with its event, and the monitoring system was told.
    let case = t.case(v["id"].as_str().unwrap()).await;
    assert_eq!(case["events"][0]["action"], "intake.refused_to_accept");
    assert!(case["checks"].as_array().unwrap().is_empty());
    // EAEU citizens need no health insurance.
    let mut eaeu = t.request("751234567", "labour_contract");
    eaeu.documents.retain(|d| d.kind != "health_insurance");
    let (_, v) = t.file(&eaeu).await;
    assert_eq!(v["status"], "checking", "{v}");
}
on_both!(
    intake_refusals,
    super::opts(),
    p6_incomplete_and_expired_packages_are_refused_and_recorded
);

/// Issue 14 item 9: the counter refuses only what п. 6 allows; a wrong inviting party (п. 4) is
/// a refusal of the service, with its motivated notice (App. 2-1) once an officer confirms it.
async fn p4_wrong_inviting_party_is_a_refusal_of_the_service_not_of_acceptance(t: &TestApp) {
    let mut req = t.request("FA1234567", "family_reunification");
    req.inviting_party.kind = "legal_entity".into();
    req.inviting_party.iin = None;
    req.inviting_party.bin = Some(koshi::demo::COMPANY_BIN.into());
    let (s, v) = t.file(&req).await;
    assert_eq!(s, 201);
    assert_eq!(v["receipt"]["type"], "acceptance", "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    t.app.service.settle().await;
    let case = t.case(&id).await;
    assert_eq!(case["status"], "awaiting_confirmation", "{case}");
    let proposed = &case["decision"]["proposed"];
    assert_eq!(proposed["outcome"], "refused");
    assert_eq!(proposed["form"], "App. 2-1");
    let g = &proposed["grounds"][0];
    assert_eq!(g["code"], "inviting_party_not_allowed", "{proposed}");
    assert!(g["citation"].as_str().unwrap().contains("6-1"), "{g}");
    // Clean checks do not issue over it; the officer confirms the motivated refusal.
    let (s, d) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/decision"),
            &serde_json::json!({"action": "issue"}),
        )
        .await;
    assert_eq!(s, 409, "{d}");
    let (s, d) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/decision"),
            &serde_json::json!({"action": "confirm"}),
        )
        .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["status"], "refused");
    assert_eq!(d["decision"]["form"], "App. 2-1");
}
on_both!(
    inviting_party,
    super::opts(),
    p4_wrong_inviting_party_is_a_refusal_of_the_service_not_of_acceptance
);

async fn p9_1_late_applications_only_under_the_exceptions(t: &TestApp) {
    let late = |exception: Option<Value>| {
        let mut r = serde_json::to_value(t.request("FA1234567", "labour_contract")).unwrap();
        r["immigrant"]["stay_until"] = json!("2026-01-25");
        if let Some(e) = exception {
            r["late_exception"] = e;
        }
        r
    };
    let (_, v) = t.post("officer", "/api/v1/applications", &late(None)).await;
    assert_eq!(v["status"], "refused_to_accept");
    assert_eq!(v["receipt"]["grounds"][0]["code"], "stay_expired");
    // An act of failure is the one Koshi keeps (tests in `outage_acts`): a number and a day
    // typed in by the filer are no act.
    let before = t.counts().await;
    let (s, v) = t
        .post(
            "officer",
            "/api/v1/applications",
            &late(Some(
                json!({"kind": "outage_act", "act_number": "A-17", "failure_on": "2026-01-24"}),
            )),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("outage_act_required")), "{v}");
    assert_eq!(t.counts().await, before);
    let (_, v) = t
        .post(
            "officer",
            "/api/v1/applications",
            &late(Some(
                json!({"kind": "art517_fine", "overstay_days": 6, "decision_number": "517-2026-41", "decision_date": "2026-01-31"}),
            )),
        )
        .await;
    assert_eq!(v["status"], "checking", "{v}");
    // The fine must agree with the dates Koshi holds: 6 days from 25 to 31 January, not 3.
    let (_, v) = t
        .post(
            "officer",
            "/api/v1/applications",
            &late(Some(
                json!({"kind": "art517_fine", "overstay_days": 3, "decision_number": "517-2026-41", "decision_date": "2026-01-31"}),
            )),
        )
        .await;
    assert_eq!(v["receipt"]["grounds"][0]["code"], "art517_disagrees_with_dates", "{v}");
    // A fine named by no decision is a malformed filing (422), and writes nothing.
    t.app.service.settle().await; // the accepted filing's checks, in the background
    let before = t.counts().await;
    let (s, p) = t
        .post(
            "officer",
            "/api/v1/applications",
            &late(Some(json!({"kind": "art517_fine", "overstay_days": 6}))),
        )
        .await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(t.counts().await, before);
    // A filing stored before the decision was required still reads (old rows still read).
    let mut old = late(Some(
        json!({"kind": "art517_fine", "overstay_days": 6, "decision_number": null}),
    ));
    old["kind"] = json!("rvp");
    assert!(serde_json::from_value::<koshi::model::ApplicationRequest>(old).is_ok());
    // Eleven days after the stay ended (5 February), the exception no longer covers the filing.
    t.clock.set("2026-02-05T10:00:00+05:00".parse().unwrap());
    let (_, v) = t
        .post(
            "officer",
            "/api/v1/applications",
            &late(Some(
                json!({"kind": "art517_fine", "overstay_days": 6, "decision_number": "517-2026-41", "decision_date": "2026-01-31"}),
            )),
        )
        .await;
    assert_eq!(v["receipt"]["grounds"][0]["code"], "overstay_over_ten_days", "{v}");
    t.clock.set(crate::harness::T0.parse().unwrap());
    // п. 5: turned 16 on 10 January 2026 (born 2010-01-10); the 10 days ended 20 January.
    let mut minor = t.request("FA1234567", "family_reunification");
    minor.immigrant.birth_date = "2010-01-10".parse().unwrap();
    minor.immigrant.turned_16_in_kazakhstan = true;
    let (_, v) = t.file(&minor).await;
    assert_eq!(v["status"], "refused_to_accept", "{v}");
    assert_eq!(v["receipt"]["grounds"][0]["code"], "stay_expired");
    minor.immigrant.birth_date = "2010-01-25".parse().unwrap(); // 16 on 25 January: in time until 4 February
    let (_, v) = t.file(&minor).await;
    assert_eq!(v["status"], "checking", "{v}");
}
on_both!(
    late_applications,
    super::opts(),
    p9_1_late_applications_only_under_the_exceptions
);
