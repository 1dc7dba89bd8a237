//! The OpenAPI schemas of the shapes that live beside the use cases: the work queue
//! (`koshi_cases::queue`), the portal's sign-in (`koshi_cases::portal`) and the loading of law
//! data (`koshi_cases::lawdata`); held equal to them by `super::tests`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The filters of a work queue.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// `open` (default: the work still to do), `closed` (decided, refused, annulled) or `all`.
    pub state: Option<String>,
    /// `rvp` or `pr`.
    pub service: Option<String>,
    /// Statuses, comma-separated (e.g. `checking,awaiting_officer`).
    pub status: Option<String>,
    /// One unit (of those the caller reaches).
    pub unit: Option<String>,
    /// `police_desk`, `con` or `portal`.
    pub channel: Option<String>,
    /// The purpose (RVP) or ground (PR) code.
    pub purpose: Option<String>,
    /// Only open cases past their legal deadline (due before today, or today after working hours).
    pub overdue: Option<bool>,
    /// Only open cases on the last day of their term, within working hours.
    pub at_risk: Option<bool>,
    /// Only open cases due on or before this date (YYYY-MM-DD).
    pub due_before: Option<String>,
    /// An id, a receipt or permit number, or text of the filing (a name, a document number).
    pub q: Option<String>,
    /// The cases an officer acted on (took at the desk, decided, drafted, heard…): an account's
    /// username, or `me`.
    pub officer: Option<String>,
    /// `deadline` (default: soonest legal deadline first) or `filed` (newest first).
    pub sort: Option<String>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
    /// 1–200, default 50 (CSV: up to 10,000).
    pub limit: Option<i64>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// One case in a work queue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueItem {
    pub id: String,
    pub service: String,
    pub status: String,
    pub channel: String,
    pub unit: String,
    pub filed_unit: String,
    pub purpose: String,
    pub filed_at: String,
    pub accepted_on: Option<String>,
    /// The legal decision date (the term's last day).
    pub due_on: Option<String>,
    pub overdue: bool,
    pub at_risk: bool,
    pub receipt_number: Option<String>,
    pub permit_number: Option<String>,
}

/// A page of a work queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The cases the filters select (all statuses, before paging), by status.
    pub counts: std::collections::BTreeMap<String, i64>,
}

/// The statement an inviting party signs to sign in (the body of `POST /api/v1/portal/sessions`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInStatement {
    /// Always `koshi.portal.sign_in`.
    pub purpose: String,
    /// When the party signed it (RFC 3339); within five minutes of the server's clock.
    pub signed_at: String,
    /// A random value of 16 to 128 characters, never used before.
    pub nonce: String,
    /// Sign in for the organisation (its BIN) rather than for oneself (the IIN).
    #[serde(default)]
    pub as_organisation: bool,
}

/// A portal token bound to the party.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalSession {
    /// The bearer token (shown once).
    pub token: String,
    /// The IIN or BIN the token acts for.
    pub party: String,
    pub expires_at: String,
}

/// What a load did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LawDataLoaded {
    pub id: String,
    /// `calendar` or `mci`
    pub kind: String,
    pub sha256: String,
    /// One line per year loaded, with its status and source.
    pub summary: String,
    pub loaded_at: String,
    /// Open cases whose terms changed.
    pub recomputed: Vec<Retimed>,
    /// Open cases whose terms could not be read: each is named for an officer, none changed.
    pub not_recomputed: Vec<NotRetimed>,
    /// Pending legal clocks placed again on the loaded calendar.
    pub clocks_moved: usize,
}

/// An open case whose terms a calendar load changed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Retimed {
    pub application_id: String,
    pub accepted_on: [String; 2],
    pub due_on: [String; 2],
    /// The recomputed term fell before the one announced to the applicant, which was kept.
    pub announced_kept: bool,
    pub calendar_status: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotRetimed {
    pub application_id: String,
    pub reason: String,
}
