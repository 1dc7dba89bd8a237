//! The PR handlers (chapter 3): requests, answers, conclusion, approval, hearing, annulment, transfer.

use crate::problem::{Problem, ProblemDocument};
use crate::service::Service;
use crate::session::Authed;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde_json::Value;

use super::*;

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/requests", params(("id" = String, Path)),
    responses((status = 200, description = "п. 14 пп. 2–3: the requests went out, with their answer deadlines"), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 404, body = ProblemDocument), (status = 409, body = ProblemDocument))
)]
pub(super) async fn pr_requests(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    require(&s, &caller, "application.pr_requests")?;
    Ok(Json(s.send_pr_requests(&caller, &id).await?))
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/answers", params(("id" = String, Path)), request_body = crate::dto::AgencyAnswerRequest,
    responses((status = 200, description = "The answer is recorded; the last one opens the conclusion window (п. 14 пп. 4)"), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 404, body = ProblemDocument), (status = 409, body = ProblemDocument), (status = 422, body = ProblemDocument))
)]
pub(super) async fn pr_answer(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    require(&s, &caller, "application.agency_answer")?;
    let a: crate::model::AgencyAnswerRequest = parse_body(&body)?;
    Ok(Json(s.record_agency_answer(&caller, &id, a).await?))
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/conclusion", params(("id" = String, Path)), request_body = crate::dto::ConclusionRequest,
    responses((status = 200, description = "The conclusion (App. 9) is drafted; a refusal goes to a hearing (п. 17)"), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 404, body = ProblemDocument), (status = 409, body = ProblemDocument), (status = 422, body = ProblemDocument))
)]
pub(super) async fn pr_conclusion(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    require(&s, &caller, "application.pr_conclusion")?;
    let c: crate::model::ConclusionRequest = parse_body(&body)?;
    Ok(Json(s.draft_conclusion(&caller, &id, c).await?))
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/approval", params(("id" = String, Path)),
    responses((status = 200, description = "Approved by an authorised post (п. 15); the permit is issued or refused and the notice (App. 10) goes out"), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 404, body = ProblemDocument), (status = 409, body = ProblemDocument))
)]
pub(super) async fn pr_approval(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    require(&s, &caller, "application.pr_approve")?;
    Ok(Json(s.approve_conclusion(&caller, &id).await?))
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/approval/return", params(("id" = String, Path)), request_body = crate::dto::ReturnRequest,
    responses((status = 200, description = "Not approved: the drafted conclusion goes back to the officer with the comment (п. 15 абз. 2); the case is again due a conclusion"), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 404, body = ProblemDocument), (status = 409, body = ProblemDocument), (status = 422, body = ProblemDocument))
)]
pub(super) async fn pr_return(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, Problem> {
    require(&s, &caller, "application.pr_approve")?;
    let r: crate::model::ReturnRequest = parse_body(&body)?;
    Ok(Json(s.return_conclusion(&caller, &id, &r.comment).await?))
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/hearing/notice", params(("id" = String, Path)), request_body = crate::dto::HearingNoticeRequest,
    responses((status = 200, description = "The hearing notice (п. 17) went out"), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 409, body = ProblemDocument), (status = 422, body = ProblemDocument))
)]
pub(super) async fn pr_hearing_notice(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    require(&s, &caller, "application.pr_conclusion")?;
    let h: crate::model::HearingNoticeRequest = parse_body(&body)?;
    Ok(Json(s.notify_hearing(&caller, &id, h).await?))
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/hearing/position", params(("id" = String, Path)), request_body = crate::dto::WrittenPositionRequest,
    responses((status = 200, description = "The applicant's written position, received before the hearing, is on the case (п. 17)"), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 409, body = ProblemDocument), (status = 422, body = ProblemDocument))
)]
pub(super) async fn pr_written_position(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    require(&s, &caller, "application.pr_conclusion")?;
    let w: crate::model::WrittenPositionRequest = parse_body(&body)?;
    Ok(Json(s.record_written_position(&caller, &id, w).await?))
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/hearing", params(("id" = String, Path)), request_body = crate::dto::HearingRequest,
    responses((status = 200, description = "The hearing is recorded with the applicant's position (п. 17)"), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 409, body = ProblemDocument), (status = 422, body = ProblemDocument))
)]
pub(super) async fn pr_hearing(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    require(&s, &caller, "application.pr_conclusion")?;
    let h: crate::model::HearingRequest = parse_body(&body)?;
    Ok(Json(s.hold_hearing(&caller, &id, h).await?))
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/annulment", params(("id" = String, Path)), request_body = crate::dto::AnnulmentRequest,
    responses((status = 200, description = "The conclusion of annulment (App. 11) is drafted; it is approved like any conclusion (п. 15)"), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 409, body = ProblemDocument), (status = 422, body = ProblemDocument))
)]
pub(super) async fn pr_annulment(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    require(&s, &caller, "application.pr_conclusion")?;
    let a: crate::model::AnnulmentRequest = parse_body(&body)?;
    Ok(Json(s.draft_annulment(&caller, &id, a).await?))
}

#[utoipa::path(
    post, path = "/api/v1/applications/{id}/transfer", params(("id" = String, Path)), request_body = crate::dto::TransferRequest,
    responses((status = 200, description = "The new police body took the case file (п. 17-1)"), (status = 401, body = ProblemDocument), (status = 403, body = ProblemDocument), (status = 409, body = ProblemDocument), (status = 422, body = ProblemDocument))
)]
pub(super) async fn pr_transfer(
    State(s): State<Service>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, Problem> {
    require(&s, &caller, "application.pr_transfer")?;
    let t: crate::model::TransferRequest = parse_body(&body)?;
    Ok(Json(s.transfer_case(&caller, &id, t).await?))
}
