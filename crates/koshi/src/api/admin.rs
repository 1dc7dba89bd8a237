//! Law data, the drill clock, the outage journal and acts of failure, and monitoring deliveries.

use crate::problem::{Problem, ProblemDocument};
use crate::service::Service;
use crate::session::Authed;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::*;

#[derive(Debug, Deserialize)]
pub(super) struct ListQuery {
    application_id: Option<String>,
    limit: Option<i64>,
}

#[utoipa::path(
    post, path = "/api/v1/admin/law-data/{kind}",
    params(("kind" = String, Path, description = "`calendar` (a year file: schema 1 and its [[year]] tables) or `mci` (schema 1 and its [[mci]] tables)")),
    request_body(content = String, content_type = "application/toml"),
    responses(
        (status = 201, description = "Loaded, applied at once and on every instance within a second; the open cases' terms recomputed (never an announced date earlier)", body = crate::dto::LawDataLoaded),
        (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 404, body = ProblemDocument),
        (status = 413, body = ProblemDocument), (status = 415, body = ProblemDocument), (status = 422, body = ProblemDocument)
    )
)]
pub(super) async fn load_law_data(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    require(&s, &caller, "law_data.load")?;
    let media = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    if media.as_deref() != Some("application/toml") {
        return Err(Problem::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "a law data file is sent as Content-Type: application/toml",
        ));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| Problem::bad_request("invalid_encoding", "a law data file is UTF-8 text"))?;
    let loaded = s.load_law_data(&caller.actor(), &kind, text).await?;
    Ok((axum::http::StatusCode::CREATED, Json(loaded)).into_response())
}

/// A move of a drill's simulated clock.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockMove {
    /// An ISO 8601 duration to move ahead by, e.g. `PT2H`.
    pub advance: Option<String>,
    /// An instant to move to (never backwards), e.g. `2026-12-30T19:00:00+05:00`.
    pub set: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/admin/clock", request_body = ClockMove,
    responses(
        (status = 200, description = "Drill mode only: the simulated clock moved ahead; the legal clocks due by then fire on the next background pass"),
        (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument),
        (status = 409, description = "Koshi runs on the real clock", body = ProblemDocument), (status = 422, body = ProblemDocument)
    )
)]
pub(super) async fn move_clock(
    State(s): State<Service>,
    Authed(caller): Authed,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    require(&s, &caller, "clock.move")?;
    let m: ClockMove = parse_body(&body)?;
    let moved = s
        .move_drill_clock(&caller.actor(), m.advance.as_deref(), m.set.as_deref())
        .await?;
    // The legal clocks now due fire at once rather than on the next second's pass.
    s.tick().await?;
    Ok(Json(moved))
}

#[utoipa::path(
    get, path = "/api/v1/admin/law-data",
    responses((status = 200, description = "The calendar's years with their status and source, the MCI by year, and every load of law data made while Koshi ran"), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument))
)]
pub(super) async fn law_data(State(s): State<Service>, Authed(caller): Authed) -> Result<Json<Value>, Problem> {
    require(&s, &caller, "law_data.read")?;
    s.refresh_law().await?;
    let law = s.law();
    let years: Vec<Value> = law
        .calendar
        .data_years()
        .iter()
        .map(|y| json!({"year": y.year, "status": y.status.code(), "source": y.source, "kurban_ait": y.kurban_ait.map(|d| d.to_string()), "transfers": y.transfers.len()}))
        .collect();
    let mci: Vec<Value> = law
        .params
        .mci
        .iter()
        .map(|m| json!({"year": m.year, "tenge": m.tenge, "status": m.status.as_str(), "source": m.source}))
        .collect();
    let loads: Vec<Value> = s
        .store
        .law_data_loads()
        .await?
        .into_iter()
        .map(|l| json!({"id": l.id, "kind": l.kind, "sha256": l.sha256, "summary": l.summary, "loaded_by": l.loaded_by, "loaded_at": l.loaded_at}))
        .collect();
    Ok(Json(json!({
        "calendar": {"years": years, "later_years": "provisional", "provisional_basis": koshi_law::calendar::PROVISIONAL_BASIS},
        "mci": mci,
        "loads": loads,
    })))
}

#[utoipa::path(
    post, path = "/api/v1/outage-acts",
    request_body = crate::dto::OutageActRequest,
    responses((status = 201, description = "The act of failure (п. 9-1 абз. 13 пп. 1), signed by the ЦОН that took the earlier application during a journaled outage; the police body countersigns it", body = crate::dto::OutageActView), (status = 403, body = ProblemDocument), (status = 409, body = ProblemDocument), (status = 422, body = ProblemDocument))
)]
pub(super) async fn sign_outage_act(
    State(s): State<Service>,
    Authed(caller): Authed,
    body: Bytes,
) -> Result<Response, Problem> {
    require(&s, &caller, "outage_act.sign")?;
    let r: OutageActRequest = parse_body(&body)?;
    let act = s.sign_outage_act(&caller, r).await?;
    Ok((StatusCode::CREATED, Json(act)).into_response())
}

#[utoipa::path(
    get, path = "/api/v1/outage-acts/{id}",
    params(("id" = String, Path)),
    responses((status = 200, body = crate::dto::OutageActView), (status = 404, body = ProblemDocument))
)]
pub(super) async fn outage_act(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<OutageActView>, Problem> {
    require(&s, &caller, "outage_act.read")?;
    Ok(Json(s.outage_act_view(&caller, &id).await?))
}

#[utoipa::path(
    post, path = "/api/v1/outage-acts/{id}/countersignature",
    params(("id" = String, Path)),
    responses((status = 200, description = "Countersigned by the police body of the earlier application", body = crate::dto::OutageActView), (status = 403, body = ProblemDocument), (status = 404, body = ProblemDocument), (status = 409, body = ProblemDocument))
)]
pub(super) async fn countersign_outage_act(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<OutageActView>, Problem> {
    require(&s, &caller, "outage_act.countersign")?;
    Ok(Json(s.countersign_outage_act(&caller, &id).await?))
}

#[utoipa::path(
    get, path = "/api/v1/outages",
    responses((status = 200, description = "The outage journal of п. 9-5", body = [crate::dto::OutageView]), (status = 401, body = ProblemDocument))
)]
pub(super) async fn outages(
    State(s): State<Service>,
    Authed(caller): Authed,
) -> Result<Json<Vec<OutageView>>, Problem> {
    require(&s, &caller, "outages.read")?;
    let rows = s.store.outages(500).await?;
    Ok(Json(
        rows.into_iter()
            .map(|o| OutageView {
                id: o.id,
                registry: o.registry,
                started_at: o.started_at,
                ended_at: o.ended_at,
                journaled_at: o.journaled_at,
                failed_attempts: o.failed_attempts,
                delayed: o.delayed,
                action: o.action,
                last_error: o.last_error,
                citation: "п. 9-5".into(),
            })
            .collect(),
    ))
}

#[utoipa::path(
    get, path = "/api/v1/monitoring/deliveries",
    params(("application_id" = Option<String>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, description = "Outbox messages with their delivery state (п. 9-4): a case's in the order they were queued; without `application_id`, the newest first", body = [crate::dto::DeliveryView]), (status = 401, body = ProblemDocument))
)]
pub(super) async fn deliveries(
    State(s): State<Service>,
    Authed(caller): Authed,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<DeliveryView>>, Problem> {
    // An officer reads the deliveries of the cases of the bodies the unit serves, one case at a
    // time; monitoring and audit read every delivery.
    if s.authz.allow(&caller, "deliveries.read")? == crate::authz::Scope::OwnUnits {
        let Some(id) = q.application_id.as_deref() else {
            return Err(Problem::unprocessable(
                "application_id_required",
                "/application_id",
                "an officer reads the deliveries of one case of the police bodies the unit serves",
            ));
        };
        let app = s
            .store
            .application(id)
            .await?
            .ok_or_else(|| Problem::not_found("application"))?;
        s.authz
            .allow_case(&caller, "deliveries.read", &app.unit, &app.filed_unit)?;
    }
    let rows = s
        .store
        .outbox(q.application_id.as_deref(), q.limit.unwrap_or(200).clamp(1, 1000))
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|m| DeliveryView {
                id: m.id,
                topic: m.topic,
                application_id: m.application_id,
                state: m.state,
                attempts: m.attempts,
                created_at: m.created_at,
                next_attempt_at: m.next_attempt_at,
                delivered_at: m.delivered_at,
                last_error: m.last_error,
                payload: serde_json::from_str(&m.payload).unwrap_or(Value::Null),
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AccessLogQuery {
    /// The `next` of the previous page.
    before: Option<String>,
    limit: Option<i64>,
}

/// One read of a case's personal data.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessView {
    pub at: String,
    /// Who read it: role, unit and token or account.
    pub actor: String,
    /// What was read.
    pub fields: String,
}

/// A page of a case's access log, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLogPage {
    pub items: Vec<AccessView>,
    /// Pass as `before` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/applications/{id}/access-log",
    params(("id" = String, Path), ("before" = Option<String>, Query), ("limit" = Option<i64>, Query, description = "1–500, default 100")),
    responses((status = 200, description = "Who read the case's personal data and when (the auditor's), newest first, a page at a time", body = AccessLogPage), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 404, body = ProblemDocument))
)]
pub(super) async fn access_log(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    Query(q): Query<AccessLogQuery>,
) -> Result<Json<AccessLogPage>, Problem> {
    let (rows, next) = s
        .access_log(&caller, &id, q.before.as_deref(), q.limit.unwrap_or(100))
        .await?;
    let items = rows
        .into_iter()
        .map(|e| AccessView {
            fields: serde_json::from_str::<Value>(&e.detail)
                .ok()
                .and_then(|d| d["fields"].as_str().map(String::from))
                .unwrap_or_default(),
            at: e.at,
            actor: e.actor,
        })
        .collect();
    Ok(Json(AccessLogPage { items, next }))
}
