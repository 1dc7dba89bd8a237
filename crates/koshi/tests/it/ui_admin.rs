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

async fn post_form(t: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = t
        .http
        .post(format!("{}{path}", t.base))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn session_of(t: &TestApp, username: &str, password: &str) -> (u16, String) {
    let r = t
        .http
        .post(format!("{}/api/v1/session", t.base))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let cookie = r
        .headers()
        .get("set-cookie")
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string())
        .unwrap_or_default();
    (status, cookie)
}

/// Issue 17 item 4: the administrator adds a person's account with its role, unit and post (the
/// first password shown once), disables one (its session ends at once) and revokes a system
/// token; each act is in the audit trail; a role that does not fit the unit, a taken username, a
/// forged form and anyone but an administrator are refused, with nothing written.
async fn an_administrator_manages_accounts_and_tokens(t: &TestApp) {
    let (admin, csrf) = crate::pr::person_with_role(t, "acc.admin", "admin", "other", "MVD").await;
    let add = |username: &'static str, role: &'static str, unit: &'static str, csrf: String| {
        let admin = admin.clone();
        async move {
            post_form(
                t,
                &admin,
                "/ui/admin/accounts",
                &[
                    ("csrf", &csrf),
                    ("username", username),
                    ("role", role),
                    ("unit", unit),
                    ("post", "other"),
                ],
            )
            .await
        }
    };
    let before = t.counts().await;
    // Refused, nothing written: a ЦОН operator at a police body, an unknown unit, a forged form.
    let (s, html) = add("new.operator", "con_operator", "ALM-01", csrf.clone()).await;
    assert_eq!(s, 422, "{html}");
    assert!(html.contains("Не выполнено."), "{html}");
    let (s, _) = add("new.officer", "officer", "NOWHERE", csrf.clone()).await;
    assert_eq!(s, 422);
    let (s, _) = add("new.officer", "officer", "ALM-01", "forged".into()).await;
    assert_eq!(s, 403);
    assert_eq!(t.counts().await, before, "a refused act wrote something");
    // Added: the first password is shown once, and signs the person in.
    let (s, html) = add("new.officer", "officer", "ALM-01", csrf.clone()).await;
    assert_eq!(s, 200, "{html}");
    let at = html.find("<code class=\"secret\">").unwrap() + "<code class=\"secret\">".len();
    let password = html[at..at + 24].to_string();
    let (s, cookie) = session_of(t, "new.officer", &password).await;
    assert_eq!(s, 201);
    let (_, page) = get(t, &admin).await;
    assert!(!page.contains(&password), "the password is shown only once");
    // A taken username.
    let (s, html) = add("new.officer", "officer", "ALM-01", csrf.clone()).await;
    assert_eq!(s, 422);
    assert!(html.contains("username_taken"), "{html}");
    // Disabled: its session ends at once, and it signs in no more.
    let (s, html) = post_form(
        t,
        &admin,
        "/ui/admin/accounts/disable",
        &[("csrf", &csrf), ("username", "new.officer")],
    )
    .await;
    assert_eq!(s, 200, "{html}");
    let r = t
        .http
        .get(format!("{}/api/v1/applications", t.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(session_of(t, "new.officer", &password).await.0, 401);
    // An administrator does not disable their own account.
    let (s, html) = post_form(
        t,
        &admin,
        "/ui/admin/accounts/disable",
        &[("csrf", &csrf), ("username", "acc.admin")],
    )
    .await;
    assert_eq!(s, 422);
    assert!(html.contains("own_account"), "{html}");
    // A system token revoked: it opens nothing more.
    let auditor = t.app.service.store.tokens().await.unwrap();
    let token = auditor
        .iter()
        .find(|k| k.role == "auditor" && k.revoked_at.is_none())
        .unwrap();
    let (s, _) = t.get("auditor", "/api/v1/applications").await;
    assert_eq!(s, 200);
    let (s, html) = post_form(
        t,
        &admin,
        "/ui/admin/tokens/revoke",
        &[("csrf", &csrf), ("id", &token.id)],
    )
    .await;
    assert_eq!(s, 200, "{html}");
    let (s, _) = t.get("auditor", "/api/v1/applications").await;
    assert_eq!(s, 401);
    // Each act is the administrator's, in the audit trail (its chain intact), and on the page.
    let acts = t.app.service.store.staff_events(10).await.unwrap();
    let names: Vec<&str> = acts.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(names, ["token.revoked", "account.disabled", "account.added"]);
    assert!(acts.iter().all(|e| e.actor.starts_with("admin@MVD:user:")));
    assert!(acts.iter().all(|e| !e.detail.contains(&password)), "never the password");
    assert_eq!(t.app.service.store.verify_audit().await.unwrap().first_broken, None);
    let (_, page) = get(t, &admin).await;
    assert!(
        page.contains("account.disabled") && page.contains("token.revoked"),
        "{page}"
    );
    // An officer may not manage accounts.
    let (officer, officer_csrf) = crate::pr::person_with_role(t, "acc.officer", "officer", "other", "ALM-01").await;
    let (s, _) = post_form(
        t,
        &officer,
        "/ui/admin/accounts",
        &[
            ("csrf", &officer_csrf),
            ("username", "x.y"),
            ("role", "officer"),
            ("unit", "ALM-01"),
            ("post", "other"),
        ],
    )
    .await;
    assert_eq!(s, 403);
    assert!(t.app.service.store.user_by_name("x.y").await.unwrap().is_none());
}

on_both!(
    admin_accounts,
    Default::default(),
    an_administrator_manages_accounts_and_tokens
);
