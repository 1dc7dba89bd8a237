//! Demo data: complete, realistic filings for the fixture people, used by `koshi demo`, the
//! integration tests and the benchmark. Every person is invented (see the registry fixtures).

use jiff::civil::date;
use koshi_law::Law;
use koshi_registries::sim::Fixtures;

use crate::model::*;

/// Household employer with no legacy household RVPs (fixtures).
pub const EMPLOYER_IIN: &str = "780412300119";
/// Household employer already holding three household RVPs outside Koshi (fixtures).
pub const BUSY_EMPLOYER_IIN: &str = "850923400279";
/// A legal entity BIN (check digit valid).
pub const COMPANY_BIN: &str = "160540012347";

/// The documents of a complete PR package (App. 3) besides the passport, for a ground that asks
/// for nothing more (a visa-free state's national).
pub const PR_DOCUMENTS: [&str; 9] = [
    "application_form",
    "exit_consent",
    "autobiography",
    "solvency_certificate",
    "criminal_record_certificate",
    "housing_document",
    "medical_certificate",
    "photo",
    "state_duty_receipt",
];

/// Those documents as a filing lists them, each issued on `issued_on` (certificates: п. 16-1, no
/// older than 180 days at filing).
pub fn pr_documents(issued_on: &str) -> Vec<serde_json::Value> {
    PR_DOCUMENTS
        .iter()
        .map(|kind| serde_json::json!({"kind": kind, "issued_on": issued_on}))
        .collect()
}

/// A complete PR filing at the police desk, as the API takes it, for the fixture person with
/// `document_number` (ground: a visa-free state's national), its certificates issued on
/// `issued_on`, 100 million ₸ confirmed and housing at 500,000 ₸ per m². `None` for a person the
/// fixtures do not hold.
pub fn pr_request(fixtures: &Fixtures, document_number: &str, issued_on: &str) -> Option<serde_json::Value> {
    let p = fixtures.person(document_number)?;
    Some(serde_json::json!({
        "kind": "pr",
        "ground": "visa_free_state",
        "applicant": {
            "surname": "DEMO", "given_names": "PR",
            "birth_date": p.birth_date.map(|d| d.to_string()),
            "citizenship": p.citizenship.clone(),
            "iin": p.iin.clone(),
            "document": {"number": document_number, "expires_on": "2030-01-01"}
        },
        "documents": pr_documents(issued_on),
        "solvency": {"funds_tiyn": 10_000_000_000i64, "price_per_square_metre_tiyn": 50_000_000i64}
    }))
}

/// A complete RVP filing for the fixture person with `document_number`, for `purpose`, at the
/// police desk. Documents expire well after any date the tests use.
pub fn request(law: &Law, fixtures: &Fixtures, document_number: &str, purpose: &str) -> ApplicationRequest {
    let person = fixtures.person(document_number);
    let (citizenship, birth, iin) = match person {
        Some(p) => (
            p.citizenship.clone().unwrap_or_else(|| "UZB".into()),
            Day(p.birth_date.unwrap_or(date(1990, 1, 1))),
            p.iin.clone(),
        ),
        None => ("UZB".to_string(), Day(date(1990, 1, 1)), None),
    };
    let p = law.requirements.purpose(purpose);
    let party_kind = p
        .and_then(|p| p.parties.first().copied())
        .unwrap_or(koshi_law::requirements::PartyKind::Citizen);
    let mut documents = vec![
        doc("application_form", None),
        doc("health_insurance", Some(date(2027, 12, 31))),
        doc("fingerprint_certificate", None),
    ];
    if let Some(p) = p {
        for d in &p.documents {
            documents.push(doc(&d.kind, Some(date(2027, 6, 30))));
        }
    }
    ApplicationRequest {
        kind: "rvp".into(),
        channel: Some("police_desk".into()),
        police_unit: None,
        filed_at: None,
        paper_filing: None,
        purpose: purpose.into(),
        inviting_party: InvitingPartyInput {
            kind: party_kind.as_str().into(),
            iin: party_kind.is_individual().then(|| EMPLOYER_IIN.to_string()),
            bin: (!party_kind.is_individual()).then(|| COMPANY_BIN.to_string()),
            name: "Демо принимающая сторона".into(),
            address: "г. Алматы, ул. Абая, 1".into(),
            rka: "0201400123456789".into(),
            owns_housing: true,
        },
        immigrant: PersonInput {
            surname: "DEMO".into(),
            given_names: "PERSON".into(),
            birth_date: birth,
            citizenship,
            iin,
            document: IdentityDocumentInput {
                kind: "passport".into(),
                number: document_number.into(),
                issued_on: Some(Day(date(2021, 1, 1))),
                expires_on: Day(date(2031, 1, 1)),
            },
            stay_until: None,
            from_visa_free_state: true,
            turned_16_in_kazakhstan: false,
        },
        family: vec![],
        family_of: None,
        schema: None,
        documents,
        representative: None,
        late_exception: None,
        requested_until: None,
        deliver_to: None,
    }
}

/// A complete request of the demo company on the portal (п. 8) for a clean fixture person no
/// other demo case names, with an electronic copy of each document: what the company's director
/// signs and files in the cabinet.
pub fn portal_request(law: &Law, fixtures: &Fixtures) -> ApplicationRequest {
    use base64::Engine;
    let mut req = request(law, fixtures, "EB3456789", "labour_contract");
    req.channel = Some("portal".into());
    // The police body of the place of registration (п. 5).
    req.police_unit = Some("ALM-01".into());
    for d in &mut req.documents {
        d.attachment = Some(AttachmentInput {
            media_type: "application/pdf".into(),
            content_base64: Some(
                base64::engine::general_purpose::STANDARD.encode(format!("%PDF-1.4 demo copy: {}", d.kind)),
            ),
            sha256: None,
        });
    }
    req
}

fn doc(kind: &str, expires: Option<jiff::civil::Date>) -> DocumentInput {
    DocumentInput {
        kind: kind.into(),
        number: Some(format!("{}-001", kind.len())),
        issued_on: Some(Day(date(2025, 6, 1))),
        expires_on: expires.map(Day),
        attachment: None,
    }
}

/// The demo's duty officers (п. 9-1): one account per district police body.
pub const DUTY_OFFICERS: [(&str, &str); 2] = [("ALM-01", "duty.alm01"), ("ALM-02", "duty.alm02")];

/// Creates the demo's duty officer accounts once; nobody signs in with them (a random password).
pub async fn duty_officer_accounts(app: &crate::app::App) -> anyhow::Result<()> {
    let store = &app.service.store;
    for (unit, account) in DUTY_OFFICERS {
        if store.user_by_name(account).await?.is_none() {
            let password = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
            crate::accounts::add_user(store, account, &password, "officer", unit, "other", app.service.now()).await?;
        }
    }
    Ok(())
}

/// The demo's officer account for the web app, `officer.demo` at ALM-01, with a new password
/// each time the demo starts (printed by `koshi demo`).
pub async fn officer_account(app: &crate::app::App) -> anyhow::Result<(String, String)> {
    demo_account(app, "officer.demo", "other").await
}

/// The demo's approving post (п. 15 абз. 2), `head.demo`: head of the ALM-01 district police,
/// with a new password each time the demo starts (printed by `koshi demo`).
pub async fn head_account(app: &crate::app::App) -> anyhow::Result<(String, String)> {
    demo_account(app, "head.demo", "head_of_city_district_police").await
}

/// The demo's administrator, `admin.demo` at the ministry (calendar years, law data, accounts),
/// with a new password each time the demo starts (printed by `koshi demo`).
pub async fn admin_account(app: &crate::app::App) -> anyhow::Result<(String, String)> {
    account(app, "admin.demo", "admin", "MVD", "other").await
}

async fn demo_account(app: &crate::app::App, username: &str, post: &str) -> anyhow::Result<(String, String)> {
    account(app, username, "officer", "ALM-01", post).await
}

async fn account(
    app: &crate::app::App,
    username: &str,
    role: &str,
    unit: &str,
    post: &str,
) -> anyhow::Result<(String, String)> {
    let store = &app.service.store;
    let password = format!("demo-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    if store.user_by_name(username).await?.is_some() {
        let hash = crate::accounts::hash_password(&password).map_err(|e| anyhow::anyhow!(e))?;
        store
            .write(koshi_store::Unit::new().with(koshi_store::repo::set_password_hash(username, &hash)))
            .await?;
    } else {
        crate::accounts::add_user(store, username, &password, role, unit, post, app.service.now()).await?;
    }
    Ok((username.to_string(), password))
}

/// Files a handful of demo applications (once: skipped when the database already has some).
pub async fn seed(app: &crate::app::App) -> anyhow::Result<usize> {
    let store = &app.service.store;
    if store.count_applications().await? > 0 {
        return Ok(0);
    }
    let Some(sim) = &app.sim else { return Ok(0) };
    let caller = crate::service::Caller {
        token_id: "demo-seed".into(),
        role: "officer".into(),
        unit: "ALM-01".into(),
        post: None,
        party: None,
    };
    let law = app.service.law();
    let cases = [
        ("FA1234567", "labour_contract"),
        ("751234567", "family_reunification"),
        ("AC2345678", "education"),
        ("AB7654321", "labour_leb_permit"),
        ("401234567", "labour_contract"),
        ("EC7654321", "missionary"),
    ];
    // The demo's papers were received at the desk at 10:00 on the last working day and are
    // entered now, as an officer enters a paper filing (with its receipt's number and why it
    // is entered late): so they are decidable whatever the hour the demo starts (п. 8: a filing
    // after working hours counts from the next working day).
    // (Today at 10:00 when today is a working day and that hour has passed: such cases are not
    // overdue yet in the evening.)
    let cal = &law.calendar;
    let now = cal.civil(app.service.now());
    let mut day = now.date();
    if !(cal.is_working(day)? && now.time() >= jiff::civil::time(10, 0, 0, 0)) {
        day = day.yesterday()?;
        while !cal.is_working(day)? {
            day = day.yesterday()?;
        }
    }
    let received = cal.time_zone().to_timestamp(day.at(10, 0, 0, 0))?;
    let mut n = 0;
    for (i, (doc, purpose)) in cases.into_iter().enumerate() {
        let mut req = request(&law, sim.fixtures(), doc, purpose);
        req.filed_at = Some(received.to_string());
        req.paper_filing = Some(crate::model::PaperFilingInput {
            receipt_number: format!("П-{}", i + 1),
            reason: "демо: заявление принято на бумаге в 10:00 последнего рабочего дня".into(),
        });
        if app
            .service
            .file(&caller, req, None, &crate::service::SignedBody::default())
            .await
            .is_ok()
        {
            n += 1;
        }
    }
    // And one incomplete package, refused at the counter with its receipt (App. 1-3).
    let mut incomplete = request(&law, sim.fixtures(), "FA1234567", "education");
    incomplete.documents.retain(|d| d.kind != "health_insurance");
    if app
        .service
        .file(&caller, incomplete, None, &crate::service::SignedBody::default())
        .await
        .is_ok()
    {
        n += 1;
    }
    app.service.settle().await;
    // And one PR case whose conclusion waits for the head's approval (п. 14–15).
    if let Err(e) = pr_awaiting_approval(app, &caller, received).await {
        tracing::warn!(error = %e, "the demo PR case was not prepared");
    } else {
        n += 1;
    }
    Ok(n)
}

/// A PR filing (paper, received with the RVP ones), its п. 14 requests, every body's positive
/// answer from that body's own identity, and the officer's conclusion to issue (App. 9).
async fn pr_awaiting_approval(
    app: &crate::app::App,
    officer: &crate::service::Caller,
    received: jiff::Timestamp,
) -> anyhow::Result<()> {
    let s = &app.service;
    // Certificates issued a month before the filing (п. 16-1: no older than 180 days).
    let issued_on = s
        .law()
        .calendar
        .civil(received)
        .date()
        .checked_sub(jiff::Span::new().days(30))?
        .to_string();
    let documents = pr_documents(&issued_on);
    let req: crate::model::PrApplicationRequest = serde_json::from_value(serde_json::json!({
        "kind": "pr",
        "ground": "visa_free_state",
        "police_unit": "ALM-01",
        "applicant": {
            "surname": "ДЕМО", "given_names": "ПМЖ", "birth_date": "1988-04-12", "citizenship": "UZB",
            "document": {"number": "FA7777777", "expires_on": "2031-01-01"}
        },
        "documents": documents,
        "solvency": {"funds_tiyn": 10_000_000_000i64, "price_per_square_metre_tiyn": 50_000_000i64},
        "filed_at": received.to_string(),
        "paper_filing": {"receipt_number": "П-ПМЖ-1", "reason": "демо: заявление принято на бумаге в 10:00 последнего рабочего дня"}
    }))?;
    let problem = |p: koshi_cases::CaseError| anyhow::anyhow!("{}: {}", p.code, p.detail);
    let created = s.file_pr(officer, req, None, "").await.map_err(problem)?;
    if created.status == "refused_to_accept" {
        anyhow::bail!("refused to accept: {:?}", created.receipt.grounds);
    }
    let id = created.id;
    s.send_pr_requests(officer, &id).await.map_err(problem)?;
    for (agency, role, unit) in [
        ("ums_dp", "officer", "UMS-ALM"),
        ("bank", "agency", "AG-BANK"),
        ("police_records", "agency", "AG-POLICE-RECORDS"),
        ("kpsisu", "agency", "AG-KPSISU"),
        ("national_security", "agency", "AG-KNB"),
    ] {
        let caller = crate::service::Caller {
            token_id: format!("demo-{agency}"),
            role: role.into(),
            unit: unit.into(),
            post: None,
            party: None,
        };
        let answer = crate::model::AgencyAnswerRequest {
            agency: agency.into(),
            outcome: "positive".into(),
            detail: String::new(),
            paper_act: None,
        };
        s.record_agency_answer(&caller, &id, answer).await.map_err(problem)?;
    }
    let conclusion = crate::model::ConclusionRequest {
        outcome: "issue".into(),
        grounds: Vec::new(),
        comment: Some("демо: все органы ответили положительно".into()),
    };
    s.draft_conclusion(officer, &id, conclusion).await.map_err(problem)?;
    Ok(())
}
