//! The PR journal (App. 8), acts of failure (п. 9-1) and the PR agency requests (п. 14).

use crate::writer::{InsertShape, Op};

// ------------------------------------------------------------------ PR journal (App. 8)

/// Registers a case in its unit's journal under the next number. Numbers are taken inside the
/// commit, so they have no gaps; two instances racing for one number conflict, and the loser
/// retries.
/// One of the keys a person filed a PR case with (a passport's, the IIN's).
pub fn insert_person_key(key: &str, application_id: &str) -> Op {
    Op::insert(
        "key the case to the person",
        InsertShape {
            head: "INSERT INTO person_keys (key, application_id) VALUES",
            tail: "ON CONFLICT (key, application_id) DO NOTHING",
            columns: 2,
            rank: 1,
        },
        vec![key.into(), application_id.into()],
    )
}

// ------------------------------------------------------------------ acts of failure (п. 9-1)

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutageActRow {
    pub id: String,
    pub number: String,
    pub outage_id: String,
    pub failure_on: String,
    pub earlier_application_id: String,
    pub person_key: String,
    pub iin_key: String,
    pub con_unit: String,
    pub con_signed_by: String,
    pub con_signed_at: String,
    pub police_unit: String,
    pub police_signed_by: Option<String>,
    pub police_signed_at: Option<String>,
    pub used_by: Option<String>,
    pub created_at: String,
}

pub(super) const OUTAGE_ACT_COLUMNS: &str = "id, number, outage_id, failure_on, earlier_application_id, person_key, iin_key, con_unit, con_signed_by, con_signed_at, police_unit, police_signed_by, police_signed_at, used_by, created_at";

pub fn insert_outage_act(a: &OutageActRow) -> Op {
    Op::insert(
        "record an act of failure",
        InsertShape {
            head: "INSERT INTO outage_acts (id, number, outage_id, failure_on, earlier_application_id, person_key, iin_key, con_unit, con_signed_by, con_signed_at, police_unit, police_signed_by, police_signed_at, used_by, created_at) VALUES",
            tail: "",
            columns: 15,
            rank: 0,
        },
        vec![
            a.id.clone().into(),
            a.number.clone().into(),
            a.outage_id.clone().into(),
            a.failure_on.clone().into(),
            a.earlier_application_id.clone().into(),
            a.person_key.clone().into(),
            a.iin_key.clone().into(),
            a.con_unit.clone().into(),
            a.con_signed_by.clone().into(),
            a.con_signed_at.clone().into(),
            a.police_unit.clone().into(),
            a.police_signed_by.clone().into(),
            a.police_signed_at.clone().into(),
            a.used_by.clone().into(),
            a.created_at.clone().into(),
        ],
    )
}

/// The police body's countersignature; only once.
pub fn countersign_outage_act(id: &str, by: &str, at: &str) -> Op {
    Op::new(
        "countersign an act of failure",
        "UPDATE outage_acts SET police_signed_by = $1, police_signed_at = $2 WHERE id = $3 AND police_signed_at IS NULL",
        vec![by.into(), at.into(), id.into()],
    )
    .expecting(1)
}

/// The act serves one late filing: taken by it, or the unit fails.
pub fn use_outage_act(id: &str, application_id: &str) -> Op {
    Op::new(
        "use an act of failure",
        "UPDATE outage_acts SET used_by = $1 WHERE id = $2 AND used_by IS NULL AND police_signed_at IS NOT NULL",
        vec![application_id.into(), id.into()],
    )
    .expecting(1)
}

pub fn register_in_journal(unit: &str, application_id: &str, at: &str) -> Op {
    Op::new(
        "register in the journal",
        "INSERT INTO pr_journal (unit, number, application_id, registered_at) SELECT $1, COALESCE(MAX(number), 0) + 1, $2, $3 FROM pr_journal WHERE unit = $4",
        vec![unit.into(), application_id.into(), at.into(), unit.into()],
    )
    .expecting(1)
}

// ------------------------------------------------------------------ PR agency requests (п. 14)

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AgencyRequestRow {
    pub application_id: String,
    pub agency: String,
    pub sent_at: String,
    pub due_on: String,
    /// `waiting` or `answered`
    pub state: String,
    pub outcome: Option<String>,
    pub detail: Option<String>,
    pub answered_at: Option<String>,
    pub answered_by: Option<String>,
}

pub fn insert_agency_request(r: &AgencyRequestRow) -> Op {
    Op::insert(
        "send agency request",
        InsertShape {
            head: "INSERT INTO agency_requests (application_id, agency, sent_at, due_on, state, outcome, detail, answered_at, answered_by) VALUES",
            tail: "",
            columns: 9,
            rank: 1,
        },
        vec![
            r.application_id.clone().into(),
            r.agency.clone().into(),
            r.sent_at.clone().into(),
            r.due_on.clone().into(),
            r.state.clone().into(),
            r.outcome.clone().into(),
            r.detail.clone().into(),
            r.answered_at.clone().into(),
            r.answered_by.clone().into(),
        ],
    )
}

/// Records an agency's answer; fails the unit unless that agency's request is still waiting.
pub fn answer_agency(application_id: &str, agency: &str, outcome: &str, detail: &str, at: &str, by: &str) -> Op {
    Op::new(
        "record agency answer",
        "UPDATE agency_requests SET state = 'answered', outcome = $1, detail = $2, answered_at = $3, answered_by = $4 WHERE application_id = $5 AND agency = $6 AND state = 'waiting'",
        vec![outcome.into(), detail.into(), at.into(), by.into(), application_id.into(), agency.into()],
    )
    .expecting(1)
}
