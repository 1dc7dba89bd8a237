//! The inviting party's cabinet (issue 17 item 5; п. 8): sign-in with the ЭЦП by uploading a
//! signed statement, a signed request filed from the page, the request followed to its result
//! with the time it will be ready, the documents downloaded — and nobody else's case shown.

use base64::Engine;
use jiff::SignedDuration;
use x509_cert::ext::pkix::KeyUsages;

use crate::harness::{T0, TestApp, cookie_of};
use crate::pki::{CmsOpts, Issued, Spec, sign};
use crate::signatures::{pki, portal_body, signer};
use crate::ui_intake::multipart;

/// The cabinet's statement to sign, fetched as a party's browser downloads it.
async fn fresh_statement(t: &TestApp, http: &reqwest::Client, organisation: bool) -> Vec<u8> {
    let q = if organisation { "?organisation=1" } else { "" };
    let r = http
        .get(format!("{}/cabinet/statement{q}", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    r.bytes().await.unwrap().to_vec()
}

/// Signs in by uploading the statement and its signature (as `signature` bytes); the response.
async fn upload_sign_in(t: &TestApp, http: &reqwest::Client, statement: &[u8], signature: &[u8]) -> reqwest::Response {
    let (ct, body) = multipart(
        &[],
        &[
            ("statement", "application/json", statement),
            ("signature", "application/pkcs7-signature", signature),
        ],
    );
    http.post(format!("{}/cabinet/sign-in", t.base))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn page(t: &TestApp, http: &reqwest::Client, cookie: &str, path: &str) -> (u16, String) {
    let r = http
        .get(format!("{}{path}", t.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn csrf_in(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    html[at..at + 64].to_string()
}

async fn the_party_follows_its_request_in_the_cabinet(t: &TestApp) {
    t.clock.set("2026-02-02T10:00:00+05:00".parse().unwrap());
    let http = crate::harness::no_redirects();
    let director = signer("BIN160540012347", 0x4101, 30, 365);
    let chain = [&pki().intermediate.cert];
    // Anonymous: the sign-in page, with the statements to sign.
    let (s, html) = page(t, &http, "", "/cabinet").await;
    assert_eq!(s, 200);
    assert!(html.contains("Вход с ЭЦП") && html.contains("/cabinet/statement?organisation=1"));
    // A statement signed by someone naming no BIN does not sign the company in; nothing written.
    let stranger: Issued = pki().intermediate.issue(Spec {
        subject: "CN=ЧУЖОЙ,SERIALNUMBER=IIN780412300119,C=KZ".into(),
        serial: 0x4102,
        not_before: T0.parse::<jiff::Timestamp>().unwrap() - SignedDuration::from_hours(24),
        not_after: T0.parse::<jiff::Timestamp>().unwrap() + SignedDuration::from_hours(24 * 30),
        ca: false,
        key_usage: Some(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
    });
    let before = t.counts().await;
    let st = fresh_statement(t, &http, true).await;
    let r = upload_sign_in(t, &http, &st, &sign(&stranger, &chain, &st, &CmsOpts::default())).await;
    assert_eq!(r.status(), 422);
    assert!(!r.headers().contains_key("set-cookie"));
    assert!(r.text().await.unwrap().contains("names no BIN"));
    // A form of more than eight fields is refused, however its fields are named.
    let same: Vec<(&str, &str, &[u8])> = (0..9)
        .map(|_| ("statement", "application/json", st.as_slice()))
        .collect();
    let (ct, body) = multipart(&[], &same);
    let r = http
        .post(format!("{}/cabinet/sign-in", t.base))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("too many fields"));
    let r = upload_sign_in(t, &http, &st, b"not a signature").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Файл подписи не читается"));
    assert_eq!(t.counts().await, before, "refused sign-ins wrote something");
    // The director signs the company in; the signature file as base64 text, as tools save it.
    let st = fresh_statement(t, &http, true).await;
    let cms = sign(&director, &chain, &st, &CmsOpts::default());
    let b64 = base64::engine::general_purpose::STANDARD.encode(&cms);
    let r = upload_sign_in(t, &http, &st, b64.as_bytes()).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/cabinet");
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Secure"),
        "{set}"
    );
    let company = cookie_of(&r);
    // The same statement never serves twice.
    let r = upload_sign_in(t, &http, &st, &cms).await;
    assert_eq!(r.status(), 409);
    let (s, html) = page(t, &http, &company, "/cabinet").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("Мои запросы") && html.contains(koshi::demo::COMPANY_BIN) && html.contains("Запросов пока нет")
    );
    // A request filed from the page: the form's CSRF token is required, and nothing is written
    // without it.
    let (_, form) = page(t, &http, &company, "/cabinet/new").await;
    let csrf = csrf_in(&form);
    let body = portal_body(t, "2026-02-02T10:01:00+05:00");
    let cms = sign(&director, &chain, &body, &CmsOpts::default());
    let post = |csrf: String, body: Vec<u8>, cms: Vec<u8>| {
        let (http, url, cookie) = (http.clone(), format!("{}/cabinet/requests", t.base), company.clone());
        async move {
            let (ct, form) = multipart(
                &[("csrf".to_string(), csrf)],
                &[
                    ("request", "application/json", &body),
                    ("signature", "application/pkcs7-signature", &cms),
                ],
            );
            http.post(url)
                .header("cookie", cookie)
                .header("content-type", ct)
                .body(form)
                .send()
                .await
                .unwrap()
        }
    };
    let before = t.counts().await;
    let r = post("0".repeat(64), body.clone(), cms.clone()).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        t.counts().await,
        before,
        "a request without the form's token wrote something"
    );
    // A request the company did not sign (the stranger's ЭЦП) is refused on the page.
    let r = post(
        csrf.clone(),
        body.clone(),
        sign(&stranger, &chain, &body, &CmsOpts::default()),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert_eq!(t.counts().await, before);
    let r = post(csrf.clone(), body.clone(), cms.clone()).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let id = location.trim_start_matches("/cabinet/requests/").to_string();
    // A second click files nothing more.
    let again = post(csrf.clone(), body.clone(), cms.clone()).await;
    assert_eq!(again.headers()["location"].to_str().unwrap(), location);
    // Nor does the same signed request sent again after signing in anew.
    let st = fresh_statement(t, &http, true).await;
    let r = upload_sign_in(t, &http, &st, &sign(&director, &chain, &st, &CmsOpts::default())).await;
    let second = cookie_of(&r);
    let (_, form2) = page(t, &http, &second, "/cabinet/new").await;
    let (ct, multipart_body) = multipart(
        &[("csrf".to_string(), csrf_in(&form2))],
        &[
            ("request", "application/json", &body),
            (
                "signature",
                "application/pkcs7-signature",
                &sign(&director, &chain, &body, &CmsOpts::default()),
            ),
        ],
    );
    let r = http
        .post(format!("{}/cabinet/requests", t.base))
        .header("cookie", &second)
        .header("content-type", ct)
        .body(multipart_body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        location,
        "the same request from a new session"
    );
    // The request: accepted, with the date and time its result will be ready (п. 8: one working
    // day; Monday 2 February at 10:01 → Tuesday 3 February, at the end of the working day).
    let (s, html) = page(t, &http, &company, &location).await;
    assert_eq!(s, 200);
    assert!(html.contains("Результат будет готов (п. 8)"), "{html}");
    assert!(
        html.contains("2026-02-03 18:") && html.contains("2026-02-02 10:01"),
        "{html}"
    );
    let (_, list) = page(t, &http, &company, "/cabinet").await;
    assert!(list.contains(&location), "the list links the request");
    // Processed and confirmed by the officer: the permit is on the page and downloads with the
    // cabinet's cookie.
    for _ in 0..200 {
        if t.case(&id).await["status"] != "checking" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(t.case(&id).await["status"], "awaiting_confirmation");
    let (_, html) = page(t, &http, &company, &location).await;
    assert!(
        html.contains("На рассмотрении")
            && !html.contains("Ожидает решения сотрудника")
            && html.contains("2026-02-03 18:"),
        "the party reads its request as under consideration, not the police's steps: {html}"
    );
    let (s, v) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/decision"),
            &serde_json::json!({"action": "confirm", "comment": "all checks clear"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, html) = page(t, &http, &company, &location).await;
    assert!(html.contains("Выдано"), "{html}");
    let (_, list) = page(t, &http, &company, "/cabinet").await;
    assert_eq!(
        list.matches("/cabinet/requests/").count(),
        1,
        "one request, filed once: {list}"
    );
    assert!(
        html.contains("Разрешение на временное проживание (прил. 2)") && !html.contains("Результат будет готов"),
        "the permit is listed, and the result is no longer awaited: {html}"
    );
    let hrefs: Vec<&str> = html
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.starts_with("/api/v1/documents/") && h.ends_with("?lang=ru"))
        .collect();
    assert!(hrefs.len() >= 2, "the receipt and the permit: {hrefs:?}");
    for h in &hrefs {
        let r = http
            .get(format!("{}{h}", t.base))
            .header("cookie", &company)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{h}");
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
    }
    // A party may not look up the police's accounts through the officer filter.
    let r = http
        .get(format!("{}/api/v1/applications?officer=work.officer", t.base))
        .header("cookie", &company)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // The cabinet's cookie changes nothing through the API.
    let r = http
        .post(format!("{}/api/v1/applications", t.base))
        .header("cookie", &company)
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Another party (the stranger, for himself) sees none of it.
    let st = fresh_statement(t, &http, false).await;
    let r = upload_sign_in(t, &http, &st, &sign(&stranger, &chain, &st, &CmsOpts::default())).await;
    assert_eq!(r.status(), 303);
    let other = cookie_of(&r);
    let (_, html) = page(t, &http, &other, "/cabinet").await;
    assert!(
        html.contains("780412300119") && html.contains("Запросов пока нет"),
        "{html}"
    );
    let (s, html) = page(t, &http, &other, &location).await;
    assert_eq!(s, 404);
    assert!(html.contains("Запрос не найден"));
    let r = http
        .get(format!("{}{}", t.base, hrefs[0]))
        .header("cookie", &other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "another party's document");
    // Signing out ends the token: the old cookie opens nothing.
    let (_, home) = page(t, &http, &company, "/cabinet").await;
    let r = http
        .post(format!("{}/cabinet/sign-out", t.base))
        .header("cookie", &company)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}", csrf_in(&home)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    let (_, html) = page(t, &http, &company, "/cabinet").await;
    assert!(html.contains("Вход с ЭЦП"), "signed out");
    let r = http
        .get(format!("{}{}", t.base, hrefs[0]))
        .header("cookie", &company)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// п. 17–19: the applicant for a PR, signed in with the ЭЦП of the IIN the filing gives, finds
/// the notices addressed to the applicant in the cabinet — the notification of issue (App. 10)
/// and the hearing before an annulment (п. 18) with its day and grounds — and reads nothing
/// else of the case; another party finds none of them.
async fn the_pr_applicant_receives_its_notices(t: &TestApp) {
    let http = crate::harness::no_redirects();
    let chain = [&pki().intermediate.cert];
    let head = crate::pr::person(t, "head.alm01", "head_of_city_district_police", "ALM-01").await;
    let id = crate::pr::issued_pr(t, "FA1234567", &head).await;
    let (s, v) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/annulment"),
            &serde_json::json!({"grounds": [{"check": "art_49", "detail": "сведения о судимости"}]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/hearing/notice"),
            &serde_json::json!({"hearing_on": "2026-02-03"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let applicant = |serial: u32, iin: &str| {
        pki().intermediate.issue(Spec {
            subject: format!("CN=DEMO PR,SERIALNUMBER=IIN{iin},C=KZ"),
            serial,
            not_before: T0.parse::<jiff::Timestamp>().unwrap() - SignedDuration::from_hours(24),
            not_after: T0.parse::<jiff::Timestamp>().unwrap() + SignedDuration::from_hours(24 * 30),
            ca: false,
            key_usage: Some(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
        })
    };
    let sign_in_as = |who: Issued| {
        let http = http.clone();
        async move {
            let st = fresh_statement(t, &http, false).await;
            let r = upload_sign_in(t, &http, &st, &sign(&who, &chain, &st, &CmsOpts::default())).await;
            assert_eq!(r.status(), 303);
            cookie_of(&r)
        }
    };
    // The fixture applicant's IIN (FA1234567).
    let me = sign_in_as(applicant(0x4201, "900315300123")).await;
    let (s, html) = page(t, &http, &me, "/cabinet").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("Запросов пока нет"),
        "a PR is no request of the cabinet's: {html}"
    );
    assert!(html.contains("Уведомление о выдаче или об отказе (прил. 10)"), "{html}");
    assert!(
        html.contains("Заслушивание перед аннулированием разрешения (п. 18)"),
        "{html}"
    );
    assert!(
        html.contains("2026-02-03") && html.contains("сведения о судимости"),
        "{html}"
    );
    let permit = t.case(&id).await["decision"]["permit_number"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(html.contains(&permit), "the notification names the permit: {html}");
    // The case itself is the police's: not shown to the applicant here.
    let (s, _) = page(t, &http, &me, &format!("/cabinet/requests/{id}")).await;
    assert_eq!(s, 404);
    // Another person finds none of it.
    let other = sign_in_as(applicant(0x4202, "880101300123")).await;
    let (_, html) = page(t, &http, &other, "/cabinet").await;
    assert!(!html.contains("Уведомления") && !html.contains(&permit), "{html}");
}

/// The portal's trust store, and no duty officer: a clean request waits for the officer's
/// confirmation, so the party sees it open before it sees it issued.
fn cabinet_options() -> crate::harness::Options {
    crate::harness::Options {
        trust_store: Some(crate::signatures::trust()),
        duty_officers: false,
        ..crate::harness::Options::default()
    }
}

mod cabinet {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let t = crate::harness::spawn(crate::harness::Backend::Sqlite, super::cabinet_options())
            .await
            .unwrap();
        super::the_party_follows_its_request_in_the_cabinet(&t).await;
        t.done().await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some(t) = crate::harness::spawn(crate::harness::Backend::Postgres, super::cabinet_options()).await else {
            return;
        };
        super::the_party_follows_its_request_in_the_cabinet(&t).await;
        t.done().await;
    }
}

mod notices {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let t = crate::harness::spawn(crate::harness::Backend::Sqlite, super::cabinet_options())
            .await
            .unwrap();
        super::the_pr_applicant_receives_its_notices(&t).await;
        t.done().await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some(t) = crate::harness::spawn(crate::harness::Backend::Postgres, super::cabinet_options()).await else {
            return;
        };
        super::the_pr_applicant_receives_its_notices(&t).await;
        t.done().await;
    }
}
