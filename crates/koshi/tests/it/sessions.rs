//! People's sessions over HTTP: sign-in, cookie flags, CSRF, expiry, sign-out, rate limits.

use serde_json::{Value, json};

use crate::harness::TestApp;
use crate::on_both;

async fn sign_in(t: &TestApp, username: &str, password: &str) -> (u16, Option<String>, Value) {
    let r = t
        .http
        .post(format!("{}/api/v1/session", t.base))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let cookie = r.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_string());
    (status, cookie, r.json().await.unwrap_or(Value::Null))
}

fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

async fn a_person_signs_in_works_with_csrf_and_signs_out(t: &TestApp) {
    let store = &t.app.service.store;
    koshi::accounts::add_user(
        store,
        "a.nurlanov",
        "длинный-пароль-2026",
        "officer",
        "ALM-01",
        "other",
        t.now(),
    )
    .await
    .unwrap();
    // Wrong password and unknown user answer alike.
    let (s1, _, p1) = sign_in(t, "a.nurlanov", "wrong-password-xx").await;
    let (s2, _, p2) = sign_in(t, "nobody", "wrong-password-xx").await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(p1["detail"], p2["detail"]);
    let (s, set_cookie, v) = sign_in(t, "a.nurlanov", "длинный-пароль-2026").await;
    assert_eq!(s, 201, "{v}");
    let set_cookie = set_cookie.unwrap();
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(set_cookie.contains(flag), "{set_cookie}");
    }
    let cookie = cookie_pair(&set_cookie);
    let csrf = v["csrf_token"].as_str().unwrap().to_string();
    assert_eq!(v["role"], "officer");
    // Reads need only the cookie.
    let r = t
        .http
        .get(format!("{}/api/v1/outages", t.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Changes need the CSRF token too.
    let req = t.request("FA1234567", "labour_contract");
    let r = t
        .http
        .post(format!("{}/api/v1/applications", t.base))
        .header("cookie", &cookie)
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["code"], "csrf_token_invalid");
    let r = t
        .http
        .post(format!("{}/api/v1/applications", t.base))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&req)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = r.json().await.unwrap();
    let case = t.case(created["id"].as_str().unwrap()).await;
    assert!(
        case["events"][0]["actor"].as_str().unwrap().contains("user:"),
        "the person is the actor"
    );
    // Sign-out ends the session.
    let r = t
        .http
        .delete(format!("{}/api/v1/session", t.base))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let r = t
        .http
        .get(format!("{}/api/v1/outages", t.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}
on_both!(
    session_life,
    super::super::harness::Options::default(),
    a_person_signs_in_works_with_csrf_and_signs_out
);

async fn sessions_expire_and_sign_in_is_rate_limited(t: &TestApp) {
    let store = &t.app.service.store;
    koshi::accounts::add_user(
        store,
        "b.sadykova",
        "другой-пароль-2026",
        "auditor",
        "MVD",
        "other",
        t.now(),
    )
    .await
    .unwrap();
    let (_, set_cookie, _) = sign_in(t, "b.sadykova", "другой-пароль-2026").await;
    let cookie = cookie_pair(&set_cookie.unwrap());
    t.advance(koshi::accounts::SESSION_HOURS * 60 + 1);
    let r = t
        .http
        .get(format!("{}/api/v1/outages", t.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "an expired session is refused");
    for _ in 0..koshi::accounts::MAX_FAILURES {
        let (s, _, _) = sign_in(t, "b.sadykova", "guess-guess-guess").await;
        assert_eq!(s, 401);
    }
    let (s, _, p) = sign_in(t, "b.sadykova", "другой-пароль-2026").await;
    assert_eq!(s, 429, "{p}");
    assert_eq!(p["code"], "too_many_sign_in_attempts");
    t.advance(koshi::accounts::FAILURE_WINDOW_MINUTES + 1);
    let (s, _, _) = sign_in(t, "b.sadykova", "другой-пароль-2026").await;
    assert_eq!(s, 201);
}
on_both!(
    session_expiry,
    super::super::harness::Options::default(),
    sessions_expire_and_sign_in_is_rate_limited
);
