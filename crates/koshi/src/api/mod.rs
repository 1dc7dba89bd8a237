//! The HTTP API under `/api/v1`: JSON, bearer tokens, RFC 9457 problems, OpenAPI 3.1 from the code.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::model::*;
use crate::problem::{FieldError, Problem, ProblemDocument};
use crate::service::{Caller, Service};
pub use crate::session::{Authed, Client, SESSION_COOKIE};
use crate::session::{client_of, session_cookie};

/// Roles of issue 3 (deepened by the security issue).
pub use crate::caller::{ROLES, token_hash};

pub use crate::edge::{MAX_BODY_BYTES, MAX_TARGET_BYTES, problem_for_every_error};

mod admin;
mod documents;
mod pr;

#[derive(OpenApi)]
#[openapi(
    info(title = "Koshi", description = "Residence permits for foreigners and stateless persons in Kazakhstan under the Rules of Order No. 992 (ИС МП).", version = "1"),
    paths(create_application, list_applications, get_application, decide, duplicate, pr::pr_requests, pr::pr_answer, pr::pr_conclusion, pr::pr_approval, pr::pr_return, pr::pr_hearing_notice, pr::pr_hearing, pr::pr_written_position, pr::pr_annulment, pr::pr_transfer, admin::outages, admin::sign_outage_act, admin::outage_act, admin::countersign_outage_act, admin::deliveries, admin::access_log, sign_in, portal_session, who_am_i, sign_out, admin::load_law_data, admin::law_data, admin::move_clock, documents::case_documents, documents::document_pdf, documents::document_signature, documents::document_keys, documents::verify_code, documents::verify_number, documents::journal, documents::application_document),
    components(schemas(
        crate::dto::ApplicationRequest, crate::dto::PrApplicationRequest, crate::dto::SolvencyInput, crate::dto::AgencyAnswerRequest, crate::dto::ConclusionRequest, crate::dto::ReturnRequest, crate::dto::HearingNoticeRequest, crate::dto::HearingRequest, crate::dto::WrittenPositionRequest, crate::dto::ContactInput, crate::dto::AnnulmentRequest, crate::dto::TransferRequest, crate::dto::InvitingPartyInput, crate::dto::PersonInput, crate::dto::FamilyMemberInput, crate::dto::IdentityDocumentInput,
        crate::dto::DocumentInput, crate::dto::AttachmentInput, crate::dto::PaperFilingInput, crate::dto::RepresentativeInput, crate::dto::LateExceptionInput, crate::dto::ApplicationCreated, crate::dto::Receipt,
        crate::dto::Ground, crate::dto::ApplicationView, crate::dto::CheckView, crate::dto::EventView, crate::dto::DecisionRequest, crate::dto::OfficerGround, crate::dto::DuplicateRequest,
        crate::dto::DuplicateIssued, crate::dto::OutageView, crate::dto::OutageActRequest, crate::dto::OutageActView, crate::dto::DeliveryView, crate::dto::QueueItem, crate::dto::QueuePage, admin::AccessView, admin::AccessLogPage, ProblemDocument, FieldError, SignInRequest, SessionView,
        crate::dto::LawDataLoaded, crate::dto::Retimed, crate::dto::NotRetimed,
        crate::dto::DocumentRef, crate::dto::DocumentView, crate::dto::DocumentFileView, crate::dto::Verification, documents::SignatureView, documents::KeySetView, documents::KeyView, documents::VerifyByNumber
    )),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI 3.1 document, generated from the handlers and types.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Errors any operation can answer, besides those it documents itself: every one a problem
/// document (RFC 9457).
const COMMON_ERRORS: [(&str, &str); 12] = [
    (
        "400",
        "The request cannot be read (a query, a header, a control character)",
    ),
    ("401", "No valid token or session"),
    ("403", "The caller's role, unit or party may not do this"),
    ("404", "No such resource"),
    ("405", "The route does not take this method"),
    ("408", "The request was not received in time"),
    ("413", "The body is over the limit"),
    ("414", "The request target is too long"),
    ("415", "The body is not JSON"),
    (
        "422",
        "The body does not satisfy the API or the Rules (the field is named)",
    ),
    ("429", "Too many requests from this client"),
    ("503", "A system Koshi depends on does not answer"),
];

/// The served document: [`openapi`] with every error response as `application/problem+json`
/// and the errors of [`COMMON_ERRORS`] on every operation, so that a client (or a fuzzer) finds
/// every answer Koshi gives described.
pub fn served_openapi() -> Value {
    let mut doc = serde_json::to_value(openapi()).unwrap_or(Value::Null);
    let problem = json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for (method, op) in item.iter_mut() {
                if !["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                    continue;
                }
                let responses = op
                    .as_object_mut()
                    .map(|o| o.entry("responses").or_insert_with(|| json!({})));
                let Some(responses) = responses.and_then(Value::as_object_mut) else {
                    continue;
                };
                for (status, r) in responses.iter_mut() {
                    if status.starts_with('4') || status.starts_with('5') {
                        r["content"] = problem.clone();
                    }
                }
                for (status, description) in COMMON_ERRORS {
                    responses
                        .entry(status.to_string())
                        .or_insert_with(|| json!({"description": description, "content": problem.clone()}));
                }
            }
        }
    }
    doc
}

pub fn router(service: Service) -> Router {
    Router::new()
        .route("/api/v1/applications", post(create_application).get(list_applications))
        .route("/api/v1/applications/{id}", get(get_application))
        .route("/api/v1/applications/{id}/decision", post(decide))
        .route("/api/v1/applications/{id}/duplicates", post(duplicate))
        .route("/api/v1/applications/{id}/requests", post(pr::pr_requests))
        .route("/api/v1/applications/{id}/answers", post(pr::pr_answer))
        .route("/api/v1/applications/{id}/conclusion", post(pr::pr_conclusion))
        .route("/api/v1/applications/{id}/approval", post(pr::pr_approval))
        .route("/api/v1/applications/{id}/approval/return", post(pr::pr_return))
        .route("/api/v1/applications/{id}/hearing/notice", post(pr::pr_hearing_notice))
        .route("/api/v1/applications/{id}/hearing", post(pr::pr_hearing))
        .route(
            "/api/v1/applications/{id}/hearing/position",
            post(pr::pr_written_position),
        )
        .route("/api/v1/applications/{id}/annulment", post(pr::pr_annulment))
        .route("/api/v1/applications/{id}/transfer", post(pr::pr_transfer))
        .route("/api/v1/outages", get(admin::outages))
        .route("/api/v1/outage-acts", post(admin::sign_outage_act))
        .route("/api/v1/outage-acts/{id}", get(admin::outage_act))
        .route(
            "/api/v1/outage-acts/{id}/countersignature",
            post(admin::countersign_outage_act),
        )
        .route("/api/v1/admin/law-data", get(admin::law_data))
        .route("/api/v1/admin/clock", post(admin::move_clock))
        .route("/api/v1/admin/law-data/{kind}", post(admin::load_law_data))
        .route("/api/v1/monitoring/deliveries", get(admin::deliveries))
        .route("/api/v1/applications/{id}/access-log", get(admin::access_log))
        .route("/api/v1/applications/{id}/documents", get(documents::case_documents))
        .route(
            "/api/v1/applications/{id}/documents/application",
            post(documents::application_document),
        )
        .route("/api/v1/documents/{id}", get(documents::document_pdf))
        .route("/api/v1/documents/{id}/signature", get(documents::document_signature))
        .route("/api/v1/verify/{code}", get(documents::verify_code))
        .route("/api/v1/verify", post(documents::verify_number))
        .route("/api/v1/journal", get(documents::journal))
        .route("/.well-known/koshi/document-keys.json", get(documents::document_keys))
        .route("/api/v1/session", post(sign_in).get(who_am_i).delete(sign_out))
        .route("/api/v1/portal/sessions", post(portal_session))
        .route("/api/v1/openapi.json", get(|| async { Json(served_openapi()) }))
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/health/live", get(|| async { Json(json!({"status": "live"})) }))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
        .merge(crate::ui::routes())
        .route_layer(axum::middleware::from_fn(track))
        .fallback(|| async {
            crate::metrics::get().http("unmatched", "-", 404, 0.0);
            Problem::not_found("route")
        })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(strict_edge))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::map_response_with_state(service.clone(), clock_header))
        .layer(axum::middleware::from_fn_with_state(service.clone(), rate_limit_public))
        .layer(axum::middleware::from_fn(request_context))
        .with_state(service)
}

/// Before routing: a path or query with a control character is refused (400), and a request body
/// must be JSON (415), except a law data file (TOML).
async fn strict_edge(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let uri = req.uri();
    if uri.path().len() + uri.query().map_or(0, str::len) > MAX_TARGET_BYTES {
        return Problem::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request target is over {MAX_TARGET_BYTES} bytes"),
        )
        .into_response();
    }
    if let Err(p) = crate::edge::check_target(uri.path(), uri.query()) {
        return Problem::from(p).into_response();
    }
    let has_body = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(req.headers().contains_key(axum::http::header::TRANSFER_ENCODING), |n| {
            n > 0
        });
    // The web app's forms are posted as forms (the desk intake's, with a ЦОН's electronic copies,
    // and the cabinet's signed files, as multipart); every API body is JSON.
    let content_type = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let form = (uri.path().starts_with("/ui/") || uri.path() == "/verify" || uri.path() == "/cabinet/sign-out")
        && content_type.is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
        || matches!(uri.path(), "/ui/intake" | "/cabinet/sign-in" | "/cabinet/requests")
            && content_type.is_some_and(|v| v.starts_with("multipart/form-data"));
    if has_body && !form && !uri.path().starts_with("/api/v1/admin/law-data/") {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case("application/json")
            })
            .unwrap_or(false);
        if !json {
            return Problem::from(crate::edge::not_json()).into_response();
        }
    }
    next.run(req).await
}

/// The caller's work queue: the cases it may read, filtered, by legal deadline, a page at a
/// time; `format=csv` (or `Accept: text/csv`) gives the filtered list as CSV.
#[utoipa::path(
    get, path = "/api/v1/applications",
    params(crate::dto::QueueParams),
    responses(
        (status = 200, description = "A page of the work queue (JSON), or the filtered list as CSV (`format=csv`)", content(
            (crate::dto::QueuePage = "application/json"),
            (String = "text/csv")
        )),
        (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 422, body = ProblemDocument)
    )
)]
async fn list_applications(
    State(s): State<Service>,
    Authed(caller): Authed,
    headers: HeaderMap,
    axum::extract::Query(p): axum::extract::Query<crate::queue::QueueParams>,
) -> Result<Response, Problem> {
    let wants_csv = p.format.as_deref() == Some("csv")
        || headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.starts_with("text/csv"));
    match p.format.as_deref() {
        None | Some("json") | Some("csv") => {}
        Some(_) => {
            return Err(Problem::unprocessable(
                "invalid_query",
                "/format",
                "format is json or csv",
            ));
        }
    }
    if wants_csv {
        let csv = s.queue_csv(&caller, &p).await?;
        return Ok((
            [
                (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    "attachment; filename=\"koshi-applications.csv\"",
                ),
            ],
            csv,
        )
            .into_response());
    }
    Ok(Json(s.queue_for(&caller, &p).await?).into_response())
}

/// Gives each request an id (the caller's `X-Request-Id` when acceptable, else a new one),
/// answered in `X-Request-Id`, carried by the request's log span and by the work it starts, and
/// sent to the registries it asks. A failure (5xx) is logged with it; no personal data is.
async fn request_context(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let id: std::sync::Arc<str> = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| koshi_registries::context::acceptable(v))
        .map_or_else(
            || uuid::Uuid::now_v7().simple().to_string().into(),
            std::sync::Arc::from,
        );
    let method = req.method().clone();
    let span = tracing::info_span!("request", request_id = %id, method = %method);
    let started = std::time::Instant::now();
    let mut r = tracing::Instrument::instrument(
        koshi_registries::context::scope(id.clone(), next.run(req)),
        span.clone(),
    )
    .await;
    let status = r.status().as_u16();
    let ms = started.elapsed().as_millis() as u64;
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, ms, "request failed");
        } else {
            tracing::debug!(status, ms, "request");
        }
    });
    if let Ok(v) = axum::http::HeaderValue::from_str(&id) {
        r.headers_mut().insert("x-request-id", v);
    }
    r
}

/// Counts each routed request by its route template (never the path: ids stay out of metrics)
/// and times it.
async fn track(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let method = req.method().as_str().to_string();
    let r = next.run(req).await;
    crate::metrics::get().http(&route, &method, r.status().as_u16(), started.elapsed().as_secs_f64());
    r
}

/// Ready to take requests: the schema is the one this build expects and a write commits within
/// three seconds. A load balancer sends nothing to an instance that answers 503.
async fn ready(State(s): State<Service>) -> Response {
    let at = koshi_store::instant(s.now());
    match tokio::time::timeout(std::time::Duration::from_secs(3), s.store.ready(&s.instance_id, &at)).await {
        Ok(Ok(())) => {
            let tls = s.store.encrypted().await.ok().flatten();
            Json(json!({"status": "ready", "backend": s.store.backend(), "database_tls": tls})).into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "not ready");
            Problem::unavailable("the database cannot be written or its schema is not this build's").into_response()
        }
        Err(_) => Problem::unavailable("the database did not commit a write within 3 seconds").into_response(),
    }
}

/// `/metrics`: the Prometheus text format (OpenMetrics), for a token that may `metrics.read`.
async fn metrics(State(s): State<Service>, Authed(caller): Authed) -> Result<Response, Problem> {
    s.authz.allow(&caller, "metrics.read")?;
    let text = crate::metrics::get().render(&s.store, s.now()).await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// Drill mode: every answer says the clock is simulated, and what it reads.
async fn clock_header(State(s): State<Service>, mut r: Response) -> Response {
    if s.config.drill_clock.is_some() {
        let v = format!("simulated; now={}", koshi_store::instant(s.now()));
        if let Ok(v) = axum::http::HeaderValue::from_str(&v) {
            r.headers_mut().insert("koshi-clock", v);
        }
    }
    r
}

/// Headers on every answer: no sniffing, no framing, no referrer, no caching of personal data,
/// and a content policy that allows nothing (the API serves JSON only).
async fn security_headers(mut r: Response) -> Response {
    use axum::http::HeaderValue;
    let html = r
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let h = r.headers_mut();
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert("cache-control", HeaderValue::from_static("no-store"));
    h.insert(
        "content-security-policy",
        if html {
            // The web app's pages: their own stylesheet and forms, nothing else, no script.
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            )
        } else {
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'")
        },
    );
    r
}

/// Public endpoints and requests whose token does not authenticate are limited per client, so
/// that nobody can probe tokens or load the service anonymously.
async fn rate_limit_public(
    State(s): State<Service>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path();
    let public = path == "/health"
        || path == "/health/live"
        || path == "/health/ready"
        || path == "/api/v1/openapi.json"
        || path.starts_with("/verify")
        || path.starts_with("/api/v1/verify")
        || path.starts_with("/.well-known/")
        || ((path == "/api/v1/session" || path == "/api/v1/portal/sessions" || path == "/ui/sign-in")
            && req.method() == axum::http::Method::POST);
    let client = client_of(&s, req.extensions(), req.headers());
    if public && let Err(retry) = s.public_limiter.hit(&client) {
        return too_many(retry);
    }
    let r = next.run(req).await;
    if r.status() == StatusCode::UNAUTHORIZED
        && !public
        && let Err(retry) = s.public_limiter.hit(&client)
    {
        return too_many(retry);
    }
    r
}

fn too_many(retry_after: u64) -> Response {
    let mut r = Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests; retry in {retry_after} seconds"),
    )
    .into_response();
    if let Ok(v) = retry_after.to_string().parse() {
        r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    r
}

/// The detached ЭЦП of a portal body (`Koshi-Signature`, base64), if given.
fn signature_header(headers: &HeaderMap) -> Result<Option<Vec<u8>>, Problem> {
    headers
        .get("koshi-signature")
        .map(|v| {
            use base64::Engine;
            let text = v
                .to_str()
                .map_err(|_| Problem::bad_request("invalid_signature_header", "Koshi-Signature must be base64"))?;
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| {
                    Problem::bad_request(
                        "invalid_signature_header",
                        "Koshi-Signature must be base64 (standard alphabet)",
                    )
                })
        })
        .transpose()
}

#[utoipa::path(
    post, path = "/api/v1/portal/sessions",
    request_body = crate::dto::SignInStatement,
    params(("Koshi-Signature" = String, Header, description = "A detached CMS/PKCS#7 signature over the exact body, base64, by the inviting party's ЭЦП")),
    responses((status = 201, description = "A token bound to the IIN or BIN the certificate proves; every read and filing it makes is that party's own", body = crate::dto::PortalSession), (status = 409, body = ProblemDocument), (status = 422, body = ProblemDocument), (status = 503, body = ProblemDocument))
)]
async fn portal_session(State(s): State<Service>, headers: HeaderMap, body: Bytes) -> Result<Response, Problem> {
    let cms = signature_header(&headers)?;
    let session = s.portal_sign_in(&body, cms.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(session)).into_response())
}

fn require(s: &Service, caller: &Caller, action: &str) -> Result<(), Problem> {
    s.authz.allow(caller, action).map(|_| ()).map_err(Problem::from)
}

pub(crate) use crate::edge::parse_body;

#[utoipa::path(
    post, path = "/api/v1/applications", request_body = crate::dto::ApplicationRequest,
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "A retried POST with the same key returns the same case"),
        ("Koshi-Signature" = Option<String>, Header, description = "Portal (п. 8): a detached CMS/PKCS#7 signature over the exact request body, base64")
    ),
    responses(
        (status = 201, description = "Receipt of acceptance (App. 1-2) or of refusal to accept (App. 1-3)", body = crate::dto::ApplicationCreated),
        (status = 400, body = ProblemDocument), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument),
        (status = 413, body = ProblemDocument), (status = 422, body = ProblemDocument)
    )
)]
async fn create_application(
    State(s): State<Service>,
    Authed(caller): Authed,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    require(&s, &caller, "application.file")?;
    // Chapter 3 (PR) or chapter 2 (RVP), by the body's kind.
    let is_pr = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str().map(|k| k == "pr")))
        == Some(true);
    let created = if is_pr {
        let req: crate::model::PrApplicationRequest = parse_body(&body)?;
        let key = idempotency_key(&headers)?;
        s.file_pr(&caller, req, key.as_deref(), &hex::encode(Sha256::digest(&body)))
            .await?
    } else {
        let req: ApplicationRequest = parse_body(&body)?;
        let key = idempotency_key(&headers)?;
        let signature = signature_header(&headers)?;
        let signed = crate::service::SignedBody {
            body: &body,
            hash: hex::encode(Sha256::digest(&body)),
            signature,
        };
        s.file(&caller, req, key.as_deref(), &signed).await?
    };
    let location = format!("/api/v1/applications/{}", created.id);
    let mut r = (StatusCode::CREATED, Json(created)).into_response();
    if let Ok(v) = location.parse() {
        r.headers_mut().insert(axum::http::header::LOCATION, v);
    }
    Ok(r)
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_string))
        .transpose()
        .map_err(|_| Problem::bad_request("invalid_idempotency_key", "Idempotency-Key must be visible ASCII"))
}

#[utoipa::path(
    get, path = "/api/v1/applications/{id}", params(("id" = String, Path)),
    responses((status = 200, body = crate::dto::ApplicationView), (status = 401, body = ProblemDocument), (status = 404, body = ProblemDocument))
)]
async fn get_application(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<ApplicationView>, Problem> {
    Ok(Json(s.view_for(&caller, &id).await?))
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/decision", params(("id" = String, Path)), request_body = crate::dto::DecisionRequest,
    responses((status = 200, description = "The decision"), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 404, body = ProblemDocument), (status = 409, body = ProblemDocument), (status = 422, body = ProblemDocument))
)]
async fn decide(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    require(&s, &caller, "application.decide")?;
    let d: DecisionRequest = parse_body(&body)?;
    Ok(Json(s.decide(&caller, &id, d).await?))
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/duplicates", params(("id" = String, Path)), request_body = crate::dto::DuplicateRequest,
    responses((status = 201, body = crate::dto::DuplicateIssued), (status = 401, body = ProblemDocument), (status = 404, body = ProblemDocument), (status = 409, body = ProblemDocument))
)]
async fn duplicate(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    require(&s, &caller, "application.duplicate")?;
    let d: DuplicateRequest = parse_body(&body)?;
    Ok((StatusCode::CREATED, Json(s.duplicate(&caller, &id, d).await?)).into_response())
}

/// `POST /api/v1/session`
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
}

/// The signed-in person.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub username: String,
    pub role: String,
    pub unit: String,
    pub post: String,
    /// Send it as `X-CSRF-Token` with every change.
    pub csrf_token: Option<String>,
    pub expires_at: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/session", request_body = SignInRequest, security(()),
    responses((status = 201, description = "Signed in; the session cookie is set (HttpOnly, Secure, SameSite=Strict)", body = SessionView), (status = 401, body = ProblemDocument), (status = 429, body = ProblemDocument))
)]
async fn sign_in(State(s): State<Service>, Client(client): Client, body: Bytes) -> Result<Response, Problem> {
    let req: SignInRequest = parse_body(&body)?;
    let opened = crate::accounts::sign_in(
        &s.store,
        &s.sign_in_limiter,
        &req.username,
        &req.password,
        &client,
        s.now(),
    )
    .await?;
    let cookie = crate::session::session_set_cookie(&opened.secret);
    let view = SessionView {
        username: opened.user.username,
        role: opened.user.role,
        unit: opened.user.unit,
        post: opened.user.post,
        csrf_token: Some(opened.csrf_token),
        expires_at: Some(koshi_store::instant(opened.expires_at)),
    };
    let mut r = (StatusCode::CREATED, Json(view)).into_response();
    if let Some(v) = cookie {
        r.headers_mut().insert(axum::http::header::SET_COOKIE, v);
    }
    Ok(r)
}

#[utoipa::path(get, path = "/api/v1/session", responses((status = 200, body = SessionView), (status = 401, body = ProblemDocument)))]
async fn who_am_i(State(s): State<Service>, headers: HeaderMap) -> Result<Json<SessionView>, Problem> {
    let secret = session_cookie(&headers).ok_or_else(|| Problem::unauthorized("no session"))?;
    let (session, user) = crate::accounts::session(&s.store, &secret, s.now())
        .await?
        .ok_or_else(|| Problem::unauthorized("the session has ended; sign in again"))?;
    Ok(Json(SessionView {
        username: user.username,
        role: user.role,
        unit: user.unit,
        post: user.post,
        csrf_token: Some(session.csrf_token),
        expires_at: Some(session.expires_at),
    }))
}

#[utoipa::path(delete, path = "/api/v1/session", responses((status = 204, description = "Signed out"), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument)))]
async fn sign_out(State(s): State<Service>, Authed(_caller): Authed, headers: HeaderMap) -> Result<Response, Problem> {
    let secret = session_cookie(&headers).ok_or_else(|| Problem::unauthorized("no session"))?;
    crate::accounts::sign_out(&s.store, &secret, s.now()).await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert(axum::http::header::SET_COOKIE, crate::session::session_cleared_cookie());
    Ok(r)
}
