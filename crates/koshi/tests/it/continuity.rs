//! Koshi keeps serving past its calendar data (issue 13): terms reaching a year the data holds
//! as expected, or does not hold at all, are accepted and say so; an official year loaded while
//! Koshi runs recomputes the open cases' terms, audited, without moving an announced date earlier.

use serde_json::{Value, json};

use crate::harness::{Options, TestApp, count_actions};
use crate::on_both;

fn manual() -> Options {
    Options {
        straight_through: false,
        ..Options::default()
    }
}

/// An official 2027 that gives Tuesday 5 January off in exchange for Saturday 9 January.
pub(crate) const OFFICIAL_2027: &str = r#"
schema = 1

[[year]]
year = 2027
status = "official"
kurban_ait = "2027-05-16"
source = "test: production calendar 2027"

[[year.transfer]]
work_on = "2027-01-09"
off_on = "2027-01-05"
basis = "test: order of the Minister of Labour"
"#;

fn at(t: &TestApp, almaty: &str) {
    let civil = jiff::civil::DateTime::strptime("%Y-%m-%dT%H:%M", almaty).unwrap();
    let ts = t.law.calendar.time_zone().to_zoned_datetime(civil).unwrap().timestamp();
    t.clock.set(ts);
}

async fn load(t: &TestApp, role: &str, kind: &str, content_type: &str, body: &str) -> (u16, Value) {
    let r = t
        .http
        .post(format!("{}/api/v1/admin/law-data/{kind}", t.base))
        .bearer_auth(&t.tokens[role])
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn far_documents(req: &mut koshi::model::ApplicationRequest) {
    req.immigrant.document.expires_on = "2040-01-01".parse().unwrap();
    for d in &mut req.documents {
        if d.expires_on.is_some() {
            d.expires_on = Some("2040-01-01".parse().unwrap());
        }
    }
}

async fn terms_into_2027_are_accepted_expected_and_recomputed_when_official(t: &TestApp) {
    // A desk RVP filed on 31 December 2026 at 10:00: the term ends in 2027.
    at(t, "2026-12-31T10:00");
    let (s, a) = t.file(&t.request("FA1234567", "labour_contract")).await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["receipt"]["type"], "acceptance", "{a}");
    assert_eq!(a["accepted_on"], "2026-12-31");
    assert_eq!(a["due_on"], "2027-01-05");
    assert_eq!(a["calendar_status"], "expected");
    assert_eq!(a["receipt"]["calendar_status"], "expected");
    assert!(
        a["receipt"]["calendar_basis"]
            .as_str()
            .unwrap()
            .contains("2027: expected"),
        "{a}"
    );
    let a_id = a["id"].as_str().unwrap().to_string();

    // Filed on Friday 8 January 2027: due Monday 11 January on the expected calendar.
    at(t, "2027-01-08T10:00");
    let mut req = t.request("AC2345678", "education");
    far_documents(&mut req);
    let (s, b) = t.file(&req).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["due_on"], "2027-01-11", "{b}");
    let b_id = b["id"].as_str().unwrap().to_string();
    t.app.service.tick().await.unwrap();

    // Refused loads change nothing.
    let before = t.counts().await;
    let (s, p) = load(t, "officer", "calendar", "application/toml", OFFICIAL_2027).await;
    assert_eq!(s, 403, "{p}");
    let (s, p) = load(t, "admin", "calendar", "text/plain", OFFICIAL_2027).await;
    assert_eq!(s, 415, "{p}");
    let bad = OFFICIAL_2027.replace("off_on = \"2027-01-05\"", "off_on = \"2027-01-10\"");
    let (s, p) = load(t, "admin", "calendar", "application/toml", &bad).await;
    assert_eq!(s, 422, "{p}");
    assert!(p["detail"].as_str().unwrap().contains("line 12"), "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("not an ordinary working day"),
        "{p}"
    );
    let (s, _) = load(t, "admin", "bogus", "application/toml", OFFICIAL_2027).await;
    assert_eq!(s, 404);
    assert_eq!(t.counts().await, before);

    // The official year: 5 January becomes a day off, 9 January a working Saturday.
    let (s, r) = load(t, "admin", "calendar", "application/toml", OFFICIAL_2027).await;
    assert_eq!(s, 201, "{r}");
    assert!(r["summary"].as_str().unwrap().starts_with("2027: official"), "{r}");
    let moved = r["recomputed"].as_array().unwrap();
    assert_eq!(moved.len(), 1, "{r}");
    assert_eq!(moved[0]["application_id"], a_id.as_str());
    assert_eq!(moved[0]["due_on"], json!(["2027-01-05", "2027-01-06"]));
    assert_eq!(moved[0]["calendar_status"], "official");

    let a = t.case(&a_id).await;
    assert_eq!(a["due_on"], "2027-01-06");
    assert_eq!(a["accepted_on"], "2026-12-31");
    assert_eq!(a["calendar_status"], "official");
    let ev = a["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "case.terms_recomputed")
        .unwrap_or_else(|| panic!("no recomputation event: {a}"));
    assert_eq!(ev["citation"], "п. 7; п. 8; п. 9");
    // Monitoring is told.
    let (_, d) = t
        .get(
            "officer",
            &format!("/api/v1/monitoring/deliveries?application_id={a_id}"),
        )
        .await;
    assert!(
        d.as_array()
            .unwrap()
            .iter()
            .any(|m| m["payload"]["stage"] == "terms_recomputed"),
        "{d}"
    );
    // The official calendar would end B's term on Saturday 9 January, before the announced
    // Monday 11 January: the announced date stands.
    let b = t.case(&b_id).await;
    assert_eq!(b["due_on"], "2027-01-11", "{b}");
    // B's working-day clock keeps its term, but its "at risk" mark moves to the end of the new
    // working day before it: Saturday 9 January, worked by the transfer.
    assert!(r["clocks_moved"].as_u64().unwrap() >= 1, "{r}");
    let timers = t.app.service.store.timers_of(&b_id).await.unwrap();
    let at_risk = timers.iter().find(|x| x.kind == "rvp.term.at_risk").unwrap();
    assert_eq!(at_risk.due_at, "2027-01-09T13:30:00.000000Z");
    let term = timers.iter().find(|x| x.kind == "rvp.term").unwrap();
    assert_eq!(term.due_at, "2027-01-11T13:30:00.000000Z");

    // A new filing reads the official year at once; a term in 2029 is provisional.
    at(t, "2027-01-08T19:00");
    let mut req = t.request("751234567", "family_reunification");
    far_documents(&mut req);
    let (s, c) = t.file(&req).await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["due_on"], "2027-01-11", "{c}");
    assert_eq!(c["accepted_on"], "2027-01-09", "{c}");
    assert_eq!(c["calendar_status"], "official");
    at(t, "2029-03-20T10:00");
    let mut req = t.request("401234567", "labour_contract");
    far_documents(&mut req);
    let (s, p) = t.file(&req).await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["receipt"]["type"], "acceptance", "{p}");
    assert_eq!(p["due_on"], "2029-03-26", "{p}");
    assert_eq!(p["calendar_status"], "provisional");
    assert!(
        p["receipt"]["calendar_basis"]
            .as_str()
            .unwrap()
            .contains("Law No. 267-II"),
        "{p}"
    );

    // The audit trail holds the load, and the listing shows the year official.
    let (s, l) = t.get("admin", "/api/v1/admin/law-data").await;
    assert_eq!(s, 200, "{l}");
    let y2027 = l["calendar"]["years"]
        .as_array()
        .unwrap()
        .iter()
        .find(|y| y["year"] == 2027)
        .unwrap();
    assert_eq!(y2027["status"], "official");
    assert_eq!(l["loads"].as_array().unwrap().len(), 1);
    let events = t.app.service.store.verify_audit().await.unwrap();
    assert!(events.first_broken.is_none());
}

on_both!(
    terms_into_2027_are_accepted_expected_and_recomputed_when_official,
    super::manual(),
    terms_into_2027_are_accepted_expected_and_recomputed_when_official
);

/// A load survives a restart: the next process builds its law from the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loaded_year_survives_a_restart_and_an_mci_can_be_loaded() {
    let t = crate::harness::spawn(crate::harness::Backend::Sqlite, manual())
        .await
        .unwrap();
    let (s, r) = load(&t, "admin", "calendar", "application/toml", OFFICIAL_2027).await;
    assert_eq!(s, 201, "{r}");
    let mci = "schema = 1\n[[mci]]\nyear = 2027\ntenge = 4500\nsource = \"test: budget law 2027\"\nstatus = \"ok\"\n";
    let (s, r) = load(&t, "admin", "mci", "application/toml", mci).await;
    assert_eq!(s, 201, "{r}");
    let t = t.restart().await;
    let law = t.app.service.law();
    assert_eq!(
        law.calendar.year_status(2027),
        Some(koshi_law::calendar::YearStatus::Official)
    );
    assert!(!law.calendar.is_working("2027-01-05".parse().unwrap()).unwrap());
    assert_eq!(law.params.mci(2027).map(|m| m.tenge), Some(4500));
    t.done().await;
}

/// A check finding that cannot be read (here edited in the database) stops the case for an
/// officer with the reason; the case is never issued on it.
async fn a_corrupted_check_finding_stops_the_case_for_an_officer(t: &TestApp) {
    use koshi_registries::RegistryKind;
    let sim = t.app.sim.as_ref().unwrap();
    let t0 = t.now();
    sim.set_down(
        RegistryKind::Berkut,
        Some((t0, t0.checked_add(jiff::SignedDuration::from_hours(2)).unwrap())),
    );
    let case = t.file_and_process(&t.request("FA1234567", "labour_contract")).await;
    let id = case["id"].as_str().unwrap().to_string();
    assert_eq!(case["status"], "checking", "{case}");
    // The fingerprints check was clear; its stored row now says "ground" with no finding.
    let sql = "UPDATE check_sheets SET checks = REPLACE(checks, '\"check_name\":\"fingerprints\",\"state\":\"clear\"', '\"check_name\":\"fingerprints\",\"state\":\"ground\"') WHERE application_id = $1";
    let changed = match t.app.service.store.db() {
        koshi_store::Db::Sqlite(p) => sqlx::query(sql).bind(&id).execute(p).await.unwrap().rows_affected(),
        koshi_store::Db::Postgres(p) => sqlx::query(sql).bind(&id).execute(p).await.unwrap().rows_affected(),
    };
    assert_eq!(changed, 1);
    sim.set_down(RegistryKind::Berkut, None);
    t.advance(30);
    t.app.service.tick().await.unwrap();
    let case = t.case(&id).await;
    assert_eq!(case["status"], "awaiting_officer", "{case}");
    let reasons = case["decision"]["proposed"]["reasons"].to_string();
    assert!(reasons.contains("stored_finding_unreadable"), "{case}");
    assert!(reasons.contains("fingerprints"), "{case}");
    assert!(case["decision"]["permit_number"].is_null(), "{case}");
}

on_both!(
    corrupted_finding,
    crate::harness::Options::default(),
    a_corrupted_check_finding_stops_the_case_for_an_officer
);

/// Drill mode: a simulated clock an administrator moves ahead through the API, never backwards;
/// every answer says the clock is simulated; the drill resumes its clock after a restart; and a
/// drill's database refuses the real clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_clock_moves_ahead_only_says_so_and_never_meets_the_real_clock() {
    use koshi::app::{App, RegistrySource};
    use koshi_registries::clock::{Clock, SimulatedClock, SystemClock};
    use std::sync::Arc;
    let dir = std::env::temp_dir().join(format!("koshi-drill-{}", uuid::Uuid::new_v4()));
    let location = koshi_store::Location::SqliteFile(dir.join("koshi.db"));
    let law = Arc::new(koshi_law::Law::builtin().unwrap());
    let fixtures = koshi_registries::sim::Fixtures::demo().unwrap();
    let build = |clock: Option<Arc<SimulatedClock>>| {
        let (law, fixtures, location) = (law.clone(), fixtures.clone(), location.clone());
        async move {
            let c: Arc<dyn Clock> = match &clock {
                Some(c) => c.clone(),
                None => Arc::new(SystemClock),
            };
            App::build(
                &location,
                law,
                RegistrySource::Simulated(fixtures),
                c,
                koshi::service::ServiceConfig {
                    drill_clock: clock,
                    straight_through: false,
                    ..Default::default()
                },
            )
            .await
        }
    };
    let clock = Arc::new(SimulatedClock::new(0));
    let app = build(Some(clock.clone())).await.unwrap();
    let (_, admin) = koshi::app::issue_token(&app.service.store, "admin", "ALM-01", "drill")
        .await
        .unwrap();
    let (_, officer) = koshi::app::issue_token(&app.service.store, "officer", "ALM-01", "drill")
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router();
    let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let http = koshi_registries::tls::client_builder().build().unwrap();
    let mv = |token: String, body: Value| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let r = http
                .post(format!("{base}/api/v1/admin/clock"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let header = r.headers().get("koshi-clock").map(|v| v.to_str().unwrap().to_string());
            (r.status().as_u16(), header, r.json::<Value>().await.unwrap())
        }
    };
    let before = SystemClock.now();
    let (s, h, v) = mv(admin.clone(), json!({"advance": "PT2H"})).await;
    assert_eq!(s, 200, "{v}");
    assert!(h.unwrap().starts_with("simulated; now="));
    let now: jiff::Timestamp = v["now"].as_str().unwrap().parse().unwrap();
    assert!(
        now >= before.checked_add(jiff::SignedDuration::from_hours(2)).unwrap(),
        "{v}"
    );
    // Never backwards, never by a negative or malformed amount; never by an officer.
    let (s, h, v) = mv(admin.clone(), json!({"set": "2020-01-01T00:00:00Z"})).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("clock_backwards")), "{v}");
    assert!(h.is_some(), "problems carry the header too");
    let (s, _, v) = mv(admin.clone(), json!({"advance": "-PT1H"})).await;
    assert_eq!(s, 422, "{v}");
    let (s, _, v) = mv(admin.clone(), json!({"advance": "PT1H", "set": "2030-01-01T00:00:00Z"})).await;
    assert_eq!(s, 422, "{v}");
    let (s, _, _) = mv(officer.clone(), json!({"advance": "PT1H"})).await;
    assert_eq!(s, 403);
    // A case waiting for confirmation: moving the clock through the API alone shows its working
    // day's clock fire (overdue once; at risk at most once, none if filed after that mark).
    let req = koshi::demo::request(&law, &fixtures, "FA1234567", "labour_contract");
    let r = http
        .post(format!("{base}/api/v1/applications"))
        .bearer_auth(&officer)
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let filed: Value = r.json().await.unwrap();
    let case_id = filed["id"].as_str().unwrap().to_string();
    app.service.settle().await;
    app.service.tick().await.unwrap();
    let (s, _, v) = mv(admin.clone(), json!({"set": "2030-01-01T10:00:00+05:00"})).await;
    assert_eq!(s, 200, "{v}");
    let case: Value = http
        .get(format!("{base}/api/v1/applications/{case_id}"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(count_actions(&case, "rvp.term.overdue"), 1, "{case}");
    assert!(count_actions(&case, "rvp.term.at_risk") <= 1, "{case}");
    server.abort();
    app.service.settle().await;
    app.service.store.close().await;

    // The drill resumes where its clock stood; the real clock is refused on its database.
    let again = Arc::new(SimulatedClock::new(0));
    let app = build(Some(again.clone())).await.unwrap();
    assert!(again.now() >= "2030-01-01T05:00:00Z".parse::<jiff::Timestamp>().unwrap());
    app.service.store.close().await;
    let refused = build(None).await.err().unwrap().to_string();
    assert!(refused.contains("used for a drill"), "{refused}");
    std::fs::remove_dir_all(dir).ok();
}

/// A database holding cases filed on the real clock refuses a simulated clock.
async fn a_real_database_refuses_a_simulated_clock(t: &TestApp) {
    let (s, v) = t.file(&t.request("FA1234567", "labour_contract")).await;
    assert_eq!(s, 201, "{v}");
    let clock = std::sync::Arc::new(koshi_registries::clock::SimulatedClock::new(0));
    let e = koshi::app::App::build(
        t.location(),
        t.law.clone(),
        koshi::app::RegistrySource::Simulated(t.fixtures.clone()),
        clock.clone(),
        koshi::service::ServiceConfig {
            drill_clock: Some(clock),
            ..Default::default()
        },
    )
    .await
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("cases filed on the real clock"), "{e}");
}

on_both!(
    simulated_clock_refused,
    crate::harness::Options::default(),
    a_real_database_refuses_a_simulated_clock
);

/// The RVP's working day (п. 9) and a minor's age-16 term (п. 5 абз. 4) as durable clocks: each
/// fires once, at risk (or reminded) then overdue (or missed), across restarts.
async fn rvp_clocks_fire_once_across_restarts(t: TestApp) -> TestApp {
    // Monday 2 February 2026, 10:00: an RVP that waits for an officer's confirmation.
    let (s, a) = t.file(&t.request("FA1234567", "labour_contract")).await;
    assert_eq!(s, 201, "{a}");
    let a_id = a["id"].as_str().unwrap().to_string();
    t.app.service.tick().await.unwrap();
    assert_eq!(t.case(&a_id).await["status"], "awaiting_confirmation");
    // A family RVP with a minor who turns 16 on 15 March 2026.
    let mut req = t.request("751234567", "family_reunification");
    let mut minor = req.immigrant.clone();
    minor.birth_date = "2010-03-15".parse().unwrap();
    minor.iin = None;
    minor.document.number = "N0000001".into();
    req.family = vec![koshi::model::FamilyMemberInput {
        person: minor,
        relationship: "child".into(),
    }];
    let (s, b) = t.file(&req).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["receipt"]["type"], "acceptance", "{b}");
    let b_id = b["id"].as_str().unwrap().to_string();
    let timers = t.app.service.store.timers_of(&b_id).await.unwrap();
    let kinds: Vec<(&str, &str)> = timers.iter().map(|t| (t.kind.as_str(), t.due_at.as_str())).collect();
    // Reminded a month before the birthday (9:00); missed after 25 March, a day off (Nauryz
    // carry-over), so the term ends on Thursday 26 March at 18:30.
    assert!(
        kinds.contains(&("rvp.age16.0.at_risk", "2026-02-13T04:00:00.000000Z")),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("rvp.age16.0", "2026-03-26T13:30:00.000000Z")),
        "{kinds:?}"
    );

    let t = t.restart().await;
    at(&t, "2026-02-02T19:00");
    t.app.service.tick().await.unwrap();
    let a = t.case(&a_id).await;
    assert_eq!(count_actions(&a, "rvp.term.at_risk"), 1, "{a}");
    assert_eq!(count_actions(&a, "rvp.term.overdue"), 0, "{a}");

    let t = t.restart().await;
    at(&t, "2026-02-03T19:00");
    t.app.service.tick().await.unwrap();
    t.app.service.tick().await.unwrap();
    let a = t.case(&a_id).await;
    assert_eq!(count_actions(&a, "rvp.term.at_risk"), 1, "{a}");
    assert_eq!(count_actions(&a, "rvp.term.overdue"), 1, "{a}");
    let (_, d) = t
        .get(
            "officer",
            &format!("/api/v1/monitoring/deliveries?application_id={a_id}"),
        )
        .await;
    let stages: Vec<&str> = d
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["payload"]["stage"].as_str())
        .collect();
    assert!(
        stages.contains(&"rvp.term.at_risk") && stages.contains(&"rvp.term.overdue"),
        "{stages:?}"
    );

    at(&t, "2026-02-13T10:00");
    t.app.service.tick().await.unwrap();
    let b = t.case(&b_id).await;
    assert_eq!(count_actions(&b, "rvp.age16.reminder"), 1, "{b}");
    let (_, d) = t
        .get(
            "officer",
            &format!("/api/v1/monitoring/deliveries?application_id={b_id}"),
        )
        .await;
    let reminder = d
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["payload"]["document"] == "age16_reminder")
        .unwrap_or_else(|| panic!("no reminder: {d}"));
    assert_eq!(reminder["topic"], "delivery.desk_print");
    assert_eq!(reminder["payload"]["apply_by"], "2026-03-26");
    let t = t.restart().await;
    at(&t, "2026-03-27T10:00");
    t.app.service.tick().await.unwrap();
    t.app.service.tick().await.unwrap();
    let b = t.case(&b_id).await;
    assert_eq!(count_actions(&b, "rvp.age16.reminder"), 1, "{b}");
    assert_eq!(count_actions(&b, "rvp.age16.missed"), 1, "{b}");
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rvp_clocks_fire_once_across_restarts_sqlite() {
    let t = crate::harness::spawn(crate::harness::Backend::Sqlite, manual())
        .await
        .unwrap();
    rvp_clocks_fire_once_across_restarts(t).await.done().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rvp_clocks_fire_once_across_restarts_postgres() {
    let Some(t) = crate::harness::spawn(crate::harness::Backend::Postgres, manual()).await else {
        return;
    };
    rvp_clocks_fire_once_across_restarts(t).await.done().await;
}

/// п. 9-5 for every destination: a receiver down for 90 minutes of simulated time gives one
/// journal entry naming it, with the messages it delayed and what was done; nothing is lost.
async fn a_receiver_down_for_ninety_minutes_is_journaled_once(t: &TestApp) {
    t.app.sink.set_failing("monitoring", true);
    let case = t.file_and_process(&t.request("FA1234567", "labour_contract")).await;
    let id = case["id"].as_str().unwrap().to_string();
    for _ in 0..9 {
        t.advance(10);
        t.app.service.tick().await.unwrap();
    }
    t.app.sink.set_failing("monitoring", false);
    t.advance(15);
    t.app.service.tick().await.unwrap();
    t.app.service.tick().await.unwrap();
    let (_, o) = t.get("officer", "/api/v1/outages").await;
    let entries: Vec<&Value> = o
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["registry"] == "outbox:monitoring")
        .collect();
    assert_eq!(entries.len(), 1, "{o}");
    let e = entries[0];
    assert!(e["journaled_at"].is_string(), "delayed over an hour: {e}");
    assert!(e["ended_at"].is_string(), "{e}");
    assert!(e["delayed"].as_i64().unwrap() >= 2, "{e}");
    assert!(e["action"].as_str().unwrap().contains("outbox"), "{e}");
    assert!(e["last_error"].as_str().unwrap().contains("monitoring"), "{e}");
    assert_eq!(e["citation"], "п. 9-5");
    // No other destination was journaled, and every message was delivered in the end.
    assert_eq!(o.as_array().unwrap().len(), 1, "{o}");
    let (_, d) = t
        .get("officer", &format!("/api/v1/monitoring/deliveries?application_id={id}"))
        .await;
    assert!(d.as_array().unwrap().iter().all(|m| m["state"] == "delivered"), "{d}");
}

on_both!(
    receiver_outage,
    crate::harness::Options::default(),
    a_receiver_down_for_ninety_minutes_is_journaled_once
);

/// Two Koshi processes on one PostgreSQL: a legal clock fires once between them, and a year
/// loaded through one is in force in the other after its next background pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_fire_each_clock_once_and_share_a_loaded_year() {
    let Some(t) = crate::harness::spawn(crate::harness::Backend::Postgres, manual()).await else {
        return;
    };
    let other = koshi::app::App::build(
        t.location(),
        t.law.clone(),
        koshi::app::RegistrySource::Simulated(t.fixtures.clone()),
        t.clock.clone(),
        koshi::service::ServiceConfig {
            straight_through: false,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut ids = Vec::new();
    for doc in ["FA1234567", "AC2345678", "751234567"] {
        let (s, v) = t.file(&t.request(doc, "labour_contract")).await;
        assert_eq!(s, 201, "{v}");
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    t.app.service.tick().await.unwrap();
    // Past the term's end: both instances fire at once.
    at(&t, "2026-02-04T10:00");
    let (a, b) = tokio::join!(t.app.service.fire_due_timers(), other.service.fire_due_timers());
    a.unwrap();
    b.unwrap();
    let (a, b) = tokio::join!(t.app.service.fire_due_timers(), other.service.fire_due_timers());
    a.unwrap();
    b.unwrap();
    for id in &ids {
        let case = t.case(id).await;
        assert_eq!(count_actions(&case, "rvp.term.at_risk"), 1, "{case}");
        assert_eq!(count_actions(&case, "rvp.term.overdue"), 1, "{case}");
    }
    // A year loaded through the first is in force in the second after its next pass.
    let (s, r) = load(&t, "admin", "calendar", "application/toml", OFFICIAL_2027).await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(
        other.service.law().calendar.year_status(2027),
        Some(koshi_law::calendar::YearStatus::Expected)
    );
    other.service.tick().await.unwrap();
    assert_eq!(
        other.service.law().calendar.year_status(2027),
        Some(koshi_law::calendar::YearStatus::Official)
    );
    other.service.settle().await;
    other.service.store.close().await;
    t.done().await;
}

/// Intake over HTTP at instants from August 2024 to 2035: every filing is accepted with a due
/// date on a working day, or refused for a reason of п. 6 (here: documents expired by then);
/// never an error about the calendar. (The sweep starts when the earliest version of the Rules
/// Koshi knows entered into force, 3 August 2024; before it intake is refused for want of a
/// version, not of a calendar. The law core's property test covers all of 2024–2035.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_at_any_instant_2024_to_2035_never_fails_for_the_calendar() {
    let t = crate::harness::spawn(crate::harness::Backend::Sqlite, manual())
        .await
        .unwrap();
    let start: jiff::Timestamp = "2024-08-03T00:00:00Z".parse().unwrap();
    let span_minutes: i64 = (11 * 365 + 150) * 24 * 60;
    // A fixed pseudo-random walk over the twelve years (reproducible), in increasing order.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut instants: Vec<i64> = (0..40)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % span_minutes as u64) as i64
        })
        .collect();
    instants.sort_unstable();
    let law = t.app.service.law();
    for m in instants {
        let at = start.checked_add(jiff::SignedDuration::from_mins(m)).unwrap();
        t.clock.set(at);
        let mut req = t.request("FA1234567", "labour_contract");
        req.immigrant.birth_date = "1990-01-01".parse().unwrap();
        // Issued before the first instant of the walk (a document is never issued after filing).
        for d in &mut req.documents {
            d.issued_on = Some("2024-08-01".parse().unwrap());
        }
        let (s, v) = t.file(&req).await;
        assert_eq!(s, 201, "{at}: {v}");
        if v["receipt"]["type"] == "acceptance" {
            let due: jiff::civil::Date = v["due_on"].as_str().unwrap().parse().unwrap();
            assert!(law.calendar.is_working(due).unwrap(), "{at}: {v}");
            let expected = match due.year() {
                ..=2026 => "official",
                2027 => "expected",
                _ => "provisional",
            };
            assert_eq!(v["calendar_status"], expected, "{at}: {v}");
        } else {
            for g in v["receipt"]["grounds"].as_array().unwrap() {
                assert!(
                    g["citation"].as_str().unwrap().starts_with("п. 6")
                        || g["citation"].as_str().unwrap().starts_with("п. 9-1"),
                    "{at}: {g}"
                );
                assert_ne!(g["code"], "calendar_year_not_covered");
            }
        }
    }
    t.done().await;
}

/// A case naming a version of the Rules Koshi does not know stops its next step for a person:
/// no event is ever recorded under an unknown version.
async fn an_unknown_rules_version_stops_the_step(t: &TestApp) {
    t.app.sink.set_failing("monitoring", false);
    let (s, v) = t.file(&t.request("FA1234567", "labour_contract")).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    t.app.service.tick().await.unwrap();
    let sql = "UPDATE applications SET rules_version = 'bogus/1999' WHERE id = $1";
    match t.app.service.store.db() {
        koshi_store::Db::Sqlite(p) => sqlx::query(sql).bind(&id).execute(p).await.unwrap().rows_affected(),
        koshi_store::Db::Postgres(p) => sqlx::query(sql).bind(&id).execute(p).await.unwrap().rows_affected(),
    };
    let before = t.counts().await;
    let (s, p) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/decision"),
            &json!({"action": "confirm"}),
        )
        .await;
    assert_eq!((s, p["code"].as_str()), (409, Some("unknown_rules_version")), "{p}");
    let after = t.counts().await;
    // Reading the case is itself audited; nothing else was written.
    let without_events = |c: &Vec<(String, i64)>| c.iter().filter(|(k, _)| k != "events").cloned().collect::<Vec<_>>();
    assert_eq!(without_events(&after), without_events(&before));
}

on_both!(
    unknown_version,
    super::manual(),
    an_unknown_rules_version_stops_the_step
);
