//! The HTTP edge's own checks: every error a problem document, also those the framework answers
//! by itself. The checks of what is sent (bounds, control characters, media types, the request
//! target) are the case core's (`koshi_cases::parse`), re-exported here for the handlers.

pub use koshi_cases::parse::*;

/// Every error is a problem document (RFC 9457), also those the framework answers by itself (a
/// body over the limit, a method the route does not take, a query that does not parse, a
/// request not received in time): their text becomes the detail, under a stable code.
pub async fn problem_for_every_error(r: axum::response::Response) -> axum::response::Response {
    let status = r.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return r;
    }
    // A problem document already, or a page of the web app (which says what went wrong itself).
    let own = r.headers().get(axum::http::header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/problem+json") || v.as_bytes().starts_with(b"text/html")
    });
    if own {
        return r;
    }
    let (parts, body) = r.into_parts();
    let text: String = match axum::body::to_bytes(body, 4096).await {
        Ok(b) => String::from_utf8_lossy(&b)
            .chars()
            .filter(|c| !c.is_control())
            .take(300)
            .collect(),
        Err(_) => String::new(),
    };
    let or = |fallback: &str| {
        if text.is_empty() {
            fallback.to_string()
        } else {
            text.clone()
        }
    };
    let (code, detail) = match status.as_u16() {
        400 => ("bad_request", or("the request cannot be read")),
        404 => ("not_found", "no such resource".to_string()),
        405 => (
            "method_not_allowed",
            "this route does not take this method (see Allow)".to_string(),
        ),
        408 => ("request_timeout", "the request was not received in time".to_string()),
        413 => (
            "payload_too_large",
            format!(
                "the request body is over the limit of {} MiB",
                MAX_BODY_BYTES / (1024 * 1024)
            ),
        ),
        414 => (
            "uri_too_long",
            format!("the request target is over {MAX_TARGET_BYTES} bytes"),
        ),
        415 => (
            "unsupported_media_type",
            or("the request body must be application/json"),
        ),
        422 => ("unprocessable", or("the request cannot be processed")),
        429 => ("rate_limited", "too many requests".to_string()),
        503 => ("unavailable", "the service is unavailable; retry later".to_string()),
        s if s >= 500 => {
            tracing::error!(status = s, "an error answered without a problem document");
            ("internal", "an internal error occurred; it has been logged".to_string())
        }
        _ => ("error", or("the request failed")),
    };
    let mut p = axum::response::IntoResponse::into_response(crate::problem::Problem::new(status, code, detail));
    for h in [axum::http::header::ALLOW, axum::http::header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&h) {
            p.headers_mut().insert(h, v.clone());
        }
    }
    p
}
