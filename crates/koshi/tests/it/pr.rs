//! The PR service over HTTP (chapter 3), first slice: intake, the App. 8 journal, the clocks,
//! the п. 22 bar. On SQLite and PostgreSQL.

use base64::Engine;
use serde_json::{Value, json};

use crate::harness::TestApp;
use crate::on_both;

pub(crate) use koshi::demo::PR_DOCUMENTS;

/// A complete PR package for a fixture person (App. 3), filed at the desk.
pub(crate) fn pr_request(t: &TestApp, document_number: &str) -> Value {
    koshi::demo::pr_request(&t.fixtures, document_number, "2026-01-10").unwrap()
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
                   "conclusion": {"outcome": "refuse", "form": "App. 9", "citation": "п. 14 пп. 4; п. 17",
                                  "drafted_by": "officer:1", "drafted_at": "2025-02-03T06:00:00Z"}})
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

/// A background pass that finds many clocks due at once (the service resumed after a long stop)
/// fires each once, and within a case in the order of the terms: a clock's "at risk" mark
/// before its overdue mark, the stage before the whole term; several cases are fired together.
async fn clocks_due_together_fire_once_each_in_their_order(t: &TestApp) {
    let mut ids = Vec::new();
    for _ in 0..12 {
        let (s, v) = t
            .post("officer", "/api/v1/applications", &pr_request(t, "FA1234567"))
            .await;
        assert_eq!(s, 201, "{v}");
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    t.advance(200 * 24 * 60);
    t.app.service.tick().await.unwrap();
    t.app.service.tick().await.unwrap();
    // The stage to the УМС (5 days), then the 60-day term; each term's "at risk" mark is
    // `pr.stage.at_risk` (п. 14).
    let want = [
        "pr.stage.at_risk",
        "pr.stage.overdue",
        "pr.stage.at_risk",
        "pr.term.overdue",
    ];
    for id in &ids {
        let case = t.case(id).await;
        let marks: Vec<&str> = case["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str())
            .filter(|a| want.contains(a))
            .collect();
        assert_eq!(marks, want, "{id}");
        let timers = t.app.service.store.timers_of(id).await.unwrap();
        assert!(timers.iter().all(|x| x.state == "fired"), "{timers:?}");
    }
}
on_both!(
    pr_clocks_together,
    super::super::harness::Options::default(),
    clocks_due_together_fire_once_each_in_their_order
);

/// Every agency of п. 14 answering positively.
pub(crate) const ALL_POSITIVE: [(&str, &str); 5] = [
    ("bank", "positive"),
    ("ums_dp", "positive"),
    ("kpsisu", "positive"),
    ("national_security", "positive"),
    ("police_records", "positive"),
];

/// Sends the п. 14 requests of a case, then records these answers in order.
pub(crate) async fn send_and_answer(t: &TestApp, id: &str, answers: &[(&str, &str)]) {
    let (s, v) = t
        .post("officer", &format!("/api/v1/applications/{id}/requests"), &json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    record_answers(t, id, answers).await;
}

/// Records these answers in order (the requests already went out).
pub(crate) async fn record_answers(t: &TestApp, id: &str, answers: &[(&str, &str)]) {
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
pub(crate) async fn person(t: &TestApp, username: &str, post: &str, unit: &str) -> (String, String) {
    person_with_role(t, username, "officer", post, unit).await
}

/// Signs a person of this role in and returns (cookie, csrf).
pub(crate) async fn person_with_role(
    t: &TestApp,
    username: &str,
    role: &str,
    post: &str,
    unit: &str,
) -> (String, String) {
    koshi::accounts::add_user(
        &t.app.service.store,
        username,
        "пароль-для-теста-2026",
        role,
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
    assert_eq!(r.status(), 201, "{username} signs in");
    let cookie = crate::harness::cookie_of(&r);
    let v: Value = r.json().await.unwrap();
    (cookie, v["csrf_token"].as_str().unwrap().to_string())
}

pub(crate) async fn approve(t: &TestApp, id: &str, who: &(String, String)) -> (u16, Value) {
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

/// Files, answers positively, concludes and approves: an issued PR permit. Returns the case id.
pub(crate) async fn issued_pr(t: &TestApp, document_number: &str, head: &(String, String)) -> String {
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

pub(crate) async fn set_to(t: &TestApp, due_at: &str, minutes_after: i64) {
    let at: jiff::Timestamp = due_at.parse().unwrap();
    t.clock
        .set(at.checked_add(jiff::SignedDuration::from_mins(minutes_after)).unwrap());
}
