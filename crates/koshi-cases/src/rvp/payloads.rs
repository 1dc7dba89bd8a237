//! The typed payloads Koshi writes for an intake and an issuance (keys in alphabetical order).

use koshi_law::rvp::{self};
use serde_json::Value;

/// The number of an RVP (App. 2): the year it takes effect, then the case id's first twelve hex
/// digits (the filing's millisecond, UUIDv7) and its last twelve (random), upper case:
/// `KZ-RVP-2026-019AD3C5B2E0-3B4AB07A1B6C`.
///
/// Leading with the time keeps the numbers of a day together, so that each issuance adds to the
/// end of the unique index of permit numbers instead of to a random page of it (with the random
/// digits alone, every issuance dirtied a page of an index that grows with every permit ever
/// issued), and two cases share a number only if filed in the same millisecond with the same 48
/// random bits. Numbers issued before keep their form (`KZ-RVP-2026-3B4AB07A1B6C`).
pub(crate) fn permit_number(valid_from: &str, application_id: &str) -> String {
    let year = &valid_from[..4.min(valid_from.len())];
    let hex: String = application_id
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let (time, random) = (hex.get(..12).unwrap_or(""), hex.get(20..).unwrap_or(""));
    format!("KZ-RVP-{year}-{time}-{random}")
}

/// What an issuance rests on: the citation of the decision, the validity with the bounds the law
/// applied, and (an officer's decision) the officer's comment.
pub(crate) struct Issue<'a> {
    pub(crate) citation: &'a str,
    pub(crate) validity: &'a rvp::Validity,
    /// Present (possibly null) on an officer's decision, absent on a straight-through one.
    pub(crate) comment: Option<Option<&'a str>>,
    /// A straight-through act formed in the name of a police body's duty officer (п. 9-1).
    pub(crate) formed_by: Option<FormedBy<'a>>,
    /// Check findings the officer set aside, with the reasons.
    pub(crate) set_aside: Vec<SetAside<'a>>,
}

/// A check finding set aside by the officer who issued over it (keys in order).
#[derive(serde::Serialize)]
pub(crate) struct SetAside<'a> {
    pub(crate) check: &'static str,
    pub(crate) reason: &'a str,
}

/// Who formed an act prepared without a person, recorded on the decision (keys in order).
#[derive(serde::Serialize, Clone, Copy)]
pub(crate) struct FormedBy<'a> {
    pub(crate) account: &'a str,
    pub(crate) kind: &'static str,
    pub(crate) prepared_by: &'static str,
    pub(crate) unit: &'a str,
}

impl<'a> Issue<'a> {
    pub(crate) fn new(citation: &'a str, validity: &'a rvp::Validity, comment: Option<Option<&'a str>>) -> Issue<'a> {
        Issue {
            citation,
            validity,
            comment,
            formed_by: None,
            set_aside: Vec::new(),
        }
    }
}

/// The bounds the law applied to a validity, as the decision records them.
pub(crate) fn bounds(v: &rvp::Validity) -> Vec<Bound> {
    v.bounds
        .iter()
        .map(|(code, d, c)| Bound {
            bound: code,
            citation: c.to_string(),
            date: d.to_string(),
        })
        .collect()
}

/// A bound applied to an RVP's validity (keys in alphabetical order, as `bounds_json` writes).
#[derive(serde::Serialize)]
pub(crate) struct Bound {
    pub(crate) bound: &'static str,
    pub(crate) citation: String,
    pub(crate) date: String,
}

/// The decision recorded on an issued case (keys in alphabetical order).
#[derive(serde::Serialize)]
pub(crate) struct IssuedDecision<'a> {
    pub(crate) bounds: Vec<Bound>,
    pub(crate) citation: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) comment: Option<Option<&'a str>>,
    pub(crate) decided_at: &'a str,
    pub(crate) decided_by: &'a str,
    pub(crate) form: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) formed_by: Option<FormedBy<'a>>,
    pub(crate) outcome: &'a str,
    pub(crate) permit_number: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) set_aside: Vec<SetAside<'a>>,
    pub(crate) valid_from: &'a str,
    pub(crate) valid_until: &'a str,
}

/// The audit event of an intake (keys in alphabetical order). The grounds are a JSON value, so
/// that their keys are in alphabetical order too, as in every payload Koshi writes.
#[derive(serde::Serialize)]
pub(crate) struct IntakeDetail<'a> {
    pub(crate) accepted_on: Option<&'a str>,
    pub(crate) channel: &'a str,
    pub(crate) due_on: Option<&'a str>,
    pub(crate) grounds: Value,
    pub(crate) late_exception: Option<String>,
    /// A paper filing entered afterwards: its instant, receipt and reason (absent when the
    /// filing instant is the server's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) paper_filing: Option<Value>,
    pub(crate) purpose: &'a str,
    pub(crate) signature: Option<&'a Value>,
}

/// The permit's number and validity (the audit event of an issuance).
#[derive(serde::Serialize)]
pub(crate) struct PermitFacts<'a> {
    pub(crate) permit_number: &'a str,
    pub(crate) valid_from: &'a str,
    pub(crate) valid_until: &'a str,
}

/// The issued RVP as delivered to the channel's destination.
#[derive(serde::Serialize)]
pub(crate) struct PermitDocument<'a> {
    pub(crate) document: &'a str,
    /// The printed permit: its verification code and its PDF.
    pub(crate) file: &'a crate::model::DocumentRef,
    pub(crate) form: &'a str,
    pub(crate) permit_number: &'a str,
    pub(crate) valid_from: &'a str,
    pub(crate) valid_until: &'a str,
}

/// The bounds as a JSON value, for a proposal that waits for an officer.
pub(crate) fn bounds_json(v: &rvp::Validity) -> Value {
    serde_json::to_value(bounds(v)).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ground;
    use jiff::civil::Date;
    use koshi_law::citation::Citation;
    use koshi_law::rvp;
    use serde_json::{Value, json};

    /// The typed payloads of an intake and an issuance write the same JSON, byte for byte, as the
    /// `json!` values they replaced (keys in alphabetical order): the intake's audit event with
    /// and without grounds, and the decision for a straight-through issuance and an officer's
    /// (with and without a comment).
    #[test]
    fn issuance_payloads_are_written_as_before() {
        let d = |s: &str| -> Date { s.parse().unwrap_or_default() };
        let v = rvp::Validity {
            valid_from: d("2026-02-02"),
            valid_until: d("2027-02-01"),
            bounds: vec![
                (
                    "purpose_max_term",
                    d("2027-02-01"),
                    Citation::owned("App. 1-1 п. 8 (x)".into()),
                ),
                ("basis_document", d("2027-06-30"), Citation::new("App. 1-1 п. 8")),
            ],
        };
        let id = "01a22d52-3a96-73f3-a435-3c9b86704167";
        let number = permit_number("2026-02-02", id);
        assert_eq!(number, "KZ-RVP-2026-01A22D523A96-3C9B86704167");
        for (citation, comment) in [
            ("п. 9-1 абз. 8", None),
            ("п. 9-1 абз. 8; App. 2", Some(None)),
            ("п. 9-1 абз. 8; App. 2", Some(Some("по «заявлению»\n"))),
        ] {
            let typed = serde_json::to_string(&IssuedDecision {
                bounds: bounds(&v),
                citation,
                comment,
                decided_at: "2026-02-02T05:00:00.000000Z",
                decided_by: "system",
                form: "App. 2",
                formed_by: None,
                outcome: "issued",
                permit_number: &number,
                set_aside: Vec::new(),
                valid_from: "2026-02-02",
                valid_until: "2027-02-01",
            })
            .unwrap_or_default();
            let old_bounds: Vec<Value> = v
                .bounds
                .iter()
                .map(|(code, d, c)| json!({"bound": code, "date": d.to_string(), "citation": c.to_string()}))
                .collect();
            assert_eq!(bounds_json(&v), Value::Array(old_bounds.clone()));
            let mut old = json!({"outcome": "issued", "citation": citation, "valid_from": "2026-02-02", "valid_until": "2027-02-01", "bounds": old_bounds});
            if let Some(c) = comment {
                old["comment"] = json!(c);
            }
            old["permit_number"] = json!(number);
            old["form"] = json!("App. 2");
            old["decided_at"] = json!("2026-02-02T05:00:00.000000Z");
            old["decided_by"] = json!("system");
            assert_eq!(typed, old.to_string());
        }
        // The audit event of an intake: accepted, and refused with grounds, a late exception and
        // a signer.
        let ground = Ground {
            code: "expired_document".into(),
            document: Some("passport".into()),
            check: None,
            citation: "п. 6".into(),
            detail: "expired on 2026-01-01".into(),
        };
        let signer = json!({"subject": "CN=Иванов", "algorithm": "gost"});
        for (accepted_on, grounds, late, signature) in [
            (Some("2026-02-02"), vec![], None, None),
            (
                None,
                vec![ground.clone(), ground],
                Some("п. 9-1 пп. 1".to_string()),
                Some(&signer),
            ),
        ] {
            let typed = serde_json::to_string(&IntakeDetail {
                accepted_on,
                channel: "portal",
                due_on: accepted_on,
                grounds: serde_json::to_value(&grounds).unwrap_or_default(),
                late_exception: late.clone(),
                paper_filing: None,
                purpose: "labour_contract",
                signature,
            })
            .unwrap_or_default();
            let old = json!({
                "channel": "portal",
                "purpose": "labour_contract",
                "accepted_on": accepted_on,
                "due_on": accepted_on,
                "grounds": grounds,
                "late_exception": late,
                "signature": signature,
            });
            assert_eq!(typed, old.to_string());
        }
        let facts = PermitFacts {
            permit_number: &number,
            valid_from: "2026-02-02",
            valid_until: "2027-02-01",
        };
        assert_eq!(
            serde_json::to_string(&facts).unwrap_or_default(),
            json!({"permit_number": number, "valid_from": "2026-02-02", "valid_until": "2027-02-01"}).to_string()
        );
        let file = crate::model::DocumentRef {
            id: "d1".into(),
            form: "permit".into(),
            number: number.clone(),
            code: "ABCD-EFGH-JK".into(),
            verify_url: "https://koshi.example/verify/ABCD-EFGH-JK".into(),
            href: "/api/v1/documents/d1".into(),
        };
        let doc = PermitDocument {
            document: "rvp",
            file: &file,
            form: "App. 2",
            permit_number: &number,
            valid_from: "2026-02-02",
            valid_until: "2027-02-01",
        };
        assert_eq!(
            serde_json::to_string(&doc).unwrap_or_default(),
            json!({"document": "rvp", "file": {"code": "ABCD-EFGH-JK", "form": "permit", "href": "/api/v1/documents/d1", "id": "d1", "number": number, "verify_url": "https://koshi.example/verify/ABCD-EFGH-JK"}, "form": "App. 2", "permit_number": number, "valid_from": "2026-02-02", "valid_until": "2027-02-01"}).to_string()
        );
    }
}
