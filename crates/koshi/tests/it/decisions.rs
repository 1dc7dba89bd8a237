//! Decisions by the people the Rules name (issue 14 item 5; п. 9-1, 9-3): an act prepared without
//! a person is formed by an officer or a police body's duty officer, never before the acceptance
//! day; an officer may set aside a check finding that is no ground in the case, with a reason,
//! and refuse on any ground of law. On SQLite and PostgreSQL.

use serde_json::{Value, json};

use crate::harness::{Options, TestApp};
use crate::on_both;

fn no_duty_officer() -> Options {
    Options {
        duty_officers: false,
        ..Options::default()
    }
}

async fn decide(t: &TestApp, id: &str, body: Value) -> (u16, Value) {
    t.post("officer", &format!("/api/v1/applications/{id}/decision"), &body)
        .await
}

/// A body without a duty officer: the clean act is prepared and waits for an officer, who may
/// not form it before the acceptance day; formed on that day, it is valid from it.
async fn p9_1_a_prepared_act_waits_for_an_officer_and_the_acceptance_day(t: &TestApp) {
    // Monday 19:00, after working time: the application counts as accepted on Tuesday (п. 8).
    t.clock.set("2026-02-02T19:00:00+05:00".parse().unwrap());
    let case = t.file_and_process(&t.request("FA1234567", "labour_contract")).await;
    assert_eq!(case["accepted_on"], "2026-02-03");
    assert_eq!(case["status"], "awaiting_confirmation", "{case}");
    let proposed = &case["decision"]["proposed"];
    assert_eq!(proposed["prepared_by"], "straight_through");
    assert!(
        proposed["to_be_formed_by"]
            .as_str()
            .unwrap()
            .contains("no duty officer")
    );
    let id = case["id"].as_str().unwrap();
    let before = t.counts().await;
    let (s, p) = decide(t, id, json!({"action": "confirm"})).await;
    assert_eq!((s, p["code"].as_str()), (409, Some("before_acceptance_day")), "{p}");
    assert_eq!(t.counts().await, before, "nothing written");
    // Tuesday morning, nothing has been formed by itself; the officer forms it.
    t.clock.set("2026-02-03T10:00:00+05:00".parse().unwrap());
    t.app.service.tick().await.unwrap();
    assert_eq!(t.case(id).await["status"], "awaiting_confirmation");
    let (s, d) = decide(t, id, json!({"action": "confirm"})).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["decision"]["valid_from"], "2026-02-03");
    assert!(
        d["decision"]["decided_by"]
            .as_str()
            .unwrap()
            .starts_with("officer@ALM-01")
    );
    assert!(d["decision"].get("formed_by").is_none(), "{d}");
}
on_both!(
    prepared_act,
    super::no_duty_officer(),
    p9_1_a_prepared_act_waits_for_an_officer_and_the_acceptance_day
);

/// With a duty officer: a desk filing after working time is formed in the duty officer's name at
/// the start of the next working time, valid from that day; within working time at once.
async fn p9_1_the_duty_officer_forms_in_working_time_only(t: &TestApp) {
    let now = t.file_and_process(&t.request("751234567", "labour_contract")).await;
    assert_eq!(now["status"], "issued", "Monday 10:00: {now}");
    assert_eq!(now["decision"]["decided_by"], "duty_officer:duty.alm01@ALM-01");
    assert_eq!(now["decision"]["valid_from"], "2026-02-02");
    t.clock.set("2026-02-02T19:00:00+05:00".parse().unwrap());
    let case = t.file_and_process(&t.request("FA1234567", "labour_contract")).await;
    assert_eq!(case["status"], "awaiting_confirmation", "{case}");
    assert_eq!(
        case["decision"]["proposed"]["to_be_formed_at"],
        "2026-02-03T04:00:00.000000Z"
    );
    let id = case["id"].as_str().unwrap();
    t.clock.set("2026-02-03T08:59:00+05:00".parse().unwrap());
    t.app.service.tick().await.unwrap();
    assert_eq!(t.case(id).await["status"], "awaiting_confirmation", "not before 09:00");
    t.clock.set("2026-02-03T09:00:30+05:00".parse().unwrap());
    t.app.service.tick().await.unwrap();
    let case = t.case(id).await;
    assert_eq!(case["status"], "issued", "{case}");
    assert_eq!(case["decision"]["valid_from"], "2026-02-03");
    assert_eq!(case["decision"]["formed_by"]["account"], "duty.alm01");
    // The fired forming timer does nothing more.
    t.advance(24 * 60);
    t.app.service.tick().await.unwrap();
    assert_eq!(crate::harness::count_actions(&t.case(id).await, "decision.issued"), 1);
}
on_both!(
    duty_officer,
    crate::harness::Options::default(),
    p9_1_the_duty_officer_forms_in_working_time_only
);

/// п. 9-3: an officer may issue over a finding that is no ground in the case (no crossing for
/// someone born here) with a reason, never over a ground of law, and may refuse on any ground of
/// law, not only the seven checks.
async fn p9_3_set_aside_only_what_is_no_ground_and_refuse_on_any_ground_of_law(t: &TestApp) {
    let born_here = t.file_and_process(&t.request("AB7654321", "labour_contract")).await;
    assert_eq!(born_here["decision"]["proposed"]["outcome"], "refused", "{born_here}");
    let convicted = t.file_and_process(&t.request("401234567", "labour_contract")).await;
    let clean = t.file_and_process(&t.request("FA1234567", "labour_contract")).await;
    let (b, c, k) = (
        born_here["id"].as_str().unwrap(),
        convicted["id"].as_str().unwrap(),
        clean["id"].as_str().unwrap(),
    );
    let before = t.counts().await;
    let refused: Vec<(&str, Value, u16, &str)> = vec![
        (b, json!({"action": "issue"}), 409, "grounds_found"),
        (
            b,
            json!({"action": "issue", "set_aside": [{"check": "records", "reason": "судимость погашена давно"}]}),
            422,
            "nothing_to_set_aside",
        ),
        (
            b,
            json!({"action": "issue", "set_aside": [{"check": "border_crossings", "reason": "нет"}]}),
            422,
            "reason_required",
        ),
        (
            c,
            json!({"action": "issue", "set_aside": [{"check": "records", "reason": "судимость, по словам заявителя, погашена"}]}),
            422,
            "finding_cannot_be_set_aside",
        ),
        (
            k,
            json!({"action": "refuse", "grounds": [{"check": "made_up_ground", "detail": "x"}]}),
            422,
            "unknown_check",
        ),
    ];
    for (id, body, status, code) in refused {
        let (s, p) = decide(t, id, body.clone()).await;
        assert_eq!((s, p["code"].as_str()), (status, Some(code)), "{body}: {p}");
    }
    assert_eq!(t.counts().await, before, "refused decisions wrote something");
    // Born in Almaty, never crossed the border: the officer issues, and the reason is recorded.
    let reason = "родился в г. Алматы, границу не пересекал: въезда в «Беркут» быть не может";
    let (s, d) = decide(
        t,
        b,
        json!({"action": "issue", "set_aside": [{"check": "border_crossings", "reason": reason}]}),
    )
    .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["status"], "issued");
    assert_eq!(d["decision"]["set_aside"][0]["check"], "border_crossings");
    assert_eq!(d["decision"]["set_aside"][0]["reason"], reason);
    let case = t.case(b).await;
    assert_eq!(crate::harness::count_actions(&case, "decision.finding_set_aside"), 1);
    // A ground of law beyond the seven checks: unreliable documents (art. 19-1, secondary source).
    let (s, d) = decide(
        t,
        k,
        json!({"action": "refuse", "grounds": [{"check": "unreliable_documents", "detail": "трудовой договор не подписан работодателем"}]}),
    )
    .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["status"], "refused");
    let g = &d["decision"]["grounds"][0];
    assert_eq!(g["ground"], "unreliable_documents");
    assert!(g["citation"].as_str().unwrap().contains("art. 19-1"), "{g}");
    assert_eq!(g["source_status"], "secondary");
}
on_both!(
    set_aside,
    super::no_duty_officer(),
    p9_3_set_aside_only_what_is_no_ground_and_refuse_on_any_ground_of_law
);
