//! The administrator's page (issue 17 item 4): the calendar years with their status, the MCI, the
//! loads, accounts, tokens (never a secret) and units; loading an official year from the page
//! applies it at once (the year reads `official`) and a file that does not read is refused with
//! its reason and nothing loaded; others are refused the page.

use crate::harness::TestApp;
use crate::on_both;

async fn get(t: &TestApp, cookie: &str) -> (u16, String) {
    let r = t
        .http
        .get(format!("{}/ui/admin", t.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn load(t: &TestApp, cookie: &str, csrf: &str, file: &str) -> (u16, String) {
    let r = t
        .http
        .post(format!("{}/ui/admin/law-data", t.base))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string([("csrf", csrf), ("kind", "calendar"), ("file", file)]).unwrap())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn an_administrator_sees_the_law_data_and_loads_a_year(t: &TestApp) {
    let (admin, csrf) = crate::pr::person_with_role(t, "page.admin", "admin", "other", "MVD").await;
    let (s, html) = get(t, &admin).await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("<td>2026</td><td>official</td>"), "{html}");
    assert!(html.contains("<td>2027</td><td>expected</td>"), "{html}");
    assert!(
        html.contains("page.admin") && html.contains("ALM-01"),
        "accounts and units: {html}"
    );
    assert!(!html.contains("$argon2"), "no password hash");
    for token in t.tokens.values() {
        assert!(!html.contains(token.as_str()), "no token secret");
    }
    // A file that does not read: refused with its reason, nothing loaded.
    let before = t.counts().await;
    let (s, html) = load(t, &admin, &csrf, "schema = 1\n[[year]]\nyear = \"soon\"\n").await;
    assert_eq!(s, 422, "{html}");
    assert!(html.contains("Данные не загружены."), "{html}");
    assert_eq!(t.counts().await, before);
    // A forged form: refused.
    assert_eq!(load(t, &admin, "forged", crate::continuity::OFFICIAL_2027).await.0, 403);
    // The official 2027: applied at once.
    let (s, html) = load(t, &admin, &csrf, crate::continuity::OFFICIAL_2027).await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("Данные загружены и применены."), "{html}");
    assert!(html.contains("<td>2027</td><td>official</td>"), "{html}");
    assert!(html.contains("test: production calendar 2027"));
    // An officer is refused the page and the load.
    let (officer, officer_csrf) = crate::pr::person_with_role(t, "page.officer", "officer", "other", "ALM-01").await;
    assert_eq!(get(t, &officer).await.0, 403);
    assert_eq!(
        load(t, &officer, &officer_csrf, crate::continuity::OFFICIAL_2027)
            .await
            .0,
        403
    );
}

on_both!(
    admin_page,
    Default::default(),
    an_administrator_sees_the_law_data_and_loads_a_year
);
