//! The edge's strictness, before anything reaches the law or the store (issue 14 item 10):
//! request targets and bodies with control characters, over-long texts, over-long lists, wrong
//! media types and electronic copies that are not what they claim are refused with a 4xx problem
//! naming the field, and nothing is written.

use serde_json::Value;

use crate::CaseError;

/// Largest request body (attachments are base64 inside JSON).
pub const MAX_BODY_BYTES: usize = 48 * 1024 * 1024;

/// Longest ordinary text field (names, numbers, addresses), in characters.
pub const MAX_TEXT: usize = 1_000;
/// Longest free text (a statement, a comment, a reason, a position at a hearing).
pub const MAX_FREE_TEXT: usize = 10_000;
/// Most items in any list of a request (documents, family members, grounds).
pub const MAX_ITEMS: usize = 100;
/// Deepest nesting of a request body.
const MAX_DEPTH: usize = 16;

/// Keys whose values are free text.
const FREE_TEXT: [&str; 6] = ["statement", "comment", "reason", "position", "detail", "new_address"];

/// Checks every string, list and object of a JSON body: no control characters, bounded lengths
/// and counts. `content_base64` is bounded by the attachment limit instead (checked later). The
/// walk allocates nothing unless it finds a fault (it runs on every request body).
pub fn check_json(v: &Value) -> Result<(), CaseError> {
    let mut path: Vec<Seg<'_>> = Vec::new();
    walk(v, &mut path, None)
}

/// Checks the free-text fields of a page's form as a JSON body's are checked: no control
/// characters, at most the free-text length. `field` names the form field in the problem.
pub fn check_form_text(fields: &[(&str, &str)]) -> Result<(), CaseError> {
    for (field, text) in fields {
        let pointer = format!("/{field}");
        if let Some(c) = first_control(text) {
            return Err(CaseError::unprocessable(
                "invalid_text",
                &pointer,
                format!("a control character (U+{:04X}) is not allowed", c as u32),
            ));
        }
        if text.len() > MAX_FREE_TEXT && text.chars().count() > MAX_FREE_TEXT {
            return Err(CaseError::unprocessable(
                "text_too_long",
                &pointer,
                format!("at most {MAX_FREE_TEXT} characters"),
            ));
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// The JSON pointer of `path` (RFC 6901), built only for an error.
fn pointer(path: &[Seg<'_>]) -> String {
    if path.is_empty() {
        return "/".into();
    }
    let mut p = String::new();
    for s in path {
        p.push('/');
        match s {
            Seg::Key(k) => p.push_str(&k.replace('~', "~0").replace('/', "~1")),
            Seg::Index(i) => p.push_str(&i.to_string()),
        }
    }
    p
}

/// A control character (C0, DEL or C1), found without decoding the text.
fn first_control(s: &str) -> Option<char> {
    let b = s.as_bytes();
    let suspect = b
        .iter()
        .enumerate()
        .any(|(i, &x)| x < 0x20 || x == 0x7f || (x == 0xC2 && b.get(i + 1).is_some_and(|n| (0x80..=0x9F).contains(n))));
    if suspect {
        s.chars().find(|c| c.is_control())
    } else {
        None
    }
}

fn walk<'a>(v: &'a Value, path: &mut Vec<Seg<'a>>, key: Option<&'a str>) -> Result<(), CaseError> {
    if path.len() > MAX_DEPTH {
        return Err(CaseError::unprocessable(
            "too_deep",
            &pointer(path),
            "the body nests too deeply",
        ));
    }
    match v {
        Value::String(s) => {
            if key == Some("content_base64") {
                return Ok(());
            }
            let limit = if key.is_some_and(|k| FREE_TEXT.contains(&k)) {
                MAX_FREE_TEXT
            } else {
                MAX_TEXT
            };
            if let Some(c) = first_control(s) {
                return Err(CaseError::unprocessable(
                    "invalid_text",
                    &pointer(path),
                    format!("a control character (U+{:04X}) is not allowed", c as u32),
                ));
            }
            // Bytes bound characters from above: count characters only when the bytes exceed it.
            if s.len() > limit && s.chars().count() > limit {
                return Err(CaseError::unprocessable(
                    "text_too_long",
                    &pointer(path),
                    format!("at most {limit} characters"),
                ));
            }
            Ok(())
        }
        Value::Array(items) => {
            if items.len() > MAX_ITEMS {
                return Err(CaseError::unprocessable(
                    "too_many_items",
                    &pointer(path),
                    format!("at most {MAX_ITEMS} items"),
                ));
            }
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                walk(item, path, key)?;
                path.pop();
            }
            Ok(())
        }
        Value::Object(map) => {
            for (k, item) in map {
                if k.len() > 100 || first_control(k).is_some() {
                    return Err(CaseError::unprocessable(
                        "invalid_key",
                        &pointer(path),
                        "a key is not acceptable",
                    ));
                }
                path.push(Seg::Key(k));
                walk(item, path, Some(k))?;
                path.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A path or query with a control character (a NUL among them) is refused before routing.
pub fn check_target(path: &str, query: Option<&str>) -> Result<(), CaseError> {
    for part in std::iter::once(path).chain(query) {
        let decoded = percent_decode(part);
        if decoded.iter().any(|b| *b < 0x20 || *b == 0x7f) {
            return Err(CaseError::bad_request(
                "invalid_request_target",
                "the path or query holds a control character",
            ));
        }
    }
    Ok(())
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// The media types an electronic copy may have, each with the bytes it begins with.
const MEDIA: [(&str, &[u8]); 3] = [
    ("application/pdf", b"%PDF"),
    ("image/jpeg", &[0xFF, 0xD8, 0xFF]),
    ("image/png", &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]),
];

/// Is `media_type` one an electronic copy may have?
pub fn media_type_known(media_type: &str) -> bool {
    MEDIA.iter().any(|(m, _)| *m == media_type)
}

/// An electronic copy is what its media type says (a PDF begins `%PDF-`, …): an executable or
/// any other file sent as a "copy" is refused.
pub fn check_copy(pointer: &str, media_type: &str, bytes: &[u8]) -> Result<(), CaseError> {
    let Some((_, magic)) = MEDIA.iter().find(|(m, _)| *m == media_type) else {
        return Err(unsupported_media(pointer, media_type));
    };
    if !bytes.starts_with(magic) {
        return Err(CaseError::unprocessable(
            "attachment_not_its_media_type",
            pointer,
            format!("the content is not {media_type}"),
        ));
    }
    Ok(())
}

pub fn unsupported_media(pointer: &str, media_type: &str) -> CaseError {
    let known: Vec<&str> = MEDIA.iter().map(|(m, _)| *m).collect();
    CaseError::unprocessable(
        "unsupported_media_type",
        pointer,
        format!("{media_type:?} is not one of {}", known.join(", ")),
    )
}

/// The kinds of identity document a person files with.
pub const IDENTITY_DOCUMENTS: [&str; 2] = ["passport", "stateless_certificate"];

/// A person's dates within the bounds a life and a document allow, on the day of filing: born
/// from 1900 and not after the filing; a document issued not after the filing and, if given,
/// after the birth; valid until no later than 2200. The identity document is of a known kind.
pub fn check_person(
    base: &str,
    birth: jiff::civil::Date,
    document_kind: &str,
    issued: Option<jiff::civil::Date>,
    expires: jiff::civil::Date,
    filed_on: jiff::civil::Date,
) -> Result<(), CaseError> {
    let earliest_birth = jiff::civil::date(1900, 1, 1);
    if birth < earliest_birth || birth > filed_on {
        return Err(CaseError::unprocessable(
            "implausible_date",
            &format!("{base}/birth_date"),
            format!("{birth} is not a birth date between 1900-01-01 and the filing day {filed_on}"),
        ));
    }
    if !IDENTITY_DOCUMENTS.contains(&document_kind) {
        return Err(CaseError::unprocessable(
            "unknown_document_kind",
            &format!("{base}/document/kind"),
            format!("{document_kind:?} is not one of {}", IDENTITY_DOCUMENTS.join(", ")),
        ));
    }
    document_dates(
        &format!("{base}/document"),
        issued,
        Some(expires),
        birth,
        birth,
        filed_on,
    )
}

/// A document of the package within the bounds a document allows, on the day of filing: issued
/// from 1900 and not after the filing, valid until no later than 2200 and not before its issue.
pub fn check_document_dates(
    index: usize,
    issued: Option<jiff::civil::Date>,
    expires: Option<jiff::civil::Date>,
    filed_on: jiff::civil::Date,
) -> Result<(), CaseError> {
    let earliest = jiff::civil::date(1900, 1, 1);
    document_dates(
        &format!("/documents/{index}"),
        issued,
        expires,
        earliest,
        issued.unwrap_or(earliest),
        filed_on,
    )
}

/// A document's dates under `base`: issued from `issued_from` and not after the filing, valid
/// from `expires_from` until no later than 2200.
fn document_dates(
    base: &str,
    issued: Option<jiff::civil::Date>,
    expires: Option<jiff::civil::Date>,
    issued_from: jiff::civil::Date,
    expires_from: jiff::civil::Date,
    filed_on: jiff::civil::Date,
) -> Result<(), CaseError> {
    if let Some(i) = issued
        && (i > filed_on || i < issued_from)
    {
        return Err(CaseError::unprocessable(
            "implausible_date",
            &format!("{base}/issued_on"),
            format!("{i} is not an issue date between {issued_from} and the filing day {filed_on}"),
        ));
    }
    if let Some(e) = expires
        && (e > jiff::civil::date(2200, 1, 1) || e < expires_from)
    {
        return Err(CaseError::unprocessable(
            "implausible_date",
            &format!("{base}/expires_on"),
            format!("{e} is not a plausible end of validity"),
        ));
    }
    Ok(())
}

/// A body sent as anything but JSON where JSON is expected.
pub fn not_json() -> CaseError {
    CaseError::new(
        crate::Kind::UnsupportedMedia,
        "unsupported_media_type",
        "the body is sent as Content-Type: application/json",
    )
}

/// Parses a JSON body: malformed JSON is 400, a body of the wrong shape 422 naming the field
/// (a date that is not `YYYY-MM-DD` is `invalid_date`); nothing is written.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, CaseError> {
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| CaseError::bad_request("malformed_json", format!("the body is not valid JSON: {e}")))?;
    check_json(&v)?;
    serde_path_to_error::deserialize(v).map_err(|e: serde_path_to_error::Error<serde_json::Error>| {
        let pointer = path_pointer(e.path());
        let detail = e.inner().to_string();
        if detail.contains(crate::model::NOT_A_DAY) {
            return CaseError::unprocessable("invalid_date", &pointer, detail);
        }
        let mut p = CaseError::new(
            crate::Kind::Invalid,
            "invalid_body",
            format!("the body does not match the schema at {pointer}: {detail}"),
        );
        p.errors.push(crate::FieldError { pointer, detail });
        p
    })
}

/// The JSON pointer of a path serde followed, up to the first step it could not name (inside a
/// flattened part of a body).
fn path_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut p = String::new();
    for s in path.iter() {
        match s {
            Segment::Seq { index } => p.push_str(&format!("/{index}")),
            Segment::Map { key } => p.push_str(&format!("/{}", key.replace('~', "~0").replace('/', "~1"))),
            Segment::Enum { .. } => {}
            Segment::Unknown => break,
        }
    }
    if p.is_empty() { "/".into() } else { p }
}

/// Longest request target (path and query) taken; longer is 414.
pub const MAX_TARGET_BYTES: usize = 8 * 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn control_characters_long_texts_and_long_lists_are_refused_naming_the_field() {
        assert!(check_json(&json!({"a": "Иванов", "b": [1, 2], "c": {"d": "ok\u{00A0}"}})).is_ok());
        let e = check_json(&json!({"immigrant": {"surname": "IVA\u{0000}NOV"}})).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.errors[0].pointer.as_str()),
            ("invalid_text", "/immigrant/surname")
        );
        let e = check_json(&json!({"x": "a".repeat(MAX_TEXT + 1)})).unwrap_err();
        assert_eq!(e.code, "text_too_long");
        assert!(check_json(&json!({"comment": "a".repeat(MAX_TEXT + 1)})).is_ok());
        let e = check_json(&json!({"documents": vec![json!({}); MAX_ITEMS + 1]})).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.errors[0].pointer.as_str()),
            ("too_many_items", "/documents")
        );
        assert!(check_json(&json!({"content_base64": "A".repeat(100_000)})).is_ok());
    }

    #[test]
    fn a_date_is_read_once_strictly_and_a_wrong_one_names_its_field() {
        use crate::model::{ApplicationRequest, Day};
        for ok in ["1990-01-01", "2000-02-29", "2026-12-31"] {
            assert_eq!(Day::parse(ok).map(|d| d.to_string()), Ok(ok.to_string()));
        }
        for bad in [
            "1990-1-01",
            "1990-01-01T00:00",
            "+1990-01-01",
            " 1990-01-01",
            "1990-02-30",
            "2001-02-29",
            "19900101",
            "",
            "1990-01-0a",
        ] {
            assert!(Day::parse(bad).is_err(), "{bad:?} read as a date");
        }
        let filing = json!({"kind": "rvp", "purpose": "labour_contract",
            "inviting_party": {"kind": "legal_entity", "bin": "160540012347", "name": "ТОО", "address": "Алматы", "rka": "0201400123456789"},
            "immigrant": {"surname": "DEMO", "given_names": "PERSON", "birth_date": "1990-01-01", "citizenship": "UZB",
                "document": {"number": "FA1234567", "expires_on": "2031-01-01"}},
            "documents": [{"kind": "application_form"}, {"kind": "health_insurance", "expires_on": "2027-12-31"}]});
        let read: ApplicationRequest = parse_body(filing.to_string().as_bytes()).unwrap();
        assert_eq!(read.immigrant.birth_date, Day(jiff::civil::date(1990, 1, 1)));
        let refused = |pointer: &str, value: serde_json::Value| {
            let mut f = filing.clone();
            *f.pointer_mut(pointer).unwrap() = value;
            parse_body::<ApplicationRequest>(f.to_string().as_bytes()).unwrap_err()
        };
        for pointer in [
            "/immigrant/birth_date",
            "/immigrant/document/expires_on",
            "/documents/1/expires_on",
        ] {
            let e = refused(pointer, json!("2027-02-30"));
            assert_eq!(
                (e.code.as_str(), e.errors[0].pointer.as_str()),
                ("invalid_date", pointer)
            );
            assert!(e.detail.contains("2027-02-30"), "{}", e.detail);
        }
        let e = refused("/immigrant/surname", json!(7));
        assert_eq!(
            (e.code.as_str(), e.errors[0].pointer.as_str()),
            ("invalid_body", "/immigrant/surname")
        );
    }

    #[test]
    fn request_targets_with_control_characters_are_refused() {
        assert!(check_target("/api/v1/applications/abc", Some("limit=5")).is_ok());
        assert!(check_target("/api/v1/applications/a%00b", None).is_err());
        assert!(check_target("/api/v1/outages", Some("x=%0A")).is_err());
        assert!(check_target("/api/v1/x%2", None).is_ok());
    }

    #[test]
    fn copies_are_what_their_media_type_says() {
        assert!(check_copy("/d", "application/pdf", b"%PDF-1.4\n").is_ok());
        assert_eq!(
            check_copy("/d", "application/pdf", b"MZ\x90\x00").unwrap_err().code,
            "attachment_not_its_media_type"
        );
        assert_eq!(
            check_copy("/d", "application/x-msdownload", b"MZ").unwrap_err().code,
            "unsupported_media_type"
        );
    }
}
