//! Every form rendered with sample facts in both languages, read back with `pdftotext`
//! (poppler-utils), and a permit rasterised with `pdftoppm`, its 2D code decoded and its seal
//! and signature verified offline.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use jiff::civil::date;
use koshi_forms::forms::Form;
use koshi_forms::i18n::{self, KkStatus, Lang};
use koshi_forms::seal::{self, DocumentKey, KeySet};
use koshi_forms::{Stamp, decode, render, samples};

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("koshi-forms-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tool(name: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} is needed for this test (apt install poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn text_of(pdf: &Path) -> String {
    let raw = String::from_utf8(tool("pdftotext", &[pdf.to_str().unwrap(), "-"])).unwrap();
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn key() -> (DocumentKey, KeySet) {
    let (key, _pem) = DocumentKey::generate().unwrap();
    let cert = key
        .self_signed_certificate("2026-01-01T00:00:00Z".parse().unwrap(), "CN=Koshi test")
        .unwrap();
    let keys = KeySet {
        keys: vec![seal::published(&key, cert, "current").unwrap()],
    };
    (key, keys)
}

fn stamp_for(key: &DocumentKey, number: &str, form: &Form) -> Stamp {
    let code = koshi_forms::new_code(jiff::Timestamp::now());
    let issued_on = date(2026, 12, 8);
    let seal = match form {
        Form::Permit(p) => Some(key.seal(&samples::seal_payload(p, &code, issued_on)).unwrap()),
        _ => None,
    };
    Stamp {
        number: number.into(),
        verify_url: format!("https://koshi.example.kz/verify/{code}"),
        code,
        issued_on,
        kid: key.kid().into(),
        seal,
    }
}

/// The facts each form must carry, as they are printed.
fn facts(form: &Form) -> Vec<String> {
    let d = |x: jiff::civil::Date| x.strftime("%d.%m.%Y").to_string();
    let mut out = Vec::new();
    match form {
        Form::Application(a) => {
            out.extend([
                a.immigrant.surname.clone(),
                a.party.name.clone(),
                a.party.bin.clone().unwrap(),
                a.purpose.ru.clone(),
            ]);
            out.extend(a.family.iter().map(|m| m.person.surname.clone()));
            out.push(a.family[0].relationship.clone());
        }
        Form::Receipt(r) => {
            out.extend([
                r.applicant.surname.clone(),
                d(r.accepted_on),
                r.rules_version.clone(),
                r.officer.name.clone(),
            ]);
            if let Some(due) = r.due_on {
                out.push(d(due));
            }
            if r.calendar_expected {
                out.push("официально ещё не утверждённому".into());
            }
        }
        Form::RefusalToAccept(r) => {
            out.extend([r.applicant.surname.clone(), "обжаловано".into(), r.officer.name.clone()]);
            out.extend(r.grounds.iter().flat_map(|g| [g.text.clone(), g.citation.clone()]));
        }
        Form::Permit(p) => out.extend([
            p.permit_number.clone(),
            p.holder.surname.clone(),
            p.holder.given_names.clone(),
            d(p.holder.birth_date),
            d(p.valid_from),
            d(p.valid_until),
            p.body.name.clone(),
            p.rules_version.clone(),
            p.holder.document.as_ref().unwrap().number.clone(),
        ]),
        Form::MotivatedRefusal(r) => {
            out.extend([
                r.applicant.surname.clone(),
                r.reason.clone(),
                "обжаловано".into(),
                r.rules_version.clone(),
            ]);
            out.extend(r.grounds.iter().flat_map(|g| [g.text.clone(), g.citation.clone()]));
        }
        Form::Journal(j) => {
            out.extend([
                d(j.from),
                d(j.to),
                j.rows[0].full_name.clone(),
                j.rows[59].case_number.clone(),
                "60".into(),
            ]);
        }
        Form::PrConclusion(c) => {
            out.extend([
                c.applicant.surname.clone(),
                c.reasoning.clone(),
                c.approval.as_ref().unwrap().by.name.clone(),
                if c.issue { "выдаче" } else { "отказе" }.into(),
            ]);
            out.extend(c.answers.iter().flat_map(|a| [a.agency.clone(), a.answer.clone()]));
            out.extend(c.grounds.iter().flat_map(|g| [g.text.clone(), g.citation.clone()]));
            out.extend(c.hearing.clone());
        }
        Form::PrNotification(n) => {
            out.extend([n.applicant.surname.clone(), d(n.decided_on)]);
            // How to appeal: on a refusal (an issue grants what was asked).
            if !n.issue {
                out.push("обжаловано".into());
            }
            out.extend(n.permit_number.clone());
            out.extend(n.grounds.iter().flat_map(|g| [g.text.clone(), g.citation.clone()]));
        }
        Form::AnnulmentConclusion(c) => {
            out.extend([
                c.permit_number.clone(),
                c.facts.clone(),
                d(c.leave_by.unwrap()),
                "п. 22".into(),
            ]);
        }
        Form::AnnulmentNotification(n) => {
            out.extend([
                n.permit_number.clone(),
                d(n.leave_by),
                d(n.approved_on),
                "обжаловано".into(),
            ]);
        }
    }
    out
}

#[test]
fn every_form_in_both_languages_carries_its_facts_and_no_unverified_kazakh() {
    let (key, _keys) = key();
    let unverified: Vec<String> = i18n::entries()
        .values()
        .filter(|e| e.kk_status == KkStatus::Unverified)
        .filter(|e| e.kk.as_deref() != Some(e.ru.as_str()))
        .filter_map(|e| e.kk.clone())
        .filter(|kk| kk.chars().count() > 3)
        .collect();
    let dir = dir();
    for (number, form) in samples::all() {
        for lang in [Lang::Ru, Lang::Kk] {
            let stamp = stamp_for(&key, &number, &form);
            let pdf = render(&form, &stamp, lang).unwrap();
            let path = dir.join(format!("{number}-{}.pdf", lang.code()));
            std::fs::write(&path, &pdf).unwrap();
            let text = text_of(&path);
            let mut expected = facts(&form);
            expected.extend([
                number.clone(),
                stamp.code.clone(),
                i18n::t(Lang::Ru, form.title_key()).to_owned(),
            ]);
            if let Some(appendix) = form.appendix() {
                expected.push(format!("Приложение {appendix}"));
            }
            for fact in expected {
                let fact = fact.split_whitespace().collect::<Vec<_>>().join(" ");
                assert!(
                    text.contains(&fact),
                    "{} ({}) lacks «{fact}»:\n{text}",
                    form.kind(),
                    lang.code()
                );
            }
            assert!(
                !text.contains("title."),
                "{}: an untranslated key is printed",
                form.kind()
            );
            // What a ЦОН issues itself is headed by the State Corporation, never the ministry.
            let by_con = form.issuer_key() == "channel.con";
            assert_eq!(
                text.contains("Министерство внутренних дел"),
                !by_con,
                "{number}: the issuer's heading"
            );
            if lang == Lang::Kk {
                assert_eq!(
                    text.contains("Қазақстан Республикасының Ішкі істер министрлігі"),
                    !by_con,
                    "{}",
                    form.kind()
                );
                for draft in &unverified {
                    assert!(
                        !text.contains(draft.as_str()),
                        "{}: the unverified Kazakh «{draft}» is printed",
                        form.kind()
                    );
                }
            }
            if let Form::Permit(_) = form {
                assert!(text.contains("Азаматтығы") || lang == Lang::Ru);
            }
        }
    }
}

#[test]
fn a_rendered_permit_page_decodes_and_verifies_offline_and_any_change_fails() {
    let (key, keys) = key();
    let (number, form) = samples::all()
        .into_iter()
        .find(|(_, f)| matches!(f, Form::Permit(p) if !p.exit))
        .unwrap();
    let stamp = stamp_for(&key, &number, &form);
    let pdf = render(&form, &stamp, Lang::Kk).unwrap();
    let dir = dir();
    let path = dir.join("permit-raster.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let prefix = dir.join("permit-raster");
    tool(
        "pdftoppm",
        &[
            "-r",
            "200",
            "-png",
            "-singlefile",
            path.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let png = std::fs::read(dir.join("permit-raster.png")).unwrap();
    let texts = decode::decode_png(&png).unwrap();
    assert_eq!(
        texts,
        vec![stamp.code_text()],
        "the page's 2D code reads back as printed"
    );

    let (code, sealed) = seal::parse_code_text(&texts[0]).unwrap();
    assert_eq!(code, stamp.code);
    let sealed = sealed.unwrap();
    let verified = seal::verify_seal(&sealed, &keys).unwrap();
    let Form::Permit(permit) = &form else { unreachable!() };
    assert_eq!(
        verified.payload,
        samples::seal_payload(permit, &stamp.code, stamp.issued_on)
    );
    assert_eq!(verified.kid, key.kid());

    // The PDF's detached signature.
    let signature = key.sign_detached(&pdf);
    signature.verify(&pdf, &keys).unwrap();
    let mut changed = pdf.clone();
    let middle = changed.len() / 2;
    changed[middle] ^= 1;
    let err = signature.verify(&changed, &keys).unwrap_err().to_string();
    assert!(err.contains("not the one that was signed"), "{err}");

    // One changed byte anywhere in the seal fails, with an answer that says why.
    for i in 0..sealed.len() {
        let mut bad = sealed.clone();
        bad[i] ^= 0x01;
        let err = seal::verify_seal(&bad, &keys).expect_err("a changed seal must not verify");
        assert!(!err.to_string().is_empty());
    }

    // A payload re-signed by another key is not Koshi's.
    let (other, _) = DocumentKey::generate().unwrap();
    let forged = other.seal(&verified.payload).unwrap();
    let err = seal::verify_seal(&forged, &keys).unwrap_err().to_string();
    assert!(err.contains("not among the published keys"), "{err}");

    // Retired keys stay in the set: a document signed before a rotation still verifies.
    let (new_key, mut rotated) = self::key();
    rotated.keys.extend(keys.keys.iter().cloned().map(|mut k| {
        k.status = "retired".into();
        k
    }));
    seal::verify_seal(&sealed, &rotated).unwrap();
    signature.verify(&pdf, &rotated).unwrap();
    assert_ne!(new_key.kid(), key.kid());
}

#[test]
fn rendering_is_deterministic_so_a_stored_signature_stays_valid() {
    let (key, keys) = key();
    let (number, form) = samples::all().remove(1);
    let stamp = stamp_for(&key, &number, &form);
    let a = render(&form, &stamp, Lang::Ru).unwrap();
    let b = render(&form, &stamp, Lang::Ru).unwrap();
    assert_eq!(a, b);
    key.sign_detached(&a).verify(&b, &keys).unwrap();
}
