//! Repositories: typed rows, the statements that change them (as [`Op`]s for a [`Unit`]), and
//! the reads. Same SQL on both backends.

use std::borrow::Cow;

use crate::writer::{Arg, InsertShape, Op};

macro_rules! fetch_all {
    ($db:expr, $ty:ty, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $db {
            Db::Sqlite(p) => sqlx::query_as::<_, $ty>($sql)$(.bind($arg))*.fetch_all(p).await?,
            Db::Postgres(p) => sqlx::query_as::<_, $ty>($sql)$(.bind($arg))*.fetch_all(p).await?,
        }
    };
}

macro_rules! fetch_optional {
    ($db:expr, $ty:ty, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $db {
            Db::Sqlite(p) => sqlx::query_as::<_, $ty>($sql)$(.bind($arg))*.fetch_optional(p).await?,
            Db::Postgres(p) => sqlx::query_as::<_, $ty>($sql)$(.bind($arg))*.fetch_optional(p).await?,
        }
    };
}

// ------------------------------------------------------------------ applications

/// The condition "the case is still open" on a status column, as the index of open cases states
/// it (migration 12), word for word, so that both databases use the index: five comparisons, not
/// `NOT IN (…)`, which SQLite evaluates by building a temporary b-tree every time.
macro_rules! open_case {
    ($col:literal) => {
        concat!(
            $col,
            " <> 'issued' AND ",
            $col,
            " <> 'refused' AND ",
            $col,
            " <> 'refused_to_accept' AND ",
            $col,
            " <> 'annulled' AND ",
            $col,
            " <> 'withdrawn'"
        )
    };
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApplicationRow {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub channel: String,
    pub unit: String,
    pub filed_unit: String,
    pub purpose: String,
    pub filed_at: String,
    pub accepted_on: Option<String>,
    pub due_on: Option<String>,
    pub receipt: String,
    pub data: String,
    pub decision: Option<String>,
    pub employer_iin: Option<String>,
    pub household: i64,
    pub person_key: String,
    pub permit_number: Option<String>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub rules_version: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub revision: i64,
}

// The reads a case makes on its way (and the background passes), named so that their query
// plans are tested (`plan_tests`): each must be led by an index, never a scan of a table.
const DUE_CHECKS_SQL: &str = concat!(
    "SELECT a.id FROM applications a WHERE a.status = 'checking' AND ",
    open_case!("a.status"),
    " AND a.kind = 'rvp' AND NOT EXISTS (SELECT 1 FROM check_sheets c WHERE c.application_id = a.id AND (c.next_attempt_at IS NULL OR c.next_attempt_at > $1)) ORDER BY a.id LIMIT $2"
);
const HOUSEHOLD_SQL: &str = "SELECT COUNT(*) FROM applications WHERE employer_iin = $1 AND household = 1 AND status = 'issued' AND valid_from <= $2 AND valid_until >= $2";
/// PR cases of a person still open, by the person's keys (`$1` a passport's, `$2` the IIN's or
/// the passport's again): through `person_keys`, and for cases filed before it by their passport.
/// A sum of counts, each led by an index (a case may count twice; only "none" matters), so that
/// no temporary table is built on a case's path as an `IN (subquery)` would.
/// A permit holder whose annulment is under consideration holds a permit; no application of
/// theirs is pending.
macro_rules! not_annulling {
    ($col:literal) => {
        concat!(
            " AND ",
            $col,
            " <> 'annulment_hearing_required' AND ",
            $col,
            " <> 'annulment_hearing_notified' AND ",
            $col,
            " <> 'annulment_drafted'"
        )
    };
}
const PENDING_PR_SQL: &str = concat!(
    "SELECT (SELECT COUNT(*) FROM applications WHERE person_key = $1 AND kind = 'pr' AND ",
    open_case!("status"),
    not_annulling!("status"),
    ") + (SELECT COUNT(*) FROM person_keys k JOIN applications a ON a.id = k.application_id WHERE k.key = $1 AND a.kind = 'pr' AND ",
    open_case!("a.status"),
    not_annulling!("a.status"),
    ") + (SELECT COUNT(*) FROM person_keys k JOIN applications a ON a.id = k.application_id WHERE k.key = $2 AND a.kind = 'pr' AND ",
    open_case!("a.status"),
    not_annulling!("a.status"),
    ")"
);
/// The decisions of a person's refused or annulled PR cases (п. 22), by the same keys.
/// A case may come twice (by two keys); the caller keeps one row per id.
const PR_BARS_SQL: &str = concat!(
    "SELECT id, decision FROM applications WHERE person_key = $1 AND kind = 'pr' AND (status = 'refused' OR status = 'annulled')",
    " UNION ALL SELECT a.id, a.decision FROM person_keys k JOIN applications a ON a.id = k.application_id WHERE k.key = $1 AND a.kind = 'pr' AND (a.status = 'refused' OR a.status = 'annulled')",
    " UNION ALL SELECT a.id, a.decision FROM person_keys k JOIN applications a ON a.id = k.application_id WHERE k.key = $2 AND a.kind = 'pr' AND (a.status = 'refused' OR a.status = 'annulled')"
);
/// Due messages in the order they fell due (a first attempt is due when it is queued; ids are
/// UUIDv7, so ties go in order of queueing): the order of the pending index, so that a backlog is
/// read up to the limit rather than sorted whole on every pass (measured with 100,000 pending:
/// 54 ms a pass sorted by queueing time, 3 ms in index order).
const OUTBOX_DUE_SQL: &str = "SELECT id, topic, application_id, payload, created_at, state, attempts, next_attempt_at, delivered_at, last_error, request_id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2";
/// The newest messages first. Ids are UUIDv7 (time-ordered), so the primary key gives the order
/// and the read stops at the limit, instead of sorting the whole outbox on every call.
const CLAIM_OUTBOX_PG: &str = "UPDATE outbox SET next_attempt_at = $1 WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $2 ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING id, topic, application_id, payload, created_at, state, attempts, next_attempt_at, delivered_at, last_error, request_id";
const CLAIM_OUTBOX_SQLITE: &str = "UPDATE outbox SET next_attempt_at = $1 WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $2 ORDER BY next_attempt_at, id LIMIT $3) RETURNING id, topic, application_id, payload, created_at, state, attempts, next_attempt_at, delivered_at, last_error, request_id";
const OUTBOX_LATEST_SQL: &str = "SELECT id, topic, application_id, payload, created_at, state, attempts, next_attempt_at, delivered_at, last_error, request_id FROM outbox ORDER BY id DESC LIMIT $1";
const OUTBOX_BY_CASE_SQL: &str = "SELECT id, topic, application_id, payload, created_at, state, attempts, next_attempt_at, delivered_at, last_error, request_id FROM outbox WHERE application_id = $1 ORDER BY created_at, id LIMIT $2";
const CHECKS_SQL: &str = "SELECT checks FROM check_sheets WHERE application_id = $1";
/// A case's acts: every event but the records of reads (those are the access log's), through
/// the partial index that leaves the reads out (migration 21).
const EVENTS_SQL: &str = "SELECT id, application_id, at, actor, action, citation, rules_version, detail FROM events WHERE application_id = $1 AND action <> 'personal_data.read' ORDER BY at, seq";
/// The acts on accounts and tokens, newest first (no case: `application_id` is NULL).
const STAFF_EVENTS_SQL: &str = "SELECT id, application_id, at, actor, action, citation, rules_version, detail FROM events WHERE application_id IS NULL AND action <> 'personal_data.read' AND action IN ('account.added', 'account.disabled', 'token.revoked') ORDER BY at DESC, id DESC LIMIT $1";
/// The reads of a case, newest first, before a cursor (`at`, `id`).
const ACCESS_LOG_SQL: &str = "SELECT id, application_id, at, actor, action, citation, rules_version, detail FROM events WHERE application_id = $1 AND action = 'personal_data.read' AND (at < $2 OR (at = $2 AND id < $3)) ORDER BY at DESC, id DESC LIMIT $4";

/// An application is read whole: its state (`applications`) with its filing
/// (`application_filings`, written once at intake).
macro_rules! application_select {
    () => {
        "SELECT a.id, a.kind, a.status, a.channel, a.unit, a.filed_unit, a.purpose, a.filed_at, a.accepted_on, a.due_on, f.receipt, f.data, a.decision, a.employer_iin, a.household, a.person_key, a.permit_number, a.valid_from, a.valid_until, a.rules_version, a.created_by, a.created_at, a.updated_at, a.revision FROM applications a JOIN application_filings f ON f.id = a.id"
    };
}
const APPLICATION_SELECT: &str = application_select!();
/// One case read whole, by its id.
const APPLICATION_SQL: &str = concat!(application_select!(), " WHERE a.id = $1");
/// The token of a request, by the hash of its secret.
const TOKEN_SQL: &str = "SELECT id, token_hash, role, unit, label, created_at, revoked_at, party, expires_at FROM api_tokens WHERE token_hash = $1";

/// The rows read on SQLite's calling thread (`Store::hot_reader`), each from a row of the
/// columns its query names, in order, as sqlx's `FromRow` reads them on the pool.
impl ApplicationRow {
    pub(crate) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApplicationRow> {
        Ok(ApplicationRow {
            id: r.get(0)?,
            kind: r.get(1)?,
            status: r.get(2)?,
            channel: r.get(3)?,
            unit: r.get(4)?,
            filed_unit: r.get(5)?,
            purpose: r.get(6)?,
            filed_at: r.get(7)?,
            accepted_on: r.get(8)?,
            due_on: r.get(9)?,
            receipt: r.get(10)?,
            data: r.get(11)?,
            decision: r.get(12)?,
            employer_iin: r.get(13)?,
            household: r.get(14)?,
            person_key: r.get(15)?,
            permit_number: r.get(16)?,
            valid_from: r.get(17)?,
            valid_until: r.get(18)?,
            rules_version: r.get(19)?,
            created_by: r.get(20)?,
            created_at: r.get(21)?,
            updated_at: r.get(22)?,
            revision: r.get(23)?,
        })
    }
}

impl EventRow {
    pub(crate) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventRow> {
        Ok(EventRow {
            id: r.get(0)?,
            application_id: r.get(1)?,
            at: r.get(2)?,
            actor: r.get(3)?,
            action: r.get(4)?,
            citation: r.get(5)?,
            rules_version: r.get(6)?,
            detail: r.get(7)?,
        })
    }
}

impl TokenRow {
    pub(crate) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
        Ok(TokenRow {
            id: r.get(0)?,
            token_hash: r.get(1)?,
            role: r.get(2)?,
            unit: r.get(3)?,
            label: r.get(4)?,
            created_at: r.get(5)?,
            revoked_at: r.get(6)?,
            party: r.get(7)?,
            expires_at: r.get(8)?,
        })
    }
}

/// A new application: its state row and its filing (two statements, one unit).
pub fn insert_application(a: &ApplicationRow) -> [Op; 2] {
    [
        Op::insert(
            "insert application",
            InsertShape {
                head: "INSERT INTO applications (id, kind, status, channel, unit, filed_unit, purpose, filed_at, accepted_on, due_on, decision, employer_iin, household, person_key, permit_number, valid_from, valid_until, rules_version, created_by, created_at, updated_at, revision) VALUES",
                tail: "",
                columns: 22,
                rank: 0,
            },
            vec![
                a.id.clone().into(),
                a.kind.clone().into(),
                a.status.clone().into(),
                a.channel.clone().into(),
                a.unit.clone().into(),
                a.filed_unit.clone().into(),
                a.purpose.clone().into(),
                a.filed_at.clone().into(),
                a.accepted_on.clone().into(),
                a.due_on.clone().into(),
                a.decision.clone().into(),
                a.employer_iin.clone().into(),
                a.household.into(),
                a.person_key.clone().into(),
                a.permit_number.clone().into(),
                a.valid_from.clone().into(),
                a.valid_until.clone().into(),
                a.rules_version.clone().into(),
                a.created_by.clone().into(),
                a.created_at.clone().into(),
                a.updated_at.clone().into(),
                a.revision.into(),
            ],
        ),
        Op::insert(
            "insert application filing",
            InsertShape {
                head: "INSERT INTO application_filings (id, receipt, data) VALUES",
                tail: "",
                columns: 3,
                rank: 1,
            },
            vec![a.id.clone().into(), a.receipt.clone().into(), a.data.clone().into()],
        ),
    ]
}

/// A party who may follow a case (`case_parties`): today the inviting party of a portal request.
pub fn insert_case_party(party: &str, application_id: &str, relation: &str) -> Op {
    Op::insert(
        "insert case party",
        InsertShape {
            head: "INSERT INTO case_parties (party, application_id, relation) VALUES",
            tail: "",
            columns: 3,
            rank: 1,
        },
        vec![party.into(), application_id.into(), relation.into()],
    )
}

/// A status change guarded by the revision read before it (optimistic lock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub id: String,
    pub expected_revision: i64,
    pub status: String,
    pub decision: Option<String>,
    pub permit_number: Option<String>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub updated_at: String,
}

pub fn change_status(c: StatusChange) -> Op {
    Op::new(
        "change application status",
        "UPDATE applications SET status = $1, decision = COALESCE($2, decision), permit_number = COALESCE($3, permit_number), valid_from = COALESCE($4, valid_from), valid_until = COALESCE($5, valid_until), updated_at = $6, revision = revision + 1 WHERE id = $7 AND revision = $8",
        vec![
            c.status.into(),
            c.decision.into(),
            c.permit_number.into(),
            c.valid_from.into(),
            c.valid_until.into(),
            c.updated_at.into(),
            c.id.into(),
            c.expected_revision.into(),
        ],
    )
    .expecting(1)
    .batched_on_postgres("UPDATE applications AS t SET status = u.status, decision = COALESCE(u.decision, t.decision), permit_number = COALESCE(u.permit_number, t.permit_number), valid_from = COALESCE(u.valid_from, t.valid_from), valid_until = COALESCE(u.valid_until, t.valid_until), updated_at = u.updated_at, revision = t.revision + 1 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int8[]) AS u (status, decision, permit_number, valid_from, valid_until, updated_at, id, expected) WHERE t.id = u.id AND t.revision = u.expected")
}

/// Moves a case to another unit (п. 17-1), guarded by its revision.
pub fn move_case(id: &str, expected_revision: i64, unit: &str, at: &str) -> Op {
    Op::new(
        "move case",
        "UPDATE applications SET unit = $1, updated_at = $2, revision = revision + 1 WHERE id = $3 AND revision = $4",
        vec![unit.into(), at.into(), id.into(), expected_revision.into()],
    )
    .expecting(1)
}

// ------------------------------------------------------------------ checks

/// One of a case's checks. A case's checks are kept together, on one sheet (`check_sheets`: the
/// list as JSON, with the earliest due retry beside it), written whole each time they run.
///
/// A check's name, state and source, and a clear check's finding, are words of a fixed set:
/// borrowed from Koshi's constants when a case's checks run (no allocation for each of the
/// seven, each time they run), owned when a sheet is read back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CheckRow {
    pub check_name: Cow<'static, str>,
    /// `clear`, `ground`, `officer`, `waiting`
    pub state: Cow<'static, str>,
    // On the sheet an absent value is left out rather than written as null (seven times a case),
    // and so is a clear check's finding (`CLEAR_FINDING`, 33 bytes a check): a check's state is
    // derived from its finding, so the finding of a `clear` check is always that one, and
    // `Store::checks` gives it back.
    #[serde(default, skip_serializing_if = "is_absent_or_clear")]
    pub finding: Option<Cow<'static, str>>,
    pub source: Cow<'static, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<String>,
    pub attempts: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// The finding of a check that found nothing.
pub const CLEAR_FINDING: &str = r#"{"result":"clear"}"#;

/// A finding left off the sheet: none, or the one of a clear check.
fn is_absent_or_clear(finding: &Option<Cow<'static, str>>) -> bool {
    finding.as_deref().is_none_or(|f| f == CLEAR_FINDING)
}

/// Records a case's checks, all of them (in the order of their names). `first`: the case has
/// no sheet yet (a second first record conflicts); otherwise the sheet is replaced. The sheet
/// keeps the earliest retry of a waiting check (a waiting check with no time is due at once),
/// so that the background pass finds due cases by index.
pub fn record_checks(application_id: &str, checks: &[&CheckRow], first: bool) -> Op {
    let mut sorted: Vec<&CheckRow> = checks.to_vec();
    sorted.sort_by(|a, b| a.check_name.cmp(&b.check_name));
    let next = sorted
        .iter()
        .filter(|c| c.state == "waiting")
        .map(|c| c.next_attempt_at.as_deref().unwrap_or(""))
        .min()
        .map(str::to_string);
    // Plain strings and integers only: serializing them cannot fail.
    let sheet = serde_json::to_string(&sorted).unwrap_or_else(|_| "[]".into());
    let args = vec![application_id.into(), sheet.into(), next.into()];
    if first {
        Op::insert(
            "record first checks",
            InsertShape {
                head: "INSERT INTO check_sheets (application_id, checks, next_attempt_at) VALUES",
                tail: "",
                columns: 3,
                rank: 1,
            },
            args,
        )
    } else {
        Op::new(
            "record checks",
            "UPDATE check_sheets SET checks = $2, next_attempt_at = $3 WHERE application_id = $1",
            args,
        )
        .expecting(1)
        .batched_on_postgres("UPDATE check_sheets AS t SET checks = u.checks, next_attempt_at = u.next_attempt_at FROM UNNEST($1::text[], $2::text[], $3::text[]) AS u (application_id, checks, next_attempt_at) WHERE t.application_id = u.application_id")
    }
}

// ------------------------------------------------------------------ events (audit)

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    pub application_id: Option<String>,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub citation: String,
    pub rules_version: String,
    pub detail: String,
}

/// An audit event to record. Its action, citation and rules version are most often Koshi's own
/// constants: borrowed, not copied for each event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub id: String,
    pub application_id: Option<String>,
    pub at: String,
    pub actor: String,
    pub action: Cow<'static, str>,
    pub citation: Cow<'static, str>,
    pub rules_version: Cow<'static, str>,
    pub detail: String,
}

impl From<EventRow> for NewEvent {
    fn from(e: EventRow) -> NewEvent {
        NewEvent {
            id: e.id,
            application_id: e.application_id,
            at: e.at,
            actor: e.actor,
            action: e.action.into(),
            citation: e.citation.into(),
            rules_version: e.rules_version.into(),
            detail: e.detail,
        }
    }
}

/// An audit event; the writer chains it (sequence number, previous hash, hash) at commit time.
pub fn insert_event(e: impl Into<NewEvent>) -> Op {
    let e = e.into();
    Op::audit(
        "record event",
        InsertShape {
            head: "INSERT INTO events (id, application_id, at, actor, action, citation, rules_version, detail, seq, prev_hash, hash) VALUES",
            tail: "",
            columns: 11,
            rank: 2,
        },
        vec![
            e.id.into(),
            e.application_id.into(),
            e.at.into(),
            e.actor.into(),
            e.action.into(),
            e.citation.into(),
            e.rules_version.into(),
            e.detail.into(),
        ],
    )
}

// ------------------------------------------------------------------ outbox

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: String,
    pub topic: String,
    pub application_id: Option<String>,
    pub payload: String,
    pub created_at: String,
    /// `pending`, `delivered`, `rejected` (the receiver refused it; not sent again)
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub delivered_at: Option<String>,
    pub last_error: Option<String>,
    /// The request that queued it, if one did (sent on with the message: `X-Request-Id`).
    pub request_id: Option<String>,
}

pub fn insert_outbox(o: OutboxRow) -> Op {
    outbox_op(vec![
        o.id.into(),
        o.topic.into(),
        o.application_id.into(),
        o.payload.into(),
        o.created_at.into(),
        o.state.into(),
        o.attempts.into(),
        o.next_attempt_at.into(),
        o.delivered_at.into(),
        o.last_error.into(),
        o.request_id.into(),
    ])
}

/// A new message, pending from `at` (its first attempt is due at once). Its topic is most often
/// one of Koshi's constants: borrowed, not copied for each message.
pub fn queue_message(
    id: String,
    topic: Cow<'static, str>,
    application_id: Option<String>,
    payload: String,
    at: String,
    request_id: Option<String>,
) -> Op {
    outbox_op(vec![
        id.into(),
        topic.into(),
        application_id.into(),
        payload.into(),
        at.clone().into(),
        Arg::fixed("pending"),
        0i64.into(),
        at.into(),
        Arg::OptText(None),
        Arg::OptText(None),
        request_id.into(),
    ])
}

fn outbox_op(args: Vec<Arg>) -> Op {
    Op::insert(
        "queue outbox message",
        InsertShape {
            head: "INSERT INTO outbox (id, topic, application_id, payload, created_at, state, attempts, next_attempt_at, delivered_at, last_error, request_id) VALUES",
            tail: "",
            columns: 11,
            rank: 2,
        },
        args,
    )
}

pub fn outbox_delivered(id: &str, at: &str) -> Op {
    Op::new(
        "mark outbox delivered",
        "UPDATE outbox SET state = 'delivered', delivered_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2 AND state = 'pending'",
        vec![at.into(), id.into()],
    )
    .batched_on_postgres("UPDATE outbox AS t SET state = 'delivered', delivered_at = u.at, attempts = t.attempts + 1, last_error = NULL FROM UNNEST($1::text[], $2::text[]) AS u (at, id) WHERE t.id = u.id AND t.state = 'pending'")
}

/// The receiver refused the message (a 4xx): it is not sent again; `error` says what it answered.
pub fn outbox_rejected(id: &str, at: &str, error: &str) -> Op {
    Op::new(
        "mark outbox rejected",
        "UPDATE outbox SET state = 'rejected', attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE id = $3 AND state = 'pending'",
        vec![at.into(), error.into(), id.into()],
    )
    .batched_on_postgres("UPDATE outbox AS t SET state = 'rejected', attempts = t.attempts + 1, next_attempt_at = u.at, last_error = u.error FROM UNNEST($1::text[], $2::text[], $3::text[]) AS u (at, error, id) WHERE t.id = u.id AND t.state = 'pending'")
}

pub fn outbox_failed(id: &str, next_attempt_at: &str, error: &str) -> Op {
    Op::new(
        "mark outbox attempt failed",
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE id = $3 AND state = 'pending'",
        vec![next_attempt_at.into(), error.into(), id.into()],
    )
    .batched_on_postgres("UPDATE outbox AS t SET attempts = t.attempts + 1, next_attempt_at = u.next_attempt_at, last_error = u.error FROM UNNEST($1::text[], $2::text[], $3::text[]) AS u (next_attempt_at, error, id) WHERE t.id = u.id AND t.state = 'pending'")
}

// ------------------------------------------------------------------ outages (п. 9-5)

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutageRow {
    pub id: String,
    pub registry: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub journaled_at: Option<String>,
    pub last_error: String,
    pub failed_attempts: i64,
    /// Messages (requests, deliveries) the outage delayed.
    pub delayed: i64,
    /// What was done about it (retries, the closing success).
    pub action: String,
}

pub fn open_outage(o: &OutageRow) -> Op {
    Op::insert(
        "open outage",
        InsertShape {
            head: "INSERT INTO outages (id, registry, started_at, ended_at, journaled_at, last_error, failed_attempts, delayed, action) VALUES",
            tail: "",
            columns: 9,
            rank: 2,
        },
        vec![
            o.id.clone().into(),
            o.registry.clone().into(),
            o.started_at.clone().into(),
            o.ended_at.clone().into(),
            o.journaled_at.clone().into(),
            o.last_error.clone().into(),
            o.failed_attempts.into(),
            o.delayed.into(),
            o.action.clone().into(),
        ],
    )
}

pub fn outage_failed_again(id: &str, error: &str, journal_at: Option<String>, delayed: i64) -> Op {
    Op::new(
        "record outage attempt",
        "UPDATE outages SET failed_attempts = failed_attempts + 1, last_error = $1, journaled_at = COALESCE(journaled_at, $2), delayed = delayed + $4 WHERE id = $3 AND ended_at IS NULL",
        vec![error.into(), journal_at.into(), id.into(), delayed.into()],
    )
}

pub fn close_outage(id: &str, ended_at: &str, journal_at: Option<String>, action: &str) -> Op {
    Op::new(
        "close outage",
        "UPDATE outages SET ended_at = $1, journaled_at = COALESCE(journaled_at, $2), action = $4 WHERE id = $3 AND ended_at IS NULL",
        vec![ended_at.into(), journal_at.into(), id.into(), action.into()],
    )
}

// ------------------------------------------------------------------ attachments

pub fn insert_attachment(sha256: &str, media_type: &str, content: Vec<u8>, at: &str) -> Op {
    let size = content.len() as i64;
    Op::insert(
        "store attachment",
        InsertShape {
            head: "INSERT INTO attachments (sha256, media_type, size, content, created_at) VALUES",
            tail: "ON CONFLICT (sha256) DO NOTHING",
            columns: 5,
            rank: 0,
        },
        vec![
            sha256.into(),
            media_type.into(),
            size.into(),
            Arg::Bytes(content),
            at.into(),
        ],
    )
}

// ------------------------------------------------------------------ idempotency

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IdempotencyRow {
    pub subject: String,
    pub key: String,
    pub request_hash: String,
    pub application_id: String,
    pub created_at: String,
}

pub fn insert_idempotency(r: &IdempotencyRow) -> Op {
    Op::insert(
        "record idempotency key",
        InsertShape {
            head: "INSERT INTO idempotency_keys (subject, key, request_hash, application_id, created_at) VALUES",
            tail: "",
            columns: 5,
            rank: 0,
        },
        vec![
            r.subject.clone().into(),
            r.key.clone().into(),
            r.request_hash.clone().into(),
            r.application_id.clone().into(),
            r.created_at.clone().into(),
        ],
    )
}

// ------------------------------------------------------------------ terms and law data

/// Sets a case's acceptance day and term again (a calendar year loaded while it was open),
/// guarded by its revision.
pub fn retime_case(id: &str, expected_revision: i64, accepted_on: &str, due_on: &str, at: &str) -> Op {
    Op::new(
        "retime case",
        "UPDATE applications SET accepted_on = $1, due_on = $2, updated_at = $3, revision = revision + 1 WHERE id = $4 AND revision = $5",
        vec![
            accepted_on.into(),
            due_on.into(),
            at.into(),
            id.into(),
            expected_revision.into(),
        ],
    )
    .expecting(1)
}

/// A load of law data (`calendar` or `mci`) as kept.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LawDataRow {
    pub id: String,
    pub kind: String,
    pub content: String,
    pub sha256: String,
    pub summary: String,
    pub loaded_by: String,
    pub loaded_at: String,
}

pub fn insert_law_data(r: &LawDataRow) -> Op {
    Op::new(
        "load law data",
        "INSERT INTO law_data_loads (id, kind, content, sha256, summary, loaded_by, loaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vec![
            r.id.clone().into(),
            r.kind.clone().into(),
            r.content.clone().into(),
            r.sha256.clone().into(),
            r.summary.clone().into(),
            r.loaded_by.clone().into(),
            r.loaded_at.clone().into(),
        ],
    )
    .expecting(1)
}

/// Keeps the drill clock's offset (one row; its presence marks a drill database).
pub fn set_drill_clock(offset_ms: i64, at: &str) -> Op {
    Op::new(
        "set drill clock",
        "INSERT INTO drill_clock (id, offset_ms, started_at, updated_at) VALUES (1, $1, $2, $2) ON CONFLICT (id) DO UPDATE SET offset_ms = $1, updated_at = $2",
        vec![offset_ms.into(), at.into()],
    )
}

mod accounts;
mod documents;
mod pr;
pub mod queue;
mod reads;

pub use accounts::*;
pub use documents::*;
pub use pr::*;

#[cfg(test)]
mod plan_tests;
