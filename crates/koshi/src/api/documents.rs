//! Documents (issue 16): a case's documents, their PDFs and detached signatures, the published
//! signing keys, and the public check by verification code or by number and IIN.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use koshi_forms::Lang;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::DocumentView;
use crate::problem::{Problem, ProblemDocument};
use crate::service::Service;
use crate::session::Authed;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LangQuery {
    lang: Option<String>,
}

fn lang_of(q: &LangQuery) -> Result<Lang, Problem> {
    match q.lang.as_deref() {
        None => Ok(Lang::Ru),
        Some(l) => Lang::parse(l)
            .ok_or_else(|| Problem::bad_request("unknown_language", format!("lang {l:?} is not one of ru, kk"))),
    }
}

/// A detached signature over a document's PDF (ES256 over the file's bytes).
#[derive(Debug, Serialize, ToSchema)]
pub struct SignatureView {
    /// The signing key (`/.well-known/koshi/document-keys.json`).
    pub kid: String,
    /// `ES256`.
    pub alg: String,
    /// SHA-256 of the PDF, hex.
    pub sha256: String,
    /// The raw ECDSA P-256 signature (r ‖ s), base64url.
    pub signature: String,
}

/// Every key Koshi has signed documents with.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeySetView {
    pub keys: Vec<KeyView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub kid: String,
    pub alg: String,
    /// SubjectPublicKeyInfo, DER, base64.
    pub public_key: String,
    /// The key's certificate, PEM.
    pub certificate: String,
    /// `current` signs new documents; `retired` verifies old ones.
    pub status: String,
}

#[utoipa::path(
    get, path = "/api/v1/applications/{id}/documents", params(("id" = String, Path)),
    responses((status = 200, description = "The case's documents, in the order of its acts", body = Vec<crate::dto::DocumentView>), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 404, body = ProblemDocument))
)]
pub(super) async fn case_documents(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<Vec<DocumentView>>, Problem> {
    Ok(Json(s.case_documents(&caller, &id).await?))
}

#[utoipa::path(
    get, path = "/api/v1/documents/{id}",
    params(("id" = String, Path), ("lang" = Option<String>, Query, description = "`ru` (default) or `kk`")),
    responses(
        (status = 200, description = "The PDF, signed (the signature at …/signature, also in the `Koshi-Signature` header)", content_type = "application/pdf", body = Vec<u8>),
        (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 404, body = ProblemDocument), (status = 409, body = ProblemDocument)
    )
)]
pub(super) async fn document_pdf(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Response, Problem> {
    let lang = lang_of(&q)?;
    let (bytes, signature, doc) = s.document_pdf(&caller, &id, lang).await?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    let filename: String = doc
        .number
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .collect();
    if let Ok(v) = format!("inline; filename=\"{filename}-{}.pdf\"", lang.code()).parse() {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = format!("kid={}; alg=ES256; sig={}", signature.kid, signature.signature).parse() {
        h.insert("koshi-signature", v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(r)
}

#[utoipa::path(
    get, path = "/api/v1/documents/{id}/signature",
    params(("id" = String, Path), ("lang" = Option<String>, Query, description = "`ru` (default) or `kk`")),
    responses((status = 200, description = "The detached signature of the PDF (save it beside the file as FILE.pdf.sig for `koshi verify`)", body = SignatureView), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 404, body = ProblemDocument))
)]
pub(super) async fn document_signature(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Json<SignatureView>, Problem> {
    let lang = lang_of(&q)?;
    let (_, sig, _) = s.document_pdf(&caller, &id, lang).await?;
    Ok(Json(SignatureView {
        kid: sig.kid,
        alg: sig.alg,
        sha256: sig.sha256,
        signature: sig.signature,
    }))
}

#[utoipa::path(
    get, path = "/.well-known/koshi/document-keys.json", security(()),
    responses((status = 200, description = "Every key Koshi has signed documents and seals with; old ones stay after a rotation", body = KeySetView))
)]
pub(super) async fn document_keys(State(s): State<Service>) -> Response {
    let set = s.document_keys();
    let view = KeySetView {
        keys: set
            .keys
            .iter()
            .map(|k| KeyView {
                kid: k.kid.clone(),
                alg: k.alg.clone(),
                public_key: k.public_key.clone(),
                certificate: k.certificate.clone(),
                status: k.status.clone(),
            })
            .collect(),
    };
    let mut r = Json(view).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    r
}

fn not_found() -> Problem {
    Problem::not_found("document")
}

#[utoipa::path(
    get, path = "/api/v1/verify/{code}", params(("code" = String, Path, description = "The verification code printed on the document (XXXX-XXXX-XX; case, spaces and dashes do not matter)")),
    security(()),
    responses((status = 200, description = "Genuine: what Koshi issued under this code, and whether a permit is valid, expired or annulled", body = crate::dto::Verification), (status = 404, description = "No document has this code", body = ProblemDocument), (status = 429, body = ProblemDocument))
)]
pub(super) async fn verify_code(State(s): State<Service>, Path(code): Path<String>) -> Result<Response, Problem> {
    let v = s.verify_code(&code).await?.ok_or_else(not_found)?;
    let mut r = Json(v).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// The check by number and IIN (egov.kz's habit).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyByNumber {
    pub number: String,
    /// The holder's IIN (12 digits).
    pub iin: String,
}

#[utoipa::path(
    post, path = "/api/v1/verify", request_body = VerifyByNumber, security(()),
    responses((status = 200, description = "Genuine: the document with this number whose holder has this IIN", body = crate::dto::Verification), (status = 404, description = "No document has this number with this IIN", body = ProblemDocument), (status = 429, body = ProblemDocument))
)]
pub(super) async fn verify_number(State(s): State<Service>, body: Bytes) -> Result<Response, Problem> {
    let q: VerifyByNumber = super::parse_body(&body)?;
    let v = s.verify_number(&q.number, &q.iin).await?.ok_or_else(not_found)?;
    let mut r = Json(v).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JournalQuery {
    unit: Option<String>,
    from: Option<String>,
    to: Option<String>,
    lang: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/journal",
    params(
        ("unit" = String, Query, description = "The police body whose journal (App. 8)"),
        ("from" = String, Query, description = "First day, YYYY-MM-DD"),
        ("to" = String, Query, description = "Last day, YYYY-MM-DD"),
        ("lang" = Option<String>, Query, description = "`ru` (default) or `kk`")
    ),
    responses(
        (status = 200, description = "The journal of PR files for the period, a signed document of its own (its number and code in the `Koshi-Document` header)", content_type = "application/pdf", body = Vec<u8>),
        (status = 400, body = ProblemDocument), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 404, body = ProblemDocument)
    )
)]
pub(super) async fn journal(
    State(s): State<Service>,
    Authed(caller): Authed,
    Query(q): Query<JournalQuery>,
) -> Result<Response, Problem> {
    // The role first: who may not read journals learns nothing from a malformed query either.
    s.authz.allow(&caller, "journal.read")?;
    let lang = lang_of(&LangQuery { lang: q.lang.clone() })?;
    let need = |v: &Option<String>, name: &str| {
        v.clone()
            .ok_or_else(|| Problem::bad_request("missing_parameter", format!("the query needs {name}")))
    };
    let date = |v: &str, name: &str| {
        v.parse::<jiff::civil::Date>()
            .map_err(|_| Problem::bad_request("invalid_date", format!("{name} {v:?} is not a date YYYY-MM-DD")))
    };
    let unit = need(&q.unit, "unit")?;
    let (from, to) = (date(&need(&q.from, "from")?, "from")?, date(&need(&q.to, "to")?, "to")?);
    let (bytes, signature, doc) = s.journal_export(&caller, &unit, from, to, lang).await?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(v) = format!("id={}; number={}; code={}", doc.id, doc.number, doc.code).parse() {
        h.insert("koshi-document", v);
    }
    if let Ok(v) = format!("kid={}; alg=ES256; sig={}", signature.kid, signature.signature).parse() {
        h.insert("koshi-signature", v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(r)
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/documents/application", params(("id" = String, Path)),
    responses((status = 200, description = "The application as filed (App. 1), a document of the case: registered the first time, the same one after", body = crate::dto::DocumentRef), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 404, body = ProblemDocument), (status = 409, body = ProblemDocument))
)]
pub(super) async fn application_document(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<crate::model::DocumentRef>, Problem> {
    Ok(Json(s.application_document(&caller, &id).await?))
}
