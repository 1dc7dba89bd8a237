//! The PR service over HTTP: restarts, case files per adult, solvency, idempotency, unreadable records, the ЦОН delivery clock. On SQLite and PostgreSQL.

use crate::harness::TestApp;
use crate::on_both;
use crate::pr::*;
use serde_json::{Value, json};

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
        // Exempt by a kandas certificate, and by the ground (ethnic Kazakh, proven by its
        // document): nothing required.
        (
            "400345678",
            Value::Null,
            "visa_free_state",
            vec!["kandas_certificate"],
            false,
            None,
        ),
        (
            "FA7654321",
            Value::Null,
            "ethnic_kazakh",
            vec!["kazakh_nationality_document"],
            false,
            None,
        ),
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

/// п. 11: a ground that decides who may apply and what the package holds (a refugee's, an ethnic
/// Kazakh's) is proven by its document in the package. Named without it, the package is
/// incomplete: refused at the counter (п. 12, App. 6), recorded as a case of its own, and no
/// exemption the ground would grant is taken.
async fn p11_the_ground_is_proven_by_its_document(t: &TestApp) {
    let cases = [
        ("refugee", "refugee_certificate", "FA1234567"),
        ("ethnic_kazakh", "kazakh_nationality_document", "751234567"),
    ];
    for (ground, proof, doc) in cases {
        let mut req = pr_request(t, doc);
        req["ground"] = json!(ground);
        let (s, v) = t.post("officer", "/api/v1/applications", &req).await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(
            (v["status"].as_str(), v["receipt"]["type"].as_str()),
            (Some("refused_to_accept"), Some("refusal_to_accept")),
            "{ground} without {proof}: {v}"
        );
        let grounds = v["receipt"]["grounds"].as_array().unwrap();
        assert!(
            grounds
                .iter()
                .any(|g| g["code"] == "missing_document" && g["document"] == proof),
            "{ground}: {v}"
        );
        // With its proof the same filing is accepted, and the ground's exemption applies: an
        // ethnic Kazakh needs no solvency certificate, a refugee no exit consent.
        let mut req = pr_request(t, doc);
        req["ground"] = json!(ground);
        let docs = req["documents"].as_array_mut().unwrap();
        docs.push(json!({"kind": proof, "issued_on": "2025-05-05"}));
        let exempt = if ground == "refugee" {
            "exit_consent"
        } else {
            "solvency_certificate"
        };
        docs.retain(|d| d["kind"] != exempt);
        if ground == "ethnic_kazakh" {
            req["solvency"] = Value::Null;
        }
        let (s, v) = t.post("officer", "/api/v1/applications", &req).await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(
            (v["status"].as_str(), v["receipt"]["type"].as_str()),
            (Some("registered"), Some("acceptance")),
            "{ground} with {proof}, without {exempt}: {v}"
        );
    }
}

on_both!(
    pr_ground_proof,
    super::super::harness::Options::default(),
    p11_the_ground_is_proven_by_its_document
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
    for d in req["documents"].as_array_mut().unwrap() {
        d["attachment"] = json!({"media_type": "application/pdf", "content_base64": "JVBERi0xLjQK"});
    }
    // A ЦОН never owns or journals a PR (п. 14 пп. 1): it names the police body, and gives no
    // filing instant of its own; either refusal writes nothing.
    let before = t.counts().await;
    let (s, p) = t.post("con_operator", "/api/v1/applications", &req).await;
    assert_eq!((s, p["code"].as_str()), (422, Some("police_unit_required")), "{p}");
    let mut earlier = req.clone();
    earlier["police_unit"] = json!("ALM-01");
    earlier["filed_at"] = json!("2026-02-02T09:30:00+05:00");
    earlier["paper_filing"] = json!({"receipt_number": "1", "reason": "entered late"});
    let (s, p) = t.post("con_operator", "/api/v1/applications", &earlier).await;
    assert_eq!((s, p["code"].as_str()), (422, Some("filed_at_not_allowed")), "{p}");
    assert_eq!(t.counts().await, before);
    req["police_unit"] = json!("ALM-01");
    let (s, v) = t.post("con_operator", "/api/v1/applications", &req).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["status"], "registered", "{v}");
    // Entered in the police body's journal (App. 8), not the ЦОН's.
    assert_eq!(v["receipt"]["number"], "ALM-01/1", "{v}");
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
