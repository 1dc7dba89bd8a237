//! The PR service over HTTP (chapter 3), first slice: intake, the App. 8 journal, the clocks,
//! the п. 22 bar. On SQLite and PostgreSQL.

use base64::Engine;
use serde_json::{Value, json};

use crate::harness::TestApp;
use crate::on_both;

/// A complete PR package for a fixture person (App. 3), filed at the desk.
fn pr_request(t: &TestApp, document_number: &str) -> Value {
    let p = t.fixtures.person(document_number).unwrap();
    let documents: Vec<Value> = [
        "application_form",
        "exit_consent",
        "autobiography",
        "solvency_certificate",
        "criminal_record_certificate",
        "housing_document",
        "medical_certificate",
        "photo",
        "state_duty_receipt",
    ]
    .iter()
    .map(|kind| json!({"kind": kind, "issued_on": "2026-01-10", "expires_on": null}))
    .collect();
    json!({
        "kind": "pr",
        "ground": "visa_free_state",
        "applicant": {
            "surname": "DEMO", "given_names": "PR",
            "birth_date": p.birth_date.unwrap().to_string(),
            "citizenship": p.citizenship.clone().unwrap(),
            "iin": p.iin.clone(),
            "document": {"number": document_number, "expires_on": "2030-01-01"}
        },
        "documents": documents,
        // 100 million ₸ confirmed; housing at 500,000 ₸ per m².
        "solvency": {"funds_tiyn": 10_000_000_000i64, "price_per_square_metre_tiyn": 50_000_000i64}
    })
}

async fn p12_p14_intake_registers_the_case_in_the_journal_and_starts_the_clocks(t: &TestApp) {
    let (s, v) = t
        .post("officer", "/api/v1/applications", &pr_request(t, "FA1234567"))
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["status"], "registered");
    assert_eq!(v["receipt"]["form"], "App. 6");
    assert_eq!(v["receipt"]["number"], "ALM-01/1");
    assert_eq!(v["accepted_on"], "2026-02-02");
    assert_eq!(v["due_on"], "2026-04-03", "60 calendar days");
    let id = v["id"].as_str().unwrap();
    let timers = t.app.service.store.timers_of(id).await.unwrap();
    let kinds: Vec<(&str, &str)> = timers.iter().map(|x| (x.kind.as_str(), x.state.as_str())).collect();
    assert_eq!(
        kinds,
        [
            ("pr.stage.send_to_ums.at_risk", "pending"),
            ("pr.stage.send_to_ums", "pending"),
            ("pr.service_term.at_risk", "pending"),
            ("pr.service_term", "pending")
        ]
    );
    let due = |k: &str| timers.iter().find(|x| x.kind == k).unwrap().due_at.clone();
    assert!(
        due("pr.stage.send_to_ums").starts_with("2026-02-07T13:30"),
        "stage 2: 5 days, to 18:30 Almaty"
    );
    assert!(
        due("pr.stage.send_to_ums.at_risk").starts_with("2026-02-06T13:30"),
        "at risk the working day before"
    );
    // Many at once: the journal stays gapless and unique.
    let mut handles = Vec::new();
    for _ in 0..20 {
        let http = t.http.clone();
        let url = format!("{}/api/v1/applications", t.base);
        let token = t.tokens["officer"].clone();
        let body = pr_request(t, "751234567");
        handles.push(tokio::spawn(async move {
            let v: Value = http
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["receipt"]["number"]
                .as_str()
                .unwrap()
                .trim_start_matches("ALM-01/")
                .parse::<i64>()
                .unwrap()
        }));
    }
    let mut numbers = Vec::new();
    for h in handles {
        numbers.push(h.await.unwrap());
    }
    numbers.sort();
    assert_eq!(numbers, (2..=21).collect::<Vec<i64>>());
    // The portal does not take PR applications (п. 11).
    let (s, _) = t
        .post("portal", "/api/v1/applications", &pr_request(t, "FA1234567"))
        .await;
    assert_eq!(s, 403);
}
on_both!(
    pr_intake,
    super::super::harness::Options::default(),
    p12_p14_intake_registers_the_case_in_the_journal_and_starts_the_clocks
);

async fn p13_p14_con_path_and_package_refusals_are_recorded(t: &TestApp) {
    // Via a ЦОН, a person without an IIN in ГБД ФЛ gets a refusal (App. 7).
    let mut req = pr_request(t, "C01234567");
    req["applicant"]["iin"] = Value::Null;
    req["police_unit"] = json!("ALM-01"); // the ЦОН names the police body (п. 5, п. 7)
    // п. 14: the ЦОН's request goes with electronic copies of every document.
    for d in req["documents"].as_array_mut().unwrap() {
        d["attachment"] = json!({"media_type": "application/pdf", "content_base64": "JVBERi0xLjQK"});
    }
    let (s, v) = t.post("con_operator", "/api/v1/applications", &req).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["receipt"]["form"].as_str()),
        (Some("refused_to_accept"), Some("App. 7"))
    );
    assert_eq!(v["receipt"]["grounds"][0]["code"], "no_iin");
    // The copies are stored once, by SHA-256, and the filing kept with the case names them by it.
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"%PDF-1.4\n"));
    let store = &t.app.service.store;
    assert_eq!(store.attachment_size(&digest).await.unwrap(), Some(9));
    let id = v["id"].as_str().unwrap();
    let filed: Value = serde_json::from_str(&store.application(id).await.unwrap().unwrap().data).unwrap();
    for d in filed["documents"].as_array().unwrap() {
        assert_eq!(d["attachment"]["sha256"], json!(digest), "{filed}");
        assert!(
            d["attachment"].get("content_base64").is_none_or(Value::is_null),
            "{filed}"
        );
    }
    // A copy that is not base64, or is over the size limit, is refused before anything is written.
    let before = t.counts().await;
    let mut bad = pr_request(t, "FA1234567");
    bad["documents"][0]["attachment"] = json!({"media_type": "application/pdf", "content_base64": "%%%"});
    let (s, p) = t.post("officer", "/api/v1/applications", &bad).await;
    assert_eq!((s, p["code"].as_str()), (422, Some("invalid_attachment")), "{p}");
    let huge = base64::engine::general_purpose::STANDARD.encode(vec![7u8; 10 * 1024 * 1024 + 1]);
    bad["documents"][0]["attachment"] = json!({"media_type": "application/pdf", "content_base64": huge});
    let (s, p) = t.post("officer", "/api/v1/applications", &bad).await;
    assert_eq!((s, p["code"].as_str()), (413, Some("attachment_too_large")), "{p}");
    bad["documents"][0]["attachment"] = json!({"media_type": "application/pdf", "sha256": "0".repeat(64)});
    let (s, p) = t.post("officer", "/api/v1/applications", &bad).await;
    assert_eq!((s, p["code"].as_str()), (422, Some("unknown_attachment")), "{p}");
    assert_eq!(t.counts().await, before);
    // A certificate older than 180 days.
    let mut req = pr_request(t, "FA1234567");
    req["documents"][3]["issued_on"] = json!("2025-07-01");
    let (_, v) = t.post("officer", "/api/v1/applications", &req).await;
    assert_eq!(v["receipt"]["grounds"][0]["code"], "document_too_old", "{v}");
    assert_eq!(v["receipt"]["grounds"][0]["document"], "solvency_certificate");
    // Refusals to accept take no journal number.
    assert!(v["receipt"]["number"].as_str().unwrap().starts_with("T-"));
}
on_both!(
    pr_refusals,
    super::super::harness::Options::default(),
    p13_p14_con_path_and_package_refusals_are_recorded
);

/// Issue 14 item 11: a pending PR case is found by the person's IIN under any passport (п. 9-1
/// пп. 6), not by one passport number.
async fn p9_1_sub6_a_pending_pr_is_found_by_iin_under_another_passport(t: &TestApp) {
    let mut pr = pr_request(t, "FA1234567");
    pr["applicant"]["document"]["number"] = json!("N11112222");
    let (s, v) = t.post("officer", "/api/v1/applications", &pr).await;
    assert_eq!((s, v["status"].as_str()), (201, Some("registered")), "{v}");
    let req = t.request("FA1234567", "labour_contract");
    assert!(req.immigrant.iin.is_some());
    let case = t.file_and_process(&req).await;
    let pending = case["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "pending_pr")
        .unwrap();
    assert_eq!(pending["state"], "ground", "{case}");
    assert_eq!(case["decision"]["proposed"]["outcome"], "refused");
}
on_both!(
    pr_pending_by_iin,
    super::super::harness::Options::default(),
    p9_1_sub6_a_pending_pr_is_found_by_iin_under_another_passport
);

/// п. 17, 18: heard before the annulment, the holder may persuade: the permit stands.
async fn p18_a_heard_holder_may_keep_the_permit(t: &TestApp) {
    let head = person(t, "head.alm01", "head_of_city_district_police", "ALM-01").await;
    let id = issued_pr(t, "FA1234567", &head).await;
    let (s, v) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/annulment"),
            &json!({"grounds": [{"check": "art_49", "detail": "сведения о судимости"}]}),
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (200, Some("annulment_hearing_required")),
        "{v}"
    );
    let (s, v) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/hearing/notice"),
            &json!({"hearing_on": "2026-02-02"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/hearing"),
            &json!({"position": "судимость погашена, справка приложена", "result": "refuse"}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("unknown_result")),
        "an annulment hearing keeps or annuls: {v}"
    );
    let (s, v) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/hearing"),
            &json!({"position": "судимость погашена, справка приложена", "result": "keep"}),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("issued")), "{v}");
    let case = t.case(&id).await;
    assert!(case["decision"]["annulment"].is_null(), "{case}");
    assert_eq!(case["decision"]["annulment_dropped"]["form"], "App. 11");
    assert!(case["decision"]["permit_number"].is_string());
}
on_both!(
    pr_annulment_kept,
    super::super::harness::Options::default(),
    p18_a_heard_holder_may_keep_the_permit
);

async fn p22_reapplication_a_day_before_and_on_the_anniversary(t: &TestApp) {
    // An earlier PR application of the person was refused by a conclusion drawn up on
    // 3 February 2025 and approved on 7 February: the year runs from the drawing up (п. 22
    // «вынесения»), not from the approval.
    let store = &t.app.service.store;
    let (_, v) = t
        .post("officer", "/api/v1/applications", &pr_request(t, "AC2345678"))
        .await;
    let old = store.application(v["id"].as_str().unwrap()).await.unwrap().unwrap();
    let refused = koshi_store::repo::StatusChange {
        id: old.id.clone(),
        expected_revision: old.revision,
        status: "refused".into(),
        decision: Some(
            json!({"outcome": "refused", "concluded_on": "2025-02-07",
                   "conclusion": {"outcome": "refuse", "drafted_at": "2025-02-03T06:00:00Z"}})
            .to_string(),
        ),
        permit_number: None,
        valid_from: None,
        valid_until: None,
        updated_at: old.updated_at.clone(),
    };
    store
        .write(koshi_store::Unit::new().with(koshi_store::repo::change_status(refused)))
        .await
        .unwrap();
    let req = pr_request(t, "AC2345678");
    t.clock.set("2026-02-02T10:00:00+05:00".parse().unwrap());
    let (_, v) = t.post("officer", "/api/v1/applications", &req).await;
    assert_eq!(v["status"], "refused_to_accept", "{v}");
    assert_eq!(v["receipt"]["grounds"][0]["code"], "reapplication_barred");
    assert_eq!(v["receipt"]["grounds"][0]["citation"], "п. 22");
    // A new passport does not escape the bar: the person is the same by IIN (issue 14 item 11).
    let mut renewed = req.clone();
    renewed["applicant"]["document"]["number"] = json!("N98765432");
    assert!(renewed["applicant"]["iin"].is_string());
    let (_, v) = t.post("officer", "/api/v1/applications", &renewed).await;
    assert_eq!(v["receipt"]["grounds"][0]["code"], "reapplication_barred", "{v}");
    t.clock.set("2026-02-03T10:00:00+05:00".parse().unwrap());
    let (_, v) = t.post("officer", "/api/v1/applications", &req).await;
    assert_eq!(v["status"], "registered", "on the anniversary: {v}");

    // A prior decision that cannot be read is never read as "no bar": the filing stops for a
    // person, and nothing is written.
    let old = store.application(&old.id).await.unwrap().unwrap();
    let broken = koshi_store::repo::StatusChange {
        id: old.id.clone(),
        expected_revision: old.revision,
        status: "refused".into(),
        decision: Some("{\"outcome\": \"refused\"".into()),
        permit_number: None,
        valid_from: None,
        valid_until: None,
        updated_at: old.updated_at.clone(),
    };
    store
        .write(koshi_store::Unit::new().with(koshi_store::repo::change_status(broken)))
        .await
        .unwrap();
    let before = t.counts().await;
    let req = pr_request(t, "AC2345678");
    t.clock.set("2026-02-04T10:00:00+05:00".parse().unwrap());
    let (s, v) = t.post("officer", "/api/v1/applications", &req).await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["code"], "prior_decision_unreadable");
    assert_eq!(t.counts().await, before);
}
on_both!(
    pr_bar,
    super::super::harness::Options::default(),
    p22_reapplication_a_day_before_and_on_the_anniversary
);

async fn p14_stage_clocks_fire_once_and_mark_the_case(t: &TestApp) {
    let (_, v) = t
        .post("officer", "/api/v1/applications", &pr_request(t, "FA1234567"))
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    t.app.service.tick().await.unwrap();
    let count = |case: &Value, action: &str| {
        case["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == action)
            .count()
    };
    assert_eq!(count(&t.case(&id).await, "pr.stage.overdue"), 0, "not due yet");
    t.advance(4 * 24 * 60 + 9 * 60); // Fri 6 Feb, 19:00: the working day before the due day has ended
    t.app.service.tick().await.unwrap();
    let case = t.case(&id).await;
    assert_eq!(
        (count(&case, "pr.stage.at_risk"), count(&case, "pr.stage.overdue")),
        (1, 0)
    );
    t.advance(-(4 * 24 * 60 + 9 * 60));
    t.advance(6 * 24 * 60); // past the 5 days of stage 2
    t.app.service.tick().await.unwrap();
    t.app.service.tick().await.unwrap();
    let case = t.case(&id).await;
    assert_eq!(count(&case, "pr.stage.overdue"), 1, "fired exactly once");
    let e = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "pr.stage.overdue")
        .unwrap();
    assert_eq!(e["citation"], "п. 14 пп. 2");
    assert_eq!(count(&case, "pr.term.overdue"), 0);
    t.advance(60 * 24 * 60); // past the 60-day term
    t.app.service.tick().await.unwrap();
    assert_eq!(count(&t.case(&id).await, "pr.term.overdue"), 1);
}
on_both!(
    pr_clocks,
    super::super::harness::Options::default(),
    p14_stage_clocks_fire_once_and_mark_the_case
);

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

/// Every agency of п. 14 answering positively.
const ALL_POSITIVE: [(&str, &str); 5] = [
    ("bank", "positive"),
    ("ums_dp", "positive"),
    ("kpsisu", "positive"),
    ("national_security", "positive"),
    ("police_records", "positive"),
];

/// Sends the п. 14 requests of a case, then records these answers in order.
async fn send_and_answer(t: &TestApp, id: &str, answers: &[(&str, &str)]) {
    let (s, v) = t
        .post("officer", &format!("/api/v1/applications/{id}/requests"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    record_answers(t, id, answers).await;
}

/// Records these answers in order (the requests already went out).
async fn record_answers(t: &TestApp, id: &str, answers: &[(&str, &str)]) {
    for (agency, outcome) in answers {
        let (s, v) = t
            .post(
                agency,
                &format!("/api/v1/applications/{id}/answers"),
                &json!({"agency": agency, "outcome": outcome}),
            )
            .await;
        assert_eq!(s, 200, "{agency}: {v}");
    }
}

/// Signs a person in and returns (cookie, csrf).
async fn person(t: &TestApp, username: &str, post: &str, unit: &str) -> (String, String) {
    koshi::accounts::add_user(
        &t.app.service.store,
        username,
        "пароль-для-теста-2026",
        "officer",
        unit,
        post,
        t.now(),
    )
    .await
    .unwrap();
    let r = t
        .http
        .post(format!("{}/api/v1/session", t.base))
        .json(&json!({"username": username, "password": "пароль-для-теста-2026"}))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let v: Value = r.json().await.unwrap();
    (cookie, v["csrf_token"].as_str().unwrap().to_string())
}

async fn approve(t: &TestApp, id: &str, who: &(String, String)) -> (u16, Value) {
    let r = t
        .http
        .post(format!("{}/api/v1/applications/{id}/approval", t.base))
        .header("cookie", &who.0)
        .header("x-csrf-token", &who.1)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn p15_a_pr_life_to_the_permit_approved_only_by_an_authorised_post(t: &TestApp) {
    let (_, v) = t
        .post("officer", "/api/v1/applications", &pr_request(t, "FA1234567"))
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    t.post("officer", &format!("/api/v1/applications/{id}/requests"), &json!({}))
        .await;
    for agency in ["bank", "ums_dp", "police_records", "national_security", "kpsisu"] {
        t.advance(2 * 24 * 60);
        let (s, v) = t
            .post(
                agency,
                &format!("/api/v1/applications/{id}/answers"),
                &json!({"agency": agency, "outcome": "positive"}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
    let (s, v) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/conclusion"),
            &json!({"outcome": "issue"}),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("conclusion_drafted")), "{v}");
    // Approvals without the authority change nothing: a token, an ordinary post, another district's head.
    let before = t.counts().await;
    let (s, p) = t
        .post("officer", &format!("/api/v1/applications/{id}/approval"), &json!({}))
        .await;
    assert_eq!((s, p["code"].as_str()), (403, Some("no_approval_authority")), "{p}");
    let clerk = person(t, "clerk", "other", "ALM-01").await;
    assert_eq!(approve(t, &id, &clerk).await.1["code"], "no_approval_authority");
    let other_head = person(t, "head.alm02", "head_of_city_district_police", "ALM-02").await;
    assert_eq!(approve(t, &id, &other_head).await.1["code"], "no_approval_authority");
    let after = t.counts().await;
    let events = |c: &Vec<(String, i64)>| c.iter().find(|(k, _)| k == "events").unwrap().1;
    assert_eq!(
        after.iter().filter(|(k, _)| k != "events").collect::<Vec<_>>(),
        before.iter().filter(|(k, _)| k != "events").collect::<Vec<_>>()
    );
    assert_eq!(
        events(&after),
        events(&before),
        "nothing recorded for refused approvals"
    );
    // The head of the district police approves: the permit is issued, the notice goes out.
    let head = person(t, "head.alm01", "head_of_city_district_police", "ALM-01").await;
    let (s, v) = approve(t, &id, &head).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "issued");
    assert!(
        v["decision"]["permit_number"]
            .as_str()
            .unwrap()
            .starts_with("KZ-PR-2026-ALM-01-")
    );
    assert_eq!(
        v["decision"]["notification_by"], "2026-02-15",
        "3 days after approval on 12 Feb"
    );
    let (s, _) = approve(t, &id, &head).await;
    assert_eq!(s, 409, "approved once");
    t.app.service.tick().await.unwrap();
    let (_, d) = t
        .get("auditor", &format!("/api/v1/monitoring/deliveries?application_id={id}"))
        .await;
    assert!(
        d.as_array()
            .unwrap()
            .iter()
            .any(|m| m["payload"]["form"] == "App. 10" && m["state"] == "delivered"),
        "{d}"
    );
    // п. 16: every stage reached the monitoring system.
    let stages: Vec<&str> = d
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["topic"] == "monitoring")
        .map(|m| m["payload"]["stage"].as_str().unwrap())
        .collect();
    for stage in ["pr.registered", "pr.requests_sent", "pr.issued"] {
        assert!(stages.contains(&stage), "{stage}: {stages:?}");
    }
    assert!(
        d.as_array()
            .unwrap()
            .iter()
            .filter(|m| m["topic"] == "monitoring")
            .all(|m| m["payload"]["citation"] == "п. 16")
    );
    // A negative national-security answer forbids issuing (Law on Migration art. 49).
    let (_, v) = t
        .post("officer", "/api/v1/applications", &pr_request(t, "751234567"))
        .await;
    let id2 = v["id"].as_str().unwrap().to_string();
    let mut answers = ALL_POSITIVE;
    answers[3] = ("national_security", "negative");
    send_and_answer(t, &id2, &answers).await;
    let (s, p) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id2}/conclusion"),
            &json!({"outcome": "issue"}),
        )
        .await;
    assert_eq!((s, p["code"].as_str()), (409, Some("negative_answer")), "{p}");
}
on_both!(
    pr_life,
    super::super::harness::Options::default(),
    p15_a_pr_life_to_the_permit_approved_only_by_an_authorised_post
);

async fn p17_refusal_only_through_a_hearing_in_its_windows(t: &TestApp) {
    let (_, v) = t
        .post("officer", "/api/v1/applications", &pr_request(t, "FA1234567"))
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    let url = |tail: &str| format!("/api/v1/applications/{id}{tail}");
    let mut answers = ALL_POSITIVE;
    answers[4] = ("police_records", "negative");
    send_and_answer(t, &id, &answers).await;
    let (s, v) = t
        .post("officer", &url("/conclusion"), &json!({"outcome": "refuse", "grounds": [{"check": "art_49", "detail": "нарушение законодательства о правовом положении иностранцев"}]}))
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("hearing_required")), "{v}");
    let head = person(t, "head.alm01", "head_of_city_district_police", "ALM-01").await;
    // No refusal without a hearing.
    let (s, p) = approve(t, &id, &head).await;
    assert_eq!((s, p["code"].as_str()), (409, Some("not_awaiting_approval")), "{p}");
    // A hearing scheduled too late (notice Mon 2 Feb → by Wed 4 Feb) changes nothing.
    let before = t.counts().await;
    let (s, p) = t
        .post("officer", &url("/hearing/notice"), &json!({"hearing_on": "2026-02-05"}))
        .await;
    assert_eq!((s, p["code"].as_str()), (422, Some("hearing_too_late")), "{p}");
    assert_eq!(t.counts().await, before);
    let (s, v) = t
        .post("officer", &url("/hearing/notice"), &json!({"hearing_on": "2026-02-04"}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["hearing"]["act_not_before"], "2026-02-05");
    // Tue 3 Feb: the hearing was announced for Wednesday; it cannot be recorded before it.
    t.advance(24 * 60);
    let before = t.counts().await;
    let (s, p) = t
        .post(
            "officer",
            &url("/hearing"),
            &json!({"position": "Не согласен, представлю справку", "result": "refuse"}),
        )
        .await;
    assert_eq!((s, p["code"].as_str()), (409, Some("hearing_not_yet")), "{p}");
    assert_eq!(t.counts().await, before);
    t.advance(24 * 60); // Wed 4 Feb: the hearing
    let (s, v) = t
        .post(
            "officer",
            &url("/hearing"),
            &json!({"position": "Не согласен, представлю справку", "result": "refuse"}),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("conclusion_drafted")), "{v}");
    // The act not before 3 working days after the notice (a new session: a day has passed).
    let head = person(t, "head2.alm01", "head_of_city_district_police", "ALM-01").await;
    let (s, p) = approve(t, &id, &head).await;
    assert_eq!((s, p["code"].as_str()), (409, Some("act_too_early")), "{p}");
    t.advance(24 * 60); // Thu 5 Feb
    let head = person(t, "head3.alm01", "head_of_city_district_police", "ALM-01").await;
    let (s, v) = approve(t, &id, &head).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "refused");
    assert_eq!(v["decision"]["concluded_on"], "2026-02-05");
    assert_eq!(v["decision"]["hearing"]["position"], "Не согласен, представлю справку");
    t.app.service.tick().await.unwrap();
    let (_, d) = t
        .get("auditor", &format!("/api/v1/monitoring/deliveries?application_id={id}"))
        .await;
    let notice = d
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["payload"]["form"] == "App. 10")
        .unwrap();
    assert_eq!(notice["payload"]["outcome"], "refused");
    assert_eq!(notice["payload"]["second_copy"], "personal file");
    assert!(
        notice["payload"]["grounds"][0]["detail"].is_string(),
        "the notice states the reason"
    );
    // The refusal now bars a new application until 5 February 2027 (п. 22).
    let (_, v) = t
        .post("officer", "/api/v1/applications", &pr_request(t, "FA1234567"))
        .await;
    assert_eq!(v["receipt"]["grounds"][0]["code"], "reapplication_barred", "{v}");
}
on_both!(
    pr_refusal,
    super::super::harness::Options::default(),
    p17_refusal_only_through_a_hearing_in_its_windows
);

async fn p17_a_hearing_can_lead_back_to_consideration(t: &TestApp) {
    let (_, v) = t
        .post("officer", "/api/v1/applications", &pr_request(t, "751234567"))
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    let url = |tail: &str| format!("/api/v1/applications/{id}{tail}");
    send_and_answer(t, &id, &ALL_POSITIVE).await;
    t.post(
        "officer",
        &url("/conclusion"),
        &json!({"outcome": "refuse", "grounds": [{"check": "solvency", "detail": "не подтверждена"}]}),
    )
    .await;
    let (s, _) = t
        .post(
            "officer",
            &url("/hearing"),
            &json!({"position": "x", "result": "continue"}),
        )
        .await;
    assert_eq!(s, 409, "no hearing before its notice");
    t.post("officer", &url("/hearing/notice"), &json!({"hearing_on": "2026-02-02"}))
        .await;
    let (s, v) = t
        .post(
            "officer",
            &url("/hearing"),
            &json!({"position": "Представил справку банка", "result": "continue"}),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("conclusion_due")), "{v}");
    let (s, v) = t
        .post("officer", &url("/conclusion"), &json!({"outcome": "issue"}))
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("conclusion_drafted")), "{v}");
}
on_both!(
    pr_hearing_continue,
    super::super::harness::Options::default(),
    p17_a_hearing_can_lead_back_to_consideration
);

/// Files, answers positively, concludes and approves: an issued PR permit. Returns the case id.
async fn issued_pr(t: &TestApp, document_number: &str, head: &(String, String)) -> String {
    let (_, v) = t
        .post("officer", "/api/v1/applications", &pr_request(t, document_number))
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    send_and_answer(t, &id, &ALL_POSITIVE).await;
    t.post(
        "officer",
        &format!("/api/v1/applications/{id}/conclusion"),
        &json!({"outcome": "issue"}),
    )
    .await;
    let (s, v) = approve(t, &id, head).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("issued")), "{v}");
    id
}

async fn p18_p21_annulment_with_exit_rvp_and_p17_1_transfer(t: &TestApp) {
    let head = person(t, "head.alm01", "head_of_city_district_police", "ALM-01").await;
    let id = issued_pr(t, "FA1234567", &head).await;
    // п. 17-1: the Бостандык police body takes the file the day the person registers there.
    let (_, officer2) = koshi::app::issue_token(&t.app.service.store, "officer", "ALM-02", "t")
        .await
        .unwrap();
    let r = t
        .http
        .post(format!("{}/api/v1/applications/{id}/transfer", t.base))
        .bearer_auth(&officer2)
        .json(&json!({"new_address": "г. Алматы, ул. Тимирязева, 42"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["from"].as_str(), v["unit"].as_str(), v["registered_on"].as_str()),
        (Some("ALM-01"), Some("ALM-02"), Some("2026-02-02"))
    );
    // Entered in the new body's journal the same day (App. 8).
    assert_eq!(v["case_file"], "ALM-02/1", "{v}");
    // ALM-01 no longer keeps the file: it neither reads nor acts on it.
    let (s, _) = t.get("officer", &format!("/api/v1/applications/{id}")).await;
    assert_eq!(s, 403, "the body the case left");
    // Now ALM-02 keeps it and reads it.
    let r = t
        .http
        .get(format!("{}/api/v1/applications/{id}", t.base))
        .bearer_auth(&officer2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let case: Value = r.json().await.unwrap();
    assert_eq!(case["unit"], "ALM-02");
    assert!(
        case["receipt"]["number"].as_str().unwrap().starts_with("ALM-01/"),
        "the journal entry stays where it was made"
    );
    assert!(
        case["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "pr.transferred" && e["citation"] == "п. 17-1")
    );
    // п. 18: the annulment conclusion (App. 11), drafted by ALM-02, approved by the department's head.
    let r = t
        .http
        .post(format!("{}/api/v1/applications/{id}/annulment", t.base))
        .bearer_auth(&officer2)
        .json(&json!({"grounds": [{"check": "art_49", "detail": "сообщил заведомо ложные сведения"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "annulment_hearing_required", "{v}");
    // п. 17, 18: the holder is heard before the annulment, as before a refusal.
    let dp_head = person(t, "head.dp", "head_of_police_department", "DP-ALM").await;
    let (s, v) = approve(t, &id, &dp_head).await;
    assert_eq!((s, v["code"].as_str()), (409, Some("not_awaiting_approval")), "{v}");
    let as02 = |path: String, body: Value| {
        let http = t.http.clone();
        let url = format!("{}{path}", t.base);
        let token = officer2.clone();
        async move {
            let r = http.post(url).bearer_auth(token).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = as02(
        format!("/api/v1/applications/{id}/hearing/notice"),
        json!({"hearing_on": "2026-02-03"}),
    )
    .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (200, Some("annulment_hearing_notified")),
        "{v}"
    );
    // The holder's written position arrives before the hearing and goes on the case.
    let (s, v) = as02(
        format!("/api/v1/applications/{id}/hearing/position"),
        json!({"position": "сведения были верными, прилагаю справку"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["hearing"]["written_positions"][0]["received_on"], "2026-02-02");
    let (s, v) = as02(
        format!("/api/v1/applications/{id}/hearing"),
        json!({"position": "не согласен", "result": "annul"}),
    )
    .await;
    assert_eq!((s, v["code"].as_str()), (409, Some("hearing_not_yet")), "{v}");
    t.clock.set("2026-02-03T10:00:00+05:00".parse().unwrap());
    let (s, v) = as02(
        format!("/api/v1/applications/{id}/hearing"),
        json!({"position": "не согласен", "result": "annul"}),
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("annulment_drafted")), "{v}");
    // (Sessions last 12 hours: the heads sign in again on the day they act.)
    let head = person(t, "head.alm01.b", "head_of_city_district_police", "ALM-01").await;
    assert_eq!(
        approve(t, &id, &head).await.1["code"],
        "no_approval_authority",
        "ALM-01's head does not reach ALM-02"
    );
    let dp_head = person(t, "head.dp.b", "head_of_police_department", "DP-ALM").await;
    let (s, v) = approve(t, &id, &dp_head).await;
    assert_eq!((s, v["code"].as_str()), (409, Some("act_too_early")), "{v}");
    t.clock.set("2026-02-05T10:00:00+05:00".parse().unwrap());
    let dp_head = person(t, "head.dp.c", "head_of_police_department", "DP-ALM").await;
    let (s, v) = approve(t, &id, &dp_head).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "annulled");
    let a = &v["decision"]["annulment"];
    // Approved on Thursday 5 February: 30 calendar days end on Saturday 7 March; 8 March and its
    // carry-over Monday are days off, so the last day is Tuesday 10 March (п. 20).
    assert_eq!(
        a["leave_by"], "2026-03-10",
        "30 calendar days after the approval (п. 20), off the days off"
    );
    assert_eq!(
        (
            a["exit_rvp"]["valid_from"].as_str(),
            a["exit_rvp"]["valid_until"].as_str()
        ),
        (Some("2026-02-05"), Some("2026-03-10"))
    );
    assert_eq!(v["decision"]["concluded_on"], "2026-02-05");
    assert_eq!(a["exit_rvp"]["calendar_status"], "official");
    // The exit clock is at risk at the end of the working day before the last day.
    let timers = t.app.service.store.timers_of(&id).await.unwrap();
    let at_risk = timers.iter().find(|x| x.kind == "pr.exit_deadline.at_risk").unwrap();
    assert_eq!(at_risk.due_at, "2026-03-06T13:30:00.000000Z");
    t.app.service.tick().await.unwrap();
    let (_, d) = t
        .get("auditor", &format!("/api/v1/monitoring/deliveries?application_id={id}"))
        .await;
    assert!(
        d.as_array().unwrap().iter().any(|m| m["payload"]["form"] == "App. 12"),
        "the annulment notice (App. 12)"
    );
    // The exit deadline is a clock: it fires once when it passes (10 March, 18:30).
    t.advance(36 * 24 * 60);
    t.app.service.tick().await.unwrap();
    t.app.service.tick().await.unwrap();
    let (_, case) = t.get("auditor", &format!("/api/v1/applications/{id}")).await;
    let n = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "pr.exit_deadline.passed")
        .count();
    assert_eq!(n, 1);
    let at_risk = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "pr.exit_deadline.at_risk")
        .count();
    assert_eq!(at_risk, 1);
    // п. 22: a year's bar from the annulment.
    let (_, v) = t
        .post("officer", "/api/v1/applications", &pr_request(t, "FA1234567"))
        .await;
    assert_eq!(v["receipt"]["grounds"][0]["code"], "reapplication_barred", "{v}");
}
on_both!(
    pr_annulment,
    super::super::harness::Options::default(),
    p18_p21_annulment_with_exit_rvp_and_p17_1_transfer
);

/// The restart test drives its own TestApp (it consumes it), on both databases.
async fn p14_a_pr_life_survives_a_restart(t: TestApp) -> TestApp {
    let (_, v) = t
        .post("officer", "/api/v1/applications", &pr_request(&t, "AC2345678"))
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    // National security has not answered yet.
    send_and_answer(&t, &id, &ALL_POSITIVE[..3]).await;
    record_answers(&t, &id, &ALL_POSITIVE[4..]).await;
    // Koshi stops; weeks pass; a new Koshi starts on the same database.
    let t = t.restart().await;
    t.advance(26 * 24 * 60);
    t.app.service.tick().await.unwrap();
    let case = t.case(&id).await;
    assert_eq!(case["status"], "awaiting_answers");
    let overdue: Vec<&Value> = case["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "pr.answer.overdue")
        .collect();
    assert_eq!(
        overdue.len(),
        1,
        "the national-security clock set before the restart fired once after it"
    );
    assert_eq!(overdue[0]["detail"]["due"]["agency"], "national_security");
    // The late answer still counts; the case goes on to the permit.
    let (s, v) = t
        .post(
            "national_security",
            &format!("/api/v1/applications/{id}/answers"),
            &json!({"agency": "national_security", "outcome": "positive"}),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("conclusion_due")), "{v}");
    t.post(
        "officer",
        &format!("/api/v1/applications/{id}/conclusion"),
        &json!({"outcome": "issue"}),
    )
    .await;
    let head = person(&t, "head.alm01", "head_of_city_district_police", "ALM-01").await;
    let (s, v) = approve(&t, &id, &head).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("issued")), "{v}");
    assert!(t.app.service.store.verify_audit().await.unwrap().first_broken.is_none());
    t
}

mod pr_restart {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let t = crate::harness::spawn(crate::harness::Backend::Sqlite, crate::harness::Options::default())
            .await
            .unwrap();
        super::p14_a_pr_life_survives_a_restart(t).await.done().await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some(t) =
            crate::harness::spawn(crate::harness::Backend::Postgres, crate::harness::Options::default()).await
        else {
            return;
        };
        super::p14_a_pr_life_survives_a_restart(t).await.done().await;
    }
}

async fn p14_one_case_file_per_adult_and_children_documents(t: &TestApp) {
    let mut req = pr_request(t, "EB3456789");
    let member = |birth: &str, doc: &str| {
        json!({"surname": "DEMO", "given_names": "FAMILY", "birth_date": birth, "citizenship": "CHN",
               "document": {"number": doc, "expires_on": "2030-01-01"}, "relationship": "spouse"})
    };
    req["family"] = json!([member("1987-04-01", "EF1111111"), member("2015-09-01", "EF2222222")]);
    // A child under 16 applies with the parents: the birth certificate is part of the package.
    let (_, v) = t.post("officer", "/api/v1/applications", &req).await;
    assert_eq!(v["receipt"]["grounds"][0]["document"], "children_documents", "{v}");
    req["documents"]
        .as_array_mut()
        .unwrap()
        .push(json!({"kind": "children_documents", "issued_on": "2016-01-10"}));
    let (s, v) = t.post("officer", "/api/v1/applications", &req).await;
    assert_eq!(s, 201, "{v}");
    let files: Vec<&str> = v["case_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        ["ALM-01/1", "ALM-01/2"],
        "the applicant and the adult spouse; the child has none"
    );
}
on_both!(
    pr_case_files,
    super::super::harness::Options::default(),
    p14_one_case_file_per_adult_and_children_documents
);

async fn p49_solvency_decides_whether_a_permit_can_be_issued(t: &TestApp) {
    // 1,320 MCI (4,325 ₸ in 2026) + 15 m² × 1 × 500,000 ₸ = 5,709,000 + 7,500,000 = 13,209,000 ₸.
    // (document number, solvency, ground, documents added, solvency certificate kept, outcome)
    let cases = [
        (
            "FA1234567",
            json!({"funds_tiyn": 1_320_899_900i64, "price_per_square_metre_tiyn": 50_000_000i64}),
            "visa_free_state",
            vec![],
            true,
            Some("insufficient_solvency"),
        ),
        (
            "751234567",
            json!({"funds_tiyn": 1_320_900_000i64, "price_per_square_metre_tiyn": 50_000_000i64}),
            "visa_free_state",
            vec![],
            true,
            None,
        ),
        // Housing contracted (the contract is in the package): only the 1,320 MCI.
        (
            "AC2345678",
            json!({"funds_tiyn": 570_900_000i64}),
            "visa_free_state",
            vec!["housing_provision_contract"],
            true,
            None,
        ),
        // Exempt by a kandas certificate, and by the ground (ethnic Kazakh): nothing required.
        (
            "400345678",
            Value::Null,
            "visa_free_state",
            vec!["kandas_certificate"],
            false,
            None,
        ),
        ("FA7654321", Value::Null, "ethnic_kazakh", vec![], false, None),
    ];
    for (doc, solvency, ground, extra, certificate, expected) in cases {
        let mut req = pr_request(t, doc);
        req["solvency"] = solvency;
        req["ground"] = json!(ground);
        let docs = req["documents"].as_array_mut().unwrap();
        if !certificate {
            docs.retain(|d| d["kind"] != "solvency_certificate");
        }
        for kind in extra {
            docs.push(json!({"kind": kind, "issued_on": "2026-01-10"}));
        }
        let (s, v) = t.post("officer", "/api/v1/applications", &req).await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["receipt"]["type"], "acceptance", "{doc}: {v}");
        let id = v["id"].as_str().unwrap().to_string();
        send_and_answer(t, &id, &ALL_POSITIVE).await;
        let (s, v) = t
            .post(
                "officer",
                &format!("/api/v1/applications/{id}/conclusion"),
                &json!({"outcome": "issue"}),
            )
            .await;
        match expected {
            Some(code) => assert_eq!((s, v["code"].as_str()), (409, Some(code)), "{doc}: {v}"),
            None => assert_eq!(
                (s, v["status"].as_str()),
                (200, Some("conclusion_drafted")),
                "{doc}: {v}"
            ),
        }
    }
    // The filer's word decides nothing: a declared exemption or contracted housing is refused,
    // and without the certificate or a proof of exemption the package is incomplete.
    let before = t.counts().await;
    for fact in ["solvency_exempt", "housing_contracted", "refugee_or_asylum"] {
        let mut req = pr_request(t, "AB7654321");
        req["facts"] = json!([fact]);
        let (s, p) = t.post("officer", "/api/v1/applications", &req).await;
        assert_eq!(
            (s, p["code"].as_str()),
            (422, Some("fact_not_declarable")),
            "{fact}: {p}"
        );
    }
    assert_eq!(t.counts().await, before);
    let mut req = pr_request(t, "AB7654321");
    req["documents"]
        .as_array_mut()
        .unwrap()
        .retain(|d| d["kind"] != "solvency_certificate");
    let (s, v) = t.post("officer", "/api/v1/applications", &req).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["receipt"]["type"], "refusal_to_accept", "{v}");
    assert_eq!(v["receipt"]["grounds"][0]["document"], "solvency_certificate", "{v}");
}
on_both!(
    pr_solvency,
    super::super::harness::Options::default(),
    p49_solvency_decides_whether_a_permit_can_be_issued
);

async fn pr_a_retried_filing_with_the_same_idempotency_key_creates_one_case(t: &TestApp) {
    let body = serde_json::to_vec(&pr_request(t, "FA1234567")).unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (s, v) = t
            .post_raw("officer", "/api/v1/applications", body.clone(), Some("pr-key-1"))
            .await;
        assert_eq!(s, 201, "{v}");
        ids.push(v["id"].as_str().unwrap().to_string());
        assert_eq!(v["receipt"]["number"], "ALM-01/1");
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    assert_eq!(t.app.service.store.count_applications().await.unwrap(), 1);
    let other = serde_json::to_vec(&pr_request(t, "751234567")).unwrap();
    let (s, p) = t
        .post_raw("officer", "/api/v1/applications", other, Some("pr-key-1"))
        .await;
    assert_eq!((s, p["code"].as_str()), (422, Some("idempotency_key_reused")));
}
on_both!(
    pr_idempotency,
    super::super::harness::Options::default(),
    pr_a_retried_filing_with_the_same_idempotency_key_creates_one_case
);

/// Nothing fails open: a conclusion that cannot be read is never approved (it would have been
/// read as a refusal without a hearing); an intact one starts the notification clock, which the
/// delivered notification stops.
async fn pr_an_unreadable_conclusion_is_never_approved(t: &TestApp) {
    let (_, v) = t
        .post("officer", "/api/v1/applications", &pr_request(t, "FA1234567"))
        .await;
    let id = v["id"].as_str().unwrap().to_string();
    send_and_answer(t, &id, &ALL_POSITIVE).await;
    let (s, v) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/conclusion"),
            &json!({"outcome": "issue"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let store = &t.app.service.store;
    let app = store.application(&id).await.unwrap().unwrap();
    let intact = app.decision.clone();
    let corrupt = |revision: i64, decision: Option<String>| koshi_store::repo::StatusChange {
        id: id.clone(),
        expected_revision: revision,
        status: "conclusion_drafted".into(),
        decision,
        permit_number: None,
        valid_from: None,
        valid_until: None,
        updated_at: app.updated_at.clone(),
    };
    store
        .write(koshi_store::Unit::new().with(koshi_store::repo::change_status(corrupt(
            app.revision,
            Some("{\"conclusion\": {\"outcome\": 7}}".into()),
        ))))
        .await
        .unwrap();
    let head = person(t, "head.alm01", "head_of_city_district_police", "ALM-01").await;
    let before = t.counts().await;
    let (s, p) = approve(t, &id, &head).await;
    assert_eq!((s, p["code"].as_str()), (409, Some("stored_record_unreadable")), "{p}");
    assert_eq!(t.counts().await, before);
    assert_eq!(t.case(&id).await["status"], "conclusion_drafted");

    // Put right, the approval goes through and the notification's clock runs until delivery.
    let app = store.application(&id).await.unwrap().unwrap();
    store
        .write(koshi_store::Unit::new().with(koshi_store::repo::change_status(corrupt(app.revision, intact))))
        .await
        .unwrap();
    let (s, v) = approve(t, &id, &head).await;
    assert_eq!(s, 200, "{v}");
    let state = |timers: &[koshi_store::timers::TimerRow], kind: &str| {
        timers.iter().find(|x| x.kind == kind).map(|x| x.state.clone())
    };
    let timers = store.timers_of(&id).await.unwrap();
    assert_eq!(state(&timers, "pr.notification").as_deref(), Some("pending"));
    t.app.service.tick().await.unwrap();
    let timers = store.timers_of(&id).await.unwrap();
    assert_eq!(
        state(&timers, "pr.notification").as_deref(),
        Some("cancelled"),
        "{timers:?}"
    );
}
on_both!(
    pr_unreadable_conclusion,
    super::super::harness::Options::default(),
    pr_an_unreadable_conclusion_is_never_approved
);

/// п. 15: via a ЦОН the result must reach it a day before the term ends; that is a clock from
/// acceptance, stopped when the notification reaches the ЦОН.
async fn p15_con_delivery_is_a_clock_from_acceptance(t: &TestApp) {
    let mut req = pr_request(t, "FA1234567");
    req["police_unit"] = json!("ALM-01");
    for d in req["documents"].as_array_mut().unwrap() {
        d["attachment"] = json!({"media_type": "application/pdf", "content_base64": "JVBERi0xLjQK"});
    }
    let (s, v) = t.post("con_operator", "/api/v1/applications", &req).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["status"], "registered", "{v}");
    let id = v["id"].as_str().unwrap();
    let due: jiff::civil::Date = v["due_on"].as_str().unwrap().parse().unwrap();
    let timers = t.app.service.store.timers_of(id).await.unwrap();
    let clock = timers
        .iter()
        .find(|x| x.kind == "pr.con_delivery")
        .unwrap_or_else(|| panic!("{timers:?}"));
    let day_before = due.yesterday().unwrap();
    assert!(
        clock.due_at.starts_with(&day_before.to_string()),
        "{} vs {day_before}",
        clock.due_at
    );
    assert!(timers.iter().any(|x| x.kind == "pr.con_delivery.at_risk"));
}
on_both!(
    pr_con_delivery_clock,
    super::super::harness::Options::default(),
    p15_con_delivery_is_a_clock_from_acceptance
);

async fn set_to(t: &TestApp, due_at: &str, minutes_after: i64) {
    let at: jiff::Timestamp = due_at.parse().unwrap();
    t.clock
        .set(at.checked_add(jiff::SignedDuration::from_mins(minutes_after)).unwrap());
}

/// The ЦОН delivery (п. 15) and the notification (п. 14 пп. 5) clocks each fire once, at risk
/// then overdue, across a restart.
async fn p14_p15_pr_clocks_fire_once_across_a_restart(t: TestApp) -> TestApp {
    // A ЦОН filing nobody works on: its delivery clock runs out.
    let mut req = pr_request(&t, "AC2345678");
    req["police_unit"] = json!("ALM-01");
    for d in req["documents"].as_array_mut().unwrap() {
        d["attachment"] = json!({"media_type": "application/pdf", "content_base64": "JVBERi0xLjQK"});
    }
    let (s, v) = t.post("con_operator", "/api/v1/applications", &req).await;
    assert_eq!(s, 201, "{v}");
    let con_id = v["id"].as_str().unwrap().to_string();
    // A desk case approved while the desk printer is down: its notification cannot go out.
    t.app.sink.set_failing("delivery.desk_print", true);
    let head = person(&t, "head.alm01", "head_of_city_district_police", "ALM-01").await;
    let desk_id = issued_pr(&t, "FA1234567", &head).await;
    t.app.service.tick().await.unwrap();
    let timers = t.app.service.store.timers_of(&desk_id).await.unwrap();
    let notif = timers
        .iter()
        .find(|x| x.kind == "pr.notification")
        .unwrap()
        .due_at
        .clone();
    let notif_risk = timers
        .iter()
        .find(|x| x.kind == "pr.notification.at_risk")
        .unwrap()
        .due_at
        .clone();
    set_to(&t, &notif_risk, 1).await;
    t.app.service.tick().await.unwrap();
    let t = t.restart().await;
    t.app.sink.set_failing("delivery.desk_print", true); // still down after the restart
    set_to(&t, &notif, 1).await;
    t.app.service.tick().await.unwrap();
    t.app.service.tick().await.unwrap();
    let case = t.case(&desk_id).await;
    assert_eq!(
        crate::harness::count_actions(&case, "pr.notification.at_risk"),
        1,
        "{case}"
    );
    assert_eq!(
        crate::harness::count_actions(&case, "pr.notification.overdue"),
        1,
        "{case}"
    );

    let timers = t.app.service.store.timers_of(&con_id).await.unwrap();
    let due = timers
        .iter()
        .find(|x| x.kind == "pr.con_delivery")
        .unwrap()
        .due_at
        .clone();
    let risk = timers
        .iter()
        .find(|x| x.kind == "pr.con_delivery.at_risk")
        .unwrap()
        .due_at
        .clone();
    set_to(&t, &risk, 1).await;
    t.app.service.tick().await.unwrap();
    let case = t.case(&con_id).await;
    assert_eq!(
        crate::harness::count_actions(&case, "pr.con_delivery.at_risk"),
        1,
        "{case}"
    );
    assert_eq!(
        crate::harness::count_actions(&case, "pr.con_delivery.overdue"),
        0,
        "{case}"
    );
    let t = t.restart().await;
    set_to(&t, &due, 1).await;
    t.app.service.tick().await.unwrap();
    t.app.service.tick().await.unwrap();
    let case = t.case(&con_id).await;
    assert_eq!(
        crate::harness::count_actions(&case, "pr.con_delivery.at_risk"),
        1,
        "{case}"
    );
    assert_eq!(
        crate::harness::count_actions(&case, "pr.con_delivery.overdue"),
        1,
        "{case}"
    );
    t
}

mod pr_clocks_restart {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let t = crate::harness::spawn(crate::harness::Backend::Sqlite, crate::harness::Options::default())
            .await
            .unwrap();
        super::p14_p15_pr_clocks_fire_once_across_a_restart(t)
            .await
            .done()
            .await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some(t) =
            crate::harness::spawn(crate::harness::Backend::Postgres, crate::harness::Options::default()).await
        else {
            return;
        };
        super::p14_p15_pr_clocks_fire_once_across_a_restart(t)
            .await
            .done()
            .await;
    }
}
