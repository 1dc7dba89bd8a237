//! The officer's case work from the case page (issue 17 item 4): a PR's requests of п. 14 and
//! the answers received, the conclusion, the hearing notice, the written position and the
//! hearing's record (п. 17); a duplicate of an issued permit (п. 9-2). Each through the API's use
//! case; a forged form, a refusal without its grounds and a reader without the right change
//! nothing.

use serde_json::Value;

use crate::harness::{TestApp, count_actions};
use crate::on_both;

async fn page(t: &TestApp, cookie: &str, id: &str) -> String {
    t.http
        .get(format!("{}/ui/cases/{id}", t.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn act(t: &TestApp, cookie: &str, id: &str, form: &[(&str, &str)]) -> (u16, String) {
    let http = crate::harness::no_redirects();
    let r = http
        .post(format!("{}/ui/cases/{id}/act", t.base))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn an_officer_works_a_pr_case_from_its_page(t: &TestApp) {
    let (cookie, csrf) = crate::pr::person(t, "work.officer", "other", "ALM-01").await;
    let (s, v) = t
        .post(
            "officer",
            "/api/v1/applications",
            &crate::pr::pr_request(t, "AC2345678"),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let status = |v: Value| v["status"].as_str().unwrap().to_string();
    // Registered: the page offers the requests of п. 14.
    let html = page(t, &cookie, &id).await;
    assert!(html.contains("Направить дело и запросы"), "{html}");
    // A forged form changes nothing.
    let before = t.counts().await;
    let (s, _) = act(t, &cookie, &id, &[("csrf", "forged"), ("act", "pr_requests")]).await;
    assert_eq!(s, 403);
    assert_eq!(t.counts().await, before);
    let (s, html) = act(t, &cookie, &id, &[("csrf", &csrf), ("act", "pr_requests")]).await;
    assert_eq!(s, 303, "{html}");
    let html = page(t, &cookie, &id).await;
    assert!(
        html.contains("Запросы в органы (п. 14)")
            && html.contains("Органы национальной безопасности")
            && html.contains("ожидается"),
        "{html}"
    );
    // Answered: the conclusion is due, and drafted from the page.
    crate::pr::record_answers(t, &id, &crate::pr::ALL_POSITIVE).await;
    assert_eq!(status(t.case(&id).await), "conclusion_due");
    let html = page(t, &cookie, &id).await;
    assert!(html.contains("Составить заключение"), "{html}");
    // A refusal without its grounds: refused, nothing written.
    let before = t.counts().await;
    let (s, html) = act(
        t,
        &cookie,
        &id,
        &[("csrf", &csrf), ("act", "conclusion"), ("outcome", "refuse")],
    )
    .await;
    assert_eq!(s, 422, "{html}");
    assert!(html.contains("grounds_required") && html.contains("← К делу"), "{html}");
    assert_eq!(t.counts().await, before);
    let (s, _) = act(
        t,
        &cookie,
        &id,
        &[
            ("csrf", &csrf),
            ("act", "conclusion"),
            ("outcome", "refuse"),
            ("ground", "art_49"),
            ("detail", "сведения о непогашенной судимости"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    assert_eq!(status(t.case(&id).await), "hearing_required");
    // The hearing: notified for today, the written position received, the record made.
    let today = t.law.calendar.civil(t.now()).date().to_string();
    let (s, html) = act(
        t,
        &cookie,
        &id,
        &[("csrf", &csrf), ("act", "hearing_notice"), ("hearing_on", &today)],
    )
    .await;
    assert_eq!(s, 303, "{html}");
    assert_eq!(status(t.case(&id).await), "hearing_notified");
    let html = page(t, &cookie, &id).await;
    assert!(
        html.contains("Протокол заслушивания (п. 17)") && html.contains("Продолжить рассмотрение"),
        "{html}"
    );
    let (s, _) = act(
        t,
        &cookie,
        &id,
        &[
            ("csrf", &csrf),
            ("act", "written_position"),
            ("position", "судимость погашена"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let (s, html) = act(
        t,
        &cookie,
        &id,
        &[
            ("csrf", &csrf),
            ("act", "hearing"),
            ("position", "справка о погашении приложена"),
            ("result", "continue"),
        ],
    )
    .await;
    assert_eq!(s, 303, "{html}");
    let case = t.case(&id).await;
    assert_eq!(count_actions(&case, "pr.hearing.held"), 1, "{case}");
    assert_ne!(status(case), "hearing_notified");
    // An auditor reads the case and is offered no step.
    let (auditor, _) = crate::pr::person_with_role(t, "work.auditor", "auditor", "other", "MVD").await;
    let html = page(t, &auditor, &id).await;
    assert!(!html.contains("/act\""), "{html}");
}

async fn an_officer_issues_a_duplicate_from_the_page(t: &TestApp) {
    let (cookie, csrf) = crate::pr::person(t, "dup.officer", "other", "ALM-01").await;
    let case = t.file_and_process(&t.request("FA1234567", "labour_contract")).await;
    let id = case["id"].as_str().unwrap().to_string();
    assert_eq!(t.case(&id).await["status"], "issued");
    let html = page(t, &cookie, &id).await;
    assert!(html.contains("Дубликат разрешения (п. 9-2)"), "{html}");
    let (s, html) = act(
        t,
        &cookie,
        &id,
        &[
            ("csrf", &csrf),
            ("act", "duplicate"),
            ("reason", "lost"),
            ("statement", "прошу выдать дубликат, разрешение утеряно"),
        ],
    )
    .await;
    assert_eq!(s, 303, "{html}");
    assert_eq!(count_actions(&t.case(&id).await, "duplicate.issued"), 1);
    // A control character in the statement is refused before the case.
    let (s, _) = act(
        t,
        &cookie,
        &id,
        &[
            ("csrf", &csrf),
            ("act", "duplicate"),
            ("reason", "lost"),
            ("statement", "x\u{0}y"),
        ],
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(count_actions(&t.case(&id).await, "duplicate.issued"), 1);
}

on_both!(
    pr_casework,
    Default::default(),
    an_officer_works_a_pr_case_from_its_page
);
on_both!(
    rvp_duplicate_page,
    Default::default(),
    an_officer_issues_a_duplicate_from_the_page
);
