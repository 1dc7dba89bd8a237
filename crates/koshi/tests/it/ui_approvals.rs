//! The approving post's pages (issue 17, п. 15 абз. 2): a head sees the drafted conclusions of
//! the units the head approves, returns one to the officer with a comment (required) and
//! approves the redrafted one; an officer without the post is refused both, and nothing changes.

use serde_json::{Value, json};

use crate::harness::TestApp;
use crate::on_both;
use crate::pr::{ALL_POSITIVE, person, pr_request, send_and_answer};

async fn form(t: &TestApp, who: &(String, String), path: &str, body: String) -> (u16, String, String) {
    let r = crate::harness::no_redirects()
        .post(format!("{}{path}", t.base))
        .header("cookie", &who.0)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

async fn page(t: &TestApp, who: &(String, String), path: &str) -> (u16, String) {
    let r = crate::harness::no_redirects()
        .get(format!("{}{path}", t.base))
        .header("cookie", &who.0)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn status_of(t: &TestApp, id: &str) -> (String, Value) {
    let (_, v) = t.get("officer", &format!("/api/v1/applications/{id}")).await;
    (v["status"].as_str().unwrap().to_string(), v)
}

/// A PR case of ALM-01 with every answer in and a conclusion to issue drafted: its id.
async fn drafted_pr(t: &TestApp, passport: &str) -> String {
    let (_, v) = t
        .post("officer", "/api/v1/applications", &pr_request(t, passport))
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
    assert_eq!((s, v["status"].as_str()), (200, Some("conclusion_drafted")), "{v}");
    id
}

async fn a_head_returns_and_approves_a_conclusion_from_the_inbox(t: &TestApp) {
    let id = drafted_pr(t, "FA1234567").await;
    let head = person(t, "head.alm01", "head_of_city_district_police", "ALM-01").await;
    let officer = person(t, "o.alm01", "other", "ALM-01").await;

    // The head's inbox lists the draft; the case page shows it with both forms.
    let (s, inbox) = page(t, &head, "/ui/approvals").await;
    assert_eq!(s, 200);
    assert!(inbox.contains(&format!("/ui/cases/{id}")), "{inbox}");
    let (s, case) = page(t, &head, &format!("/ui/cases/{id}")).await;
    assert_eq!(s, 200);
    assert!(
        case.contains("Утвердить") && case.contains("Вернуть исполнителю"),
        "{case}"
    );
    assert!(case.contains("href=\"/ui/approvals\""), "the header links the inbox");

    // An officer holding no approving post: no forms on the page, the inbox and both acts refused.
    let (_, case) = page(t, &officer, &format!("/ui/cases/{id}")).await;
    assert!(!case.contains("Утвердить"));
    let (s, _) = page(t, &officer, "/ui/approvals").await;
    assert_eq!(s, 403);
    let (s, _, text) = form(
        t,
        &officer,
        &format!("/ui/cases/{id}/approval"),
        format!("csrf={}", officer.1),
    )
    .await;
    assert_eq!(s, 403, "{text}");
    let (s, _, _) = form(
        t,
        &officer,
        &format!("/ui/cases/{id}/approval/return"),
        format!("csrf={}&comment=Переделать", officer.1),
    )
    .await;
    assert_eq!(s, 403);
    let (s, v) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/approval/return"),
            &json!({"comment": "Переделать"}),
        )
        .await;
    assert_eq!(s, 403, "a system token holds no post: {v}");
    // The head with a forged token, or without a comment: refused, nothing changes.
    let (s, _, _) = form(
        t,
        &head,
        &format!("/ui/cases/{id}/approval/return"),
        "csrf=forged&comment=Переделать".into(),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _, text) = form(
        t,
        &head,
        &format!("/ui/cases/{id}/approval/return"),
        format!("csrf={}&comment=+", head.1),
    )
    .await;
    assert_eq!(s, 422, "{text}");
    let (s, _, text) = form(
        t,
        &head,
        &format!("/ui/cases/{id}/approval/return"),
        format!("csrf={}&comment=%00%01", head.1),
    )
    .await;
    assert_eq!(s, 422, "{text}");
    let (status, before) = status_of(t, &id).await;
    assert_eq!(status, "conclusion_drafted");

    // Returned with a comment: due a conclusion again, the return on the record and in the trail.
    let (s, location, _) = form(
        t,
        &head,
        &format!("/ui/cases/{id}/approval/return"),
        format!("csrf={}&comment=Уточнить+сведения+о+жилье", head.1),
    )
    .await;
    assert_eq!((s, location.as_str()), (303, "/ui/approvals"));
    let (status, after) = status_of(t, &id).await;
    assert_eq!(status, "conclusion_due");
    assert_eq!(
        after["decision"]["returned_drafts"][0]["comment"], "Уточнить сведения о жилье",
        "{after}"
    );
    assert!(after["decision"]["conclusion"].is_null());
    let events = after["events"].as_array().unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e["action"] == "pr.conclusion.returned")
            .count(),
        1
    );
    assert_ne!(before["decision"], after["decision"]);
    let (_, inbox) = page(t, &head, "/ui/approvals").await;
    assert!(!inbox.contains(&format!("/ui/cases/{id}")));
    // Returned again: refused, it no longer awaits approval.
    let (s, _, text) = form(
        t,
        &head,
        &format!("/ui/cases/{id}/approval/return"),
        format!("csrf={}&comment=Ещё+раз", head.1),
    )
    .await;
    assert_eq!(s, 409, "{text}");

    // The officer redrafts; the returned draft stays on the record; the head approves.
    let (s, v) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/conclusion"),
            &json!({"outcome": "issue", "comment": "сведения о жилье уточнены"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, redrafted) = status_of(t, &id).await;
    assert_eq!(
        redrafted["decision"]["returned_drafts"].as_array().map(Vec::len),
        Some(1)
    );
    let (s, location, _) = form(
        t,
        &head,
        &format!("/ui/cases/{id}/approval"),
        format!("csrf={}", head.1),
    )
    .await;
    assert_eq!((s, location), (303, format!("/ui/cases/{id}")));
    assert_eq!(status_of(t, &id).await.0, "issued");
}

on_both!(
    approvals,
    Default::default(),
    a_head_returns_and_approves_a_conclusion_from_the_inbox
);

/// п. 15 абз. 2: the head of the УМС ДП approves the conclusions of the department's districts
/// (`reach = "parent_units"`): the inbox lists an ALM-01 draft although the УМС's own work queue
/// holds none, the head reads the case and approves it; a district head of ALM-02 neither lists
/// nor reads it, and the УМС head reads no RVP case of the district.
async fn the_ums_head_approves_the_department_s_conclusions(t: &TestApp) {
    let id = drafted_pr(t, "FA1234567").await;
    let rvp = t
        .file_and_process(&t.request("751234567", "family_reunification"))
        .await;
    let ums = person(t, "head.ums", "head_of_ums", "UMS-ALM").await;
    let other = person(t, "head.alm02", "head_of_city_district_police", "ALM-02").await;

    let (s, queue) = page(t, &ums, "/ui/queue").await;
    assert_eq!(s, 200);
    assert!(
        !queue.contains(&format!("/ui/cases/{id}")),
        "not in the УМС's own work queue"
    );
    let (s, inbox) = page(t, &ums, "/ui/approvals").await;
    assert_eq!(s, 200);
    assert!(inbox.contains(&format!("/ui/cases/{id}")), "{inbox}");
    let (s, case) = page(t, &ums, &format!("/ui/cases/{id}")).await;
    assert_eq!(s, 200, "{case}");
    assert!(case.contains("Утвердить"), "{case}");
    let (s, _) = page(t, &ums, &format!("/ui/cases/{}", rvp["id"].as_str().unwrap())).await;
    assert_eq!(
        s, 403,
        "an approving post reads the PR cases it approves, not the district's RVP"
    );

    let (_, inbox) = page(t, &other, "/ui/approvals").await;
    assert!(!inbox.contains(&format!("/ui/cases/{id}")), "{inbox}");
    assert_eq!(page(t, &other, &format!("/ui/cases/{id}")).await.0, 403);

    let (s, location, _) = form(t, &ums, &format!("/ui/cases/{id}/approval"), format!("csrf={}", ums.1)).await;
    assert_eq!((s, location), (303, format!("/ui/cases/{id}")));
    assert_eq!(status_of(t, &id).await.0, "issued");
}

on_both!(
    ums_approvals,
    Default::default(),
    the_ums_head_approves_the_department_s_conclusions
);
