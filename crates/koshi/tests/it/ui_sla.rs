//! The SLA dashboard (issue 17 item 4): open cases by stage, cases at risk and overdue by police
//! body as the clock moves past a legal deadline, the registries' times, the outage journal; SVG
//! charts with their figures; within the caller's reach; no personal data; an administrator,
//! who reads no cases, is refused.

use crate::harness::TestApp;
use crate::on_both;

async fn page(t: &TestApp, cookie: &str) -> (u16, String) {
    let r = t
        .http
        .get(format!("{}/ui/sla", t.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn the_dashboard_shows_stages_and_overdue_cases_by_unit(t: &TestApp) {
    // A case left awaiting an officer's confirmation (no duty officers in these options).
    let case = t.file_and_process(&t.request("FA1234567", "labour_contract")).await;
    assert_eq!(case["status"], "awaiting_confirmation", "{case}");
    let due = case["due_on"].as_str().unwrap().to_string();
    // A PR case whose agencies all answered: how long each agency takes.
    let (_, pr) = t
        .post(
            "officer",
            "/api/v1/applications",
            &crate::pr::pr_request(t, "751234567"),
        )
        .await;
    crate::pr::send_and_answer(t, pr["id"].as_str().unwrap(), &crate::pr::ALL_POSITIVE).await;
    let (officer, _) = crate::pr::person_with_role(t, "sla.officer", "officer", "other", "ALM-01").await;
    let (s, html) = page(t, &officer).await;
    assert_eq!(s, 200, "{html}");
    assert!(
        html.contains("Открытые дела по этапам") && html.contains("<svg"),
        "{html}"
    );
    assert!(
        html.contains("Ожидает решения сотрудника"),
        "the stage is named: {html}"
    );
    assert!(html.contains("Просроченных дел и дел последнего дня нет."), "{html}");
    assert!(
        html.contains("gbd_fl") && html.contains("Время ответа реестров"),
        "the registries' times: {html}"
    );
    assert!(
        !html.contains("DEMO") && !html.contains("FA1234567"),
        "no personal data"
    );
    // Past the term's last day: the case is overdue, under its police body.
    let day_after: jiff::civil::Date = due.parse::<jiff::civil::Date>().unwrap().tomorrow().unwrap();
    t.clock.set(
        jiff::tz::TimeZone::get("Asia/Almaty")
            .unwrap()
            .to_timestamp(day_after.at(12, 0, 0, 0))
            .unwrap(),
    );
    // (A session lasts 12 hours: the officer signs in again on that day.)
    let (officer, _) = crate::pr::person_with_role(t, "sla.officer2", "officer", "other", "ALM-01").await;
    let (_, html) = page(t, &officer).await;
    assert!(html.contains("Под угрозой и просроченные по подразделениям"), "{html}");
    assert!(html.contains("<td>ALM-01</td><td>0</td><td>1</td>"), "{html}");
    // Another district's officer does not see it; an auditor does; an administrator is refused.
    let (other, _) = crate::pr::person_with_role(t, "sla.other", "officer", "other", "ALM-02").await;
    let (_, html) = page(t, &other).await;
    assert!(!html.contains("<td>ALM-01</td>"), "{html}");
    let (auditor, _) = crate::pr::person_with_role(t, "sla.auditor", "auditor", "other", "MVD").await;
    let (s, html) = page(t, &auditor).await;
    assert_eq!(s, 200);
    assert!(html.contains("<td>ALM-01</td><td>0</td><td>1</td>"), "{html}");
    let (admin, _) = crate::pr::person_with_role(t, "sla.admin", "admin", "other", "MVD").await;
    assert_eq!(page(t, &admin).await.0, 403);
}

on_both!(
    sla_dashboard,
    crate::harness::Options {
        duty_officers: false,
        ..Default::default()
    },
    the_dashboard_shows_stages_and_overdue_cases_by_unit
);
