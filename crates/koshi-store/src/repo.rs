//! Repositories: typed rows, the statements that change them (as [`Op`]s for a [`Unit`]), and
//! the reads. Same SQL on both backends.

use std::borrow::Cow;

use crate::writer::{Arg, InsertShape, Op};
use crate::{Db, Store, StoreResult};

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
const PENDING_PR_SQL: &str = concat!(
    "SELECT (SELECT COUNT(*) FROM applications WHERE person_key = $1 AND kind = 'pr' AND ",
    open_case!("status"),
    ") + (SELECT COUNT(*) FROM person_keys k JOIN applications a ON a.id = k.application_id WHERE k.key = $1 AND a.kind = 'pr' AND ",
    open_case!("a.status"),
    ") + (SELECT COUNT(*) FROM person_keys k JOIN applications a ON a.id = k.application_id WHERE k.key = $2 AND a.kind = 'pr' AND ",
    open_case!("a.status"),
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
const OUTBOX_DUE_SQL: &str = "SELECT id, topic, application_id, payload, created_at, state, attempts, next_attempt_at, delivered_at, last_error FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2";
/// The newest messages first. Ids are UUIDv7 (time-ordered), so the primary key gives the order
/// and the read stops at the limit, instead of sorting the whole outbox on every call.
const OUTBOX_LATEST_SQL: &str = "SELECT id, topic, application_id, payload, created_at, state, attempts, next_attempt_at, delivered_at, last_error FROM outbox ORDER BY id DESC LIMIT $1";
const OUTBOX_BY_CASE_SQL: &str = "SELECT id, topic, application_id, payload, created_at, state, attempts, next_attempt_at, delivered_at, last_error FROM outbox WHERE application_id = $1 ORDER BY created_at, id LIMIT $2";
const CHECKS_SQL: &str = "SELECT checks FROM check_sheets WHERE application_id = $1";
const EVENTS_SQL: &str = "SELECT id, application_id, at, actor, action, citation, rules_version, detail FROM events WHERE application_id = $1 ORDER BY at, id";

/// An application is read whole: its state (`applications`) with its filing
/// (`application_filings`, written once at intake).
const APPLICATION_SELECT: &str = "SELECT a.id, a.kind, a.status, a.channel, a.unit, a.filed_unit, a.purpose, a.filed_at, a.accepted_on, a.due_on, f.receipt, f.data, a.decision, a.employer_iin, a.household, a.person_key, a.permit_number, a.valid_from, a.valid_until, a.rules_version, a.created_by, a.created_at, a.updated_at, a.revision FROM applications a JOIN application_filings f ON f.id = a.id";

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
    /// `pending`, `delivered`
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub delivered_at: Option<String>,
    pub last_error: Option<String>,
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
    ])
}

fn outbox_op(args: Vec<Arg>) -> Op {
    Op::insert(
        "queue outbox message",
        InsertShape {
            head: "INSERT INTO outbox (id, topic, application_id, payload, created_at, state, attempts, next_attempt_at, delivered_at, last_error) VALUES",
            tail: "",
            columns: 10,
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
}

pub fn outbox_failed(id: &str, next_attempt_at: &str, error: &str) -> Op {
    Op::new(
        "mark outbox attempt failed",
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE id = $3 AND state = 'pending'",
        vec![next_attempt_at.into(), error.into(), id.into()],
    )
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

// ------------------------------------------------------------------ API tokens

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRow {
    pub id: String,
    pub token_hash: String,
    pub role: String,
    pub unit: String,
    pub label: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// The inviting party (IIN or BIN) a portal token acts for, proven by its ЭЦП.
    pub party: Option<String>,
    /// When the token stops working (portal sign-ins); none for system tokens.
    pub expires_at: Option<String>,
}

pub fn insert_token(t: &TokenRow) -> Op {
    Op::insert(
        "issue token",
        InsertShape {
            head: "INSERT INTO api_tokens (id, token_hash, role, unit, label, created_at, revoked_at, party, expires_at) VALUES",
            tail: "",
            columns: 9,
            rank: 0,
        },
        vec![
            t.id.clone().into(),
            t.token_hash.clone().into(),
            t.role.clone().into(),
            t.unit.clone().into(),
            t.label.clone().into(),
            t.created_at.clone().into(),
            t.revoked_at.clone().into(),
            t.party.clone().into(),
            t.expires_at.clone().into(),
        ],
    )
}

pub fn revoke_token(id: &str, at: &str) -> Op {
    Op::new(
        "revoke token",
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        vec![at.into(), id.into()],
    )
    .expecting(1)
}

// ------------------------------------------------------------------ users and sessions

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    /// PHC string (argon2id); never logged.
    pub password_hash: String,
    pub role: String,
    pub unit: String,
    pub post: String,
    pub created_at: String,
    pub disabled_at: Option<String>,
}

pub fn insert_user(u: &UserRow) -> Op {
    Op::insert(
        "add user",
        InsertShape {
            head: "INSERT INTO users (id, username, password_hash, role, unit, post, created_at, disabled_at) VALUES",
            tail: "",
            columns: 8,
            rank: 0,
        },
        vec![
            u.id.clone().into(),
            u.username.clone().into(),
            u.password_hash.clone().into(),
            u.role.clone().into(),
            u.unit.clone().into(),
            u.post.clone().into(),
            u.created_at.clone().into(),
            u.disabled_at.clone().into(),
        ],
    )
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    /// SHA-256 of the session secret held in the cookie.
    pub id_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
}

pub fn insert_session(s: &SessionRow) -> Op {
    Op::insert(
        "open session",
        InsertShape {
            head: "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at, revoked_at) VALUES",
            tail: "",
            columns: 6,
            rank: 1,
        },
        vec![
            s.id_hash.clone().into(),
            s.user_id.clone().into(),
            s.csrf_token.clone().into(),
            s.created_at.clone().into(),
            s.expires_at.clone().into(),
            s.revoked_at.clone().into(),
        ],
    )
}

pub fn revoke_session(id_hash: &str, at: &str) -> Op {
    Op::new(
        "close session",
        "UPDATE sessions SET revoked_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL",
        vec![at.into(), id_hash.into()],
    )
}

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

const OUTAGE_ACT_COLUMNS: &str = "id, number, outage_id, failure_on, earlier_application_id, person_key, iin_key, con_unit, con_signed_by, con_signed_at, police_unit, police_signed_by, police_signed_at, used_by, created_at";

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

// ------------------------------------------------------------------ reads

impl Store {
    pub async fn application(&self, id: &str) -> StoreResult<Option<ApplicationRow>> {
        let sql = format!("{APPLICATION_SELECT} WHERE a.id = $1");
        Ok(fetch_optional!(self.db(), ApplicationRow, sqlx::AssertSqlSafe(sql), id))
    }

    pub async fn applications_in_status(&self, status: &str, limit: i64) -> StoreResult<Vec<ApplicationRow>> {
        let sql = format!("{APPLICATION_SELECT} WHERE a.status = $1 ORDER BY a.created_at LIMIT $2");
        Ok(fetch_all!(
            self.db(),
            ApplicationRow,
            sqlx::AssertSqlSafe(sql),
            status,
            limit
        ))
    }

    /// Open cases whose term ends on or after `from` (YYYY-MM-DD): the ones a calendar year
    /// loaded while they are open may move.
    pub async fn open_cases_due_from(&self, from: &str) -> StoreResult<Vec<ApplicationRow>> {
        let sql = format!(
            "{APPLICATION_SELECT} WHERE {} AND a.due_on >= $1 ORDER BY a.id",
            open_case!("a.status")
        );
        Ok(fetch_all!(self.db(), ApplicationRow, sqlx::AssertSqlSafe(sql), from))
    }

    /// The drill clock's offset, when the database is a drill's.
    pub async fn drill_clock(&self) -> StoreResult<Option<i64>> {
        let r: Option<(i64,)> = fetch_optional!(self.db(), (i64,), "SELECT offset_ms FROM drill_clock WHERE id = 1");
        Ok(r.map(|x| x.0))
    }

    /// Every load of law data, oldest first.
    pub async fn law_data_loads(&self) -> StoreResult<Vec<LawDataRow>> {
        Ok(fetch_all!(
            self.db(),
            LawDataRow,
            "SELECT id, kind, content, sha256, summary, loaded_by, loaded_at FROM law_data_loads ORDER BY id"
        ))
    }

    /// The id of the latest load of law data, to notice one made by another instance.
    pub async fn latest_law_data(&self) -> StoreResult<Option<String>> {
        let r: Option<(Option<String>,)> =
            fetch_optional!(self.db(), (Option<String>,), "SELECT MAX(id) FROM law_data_loads");
        Ok(r.and_then(|x| x.0))
    }

    /// How many applications are in a status.
    pub async fn count_in_status(&self, status: &str) -> StoreResult<i64> {
        let r: Vec<(i64,)> = fetch_all!(
            self.db(),
            (i64,),
            "SELECT COUNT(*) FROM applications WHERE status = $1",
            status
        );
        Ok(r.first().map(|x| x.0).unwrap_or(0))
    }

    pub async fn count_applications(&self) -> StoreResult<i64> {
        let r: (i64,) = match self.db() {
            Db::Sqlite(p) => sqlx::query_as("SELECT COUNT(*) FROM applications").fetch_one(p).await?,
            Db::Postgres(p) => sqlx::query_as("SELECT COUNT(*) FROM applications").fetch_one(p).await?,
        };
        Ok(r.0)
    }

    /// A case's checks, by name; none before they first run.
    pub async fn checks(&self, application_id: &str) -> StoreResult<Vec<CheckRow>> {
        let sheet: Option<(String,)> = fetch_optional!(self.db(), (String,), CHECKS_SQL, application_id);
        let Some((sheet,)) = sheet else {
            return Ok(Vec::new());
        };
        let mut rows: Vec<CheckRow> = serde_json::from_str(&sheet).map_err(|e| {
            crate::StoreError::Database(format!("the check sheet of {application_id} is unreadable: {e}"))
        })?;
        for r in &mut rows {
            // A clear check's finding is left off the sheet (`record_checks`).
            if r.finding.is_none() && r.state == "clear" {
                r.finding = Some(Cow::Borrowed(CLEAR_FINDING));
            }
        }
        rows.sort_by(|a, b| a.check_name.cmp(&b.check_name));
        Ok(rows)
    }

    /// RVP applications in checking whose checks are due: never run yet (no check rows), or with a
    /// check waiting for a retry that is due.
    pub async fn applications_with_due_checks(&self, now: &str, limit: i64) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = fetch_all!(self.db(), (String,), DUE_CHECKS_SQL, now, limit);
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    pub async fn events(&self, application_id: &str) -> StoreResult<Vec<EventRow>> {
        Ok(fetch_all!(self.db(), EventRow, EVENTS_SQL, application_id))
    }

    /// Valid household-work RVPs Koshi issued to the employer on the date (п. 9-1 пп. 5).
    pub async fn valid_household_rvps(&self, employer_iin: &str, on: &str) -> StoreResult<i64> {
        if let Some(r) = self.hot_reader() {
            return r.count(HOUSEHOLD_SQL, &[employer_iin.into(), on.into()]);
        }
        let r: Vec<(i64,)> = fetch_all!(self.db(), (i64,), HOUSEHOLD_SQL, employer_iin, on);
        Ok(r.first().map(|x| x.0).unwrap_or(0))
    }

    /// PR applications of the person still under consideration (п. 9-1 пп. 6), by a passport's
    /// key and the IIN's (or the passport's again when there is no IIN).
    pub async fn pending_pr_applications(&self, passport_key: &str, iin_key: &str) -> StoreResult<i64> {
        if let Some(r) = self.hot_reader() {
            return r.count(PENDING_PR_SQL, &[passport_key.into(), iin_key.into()]);
        }
        let r: Vec<(i64,)> = fetch_all!(self.db(), (i64,), PENDING_PR_SQL, passport_key, iin_key);
        Ok(r.first().map(|x| x.0).unwrap_or(0))
    }

    pub async fn outbox_due(&self, now: &str, limit: i64) -> StoreResult<Vec<OutboxRow>> {
        Ok(fetch_all!(self.db(), OutboxRow, OUTBOX_DUE_SQL, now, limit))
    }

    pub async fn outbox(&self, application_id: Option<&str>, limit: i64) -> StoreResult<Vec<OutboxRow>> {
        Ok(match application_id {
            Some(a) => fetch_all!(self.db(), OutboxRow, OUTBOX_BY_CASE_SQL, a, limit),
            None => fetch_all!(self.db(), OutboxRow, OUTBOX_LATEST_SQL, limit),
        })
    }

    pub async fn open_outage(&self, registry: &str) -> StoreResult<Option<OutageRow>> {
        Ok(fetch_optional!(
            self.db(),
            OutageRow,
            "SELECT id, registry, started_at, ended_at, journaled_at, last_error, failed_attempts, delayed, action FROM outages WHERE registry = $1 AND ended_at IS NULL",
            registry
        ))
    }

    pub async fn outage_act(&self, id: &str) -> StoreResult<Option<OutageActRow>> {
        Ok(match self.db() {
            Db::Sqlite(p) => {
                sqlx::query_as::<_, OutageActRow>(sqlx::AssertSqlSafe(format!(
                    "SELECT {OUTAGE_ACT_COLUMNS} FROM outage_acts WHERE id = $1"
                )))
                .bind(id)
                .fetch_optional(p)
                .await?
            }
            Db::Postgres(p) => {
                sqlx::query_as::<_, OutageActRow>(sqlx::AssertSqlSafe(format!(
                    "SELECT {OUTAGE_ACT_COLUMNS} FROM outage_acts WHERE id = $1"
                )))
                .bind(id)
                .fetch_optional(p)
                .await?
            }
        })
    }

    pub async fn outage(&self, id: &str) -> StoreResult<Option<OutageRow>> {
        Ok(fetch_optional!(
            self.db(),
            OutageRow,
            "SELECT id, registry, started_at, ended_at, journaled_at, last_error, failed_attempts, delayed, action FROM outages WHERE id = $1",
            id
        ))
    }

    pub async fn outages(&self, limit: i64) -> StoreResult<Vec<OutageRow>> {
        Ok(fetch_all!(
            self.db(),
            OutageRow,
            "SELECT id, registry, started_at, ended_at, journaled_at, last_error, failed_attempts, delayed, action FROM outages ORDER BY started_at DESC LIMIT $1",
            limit
        ))
    }

    pub async fn idempotency(&self, subject: &str, key: &str) -> StoreResult<Option<IdempotencyRow>> {
        Ok(fetch_optional!(
            self.db(),
            IdempotencyRow,
            "SELECT subject, key, request_hash, application_id, created_at FROM idempotency_keys WHERE subject = $1 AND key = $2",
            subject,
            key
        ))
    }

    pub async fn token_by_hash(&self, token_hash: &str) -> StoreResult<Option<TokenRow>> {
        Ok(fetch_optional!(
            self.db(),
            TokenRow,
            "SELECT id, token_hash, role, unit, label, created_at, revoked_at, party, expires_at FROM api_tokens WHERE token_hash = $1",
            token_hash
        ))
    }

    pub async fn tokens(&self) -> StoreResult<Vec<TokenRow>> {
        Ok(fetch_all!(
            self.db(),
            TokenRow,
            "SELECT id, token_hash, role, unit, label, created_at, revoked_at, party, expires_at FROM api_tokens ORDER BY created_at"
        ))
    }

    pub async fn agency_requests(&self, application_id: &str) -> StoreResult<Vec<AgencyRequestRow>> {
        Ok(fetch_all!(
            self.db(),
            AgencyRequestRow,
            "SELECT application_id, agency, sent_at, due_on, state, outcome, detail, answered_at, answered_by FROM agency_requests WHERE application_id = $1 ORDER BY agency",
            application_id
        ))
    }

    /// The journal entry (unit, number) of a PR case file.
    pub async fn journal_entry(&self, application_id: &str) -> StoreResult<Option<(String, i64)>> {
        Ok(fetch_optional!(
            self.db(),
            (String, i64),
            "SELECT unit, number FROM pr_journal WHERE application_id = $1",
            application_id
        ))
    }

    /// The journal number of a PR case.
    pub async fn journal_number(&self, application_id: &str) -> StoreResult<Option<i64>> {
        let r: Option<(i64,)> = fetch_optional!(
            self.db(),
            (i64,),
            "SELECT number FROM pr_journal WHERE application_id = $1",
            application_id
        );
        Ok(r.map(|x| x.0))
    }

    /// Decisions of the person's PR cases that were refused or annulled (п. 22); `None` for
    /// such a case whose decision is missing, which the caller must treat as unreadable.
    pub async fn pr_bars(&self, passport_key: &str, iin_key: &str) -> StoreResult<Vec<Option<String>>> {
        let rows: Vec<(String, Option<String>)> =
            fetch_all!(self.db(), (String, Option<String>), PR_BARS_SQL, passport_key, iin_key);
        let mut seen = std::collections::BTreeSet::new();
        Ok(rows
            .into_iter()
            .filter(|(id, _)| seen.insert(id.clone()))
            .map(|r| r.1)
            .collect())
    }

    pub async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserRow>> {
        Ok(fetch_optional!(
            self.db(),
            UserRow,
            "SELECT id, username, password_hash, role, unit, post, created_at, disabled_at FROM users WHERE username = $1",
            username
        ))
    }

    pub async fn user(&self, id: &str) -> StoreResult<Option<UserRow>> {
        Ok(fetch_optional!(
            self.db(),
            UserRow,
            "SELECT id, username, password_hash, role, unit, post, created_at, disabled_at FROM users WHERE id = $1",
            id
        ))
    }

    pub async fn session(&self, id_hash: &str) -> StoreResult<Option<SessionRow>> {
        Ok(fetch_optional!(
            self.db(),
            SessionRow,
            "SELECT id_hash, user_id, csrf_token, created_at, expires_at, revoked_at FROM sessions WHERE id_hash = $1",
            id_hash
        ))
    }

    pub async fn attachment_size(&self, sha256: &str) -> StoreResult<Option<i64>> {
        let r: Option<(i64,)> = fetch_optional!(
            self.db(),
            (i64,),
            "SELECT size FROM attachments WHERE sha256 = $1",
            sha256
        );
        Ok(r.map(|x| x.0))
    }

    /// Row counts of every table (for tests that assert nothing was written).
    pub async fn table_counts(&self) -> StoreResult<Vec<(String, i64)>> {
        let mut out = Vec::new();
        for t in [
            "applications",
            "application_filings",
            "check_sheets",
            "events",
            "outbox",
            "outages",
            "attachments",
            "idempotency_keys",
        ] {
            let sql = format!("SELECT COUNT(*) FROM {t}");
            let r: Vec<(i64,)> = fetch_all!(self.db(), (i64,), sqlx::AssertSqlSafe(sql));
            out.push((t.to_string(), r.first().map(|x| x.0).unwrap_or(0)));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod plan_tests {
    use super::*;

    /// SQLite's plan for each hot read: an index leads it, no table is scanned whole. (PostgreSQL
    /// chooses by statistics, so its plans are not fixed for a test on an empty database.)
    #[tokio::test]
    async fn hot_reads_are_led_by_indexes() {
        let dir = std::env::temp_dir().join(format!("koshi-plan-{}", uuid::Uuid::new_v4()));
        let store = Store::open(&crate::Location::SqliteFile(dir.join("koshi.db")))
            .await
            .unwrap();
        // A connection of its own, opened after the migrations: EXPLAIN plans with the schema a
        // connection has loaded, and a pool connection opened earlier may still hold the old one.
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", dir.join("koshi.db").display()))
            .await
            .unwrap();
        // SQLite's plan lines for `sql`, with `args` placeholder arguments (a plan is made without
        // running the statement, so their values do not matter).
        async fn plan(conn: &mut sqlx::SqliteConnection, sql: &str, args: usize) -> Vec<String> {
            let mut q =
                sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
            for _ in 0..args {
                q = q.bind("x");
            }
            q.fetch_all(conn).await.unwrap().into_iter().map(|r| r.3).collect()
        }
        let sorts = |plan: &[String]| plan.iter().any(|l| l.contains("TEMP B-TREE"));
        for (name, sql, args) in [
            ("due checks", DUE_CHECKS_SQL, 2),
            ("household RVPs", HOUSEHOLD_SQL, 2),
            ("pending PR", PENDING_PR_SQL, 2),
            ("outbox due", OUTBOX_DUE_SQL, 2),
            ("outbox of a case", OUTBOX_BY_CASE_SQL, 2),
            ("checks of a case", CHECKS_SQL, 1),
            ("events of a case", EVENTS_SQL, 1),
        ] {
            let plan = plan(&mut conn, sql, args).await;
            assert!(
                plan.iter().any(|l| l.contains("USING INDEX")
                    || l.contains("USING COVERING INDEX")
                    || l.contains("USING PRIMARY KEY")),
                "{name}: no index in {plan:?}"
            );
            for line in &plan {
                // A SELECT of scalar subqueries reads one constant row, not a table.
                let scan = line.starts_with("SCAN ") && !line.contains(" USING ") && line != "SCAN CONSTANT ROW";
                assert!(!scan, "{name}: scans a whole table: {plan:?}");
            }
        }
        // Due deliveries are read in the pending index's order up to the limit: no sort.
        let due = plan(&mut conn, OUTBOX_DUE_SQL, 2).await;
        assert!(
            due.iter().any(|l| l.contains("outbox_pending")) && !sorts(&due),
            "outbox due: {due:?}"
        );
        // The latest deliveries are read in primary-key order up to the limit: no sort of the
        // whole outbox.
        let latest = plan(&mut conn, OUTBOX_LATEST_SQL, 1).await;
        assert!(!sorts(&latest), "latest deliveries: {latest:?}");
        // The background pass finds cases waiting for checks through the index of open cases.
        let due = plan(&mut conn, DUE_CHECKS_SQL, 2).await;
        assert!(
            due.iter().any(|l| l.contains("applications_open")),
            "due checks: {due:?}"
        );

        // No statement on a case's path builds a temporary b-tree (SQLite does, every time a
        // statement runs, for an IN list of more than two constants; the index of open cases
        // evaluates its condition at every insert and status change).
        let row = ApplicationRow {
            id: "a".into(),
            kind: "rvp".into(),
            status: "checking".into(),
            channel: "police_desk".into(),
            unit: "u".into(),
            filed_unit: "u".into(),
            purpose: "p".into(),
            filed_at: "t".into(),
            accepted_on: None,
            due_on: None,
            receipt: "{}".into(),
            data: "{}".into(),
            decision: None,
            employer_iin: None,
            household: 0,
            person_key: "k".into(),
            permit_number: None,
            valid_from: None,
            valid_until: None,
            rules_version: "v".into(),
            created_by: "c".into(),
            created_at: "t".into(),
            updated_at: "t".into(),
            revision: 0,
        };
        let status = change_status(StatusChange {
            id: "a".into(),
            expected_revision: 0,
            status: "issued".into(),
            decision: None,
            permit_number: None,
            valid_from: None,
            valid_until: None,
            updated_at: "t".into(),
        });
        let [app, filing] = insert_application(&row);
        let shape = app.insert.expect("an insert shape");
        for (name, sql, args) in [
            ("insert application", app.sql, 22),
            // As the SQLite writer inserts a batch's applications: one statement of many rows.
            ("insert 4 applications", crate::writer::insert_rows_sql(shape, 4), 88),
            ("insert filing", filing.sql, 3),
            ("change status", status.sql, 8),
            ("pending PR", PENDING_PR_SQL, 2),
        ] {
            let mut q = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(format!(
                "SELECT addr, opcode FROM (EXPLAIN {sql})"
            )));
            for _ in 0..args {
                q = q.bind("x");
            }
            let program = match q.fetch_all(&mut conn).await {
                Ok(p) => p,
                // Older SQLite cannot select from EXPLAIN: read the program as rows instead.
                Err(_) => {
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")));
                    for _ in 0..args {
                        q = q.bind("x");
                    }
                    use sqlx::Row;
                    q.fetch_all(&mut conn)
                        .await
                        .unwrap()
                        .iter()
                        .map(|r| (r.get::<i64, _>(0), r.get::<String, _>(1)))
                        .collect()
                }
            };
            assert!(!program.is_empty(), "{name}: no program");
            assert!(
                !program.iter().any(|(_, op)| op == "OpenEphemeral"),
                "{name} builds a temporary b-tree: {program:?}"
            );
        }
        conn.close().await.ok();
        store.close().await;
        std::fs::remove_dir_all(&dir).ok();
    }
}
