//! The RVP service (chapter 2): intake, the checks of п. 9-1, the decision, delivery, duplicates.
//! Every state change is one store unit: the case row, its audit event and its outbox messages.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use jiff::civil::Date;
use koshi_law::Law;
use koshi_law::citation::{self};
use koshi_law::ident::Iin;
use koshi_law::provenance::FilingInstant;
use koshi_law::requirements::{Channel, SubmittedDocument};
use koshi_law::rvp::LateException;
use koshi_registries::clock::Clock;
use koshi_registries::{PersonQuery, Registries};
use koshi_store::repo::{self, ApplicationRow};
use koshi_store::{Store, instant};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use crate::CaseError;
use crate::delivery::Sink;
use crate::model::*;

pub use crate::caller::Caller;

/// Service configuration.
#[derive(Clone)]
pub struct ServiceConfig {
    /// A clean case is issued without an officer's confirmation (refusals always wait for one).
    pub straight_through: bool,
    /// Largest electronic copy accepted, in bytes.
    pub max_attachment_bytes: usize,
    /// Registries whose data replaces documents at ЦОН and on the portal (п. 5 абз. 3).
    pub integrated_registries: BTreeSet<String>,
    /// How long one registry call may take before it counts as failed.
    pub registry_timeout: std::time::Duration,
    /// Roots (and CRLs) that portal signatures must chain to (п. 8). Without one, portal filings
    /// cannot be verified and are refused with 503.
    pub trust_store: Option<Arc<koshi_sign::TrustStore>>,
    /// The external verification service for GOST 34.310 signatures (no Rust crate verifies them).
    pub gost_verifier: Option<Arc<dyn crate::gost::GostVerifier>>,
    /// Start a filed case's checks at once, in the background. Off, filed cases wait for the
    /// next background pass (`tick`), as a case does whose instance stopped after intake.
    pub process_on_intake: bool,
    /// How long a case whose checks have never run is left, from its filing, to the instance that
    /// took it (which runs them at once) before a background pass of any instance runs them:
    /// several instances on one PostgreSQL would otherwise ask the registries twice for a case
    /// just filed. Zero (one instance): at once, as its own pass knows what it runs.
    pub fresh_checks_grace: std::time::Duration,
    /// Drill mode: the service's clock is this simulated clock, which an administrator moves
    /// (`POST /api/v1/admin/clock`); every answer says so (`Koshi-Clock: simulated`). Only the
    /// command line's `--clock simulated` sets it, never the environment (README, "Drills").
    pub drill_clock: Option<Arc<koshi_registries::clock::SimulatedClock>>,
    /// п. 9-1: the duty officer account (username) per police body in whose name a clean case is
    /// formed without a person (`straight_through`), in working time from the acceptance day
    /// (`koshi_law::rvp::forming_time`). A body without one: the act is prepared and waits for
    /// an officer.
    pub duty_officers: BTreeMap<String, String>,
    /// Where each topic's outbox messages go (`--deliver`); topics without a destination go to
    /// the in-memory receiver, which production mode refuses.
    pub deliveries: crate::delivery::Deliveries,
    /// Proxies whose `X-Forwarded-For` names the client (rate limits key on the client).
    pub trusted_proxies: crate::accounts::TrustedProxies,
    /// The address people reach Koshi at: the documents' QR codes link to
    /// `{public_url}/verify/{code}`.
    pub public_url: String,
    /// The documents' signing key (`--document-key`); without one, outside production, a
    /// development key Koshi makes once and keeps in the database.
    pub document_key: Option<crate::document_keys::DocumentKeyConfig>,
}

impl Default for ServiceConfig {
    fn default() -> ServiceConfig {
        ServiceConfig {
            straight_through: true,
            max_attachment_bytes: 10 * 1024 * 1024,
            integrated_registries: ["fingerprints".to_string()].into_iter().collect(),
            registry_timeout: std::time::Duration::from_secs(10),
            trust_store: None,
            gost_verifier: None,
            process_on_intake: true,
            fresh_checks_grace: std::time::Duration::ZERO,
            drill_clock: None,
            duty_officers: BTreeMap::new(),
            deliveries: crate::delivery::Deliveries::default(),
            trusted_proxies: crate::accounts::TrustedProxies::default(),
            public_url: "http://127.0.0.1:8080".into(),
            document_key: None,
        }
    }
}

/// The application service: one shared state behind a reference count, so that a clone (the
/// HTTP edge clones the service for every request, a background task for each case it runs) is
/// one atomic increment rather than a copy of every handle (measured: 3–4% of a read's CPU in
/// cloning and dropping the handles one by one).
#[derive(Clone)]
pub struct Service(Arc<ServiceInner>);

impl std::ops::Deref for Service {
    type Target = ServiceInner;
    fn deref(&self) -> &ServiceInner {
        &self.0
    }
}

/// What a [`Service`] holds.
pub struct ServiceInner {
    /// The law in force: the shipped (or configured) data with the loads of `law_data_loads`
    /// applied, swapped whole when an administrator loads a year (`Service::law`).
    pub(crate) law: Arc<arc_swap::ArcSwap<Law>>,
    /// The law as configured at start, before any load.
    pub(crate) base_law: Arc<Law>,
    /// The latest load of law data this instance applied.
    pub(crate) law_loaded: Arc<tokio::sync::Mutex<Option<String>>>,
    pub store: Store,
    pub registries: Registries,
    pub clock: Arc<dyn Clock>,
    pub sink: Arc<dyn Sink>,
    pub config: Arc<ServiceConfig>,
    pub authz: Arc<crate::authz::Authz>,
    pub sign_in_limiter: Arc<crate::accounts::SignInLimiter>,
    pub public_limiter: Arc<crate::accounts::PublicLimiter>,
    pub(crate) inflight: Arc<Mutex<JoinSet<()>>>,
    pub(crate) processing: Arc<Mutex<HashSet<String>>>,
    /// This instance's name for timer leases.
    pub instance_id: String,
    /// Registries with an open outage as far as this instance knows (None: not loaded yet).
    /// Saves a query per registry per case; the journal itself lives in the database.
    pub(crate) open_outages: Arc<tokio::sync::Mutex<Option<BTreeSet<String>>>>,
    /// The signing key of the documents and the public keys ever used (issue 16).
    pub(crate) documents: Arc<crate::document_keys::Documents>,
}

/// Statuses of an RVP case.
/// (The names the store keeps; the statuses and their moves are `koshi_law::status`.)
pub mod status {
    use koshi_law::status::Status;
    pub const REFUSED_TO_ACCEPT: &str = Status::RefusedToAccept.as_str();
    pub const CHECKING: &str = Status::Checking.as_str();
    pub const AWAITING_CONFIRMATION: &str = Status::AwaitingConfirmation.as_str();
    pub const AWAITING_OFFICER: &str = Status::AwaitingOfficer.as_str();
    pub const ISSUED: &str = Status::Issued.as_str();
    pub const REFUSED: &str = Status::Refused.as_str();
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Records the caller's Idempotency-Key with the case it created, in the same unit.
pub(crate) fn remember_key(
    caller: &Caller,
    key: Option<&str>,
    request_hash: &str,
    id: &str,
    at: &str,
) -> Option<koshi_store::Op> {
    key.map(|key| {
        repo::insert_idempotency(&repo::IdempotencyRow {
            subject: caller.idempotency_subject(),
            key: key.to_string(),
            request_hash: request_hash.to_string(),
            application_id: id.to_string(),
            created_at: at.to_string(),
        })
    })
}

/// The version of the Rules a stored case names, if Koshi knows it. An unknown version stops the
/// step (409) for a person: an event is never recorded under a version Koshi does not know.
pub(crate) fn known_version(id: &str) -> Result<&'static str, CaseError> {
    citation::VERSIONS
        .iter()
        .find(|v| v.id == id)
        .map(|v| v.id)
        .ok_or_else(|| {
            CaseError::conflict(
                "unknown_rules_version",
                format!(
                    "the case names a version of the Rules Koshi does not know ({id:?}); an officer must look at it"
                ),
            )
        })
}

/// An audit event of a case, for the unit of the change it records.
pub(crate) fn case_event(
    application_id: &str,
    actor: &str,
    action: impl Into<Cow<'static, str>>,
    citation: &str,
    version: &'static str,
    detail: impl std::fmt::Display,
    at: &str,
) -> koshi_store::Op {
    repo::insert_event(repo::NewEvent {
        id: new_id(),
        application_id: Some(application_id.into()),
        at: at.into(),
        actor: actor.into(),
        action: action.into(),
        citation: Cow::Owned(citation.into()),
        // A version Koshi knows (`known_version`): the type admits no other.
        rules_version: Cow::Borrowed(version),
        detail: detail.to_string(),
    })
}

/// A message for another system (monitoring, printer, ИИС ЦОН, cabinet, agency), delivered at
/// least once by the outbox.
pub(crate) fn outbox_message(
    application_id: &str,
    topic: impl Into<Cow<'static, str>>,
    payload: String,
    at: &str,
) -> koshi_store::Op {
    // The request that queued the message goes on with it (`X-Request-Id`), as to the registries.
    let request = koshi_registries::context::current().map(|r| r.to_string());
    repo::queue_message(
        new_id(),
        topic.into(),
        Some(application_id.into()),
        payload,
        at.into(),
        request,
    )
}

pub(crate) fn parse_iin(s: &str, pointer: &str) -> Result<Iin, CaseError> {
    iin_at(s, || pointer.to_string())
}

pub(crate) fn iin_at(s: &str, pointer: impl FnOnce() -> String) -> Result<Iin, CaseError> {
    Iin::parse(s).map_err(|e| CaseError::unprocessable("invalid_iin", &pointer(), format!("not a valid IIN: {e}")))
}

/// The person facts the registries are asked about.
pub(crate) fn person_query(p: &PersonInput, birth: Date) -> PersonQuery {
    PersonQuery {
        document_number: p.document.number.trim().to_uppercase(),
        citizenship: p.citizenship.trim().to_uppercase(),
        birth_date: birth,
        iin: p.iin.clone(),
    }
}

/// The key of a person by IIN (the other key of a person beside each passport's).
pub(crate) fn iin_key(iin: &str) -> String {
    sha256_hex(format!("IIN:{}", iin.trim()).as_bytes())
}

pub(crate) fn person_key(citizenship: &str, document_number: &str) -> String {
    sha256_hex(
        format!(
            "{}:{}",
            citizenship.trim().to_uppercase(),
            document_number.trim().to_uppercase()
        )
        .as_bytes(),
    )
}

/// The raw request as received: its digest (idempotency) and, from the portal, the detached
/// CMS signature over exactly these bytes.
#[derive(Debug, Clone, Default)]
pub struct SignedBody<'a> {
    pub body: &'a [u8],
    pub hash: String,
    pub signature: Option<Vec<u8>>,
}

/// A case just filed, handed to its processing in memory.
pub(crate) type Handoff = Box<(ApplicationRow, ApplicationRequest)>;

/// A validated filing, ready for the law.
pub(crate) struct Filing {
    pub(crate) channel: Channel,
    /// The police body that owns, decides and journals the case (п. 5, 7, 14).
    pub(crate) unit: String,
    pub(crate) filed_at: Timestamp,
    /// How the filing instant was established (the server's, or a paper receipt's).
    pub(crate) filed: FilingInstant,
    pub(crate) purpose_id: String,
    pub(crate) employer_iin: Option<String>,
    pub(crate) facts: BTreeSet<String>,
    pub(crate) documents: Vec<SubmittedDocument>,
    pub(crate) attachments: Vec<(String, String, Vec<u8>)>,
    pub(crate) late: Option<LateException>,
    /// The act of failure a late filing names (resolved at intake, against the store).
    pub(crate) outage_act: Option<String>,
    pub(crate) immigrant_birth: Date,
    pub(crate) family_births: Vec<Date>,
}

/// What a service is built from (`App::build` wires them).
pub struct ServiceParts {
    pub law: Arc<Law>,
    pub store: Store,
    pub registries: Registries,
    pub clock: Arc<dyn Clock>,
    pub sink: Arc<dyn Sink>,
    pub config: ServiceConfig,
    pub authz: Arc<crate::authz::Authz>,
    pub documents: Arc<crate::document_keys::Documents>,
}

impl Service {
    pub fn new(parts: ServiceParts) -> Service {
        let ServiceParts {
            law,
            store,
            registries,
            clock,
            sink,
            config,
            authz,
            documents,
        } = parts;
        Service(Arc::new(ServiceInner {
            law: Arc::new(arc_swap::ArcSwap::new(law.clone())),
            base_law: law,
            law_loaded: Arc::new(tokio::sync::Mutex::new(None)),
            store,
            registries,
            clock,
            sink,
            config: Arc::new(config),
            authz,
            sign_in_limiter: Arc::new(crate::accounts::SignInLimiter::default()),
            public_limiter: Arc::new(crate::accounts::PublicLimiter::default()),
            inflight: Arc::new(Mutex::new(JoinSet::new())),
            processing: Arc::new(Mutex::new(HashSet::new())),
            open_outages: Arc::new(tokio::sync::Mutex::new(None)),
            instance_id: format!("koshi-{}", uuid::Uuid::new_v4().simple()),
            documents,
        }))
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The law in force now (a load may replace it between two calls).
    pub fn law(&self) -> Arc<Law> {
        self.law.load_full()
    }

    pub(crate) fn today(&self) -> Date {
        self.law().calendar.civil(self.now()).date()
    }

    pub(crate) fn monitoring(&self, application_id: &str, stage: &str, at: &str, version: &str) -> koshi_store::Op {
        /// A stage change as the monitoring system receives it (п. 9-4, п. 16); keys in
        /// alphabetical order, as every other payload Koshi writes.
        #[derive(serde::Serialize)]
        struct StageChange<'a> {
            application_id: &'a str,
            at: &'a str,
            citation: &'a str,
            rules_version: &'a str,
            service: &'a str,
            stage: &'a str,
        }
        let pr = stage.starts_with("pr.");
        let payload = StageChange {
            application_id,
            at,
            citation: if pr { "п. 16" } else { "п. 9-4" },
            rules_version: version,
            service: if pr { "pr" } else { "rvp" },
            stage,
        };
        let payload = serde_json::to_string(&payload).unwrap_or_default();
        outbox_message(application_id, "monitoring", payload, at)
    }
}

impl Service {
    /// The police body a filing belongs to (п. 5: of the place of registration; п. 7 абз. 5,
    /// п. 14 пп. 1): the body the filer names, or an officer's own body. A ЦОН or the portal never
    /// owns a case: its filing names the police body (422 otherwise); an officer files only for a
    /// body the officer's unit serves.
    pub(crate) fn case_unit(
        &self,
        caller: &Caller,
        channel: Channel,
        named: Option<&str>,
        address: Option<&str>,
    ) -> Result<String, CaseError> {
        // A portal filing's police body is that of the address of registration it gives, from the
        // units data; a body it names must be that one (docs/interpretations.md, "Whose case is
        // a filing?").
        if channel == Channel::Portal {
            let Some(of_address) = address.and_then(|rka| self.authz.police_body_of_address(rka)) else {
                return Err(CaseError::unprocessable(
                    "address_not_served",
                    "/inviting_party/rka",
                    "no police body of the units data is the body of registration for this address: the request is made at the police body of the place of registration or a ЦОН",
                ));
            };
            if let Some(u) = named
                && u != of_address
            {
                return Err(CaseError::unprocessable(
                    "police_unit_not_of_address",
                    "/police_unit",
                    format!("the address of registration belongs to {of_address}, not {u} (п. 5, п. 7)"),
                ));
            }
            return Ok(of_address.to_string());
        }
        match (channel, named) {
            (_, Some(u)) if !self.authz.is_police(u) => Err(CaseError::unprocessable(
                "unknown_police_unit",
                "/police_unit",
                format!("{u:?} is not a police body"),
            )),
            (Channel::PoliceDesk, Some(u)) if !self.authz.serves(&caller.unit, u) => {
                Err(CaseError::forbidden(format!(
                    "an officer of {} files only for the police bodies it serves, not for {u}",
                    caller.unit
                )))
            }
            (_, Some(u)) => Ok(u.to_string()),
            (Channel::PoliceDesk, None) if self.authz.is_police(&caller.unit) => Ok(caller.unit.clone()),
            (Channel::PoliceDesk, None) => Err(CaseError::unprocessable(
                "police_unit_required",
                "/police_unit",
                format!(
                    "{} is not a police body: the filing names the police body that will decide it",
                    caller.unit
                ),
            )),
            (_, None) => Err(CaseError::unprocessable(
                "police_unit_required",
                "/police_unit",
                "a ЦОН filing names the police body of the place of registration, which decides it (п. 5, п. 7)",
            )),
        }
    }
}

/// The filing instant of a filing through `channel` (provenance in `koshi_law::provenance`):
/// the server's, or a paper receipt's entered at the police desk; refusals name `/filed_at`.
pub(crate) fn filing_instant(
    channel: Channel,
    filed_at: Option<&str>,
    paper: Option<&crate::model::PaperFilingInput>,
    now: Timestamp,
) -> Result<FilingInstant, CaseError> {
    let given = filed_at
        .map(|s| {
            s.parse::<Timestamp>().map_err(|e| {
                CaseError::unprocessable(
                    "invalid_instant",
                    "/filed_at",
                    format!("{s:?} is not an RFC 3339 instant: {e}"),
                )
            })
        })
        .transpose()?;
    koshi_law::provenance::filing_instant(
        channel,
        given,
        paper.map(|p| (p.receipt_number.as_str(), p.reason.as_str())),
        now,
    )
    .map_err(|e| CaseError::unprocessable(e.code(), "/filed_at", e.to_string()))
}

/// The audit record of a paper filing's instant, receipt and reason.
pub(crate) fn paper_filing_json(f: &FilingInstant) -> Option<Value> {
    match f {
        FilingInstant::Server(_) => None,
        FilingInstant::PaperReceipt {
            at,
            receipt_number,
            reason,
        } => Some(json!({"filed_at": instant(*at), "receipt_number": receipt_number, "reason": reason})),
    }
}

/// The channel a case's messages to its recipient go through (п. 9-2 абз. 4; п. 14 пп. 5): the
/// ЦОН's ИИС for a ЦОН filing, the portal cabinet for a portal filing, the desk otherwise.
pub(crate) fn result_topic(channel: &str) -> &'static str {
    match channel {
        "con" => "delivery.iis_con",
        "portal" => "delivery.portal_cabinet",
        _ => "delivery.desk_print",
    }
}

/// A case's status changes only along the table of the Rules (`koshi_law::status`); anything else
/// is a conflict, and a stored status Koshi does not know stops the case for a person.
pub(crate) fn guard_transition(service: koshi_law::status::Service, from: &str, to: &str) -> Result<(), CaseError> {
    koshi_law::status::transition(service, from, to)
        .map(|_| ())
        .map_err(|e| CaseError::conflict(e.code(), e.to_string()))?;
    // Counted when the change is made; the unit that carries it commits next (a failed commit
    // is logged and answered as an error).
    let service = match service {
        koshi_law::status::Service::Rvp => "rvp",
        koshi_law::status::Service::Pr => "pr",
    };
    crate::metrics::get().status_change(service, to);
    Ok(())
}
