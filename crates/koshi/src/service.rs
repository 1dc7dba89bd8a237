//! The RVP service (chapter 2): intake, the checks of п. 9-1, the decision, delivery, duplicates.
//! Every state change is one store unit: the case row, its audit event and its outbox messages.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use base64::Engine;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use koshi_law::Law;
use koshi_law::calendar::YearStatus;
use koshi_law::citation::{self, Citation};
use koshi_law::ident::{Bin, Iin};
use koshi_law::provenance::FilingInstant;
use koshi_law::requirements::{Channel, Package, PartyKind, SubmittedDocument, inviting_party_allowed};
use koshi_law::rvp::{self, Check, Finding, LateException, RvpDecision};
use koshi_law::terms;
use koshi_registries::clock::Clock;
use koshi_registries::{PersonQuery, Registries, RegistryError, RegistryKind};
use koshi_store::repo::{self, ApplicationRow, CheckRow, StatusChange};
use koshi_store::{Store, Unit, instant};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use crate::delivery::Sink;
use crate::model::*;
use crate::problem::Problem;

/// Who is calling (from the bearer token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub token_id: String,
    pub role: String,
    pub unit: String,
    /// The person's post (п. 15); system tokens hold none.
    pub post: Option<String>,
    /// The inviting party (IIN or BIN) a portal caller acts for, proven by its ЭЦП at sign-in.
    pub party: Option<String>,
}

impl Caller {
    pub fn actor(&self) -> String {
        format!("{}@{}:{}", self.role, self.unit, self.token_id)
    }
}

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
    /// Drill mode: the service's clock is this simulated clock, which an administrator moves
    /// (`POST /api/v1/admin/clock`); every answer says so (`Koshi-Clock: simulated`). Only the
    /// command line's `--clock simulated` sets it, never the environment (README, "Drills").
    pub drill_clock: Option<Arc<koshi_registries::clock::SimulatedClock>>,
    /// п. 9-1: the duty officer account (username) per police body in whose name a clean case is
    /// formed without a person (`straight_through`), in working time from the acceptance day
    /// (`koshi_law::rvp::forming_time`). A body without one: the act is prepared and waits for
    /// an officer.
    pub duty_officers: BTreeMap<String, String>,
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
            drill_clock: None,
            duty_officers: BTreeMap::new(),
        }
    }
}

/// The application service.
#[derive(Clone)]
pub struct Service {
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
    inflight: Arc<Mutex<JoinSet<()>>>,
    processing: Arc<Mutex<HashSet<String>>>,
    /// This instance's name for timer leases.
    pub instance_id: String,
    /// Registries with an open outage as far as this instance knows (None: not loaded yet).
    /// Saves a query per registry per case; the journal itself lives in the database.
    open_outages: Arc<tokio::sync::Mutex<Option<BTreeSet<String>>>>,
}

const EAEU: [&str; 4] = ["ARM", "BLR", "KGZ", "RUS"];

/// Statuses of an RVP case.
pub mod status {
    pub const REFUSED_TO_ACCEPT: &str = "refused_to_accept";
    pub const CHECKING: &str = "checking";
    pub const AWAITING_CONFIRMATION: &str = "awaiting_confirmation";
    pub const AWAITING_OFFICER: &str = "awaiting_officer";
    pub const ISSUED: &str = "issued";
    pub const REFUSED: &str = "refused";
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn sha256_hex(data: &[u8]) -> String {
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
            subject: caller.token_id.clone(),
            key: key.to_string(),
            request_hash: request_hash.to_string(),
            application_id: id.to_string(),
            created_at: at.to_string(),
        })
    })
}

/// The version of the Rules a stored case names, if Koshi knows it. An unknown version stops the
/// step (409) for a person: an event is never recorded under a version Koshi does not know.
pub(crate) fn known_version(id: &str) -> Result<&'static str, Problem> {
    citation::VERSIONS
        .iter()
        .find(|v| v.id == id)
        .map(|v| v.id)
        .ok_or_else(|| {
            Problem::conflict(
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
    repo::queue_message(new_id(), topic.into(), Some(application_id.into()), payload, at.into())
}

pub(crate) fn parse_date(s: &str, pointer: &str) -> Result<Date, Problem> {
    date_at(s, || pointer.to_string())
}

/// As `parse_date`, with the JSON pointer of the field written only if the date is wrong (a
/// filing's dates are checked at every intake: the pointers were formatted for nothing).
fn date_at(s: &str, pointer: impl FnOnce() -> String) -> Result<Date, Problem> {
    let ok_shape = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
    if !ok_shape {
        return Err(Problem::unprocessable(
            "invalid_date",
            &pointer(),
            format!("{s:?} is not a date YYYY-MM-DD"),
        ));
    }
    s.parse::<Date>()
        .map_err(|e| Problem::unprocessable("invalid_date", &pointer(), format!("{s:?} is not a valid date: {e}")))
}

fn opt_date(s: &Option<String>, pointer: &str) -> Result<Option<Date>, Problem> {
    opt_date_at(s, || pointer.to_string())
}

fn opt_date_at(s: &Option<String>, pointer: impl FnOnce() -> String) -> Result<Option<Date>, Problem> {
    s.as_deref().map(|s| date_at(s, pointer)).transpose()
}

fn parse_iin(s: &str, pointer: &str) -> Result<Iin, Problem> {
    iin_at(s, || pointer.to_string())
}

fn iin_at(s: &str, pointer: impl FnOnce() -> String) -> Result<Iin, Problem> {
    Iin::parse(s).map_err(|e| Problem::unprocessable("invalid_iin", &pointer(), format!("not a valid IIN: {e}")))
}

/// The person facts the registries are asked about.
fn person_query(p: &PersonInput, birth: Date) -> PersonQuery {
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
type Handoff = Box<(ApplicationRow, ApplicationRequest)>;

/// A validated filing, ready for the law.
struct Filing {
    channel: Channel,
    /// The police body that owns, decides and journals the case (п. 5, 7, 14).
    unit: String,
    filed_at: Timestamp,
    /// How the filing instant was established (the server's, or a paper receipt's).
    filed: FilingInstant,
    purpose_id: String,
    employer_iin: Option<String>,
    facts: BTreeSet<String>,
    documents: Vec<SubmittedDocument>,
    attachments: Vec<(String, String, Vec<u8>)>,
    late: Option<LateException>,
    /// The act of failure a late filing names (resolved at intake, against the store).
    outage_act: Option<String>,
    immigrant_birth: Date,
    family_births: Vec<Date>,
}

impl Service {
    pub fn new(
        law: Arc<Law>,
        store: Store,
        registries: Registries,
        clock: Arc<dyn Clock>,
        sink: Arc<dyn Sink>,
        config: ServiceConfig,
        authz: Arc<crate::authz::Authz>,
    ) -> Service {
        Service {
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
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The law in force now (a load may replace it between two calls).
    pub fn law(&self) -> Arc<Law> {
        self.law.load_full()
    }

    fn today(&self) -> Date {
        self.law().calendar.civil(self.now()).date()
    }

    // ------------------------------------------------------------------ intake

    fn validate(&self, caller: &Caller, req: &ApplicationRequest) -> Result<Filing, Problem> {
        let law = self.law();
        if req.kind != "rvp" {
            return Err(Problem::unprocessable(
                "unsupported_kind",
                "/kind",
                format!("kind {:?} is not served yet; this service takes \"rvp\"", req.kind),
            ));
        }
        if req.family_of.is_some() {
            return Err(Problem::unprocessable(
                "invalid_body",
                "/family_of",
                "family_of is Koshi's own mark on a family member's case; a filing lists its family in /family",
            ));
        }
        let default_channel = match caller.role.as_str() {
            "con_operator" => "con",
            "portal" => "portal",
            _ => "police_desk",
        };
        let channel_s = req.channel.as_deref().unwrap_or(default_channel);
        let channel = Channel::parse(channel_s).ok_or_else(|| {
            Problem::unprocessable(
                "unknown_channel",
                "/channel",
                format!("{channel_s:?} is not police_desk, con or portal"),
            )
        })?;
        self.authz.allow(caller, "application.file")?;
        let channel_of_role = match caller.role.as_str() {
            "officer" => Some(Channel::PoliceDesk),
            "con_operator" => Some(Channel::Con),
            "portal" => Some(Channel::Portal),
            _ => None,
        };
        if channel_of_role != Some(channel) {
            return Err(Problem::forbidden(format!(
                "the {} role cannot file through the {} channel",
                caller.role,
                channel.as_str()
            )));
        }
        if let Some(u) = &req.police_unit
            && !self.authz.is_police(u)
        {
            return Err(Problem::unprocessable(
                "unknown_police_unit",
                "/police_unit",
                format!("{u:?} is not a police body"),
            ));
        }
        let filed = filing_instant(channel, req.filed_at.as_deref(), req.paper_filing.as_ref(), self.now())?;
        let filed_at = filed.at();
        let filed_on = law.calendar.civil(filed_at).date();
        if law.requirements.purpose(&req.purpose).is_none() {
            let known: Vec<_> = law.requirements.purposes.iter().map(|p| p.id.as_str()).collect();
            return Err(Problem::unprocessable(
                "unknown_purpose",
                "/purpose",
                format!(
                    "{:?} is not a purpose of stay; known: {}",
                    req.purpose,
                    known.join(", ")
                ),
            ));
        }
        let party = PartyKind::parse(&req.inviting_party.kind).ok_or_else(|| {
            Problem::unprocessable(
                "unknown_party_kind",
                "/inviting_party/kind",
                format!("{:?} is not a kind of inviting party", req.inviting_party.kind),
            )
        })?;
        // Any identifier given is checked, whatever the kind of party.
        if let Some(iin) = &req.inviting_party.iin {
            parse_iin(iin, "/inviting_party/iin")?;
        }
        if let Some(bin) = &req.inviting_party.bin {
            Bin::parse(bin).map_err(|e| {
                Problem::unprocessable("invalid_bin", "/inviting_party/bin", format!("not a valid BIN: {e}"))
            })?;
        }
        let mut employer_iin = None;
        if party.is_individual() {
            let iin = req.inviting_party.iin.as_deref().ok_or_else(|| {
                Problem::unprocessable(
                    "missing_iin",
                    "/inviting_party/iin",
                    "an individual inviting party is identified by IIN",
                )
            })?;
            employer_iin = Some(parse_iin(iin, "/inviting_party/iin")?.as_str());
        } else {
            let bin = req.inviting_party.bin.as_deref().ok_or_else(|| {
                Problem::unprocessable(
                    "missing_bin",
                    "/inviting_party/bin",
                    "an organisation is identified by BIN",
                )
            })?;
            Bin::parse(bin).map_err(|e| {
                Problem::unprocessable("invalid_bin", "/inviting_party/bin", format!("not a valid BIN: {e}"))
            })?;
        }
        for (v, p) in [
            (&req.inviting_party.name, "/inviting_party/name"),
            (&req.inviting_party.address, "/inviting_party/address"),
            (&req.inviting_party.rka, "/inviting_party/rka"),
            (&req.immigrant.surname, "/immigrant/surname"),
            (&req.immigrant.document.number, "/immigrant/document/number"),
        ] {
            if v.trim().is_empty() {
                return Err(Problem::unprocessable("missing_field", p, "must not be empty"));
            }
        }
        let check_person = |p: &PersonInput, base: &str| -> Result<Date, Problem> {
            let birth = date_at(&p.birth_date, || format!("{base}/birth_date"))?;
            if let Some(iin) = &p.iin {
                iin_at(iin, || format!("{base}/iin"))?;
            }
            let c = p.citizenship.trim();
            if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(Problem::unprocessable(
                    "invalid_citizenship",
                    &format!("{base}/citizenship"),
                    "expected ISO 3166-1 alpha-3 (or XXX)",
                ));
            }
            let expires = date_at(&p.document.expires_on, || format!("{base}/document/expires_on"))?;
            let issued = opt_date_at(&p.document.issued_on, || format!("{base}/document/issued_on"))?;
            opt_date_at(&p.stay_until, || format!("{base}/stay_until"))?;
            crate::edge::check_person(base, birth, &p.document.kind, issued, expires, filed_on)?;
            Ok(birth)
        };
        let immigrant_birth = check_person(&req.immigrant, "/immigrant")?;
        let mut family_births = Vec::new();
        for (i, f) in req.family.iter().enumerate() {
            family_births.push(check_person(&f.person, &format!("/family/{i}"))?);
        }
        opt_date(&req.requested_until, "/requested_until")?;
        // п. 9-2 абз. 4, п. 14 пп. 5: results go back through the channel the filing came by
        // (desk print, ИИС ЦОН, portal cabinet); the filer cannot send them elsewhere.
        if let Some(d) = &req.deliver_to {
            let fixed = match channel {
                Channel::Con => "con",
                Channel::Portal => "portal_cabinet",
                _ => "desk",
            };
            if d != fixed {
                return Err(Problem::unprocessable(
                    "deliver_to_not_allowed",
                    "/deliver_to",
                    format!(
                        "results of a {} filing go to {fixed}; they cannot be redirected",
                        channel.as_str()
                    ),
                ));
            }
        }

        let mut documents = Vec::new();
        let mut attachments = Vec::new();
        for (i, d) in req.documents.iter().enumerate() {
            if law.requirements.document(&d.kind).is_none() {
                return Err(Problem::unprocessable(
                    "unknown_document_kind",
                    &format!("/documents/{i}/kind"),
                    format!("{:?} is not a known document kind", d.kind),
                ));
            }
            let issued_on = opt_date_at(&d.issued_on, || format!("/documents/{i}/issued_on"))?;
            let expires_on = opt_date_at(&d.expires_on, || format!("/documents/{i}/expires_on"))?;
            let mut has_copy = false;
            if let Some(a) = &d.attachment {
                if let Some(copy) = self.electronic_copy(i, a)? {
                    attachments.push(copy);
                }
                has_copy = true;
            }
            documents.push(SubmittedDocument {
                kind: d.kind.clone(),
                issued_on,
                expires_on,
                has_electronic_copy: has_copy,
            });
        }
        // The identity document of the immigrant is part of the package (App. 1-1 п. 8).
        if !documents.iter().any(|d| d.kind == "identity_document") {
            documents.push(SubmittedDocument {
                kind: "identity_document".into(),
                issued_on: opt_date(&req.immigrant.document.issued_on, "/immigrant/document/issued_on")?,
                expires_on: Some(parse_date(
                    &req.immigrant.document.expires_on,
                    "/immigrant/document/expires_on",
                )?),
                has_electronic_copy: channel == Channel::PoliceDesk
                    || req.documents.iter().any(|d| d.attachment.is_some()),
            });
        }
        let mut facts = BTreeSet::new();
        if EAEU.contains(&req.immigrant.citizenship.trim().to_uppercase().as_str()) {
            facts.insert("eaeu_citizen".to_string());
        }
        if !req.inviting_party.owns_housing {
            facts.insert("host_not_owner".to_string());
        }
        if !req.family.is_empty() {
            facts.insert("with_family".to_string());
        }
        if req.representative.is_some() {
            facts.insert("filed_by_representative".to_string());
        }
        let mut outage_act = None;
        let late = match &req.late_exception {
            None => None,
            Some(LateExceptionInput::OutageAct {
                act_id: Some(act),
                act_number: None,
                failure_on: None,
            }) => {
                outage_act = Some(act.clone());
                None
            }
            Some(LateExceptionInput::OutageAct { .. }) => {
                return Err(Problem::unprocessable(
                    "outage_act_required",
                    "/late_exception/act_id",
                    "an act of failure is the one Koshi keeps, signed by the ЦОН and the police body: name it by act_id (POST /api/v1/outage-acts)",
                ));
            }
            Some(LateExceptionInput::Art517Fine {
                overstay_days,
                decision_number,
                decision_date,
            }) => Some(LateException::Art517Fine {
                decision_number: decision_number.clone(),
                decision_date: parse_date(decision_date, "/late_exception/decision_date")?,
                overstay_days: *overstay_days,
            }),
        };
        Ok(Filing {
            unit: self.case_unit(caller, channel, req.police_unit.as_deref())?,
            channel,
            filed_at,
            filed,
            purpose_id: req.purpose.clone(),
            employer_iin,
            facts,
            documents,
            attachments,
            late,
            outage_act,
            immigrant_birth,
            family_births,
        })
    }

    /// п. 8: a portal request is signed by the service recipient with an ЭЦП. The signature must
    /// verify against the trust store at the time of filing, over the exact body, and its signer
    /// must be the inviting party (IIN of an individual, BIN of an organisation).
    async fn verify_signature(
        &self,
        caller: &Caller,
        req: &ApplicationRequest,
        signed: &SignedBody<'_>,
    ) -> Result<Value, Problem> {
        let Some(cms) = &signed.signature else {
            return Err(Problem::unprocessable(
                "signature_required",
                "/",
                "a portal request carries its ЭЦП: a detached CMS signature over the body, base64, in the Koshi-Signature header (п. 8)",
            ));
        };
        let (iin, bin, serial, algorithm) = self.verify_ecp(cms, signed.body).await?;
        let party = &req.inviting_party;
        let matches = match (&party.iin, &party.bin) {
            (Some(party_iin), _) if iin.as_deref() == Some(party_iin.trim()) => true,
            (_, Some(party_bin)) if bin.as_deref() == Some(party_bin.trim()) => true,
            _ => false,
        };
        if !matches {
            return Err(Problem::unprocessable(
                "signature_not_of_the_applicant",
                "/inviting_party",
                "the request is signed by someone other than the inviting party (п. 8: the service recipient signs)",
            ));
        }
        // The portal caller acts for the party its own ЭЦП sign-in proved: it files for that party
        // only (issue 14 item 4).
        let signer_party = if party.bin.is_some() {
            bin.as_deref()
        } else {
            iin.as_deref()
        };
        if caller.party.as_deref() != signer_party {
            return Err(Problem::forbidden(
                "the portal session acts for another inviting party than the one that signed this request",
            ));
        }
        Ok(json!({"verified": true, "certificate_serial": serial, "digest": algorithm, "citation": "п. 8"}))
    }

    /// An ЭЦП (detached CMS over `body`) checked against the trust store now, or by the external
    /// GOST verification service: `(IIN, BIN, certificate serial, digest algorithm)`.
    pub(crate) async fn verify_ecp(
        &self,
        cms: &[u8],
        body: &[u8],
    ) -> Result<(Option<String>, Option<String>, String, String), Problem> {
        let Some(trust) = &self.config.trust_store else {
            return Err(Problem::unavailable(
                "portal signatures cannot be verified: no trust store is configured (KOSHI_TRUST_STORE)",
            ));
        };
        Ok(match koshi_sign::verify_detached(cms, body, trust, self.now()) {
            Ok(v) => (v.iin, v.bin, v.serial, v.digest_algorithm.name().to_string()),
            // GOST 34.310 goes to the external verification service, when one is configured.
            Err(koshi_sign::SignatureError::GostRequiresExternalVerifier) if self.config.gost_verifier.is_some() => {
                let verifier = self
                    .config
                    .gost_verifier
                    .as_ref()
                    .ok_or_else(|| Problem::unavailable("no GOST verifier"))?;
                let verdict = verifier.verify(cms, body).await.map_err(Problem::unavailable)?;
                if !verdict.valid {
                    return Err(Problem::unprocessable(
                        "gost_signature_invalid",
                        "/",
                        format!(
                            "the ЭЦП is not accepted: {}",
                            verdict
                                .reason
                                .unwrap_or_else(|| "the verification service refused it".into())
                        ),
                    ));
                }
                (
                    verdict.iin,
                    verdict.bin,
                    verdict.serial.unwrap_or_default(),
                    "gost34311".to_string(),
                )
            }
            Err(e) => {
                return Err(Problem::unprocessable(
                    e.code(),
                    "/",
                    format!("the ЭЦП is not accepted: {e}"),
                ));
            }
        })
    }

    /// The electronic copy given for document `i`: its content decoded, within the size limit,
    /// with its SHA-256 (checked against one given beside it): `(digest, media type, bytes)`; or
    /// none when it refers to content already stored by its SHA-256 (checked by
    /// `known_copies`).
    pub(crate) fn electronic_copy(
        &self,
        i: usize,
        a: &AttachmentInput,
    ) -> Result<Option<(String, String, Vec<u8>)>, Problem> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let limit = self.config.max_attachment_bytes;
        let too_large = || {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "attachment_too_large",
                format!("document {i}: electronic copies are limited to {limit} bytes"),
            )
        };
        match (&a.content_base64, &a.sha256) {
            (Some(content), _) => {
                // Base64 is 4/3 of the content: refuse an oversized copy before decoding.
                if content.len() / 4 * 3 > limit + 3 {
                    return Err(too_large());
                }
                let bytes = b64.decode(content.trim()).map_err(|e| {
                    Problem::unprocessable(
                        "invalid_attachment",
                        &format!("/documents/{i}/attachment/content_base64"),
                        format!("not base64: {e}"),
                    )
                })?;
                if bytes.len() > limit {
                    return Err(too_large());
                }
                crate::edge::check_copy(&format!("/documents/{i}/attachment"), &a.media_type, &bytes)?;
                let digest = sha256_hex(&bytes);
                if let Some(claimed) = &a.sha256
                    && !claimed.eq_ignore_ascii_case(&digest)
                {
                    return Err(Problem::unprocessable(
                        "attachment_digest_mismatch",
                        &format!("/documents/{i}/attachment/sha256"),
                        "the SHA-256 does not match the content",
                    ));
                }
                Ok(Some((digest, a.media_type.clone(), bytes)))
            }
            (None, Some(_)) if !crate::edge::media_type_known(&a.media_type) => Err(crate::edge::unsupported_media(
                &format!("/documents/{i}/attachment/media_type"),
                &a.media_type,
            )),
            (None, Some(_)) => Ok(None),
            (None, None) => Err(Problem::unprocessable(
                "invalid_attachment",
                &format!("/documents/{i}/attachment"),
                "give content_base64 or sha256",
            )),
        }
    }

    /// Every stored copy the documents refer to by SHA-256 alone exists.
    pub(crate) async fn known_copies(&self, documents: &[DocumentInput]) -> Result<(), Problem> {
        for (i, d) in documents.iter().enumerate() {
            if let Some(AttachmentInput {
                content_base64: None,
                sha256: Some(h),
                ..
            }) = &d.attachment
                && self.store.attachment_size(&h.to_lowercase()).await?.is_none()
            {
                return Err(Problem::unprocessable(
                    "unknown_attachment",
                    &format!("/documents/{i}/attachment/sha256"),
                    "no stored content has this SHA-256",
                ));
            }
        }
        Ok(())
    }

    /// Files an application: a receipt of acceptance or of refusal to accept, recorded either way.
    pub async fn file(
        &self,
        caller: &Caller,
        req: ApplicationRequest,
        idempotency_key: Option<&str>,
        signed: &SignedBody<'_>,
    ) -> Result<(StatusCode, ApplicationCreated), Problem> {
        let (status, created, handoff) = self.file_inner(caller, req, idempotency_key, signed).await?;
        if let Some(h) = handoff
            && self.config.process_on_intake
        {
            self.spawn_processing(h);
        }
        Ok((status, created))
    }

    /// Files and processes in the caller's task (no background task): for back-office batch
    /// entry and the benchmark. Returns once the checks have run (or are waiting for a registry).
    pub async fn file_and_process(
        &self,
        caller: &Caller,
        req: ApplicationRequest,
    ) -> Result<ApplicationCreated, Problem> {
        let (_, created, handoff) = self.file_inner(caller, req, None, &SignedBody::default()).await?;
        if let Some(h) = handoff {
            self.process_with(&created.id.clone(), Some(h)).await?;
        }
        Ok(created)
    }

    async fn file_inner(
        &self,
        caller: &Caller,
        req: ApplicationRequest,
        idempotency_key: Option<&str>,
        signed: &SignedBody<'_>,
    ) -> Result<(StatusCode, ApplicationCreated, Option<Handoff>), Problem> {
        let request_hash = signed.hash.as_str();
        if let Some((s, c)) = self.seen_before(caller, idempotency_key, request_hash).await? {
            return Ok((s, c, None));
        }
        let f = self.validate(caller, &req)?;
        let signer = if f.channel == Channel::Portal {
            Some(self.verify_signature(caller, &req, signed).await?)
        } else {
            None
        };
        self.known_copies(&req.documents).await?;
        let law = self.law();
        let cal = &law.calendar;
        let civil = cal.civil(f.filed_at);
        let deadline = cal
            .deadline(civil, terms::RVP_TERM_WORKING_DAYS)
            .map_err(|e| Problem::unprocessable(e.code(), "/filed_at", e.to_string()))?;
        let version = citation::version_on(deadline.accepted_on)
            .map_err(|e| Problem::unprocessable("no_rules_version", "/filed_at", e.to_string()))?;
        let purpose = law
            .requirements
            .purpose(&f.purpose_id)
            .ok_or_else(|| Problem::not_found("purpose"))?;
        let filed_on = civil.date();

        // The law, on the day of receipt (п. 6, п. 7, п. 8): the counter refuses only an
        // incomplete package, an expired document and a late filing. A wrong inviting party is a
        // ground to refuse the service itself (п. 9-3), decided after the checks.
        let mut grounds: Vec<Ground> = Vec::new();
        let integrated = if f.channel.rules().registry_data_replaces_documents {
            self.config.integrated_registries.clone()
        } else {
            BTreeSet::new()
        };
        let pkg = Package {
            channel: f.channel,
            filed_on,
            facts: &f.facts,
            documents: &f.documents,
            integrated_registries: &integrated,
        };
        for g in law.requirements.check_rvp_package(purpose, &pkg) {
            grounds.push(Ground {
                code: g.code.into(),
                document: Some(g.document),
                check: None,
                citation: g.citation.to_string(),
                detail: g.detail,
            });
        }
        for (i, fm) in req.family.iter().enumerate() {
            if let Ok(exp) = parse_date(&fm.person.document.expires_on, "")
                && exp < filed_on
            {
                grounds.push(Ground {
                    code: "expired_document".into(),
                    document: Some(format!("family/{i}/identity_document")),
                    check: None,
                    citation: "п. 6".into(),
                    detail: format!("the identity document of family member {} expired on {exp}", i + 1),
                });
            }
        }
        // Late applications (п. 9-1 end), including the age-16 term (п. 5 абз. 4).
        let mut stay_until = opt_date(&req.immigrant.stay_until, "/immigrant/stay_until")?;
        if req.immigrant.turned_16_in_kazakhstan {
            let a = terms::age16(cal, f.immigrant_birth)
                .map_err(|e| Problem::unprocessable(e.code(), "/immigrant/birth_date", e.to_string()))?;
            if filed_on >= a.sixteenth_birthday {
                stay_until = Some(stay_until.map_or(a.apply_by, |s| s.min(a.apply_by)));
            }
        }
        let mut late_citation = None;
        let mut late = f.late.clone();
        let mut act_used = None;
        if let Some(until) = stay_until
            && filed_on > until
            && let Some(act_id) = &f.outage_act
        {
            let passport = person_key(&req.immigrant.citizenship, &req.immigrant.document.number);
            match self.outage_act_for(act_id, &req, &passport, until).await? {
                Ok(exception) => {
                    late = Some(exception);
                    act_used = Some(act_id.clone());
                }
                Err(g) => grounds.push(g),
            }
        }
        if let Some(until) = stay_until {
            match rvp::late_application(until, filed_on, late.as_ref()) {
                Ok(c) => late_citation = c,
                Err((code, detail, cite)) => grounds.push(Ground {
                    code: code.into(),
                    document: None,
                    check: None,
                    citation: cite.to_string(),
                    detail,
                }),
            }
        }

        let now = self.now();
        let now_s = instant(now);
        let id = new_id();
        let accepted = grounds.is_empty();
        let receipt = Receipt {
            type_: if accepted { "acceptance" } else { "refusal_to_accept" }.into(),
            form: if accepted { "App. 1-2" } else { "App. 1-3" }.into(),
            number: format!("R-{}", &id[id.len() - 12..]),
            issued_at: now_s.clone(),
            citation: if accepted {
                "п. 6 абз. 2; п. 7".into()
            } else {
                "п. 6 абз. 3; п. 7 абз. 3".into()
            },
            grounds: grounds.clone(),
            result_ready_at: (accepted && f.channel == Channel::Portal)
                .then(|| format!("{}T{}", deadline.due_on, cal.hours().work_end.strftime("%H:%M"))),
            calendar_status: (accepted && deadline.calendar_status != YearStatus::Official)
                .then(|| deadline.calendar_status.code().to_string()),
            calendar_basis: (accepted && deadline.calendar_status != YearStatus::Official)
                .then(|| cal.basis(deadline.due_on.year())),
            service_grounds: Vec::new(),
            family_cases: if accepted {
                req.family.iter().map(|_| new_id()).collect()
            } else {
                Vec::new()
            },
        };
        let status = if accepted {
            status::CHECKING
        } else {
            status::REFUSED_TO_ACCEPT
        };
        // The filing as received, but for its electronic copies: those are stored once, by their
        // SHA-256 (`attachments`), and the filing names them by it instead of holding them again.
        let mut req = req;
        by_digest(&mut req.documents, &f.attachments);
        let actor = caller.actor();
        let data = serde_json::to_string(&req).map_err(|e| Problem::internal(&e))?;
        let row = ApplicationRow {
            id: id.clone(),
            kind: "rvp".into(),
            status: status.into(),
            channel: f.channel.as_str().into(),
            unit: f.unit.clone(),
            filed_unit: caller.unit.clone(),
            purpose: purpose.id.clone(),
            filed_at: instant(f.filed_at),
            accepted_on: accepted.then(|| deadline.accepted_on.to_string()),
            due_on: accepted.then(|| deadline.due_on.to_string()),
            receipt: serde_json::to_string(&receipt).map_err(|e| Problem::internal(&e))?,
            data,
            decision: None,
            employer_iin: if purpose.household {
                f.employer_iin.clone()
            } else {
                None
            },
            household: i64::from(purpose.household),
            person_key: person_key(&req.immigrant.citizenship, &req.immigrant.document.number),
            permit_number: None,
            valid_from: None,
            valid_until: None,
            rules_version: version.id.into(),
            created_by: actor.clone(),
            created_at: now_s.clone(),
            updated_at: now_s.clone(),
            revision: 0,
        };
        let mut unit = Unit::new();
        unit.push_all(repo::insert_application(&row));
        for (digest, media, bytes) in f.attachments {
            unit.push(repo::insert_attachment(&digest, &media, bytes, &now_s));
        }
        let (action, citation) = if accepted {
            ("intake.accepted", Citation::new("п. 6 абз. 2; п. 7; п. 8"))
        } else {
            ("intake.refused_to_accept", Citation::new("п. 6 абз. 3; п. 7 абз. 3"))
        };
        let detail = serde_json::to_string(&IntakeDetail {
            accepted_on: row.accepted_on.as_deref(),
            channel: f.channel.as_str(),
            due_on: row.due_on.as_deref(),
            grounds: serde_json::to_value(&grounds).map_err(|e| Problem::internal(&e))?,
            late_exception: late_citation.map(|c| c.to_string()),
            paper_filing: paper_filing_json(&f.filed),
            purpose: &purpose.id,
            signature: signer.as_ref(),
        })
        .map_err(|e| Problem::internal(&e))?;
        unit.push(case_event(
            &id,
            &actor,
            action,
            citation.as_str(),
            version.id,
            detail,
            &now_s,
        ));
        unit.push(self.monitoring(
            &id,
            if accepted { "accepted" } else { "refused_to_accept" },
            &now_s,
            version.id,
        ));
        // The act of failure serves this filing only (taken in the same unit, or the unit fails).
        if accepted && let Some(act) = &act_used {
            unit.push(repo::use_outage_act(act, &id));
        }
        // Each family member arriving together: a case of its own (issue 14 item 7).
        if accepted && !receipt.family_cases.is_empty() {
            self.member_cases(&mut unit, &row, &req, &receipt.family_cases, version.id)?;
        }
        // п. 5 абз. 4: each minor family member's age-16 term, a clock from now on.
        if accepted {
            for (i, birth) in f.family_births.iter().enumerate() {
                if terms::add_years(*birth, 16) > filed_on {
                    self.start_age16(&mut unit, &id, i, *birth, version.id);
                }
            }
        }
        // The checks are recorded when they first run (`checks_of` shows them waiting until then).
        if let Some(op) = remember_key(caller, idempotency_key, request_hash, &id, &now_s) {
            unit.push(op);
        }
        match self.store.write(unit).await {
            Ok(()) => {}
            Err(koshi_store::StoreError::Conflict(_)) if idempotency_key.is_some() => {
                let (s, c) = self.lost_race(caller, idempotency_key, request_hash).await?;
                return Ok((s, c, None));
            }
            Err(e) => return Err(e.into()),
        }
        tracing::debug!(application = %id, status, channel = f.channel.as_str(), "application filed");
        let created = ApplicationCreated {
            id,
            status: status.into(),
            receipt,
            accepted_on: row.accepted_on.clone(),
            due_on: row.due_on.clone(),
            rules_version: version.id.into(),
            calendar_status: accepted.then(|| deadline.calendar_status.code().to_string()),
            case_files: Vec::new(),
        };
        let handoff = accepted.then(|| Box::new((row, req)));
        Ok((StatusCode::CREATED, created, handoff))
    }

    /// The answer already given to this caller's Idempotency-Key, if the key was seen before.
    pub(crate) async fn seen_before(
        &self,
        caller: &Caller,
        key: Option<&str>,
        request_hash: &str,
    ) -> Result<Option<(StatusCode, ApplicationCreated)>, Problem> {
        let Some(key) = key else { return Ok(None) };
        if key.is_empty() || key.len() > 200 {
            return Err(Problem::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1–200 characters",
            ));
        }
        match self.store.idempotency(&caller.token_id, key).await? {
            Some(existing) => Ok(Some(self.replay(&existing, request_hash).await?)),
            None => Ok(None),
        }
    }

    /// After a conflicting write: a concurrent request with the same key won; answer with its case.
    pub(crate) async fn lost_race(
        &self,
        caller: &Caller,
        key: Option<&str>,
        request_hash: &str,
    ) -> Result<(StatusCode, ApplicationCreated), Problem> {
        match self.seen_before(caller, key, request_hash).await? {
            Some(answer) => Ok(answer),
            None => Err(Problem::conflict(
                "conflict",
                "the request conflicted with another; retry",
            )),
        }
    }

    /// A PR talon is numbered by the journal (App. 8), whose number is assigned at commit.
    async fn journal_receipt_number(&self, row: &ApplicationRow, receipt: &mut Receipt) -> Result<(), Problem> {
        if row.kind == "pr"
            && let Some((unit, n)) = self.store.journal_entry(&row.id).await?
        {
            receipt.number = format!("{unit}/{n}");
        }
        Ok(())
    }

    async fn replay(
        &self,
        existing: &repo::IdempotencyRow,
        request_hash: &str,
    ) -> Result<(StatusCode, ApplicationCreated), Problem> {
        if existing.request_hash != request_hash {
            return Err(Problem::unprocessable(
                "idempotency_key_reused",
                "/",
                "this Idempotency-Key was used with a different request body",
            ));
        }
        let row = self
            .store
            .application(&existing.application_id)
            .await?
            .ok_or_else(|| Problem::not_found("application"))?;
        let mut receipt: Receipt = serde_json::from_str(&row.receipt).map_err(|e| Problem::internal(&e))?;
        self.journal_receipt_number(&row, &mut receipt).await?;
        Ok((
            StatusCode::CREATED,
            ApplicationCreated {
                id: row.id,
                status: row.status,
                receipt,
                calendar_status: crate::lawdata::calendar_status_of(
                    &self.law(),
                    row.accepted_on.as_deref(),
                    row.due_on.as_deref(),
                )
                .map(|s| s.code().to_string()),
                accepted_on: row.accepted_on,
                due_on: row.due_on,
                rules_version: row.rules_version,
                case_files: Vec::new(),
            },
        ))
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

    // ------------------------------------------------------------------ checks

    fn spawn_processing(&self, handoff: Handoff) {
        let me = self.clone();
        let id = handoff.0.id.clone();
        let mut set = self.inflight.lock().unwrap_or_else(|p| p.into_inner());
        // Reap finished tasks so the set does not grow without bound.
        while set.try_join_next().is_some() {}
        set.spawn(async move {
            if let Err(e) = me.process_with(&id, Some(handoff)).await {
                tracing::warn!(application = %id, error = %e.detail, "processing deferred");
            }
        });
    }

    /// Waits for every processing task started so far (tests and shutdown; never sleeps).
    pub async fn settle(&self) {
        loop {
            let mut set = std::mem::take(&mut *self.inflight.lock().unwrap_or_else(|p| p.into_inner()));
            if set.is_empty() {
                return;
            }
            while set.join_next().await.is_some() {}
        }
    }

    /// One pass of the background work: due check retries, then due deliveries.
    pub async fn tick(&self) -> Result<(usize, usize), Problem> {
        self.settle().await;
        // Law data another instance loaded (an official year, an MCI figure).
        if let Err(e) = self.refresh_law().await {
            tracing::error!(error = %e.detail, "law data loaded elsewhere cannot be applied; the law in force is unchanged");
        }
        let now = instant(self.now());
        let due = self.store.applications_with_due_checks(&now, 500).await?;
        let n = due.len();
        for id in due {
            if let Err(e) = self.process(&id).await {
                tracing::warn!(application = %id, error = %e.detail, "processing deferred");
            }
        }
        self.fire_due_timers().await?;
        let delivered = self.deliver_due().await?;
        Ok((n, delivered))
    }

    /// Runs the due checks of one case concurrently, records them, and decides when all are in.
    pub async fn process(&self, id: &str) -> Result<(), Problem> {
        self.process_with(id, None).await
    }

    /// As [`Service::process`], with the case just filed handed over in memory (saves reads).
    async fn process_with(&self, id: &str, handoff: Option<Handoff>) -> Result<(), Problem> {
        {
            let mut p = self.processing.lock().unwrap_or_else(|p| p.into_inner());
            if !p.insert(id.to_string()) {
                return Ok(()); // already in hand
            }
        }
        let r = self.process_inner(id, handoff).await;
        self.processing.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
        r
    }

    async fn process_inner(&self, id: &str, handoff: Option<Handoff>) -> Result<(), Problem> {
        // `stored`: whether the checks have rows yet (they are recorded when they first run).
        let (app, req, checks, stored) = match handoff {
            // Just filed: every check is waiting, nothing attempted yet.
            Some(h) => {
                let (app, req) = *h;
                let checks = not_yet_run(&app);
                (app, req, checks, false)
            }
            None => {
                let Some(app) = self.store.application(id).await? else {
                    return Err(Problem::not_found("application"));
                };
                if app.status != status::CHECKING {
                    return Ok(());
                }
                let req: ApplicationRequest = serde_json::from_str(&app.data).map_err(|e| Problem::internal(&e))?;
                let (checks, stored) = self.sheet_of(&app).await?;
                (app, req, checks, stored)
            }
        };
        let now = self.now();
        let now_s = instant(now);
        let due: Vec<Check> = checks
            .iter()
            .filter(|c| c.state == "waiting" && c.next_attempt_at.as_deref().is_none_or(|t| t <= now_s.as_str()))
            .filter_map(|c| Check::parse(&c.check_name))
            .collect();
        // The sheet as it will be recorded: the checks run now replace their earlier rows.
        let mut sheet: BTreeMap<Cow<'static, str>, CheckRow> =
            checks.into_iter().map(|c| (c.check_name.clone(), c)).collect();
        if due.is_empty() && sheet.values().any(|c| c.state == "waiting") {
            return Ok(());
        }
        let law = self.law();
        let on = law.calendar.civil(now).date();
        let purpose = law
            .requirements
            .purpose(&app.purpose)
            .ok_or_else(|| Problem::not_found("purpose"))?;
        let birth = parse_date(&req.immigrant.birth_date, "/immigrant/birth_date")?;
        let q = person_query(&req.immigrant, birth);

        // A family member is no household worker: the employer's limit is the immigrant's check.
        let household = purpose.household && req.family_of.is_none();
        let futures = due.iter().map(|&check| {
            let q = &q;
            let req = &req;
            let app = &app;
            async move { (check, self.run_check(check, q, req, app, household, on).await) }
        });
        let results = futures::future::join_all(futures).await;

        let mut unit = Unit::new();
        let mut findings: BTreeMap<Check, Finding> = BTreeMap::new();
        for (name, row) in &sheet {
            if row.state == "waiting" {
                continue;
            }
            match Check::parse(name) {
                Some(c) => {
                    findings.insert(c, finding_from_json(name, &row.state, row.finding.as_deref()));
                }
                // Not one of the seven checks: it decides nothing, and each of the seven that
                // has no finding is "not run", which sends the case to an officer.
                None => {
                    tracing::error!(application = %app.id, check = %name, "a stored check of an unknown name is ignored")
                }
            }
        }
        let mut failures: BTreeMap<RegistryKind, String> = BTreeMap::new();
        let mut successes: BTreeSet<RegistryKind> = BTreeSet::new();
        for (check, result) in results {
            let attempts = sheet.get(check.as_str()).map_or(0, |p| p.attempts) + 1;
            match result {
                Ok((finding, sources)) => {
                    successes.extend(sources);
                    let state = match &finding {
                        Finding::Clear => "clear",
                        Finding::Ground { .. } => "ground",
                        Finding::Officer { .. } => "officer",
                    };
                    sheet.insert(
                        Cow::Borrowed(check.as_str()),
                        CheckRow {
                            check_name: Cow::Borrowed(check.as_str()),
                            state: Cow::Borrowed(state),
                            finding: Some(match &finding {
                                Finding::Clear => Cow::Borrowed(repo::CLEAR_FINDING),
                                other => Cow::Owned(finding_to_json(other).to_string()),
                            }),
                            source: Cow::Borrowed(source_of(check)),
                            checked_at: Some(now_s.clone()),
                            attempts,
                            next_attempt_at: None,
                            last_error: None,
                        },
                    );
                    findings.insert(check, finding);
                }
                Err((registry, err)) => {
                    let backoff = SignedDuration::from_secs((60i64 << (attempts - 1).min(4)).min(900));
                    sheet.insert(
                        Cow::Borrowed(check.as_str()),
                        waiting_check(
                            check,
                            attempts,
                            Some(instant(now.checked_add(backoff).unwrap_or(now))),
                            Some(format!("{}: {err}", registry.as_str())),
                        ),
                    );
                    failures.insert(registry, err.to_string());
                }
            }
        }
        // All seven, in one record: the first run inserts the sheet (a concurrent first run
        // elsewhere then conflicts and this one is dropped, to be taken up again); later runs
        // replace it.
        let recorded: Vec<&CheckRow> = sheet.values().collect();
        unit.push(repo::record_checks(id, &recorded, !stored));
        // The outage journal (п. 9-5): one open outage per failing registry, journaled once its
        // delay passes one hour; closed by the first success.
        if !failures.is_empty() || !successes.is_empty() {
            let failing: Vec<(&str, &str, i64)> = failures.iter().map(|(r, e)| (r.as_str(), e.as_str(), 1)).collect();
            let answered: Vec<&str> = successes.iter().map(|r| r.as_str()).collect();
            self.journal_outages(&mut unit, "", &failing, &answered, now).await?;
        }

        let all_in = Check::ALL.iter().all(|c| findings.contains_key(c));
        if all_in {
            let list: Vec<(Check, Finding)> = findings.into_iter().collect();
            let principal = self.principal_of(&req).await?;
            self.decide_into(&mut unit, &app, &req, &list, principal.as_ref(), now)?;
        } else {
            // Registries keep the case waiting: its working day is a clock (п. 9).
            self.start_rvp_term(&mut unit, &app)?;
        }
        self.store.write(unit).await?;
        if !failures.is_empty() {
            tracing::info!(application = %id, failing = failures.len(), "registries unavailable; the case waits");
        }
        Ok(())
    }

    /// The seven checks of an RVP case as recorded. A case accepted for checking whose checks have
    /// not run yet has no rows: all seven are waiting, due since the case was accepted.
    async fn checks_of(&self, app: &ApplicationRow) -> Result<Vec<CheckRow>, Problem> {
        Ok(self.sheet_of(app).await?.0)
    }

    /// As [`Service::checks_of`], and whether the case has a recorded sheet yet.
    async fn sheet_of(&self, app: &ApplicationRow) -> Result<(Vec<CheckRow>, bool), Problem> {
        let rows = self.store.checks(&app.id).await?;
        if rows.is_empty() && app.kind == "rvp" && app.status == status::CHECKING {
            return Ok((not_yet_run(app), false));
        }
        let stored = !rows.is_empty();
        Ok((rows, stored))
    }

    /// Runs one check. Returns the finding and the registries that answered, or the failing one.
    async fn run_check(
        &self,
        check: Check,
        q: &PersonQuery,
        req: &ApplicationRequest,
        app: &ApplicationRow,
        household: bool,
        on: Date,
    ) -> Result<(Finding, Vec<RegistryKind>), (RegistryKind, RegistryError)> {
        let r = &self.registries;
        let t = self.config.registry_timeout;
        async fn timed<T>(
            kind: RegistryKind,
            t: std::time::Duration,
            f: impl std::future::Future<Output = Result<T, RegistryError>>,
        ) -> Result<T, (RegistryKind, RegistryError)> {
            match tokio::time::timeout(t, f).await {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(e)) => Err((kind, e)),
                Err(_) => Err((kind, RegistryError::Timeout)),
            }
        }
        match check {
            Check::Completeness => Ok((Finding::Clear, vec![])),
            Check::BorderCrossings => {
                let a = timed(RegistryKind::Berkut, t, r.berkut.border_crossings(q)).await?;
                Ok((
                    rvp::judge_border(&rvp::BorderFacts {
                        lawful_entry_recorded: a.lawful_entry_recorded,
                    }),
                    vec![RegistryKind::Berkut],
                ))
            }
            Check::Records => {
                let (p, k) = tokio::join!(
                    timed(RegistryKind::PoliceRecords, t, r.police_records.police_records(q)),
                    timed(RegistryKind::Kpsisu, t, r.kpsisu.kpsisu_records(q))
                );
                let (p, k) = (p?, k?);
                let facts = rvp::RecordFacts {
                    convicted: p.convicted || k.convicted,
                    wanted: p.wanted || k.wanted,
                    unpaid_penalties: p.unpaid_penalties || k.unpaid_penalties,
                };
                Ok((
                    rvp::judge_records(&facts),
                    vec![RegistryKind::PoliceRecords, RegistryKind::Kpsisu],
                ))
            }
            Check::Iin => {
                let mut people = vec![q.clone()];
                // Family members with cases of their own are checked there; a case filed before
                // they had them checks its family here.
                let family = if app.receipt.contains("\"family_cases\"") {
                    &[][..]
                } else {
                    &req.family[..]
                };
                for (i, f) in family.iter().enumerate() {
                    match parse_date(&f.person.birth_date, "") {
                        Ok(b) => people.push(person_query(&f.person, b)),
                        // A family member who cannot be asked about is never left out of the check.
                        Err(_) => {
                            return Ok((
                                Finding::Officer {
                                    code: "stored_finding_unreadable",
                                    detail: format!(
                                        "the stored birth date of family member {} cannot be read: the IIN check cannot ask ГБД ФЛ",
                                        i + 1
                                    ),
                                },
                                vec![],
                            ));
                        }
                    }
                }
                let answers =
                    futures::future::join_all(people.iter().map(|p| timed(RegistryKind::GbdFl, t, r.gbd_fl.iin(p))))
                        .await;
                let mut without = 0;
                for a in answers {
                    if a?.iin.is_none() {
                        without += 1;
                    }
                }
                Ok((rvp::judge_iin(people.len(), without), vec![RegistryKind::GbdFl]))
            }
            Check::HouseholdQuota => {
                if !household {
                    return Ok((Finding::Clear, vec![]));
                }
                let Some(employer) = app.employer_iin.clone() else {
                    // A household filing whose employer is not on the case cannot be counted:
                    // an officer establishes it (never counted as an employer with none).
                    return Ok((
                        Finding::Officer {
                            code: "household_employer_unknown",
                            detail:
                                "the household employer's IIN is not on the case: the household RVPs cannot be counted"
                                    .into(),
                        },
                        vec![],
                    ));
                };
                let legacy = timed(
                    RegistryKind::HouseholdRvps,
                    t,
                    r.household_rvps.household_rvps(&employer, on),
                )
                .await?;
                let own = self
                    .store
                    .valid_household_rvps(&employer, &on.to_string())
                    .await
                    .map_err(|e| {
                        (
                            RegistryKind::HouseholdRvps,
                            RegistryError::Unavailable(format!("ИС МП store: {e}")),
                        )
                    })?;
                let count = legacy
                    .valid_household_rvps
                    .saturating_add(u32::try_from(own).unwrap_or(u32::MAX));
                Ok((
                    rvp::judge_household_quota(true, count, self.law().params.household_limit_per_employer),
                    vec![RegistryKind::HouseholdRvps],
                ))
            }
            Check::PendingPr => {
                let legacy = timed(RegistryKind::PendingPr, t, r.pending_pr.pending_pr(q)).await?;
                let iin_key = req
                    .immigrant
                    .iin
                    .as_deref()
                    .map(iin_key)
                    .unwrap_or_else(|| app.person_key.clone());
                let own = self
                    .store
                    .pending_pr_applications(&app.person_key, &iin_key)
                    .await
                    .map_err(|e| {
                        (
                            RegistryKind::PendingPr,
                            RegistryError::Unavailable(format!("ИС МП store: {e}")),
                        )
                    })?;
                Ok((
                    rvp::judge_pending_pr(legacy.pending || own > 0),
                    vec![RegistryKind::PendingPr],
                ))
            }
            Check::Fingerprints => {
                let a = timed(RegistryKind::Fingerprints, t, r.fingerprints.fingerprints(q)).await?;
                Ok((rvp::judge_fingerprints(a.registered), vec![RegistryKind::Fingerprints]))
            }
        }
    }

    // ------------------------------------------------------------------ decision

    /// Adds the decision to the unit: issue (straight through), or wait for an officer.
    fn decide_into(
        &self,
        unit: &mut Unit,
        app: &ApplicationRow,
        req: &ApplicationRequest,
        findings: &[(Check, Finding)],
        principal: Option<&ApplicationRow>,
        now: Timestamp,
    ) -> Result<(), Problem> {
        let now_s = instant(now);
        let mut decision = rvp::decide(findings);
        let mut service_grounds = self.service_grounds(app, req);
        // A family member's case follows the immigrant's (issue 14 item 7).
        let mut principal_until = None;
        if let Some(p) = principal {
            match crate::family::standing(p)? {
                crate::family::Principal::Pending => return self.await_principal(unit, app, &p.id),
                crate::family::Principal::Refused(id) => {
                    service_grounds.push(crate::family::principal_refused_ground(&id))
                }
                crate::family::Principal::Issued(until) => principal_until = Some(until),
            }
        }
        if !service_grounds.is_empty() {
            decision = match decision {
                RvpDecision::Refuse { grounds } => RvpDecision::Refuse { grounds },
                _ => RvpDecision::Refuse { grounds: Vec::new() },
            };
        }
        let proposal = match &decision {
            RvpDecision::Issue { citation } => match self.validity(app, req, now, None, principal_until) {
                Ok(v) if self.config.straight_through => {
                    let citation = citation.to_string();
                    match self.form_or_prepare(unit, app, &v, &citation, now)? {
                        None => return Ok(()),
                        Some(prepared) => prepared,
                    }
                }
                Ok(v) => {
                    json!({"outcome": "issued", "citation": citation.to_string(), "valid_from": v.valid_from.to_string(), "valid_until": v.valid_until.to_string(), "bounds": bounds_json(&v)})
                }
                Err(reason) => {
                    json!({"outcome": "officer", "reasons": [{"check": null, "code": "validity_needs_officer", "detail": reason}]})
                }
            },
            RvpDecision::Refuse { grounds } => json!({
                "outcome": "refused",
                "form": "App. 2-1",
                "citation": "п. 9-3",
                "grounds": grounds.iter().map(|(c, code, detail, cite)| json!({"check": c.as_str(), "code": code, "detail": detail, "citation": cite.to_string()})).chain(service_grounds.iter().cloned()).collect::<Vec<_>>(),
            }),
            RvpDecision::Officer { reasons } => json!({
                "outcome": "officer",
                "reasons": reasons.iter().map(|(c, code, detail)| json!({"check": c.as_str(), "code": code, "detail": detail})).collect::<Vec<_>>(),
            }),
        };
        // The case waits for a person now: its working day is a clock (п. 9).
        self.start_rvp_term(unit, app)?;
        let outcome = proposal["outcome"].as_str().unwrap_or("officer").to_string();
        let new_status = if outcome == "officer" {
            status::AWAITING_OFFICER
        } else {
            status::AWAITING_CONFIRMATION
        };
        unit.push(repo::change_status(StatusChange {
            id: app.id.clone(),
            expected_revision: app.revision,
            status: new_status.into(),
            decision: Some(json!({"proposed": proposal}).to_string()),
            permit_number: None,
            valid_from: None,
            valid_until: None,
            updated_at: now_s.clone(),
        }));
        unit.push(case_event(
            &app.id,
            "system",
            "checks.completed",
            "п. 9-1",
            crate::service::known_version(&app.rules_version)?,
            json!({"proposed": proposal}),
            &now_s,
        ));
        unit.push(self.monitoring(&app.id, "checks_completed", &now_s, &app.rules_version));
        Ok(())
    }

    /// Grounds to refuse the service that no check finds but the filing shows (issue 14 item 9;
    /// п. 9-3): an inviting party the law does not allow for the purpose (п. 4). Neither the
    /// counter (п. 6) nor an officer's issuance passes over them.
    pub(crate) fn service_grounds(&self, app: &ApplicationRow, req: &ApplicationRequest) -> Vec<Value> {
        let law = self.law();
        let party_ground = match (
            law.requirements.purpose(&app.purpose),
            PartyKind::parse(&req.inviting_party.kind),
        ) {
            (Some(purpose), Some(party)) => inviting_party_allowed(purpose, party, req.immigrant.from_visa_free_state)
                .err()
                .map(|cite| {
                    (
                        cite.to_string(),
                        format!("a {} cannot invite for {}", party.as_str(), purpose.id),
                    )
                }),
            _ => Some((
                "п. 4".to_string(),
                "the stored filing's purpose or inviting party cannot be read".to_string(),
            )),
        };
        party_ground
            .iter()
            .map(|(cite, detail)| json!({"ground": "inviting_party", "code": "inviting_party_not_allowed", "detail": detail, "citation": format!("п. 9-3; {cite}")}))
            .collect()
    }

    pub(crate) fn validity(
        &self,
        app: &ApplicationRow,
        req: &ApplicationRequest,
        now: Timestamp,
        officer_until: Option<Date>,
        principal_until: Option<Date>,
    ) -> Result<rvp::Validity, String> {
        let law = self.law();
        let purpose = law.requirements.purpose(&app.purpose).ok_or("unknown purpose")?;
        let issued_on = law.calendar.civil(now).date();
        let unreadable = |what: &str| format!("the stored {what} cannot be read: an officer sets the end of validity");
        let passport =
            Some(parse_date(&req.immigrant.document.expires_on, "").map_err(|_| unreadable("passport expiry"))?);
        let basis_kinds: Vec<&str> = purpose
            .documents
            .iter()
            .filter(|d| d.role.as_deref() == Some("basis"))
            .map(|d| d.kind.as_str())
            .collect();
        let mut basis: Option<Date> = None;
        for d in req.documents.iter().filter(|d| basis_kinds.contains(&d.kind.as_str())) {
            if let Some(s) = d.expires_on.as_deref() {
                let e = parse_date(s, "").map_err(|_| unreadable("basis document's end"))?;
                basis = Some(basis.map_or(e, |b| b.min(e)));
            }
        }
        let requested = match officer_until {
            Some(d) => Some(d),
            None => req
                .requested_until
                .as_deref()
                .map(|s| parse_date(s, "").map_err(|_| unreadable("requested end")))
                .transpose()?,
        };
        let mut v = rvp::validity(purpose, issued_on, passport, basis, requested).map_err(|e| match e {
            rvp::ValidityError::NoSettledTerm => "the law sets no term for this purpose and no basis document bounds it: an officer sets the end of validity".to_string(),
            rvp::ValidityError::Empty { until } => format!("the bounds leave no day of validity (until {until})"),
        })?;
        // A family member's RVP is valid no longer than the immigrant's it rests on.
        if let Some(until) = principal_until
            && until < v.valid_until
        {
            if until < v.valid_from {
                return Err(format!(
                    "the immigrant's RVP ended on {until}: no day of validity is left"
                ));
            }
            v.valid_until = until;
            v.bounds
                .push(("principal_permit", until, Citation::new("п. 9-1 пп. 4 (family member)")));
        }
        Ok(v)
    }

    /// Issues the RVP (App. 2): the status change with the decision, its audit event, the stage
    /// for monitoring and the document to the channel's destination. The payloads are written from
    /// typed values, keys in alphabetical order as every payload Koshi writes.
    pub(crate) fn issue_into(
        &self,
        unit: &mut Unit,
        app: &ApplicationRow,
        actor: &str,
        issue: Issue<'_>,
        now_s: &str,
    ) -> Result<(), Problem> {
        let from = issue.validity.valid_from.to_string();
        let until = issue.validity.valid_until.to_string();
        let number = permit_number(&from, &app.id);
        let decision = IssuedDecision {
            bounds: bounds(issue.validity),
            citation: issue.citation,
            comment: issue.comment,
            decided_at: now_s,
            decided_by: actor,
            form: "App. 2",
            formed_by: issue.formed_by,
            outcome: "issued",
            permit_number: &number,
            set_aside: issue.set_aside,
            valid_from: &from,
            valid_until: &until,
        };
        let decision = serde_json::to_string(&decision).map_err(|e| Problem::internal(&e))?;
        let permit = PermitFacts {
            permit_number: &number,
            valid_from: &from,
            valid_until: &until,
        };
        let detail = serde_json::to_string(&permit).map_err(|e| Problem::internal(&e))?;
        let document = PermitDocument {
            document: "rvp",
            form: "App. 2",
            permit_number: &number,
            valid_from: &from,
            valid_until: &until,
        };
        let delivery = self.delivery(app, &document, now_s)?;
        unit.push(repo::change_status(StatusChange {
            id: app.id.clone(),
            expected_revision: app.revision,
            status: status::ISSUED.into(),
            decision: Some(decision),
            permit_number: Some(number),
            valid_from: Some(from),
            valid_until: Some(until),
            updated_at: now_s.into(),
        }));
        unit.push(case_event(
            &app.id,
            actor,
            "decision.issued",
            "п. 9-1 абз. 8; App. 2",
            crate::service::known_version(&app.rules_version)?,
            detail,
            now_s,
        ));
        unit.push(self.monitoring(&app.id, "issued", now_s, &app.rules_version));
        unit.push(delivery);
        Service::wake_family(unit, app, now_s);
        Ok(())
    }

    /// The result for the channel's destination (desk print, ИИС ЦОН, portal cabinet), queued in
    /// the outbox.
    fn delivery<D: serde::Serialize>(
        &self,
        app: &ApplicationRow,
        doc: &D,
        now_s: &str,
    ) -> Result<koshi_store::Op, Problem> {
        // The channel the filing came by decides (never a destination the filer named).
        let topic = result_topic(&app.channel);
        /// Keys in alphabetical order, as every payload Koshi writes.
        #[derive(serde::Serialize)]
        struct Delivery<'a, D> {
            application_id: &'a str,
            citation: &'a str,
            result: &'a D,
            unit: &'a str,
        }
        let payload = serde_json::to_string(&Delivery {
            application_id: &app.id,
            citation: "п. 9-1 абз. 8–11",
            result: doc,
            unit: &app.unit,
        })
        .map_err(|e| Problem::internal(&e))?;
        Ok(outbox_message(&app.id, topic, payload, now_s))
    }

    /// The officer's decision (confirm the proposal, issue, or refuse).
    pub async fn decide(&self, caller: &Caller, id: &str, d: DecisionRequest) -> Result<Value, Problem> {
        let app = self
            .store
            .application(id)
            .await?
            .ok_or_else(|| Problem::not_found("application"))?;
        self.authz
            .allow_case(caller, "application.decide", &app.unit, &app.filed_unit)?;
        if app.status != status::AWAITING_CONFIRMATION && app.status != status::AWAITING_OFFICER {
            return Err(Problem::conflict(
                "not_awaiting_decision",
                format!("the application is {}, not awaiting a decision", app.status),
            ));
        }
        let req: ApplicationRequest = serde_json::from_str(&app.data).map_err(|e| Problem::internal(&e))?;
        // A proposal that cannot be read is never read as "nothing proposed".
        let current: Value = match app.decision.as_deref() {
            None => Value::Null,
            Some(s) => serde_json::from_str(s).map_err(|_| {
                Problem::conflict(
                    "stored_record_unreadable",
                    "the case's stored proposal cannot be read; it must be looked at before a decision",
                )
            })?,
        };
        let proposed = current["proposed"].clone();
        let checks = self.checks_of(&app).await?;
        let found_grounds: Vec<&CheckRow> = checks.iter().filter(|c| c.state == "ground").collect();
        let now = self.now();
        let now_s = instant(now);
        let mut unit = Unit::new();
        let action = match d.action.as_str() {
            "confirm" => match proposed["outcome"].as_str() {
                Some("issued") => "issue_proposed",
                Some("refused") => "refuse_proposed",
                _ => {
                    return Err(Problem::conflict(
                        "nothing_to_confirm",
                        "no automatic decision was proposed; issue or refuse",
                    ));
                }
            },
            "issue" => "issue",
            "refuse" => "refuse",
            other => {
                return Err(Problem::unprocessable(
                    "unknown_action",
                    "/action",
                    format!("{other:?} is not confirm, issue or refuse"),
                ));
            }
        };
        let actor = caller.actor();
        // Nobody decides an application before the day it counts as accepted (п. 8): the act
        // would be valid from before its acceptance.
        let accepted_on = crate::forming::accepted_on(&app)?;
        if self.law().calendar.civil(now).date() < accepted_on {
            return Err(Problem::conflict(
                "before_acceptance_day",
                format!("the application counts as accepted on {accepted_on} (п. 8): it is decided from that day"),
            ));
        }
        match action {
            "issue_proposed" | "issue" => {
                let service_grounds = self.service_grounds(&app, &req);
                if !service_grounds.is_empty() {
                    return Err(Problem::conflict(
                        "grounds_found",
                        format!(
                            "the filing itself is a ground to refuse the service: {}",
                            service_grounds
                                .iter()
                                .filter_map(|g| g["detail"].as_str())
                                .collect::<Vec<_>>()
                                .join("; ")
                        ),
                    ));
                }
                let set_aside = set_aside_grounds(&found_grounds, &d.set_aside)?;
                for (check, reason) in &set_aside {
                    unit.push(case_event(
                        &app.id,
                        &actor,
                        "decision.finding_set_aside",
                        "п. 9-1; п. 9-3",
                        crate::service::known_version(&app.rules_version)?,
                        json!({"check": check.as_str(), "citation": check.citation().to_string(), "reason": reason}),
                        &now_s,
                    ));
                }
                let principal_until = match self.principal_of(&req).await? {
                    None => None,
                    Some(p) => match crate::family::standing(&p)? {
                        crate::family::Principal::Issued(until) => Some(until),
                        _ => {
                            return Err(Problem::conflict(
                                "principal_not_issued",
                                format!(
                                    "the immigrant's case {} is {}: a family member's RVP is issued only with the immigrant's",
                                    p.id, p.status
                                ),
                            ));
                        }
                    },
                };
                let officer_until = opt_date(&d.valid_until, "/valid_until")?;
                let v = self
                    .validity(&app, &req, now, officer_until, principal_until)
                    .map_err(|r| Problem::unprocessable("validity_required", "/valid_until", r))?;
                if let Some(u) = officer_until
                    && u > v.valid_until
                {
                    return Err(Problem::unprocessable(
                        "validity_beyond_bounds",
                        "/valid_until",
                        format!("the law bounds validity at {}", v.valid_until),
                    ));
                }
                let mut issue = Issue::new("п. 9-1 абз. 8; App. 2", &v, Some(d.comment.as_deref()));
                issue.set_aside = set_aside
                    .iter()
                    .map(|(c, r)| SetAside {
                        check: c.as_str(),
                        reason: r,
                    })
                    .collect();
                self.issue_into(&mut unit, &app, &actor, issue, &now_s)?;
            }
            _ => {
                let grounds: Vec<Value> = if action == "refuse_proposed" {
                    // п. 9-3: a refusal names its grounds; a proposal without them is not one.
                    match proposed["grounds"].as_array() {
                        Some(g) if !g.is_empty() => g.clone(),
                        _ => {
                            return Err(Problem::conflict(
                                "stored_record_unreadable",
                                "the proposed refusal names no grounds that can be read; refuse with grounds instead",
                            ));
                        }
                    }
                } else {
                    if d.grounds.is_empty() {
                        return Err(Problem::unprocessable(
                            "grounds_required",
                            "/grounds",
                            "a motivated refusal names its grounds (п. 9-3)",
                        ));
                    }
                    let law = self.law();
                    let mut out = Vec::new();
                    for (i, g) in d.grounds.iter().enumerate() {
                        if g.detail.trim().is_empty() {
                            return Err(Problem::unprocessable(
                                "missing_field",
                                &format!("/grounds/{i}/detail"),
                                "a ground states its facts",
                            ));
                        }
                        // One of the seven checks, or another ground of law from the requirements.
                        if let Some(c) = Check::parse(&g.check) {
                            out.push(json!({"check": c.as_str(), "code": "officer_finding", "detail": g.detail, "citation": format!("п. 9-3; {}", c.citation())}));
                        } else if let Some(lg) = law.requirements.rvp_refusal_grounds.iter().find(|x| x.id == g.check) {
                            out.push(json!({"ground": lg.id, "code": "officer_finding", "detail": g.detail, "citation": format!("п. 9-3; {}", lg.citation), "source_status": lg.status.as_str()}));
                        } else {
                            let known: Vec<&str> = Check::ALL
                                .iter()
                                .map(|c| c.as_str())
                                .chain(law.requirements.rvp_refusal_grounds.iter().map(|x| x.id.as_str()))
                                .collect();
                            return Err(Problem::unprocessable(
                                "unknown_check",
                                &format!("/grounds/{i}/check"),
                                format!(
                                    "{:?} is neither a check of п. 9-1 nor a ground of law; one of: {}",
                                    g.check,
                                    known.join(", ")
                                ),
                            ));
                        }
                    }
                    out
                };
                let decision = json!({"outcome": "refused", "form": "App. 2-1", "citation": "п. 9-3", "grounds": grounds, "decided_at": now_s, "decided_by": actor, "comment": d.comment});
                unit.push(repo::change_status(StatusChange {
                    id: app.id.clone(),
                    expected_revision: app.revision,
                    status: status::REFUSED.into(),
                    decision: Some(decision.to_string()),
                    permit_number: None,
                    valid_from: None,
                    valid_until: None,
                    updated_at: now_s.clone(),
                }));
                unit.push(case_event(
                    &app.id,
                    &actor,
                    "decision.refused",
                    "п. 9-3; App. 2-1",
                    crate::service::known_version(&app.rules_version)?,
                    json!({"grounds": grounds}),
                    &now_s,
                ));
                unit.push(self.monitoring(&app.id, "refused", &now_s, &app.rules_version));
                Service::wake_family(&mut unit, &app, &now_s);
                unit.push(self.delivery(
                    &app,
                    &json!({"document": "refusal_notice", "form": "App. 2-1", "grounds": grounds}),
                    &now_s,
                )?);
            }
        }
        self.store.write(unit).await?;
        self.view_decision(id).await
    }

    async fn view_decision(&self, id: &str) -> Result<Value, Problem> {
        let app = self
            .store
            .application(id)
            .await?
            .ok_or_else(|| Problem::not_found("application"))?;
        Ok(
            json!({"id": app.id, "status": app.status, "decision": app.decision.as_deref().and_then(|s| serde_json::from_str::<Value>(s).ok())}),
        )
    }

    /// п. 9-2: a duplicate of a lost or damaged permit, after a check in ИС МП.
    pub async fn duplicate(&self, caller: &Caller, id: &str, d: DuplicateRequest) -> Result<DuplicateIssued, Problem> {
        if d.reason != "lost" && d.reason != "damaged" {
            return Err(Problem::unprocessable(
                "unknown_reason",
                "/reason",
                "expected lost or damaged",
            ));
        }
        if d.statement.trim().is_empty() {
            return Err(Problem::unprocessable(
                "missing_field",
                "/statement",
                "the statement to the head of the police body is required",
            ));
        }
        let app = self
            .store
            .application(id)
            .await?
            .ok_or_else(|| Problem::not_found("application"))?;
        self.authz
            .allow_case(caller, "application.duplicate", &app.unit, &app.filed_unit)?;
        let (Some(number), Some(from), Some(until)) = (&app.permit_number, &app.valid_from, &app.valid_until) else {
            return Err(Problem::conflict(
                "no_permit",
                "no permit was issued on this application",
            ));
        };
        if app.status != status::ISSUED {
            return Err(Problem::conflict(
                "no_permit",
                format!("the application is {}", app.status),
            ));
        }
        let today = self.today().to_string();
        if until.as_str() < today.as_str() {
            return Err(Problem::conflict(
                "permit_expired",
                format!("the permit expired on {until}"),
            ));
        }
        let n = self
            .store
            .events(id)
            .await?
            .iter()
            .filter(|e| e.action == "duplicate.issued")
            .count()
            + 1;
        let duplicate_number = format!("{number}-D{n}");
        let now_s = instant(self.now());
        let mut unit = Unit::new();
        unit.push(case_event(
            &app.id,
            &caller.actor(),
            "duplicate.issued",
            "п. 9-2",
            crate::service::known_version(&app.rules_version)?,
            json!({"duplicate_number": duplicate_number, "reason": d.reason}),
            &now_s,
        ));
        unit.push(self.delivery(&app, &json!({"document": "rvp_duplicate", "form": "App. 2", "permit_number": number, "duplicate_number": duplicate_number, "valid_from": from, "valid_until": until}), &now_s)?);
        unit.push(self.monitoring(&app.id, "duplicate_issued", &now_s, &app.rules_version));
        self.store.write(unit).await?;
        Ok(DuplicateIssued {
            application_id: app.id.clone(),
            permit_number: number.clone(),
            duplicate_number,
            valid_from: from.clone(),
            valid_until: until.clone(),
            citation: "п. 9-2".into(),
        })
    }

    /// Fires the legal clocks that are due (durable timers): each exactly once, even with several
    /// instances on one database; the mark goes into the case's audit trail with its citation.
    pub async fn fire_due_timers(&self) -> Result<usize, Problem> {
        let now = self.now();
        let now_s = instant(now);
        let lease = instant(now.checked_add(SignedDuration::from_mins(5)).unwrap_or(now));
        let mut fired = 0;
        loop {
            let due = self
                .store
                .claim_due_timers(&self.instance_id, &now_s, &lease, 500)
                .await?;
            if due.is_empty() {
                return Ok(fired);
            }
            for t in due {
                if t.kind == crate::family::FAMILY_TIMER {
                    match self.fire_family_timer(&t, &now_s).await {
                        Ok(true) => fired += 1,
                        Ok(false) => {}
                        Err(e) => {
                            tracing::warn!(timer = %t.id, case = %t.subject, error = %e.detail, "family member not decided yet; retried")
                        }
                    }
                    continue;
                }
                if t.kind == crate::forming::FORM_TIMER {
                    let unit = match self.store.application(&t.subject).await {
                        Ok(Some(app)) => self.fire_form_timer(&t, &app, now).await,
                        _ => Err(Problem::not_found("application")),
                    };
                    match unit {
                        Ok(unit) => match self.store.write(unit).await {
                            Ok(()) => fired += 1,
                            Err(koshi_store::StoreError::Conflict(_)) => {}
                            Err(e) => return Err(e.into()),
                        },
                        Err(e) => {
                            tracing::error!(timer = %t.id, case = %t.subject, error = %e.detail, "forming timer not fired: its case cannot be read")
                        }
                    }
                    continue;
                }
                let Some((action, cite)) = crate::clocks::meaning(&t.kind) else {
                    tracing::error!(timer = %t.id, kind = %t.kind, "timer not fired: Koshi does not know its kind");
                    continue;
                };
                // The event is recorded under the case's own version of the Rules; a case that
                // cannot be read, or a version Koshi does not know, leaves the timer unfired (it
                // is claimed again when its lease ends) and is logged for operations: never an
                // event recorded under an unknown version.
                let app = match self.store.application(&t.subject).await {
                    Ok(Some(app)) => app,
                    _ => {
                        tracing::error!(timer = %t.id, kind = %t.kind, case = %t.subject, "timer not fired: its case cannot be read");
                        continue;
                    }
                };
                let Ok(version) = known_version(&app.rules_version) else {
                    tracing::error!(timer = %t.id, kind = %t.kind, case = %t.subject, "timer not fired: the case's rules version is unknown");
                    continue;
                };
                let detail: Value = match serde_json::from_str(&t.payload) {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::error!(timer = %t.id, kind = %t.kind, error = %e, "timer not fired: its payload cannot be read");
                        continue;
                    }
                };
                let mut unit = Unit::new().with(koshi_store::timers::fired(&t.id, &self.instance_id, &now_s));
                let closed = matches!(
                    app.status.as_str(),
                    "issued" | "refused" | "refused_to_accept" | "annulled" | "withdrawn"
                );
                // A term that ends with its case (the RVP's working day) marks nothing once the
                // case is decided: the clock simply ends.
                if !(closed && crate::clocks::ends_with_case(&t.kind)) {
                    unit.push(case_event(
                        &t.subject,
                        "system",
                        action,
                        cite,
                        version,
                        json!({"timer": t.kind, "due": detail}),
                        &now_s,
                    ));
                    unit.push(self.monitoring(&t.subject, action, &now_s, version));
                    if action == "rvp.age16.reminder" {
                        // п. 5 абз. 4: the recipient is reminded through the case's channel that
                        // the minor must apply within ten days of turning 16.
                        unit.push(outbox_message(
                            &t.subject,
                            result_topic(&app.channel),
                            json!({"application_id": t.subject, "document": "age16_reminder", "member": detail["member"], "sixteenth_birthday": detail["sixteenth_birthday"], "apply_by": detail["due_on"], "citation": "п. 5 абз. 4"}).to_string(),
                            &now_s,
                        ));
                    }
                }
                match self.store.write(unit).await {
                    Ok(()) => fired += 1,
                    // Another instance took the timer after our lease ran out: it fired there.
                    Err(koshi_store::StoreError::Conflict(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }

    // ------------------------------------------------------------------ outbox

    /// Delivers due outbox messages (at least once); failures retry with backoff.
    pub async fn deliver_due(&self) -> Result<usize, Problem> {
        let now = self.now();
        let now_s = instant(now);
        let due = self.store.outbox_due(&now_s, 1000).await?;
        let mut delivered = 0;
        let mut unit = Unit::new();
        let mut failing: BTreeMap<&str, (String, i64)> = BTreeMap::new();
        let mut answered: Vec<&str> = Vec::new();
        for m in &due {
            // A message that cannot be read is never delivered as an empty one: it stays in the
            // outbox, failed, for operations to see.
            let payload: Value = match serde_json::from_str(&m.payload) {
                Ok(v) => v,
                Err(e) => {
                    tracing::error!(message = %m.id, topic = %m.topic, error = %e, "an outbox message cannot be read: not delivered");
                    unit.push(repo::outbox_failed(
                        &m.id,
                        &instant(now.checked_add(SignedDuration::from_hours(1)).unwrap_or(now)),
                        "payload unreadable",
                    ));
                    continue;
                }
            };
            match self.sink.deliver(&m.topic, &m.id, &payload).await {
                Ok(()) => {
                    unit.push(repo::outbox_delivered(&m.id, &now_s));
                    if !answered.contains(&m.topic.as_str()) {
                        answered.push(&m.topic);
                    }
                    // The notification reached its recipient (п. 14 пп. 5) and, for a ЦОН, the
                    // ЦОН (п. 15): their clocks stop.
                    if payload["document"] == "notification"
                        && let Some(case) = m.application_id.as_deref()
                    {
                        Service::stop_clock(&mut unit, "pr.notification", case);
                        if m.topic == "delivery.iis_con" {
                            Service::stop_clock(&mut unit, "pr.con_delivery", case);
                        }
                    }
                    delivered += 1;
                }
                Err(e) => {
                    // A message counts as delayed once, at its first failed attempt.
                    let entry = failing.entry(&m.topic).or_insert_with(|| (e.clone(), 0));
                    entry.1 += i64::from(m.attempts == 0);
                    let backoff = SignedDuration::from_secs((30i64 << m.attempts.clamp(0, 5)).min(900));
                    unit.push(repo::outbox_failed(
                        &m.id,
                        &instant(now.checked_add(backoff).unwrap_or(now)),
                        &e,
                    ));
                }
            }
        }
        let failing: Vec<(&str, &str, i64)> = failing.iter().map(|(t, (e, n))| (*t, e.as_str(), *n)).collect();
        self.journal_outages(&mut unit, "outbox:", &failing, &answered, now)
            .await?;
        self.store.write(unit).await?;
        Ok(delivered)
    }

    // ------------------------------------------------------------------ views

    /// The case for a caller allowed to read it; the read of personal data enters the audit trail.
    pub async fn view_for(&self, caller: &Caller, id: &str) -> Result<ApplicationView, Problem> {
        self.authz.allow(caller, "application.read")?;
        let app = self
            .store
            .application(id)
            .await?
            .ok_or_else(|| Problem::not_found("application"))?;
        party_may_see(caller, &app)?;
        self.authz
            .allow_case(caller, "application.read", &app.unit, &app.filed_unit)?;
        let now_s = instant(self.now());
        self.store
            .write(Unit::new().with(case_event(
                &app.id,
                &caller.actor(),
                "personal_data.read",
                "Law on Personal Data and Their Protection (access record)",
                crate::service::known_version(&app.rules_version)?,
                json!({"fields": "case file"}),
                &now_s,
            )))
            .await?;
        self.view(id).await
    }

    pub async fn view(&self, id: &str) -> Result<ApplicationView, Problem> {
        let app = self
            .store
            .application(id)
            .await?
            .ok_or_else(|| Problem::not_found("application"))?;
        let checks = self.checks_of(&app).await?;
        let events = self.store.events(id).await?;
        let mut receipt: Receipt = serde_json::from_str(&app.receipt).map_err(|e| Problem::internal(&e))?;
        self.journal_receipt_number(&app, &mut receipt).await?;
        let now = self.law().calendar.civil(self.now());
        let open = matches!(
            app.status.as_str(),
            status::CHECKING | status::AWAITING_CONFIRMATION | status::AWAITING_OFFICER
        );
        let overdue = open
            && app
                .due_on
                .as_deref()
                .and_then(|d| d.parse::<Date>().ok())
                .is_some_and(|due| {
                    now.date() > due || (now.date() == due && now.time() >= self.law().calendar.hours().work_end)
                });
        Ok(ApplicationView {
            id: app.id,
            kind: app.kind,
            status: app.status,
            channel: app.channel,
            unit: app.unit,
            purpose: app.purpose,
            filed_at: app.filed_at,
            calendar_status: crate::lawdata::calendar_status_of(
                &self.law(),
                app.accepted_on.as_deref(),
                app.due_on.as_deref(),
            )
            .map(|s| s.code().to_string()),
            accepted_on: app.accepted_on,
            due_on: app.due_on,
            overdue,
            rules_version: app.rules_version,
            receipt,
            checks: checks
                .into_iter()
                .map(|c| CheckView {
                    citation: Check::parse(&c.check_name)
                        .map(|x| x.citation().to_string())
                        .unwrap_or_default(),
                    check: c.check_name.into_owned(),
                    state: c.state.into_owned(),
                    finding: c.finding.map(|f| stored_json(&f)),
                    source: c.source.into_owned(),
                    checked_at: c.checked_at,
                    attempts: c.attempts,
                    next_attempt_at: c.next_attempt_at,
                    last_error: c.last_error,
                })
                .collect(),
            decision: app.decision.map(|d| stored_json(&d)),
            events: events
                .into_iter()
                .map(|e| EventView {
                    at: e.at,
                    actor: e.actor,
                    action: e.action,
                    citation: e.citation,
                    rules_version: e.rules_version,
                    detail: stored_json(&e.detail),
                })
                .collect(),
        })
    }
}

/// The seven checks of a case whose checks have not run yet: waiting, never attempted, due since
/// the case was accepted; in the order the store lists recorded checks (by name).
/// The documents as kept with the filing: each electronic copy given with its content (in
/// `copies`, in document order) named by its SHA-256 instead.
pub(crate) fn by_digest(documents: &mut [DocumentInput], copies: &[(String, String, Vec<u8>)]) {
    let mut digests = copies.iter().map(|(digest, _, _)| digest);
    for d in documents {
        if let Some(a) = &mut d.attachment
            && a.content_base64.take().is_some()
        {
            a.sha256 = digests.next().cloned();
        }
    }
}

fn not_yet_run(app: &ApplicationRow) -> Vec<CheckRow> {
    let mut waiting: Vec<CheckRow> = Check::ALL
        .iter()
        .map(|c| waiting_check(*c, 0, Some(app.created_at.clone()), None))
        .collect();
    waiting.sort_by(|a, b| a.check_name.cmp(&b.check_name));
    waiting
}

/// A check waiting for its (next) attempt.
fn waiting_check(check: Check, attempts: i64, next_attempt_at: Option<String>, last_error: Option<String>) -> CheckRow {
    CheckRow {
        check_name: Cow::Borrowed(check.as_str()),
        state: Cow::Borrowed("waiting"),
        finding: None,
        source: Cow::Borrowed(source_of(check)),
        checked_at: None,
        attempts,
        next_attempt_at,
        last_error,
    }
}

/// When an open outage enters the special journal (п. 9-5): now, once its delay passes an hour.
impl Service {
    /// The police body a filing belongs to (п. 5: of the place of registration; п. 7 абз. 5,
    /// п. 14 пп. 1): the body the filer names, or an officer's own body. A ЦОН or the portal never
    /// owns a case: its filing names the police body (422 otherwise); an officer files only for a
    /// body the officer's unit serves.
    pub(crate) fn case_unit(&self, caller: &Caller, channel: Channel, named: Option<&str>) -> Result<String, Problem> {
        match (channel, named) {
            (_, Some(u)) if !self.authz.is_police(u) => Err(Problem::unprocessable(
                "unknown_police_unit",
                "/police_unit",
                format!("{u:?} is not a police body"),
            )),
            (Channel::PoliceDesk, Some(u)) if !self.authz.serves(&caller.unit, u) => Err(Problem::forbidden(format!(
                "an officer of {} files only for the police bodies it serves, not for {u}",
                caller.unit
            ))),
            (_, Some(u)) => Ok(u.to_string()),
            (Channel::PoliceDesk, None) if self.authz.is_police(&caller.unit) => Ok(caller.unit.clone()),
            (Channel::PoliceDesk, None) => Err(Problem::unprocessable(
                "police_unit_required",
                "/police_unit",
                format!(
                    "{} is not a police body: the filing names the police body that will decide it",
                    caller.unit
                ),
            )),
            (_, None) => Err(Problem::unprocessable(
                "police_unit_required",
                "/police_unit",
                "a ЦОН or portal filing names the police body of the place of registration, which decides it (п. 5, п. 7)",
            )),
        }
    }
}

/// A portal caller sees only the cases of the inviting party its ЭЦП proved (issue 14 item 4):
/// an RVP whose inviting party it is, a PR it filed as the applicant. Another party's case is
/// answered as unknown, so that its existence is not revealed; a stored filing that cannot be read
/// is refused, never shown.
pub(crate) fn party_may_see(caller: &Caller, app: &ApplicationRow) -> Result<(), Problem> {
    if caller.role != "portal" {
        return Ok(());
    }
    let Some(party) = caller.party.as_deref() else {
        return Err(Problem::not_found("application"));
    };
    let data: Value = serde_json::from_str(&app.data).map_err(|_| Problem::not_found("application"))?;
    let ip = &data["inviting_party"];
    let of_party = [
        &ip["iin"],
        &ip["bin"],
        &data["applicant"]["iin"],
        &data["person"]["iin"],
    ]
    .iter()
    .any(|v| v.as_str().map(str::trim) == Some(party));
    if app.channel == "portal" && of_party {
        Ok(())
    } else {
        Err(Problem::not_found("application"))
    }
}

/// The filing instant of a filing through `channel` (provenance in `koshi_law::provenance`):
/// the server's, or a paper receipt's entered at the police desk; refusals name `/filed_at`.
pub(crate) fn filing_instant(
    channel: Channel,
    filed_at: Option<&str>,
    paper: Option<&crate::model::PaperFilingInput>,
    now: Timestamp,
) -> Result<FilingInstant, Problem> {
    let given = filed_at
        .map(|s| {
            s.parse::<Timestamp>().map_err(|e| {
                Problem::unprocessable(
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
    .map_err(|e| Problem::unprocessable(e.code(), "/filed_at", e.to_string()))
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

/// A stored JSON value for a view: one that cannot be read is shown as such, never as empty.
fn stored_json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| json!({"unreadable": true, "error": e.to_string()}))
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

impl Service {
    /// The outage journal of п. 9-5, for every system Koshi sends messages to or asks (the
    /// registries of the checks, ГБД ФЛ at a ЦОН, each outbox destination as `outbox:<topic>`):
    /// one open outage per failing system, its delayed messages counted, journaled once the delay
    /// passes one hour, closed by the first success with what was done.
    pub(crate) async fn journal_outages(
        &self,
        unit: &mut Unit,
        prefix: &str,
        failures: &[(&str, &str, i64)],
        successes: &[&str],
        now: Timestamp,
    ) -> Result<(), Problem> {
        let now_s = instant(now);
        let mut known = self.open_outages.lock().await;
        if known.is_none() {
            let open: BTreeSet<String> = self
                .store
                .outages(1000)
                .await?
                .into_iter()
                .filter(|o| o.ended_at.is_none())
                .map(|o| o.registry)
                .collect();
            *known = Some(open);
        }
        let known = known.get_or_insert_with(BTreeSet::new);
        for (name, err, delayed) in failures {
            let system = format!("{prefix}{name}");
            match self.store.open_outage(&system).await? {
                None => unit.push(repo::open_outage(&repo::OutageRow {
                    id: new_id(),
                    registry: system.clone(),
                    started_at: now_s.clone(),
                    ended_at: None,
                    journaled_at: None,
                    last_error: (*err).to_string(),
                    failed_attempts: 1,
                    delayed: *delayed,
                    action: outage_action(&system).into(),
                })),
                Some(o) => unit.push(repo::outage_failed_again(&o.id, err, journal_at(&o, now)?, *delayed)),
            };
            known.insert(system);
        }
        // The common case, no outage open: nothing to close, nothing allocated.
        if known.is_empty() {
            return Ok(());
        }
        for &name in successes {
            if failures.iter().any(|(f, _, _)| *f == name)
                || !known.iter().any(|k| k.strip_prefix(prefix) == Some(name))
            {
                continue;
            }
            let system = format!("{prefix}{name}");
            if let Some(o) = self.store.open_outage(&system).await? {
                let action = format!("{}; answered again at {now_s}", outage_action(&system));
                unit.push(repo::close_outage(&o.id, &now_s, journal_at(&o, now)?, &action));
            }
            known.remove(&system);
        }
        Ok(())
    }
}

/// What Koshi does while a system is out (п. 9-5: measures to find and remove the cause).
fn outage_action(system: &str) -> &'static str {
    if system.starts_with("outbox:") {
        "messages kept in the outbox and delivered again with backoff (at least once)"
    } else if system == "gbd_fl@con" {
        "ЦОН filings not taken (503): the operator files again when ГБД ФЛ answers"
    } else {
        "the cases wait with their checks retried with backoff; none is decided on a missing answer"
    }
}

fn journal_at(o: &repo::OutageRow, now: Timestamp) -> Result<Option<String>, Problem> {
    let started = koshi_store::parse_instant(&o.started_at)?;
    Ok(terms::outage_must_be_journaled(now.duration_since(started)).then(|| instant(now)))
}

fn source_of(check: Check) -> &'static str {
    match check {
        Check::Completeness => "intake",
        Check::BorderCrossings => "berkut",
        Check::Records => "police_records+kpsisu",
        Check::Iin => "gbd_fl",
        Check::HouseholdQuota => "household_rvps+is_mp",
        Check::PendingPr => "pending_pr+is_mp",
        Check::Fingerprints => "fingerprints",
    }
}

fn finding_to_json(f: &Finding) -> Value {
    match f {
        Finding::Clear => json!({"result": "clear"}),
        Finding::Ground { code, detail } => json!({"result": "ground", "code": code, "detail": detail}),
        Finding::Officer { code, detail } => json!({"result": "officer", "code": code, "detail": detail}),
    }
}

/// A stored check finding, read back for the decision. Anything but a well-formed finding of a
/// known kind and code that agrees with the row's state is unreadable, and an unreadable finding
/// sends the case to an officer with the reason: it is never read as "clear".
fn finding_from_json(check: &str, state: &str, stored: Option<&str>) -> Finding {
    let unreadable = |why: String| Finding::Officer {
        code: "stored_finding_unreadable",
        detail: format!("the stored finding of check {check} cannot be read ({why}); an officer must establish it"),
    };
    let Some(s) = stored else {
        return unreadable(format!("state {state:?} with no finding"));
    };
    let v: Value = match serde_json::from_str(s) {
        Ok(v) => v,
        Err(e) => return unreadable(format!("not JSON: {e}")),
    };
    // Codes are a closed set: map back to the static strings of the law crate.
    const CODES: &[&str] = &[
        "no_lawful_entry",
        "criminal_or_penalty_record",
        "no_iin",
        "household_limit_reached",
        "household_limit_not_configured",
        "pending_pr_application",
        "no_fingerprint_registration",
        "household_employer_unknown",
        "check_not_run",
        "stored_finding_unreadable",
    ];
    let result = v["result"].as_str().unwrap_or("");
    if result != state {
        return unreadable(format!("result {result:?} disagrees with state {state:?}"));
    }
    let coded = |v: &Value| -> Result<(&'static str, String), String> {
        let c = v["code"].as_str().ok_or("no code")?;
        let code = CODES
            .iter()
            .find(|x| **x == c)
            .copied()
            .ok_or_else(|| format!("unknown code {c:?}"))?;
        let detail = v["detail"].as_str().ok_or("no detail")?.to_string();
        Ok((code, detail))
    };
    match result {
        "clear" => Finding::Clear,
        "ground" => match coded(&v) {
            Ok((code, detail)) => Finding::Ground { code, detail },
            Err(why) => unreadable(why),
        },
        "officer" => match coded(&v) {
            Ok((code, detail)) => Finding::Officer { code, detail },
            Err(why) => unreadable(why),
        },
        other => unreadable(format!("unknown result {other:?}")),
    }
}

/// The number of an RVP (App. 2): the year it takes effect, then the case id's first twelve hex
/// digits (the filing's millisecond, UUIDv7) and its last twelve (random), upper case:
/// `KZ-RVP-2026-019AD3C5B2E0-3B4AB07A1B6C`.
///
/// Leading with the time keeps the numbers of a day together, so that each issuance adds to the
/// end of the unique index of permit numbers instead of to a random page of it (with the random
/// digits alone, every issuance dirtied a page of an index that grows with every permit ever
/// issued), and two cases share a number only if filed in the same millisecond with the same 48
/// random bits. Numbers issued before keep their form (`KZ-RVP-2026-3B4AB07A1B6C`).
fn permit_number(valid_from: &str, application_id: &str) -> String {
    let year = &valid_from[..4.min(valid_from.len())];
    let hex: String = application_id
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let (time, random) = (hex.get(..12).unwrap_or(""), hex.get(20..).unwrap_or(""));
    format!("KZ-RVP-{year}-{time}-{random}")
}

/// What an issuance rests on: the citation of the decision, the validity with the bounds the law
/// applied, and (an officer's decision) the officer's comment.
pub(crate) struct Issue<'a> {
    citation: &'a str,
    validity: &'a rvp::Validity,
    /// Present (possibly null) on an officer's decision, absent on a straight-through one.
    comment: Option<Option<&'a str>>,
    /// A straight-through act formed in the name of a police body's duty officer (п. 9-1).
    pub(crate) formed_by: Option<FormedBy<'a>>,
    /// Check findings the officer set aside, with the reasons.
    pub(crate) set_aside: Vec<SetAside<'a>>,
}

/// A check finding set aside by the officer who issued over it (keys in order).
#[derive(serde::Serialize)]
pub(crate) struct SetAside<'a> {
    check: &'static str,
    reason: &'a str,
}

/// The ground findings an officer issues over: each must be named with a reason, and be of a
/// check whose finding may be set aside (`Check::finding_may_be_set_aside`).
fn set_aside_grounds<'a>(found: &[&CheckRow], given: &'a [SetAsideInput]) -> Result<Vec<(Check, &'a str)>, Problem> {
    let mut out = Vec::new();
    for (i, s) in given.iter().enumerate() {
        let pointer = format!("/set_aside/{i}");
        let Some(check) = Check::parse(&s.check) else {
            return Err(Problem::unprocessable(
                "unknown_check",
                &format!("{pointer}/check"),
                format!("{:?} is not a check of п. 9-1", s.check),
            ));
        };
        if !found.iter().any(|c| c.check_name == check.as_str()) {
            return Err(Problem::unprocessable(
                "nothing_to_set_aside",
                &format!("{pointer}/check"),
                format!("the {} check found no ground", check.as_str()),
            ));
        }
        if !check.finding_may_be_set_aside() {
            return Err(Problem::unprocessable(
                "finding_cannot_be_set_aside",
                &format!("{pointer}/check"),
                format!(
                    "a finding of the {} check is a ground of law ({}); it cannot be set aside",
                    check.as_str(),
                    check.citation()
                ),
            ));
        }
        if s.reason.trim().chars().count() < 10 {
            return Err(Problem::unprocessable(
                "reason_required",
                &format!("{pointer}/reason"),
                "say why the finding is no ground in this case (at least 10 characters)",
            ));
        }
        out.push((check, s.reason.as_str()));
    }
    let open: Vec<&str> = found
        .iter()
        .map(|c| &*c.check_name)
        .filter(|name| !out.iter().any(|(c, _)| c.as_str() == *name))
        .collect();
    if !open.is_empty() {
        return Err(Problem::conflict(
            "grounds_found",
            format!(
                "the checks found grounds for refusal ({}): the RVP cannot be issued unless an officer sets each aside with a reason where the law allows it",
                open.join(", ")
            ),
        ));
    }
    Ok(out)
}

/// Who formed an act prepared without a person, recorded on the decision (keys in order).
#[derive(serde::Serialize, Clone, Copy)]
pub(crate) struct FormedBy<'a> {
    pub(crate) account: &'a str,
    pub(crate) kind: &'static str,
    pub(crate) prepared_by: &'static str,
    pub(crate) unit: &'a str,
}

impl<'a> Issue<'a> {
    pub(crate) fn new(citation: &'a str, validity: &'a rvp::Validity, comment: Option<Option<&'a str>>) -> Issue<'a> {
        Issue {
            citation,
            validity,
            comment,
            formed_by: None,
            set_aside: Vec::new(),
        }
    }
}

/// The bounds the law applied to a validity, as the decision records them.
fn bounds(v: &rvp::Validity) -> Vec<Bound> {
    v.bounds
        .iter()
        .map(|(code, d, c)| Bound {
            bound: code,
            citation: c.to_string(),
            date: d.to_string(),
        })
        .collect()
}

/// A bound applied to an RVP's validity (keys in alphabetical order, as `bounds_json` writes).
#[derive(serde::Serialize)]
struct Bound {
    bound: &'static str,
    citation: String,
    date: String,
}

/// The decision recorded on an issued case (keys in alphabetical order).
#[derive(serde::Serialize)]
struct IssuedDecision<'a> {
    bounds: Vec<Bound>,
    citation: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<Option<&'a str>>,
    decided_at: &'a str,
    decided_by: &'a str,
    form: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    formed_by: Option<FormedBy<'a>>,
    outcome: &'a str,
    permit_number: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    set_aside: Vec<SetAside<'a>>,
    valid_from: &'a str,
    valid_until: &'a str,
}

/// The audit event of an intake (keys in alphabetical order). The grounds are a JSON value, so
/// that their keys are in alphabetical order too, as in every payload Koshi writes.
#[derive(serde::Serialize)]
struct IntakeDetail<'a> {
    accepted_on: Option<&'a str>,
    channel: &'a str,
    due_on: Option<&'a str>,
    grounds: Value,
    late_exception: Option<String>,
    /// A paper filing entered afterwards: its instant, receipt and reason (absent when the
    /// filing instant is the server's).
    #[serde(skip_serializing_if = "Option::is_none")]
    paper_filing: Option<Value>,
    purpose: &'a str,
    signature: Option<&'a Value>,
}

/// The permit's number and validity (the audit event of an issuance).
#[derive(serde::Serialize)]
struct PermitFacts<'a> {
    permit_number: &'a str,
    valid_from: &'a str,
    valid_until: &'a str,
}

/// The issued RVP as delivered to the channel's destination.
#[derive(serde::Serialize)]
struct PermitDocument<'a> {
    document: &'a str,
    form: &'a str,
    permit_number: &'a str,
    valid_from: &'a str,
    valid_until: &'a str,
}

/// The bounds as a JSON value, for a proposal that waits for an officer.
pub(crate) fn bounds_json(v: &rvp::Validity) -> Value {
    serde_json::to_value(bounds(v)).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed payloads of an intake and an issuance write the same JSON, byte for byte, as the
    /// `json!` values they replaced (keys in alphabetical order): the intake's audit event with
    /// and without grounds, and the decision for a straight-through issuance and an officer's
    /// (with and without a comment).
    #[test]
    fn issuance_payloads_are_written_as_before() {
        let d = |s: &str| -> Date { s.parse().unwrap_or_default() };
        let v = rvp::Validity {
            valid_from: d("2026-02-02"),
            valid_until: d("2027-02-01"),
            bounds: vec![
                (
                    "purpose_max_term",
                    d("2027-02-01"),
                    Citation::owned("App. 1-1 п. 8 (x)".into()),
                ),
                ("basis_document", d("2027-06-30"), Citation::new("App. 1-1 п. 8")),
            ],
        };
        let id = "01a22d52-3a96-73f3-a435-3c9b86704167";
        let number = permit_number("2026-02-02", id);
        assert_eq!(number, "KZ-RVP-2026-01A22D523A96-3C9B86704167");
        for (citation, comment) in [
            ("п. 9-1 абз. 8", None),
            ("п. 9-1 абз. 8; App. 2", Some(None)),
            ("п. 9-1 абз. 8; App. 2", Some(Some("по «заявлению»\n"))),
        ] {
            let typed = serde_json::to_string(&IssuedDecision {
                bounds: bounds(&v),
                citation,
                comment,
                decided_at: "2026-02-02T05:00:00.000000Z",
                decided_by: "system",
                form: "App. 2",
                formed_by: None,
                outcome: "issued",
                permit_number: &number,
                set_aside: Vec::new(),
                valid_from: "2026-02-02",
                valid_until: "2027-02-01",
            })
            .unwrap_or_default();
            let old_bounds: Vec<Value> = v
                .bounds
                .iter()
                .map(|(code, d, c)| json!({"bound": code, "date": d.to_string(), "citation": c.to_string()}))
                .collect();
            assert_eq!(bounds_json(&v), Value::Array(old_bounds.clone()));
            let mut old = json!({"outcome": "issued", "citation": citation, "valid_from": "2026-02-02", "valid_until": "2027-02-01", "bounds": old_bounds});
            if let Some(c) = comment {
                old["comment"] = json!(c);
            }
            old["permit_number"] = json!(number);
            old["form"] = json!("App. 2");
            old["decided_at"] = json!("2026-02-02T05:00:00.000000Z");
            old["decided_by"] = json!("system");
            assert_eq!(typed, old.to_string());
        }
        // The audit event of an intake: accepted, and refused with grounds, a late exception and
        // a signer.
        let ground = Ground {
            code: "expired_document".into(),
            document: Some("passport".into()),
            check: None,
            citation: "п. 6".into(),
            detail: "expired on 2026-01-01".into(),
        };
        let signer = json!({"subject": "CN=Иванов", "algorithm": "gost"});
        for (accepted_on, grounds, late, signature) in [
            (Some("2026-02-02"), vec![], None, None),
            (
                None,
                vec![ground.clone(), ground],
                Some("п. 9-1 пп. 1".to_string()),
                Some(&signer),
            ),
        ] {
            let typed = serde_json::to_string(&IntakeDetail {
                accepted_on,
                channel: "portal",
                due_on: accepted_on,
                grounds: serde_json::to_value(&grounds).unwrap_or_default(),
                late_exception: late.clone(),
                paper_filing: None,
                purpose: "labour_contract",
                signature,
            })
            .unwrap_or_default();
            let old = json!({
                "channel": "portal",
                "purpose": "labour_contract",
                "accepted_on": accepted_on,
                "due_on": accepted_on,
                "grounds": grounds,
                "late_exception": late,
                "signature": signature,
            });
            assert_eq!(typed, old.to_string());
        }
        let facts = PermitFacts {
            permit_number: &number,
            valid_from: "2026-02-02",
            valid_until: "2027-02-01",
        };
        assert_eq!(
            serde_json::to_string(&facts).unwrap_or_default(),
            json!({"permit_number": number, "valid_from": "2026-02-02", "valid_until": "2027-02-01"}).to_string()
        );
        let doc = PermitDocument {
            document: "rvp",
            form: "App. 2",
            permit_number: &number,
            valid_from: "2026-02-02",
            valid_until: "2027-02-01",
        };
        assert_eq!(
            serde_json::to_string(&doc).unwrap_or_default(),
            json!({"document": "rvp", "form": "App. 2", "permit_number": number, "valid_from": "2026-02-02", "valid_until": "2027-02-01"}).to_string()
        );
    }
}
