//! The request a piece of work belongs to: an id carried from the HTTP edge into the work it
//! starts (the checks of a case just filed) and sent to the registries as `X-Request-Id`, so that
//! one request can be followed through Koshi's logs and a gateway's. An id is Koshi's own or the
//! caller's when it is a short token (never personal data: letters, digits, `-` and `_`).

use std::future::Future;
use std::sync::Arc;

tokio::task_local! {
    static REQUEST_ID: Arc<str>;
}

/// The request id of the work running now, if it belongs to a request.
pub fn current() -> Option<Arc<str>> {
    REQUEST_ID.try_with(Arc::clone).ok()
}

/// Runs `f` as part of request `id`.
pub async fn scope<F: Future>(id: Arc<str>, f: F) -> F::Output {
    REQUEST_ID.scope(id, f).await
}

/// Whether a caller's `X-Request-Id` can be kept: 1–64 of `A–Z a–z 0–9 - _`.
pub fn acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_id_follows_the_work_of_its_request_only() {
        assert!(current().is_none());
        let id: Arc<str> = Arc::from("req-1");
        let seen = scope(id, async { current() }).await;
        assert_eq!(seen.as_deref(), Some("req-1"));
        assert!(current().is_none());
        assert!(acceptable("01J9-abc_DEF"));
        assert!(!acceptable("") && !acceptable("a b") && !acceptable(&"x".repeat(65)) && !acceptable("Иван"));
    }
}
