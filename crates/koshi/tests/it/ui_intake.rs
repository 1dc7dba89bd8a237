//! Desk intake of an RVP on the page (issue 17 item 4, п. 5–8): the purpose's documents are listed
//! before anything is entered; the check says what is missing or expired and writes nothing; a
//! whole package is taken and becomes a case of the officer's police body; an incomplete one is
//! refused at the counter with its receipt (App. 1-3); a forged form and a ЦОН operator are
//! refused with nothing written.

use reqwest::redirect::Policy;

use crate::harness::TestApp;
use crate::on_both;

/// The form's fields for the harness's filing of `passport` for `purpose`, all documents given.
fn fields(t: &TestApp, passport: &str, purpose: &str, csrf: &str) -> Vec<(String, String)> {
    let r = t.request(passport, purpose);
    let mut f: Vec<(String, String)> = vec![
        ("csrf".into(), csrf.into()),
        ("purpose".into(), purpose.into()),
        ("party_kind".into(), r.inviting_party.kind.clone()),
        (
            "party_id".into(),
            r.inviting_party.iin.clone().or(r.inviting_party.bin.clone()).unwrap(),
        ),
        ("party_name".into(), r.inviting_party.name.clone()),
        ("party_address".into(), r.inviting_party.address.clone()),
        ("party_rka".into(), r.inviting_party.rka.clone()),
        ("owns_housing".into(), "1".into()),
        ("surname".into(), r.immigrant.surname.clone()),
        ("given_names".into(), r.immigrant.given_names.clone()),
        ("birth_date".into(), r.immigrant.birth_date.to_string()),
        ("citizenship".into(), r.immigrant.citizenship.clone()),
        ("passport_number".into(), r.immigrant.document.number.clone()),
        ("passport_expires".into(), r.immigrant.document.expires_on.to_string()),
        ("visa_free".into(), "1".into()),
    ];
    for d in &r.documents {
        f.push((format!("doc.{}", d.kind), "1".into()));
        if let Some(i) = &d.issued_on {
            f.push((format!("issued.{}", d.kind), i.to_string()));
        }
        if let Some(e) = &d.expires_on {
            f.push((format!("expires.{}", d.kind), e.to_string()));
        }
    }
    f
}

async fn post(t: &TestApp, cookie: &str, f: &[(String, String)], action: &str) -> reqwest::Response {
    let mut f = f.to_vec();
    f.push(("action".into(), action.into()));
    koshi_registries::tls::client_builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/ui/intake", t.base))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&f).unwrap())
        .send()
        .await
        .unwrap()
}

async fn an_officer_takes_an_rvp_at_the_desk(t: &TestApp) {
    let (cookie, csrf) = crate::pr::person_with_role(t, "desk.officer", "officer", "other", "ALM-01").await;
    // The purpose's documents, before anything is entered.
    let page = t
        .http
        .get(format!("{}/ui/intake?purpose=labour_contract", t.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Документы для этой цели"), "{page}");
    assert!(page.contains(r#"name="doc.health_insurance""#) && page.contains("не нужен гражданину государства ЕАЭС"));
    assert!(
        !page.contains(r#"name="doc.identity_document""#),
        "the passport is entered with the person"
    );

    // The check: a missing insurance and an expired certificate are named; nothing is written.
    let before = t.counts().await;
    let mut incomplete = fields(t, "401234567", "labour_contract", &csrf);
    incomplete.retain(|(k, _)| k != "doc.health_insurance");
    let r = post(t, &cookie, &incomplete, "check").await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("Документы не могут быть приняты"), "{page}");
    assert!(page.contains("the package lacks health_insurance"), "{page}");
    let whole = fields(t, "401234567", "labour_contract", &csrf);
    let page = post(t, &cookie, &whole, "check").await.text().await.unwrap();
    assert!(page.contains("Пакет документов полный"), "{page}");
    assert_eq!(t.counts().await, before, "a check writes nothing");

    // Taken: a case of the officer's police body, filed at the desk.
    let r = post(t, &cookie, &whole, "file").await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let id = to.strip_prefix("/ui/cases/").unwrap();
    let case = t.case(id).await;
    assert_eq!(
        (case["channel"].as_str(), case["unit"].as_str()),
        (Some("police_desk"), Some("ALM-01")),
        "{case}"
    );
    assert_eq!(case["receipt"]["form"], "App. 1-2");

    // An incomplete package taken anyway: refused at the counter, with its receipt (App. 1-3).
    let r = post(t, &cookie, &incomplete, "file").await;
    assert_eq!(r.status(), 303);
    let id = r.headers()["location"]
        .to_str()
        .unwrap()
        .strip_prefix("/ui/cases/")
        .unwrap()
        .to_string();
    let case = t.case(&id).await;
    assert_eq!(case["status"], "refused_to_accept", "{case}");
    assert_eq!(case["receipt"]["form"], "App. 1-3");
    assert_eq!(case["receipt"]["grounds"][0]["code"], "missing_document");

    // A forged form and an auditor: refused, nothing written.
    let before = t.counts().await;
    let mut forged = whole.clone();
    forged[0].1 = "forged".into();
    assert_eq!(post(t, &cookie, &forged, "file").await.status(), 403);
    let (operator, operator_csrf) = crate::pr::person_with_role(t, "desk.auditor", "auditor", "other", "MVD").await;
    let r = t
        .http
        .get(format!("{}/ui/intake", t.base))
        .header("cookie", &operator)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let f = fields(t, "401234567", "labour_contract", &operator_csrf);
    assert_eq!(post(t, &operator, &f, "file").await.status(), 403);
    // A control character in a field is refused before anything is asked.
    let mut nul = whole.clone();
    nul.push(("surname".into(), "DE\u{0}MO".into()));
    assert_eq!(post(t, &cookie, &nul, "file").await.status(), 422);
    assert_eq!(t.counts().await, before);
}

on_both!(desk_intake, Default::default(), an_officer_takes_an_rvp_at_the_desk);

/// A multipart form as a browser sends one: text fields, then each file with its media type.
pub(crate) fn multipart(fields: &[(String, String)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "koshi-test-boundary-7f3a";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    for (name, media, bytes) in files {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"copy\"\r\nContent-Type: {media}\r\n\r\n")
                .as_bytes(),
        );
        body.extend(*bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// п. 5, 7: a ЦОН operator takes the documents with their electronic copies for the police body
/// of the place of registration, which owns the case; a "copy" that is not what its media type
/// says is refused with nothing written; the ЦОН gives no earlier filing instant.
async fn a_con_operator_takes_an_rvp_with_its_copies(t: &TestApp) {
    let (cookie, csrf) = crate::pr::person_with_role(t, "desk.con", "con_operator", "other", "CON-ALM-01").await;
    let page = t
        .http
        .get(format!("{}/ui/intake?purpose=labour_contract", t.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"name="police_unit""#) && page.contains(r#"name="copy.health_insurance""#),
        "{page}"
    );
    assert!(
        !page.contains("paper_received"),
        "a ЦОН gives no earlier filing instant"
    );
    let mut f = fields(t, "FA1234567", "labour_contract", &csrf);
    f.push(("police_unit".into(), "ALM-01".into()));
    f.push(("action".into(), "file".into()));
    let kinds: Vec<String> = f
        .iter()
        .filter_map(|(k, _)| k.strip_prefix("doc.").map(str::to_owned))
        .collect();
    let names: Vec<String> = kinds.iter().map(|k| format!("copy.{k}")).collect();
    let post = |body: (String, Vec<u8>)| {
        koshi_registries::tls::client_builder()
            .redirect(Policy::none())
            .build()
            .unwrap()
            .post(format!("{}/ui/intake", t.base))
            .header("cookie", &cookie)
            .header("content-type", body.0)
            .body(body.1)
            .send()
    };
    // п. 5 абз. 3: the IIN from ГБД ФЛ, asked from the page; the query is recorded, without the number.
    let mut ask = f.clone();
    ask.retain(|(k, _)| k != "action");
    ask.push(("action".into(), "gbd".into()));
    let events = |c: Vec<(String, i64)>| c.into_iter().find(|(t, _)| t == "events").map(|(_, n)| n).unwrap();
    let before_query = events(t.counts().await);
    let r = post(multipart(&ask, &[])).await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("ИИН из ГБД ФЛ: 900315300123") && page.contains(r#"name="iin" value="900315300123""#),
        "{page}"
    );
    assert_eq!(
        events(t.counts().await),
        before_query + 1,
        "the query is one audit event"
    );
    f.push(("iin".into(), "900315300123".into()));
    // A "PDF" that is an executable: refused, nothing written.
    let before = t.counts().await;
    let mut bad: Vec<(&str, &str, &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), "application/pdf", &b"%PDF-1.4 copy"[..]))
        .collect();
    bad[0].2 = b"MZ\x90\x00 not a pdf";
    let r = post(multipart(&f, &bad)).await.unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("verdict bad"));
    assert_eq!(t.counts().await, before);
    // With a copy of each document: the case of ALM-01, filed at the ЦОН.
    let good: Vec<(&str, &str, &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), "application/pdf", &b"%PDF-1.4 copy"[..]))
        .collect();
    let r = post(multipart(&f, &good)).await.unwrap();
    assert_eq!(r.status(), 303);
    let id = r.headers()["location"]
        .to_str()
        .unwrap()
        .strip_prefix("/ui/cases/")
        .unwrap()
        .to_string();
    let case = t.case(&id).await;
    assert_eq!(
        (
            case["channel"].as_str(),
            case["unit"].as_str(),
            case["receipt"]["form"].as_str()
        ),
        (Some("con"), Some("ALM-01"), Some("App. 1-2")),
        "{case}"
    );
}

on_both!(
    con_intake,
    Default::default(),
    a_con_operator_takes_an_rvp_with_its_copies
);

/// PR desk intake (issue 17 item 4, п. 11–13, 16-1): the ground's documents are listed before
/// anything is entered; the check names what is missing without writing anything; a whole
/// package is taken and registered (the talon, App. 6); a ЦОН operator is sent to the API.
async fn an_officer_takes_a_pr_at_the_desk(t: &TestApp) {
    let (cookie, csrf) = crate::pr::person(t, "pr.desk", "other", "ALM-01").await;
    let http = crate::harness::no_redirects();
    let page = http
        .get(format!("{}/ui/intake/pr?ground=visa_free_state", t.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Приём документов на ПМЖ") && page.contains("doc.autobiography"),
        "{page}"
    );
    let p = t.fixtures.person("AC2345678").unwrap();
    let birth = p.birth_date.unwrap().to_string();
    let citizenship = p.citizenship.clone().unwrap();
    let iin = p.iin.clone().unwrap_or_default();
    let all = crate::pr::PR_DOCUMENTS;
    let form = |action: &str, docs: &[&str]| {
        let mut f: Vec<(String, String)> = [
            ("csrf", csrf.as_str()),
            ("ground", "visa_free_state"),
            ("surname", "DEMO"),
            ("given_names", "PR"),
            ("birth_date", birth.as_str()),
            ("citizenship", citizenship.as_str()),
            ("iin", iin.as_str()),
            ("passport_number", "AC2345678"),
            ("passport_expires", "2030-01-01"),
            ("funds", "100 000 000"),
            ("price_m2", "500000"),
            ("phone", "+7 701 000 00 00"),
            ("action", action),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for d in docs {
            f.push((format!("doc.{d}"), "1".into()));
            f.push((format!("issued.{d}"), "2026-01-10".into()));
        }
        serde_urlencoded::to_string(&f).unwrap()
    };
    let post = |body: String| {
        let (http, url, cookie) = (http.clone(), format!("{}/ui/intake/pr", t.base), cookie.clone());
        async move {
            let r = http
                .post(url)
                .header("cookie", cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.headers().get("location").map(|l| l.to_str().unwrap().to_string()),
                r.text().await.unwrap(),
            )
        }
    };
    // Without the autobiography: the check names it, and nothing is written.
    let before = t.counts().await;
    let missing: Vec<&str> = all.iter().copied().filter(|d| *d != "autobiography").collect();
    let (s, _, html) = post(form("check", &missing)).await;
    assert_eq!(s, 200, "{html}");
    assert!(
        html.contains("Найдены основания") && html.contains("Автобиография"),
        "{html}"
    );
    assert_eq!(t.counts().await, before, "a check wrote something");
    // Whole: the check says so; taken, the case is registered in the journal.
    let (s, _, html) = post(form("check", &all)).await;
    assert_eq!(s, 200);
    assert!(html.contains("Пакет документов полный"), "{html}");
    let (s, location, html) = post(form("file", &all)).await;
    assert_eq!(s, 303, "{html}");
    let id = location.unwrap().trim_start_matches("/ui/cases/").to_string();
    let case = t.case(&id).await;
    assert_eq!(
        (case["kind"].as_str(), case["status"].as_str()),
        (Some("pr"), Some("registered")),
        "{case}"
    );
    assert_eq!(case["receipt"]["form"], "App. 6");
    // A ЦОН operator takes a PR through the API (with its copies and the ГБД ФЛ query).
    let (con, _) = crate::pr::person_with_role(t, "pr.con", "con_operator", "other", "CON-ALM-01").await;
    let r = http
        .get(format!("{}/ui/intake/pr", t.base))
        .header("cookie", &con)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

on_both!(pr_desk_intake, Default::default(), an_officer_takes_a_pr_at_the_desk);
