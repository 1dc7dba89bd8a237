//! The PR agencies over HTTP (п. 14 пп. 2–3): requests, answers from their sources, late answers; and a refusal of the service found at intake. On SQLite and PostgreSQL.

use crate::harness::TestApp;
use crate::on_both;
use serde_json::{Value, json};

use crate::pr::*;

/// Issue 14 item 2: an agency's answer comes from the agency; the case officer enters only a
/// paper act (number, date, attestation), and never the national-security or УМС ДП approval.
async fn p14_answers_come_from_the_agency_or_its_attested_paper_act(t: &TestApp) {
    let (_, v) = t
        .post("officer", "/api/v1/applications", &pr_request(t, "FA1234567"))
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    let (s, v) = t
        .post("officer", &format!("/api/v1/applications/{id}/requests"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    t.advance(2 * 24 * 60);
    let path = format!("/api/v1/applications/{id}/answers");
    let act = |date: &str| json!({"number": "12-3/456", "date": date, "attestation": "письмо банка получено нарочно, сверено с оригиналом"});
    let (_, alm02) = koshi::app::issue_token(&t.app.service.store, "officer", "ALM-02", "t")
        .await
        .unwrap();
    let before = t.counts().await;
    let refusals: Vec<(&str, Value, u16, &str)> = vec![
        // Art. 49: no PR without the national-security approval, which only «Беркут» brings.
        (
            "officer",
            json!({"agency": "national_security", "outcome": "positive"}),
            403,
            "answer_from_agency_only",
        ),
        (
            "officer",
            json!({"agency": "national_security", "outcome": "positive", "paper_act": act("2026-02-03")}),
            403,
            "answer_from_agency_only",
        ),
        (
            "officer",
            json!({"agency": "ums_dp", "outcome": "positive"}),
            403,
            "answer_from_agency_only",
        ),
        (
            "officer",
            json!({"agency": "bank", "outcome": "positive"}),
            422,
            "paper_act_required",
        ),
        (
            "officer",
            json!({"agency": "bank", "outcome": "positive", "paper_act": act("2026-01-30")}),
            422,
            "act_before_request",
        ),
        (
            "officer",
            json!({"agency": "bank", "outcome": "positive", "paper_act": act("2026-02-20")}),
            422,
            "act_in_the_future",
        ),
        (
            "bank",
            json!({"agency": "kpsisu", "outcome": "positive"}),
            403,
            "not_the_agency",
        ),
        (
            "bank",
            json!({"agency": "bank", "outcome": "positive", "paper_act": act("2026-02-03")}),
            422,
            "paper_act_not_expected",
        ),
        (
            "ums_dp",
            json!({"agency": "bank", "outcome": "positive"}),
            403,
            "not_the_agency",
        ),
        (
            "national_security",
            json!({"agency": "ums_dp", "outcome": "positive"}),
            403,
            "not_the_agency",
        ),
    ];
    for (who, body, status, code) in refusals {
        let (s, p) = t.post(who, &path, &body).await;
        assert_eq!((s, p["code"].as_str()), (status, Some(code)), "{who} {body}: {p}");
    }
    let (s, p) = t
        .post(
            &alm02,
            &path,
            &json!({"agency": "bank", "outcome": "positive", "paper_act": act("2026-02-03")}),
        )
        .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (403, Some("not_the_agency")),
        "another body's officer: {p}"
    );
    assert_eq!(t.counts().await, before, "refused answers wrote something");
    // Accepted: the bank's paper act entered by the officer, the others from the agencies.
    let (s, v) = t
        .post(
            "officer",
            &path,
            &json!({"agency": "bank", "outcome": "positive", "paper_act": act("2026-02-03")}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    for agency in ["ums_dp", "police_records", "kpsisu", "national_security"] {
        let (s, v) = t
            .post(agency, &path, &json!({"agency": agency, "outcome": "positive"}))
            .await;
        assert_eq!(s, 200, "{agency}: {v}");
    }
    let case = t.case(&id).await;
    let sources: Vec<(String, String)> = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "pr.answer.recorded")
        .map(|e| {
            (
                e["detail"]["agency"].as_str().unwrap().to_string(),
                e["detail"]["source"]["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(sources.len(), 5);
    for (agency, kind) in &sources {
        let expected = if agency == "bank" {
            "officer_paper_act"
        } else {
            "agency"
        };
        assert_eq!(kind, expected, "{agency}");
    }
    let bank = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "pr.answer.recorded" && e["detail"]["agency"] == "bank")
        .unwrap();
    assert_eq!(bank["detail"]["source"]["act_number"], "12-3/456");
    assert_eq!(bank["detail"]["source"]["act_date"], "2026-02-03");
}

on_both!(
    pr_answer_sources,
    super::super::harness::Options::default(),
    p14_answers_come_from_the_agency_or_its_attested_paper_act
);

/// Issue 14 item 9: a passport valid, but for 180 days or less (App. 3), is no ground to refuse
/// the acceptance (п. 16-1 allows only an incomplete package and expired documents): the case is
/// registered with the ground on its talon, and the conclusion refuses, after a hearing (п. 17).
async fn p16_1_p17_short_passport_validity_is_a_refusal_of_the_service_with_a_hearing(t: &TestApp) {
    let mut req = pr_request(t, "FA1234567");
    req["applicant"]["document"]["expires_on"] = json!("2026-08-01");
    let (s, v) = t.post("officer", "/api/v1/applications", &req).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["receipt"]["type"], "acceptance", "{v}");
    assert!(v["receipt"]["grounds"].as_array().unwrap().is_empty(), "{v}");
    let g = &v["receipt"]["service_grounds"][0];
    assert_eq!(g["code"], "validity_too_short", "{v}");
    assert!(g["citation"].as_str().unwrap().starts_with("п. 17"), "{g}");
    assert_eq!(v["status"], "registered");
    let id = v["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/applications/{id}/conclusion");
    let before = t.counts().await;
    let (s, p) = t.post("officer", &path, &json!({"outcome": "issue"})).await;
    assert_eq!((s, p["code"].as_str()), (409, Some("intake_ground_stands")), "{p}");
    assert_eq!(t.counts().await, before);
    // The refusal need not wait for the agencies: the ground is on the case.
    let (s, c) = t.post("officer", &path, &json!({"outcome": "refuse"})).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["status"], "hearing_required");
    assert_eq!(c["conclusion"]["grounds"][0]["ground"], "validity_too_short");
    // The hearing notice goes out as for any refusal (п. 17).
    let (s, n) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/hearing/notice"),
            &json!({"hearing_on": "2026-02-04"}),
        )
        .await;
    assert_eq!(s, 200, "{n}");
    // Heard, the applicant shows a new passport: consideration goes on from where the early
    // refusal left it (the requests were never sent), the ground set aside on the record.
    t.clock.set("2026-02-04T10:00:00+05:00".parse().unwrap());
    let (s, h) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/hearing"),
            &json!({"position": "представлен новый паспорт, действителен до 2031 года", "result": "continue"}),
        )
        .await;
    assert_eq!((s, h["status"].as_str()), (200, Some("registered")), "{h}");
    // The stage's clock, stopped by the early refusal, runs again.
    let timers = t.app.service.store.timers_of(&id).await.unwrap();
    assert!(
        timers
            .iter()
            .any(|x| x.kind == "pr.stage.send_to_ums" && x.state == "pending"),
        "{timers:?}"
    );
    let case = t.case(&id).await;
    assert!(case["decision"]["grounds_at_intake"].is_null(), "{case}");
    assert_eq!(
        case["decision"]["grounds_at_intake_set_aside"][0]["code"],
        "validity_too_short"
    );
    let (s, r) = t
        .post("officer", &format!("/api/v1/applications/{id}/requests"), &json!({}))
        .await;
    assert_eq!((s, r["status"].as_str()), (200, Some("awaiting_answers")), "{r}");
    // With the answers in, the permit may be concluded; the record keeps the ground set aside
    // and the hearing that set it aside.
    record_answers(t, &id, &ALL_POSITIVE).await;
    let (s, c) = t.post("officer", &path, &json!({"outcome": "issue"})).await;
    assert_eq!((s, c["status"].as_str()), (200, Some("conclusion_drafted")), "{c}");
    let case = t.case(&id).await;
    assert_eq!(
        case["decision"]["grounds_at_intake_set_aside"][0]["code"], "validity_too_short",
        "{case}"
    );
    assert_eq!(case["decision"]["earlier_hearings"][0]["result"], "continue");
}

on_both!(
    pr_short_passport,
    super::super::harness::Options::default(),
    p16_1_p17_short_passport_validity_is_a_refusal_of_the_service_with_a_hearing
);

async fn p14_agencies_answer_out_of_order_and_the_conclusion_window_opens_after_the_last(t: &TestApp) {
    let (_, v) = t
        .post("officer", "/api/v1/applications", &pr_request(t, "FA1234567"))
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    let answer = |agency: &str, outcome: &str| json!({"agency": agency, "outcome": outcome, "detail": "ответ получен"});
    // An answer before any request went out changes nothing.
    let before = t.counts().await;
    let (s, p) = t
        .post(
            "bank",
            &format!("/api/v1/applications/{id}/answers"),
            &answer("bank", "positive"),
        )
        .await;
    assert_eq!((s, p["code"].as_str()), (409, Some("not_waiting_for_answer")), "{p}");
    assert_eq!(t.counts().await, before);
    // п. 14 пп. 2–3: the requests go out with their deadlines.
    let (s, r) = t
        .post("officer", &format!("/api/v1/applications/{id}/requests"), &json!({}))
        .await;
    assert_eq!(s, 200, "{r}");
    let by: Vec<(String, String)> = r["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["agency"].as_str().unwrap().to_string(),
                x["answer_by"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        by.contains(&("national_security".into(), "2026-02-27".into())),
        "25 days: {by:?}"
    );
    assert!(by.contains(&("bank".into(), "2026-02-09".into())), "7 days: {by:?}");
    assert!(
        by.contains(&("ums_dp".into(), "2026-03-21".into())),
        "leaves 13 days of the 60: {by:?}"
    );
    let (s, _) = t
        .post("officer", &format!("/api/v1/applications/{id}/requests"), &json!({}))
        .await;
    assert_eq!(s, 409, "sent once");
    // Answers arrive out of order; the window opens only with the last one.
    for (i, agency) in ["national_security", "bank", "kpsisu", "ums_dp"].iter().enumerate() {
        t.advance(24 * 60);
        let (s, v) = t
            .post(
                agency,
                &format!("/api/v1/applications/{id}/answers"),
                &answer(agency, "positive"),
            )
            .await;
        assert_eq!(s, 200, "{agency}: {v}");
        assert_eq!(v["status"], "awaiting_answers", "answer {i}");
    }
    // The same agency twice, an unknown agency, a bad outcome: refused, nothing changed.
    let before = t.counts().await;
    let (s, p) = t
        .post(
            "bank",
            &format!("/api/v1/applications/{id}/answers"),
            &answer("bank", "negative"),
        )
        .await;
    assert_eq!((s, p["code"].as_str()), (409, Some("not_waiting_for_answer")));
    let (s, _) = t
        .post(
            "bank",
            &format!("/api/v1/applications/{id}/answers"),
            &answer("weather_service", "positive"),
        )
        .await;
    assert_eq!(s, 422);
    let (s, _) = t
        .post(
            "police_records",
            &format!("/api/v1/applications/{id}/answers"),
            &answer("police_records", "maybe"),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(t.counts().await, before);
    let (s, v) = t
        .post(
            "police_records",
            &format!("/api/v1/applications/{id}/answers"),
            &answer("police_records", "positive"),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "conclusion_due");
    assert_eq!(
        v["conclusion_by"], "2026-02-16",
        "10 days after the last answer (6 Feb)"
    );
    let case = t.case(&id).await;
    assert!(
        case["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "pr.conclusion.window_opened" && e["citation"] == "п. 14 пп. 4")
    );
    // Answered in time: no answer-overdue mark ever fires; the conclusion clock does if missed.
    t.advance(30 * 24 * 60);
    t.app.service.tick().await.unwrap();
    let case = t.case(&id).await;
    let actions: Vec<&str> = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(!actions.contains(&"pr.answer.overdue"), "{actions:?}");
    assert!(actions.contains(&"pr.stage.overdue"), "{actions:?}");
    // The agency messages left through the outbox.
    let (_, d) = t
        .get("auditor", &format!("/api/v1/monitoring/deliveries?application_id={id}"))
        .await;
    let topics: Vec<&str> = d
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["topic"].as_str().unwrap())
        .collect();
    for a in [
        "agency.ums_dp",
        "agency.bank",
        "agency.police_records",
        "agency.kpsisu",
        "agency.national_security",
    ] {
        assert!(topics.contains(&a), "{a}: {topics:?}");
    }
}

on_both!(
    pr_agencies,
    super::super::harness::Options::default(),
    p14_agencies_answer_out_of_order_and_the_conclusion_window_opens_after_the_last
);

async fn p14_a_late_agency_is_marked_once(t: &TestApp) {
    let (_, v) = t
        .post("officer", "/api/v1/applications", &pr_request(t, "751234567"))
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    t.post("officer", &format!("/api/v1/applications/{id}/requests"), &json!({}))
        .await;
    t.advance(8 * 24 * 60); // past the 7 days of the bank, police and КПСиСУ
    t.app.service.tick().await.unwrap();
    t.app.service.tick().await.unwrap();
    let case = t.case(&id).await;
    let overdue = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "pr.answer.overdue")
        .count();
    assert_eq!(overdue, 3, "bank, police, КПСиСУ — each once");
    assert!(
        case["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] != "pr.stage.overdue"),
        "stage 2 was done in time"
    );
}

on_both!(
    pr_late_agency,
    super::super::harness::Options::default(),
    p14_a_late_agency_is_marked_once
);
