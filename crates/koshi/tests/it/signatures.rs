//! п. 8: a portal request is signed by the service recipient with an ЭЦП, verified against the
//! trust store. A throw-away PKI is made in the test (no private key is committed).

use std::sync::Arc;

use base64::Engine;
use jiff::SignedDuration;
use serde_json::{Value, json};
use x509_cert::der::Encode;
use x509_cert::ext::pkix::KeyUsages;

use crate::harness::{Backend, Options, T0, TestApp};
use crate::pki::{CmsOpts, Issued, Spec, sign};

pub(crate) struct Pki {
    pub(crate) root: Issued,
    pub(crate) intermediate: Issued,
}

pub(crate) fn pki() -> &'static Pki {
    static PKI: std::sync::OnceLock<Pki> = std::sync::OnceLock::new();
    PKI.get_or_init(|| {
        let root = Issued::root("CN=Koshi Test NCA Root,O=Koshi Test,C=KZ");
        let intermediate = root.issue(Spec::ca("CN=Koshi Test NCA,O=Koshi Test,C=KZ", 2));
        Pki { root, intermediate }
    })
}

pub(crate) fn trust() -> Arc<koshi_sign::TrustStore> {
    let mut t = koshi_sign::TrustStore::new();
    t.add_der(&pki().root.cert.to_der().unwrap()).unwrap();
    Arc::new(t)
}

/// A signer certificate for the demo company (BIN) valid around the test's clock.
pub(crate) fn signer(subject_ids: &str, serial: u32, valid_days_before: i64, valid_days_after: i64) -> Issued {
    let t0: jiff::Timestamp = T0.parse().unwrap();
    pki().intermediate.issue(Spec {
        subject: format!(
            "CN=ДИРЕКТОР ДЕМО,SERIALNUMBER={subject_ids},C=KZ,OU=BIN{}",
            koshi::demo::COMPANY_BIN
        ),
        serial,
        not_before: t0 - SignedDuration::from_hours(24 * valid_days_before),
        not_after: t0 + SignedDuration::from_hours(24 * valid_days_after),
        ca: false,
        key_usage: Some(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
    })
}

async fn post_signed(t: &TestApp, body: &[u8], signature: Option<Vec<u8>>) -> (u16, Value) {
    let mut r = t
        .http
        .post(format!("{}/api/v1/applications", t.base))
        .bearer_auth(&t.tokens["portal"])
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        r = r.header("koshi-signature", base64::engine::general_purpose::STANDARD.encode(s));
    }
    let resp = r.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

/// A portal filing arriving at `filed_at` (the clock is set to it: the portal gives no filing
/// instant of its own, the server's clock decides).
pub(crate) fn portal_body(t: &TestApp, filed_at: &str) -> Vec<u8> {
    t.clock.set(filed_at.parse().unwrap());
    let mut req = t.request("FA1234567", "labour_contract");
    req.channel = Some("portal".into());
    req.police_unit = Some("ALM-01".into()); // the police body of the place of registration
    for d in &mut req.documents {
        d.attachment = Some(koshi::model::AttachmentInput {
            media_type: "application/pdf".into(),
            content_base64: Some(base64::engine::general_purpose::STANDARD.encode(format!("%PDF {}", d.kind))),
            sha256: None,
        });
    }
    serde_json::to_vec(&req).unwrap()
}

async fn signed_portal_filing_after_hours_counts_from_the_next_working_day(t: &TestApp) {
    let body = portal_body(t, "2026-02-06T19:30:00+05:00"); // Friday evening
    let me = signer("BIN160540012347", 0x3001, 30, 365);
    let cms = sign(&me, &[&pki().intermediate.cert], &body, &CmsOpts::default());
    // Without a signature the request is malformed (п. 8), and nothing is written.
    let before = t.counts().await;
    let (s, v) = post_signed(t, &body, None).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("signature_required")));
    assert_eq!(t.counts().await, before);
    let (s, v) = post_signed(t, &body, Some(cms)).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["accepted_on"], "2026-02-09");
    assert_eq!(v["due_on"], "2026-02-10");
    assert_eq!(v["receipt"]["result_ready_at"], "2026-02-10T18:30");
    let id = v["id"].as_str().unwrap().to_string();
    t.app.service.tick().await.unwrap();
    let case = t.case(&id).await;
    assert_eq!(case["events"][0]["detail"]["signature"]["verified"], true);
    // Clean, but Friday evening is no working time and Monday the acceptance day (п. 9-1, issue
    // 14 item 5): the act is prepared, to be formed by the duty officer on Monday at 09:00.
    assert_eq!(case["status"], "awaiting_confirmation", "{case}");
    let proposed = &case["decision"]["proposed"];
    assert_eq!(proposed["prepared_by"], "straight_through", "{case}");
    assert_eq!(proposed["to_be_formed_by"], "duty_officer:duty.alm01@ALM-01");
    assert_eq!(proposed["to_be_formed_at"], "2026-02-09T04:00:00.000000Z");
    // Saturday and Sunday pass: nothing is formed on a day off.
    t.clock.set("2026-02-08T12:00:00+05:00".parse().unwrap());
    t.app.service.tick().await.unwrap();
    assert_eq!(t.case(&id).await["status"], "awaiting_confirmation");
    // Monday 09:00: the duty officer's act, valid from Monday, recorded as such.
    t.clock.set("2026-02-09T09:00:00+05:00".parse().unwrap());
    t.app.service.tick().await.unwrap();
    let case = t.case(&id).await;
    assert_eq!(case["status"], "issued", "{case}");
    assert_eq!(case["decision"]["valid_from"], "2026-02-09");
    assert_eq!(case["decision"]["decided_by"], "duty_officer:duty.alm01@ALM-01");
    assert_eq!(case["decision"]["formed_by"]["kind"], "duty_officer");
    assert_eq!(case["decision"]["formed_by"]["prepared_by"], "straight_through");
    let (_, d) = t
        .get("auditor", &format!("/api/v1/monitoring/deliveries?application_id={id}"))
        .await;
    assert!(
        d.as_array()
            .unwrap()
            .iter()
            .any(|m| m["topic"] == "delivery.portal_cabinet"),
        "{d}"
    );
}

async fn bad_signatures_are_refused_with_their_reason_and_write_nothing(t: &TestApp) {
    let body = portal_body(t, "2026-02-02T10:00:00+05:00");
    let me = signer("BIN160540012347", 0x3002, 30, 365);
    let before = t.counts().await;
    let cases: Vec<(Option<Vec<u8>>, &str)> = vec![
        // Signed, but over other content.
        (
            Some(sign(
                &me,
                &[&pki().intermediate.cert],
                b"{\"other\": 1}",
                &CmsOpts::default(),
            )),
            "content_mismatch",
        ),
        // Signed by someone else than the inviting party.
        (
            Some(sign(
                &pki().intermediate.issue(Spec {
                    subject: "CN=ЧУЖОЙ,SERIALNUMBER=IIN780412300119,C=KZ,OU=BIN990340000015".into(),
                    ..Spec::signer("CN=x", 0x3003)
                }),
                &[&pki().intermediate.cert],
                &body,
                &CmsOpts::default(),
            )),
            "",
        ),
        // An expired certificate.
        (
            Some(sign(
                &signer("BIN160540012347", 0x3004, 400, -1),
                &[&pki().intermediate.cert],
                &body,
                &CmsOpts::default(),
            )),
            "certificate_expired",
        ),
        // A certificate of a foreign CA.
        (
            Some({
                let foreign = Issued::root("CN=Foreign Root,C=XX");
                let f = foreign.issue(Spec {
                    not_before: T0.parse::<jiff::Timestamp>().unwrap() - SignedDuration::from_hours(24),
                    ..Spec::signer(&format!("CN=X,OU=BIN{}", koshi::demo::COMPANY_BIN), 7)
                });
                sign(&f, &[], &body, &CmsOpts::default())
            }),
            "untrusted_chain",
        ),
        // Not a CMS at all.
        (Some(b"not a signature".to_vec()), "malformed_cms"),
    ];
    for (sig, code) in cases {
        let (s, v) = post_signed(t, &body, sig).await;
        assert_eq!(s, 422, "{v}");
        if code.is_empty() {
            // The "someone else" case is refused either for the identity or, when the
            // certificate's validity does not cover the test clock, for that.
            assert!(
                ["signature_not_of_the_applicant", "certificate_not_yet_valid"].contains(&v["code"].as_str().unwrap()),
                "{v}"
            );
        } else {
            assert_eq!(v["code"], code, "{v}");
        }
    }
    // A header that is not base64.
    let resp = t
        .http
        .post(format!("{}/api/v1/applications", t.base))
        .bearer_auth(&t.tokens["portal"])
        .header("koshi-signature", "%%%")
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(t.counts().await, before, "refused requests wrote something");
}

async fn signer_must_be_the_inviting_party(t: &TestApp) {
    let body = portal_body(t, "2026-02-02T10:00:00+05:00");
    let other = pki().intermediate.issue(Spec {
        subject: "CN=ЧУЖОЙ,SERIALNUMBER=IIN780412300119,C=KZ,OU=BIN990340000015".into(),
        serial: 0x3005,
        not_before: T0.parse::<jiff::Timestamp>().unwrap() - SignedDuration::from_hours(24),
        not_after: T0.parse::<jiff::Timestamp>().unwrap() + SignedDuration::from_hours(24 * 30),
        ca: false,
        key_usage: Some(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
    });
    let (s, v) = post_signed(
        t,
        &body,
        Some(sign(&other, &[&pki().intermediate.cert], &body, &CmsOpts::default())),
    )
    .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("signature_not_of_the_applicant")),
        "{v}"
    );
}

/// п. 5, п. 7 абз. 5: a portal request belongs to the police body of the address of registration
/// it gives (the units data divides addresses among the bodies by their registration codes); it
/// may name that body, never another, and an address no body is the body of registration for is
/// refused. Refusals write nothing.
async fn a_portal_request_belongs_to_the_police_body_of_its_address(t: &TestApp) {
    let me = signer("BIN160540012347", 0x3010, 30, 365);
    let signed = |v: &Value| {
        let body = serde_json::to_vec(v).unwrap();
        let cms = sign(&me, &[&pki().intermediate.cert], &body, &CmsOpts::default());
        (body, cms)
    };
    let base: Value = serde_json::from_slice(&portal_body(t, "2026-02-02T10:00:00+05:00")).unwrap();
    let before = t.counts().await;
    for (police_unit, rka, code) in [
        (json!("ALM-02"), "0201400123456789", "police_unit_not_of_address"),
        (Value::Null, "0909900123456789", "address_not_served"),
        (json!("ALM-01"), "0909900123456789", "address_not_served"),
    ] {
        let mut v = base.clone();
        v["police_unit"] = police_unit;
        v["inviting_party"]["rka"] = json!(rka);
        let (body, cms) = signed(&v);
        let (s, p) = post_signed(t, &body, Some(cms)).await;
        assert_eq!((s, p["code"].as_str()), (422, Some(code)), "{p}");
    }
    assert_eq!(t.counts().await, before);
    // Naming no body: the body of the address owns and decides the request.
    let mut v = base.clone();
    v.as_object_mut().unwrap().remove("police_unit");
    v["inviting_party"]["rka"] = json!("0201500765432109");
    let (body, cms) = signed(&v);
    let (s, created) = post_signed(t, &body, Some(cms)).await;
    assert_eq!(s, 201, "{created}");
    let (s, case) = t
        .get(
            "auditor",
            &format!("/api/v1/applications/{}", created["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!((s, case["unit"].as_str()), (200, Some("ALM-02")), "{case}");
}

/// A sign-in statement, signed by `who`, at the test clock's now (or `skew` from it).
fn statement(t: &TestApp, who: &Issued, purpose: &str, skew_min: i64, organisation: bool) -> (Vec<u8>, Vec<u8>) {
    let at = t.now() + SignedDuration::from_mins(skew_min);
    let body = serde_json::to_vec(&serde_json::json!({
        "purpose": purpose,
        "signed_at": at.to_string(),
        "nonce": format!("n-{}-{}", at.as_millisecond(), organisation),
        "as_organisation": organisation,
    }))
    .unwrap();
    let cms = sign(who, &[&pki().intermediate.cert], &body, &CmsOpts::default());
    (body, cms)
}

async fn sign_in(t: &TestApp, body: &[u8], cms: Option<&[u8]>) -> (u16, Value) {
    let mut r = t
        .http
        .post(format!("{}/api/v1/portal/sessions", t.base))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(c) = cms {
        r = r.header("koshi-signature", base64::engine::general_purpose::STANDARD.encode(c));
    }
    let resp = r.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

async fn as_token(t: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let r = t
        .http
        .get(format!("{}{path}", t.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// Issue 14 item 4: a portal identity is the inviting party its ЭЦП proves; its token files,
/// reads and lists only that party's cases, and expires.
async fn portal_identity_is_the_party_its_signature_proves(t: &TestApp) {
    t.clock.set("2026-02-02T10:00:00+05:00".parse().unwrap());
    let director = signer("BIN160540012347", 0x3101, 30, 365);
    let stranger = pki().intermediate.issue(Spec {
        subject: "CN=ЧУЖОЙ,SERIALNUMBER=IIN780412300119,C=KZ".into(),
        serial: 0x3102,
        not_before: T0.parse::<jiff::Timestamp>().unwrap() - SignedDuration::from_hours(24),
        not_after: T0.parse::<jiff::Timestamp>().unwrap() + SignedDuration::from_hours(24 * 30),
        ca: false,
        key_usage: Some(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
    });
    let before = t.counts().await;
    // Refused sign-ins: unsigned, signed for another purpose, stale, or naming no BIN.
    let (body, _) = statement(t, &director, "koshi.portal.sign_in", 0, true);
    let (s, v) = sign_in(t, &body, None).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("signature_required")), "{v}");
    let (b, c) = statement(t, &director, "something_else", 0, true);
    let (s, v) = sign_in(t, &b, Some(&c)).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("wrong_purpose")), "{v}");
    let (b, c) = statement(t, &director, "koshi.portal.sign_in", -10, true);
    let (s, v) = sign_in(t, &b, Some(&c)).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("statement_not_fresh")), "{v}");
    let (b, c) = statement(t, &stranger, "koshi.portal.sign_in", 1, true);
    let (s, v) = sign_in(t, &b, Some(&c)).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("certificate_names_no_party")),
        "{v}"
    );
    assert_eq!(t.counts().await, before, "refused sign-ins wrote something");
    // The director signs in for the company: the token acts for its BIN; a replay is refused.
    let (b, c) = statement(t, &director, "koshi.portal.sign_in", 0, true);
    let (s, v) = sign_in(t, &b, Some(&c)).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["party"], koshi::demo::COMPANY_BIN);
    let company = v["token"].as_str().unwrap().to_string();
    let (s, v) = sign_in(t, &b, Some(&c)).await;
    assert_eq!((s, v["code"].as_str()), (409, Some("sign_in_replayed")), "{v}");
    // A stranger signs in for himself (his IIN).
    let (b, c) = statement(t, &stranger, "koshi.portal.sign_in", 0, false);
    let (s, v) = sign_in(t, &b, Some(&c)).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["party"], "780412300119");
    let theirs = v["token"].as_str().unwrap().to_string();
    // The company files through its own session.
    let body = portal_body(t, "2026-02-02T10:01:00+05:00");
    let cms = sign(&director, &[&pki().intermediate.cert], &body, &CmsOpts::default());
    let file = |token: String, body: Vec<u8>, cms: Vec<u8>| {
        let http = t.http.clone();
        let url = format!("{}/api/v1/applications", t.base);
        async move {
            let r = http
                .post(url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .header("koshi-signature", base64::engine::general_purpose::STANDARD.encode(cms))
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // An organisation is named by its BIN alone: another number beside it is refused, so no
    // signer's IIN can carry a filing for a company it does not sign for.
    let mut both: Value = serde_json::from_slice(&body).unwrap();
    both["inviting_party"]["iin"] = json!("780412300119");
    let both = serde_json::to_vec(&both).unwrap();
    let both_cms = sign(&director, &[&pki().intermediate.cert], &both, &CmsOpts::default());
    let (s, v) = file(company.clone(), both, both_cms).await;
    assert_eq!(s, 422, "{v}");
    let before = t.counts().await;
    let (s, v) = file(theirs.clone(), body.clone(), cms.clone()).await;
    assert_eq!(s, 403, "another party's session cannot file the company's request: {v}");
    assert_eq!(t.counts().await, before);
    let (s, v) = file(company.clone(), body, cms).await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    // The company reads its case; the stranger learns nothing of it, not even that it exists.
    let (s, v) = as_token(t, &company, &format!("/api/v1/applications/{id}")).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = as_token(t, &theirs, &format!("/api/v1/applications/{id}")).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("not_found")), "{v}");
    // Its documents too (issue 16 item 4: the cabinet's downloads): the receipt's PDF is the
    // company's to download, and not the stranger's.
    let (s, docs) = as_token(t, &company, &format!("/api/v1/applications/{id}/documents")).await;
    assert_eq!(s, 200, "{docs}");
    let href = docs[0]["href"].as_str().unwrap().to_string();
    let (s, _) = as_token(t, &company, &href).await;
    assert_eq!(s, 200, "the company downloads its receipt");
    let (s, _) = as_token(t, &theirs, &href).await;
    assert_eq!(s, 404, "another party learns nothing of it");
    let (s, _) = as_token(t, &theirs, &format!("/api/v1/applications/{id}/documents")).await;
    assert_eq!(s, 404);
    let (s, _) = as_token(t, &theirs, "/api/v1/applications/no-such-case").await;
    assert_eq!(s, 404, "a made-up case and another party's answer alike");
    // A desk case of the same company is not the portal party's to read.
    let desk = t.file_and_process(&t.request("751234567", "labour_contract")).await;
    let (s, _) = as_token(
        t,
        &company,
        &format!("/api/v1/applications/{}", desk["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(s, 404);
    // Portal tokens expire; one bound to no party (issued before parties) acts for nobody.
    t.advance(9 * 60);
    let (s, v) = as_token(t, &company, &format!("/api/v1/applications/{id}")).await;
    assert_eq!((s, v["code"].as_str()), (401, Some("unauthorized")), "{v}");
    let secret = "ksh_unbound_portal_token_of_the_first_wave";
    let row = koshi_store::repo::TokenRow {
        id: "old-portal".into(),
        token_hash: koshi::api::token_hash(secret),
        role: "portal".into(),
        unit: "EGOV".into(),
        label: "first wave".into(),
        created_at: "2026-01-01T00:00:00Z".into(),
        revoked_at: None,
        party: None,
        expires_at: None,
    };
    t.app
        .service
        .store
        .write(koshi_store::Unit::new().with(koshi_store::repo::insert_token(&row)))
        .await
        .unwrap();
    let (s, v) = as_token(t, secret, &format!("/api/v1/applications/{id}")).await;
    assert_eq!(s, 401, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("no inviting party"), "{v}");
}

macro_rules! with_trust {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let opts = crate::harness::Options {
                    trust_store: Some(crate::signatures::trust()),
                    ..crate::harness::Options::default()
                };
                let t = crate::harness::spawn(crate::harness::Backend::Sqlite, opts)
                    .await
                    .unwrap();
                super::$body(&t).await;
                t.done().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let opts = crate::harness::Options {
                    trust_store: Some(crate::signatures::trust()),
                    ..crate::harness::Options::default()
                };
                let Some(t) = crate::harness::spawn(crate::harness::Backend::Postgres, opts).await else {
                    return;
                };
                super::$body(&t).await;
                t.done().await;
            }
        }
    };
}

with_trust!(portal_identity, portal_identity_is_the_party_its_signature_proves);
with_trust!(
    portal_after_hours,
    signed_portal_filing_after_hours_counts_from_the_next_working_day
);
with_trust!(
    bad_signatures,
    bad_signatures_are_refused_with_their_reason_and_write_nothing
);
with_trust!(signer_identity, signer_must_be_the_inviting_party);
with_trust!(
    portal_police_body,
    a_portal_request_belongs_to_the_police_body_of_its_address
);

#[tokio::test]
async fn without_a_trust_store_portal_filings_are_refused_as_unverifiable() {
    let t = crate::harness::spawn(Backend::Sqlite, Options::default())
        .await
        .unwrap();
    let body = portal_body(&t, "2026-02-02T10:00:00+05:00");
    let (s, v) = post_signed(&t, &body, Some(b"whatever".to_vec())).await;
    assert_eq!((s, v["code"].as_str()), (503, Some("unavailable")), "{v}");
    t.done().await;
}

/// A stand-in for the NCA's GOST verification service: valid only for the content it expects,
/// signed by the demo company.
async fn fake_nca(expected: Vec<u8>) -> String {
    use axum::Json;
    use axum::routing::post;
    let router = axum::Router::new().route(
        "/verify",
        post(move |Json(body): Json<Value>| {
            let expected = expected.clone();
            async move {
                let content = base64::engine::general_purpose::STANDARD.decode(body["content"].as_str().unwrap_or("")).unwrap_or_default();
                if content == expected {
                    Json(serde_json::json!({"valid": true, "bin": koshi::demo::COMPANY_BIN, "serial": "0a0b", "subject": "CN=ДИРЕКТОР ДЕМО"}))
                } else {
                    Json(serde_json::json!({"valid": false, "reason": "the signature does not match the document"}))
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/verify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gost_signatures_go_to_the_external_verification_service() {
    use crate::pki::CmsOpts;
    // Without a GOST verifier configured, a GOST signature cannot be accepted.
    let plain = crate::harness::spawn(
        Backend::Sqlite,
        Options {
            trust_store: Some(trust()),
            ..Options::default()
        },
    )
    .await
    .unwrap();
    let body = portal_body(&plain, "2026-02-02T10:00:00+05:00");
    let me = signer("BIN160540012347", 0x3101, 30, 365);
    let gost = sign(
        &me,
        &[&pki().intermediate.cert],
        &body,
        &CmsOpts {
            gost: true,
            ..CmsOpts::default()
        },
    );
    let (s, v) = post_signed(&plain, &body, Some(gost.clone())).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("gost_requires_external_verifier")),
        "{v}"
    );
    plain.done().await;
    // With the service: accepted when it says valid, refused with its reason otherwise.
    let url = fake_nca(body.clone()).await;
    let verifier: Arc<dyn koshi::gost::GostVerifier> =
        Arc::new(koshi::gost::HttpGostVerifier::new(&url, std::time::Duration::from_secs(5)).unwrap());
    let t = crate::harness::spawn(
        Backend::Sqlite,
        Options {
            trust_store: Some(trust()),
            gost_verifier: Some(verifier),
            ..Options::default()
        },
    )
    .await
    .unwrap();
    let (s, v) = post_signed(&t, &body, Some(gost.clone())).await;
    assert_eq!(s, 201, "{v}");
    let case = t.case(v["id"].as_str().unwrap()).await;
    assert_eq!(case["events"][0]["detail"]["signature"]["digest"], "gost34311");
    let mut other: Value = serde_json::from_slice(&portal_body(&t, "2026-02-02T11:00:00+05:00")).unwrap();
    other["immigrant"]["given_names"] = Value::from("OTHER");
    let other = serde_json::to_vec(&other).unwrap();
    let (s, v) = post_signed(&t, &other, Some(gost)).await;
    assert_eq!((s, v["code"].as_str()), (422, Some("gost_signature_invalid")), "{v}");
    assert!(v["detail"].as_str().unwrap().contains("does not match"));
    t.done().await;
    // The service unreachable: the filing is not taken (503), nothing is written.
    let down: Arc<dyn koshi::gost::GostVerifier> = Arc::new(
        koshi::gost::HttpGostVerifier::new("http://127.0.0.1:9/verify", std::time::Duration::from_secs(2)).unwrap(),
    );
    let t = crate::harness::spawn(
        Backend::Sqlite,
        Options {
            trust_store: Some(trust()),
            gost_verifier: Some(down),
            ..Options::default()
        },
    )
    .await
    .unwrap();
    let before = t.counts().await;
    let gost = sign(
        &me,
        &[&pki().intermediate.cert],
        &body,
        &CmsOpts {
            gost: true,
            ..CmsOpts::default()
        },
    );
    let (s, _) = post_signed(&t, &body, Some(gost)).await;
    assert_eq!(s, 503);
    assert_eq!(t.counts().await, before);
    t.done().await;
}
