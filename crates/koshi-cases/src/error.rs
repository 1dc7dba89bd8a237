//! The case core's error: what went wrong as a [`Kind`], a stable snake_case `code` that clients
//! match on and translations key on, a detail for people, and the fields at fault (JSON
//! pointers into what was filed). No status codes: the edge chooses them, in one place.

use std::fmt;

/// What kind of failure it is, independent of any transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The request cannot be read at all (a malformed parameter, an unknown query key).
    Malformed,
    /// No identity, or one that is not valid.
    Unauthenticated,
    /// The caller may not do this: role, unit, party or post.
    Forbidden,
    /// No such record, or not one the caller may know of.
    NotFound,
    /// The case is not in a state that allows this, or the record changed concurrently.
    Conflict,
    /// A body, a file or a list over its bound.
    TooLarge,
    /// A body or an electronic copy of a media type Koshi does not take.
    UnsupportedMedia,
    /// Read, but refused by a rule: a field out of bounds, a date in the future, a missing fact.
    Invalid,
    /// Too many attempts; try later.
    TooMany,
    /// A system Koshi depends on did not answer; nothing was decided.
    Unavailable,
    /// Koshi's own failure: logged with its cause, answered without it.
    Internal,
}

/// A field at fault: a JSON pointer into what was sent, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub pointer: String,
    pub detail: String,
}

/// The error of a use case. Boxed so that `Result<T, CaseError>` stays small.
#[derive(Debug, Clone)]
pub struct CaseError(Box<Inner>);

#[derive(Debug, Clone)]
pub struct Inner {
    pub kind: Kind,
    /// The stable code.
    pub code: String,
    pub detail: String,
    pub errors: Vec<FieldError>,
}

impl std::ops::Deref for CaseError {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl std::ops::DerefMut for CaseError {
    fn deref_mut(&mut self) -> &mut Inner {
        &mut self.0
    }
}

impl CaseError {
    pub fn new(kind: Kind, code: &str, detail: impl Into<String>) -> CaseError {
        CaseError(Box::new(Inner {
            kind,
            code: code.to_string(),
            detail: detail.into(),
            errors: Vec::new(),
        }))
    }
    /// A rule refuses a field: the code, the field's JSON pointer, and why.
    pub fn unprocessable(code: &str, pointer: &str, detail: impl Into<String>) -> CaseError {
        let detail = detail.into();
        let mut e = CaseError::new(Kind::Invalid, code, detail.clone());
        e.errors.push(FieldError {
            pointer: pointer.to_string(),
            detail,
        });
        e
    }
    pub fn bad_request(code: &str, detail: impl Into<String>) -> CaseError {
        CaseError::new(Kind::Malformed, code, detail)
    }
    pub fn not_found(what: &str) -> CaseError {
        CaseError::new(Kind::NotFound, "not_found", format!("{what} not found"))
    }
    pub fn conflict(code: &str, detail: impl Into<String>) -> CaseError {
        CaseError::new(Kind::Conflict, code, detail)
    }
    pub fn unauthorized(detail: &str) -> CaseError {
        CaseError::new(Kind::Unauthenticated, "unauthorized", detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> CaseError {
        CaseError::new(Kind::Forbidden, "forbidden", detail)
    }
    /// An internal failure: logged with its cause, answered without it.
    pub fn internal(cause: &dyn fmt::Display) -> CaseError {
        tracing::error!(error = %cause, "internal error");
        CaseError::new(
            Kind::Internal,
            "internal",
            "an internal error occurred; it has been logged",
        )
    }
    /// A stored part of a case that a step cannot do without and cannot read: the step is
    /// refused for a person to look, nothing is written, and nothing is rebuilt from a default.
    pub fn unreadable(what: &str) -> CaseError {
        CaseError::conflict(
            "stored_record_unreadable",
            format!("the case's stored {what} cannot be read; an officer must look at the case before this step"),
        )
    }
    pub fn unavailable(detail: impl Into<String>) -> CaseError {
        CaseError::new(Kind::Unavailable, "unavailable", detail)
    }
}

impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl std::error::Error for CaseError {}

impl From<koshi_store::StoreError> for CaseError {
    fn from(e: koshi_store::StoreError) -> CaseError {
        match e {
            koshi_store::StoreError::Conflict(m) => {
                tracing::warn!(error = %m, "store conflict");
                CaseError::conflict("conflict", "the record changed concurrently; retry the request")
            }
            other => CaseError::internal(&other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_field_names_its_pointer_and_the_detail_is_the_field_s() {
        let e = CaseError::unprocessable("birth_date_in_future", "/immigrant/birth_date", "after today");
        assert_eq!(e.kind, Kind::Invalid);
        assert_eq!(e.code, "birth_date_in_future");
        assert_eq!(
            e.errors,
            vec![FieldError {
                pointer: "/immigrant/birth_date".into(),
                detail: "after today".into()
            }]
        );
    }

    #[test]
    fn an_internal_failure_never_carries_its_cause() {
        let e = CaseError::internal(&"disk I/O error at /var/lib/koshi/k.db");
        assert_eq!(e.kind, Kind::Internal);
        assert!(!e.detail.contains("/var/lib"), "{}", e.detail);
    }

    #[test]
    fn a_concurrent_change_is_a_conflict_to_retry() {
        let e = CaseError::from(koshi_store::StoreError::Conflict("row version".into()));
        assert_eq!((e.kind, e.code.as_str()), (Kind::Conflict, "conflict"));
        assert!(!e.detail.contains("row version"));
    }
}
