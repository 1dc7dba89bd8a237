//! The PR service over HTTP after intake (chapter 3): the life to the permit, refusals through a hearing, annulment and transfer, solvency, restarts; on SQLite and PostgreSQL.

use crate::harness::TestApp;
use crate::on_both;
use serde_json::{Value, json};

use crate::pr::*;

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

/// The message of a case that `which` picks, as the monitoring API lists it.
async fn message_of(t: &TestApp, id: &str, which: impl Fn(&Value) -> bool) -> Value {
    let (_, d) = t
        .get("auditor", &format!("/api/v1/monitoring/deliveries?application_id={id}"))
        .await;
    d.as_array()
        .unwrap()
        .iter()
        .find(|m| which(m))
        .cloned()
        .unwrap_or_else(|| panic!("no such message among {d}"))
}

async fn p17_refusal_only_through_a_hearing_in_its_windows(t: &TestApp) {
    let mut filing = pr_request(t, "FA1234567");
    filing["contact"] = json!({"phone": "+7 701 000 00 01", "email": "applicant@example.kz"});
    let (_, v) = t.post("officer", "/api/v1/applications", &filing).await;
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
    // The notice goes to the applicant by the case's channel (a desk filing: the desk's print)
    // and at the contact the filing gave.
    let notice = message_of(t, &id, |m| m["payload"]["document"] == "hearing_notice").await;
    assert_eq!(notice["topic"], "delivery.desk_print", "{notice}");
    assert_eq!(notice["payload"]["hearing_on"], "2026-02-04", "{notice}");
    assert_eq!(notice["payload"]["contact"]["phone"], "+7 701 000 00 01", "{notice}");
    assert_eq!(
        notice["payload"]["contact"]["email"], "applicant@example.kz",
        "{notice}"
    );
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
    let notice = message_of(t, &id, |m| m["payload"]["form"] == "App. 10").await;
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

async fn p18_p21_annulment_with_exit_rvp_and_p17_1_transfer(t: &TestApp) {
    let head = person(t, "head.alm01", "head_of_city_district_police", "ALM-01").await;
    let id = issued_pr(t, "FA1234567", &head).await;
    // п. 17-1: the Бостандык police body takes the file the day the person registers there.
    let (_, officer2) = koshi::app::issue_token(&t.app.service.store, "officer", "ALM-02", "t")
        .await
        .unwrap();
    // The new body requests the file: not the body that keeps it, not a ЦОН, not without the new
    // address; and only an issued PR moves. Each refusal writes nothing.
    let before = t.counts().await;
    let transfer = |token: String, case: String, body: Value| async move {
        let r = t
            .http
            .post(format!("{}/api/v1/applications/{case}/transfer", t.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
    };
    let address = json!({"new_address": "г. Алматы, ул. Тимирязева, 42"});
    let (s, p) = transfer(t.tokens["officer"].clone(), id.clone(), address.clone()).await;
    assert_eq!((s, p["code"].as_str()), (409, Some("same_unit")), "{p}");
    let (s, p) = transfer(t.tokens["con_operator"].clone(), id.clone(), address.clone()).await;
    assert_eq!(s, 403, "{p}");
    let (s, p) = transfer(officer2.clone(), id.clone(), json!({"new_address": " "})).await;
    assert_eq!((s, p["code"].as_str()), (422, Some("missing_field")), "{p}");
    assert_eq!(t.counts().await, before);
    let (s, rvp) = t.file(&t.request("751234567", "labour_contract")).await;
    assert_eq!(s, 201, "{rvp}");
    t.app.service.settle().await;
    let before_rvp = t.counts().await;
    let (s, p) = transfer(
        officer2.clone(),
        rvp["id"].as_str().unwrap().to_string(),
        address.clone(),
    )
    .await;
    assert_eq!((s, p["code"].as_str()), (409, Some("not_transferable")), "{p}");
    assert_eq!(t.counts().await, before_rvp);
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
    // The documents of the case (issue 16): App. 9 and 10 of the issue, App. 11 and 12 of the
    // annulment, the exit RVP (п. 21); the notification of issue now checks as annulled, at once.
    let (s, docs) = t.get("auditor", &format!("/api/v1/applications/{id}/documents")).await;
    assert_eq!(s, 200, "{docs}");
    let forms: Vec<&str> = docs
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["form"].as_str().unwrap())
        .collect();
    assert_eq!(
        forms,
        [
            "receipt",
            "pr_conclusion",
            "pr_notification",
            "annulment_conclusion",
            "annulment_notification",
            "exit_permit"
        ]
    );
    let code_of = |form: &str| {
        docs.as_array().unwrap().iter().find(|d| d["form"] == form).unwrap()["code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (s, v) = t
        .get("", &format!("/api/v1/verify/{}", code_of("pr_notification")))
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("annulled")), "{v}");
    // The public page says so too, to anyone who scans the code.
    let page = t
        .http
        .get(format!("{}/verify/{}", t.base, code_of("pr_notification")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Аннулировано"), "{html}");
    let (s, v) = t.get("", &format!("/api/v1/verify/{}", code_of("exit_permit"))).await;
    assert_eq!(
        (s, v["status"].as_str(), v["valid_until"].as_str()),
        (200, Some("valid"), Some("2026-03-10")),
        "{v}"
    );
    let exit = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["form"] == "exit_permit")
        .unwrap();
    let r = t
        .http
        .get(format!("{}{}?lang=ru", t.base, exit["href"].as_str().unwrap()))
        .bearer_auth(&t.tokens["auditor"])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
    // The journal of PR files (App. 8) of ALM-02 for the year: a signed, checkable document.
    let r = t
        .http
        .get(format!(
            "{}/api/v1/journal?unit=ALM-02&from=2026-01-01&to=2026-12-31",
            t.base
        ))
        .bearer_auth(&officer2)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let header = r
        .headers()
        .get("koshi-document")
        .map(|h| h.to_str().unwrap().to_string());
    let body = r.bytes().await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let header = header.unwrap();
    assert!(body.starts_with(b"%PDF"));
    let code = header.split("code=").nth(1).unwrap();
    let (s, v) = t.get("", &format!("/api/v1/verify/{code}")).await;
    assert_eq!(
        (s, v["status"].as_str(), v["appendix"].as_str()),
        (200, Some("issued"), Some("8")),
        "{v}"
    );
    // Another body's journal is not this officer's to read; a period backwards is refused.
    let r = t
        .http
        .get(format!(
            "{}/api/v1/journal?unit=ALM-01&from=2026-01-01&to=2026-12-31",
            t.base
        ))
        .bearer_auth(&officer2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = t
        .http
        .get(format!(
            "{}/api/v1/journal?unit=ALM-02&from=2026-12-31&to=2026-01-01",
            t.base
        ))
        .bearer_auth(&officer2)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
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
