//! Documents of the acts (issue 16) over HTTP on both databases: a case's receipt and permit
//! listed, rendered in Russian and Kazakh and read back with `pdftotext`, their detached
//! signatures checked against the published keys, the permit's 2D code read from the rendered
//! page and its seal verified offline, and the public check by code and by number and IIN.

use std::process::Command;

use koshi_forms::seal::{self, DetachedSignature, KeySet};
use serde_json::json;

use crate::harness::{Options, TestApp};
use crate::on_both;

async fn bytes(t: &TestApp, role: &str, path: &str) -> (u16, String, Vec<u8>) {
    let mut r = t.http.get(format!("{}{path}", t.base));
    if !role.is_empty() {
        r = r.bearer_auth(&t.tokens[role]);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, resp.bytes().await.unwrap().to_vec())
}

fn text_of(pdf: &[u8], name: &str) -> String {
    // A directory of its own per call: the SQLite and PostgreSQL runs share this process.
    let dir = std::env::temp_dir().join(format!("koshi-doc-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args([path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is needed for this test");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn first_code_on_page(pdf: &[u8], name: &str) -> String {
    // A directory of its own per call: the SQLite and PostgreSQL runs share this process.
    let dir = std::env::temp_dir().join(format!("koshi-doc-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("page.pdf");
    std::fs::write(&path, pdf).unwrap();
    let prefix = dir.join("page");
    let out = Command::new("pdftoppm")
        .args([
            "-r",
            "200",
            "-png",
            "-singlefile",
            path.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ])
        .output()
        .expect("pdftoppm (poppler-utils) is needed for this test");
    assert!(out.status.success());
    let png = std::fs::read(dir.join("page.png")).unwrap();
    let texts = koshi_forms::decode::decode_png(&png).unwrap();
    assert_eq!(texts.len(), 1, "one 2D code on the page");
    texts[0].clone()
}

async fn a_permit_is_printed_signed_and_verifiable_by_anyone(t: &TestApp) {
    let req = t.request("FA1234567", "labour_contract");
    let case = t.file_and_process(&req).await;
    assert_eq!(case["status"], "issued", "{case}");
    let id = case["id"].as_str().unwrap();
    let permit_number = case["decision"]["permit_number"].as_str().unwrap().to_string();

    // The case lists its documents in the order of its acts.
    let (s, docs) = t.get("officer", &format!("/api/v1/applications/{id}/documents")).await;
    assert_eq!(s, 200, "{docs}");
    let forms: Vec<&str> = docs
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["form"].as_str().unwrap())
        .collect();
    assert_eq!(forms, ["receipt", "permit"]);
    // The case's receipt names its document with the links to it; as stored it keeps the id and
    // the code only, and the links are made again when read.
    let receipt_doc = &case["receipt"]["document"];
    assert_eq!(receipt_doc["id"], docs[0]["id"], "{case}");
    assert_eq!(
        receipt_doc["href"],
        format!("/api/v1/documents/{}", docs[0]["id"].as_str().unwrap())
    );
    assert_eq!(receipt_doc["verify_url"], docs[0]["verify_url"], "{case}");
    let row = t.app.service.store.application(id).await.unwrap().unwrap();
    assert!(
        row.receipt.contains(docs[0]["code"].as_str().unwrap()) && !row.receipt.contains("verify"),
        "{}",
        row.receipt
    );
    let permit = &docs[1];
    assert_eq!(permit["number"], permit_number.as_str());
    assert_eq!(permit["appendix"], "2");
    let code = permit["code"].as_str().unwrap().to_string();
    assert!(
        permit["verify_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/verify/{code}"))
    );
    // The outbox message that hands the permit over names the same document.
    t.app.service.deliver_due().await.unwrap();
    let received = t.app.sink.received();
    let (_, _, payload) = received
        .iter()
        .find(|(topic, _, p)| topic.starts_with("delivery.") && p["application_id"] == id)
        .expect("the permit's delivery message");
    assert_eq!(payload["result"]["file"]["code"], code.as_str());

    // The PDF, in both languages, carries the facts.
    let href = permit["href"].as_str().unwrap();
    let (s, ct, ru) = bytes(t, "officer", &format!("{href}?lang=ru")).await;
    assert_eq!((s, ct.as_str()), (200, "application/pdf"));
    assert!(ru.starts_with(b"%PDF"));
    let text = text_of(&ru, "ru");
    for fact in [
        permit_number.as_str(),
        req.immigrant.surname.as_str(),
        code.as_str(),
        "Разрешение на временное проживание",
        "Приложение 2",
    ] {
        assert!(text.contains(fact), "the permit lacks «{fact}»: {text}");
    }
    let (s, _, kk) = bytes(t, "officer", &format!("{href}?lang=kk")).await;
    assert_eq!(s, 200);
    let text = text_of(&kk, "kk");
    assert!(text.contains("Уақытша тұруға рұқсат"), "{text}");
    assert!(text.contains(&permit_number));
    // Asked again, the same file (kept, not rendered anew).
    let (_, _, again) = bytes(t, "officer", &format!("{href}?lang=ru")).await;
    assert_eq!(again, ru);
    let (s, v) = t.get("officer", &format!("{href}?lang=fr")).await;
    assert_eq!(s, 400, "{v}");

    // The detached signature verifies against the published keys; one changed byte does not.
    let (s, sig) = t.get("officer", &format!("{href}/signature?lang=ru")).await;
    assert_eq!(s, 200, "{sig}");
    let sig: DetachedSignature = serde_json::from_value(sig).unwrap();
    let (s, keys) = t.get("", "/.well-known/koshi/document-keys.json").await;
    assert_eq!(s, 200);
    let keys: KeySet = serde_json::from_value(keys).unwrap();
    assert_eq!(keys.keys.iter().filter(|k| k.status == "current").count(), 1);
    sig.verify(&ru, &keys).unwrap();
    let mut forged = ru.clone();
    let n = forged.len() / 3;
    forged[n] ^= 0x20;
    assert!(sig.verify(&forged, &keys).is_err());

    // The page's 2D code: the verification address with the seal, checked offline.
    let qr = first_code_on_page(&ru, "qr");
    let (qr_code, sealed) = seal::parse_code_text(&qr).unwrap();
    assert_eq!(qr_code, code);
    let verified = seal::verify_seal(&sealed.unwrap(), &keys).unwrap();
    assert_eq!(verified.payload.number, permit_number);
    assert_eq!(verified.payload.surname, req.immigrant.surname.trim());
    assert_eq!(verified.payload.code, code);

    // `koshi verify` does the same offline, from the files a verifier holds: the PDF with its
    // signature beside it, and the published keys; a changed PDF fails in one line.
    let dir = std::env::temp_dir().join(format!("koshi-verify-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("permit.pdf"), &ru).unwrap();
    std::fs::write(dir.join("permit.pdf.sig"), serde_json::to_vec(&sig).unwrap()).unwrap();
    std::fs::write(dir.join("keys.json"), serde_json::to_vec(&keys).unwrap()).unwrap();
    let run = |file: &str| {
        Command::new(env!("CARGO_BIN_EXE_koshi"))
            .args([
                "verify",
                dir.join(file).to_str().unwrap(),
                "--keys",
                dir.join("keys.json").to_str().unwrap(),
            ])
            .output()
            .unwrap()
    };
    let out = run("permit.pdf");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("PDF signature valid"), "{stdout}");
    assert!(
        stdout.contains("seal: GENUINE") && stdout.contains(&permit_number),
        "{stdout}"
    );
    // A picture of the page (as a phone or a scanner gives it): the seal in its code checks.
    let raster = Command::new("pdftoppm")
        .args(["-r", "150", "-png", "-singlefile", "-f", "1"])
        .arg(dir.join("permit.pdf"))
        .arg(dir.join("page"))
        .status()
        .expect("pdftoppm (poppler-utils) is needed for this test");
    assert!(raster.success());
    let out = run("page.png");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("seal: GENUINE") && stdout.contains(&permit_number),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.join("forged.pdf"), &forged).unwrap();
    std::fs::copy(dir.join("permit.pdf.sig"), dir.join("forged.pdf.sig")).unwrap();
    let out = run("forged.pdf");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("not as Koshi signed it") && stderr.lines().count() == 1,
        "{stderr}"
    );

    // Anyone checks the code, without a token: genuine, the permit's standing, initials only.
    let (s, v) = t.get("", &format!("/api/v1/verify/{}", code.to_lowercase())).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["result"], "genuine");
    assert_eq!(v["number"], permit_number.as_str());
    assert!(matches!(v["status"].as_str(), Some("valid" | "not_yet_valid")), "{v}");
    let holder = v["holder"].as_str().unwrap();
    assert!(
        !holder.contains(req.immigrant.surname.trim()),
        "a code shows initials only: {holder}"
    );
    assert!(!v.to_string().contains(req.immigrant.iin.as_deref().unwrap()));
    // By number and IIN (egov.kz's habit): the full name; a wrong IIN is "not found".
    let iin = req.immigrant.iin.clone().unwrap();
    let (s, v) = t
        .post("", "/api/v1/verify", &json!({"number": permit_number, "iin": iin}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["holder"].as_str().unwrap().contains(req.immigrant.surname.trim()));
    // The receipt too, by its number (found through its case, as every case document's).
    let receipt_number = docs[0]["number"].as_str().unwrap();
    let (s, v) = t
        .post("", "/api/v1/verify", &json!({"number": receipt_number, "iin": iin}))
        .await;
    assert_eq!((s, v["number"].as_str()), (200, Some(receipt_number)), "{v}");
    let (s, wrong) = t
        .post(
            "",
            "/api/v1/verify",
            &json!({"number": permit_number, "iin": "000000000000"}),
        )
        .await;
    assert_eq!(s, 404);
    // A made-up code: not found, and nothing else.
    let (s, v) = t.get("", "/api/v1/verify/ZZZZZ-ZZZZZ-ZZZZZ").await;
    assert_eq!(s, 404);
    assert_eq!(v["code"], wrong["code"]);
    assert!(!v.to_string().contains("ZZZZ"), "{v}");
    // The page a phone opens from the QR code.
    let (s, ct, page) = bytes(t, "", &format!("/verify/{code}")).await;
    assert_eq!(s, 200);
    assert!(ct.starts_with("text/html"));
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("Документ подлинный"), "{page}");
    assert!(page.contains(&permit_number));
    let (s, _, page) = bytes(t, "", "/verify/ZZZZZ-ZZZZZ-ZZZZZ").await;
    assert_eq!(s, 404);
    assert!(String::from_utf8(page).unwrap().contains("Документ не найден"));

    // The application as filed (App. 1), printed on request: registered once, with the family.
    let (s, a1) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/documents/application"),
            &json!({}),
        )
        .await;
    assert_eq!(s, 200, "{a1}");
    let (_, again) = t
        .post(
            "officer",
            &format!("/api/v1/applications/{id}/documents/application"),
            &json!({}),
        )
        .await;
    assert_eq!(a1["code"], again["code"]);
    let (s, _, pdf) = bytes(t, "officer", a1["href"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    let text = text_of(&pdf, "app1");
    assert!(
        text.contains("Заявление-анкета") && text.contains("Приложение 1 ") && text.contains(&req.inviting_party.name),
        "{text}"
    );

    // Reading a document is reading personal data: recorded. Another party, or a role that
    // reads no cases, gets nothing.
    let (s, log) = t.get("auditor", &format!("/api/v1/applications/{id}/access-log")).await;
    assert_eq!(s, 200, "{log}");
    let reads: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fields"].as_str().unwrap())
        .collect();
    assert!(
        reads.contains(&"document permit (kk)") && reads.contains(&"document permit (ru)"),
        "{reads:?}"
    );
    let (s, _, _) = bytes(t, "agency", href).await;
    assert_eq!(s, 403);
    let (s, _, _) = bytes(t, "con_operator", href).await;
    assert!(s == 403 || s == 404, "{s}");
    let (s, _, _) = bytes(t, "", href).await;
    assert_eq!(s, 401);
}

on_both!(
    permits_are_printed_signed_and_verifiable,
    super::Options::default(),
    a_permit_is_printed_signed_and_verifiable_by_anyone
);

async fn a_refusal_to_accept_prints_its_grounds_in_russian(t: &TestApp) {
    let mut incomplete = t.request("FA1234567", "education");
    incomplete.documents.retain(|d| d.kind != "health_insurance");
    let (s, v) = t.file(&incomplete).await;
    assert_eq!(s, 201);
    assert_eq!(v["status"], "refused_to_accept");
    let doc = &v["receipt"]["document"];
    assert_eq!(doc["form"], "refusal_to_accept");
    let (s, _, pdf) = bytes(t, "officer", &format!("{}?lang=ru", doc["href"].as_str().unwrap())).await;
    assert_eq!(s, 200);
    let text = text_of(&pdf, "rta");
    for fact in [
        "Приложение 1-3",
        "Расписка об отказе в приёме документов",
        "Не представлен документ: Договор медицинского страхования",
        "обжаловано",
        doc["code"].as_str().unwrap(),
    ] {
        assert!(text.contains(fact), "the refusal lacks «{fact}»: {text}");
    }
    let (s, v) = t
        .get("", &format!("/api/v1/verify/{}", doc["code"].as_str().unwrap()))
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "issued");
}

on_both!(
    refusals_to_accept_are_printed,
    super::Options::default(),
    a_refusal_to_accept_prints_its_grounds_in_russian
);

/// A key rotation: documents signed before it still verify, new ones carry the new key, and the
/// published set keeps both.
async fn a_rotated_key_keeps_old_documents_verifiable(t: TestApp) -> TestApp {
    let case = t.file_and_process(&t.request("FA1234567", "labour_contract")).await;
    let id = case["id"].as_str().unwrap().to_string();
    let (_, docs) = t.get("officer", &format!("/api/v1/applications/{id}/documents")).await;
    let href = docs[1]["href"].as_str().unwrap().to_string();
    let (_, _, old_pdf) = bytes(&t, "officer", &href).await;
    let (_, old_sig) = t.get("officer", &format!("{href}/signature")).await;
    let old_sig: DetachedSignature = serde_json::from_value(old_sig).unwrap();

    let (new_key, pem) = koshi_forms::seal::DocumentKey::generate().unwrap();
    let t = t
        .restart_with_document_key(koshi::document_keys::DocumentKeyConfig { pem, certificate: None })
        .await;
    let (_, keys) = t.get("", "/.well-known/koshi/document-keys.json").await;
    let keys: KeySet = serde_json::from_value(keys).unwrap();
    let status = |kid: &str| keys.keys.iter().find(|k| k.kid == kid).map(|k| k.status.clone());
    assert_eq!(status(new_key.kid()).as_deref(), Some("current"));
    assert_eq!(status(&old_sig.kid).as_deref(), Some("retired"));
    old_sig.verify(&old_pdf, &keys).unwrap();
    // The permit's file, kept, is the same bytes; a new document is signed with the new key.
    let (_, _, again) = bytes(&t, "officer", &href).await;
    assert_eq!(again, old_pdf);
    let case = t
        .file_and_process(&t.request("751234567", "family_reunification"))
        .await;
    let id = case["id"].as_str().unwrap();
    let (_, docs) = t.get("officer", &format!("/api/v1/applications/{id}/documents")).await;
    let href = docs[0]["href"].as_str().unwrap();
    let (_, sig) = t.get("officer", &format!("{href}/signature")).await;
    assert_eq!(sig["kid"], new_key.kid());
    t
}

mod rotated_keys_keep_old_documents_verifiable {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let t = crate::harness::spawn(crate::harness::Backend::Sqlite, crate::harness::Options::default())
            .await
            .unwrap();
        super::a_rotated_key_keeps_old_documents_verifiable(t)
            .await
            .done()
            .await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some(t) =
            crate::harness::spawn(crate::harness::Backend::Postgres, crate::harness::Options::default()).await
        else {
            return;
        };
        super::a_rotated_key_keeps_old_documents_verifiable(t)
            .await
            .done()
            .await;
    }
}
