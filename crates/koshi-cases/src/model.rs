//! The shapes of what is filed and what the use cases answer, as they are stored and sent:
//! dates as `YYYY-MM-DD` and instants as RFC 3339. A filed date is a [`Day`], read strictly once
//! where the body is read, so no later step parses it again. The edge documents these shapes in
//! OpenAPI with a schema each (`koshi::dto`, held equal to these by a test there).

use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A calendar day as filed and stored: exactly `YYYY-MM-DD` (no time, no offset, no other
/// layout), a day that exists. A body with any other text in a date field is refused where it
/// is read, with the field's pointer (`invalid_date`); a stored filing reads its days back as
/// they were checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub Date);

/// What a refused day's message says, by which the edge tells a wrong date from other faults of
/// a body's shape.
pub const NOT_A_DAY: &str = "is not a date YYYY-MM-DD";

impl Day {
    pub fn date(self) -> Date {
        self.0
    }

    /// Reads `YYYY-MM-DD` strictly.
    pub fn parse(s: &str) -> Result<Day, String> {
        let b = s.as_bytes();
        let shape = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape {
            return Err(format!("{s:?} {NOT_A_DAY}"));
        }
        s.parse::<Date>()
            .map(Day)
            .map_err(|e| format!("{s:?} {NOT_A_DAY} of the calendar: {e}"))
    }
}

impl std::str::FromStr for Day {
    type Err = String;
    fn from_str(s: &str) -> Result<Day, String> {
        Day::parse(s)
    }
}

impl From<Date> for Day {
    fn from(d: Date) -> Day {
        Day(d)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Day, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Day;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date YYYY-MM-DD")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Day, E> {
                Day::parse(s).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// `POST /api/v1/applications`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationRequest {
    /// `rvp` (chapter 2). `pr` arrives with the PR service.
    pub kind: String,
    /// `police_desk`, `con` or `portal` (п. 5). Defaults from the caller's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The police body that decides (п. 5: of the place of registration). At the police desk the
    /// officer's body by default; a ЦОН operator names it; on the portal it is the body of the
    /// address of registration (`inviting_party.rka`) and, if named, must be that body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub police_unit: Option<String>,
    /// The filing instant is the server's. Only an officer at the police desk entering a paper
    /// filing received earlier gives it (RFC 3339, never later than now), with `paper_filing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filed_at: Option<String>,
    /// The paper receipt of a filing received earlier and entered now (with `filed_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper_filing: Option<PaperFilingInput>,
    /// Purpose of stay (see `koshi rules`, data/requirements.toml).
    pub purpose: String,
    pub inviting_party: InvitingPartyInput,
    pub immigrant: PersonInput,
    /// Family members arriving together (п. 9-1 пп. 4).
    #[serde(default)]
    pub family: Vec<FamilyMemberInput>,
    /// Koshi's own mark on the case of a family member arriving together (issue 14 item 7): the
    /// immigrant's case it belongs to. A filer never sets it (422).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_of: Option<FamilyOf>,
    /// Koshi's own mark: the version of the stored filing's shape (`koshi_cases::stored::SCHEMA`);
    /// none on filings stored before it was kept. A filer never sets it (422).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<u32>,
    #[serde(default)]
    pub documents: Vec<DocumentInput>,
    /// Filed by a representative (п. 5 абз. 2): a power of attorney must be among the documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub representative: Option<RepresentativeInput>,
    /// An exception of п. 9-1 (end) for a filing after the stay expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_exception: Option<LateExceptionInput>,
    /// The end of validity the inviting party asks for (never beyond the law's bounds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_until: Option<Day>,
    /// Where the result goes: `desk`, `con`, `portal_cabinet`. Defaults from the channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_to: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvitingPartyInput {
    /// citizen, permanent_resident, legal_entity, educational_organisation, health_organisation,
    /// religious_organisation, local_executive_body, aifc_administration
    pub kind: String,
    /// Individuals: ИИН.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iin: Option<String>,
    /// Organisations: БИН.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bin: Option<String>,
    pub name: String,
    pub address: String,
    /// Registration code of the address (РКА, п. 2 пп. 27).
    pub rka: String,
    /// Does the inviting party own the housing provided (App. 1-1 п. 8: else notarised consent)?
    #[serde(default = "yes")]
    pub owns_housing: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    pub surname: String,
    pub given_names: String,
    pub birth_date: Day,
    /// ISO 3166-1 alpha-3, or `XXX` for a stateless person.
    pub citizenship: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iin: Option<String>,
    pub document: IdentityDocumentInput,
    /// Last day of the current lawful stay (visa, visa-free period, previous permit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stay_until: Option<Day>,
    /// Arrived from a state with a visa-free agreement (п. 4 абз. 2).
    #[serde(default)]
    pub from_visa_free_state: bool,
    /// Turned 16 in Kazakhstan while staying as a minor (п. 5 абз. 4).
    #[serde(default)]
    pub turned_16_in_kazakhstan: bool,
}

/// The immigrant's case a family member's case belongs to, and the member's place in it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FamilyOf {
    pub principal_id: String,
    pub member: usize,
    pub relationship: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyMemberInput {
    #[serde(flatten)]
    pub person: PersonInput,
    pub relationship: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityDocumentInput {
    /// `passport` or `stateless_certificate`.
    #[serde(default = "passport")]
    pub kind: String,
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<Day>,
    pub expires_on: Day,
}

fn passport() -> String {
    "passport".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentInput {
    /// A document kind of data/requirements.toml.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<Day>,
    /// The electronic copy, stored content-addressed by SHA-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<AttachmentInput>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentInput {
    pub media_type: String,
    /// Standard base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_base64: Option<String>,
    /// Or a reference to content already stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepresentativeInput {
    pub name: String,
    /// `notarised_power_of_attorney` or `legal_entity_order`.
    pub authority: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LateExceptionInput {
    /// п. 9-1 абз. 13 пп. 1: the act of failure Koshi keeps (`POST /api/v1/outage-acts`),
    /// signed by the ЦОН and countersigned by the police body, named by its id. (`act_number` and
    /// `failure_on` are how filings before the act record named it; a filing now gives `act_id`.)
    OutageAct {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        act_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        act_number: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure_on: Option<String>,
    },
    /// п. 9-1 абз. 13 пп. 2
    Art517Fine {
        /// The days of overstay the decision states.
        overstay_days: u32,
        /// The art. 517 decision's number and date (YYYY-MM-DD): required of a filing (422
        /// without them); filings stored before carry none and still read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decision_number: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decision_date: Option<Day>,
    },
}

/// The answer to a filing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplicationCreated {
    pub id: String,
    pub status: String,
    pub receipt: Receipt,
    pub accepted_on: Option<String>,
    pub due_on: Option<String>,
    pub rules_version: String,
    /// How settled the working calendar of the case's terms is: `official`, `expected` or
    /// `provisional` (README, "Calendar years"); absent for a refusal to accept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_status: Option<String>,
    /// PR (п. 14 пп. 1): the case-file numbers of the journal (App. 8), one per adult.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub case_files: Vec<String>,
}

/// A paper filing received at the police desk earlier and entered afterwards: its receipt's
/// number and why it is entered late (recorded with the case).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperFilingInput {
    pub receipt_number: String,
    pub reason: String,
}

/// App. 1-2 (acceptance) or App. 1-3 (refusal to accept).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Receipt {
    /// `acceptance` or `refusal_to_accept`
    #[serde(rename = "type")]
    pub type_: String,
    /// `App. 1-2` or `App. 1-3`
    pub form: String,
    pub number: String,
    pub issued_at: String,
    pub citation: String,
    pub grounds: Vec<Ground>,
    /// Portal (п. 8): the date and time the result will be ready.
    #[serde(default)]
    pub result_ready_at: Option<String>,
    /// The status of the working calendar the dates on this receipt were computed on, when it
    /// is not the official one (`expected`, `provisional`), with its basis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_basis: Option<String>,
    /// Accepted, but with grounds to refuse the service itself (not the acceptance: п. 6, 13,
    /// 16-1 allow only an incomplete package and expired documents at the counter). A PR case
    /// then goes to a refusal conclusion and a hearing (п. 17).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_grounds: Vec<Ground>,
    /// RVP: the case of each family member arriving together, in the order of the family table;
    /// each is checked and decided and, when issued, gets an RVP of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub family_cases: Vec<String>,
    /// The receipt as a document (App. 1-2 or 1-3): its verification code and its PDF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<DocumentRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Ground {
    pub code: String,
    #[serde(default)]
    pub document: Option<String>,
    #[serde(default)]
    pub check: Option<String>,
    pub citation: String,
    pub detail: String,
}

/// `GET /api/v1/applications/{id}`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplicationView {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub channel: String,
    pub unit: String,
    pub purpose: String,
    pub filed_at: String,
    pub accepted_on: Option<String>,
    pub due_on: Option<String>,
    pub overdue: bool,
    /// How settled the working calendar of the terms is now (`official`, `expected`,
    /// `provisional`): terms on a non-official year are recomputed when the year is loaded.
    pub calendar_status: Option<String>,
    pub rules_version: String,
    pub receipt: Receipt,
    pub checks: Vec<CheckView>,
    pub decision: Option<Value>,
    pub events: Vec<EventView>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckView {
    pub check: String,
    pub citation: String,
    /// `clear`, `ground`, `officer`, `waiting`
    pub state: String,
    pub finding: Option<Value>,
    pub source: String,
    pub checked_at: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventView {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub citation: String,
    pub rules_version: String,
    pub detail: Value,
}

/// `POST /api/v1/applications/{id}/decision`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `confirm` (the proposed decision), `issue`, or `refuse`.
    pub action: String,
    /// `issue`: the end of validity when the law sets none (never beyond the passport).
    #[serde(default)]
    pub valid_until: Option<Day>,
    /// `refuse`: the grounds, each naming the check of п. 9-1 or the ground of law
    /// (`rvp.refusal_ground` of the requirements) it rests on.
    #[serde(default)]
    pub grounds: Vec<OfficerGround>,
    /// `issue`: check findings the officer finds are no ground in this case, each with the reason
    /// (only for the checks whose finding may be set aside: border crossings, fingerprints).
    #[serde(default)]
    pub set_aside: Vec<SetAsideInput>,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetAsideInput {
    pub check: String,
    /// Why the finding is no ground here (e.g. born in Kazakhstan: no crossing to record).
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficerGround {
    pub check: String,
    pub detail: String,
}

/// `POST /api/v1/applications/{id}/duplicates` (п. 9-2)
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicateRequest {
    /// `lost` or `damaged`
    pub reason: String,
    /// The free-form statement to the head of the police body.
    pub statement: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DuplicateIssued {
    pub application_id: String,
    pub permit_number: String,
    pub duplicate_number: String,
    pub valid_from: String,
    pub valid_until: String,
    pub citation: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutageView {
    pub id: String,
    pub registry: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    /// When the outage entered the special journal (delay over one hour, п. 9-5).
    pub journaled_at: Option<String>,
    pub failed_attempts: i64,
    /// Messages (registry requests, deliveries) the outage delayed.
    pub delayed: i64,
    /// What was done about it.
    pub action: String,
    pub last_error: String,
    pub citation: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: String,
    pub topic: String,
    pub application_id: Option<String>,
    /// `pending` or `delivered`
    pub state: String,
    pub attempts: i64,
    pub created_at: String,
    pub next_attempt_at: String,
    pub delivered_at: Option<String>,
    pub last_error: Option<String>,
    pub payload: Value,
}

/// `POST /api/v1/applications` with `kind: "pr"` (chapter 3).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrApplicationRequest {
    /// `pr`
    pub kind: String,
    /// `police_desk` or `con` (п. 11: no portal for PR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub police_unit: Option<String>,
    /// As for an RVP: only an officer entering a paper filing received earlier, with its receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper_filing: Option<PaperFilingInput>,
    /// The ground of п. 11: pr_visa, investor_visa, in_demand_profession_visa, visa_free_state,
    /// refugee, ethnic_kazakh.
    pub ground: String,
    /// The foreigner or stateless person applying (the service recipient).
    pub applicant: PersonInput,
    /// Children and other family members applying together.
    #[serde(default)]
    pub family: Vec<FamilyMemberInput>,
    #[serde(default)]
    pub documents: Vec<DocumentInput>,
    /// Facts the filer declares: foreign_language_documents. The others that change the package
    /// (refugee_or_asylum, ethnic_kazakh, ethnic_kazakh_from_prc, housing_contracted, solvency_exempt) follow
    /// from the ground, the citizenship and the documents, and are refused here.
    #[serde(default)]
    pub facts: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub representative: Option<RepresentativeInput>,
    /// Where notices (a hearing, п. 17) reach the applicant besides the case's channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactInput>,
    /// The money the bank certificate confirms, and the average price of housing in the locality
    /// (App. 3; Law on Migration art. 49 пп. 4). Money in tiyn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solvency: Option<SolvencyInput>,
    /// Koshi's own mark: the version of the stored filing's shape (`koshi_cases::stored::SCHEMA`);
    /// none on filings stored before it was kept. A filer never sets it (422).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolvencyInput {
    pub funds_tiyn: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_per_square_metre_tiyn: Option<i64>,
}

/// `POST /api/v1/applications/{id}/answers`: an agency's answer to a request of п. 14.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyAnswerRequest {
    /// ums_dp, bank, police_records, kpsisu, national_security
    pub agency: String,
    /// positive or negative
    pub outcome: String,
    #[serde(default)]
    pub detail: String,
    /// A paper answer the case officer enters: the act's number and date, and the officer's
    /// attestation. Never for the national-security or УМС ДП approvals, which come from the
    /// agency itself.
    #[serde(default)]
    pub paper_act: Option<PaperActInput>,
}

/// An agency's act received on paper.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperActInput {
    pub number: String,
    /// YYYY-MM-DD
    pub date: Day,
    /// How the act was received and that it is true to the original.
    pub attestation: String,
}

/// `POST /api/v1/applications/{id}/approval/return`: the approving post returns a drafted
/// conclusion to the officer (п. 15 абз. 2) with a comment saying what to change.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// Required: what the officer is to change.
    pub comment: String,
}

/// `POST /api/v1/applications/{id}/conclusion`: the officer's conclusion (App. 9, п. 14 пп. 4).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConclusionRequest {
    /// `issue` or `refuse`
    pub outcome: String,
    /// For a refusal: the grounds (Law on Public Services art. 19-1, Law on Migration art. 49).
    #[serde(default)]
    pub grounds: Vec<OfficerGround>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// `POST /api/v1/applications/{id}/hearing/notice` (п. 17)
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HearingNoticeRequest {
    /// The day of the hearing: from the notice, at most 2 working days after it.
    pub hearing_on: Day,
}

/// `POST /api/v1/applications/{id}/hearing/position` (п. 17): the applicant's written position,
/// received before the hearing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WrittenPositionRequest {
    pub position: String,
}

/// How to reach the applicant with a notice.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_address: Option<String>,
}

/// `POST /api/v1/applications/{id}/hearing` (п. 17): the hearing held.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HearingRequest {
    /// The applicant's position on the preliminary decision, as stated.
    pub position: String,
    /// Before a refusal: `continue` (further consideration) or `refuse` (the refusal conclusion
    /// goes to approval). Before an annulment: `keep` (the permit stands) or `annul`.
    pub result: String,
}

/// `POST /api/v1/applications/{id}/annulment` (п. 18): the conclusion of annulment (App. 11).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnulmentRequest {
    /// The grounds (Law on Migration art. 49).
    pub grounds: Vec<OfficerGround>,
}

/// `POST /api/v1/applications/{id}/transfer` (п. 17-1): the new police body takes the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The new address of residence (registered the same day).
    pub new_address: String,
}

/// `POST /api/v1/outage-acts`: the act of an information-system failure (п. 9-1 абз. 13 пп. 1),
/// signed by the ЦОН that took the earlier, timely application.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutageActRequest {
    /// The outage of the special journal (п. 9-5) the failure was.
    pub outage_id: String,
    /// The applicant's earlier application, taken in time during the failure.
    pub earlier_application_id: String,
}

/// An act of failure as Koshi keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutageActView {
    pub id: String,
    pub number: String,
    pub outage_id: String,
    pub failure_on: String,
    pub earlier_application_id: String,
    pub con_unit: String,
    pub con_signed_by: String,
    pub con_signed_at: String,
    pub police_unit: String,
    pub police_signed_by: Option<String>,
    pub police_signed_at: Option<String>,
    /// The late filing the act served (it serves one).
    pub used_by: Option<String>,
    pub citation: String,
}

// ------------------------------------------------------------------ documents (issue 16)

/// A registered document as an act's message and a case's list name it (keys in alphabetical
/// order, as every payload Koshi writes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentRef {
    /// The verification code printed on the document.
    pub code: String,
    /// `receipt`, `refusal_to_accept`, `permit`, `motivated_refusal`, …
    pub form: String,
    /// The PDF (`?lang=ru|kk`) for those allowed to read the case. (A stored receipt keeps only
    /// the id and the code; the links are made from them when it is read.)
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub href: String,
    pub id: String,
    pub number: String,
    /// The public page that checks it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub verify_url: String,
}

/// A document of a case, as the case's list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentView {
    #[serde(flatten)]
    pub document: DocumentRef,
    /// The appendix of the Rules it follows (`2`, `1-3`, …), none for a form the Rules do not
    /// number.
    pub appendix: Option<String>,
    pub title: String,
    pub act: String,
    pub issued_at: String,
    /// Its files rendered so far, by language, with their SHA-256.
    pub files: Vec<DocumentFileView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentFileView {
    pub lang: String,
    pub sha256: String,
    pub kid: String,
}

/// What the public check says about a document: no more than the paper shows, and less.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// `genuine`: Koshi issued a document with this code (or number and IIN).
    pub result: String,
    pub title: String,
    pub appendix: Option<String>,
    pub number: String,
    pub issued_on: String,
    pub issuer: String,
    /// `valid`, `not_yet_valid`, `expired`, `annulled` for a permit; `issued` for other documents.
    pub status: String,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    /// The holder's initials (the full name only to a check by number and IIN).
    pub holder: Option<String>,
    pub checked_at: String,
}
