//! The server side of the registry gateway contract, from a simulator (what `koshi registry-sim`
//! runs, and what the tests and drills call over HTTP). Behind the `gateway-simulator` feature,
//! so that the case core, which only calls registries, does not build an HTTP server.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::http::{ErrorBody, HouseholdQuery};
use crate::sim::Simulator;
use crate::{Berkut, Fingerprints, GbdFl, HouseholdRvps, Kpsisu, PendingPr, PersonQuery, PoliceRecords};
use crate::{RegistryError, RegistryResult};

type Sim = State<Arc<Simulator>>;

/// Serves the contract from a simulator (what `koshi registry-sim` runs).
pub fn router(sim: Arc<Simulator>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/berkut", post(berkut))
        .route("/police_records", post(police_records))
        .route("/kpsisu", post(kpsisu))
        .route("/gbd_fl", post(gbd_fl))
        .route("/household_rvps", post(household_rvps))
        .route("/pending_pr", post(pending_pr))
        .route("/fingerprints", post(fingerprints))
        .with_state(sim)
}

/// Serves [`router`] on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, sim: Arc<Simulator>) -> std::io::Result<()> {
    axum::serve(listener, router(sim)).await
}

fn error_response(status: StatusCode, message: String) -> Response {
    (status, axum::Json(ErrorBody { error: message })).into_response()
}

/// The body is read by hand, not with axum's `Json`, so that a malformed query is answered
/// without echoing its contents.
fn parse<Q: DeserializeOwned>(body: &[u8]) -> Option<Q> {
    serde_json::from_slice(body).ok()
}

fn bad_request() -> Response {
    error_response(
        StatusCode::BAD_REQUEST,
        "the request body is not a valid query".to_string(),
    )
}

fn reply<A: Serialize>(answer: RegistryResult<A>) -> Response {
    match answer {
        Ok(a) => (StatusCode::OK, axum::Json(a)).into_response(),
        Err(e @ RegistryError::Unavailable(_)) => error_response(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Err(e @ RegistryError::Timeout) => error_response(StatusCode::GATEWAY_TIMEOUT, e.to_string()),
        Err(e @ RegistryError::BadAnswer(_)) => error_response(StatusCode::BAD_GATEWAY, e.to_string()),
    }
}

async fn health() -> Response {
    (StatusCode::OK, axum::Json(serde_json::json!({ "status": "ok" }))).into_response()
}

async fn berkut(State(sim): Sim, body: Bytes) -> Response {
    match parse::<PersonQuery>(&body) {
        Some(q) => reply(sim.border_crossings(&q).await),
        None => bad_request(),
    }
}

async fn police_records(State(sim): Sim, body: Bytes) -> Response {
    match parse::<PersonQuery>(&body) {
        Some(q) => reply(sim.police_records(&q).await),
        None => bad_request(),
    }
}

async fn kpsisu(State(sim): Sim, body: Bytes) -> Response {
    match parse::<PersonQuery>(&body) {
        Some(q) => reply(sim.kpsisu_records(&q).await),
        None => bad_request(),
    }
}

async fn gbd_fl(State(sim): Sim, body: Bytes) -> Response {
    match parse::<PersonQuery>(&body) {
        Some(q) => reply(sim.iin(&q).await),
        None => bad_request(),
    }
}

async fn household_rvps(State(sim): Sim, body: Bytes) -> Response {
    match parse::<HouseholdQuery>(&body) {
        Some(q) => reply(sim.household_rvps(&q.employer_iin, q.on).await),
        None => bad_request(),
    }
}

async fn pending_pr(State(sim): Sim, body: Bytes) -> Response {
    match parse::<PersonQuery>(&body) {
        Some(q) => reply(sim.pending_pr(&q).await),
        None => bad_request(),
    }
}

async fn fingerprints(State(sim): Sim, body: Bytes) -> Response {
    match parse::<PersonQuery>(&body) {
        Some(q) => reply(sim.fingerprints(&q).await),
        None => bad_request(),
    }
}
