//! The web app over HTTP (issue 17, first slice): sign-in by form, the work queue page and a
//! case page, with the same scopes and read records as the API; pages are HTML with their own
//! content policy. The browser tests (tests/browser) drive the same pages in Chromium.

use crate::harness::TestApp;
use crate::on_both;

async fn sign_in(t: &TestApp, http: &reqwest::Client, user: &str, password: &str) -> reqwest::Response {
    http.post(format!("{}/ui/sign-in", t.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username={user}&password={password}"))
        .send()
        .await
        .unwrap()
}

async fn an_officer_works_through_pages(t: &TestApp) {
    let case = t.file_and_process(&t.request("401234567", "labour_contract")).await;
    let id = case["id"].as_str().unwrap();
    let receipt = case["receipt"]["number"].as_str().unwrap();
    for (user, unit) in [("p.officer", "ALM-01"), ("q.officer", "ALM-02")] {
        koshi::accounts::add_user(
            &t.app.service.store,
            user,
            "a-long-password-2026",
            "officer",
            unit,
            "other",
            t.now(),
        )
        .await
        .unwrap();
    }
    let http = crate::harness::no_redirects();
    // Anonymous: sent to sign in.
    let r = http.get(format!("{}/ui/queue", t.base)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/ui/sign-in");
    // A wrong password: the form again, saying so, as HTML with the pages' content policy.
    let r = sign_in(t, &http, "p.officer", "wrong-password-xx").await;
    assert_eq!(r.status(), 401);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("style-src 'self'") && !csp.contains("script-src"), "{csp}");
    assert!(r.text().await.unwrap().contains("Неверное имя пользователя или пароль"));
    // A control character in the name is refused before the accounts are asked.
    let r = sign_in(t, &http, "p.officer%00", "a-long-password-2026").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("недопустимые символы"));
    // Signed in: the queue shows the case by its receipt, with its deadline.
    let r = sign_in(t, &http, "p.officer", "a-long-password-2026").await;
    assert_eq!(r.status(), 303);
    let cookie = crate::harness::cookie_of(&r);
    let page = http
        .get(format!("{}/ui/queue", t.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(receipt) && page.contains(&format!("/ui/cases/{id}")),
        "{page}"
    );
    assert!(page.contains("2026-02-03"), "the legal decision date");
    // The filtered list downloads as CSV through the list API, with the session's cookie.
    let csv_href = "/api/v1/applications?format=csv&amp;state=open";
    assert!(page.contains(csv_href), "{page}");
    let r = http
        .get(format!("{}{}", t.base, csv_href.replace("&amp;", "&")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(r.text().await.unwrap().contains(id), "the case is in the export");
    // A blank filter field is no filter.
    let r = http
        .get(format!("{}/ui/queue?state=open&service=&q=", t.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The case page: summary, checks with sources, timeline; the read is recorded.
    let before = t
        .get("auditor", &format!("/api/v1/applications/{id}/access-log"))
        .await
        .1["items"]
        .as_array()
        .unwrap()
        .len();
    let page = http
        .get(format!("{}/ui/cases/{id}", t.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Ход дела") && page.contains("intake.accepted") && page.contains("police_records+kpsisu"),
        "{page}"
    );
    // The case's legal clock: the RVP's one working day (п. 9), running to the end of Tuesday's
    // working day.
    assert!(
        page.contains("Сроки дела")
            && page.contains("<td>Рассмотрение заявления на РВП</td><td>п. 9</td><td class=\"date\">2026-02-03 18:30</td><td>идёт</td>"),
        "{page}"
    );
    let after = t
        .get("auditor", &format!("/api/v1/applications/{id}/access-log"))
        .await
        .1["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(after, before + 1, "reading a case on a page is a recorded read");
    // The proposed act, confirmed from the page with a reason and the session's CSRF token.
    assert!(
        page.contains("Предложенное решение") && page.contains("Отказать"),
        "{page}"
    );
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let post = |body: String| {
        let (http, cookie, url) = (
            http.clone(),
            cookie.clone(),
            format!("{}/ui/cases/{id}/decision", t.base),
        );
        async move {
            http.post(url)
                .header("cookie", cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        post("csrf=forged&action=confirm&comment=records+confirmed".into())
            .await
            .status(),
        403
    );
    assert_eq!(post(format!("csrf={csrf}&action=confirm&comment=")).await.status(), 422);
    assert_eq!(
        post(format!("csrf={csrf}&action=confirm&comment=records%00confirmed"))
            .await
            .status(),
        422,
        "a control character in a form is refused as in a JSON body"
    );
    assert_eq!(t.case(id).await["status"], "awaiting_confirmation", "nothing changed");
    let r = post(format!("csrf={csrf}&action=confirm&comment=records+confirmed")).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], format!("/ui/cases/{id}").as_str());
    assert_eq!(t.case(id).await["status"], "refused");
    // Refusing on a ground of law chosen by the officer, with the facts and a reason.
    let second = t.file_and_process(&t.request("401234567", "labour_contract")).await;
    let second = second["id"].as_str().unwrap().to_string();
    let page = http
        .get(format!("{}/ui/cases/{second}", t.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Отказать по основанию закона") && page.contains("value=\"records\""),
        "{page}"
    );
    let refuse = |body: String| {
        let (http, cookie, url) = (
            http.clone(),
            cookie.clone(),
            format!("{}/ui/cases/{second}/decision", t.base),
        );
        async move {
            http.post(url)
                .header("cookie", cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let r = refuse(format!(
        "csrf={csrf}&action=refuse&ground=astrology&detail=stars&comment=because"
    ))
    .await;
    assert_eq!(r.status(), 422, "a ground the law does not know");
    let r = refuse(format!(
        "csrf={csrf}&action=refuse&ground=records&detail=&comment=because"
    ))
    .await;
    assert_eq!(r.status(), 422, "a ground states its facts");
    assert_eq!(t.case(&second).await["status"], "awaiting_confirmation");
    let r = refuse(format!(
        "csrf={csrf}&action=refuse&ground=records&detail=a+conviction+on+record&comment=records+checked"
    ))
    .await;
    assert_eq!(r.status(), 303);
    let decided = t.case(&second).await;
    assert_eq!(decided["status"], "refused");
    assert_eq!(
        decided["decision"]["grounds"][0]["detail"], "a conviction on record",
        "{decided}"
    );
    // An officer of another body: the case is refused on the page too.
    let r = sign_in(t, &http, "q.officer", "a-long-password-2026").await;
    let other = crate::harness::cookie_of(&r);
    let r = http
        .get(format!("{}/ui/cases/{id}", t.base))
        .header("cookie", &other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(!r.text().await.unwrap().contains(receipt));
    // The auditor: who read the case, and the audit chain verified; an officer may not verify.
    koshi::accounts::add_user(
        &t.app.service.store,
        "a.auditor",
        "a-long-password-2026",
        "auditor",
        "MVD",
        "other",
        t.now(),
    )
    .await
    .unwrap();
    let r = sign_in(t, &http, "a.auditor", "a-long-password-2026").await;
    let auditor = crate::harness::cookie_of(&r);
    let page = http
        .get(format!("{}/ui/cases/{id}", t.base))
        .header("cookie", &auditor)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Кто читал дело") && page.contains("officer@ALM-01:user:"),
        "{page}"
    );
    assert!(!page.contains("Подтвердить решение"), "an auditor decides nothing");
    // Every read, a page at a time (the case page shows the latest 50): the auditor's, not an officer's.
    assert!(page.contains(&format!("/ui/cases/{id}/readers")), "{page}");
    let readers = http
        .get(format!("{}/ui/cases/{id}/readers", t.base))
        .header("cookie", &auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(readers.status(), 200);
    let readers = readers.text().await.unwrap();
    assert!(
        readers.contains("officer@ALM-01:user:") && readers.contains("auditor@"),
        "{readers}"
    );
    let r = http
        .get(format!("{}/ui/cases/{id}/readers", t.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "an officer does not read the access log");
    let page = http
        .get(format!("{}/ui/audit", t.base))
        .header("cookie", &auditor)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Цепочка не нарушена"), "{page}");
    let r = http
        .get(format!("{}/ui/audit", t.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Signing out needs the session's token; then the cookie no longer opens anything.
    let out = |body: &'static str| {
        http.post(format!("{}/ui/sign-out", t.base))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    assert_eq!(out("csrf=forged").await.unwrap().status(), 403);
    let r = http
        .post(format!("{}/ui/sign-out", t.base))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    let r = http
        .get(format!("{}/ui/queue", t.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "the session has ended");
}

on_both!(pages, Default::default(), an_officer_works_through_pages);

/// The language switch (issue 17 item 2): `?lang=kk` keeps Kazakh in a cookie and sends the
/// browser back to the same address without it (other parameters kept); pages then say
/// `lang="kk"`, use the Kazakh words, mark the unverified drafts and say so; `?lang=ru` returns.
async fn pages_switch_between_russian_and_kazakh(t: &TestApp) {
    let case = t.file_and_process(&t.request("401234568", "labour_contract")).await;
    let receipt = case["receipt"]["number"].as_str().unwrap().to_string();
    koshi::accounts::add_user(
        &t.app.service.store,
        "k.officer",
        "a-long-password-2026",
        "officer",
        "ALM-01",
        "other",
        t.now(),
    )
    .await
    .unwrap();
    let http = crate::harness::no_redirects();
    let r = http.get(format!("{}/ui/sign-in?lang=kk", t.base)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/ui/sign-in");
    let lang = crate::harness::cookie_of(&r);
    assert_eq!(lang, "koshi_lang=kk");
    let page = http
        .get(format!("{}/ui/sign-in", t.base))
        .header("cookie", &lang)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"<html lang="kk">"#), "{page}");
    assert!(
        page.contains("Қызметкерлердің кіруі") && !page.contains("Вход для сотрудников"),
        "{page}"
    );
    assert!(page.contains(r#"class="unverified""#) && page.contains("ресми мәтінмен әлі салыстырылмаған"));
    // Signed in, the queue in Kazakh: a verified term (the RVP's Kazakh name) is not marked.
    let r = sign_in(t, &http, "k.officer", "a-long-password-2026").await;
    let session = crate::harness::cookie_of(&r);
    let both = format!("{session}; {lang}");
    let page = http
        .get(format!("{}/ui/queue?state=all", t.base))
        .header("cookie", &both)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Істер кезегі") && page.contains(&receipt), "{page}");
    assert!(page.contains("<td>Уақытша тұруға рұқсат</td>"), "{page}");
    // The switch back keeps the page's other parameters.
    let r = http
        .get(format!("{}/ui/queue?state=all&lang=ru", t.base))
        .header("cookie", &both)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/ui/queue?state=all");
    assert!(r.headers()["set-cookie"].to_str().unwrap().starts_with("koshi_lang=ru"));
    let page = http
        .get(format!("{}/ui/queue?state=all", t.base))
        .header("cookie", format!("{session}; koshi_lang=ru"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"<html lang="ru">"#) && page.contains("Очередь дел"),
        "{page}"
    );
    assert!(!page.contains("unverified"));
    // An unknown language is no choice: the page answers in the language already chosen.
    let r = http
        .get(format!("{}/ui/sign-in?lang=en", t.base))
        .header("cookie", &lang)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains(r#"<html lang="kk">"#));
}

on_both!(
    language_switch,
    Default::default(),
    pages_switch_between_russian_and_kazakh
);
