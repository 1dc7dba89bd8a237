//! RFC 9457 problem documents with stable codes. The code is the `type` (as a URN), the
//! translation key, and what clients match on. 5xx never carry internals.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use koshi_cases::CaseError;
use serde::Serialize;
use utoipa::ToSchema;

/// A problem, boxed so that `Result<T, Problem>` stays small.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Problem(Box<ProblemDocument>);

impl std::ops::Deref for Problem {
    type Target = ProblemDocument;
    fn deref(&self) -> &ProblemDocument {
        &self.0
    }
}

impl std::ops::DerefMut for Problem {
    fn deref_mut(&mut self) -> &mut ProblemDocument {
        &mut self.0
    }
}

/// A problem document (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ProblemDocument {
    /// `urn:koshi:problem:<code>`
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The stable code.
    pub code: String,
    /// Field-level errors: JSON pointer and message.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    pub pointer: String,
    pub detail: String,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Problem {
        Problem(Box::new(ProblemDocument {
            type_: format!("urn:koshi:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_string(),
            errors: Vec::new(),
        }))
    }
    // The edge's own refusals are the case core's errors, mapped as every other (`From` below):
    // one definition of each code's shape.
    pub fn unprocessable(code: &str, pointer: &str, detail: impl Into<String>) -> Problem {
        CaseError::unprocessable(code, pointer, detail).into()
    }
    pub fn bad_request(code: &str, detail: impl Into<String>) -> Problem {
        CaseError::bad_request(code, detail).into()
    }
    pub fn not_found(what: &str) -> Problem {
        CaseError::not_found(what).into()
    }
    pub fn conflict(code: &str, detail: impl Into<String>) -> Problem {
        CaseError::conflict(code, detail).into()
    }
    pub fn unauthorized(detail: &str) -> Problem {
        CaseError::unauthorized(detail).into()
    }
    pub fn forbidden(detail: impl Into<String>) -> Problem {
        CaseError::forbidden(detail).into()
    }
    /// An internal failure: logged with its cause, answered without it.
    pub fn internal(cause: &dyn std::fmt::Display) -> Problem {
        CaseError::internal(cause).into()
    }
    pub fn unavailable(detail: impl Into<String>) -> Problem {
        CaseError::unavailable(detail).into()
    }
}

impl Problem {
    /// The HTTP status the problem answers with (its `status` is always one Koshi built from a
    /// `StatusCode`; anything else would be an internal error).
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let mut r = (status, Json(self)).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"koshi\""),
            );
        }
        r
    }
}

/// The one place a use case's error becomes an HTTP status: its kind decides it.
impl From<CaseError> for Problem {
    fn from(e: CaseError) -> Problem {
        use koshi_cases::Kind;
        let status = match e.kind {
            Kind::Malformed => StatusCode::BAD_REQUEST,
            Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
            Kind::Forbidden => StatusCode::FORBIDDEN,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::Conflict => StatusCode::CONFLICT,
            Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::UnsupportedMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Kind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            Kind::TooMany => StatusCode::TOO_MANY_REQUESTS,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut p = Problem::new(status, &e.code, e.detail.clone());
        p.errors = e
            .errors
            .iter()
            .map(|f| FieldError {
                pointer: f.pointer.clone(),
                detail: f.detail.clone(),
            })
            .collect();
        p
    }
}

impl From<koshi_store::StoreError> for Problem {
    fn from(e: koshi_store::StoreError) -> Problem {
        Problem::from(CaseError::from(e))
    }
}
