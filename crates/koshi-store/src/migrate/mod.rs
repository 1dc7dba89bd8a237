//! Migrations: applied in order at start-up, recorded in `koshi_migrations`. The same text runs on
//! both backends; `{blob}` is the one type that differs (BLOB on SQLite, BYTEA on PostgreSQL).

use crate::{Db, StoreResult};

/// (version, name, SQL for SQLite, SQL for PostgreSQL); `None` for PostgreSQL means "the same".
const MIGRATIONS: &[(i64, &str, &str, Option<&str>)] = &[
    (1, "rvp service", RVP_SERVICE, None),
    (2, "append-only audit trail", AUDIT_SQLITE, Some(AUDIT_POSTGRES)),
    (3, "accounts and sessions", ACCOUNTS, None),
    (4, "durable timers", TIMERS, None),
    (5, "PR journal", PR_JOURNAL, None),
    (6, "PR agency requests", AGENCY_REQUESTS, None),
    (7, "checks are recorded when first run", CHECKS_ON_FIRST_RUN, None),
    (
        8,
        "indexes for the work a case does",
        LEAN_INDEXES_SQLITE,
        Some(LEAN_INDEXES_POSTGRES),
    ),
    (
        9,
        "the filed application apart from the case's state",
        FILED_APART,
        None,
    ),
    (
        10,
        "a case's checks on one sheet",
        CHECK_SHEETS_SQLITE,
        Some(CHECK_SHEETS_POSTGRES),
    ),
    (
        11,
        "audit events keyed by their sequence number",
        EVENTS_BY_SEQ_SQLITE,
        Some("SELECT 1;"),
    ),
    (
        12,
        "open cases indexed by comparisons, not an IN list",
        OPEN_BY_COMPARISONS,
        None,
    ),
    (13, "law data loaded while Koshi runs", LAW_DATA, None),
    (14, "the drill clock", DRILL_CLOCK, None),
    (
        15,
        "the outage journal names what was delayed and done",
        OUTAGE_DETAIL,
        None,
    ),
    (
        16,
        "portal tokens bound to the inviting party, with an expiry",
        PARTY_TOKENS,
        None,
    ),
    (
        17,
        "PR cases keyed to the person: IIN and every passport",
        PERSON_KEYS,
        None,
    ),
    (18, "acts of failure (п. 9-1 абз. 13 пп. 1)", OUTAGE_ACTS, None),
    (
        19,
        "one act of failure per earlier application",
        "CREATE UNIQUE INDEX outage_acts_earlier ON outage_acts (earlier_application_id);",
        None,
    ),
    (
        20,
        "instances seen (readiness writes, several instances on one database)",
        "CREATE TABLE instances (id TEXT PRIMARY KEY, seen_at TEXT NOT NULL);",
        None,
    ),
    (
        21,
        "a case's acts apart from its reads (the view stays small however often it is read)",
        "CREATE INDEX events_case_acts ON events (application_id, at) WHERE action <> 'personal_data.read';",
        None,
    ),
    (
        22,
        "work queues: a unit's cases, and a ЦОН branch's filings, by legal deadline",
        "CREATE INDEX applications_unit_queue ON applications (unit, (COALESCE(due_on, '9999-12-31')), id);\nCREATE INDEX applications_filed_queue ON applications (filed_unit, (COALESCE(due_on, '9999-12-31')), id);",
        None,
    ),
    (
        23,
        "work queues of open cases: a unit's work without its history",
        "CREATE INDEX applications_unit_open ON applications (unit, (COALESCE(due_on, '9999-12-31')), id) WHERE status <> 'issued' AND status <> 'refused' AND status <> 'refused_to_accept' AND status <> 'annulled' AND status <> 'withdrawn';\nCREATE INDEX applications_filed_open ON applications (filed_unit, (COALESCE(due_on, '9999-12-31')), id) WHERE status <> 'issued' AND status <> 'refused' AND status <> 'refused_to_accept' AND status <> 'annulled' AND status <> 'withdrawn';",
        None,
    ),
    (
        24,
        "open-queue indexes carry the status: a unit's counts by status from the index alone",
        OPEN_QUEUES_WITH_STATUS,
        None,
    ),
    (25, "documents, their files and the signing keys", DOCUMENTS, None),
    (
        26,
        "document numbers found through their case; an index only for the numbers that name none",
        "DROP INDEX IF EXISTS documents_number;\nCREATE INDEX documents_number_rare ON documents (number) WHERE form = 'exit_permit' OR form = 'journal';",
        None,
    ),
    (
        27,
        "the agencies' latest answers, for how long each agency takes (the SLA page)",
        "CREATE INDEX agency_requests_answered ON agency_requests (answered_at) WHERE answered_at IS NOT NULL;",
        None,
    ),
    (
        28,
        "the parties of a case: an inviting party's cabinet lists its own requests by index",
        CASE_PARTIES_SQLITE,
        Some(CASE_PARTIES_POSTGRES),
    ),
    (
        29,
        "the applicant for a PR follows the notices addressed to the applicant",
        "INSERT INTO case_parties (party, application_id, relation) SELECT party, id, 'applicant' FROM (SELECT a.id, TRIM(json_extract(f.data, '$.applicant.iin')) AS party FROM applications a JOIN application_filings f ON f.id = a.id WHERE a.kind = 'pr') WHERE party IS NOT NULL AND party <> '';",
        Some(
            "INSERT INTO case_parties (party, application_id, relation) SELECT party, id, 'applicant' FROM (SELECT a.id, TRIM(f.data::jsonb -> 'applicant' ->> 'iin') AS party FROM applications a JOIN application_filings f ON f.id = a.id WHERE a.kind = 'pr') AS p WHERE party IS NOT NULL AND party <> '';",
        ),
    ),
    (
        30,
        "a filing unit's queues hold only the cases it filed for another unit (a ЦОН's), not every desk filing twice",
        FILED_QUEUES_OF_OTHERS,
        None,
    ),
    (
        31,
        "a message keeps the request that queued it, sent on with it",
        "ALTER TABLE outbox ADD COLUMN request_id TEXT;",
        None,
    ),
];

/// Migration 30: the filed queues (migrations 22 and 24) serve one reader, a ЦОН branch listing
/// what it filed (`QueueScope::Filed`); a ЦОН never owns a case, so every case it reads there has
/// `filed_unit <> unit`. A desk filing (filed and owned by the same police body) no longer enters
/// them: two index entries less a case, and no churn in the open one at each change of status.
const FILED_QUEUES_OF_OTHERS: &str = "DROP INDEX IF EXISTS applications_filed_queue;
DROP INDEX IF EXISTS applications_filed_open;
CREATE INDEX applications_filed_queue ON applications (filed_unit, (COALESCE(due_on, '9999-12-31')), id) WHERE filed_unit <> unit;
CREATE INDEX applications_filed_open ON applications (filed_unit, (COALESCE(due_on, '9999-12-31')), id, status) WHERE filed_unit <> unit AND status <> 'issued' AND status <> 'refused' AND status <> 'refused_to_accept' AND status <> 'annulled' AND status <> 'withdrawn';";

/// Migration 28: who besides the police may follow a case (issue 17 item 5). Today one relation:
/// the inviting party of a request filed on the portal (п. 8), by the number of its kind (an
/// individual's IIN, an organisation's BIN), the same rule as `koshi_cases::stored::parties`.
/// Filings stored before are read once here.
const CASE_PARTIES_SQLITE: &str = r#"
CREATE TABLE case_parties (
    party TEXT NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id),
    relation TEXT NOT NULL,
    PRIMARY KEY (party, application_id)
);
INSERT INTO case_parties (party, application_id, relation)
SELECT party, id, 'inviting_party' FROM (
    SELECT a.id,
           TRIM(CASE
               WHEN json_extract(f.data, '$.inviting_party.kind') IN ('citizen', 'permanent_resident')
                   THEN json_extract(f.data, '$.inviting_party.iin')
               WHEN json_extract(f.data, '$.inviting_party.kind') IN ('legal_entity', 'educational_organisation', 'health_organisation', 'religious_organisation', 'local_executive_body', 'aifc_administration')
                   THEN json_extract(f.data, '$.inviting_party.bin')
           END) AS party
    FROM applications a JOIN application_filings f ON f.id = a.id
    WHERE a.kind = 'rvp' AND a.channel = 'portal'
) WHERE party IS NOT NULL AND party <> '';
"#;

const CASE_PARTIES_POSTGRES: &str = r#"
CREATE TABLE case_parties (
    party TEXT NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id),
    relation TEXT NOT NULL,
    PRIMARY KEY (party, application_id)
);
INSERT INTO case_parties (party, application_id, relation)
SELECT party, id, 'inviting_party' FROM (
    SELECT a.id,
           TRIM(CASE
               WHEN f.data::jsonb -> 'inviting_party' ->> 'kind' IN ('citizen', 'permanent_resident')
                   THEN f.data::jsonb -> 'inviting_party' ->> 'iin'
               WHEN f.data::jsonb -> 'inviting_party' ->> 'kind' IN ('legal_entity', 'educational_organisation', 'health_organisation', 'religious_organisation', 'local_executive_body', 'aifc_administration')
                   THEN f.data::jsonb -> 'inviting_party' ->> 'bin'
           END) AS party
    FROM applications a JOIN application_filings f ON f.id = a.id
    WHERE a.kind = 'rvp' AND a.channel = 'portal'
) AS p WHERE party IS NOT NULL AND party <> '';
"#;

/// Migration 25: the documents of the acts (issue 16). `facts` is the printed content fixed at
/// the act; the files are rendered from it per language and kept in `attachments`.
const DOCUMENTS: &str = r#"
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    application_id TEXT,
    form TEXT NOT NULL,
    number TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    act TEXT NOT NULL,
    unit TEXT NOT NULL,
    facts TEXT,
    issued_at TEXT NOT NULL,
    issued_on TEXT NOT NULL
);
CREATE INDEX documents_application ON documents (application_id, issued_at);
CREATE INDEX documents_number ON documents (number);
CREATE TABLE document_files (
    document_id TEXT NOT NULL REFERENCES documents (id),
    lang TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    signature TEXT NOT NULL,
    kid TEXT NOT NULL,
    rendered_at TEXT NOT NULL,
    PRIMARY KEY (document_id, lang)
);
CREATE TABLE document_keys (
    kid TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    certificate TEXT NOT NULL,
    private_key TEXT,
    created_at TEXT NOT NULL
);
"#;

/// Migration 24: the open-queue indexes of migration 23 again, with the status as a last key
/// column, so that the counts by status of a unit's open cases read the index only (measured on
/// 10,000,000 cases in PostgreSQL: 112 ms a page with its counts, reading 25,000 rows' heap pages).
const OPEN_QUEUES_WITH_STATUS: &str = "DROP INDEX IF EXISTS applications_unit_open;
DROP INDEX IF EXISTS applications_filed_open;
CREATE INDEX applications_unit_open ON applications (unit, (COALESCE(due_on, '9999-12-31')), id, status) WHERE status <> 'issued' AND status <> 'refused' AND status <> 'refused_to_accept' AND status <> 'annulled' AND status <> 'withdrawn';
CREATE INDEX applications_filed_open ON applications (filed_unit, (COALESCE(due_on, '9999-12-31')), id, status) WHERE status <> 'issued' AND status <> 'refused' AND status <> 'refused_to_accept' AND status <> 'annulled' AND status <> 'withdrawn';";

/// The schema version this build expects: the last migration's.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// п. 9-1 абз. 13 пп. 1: the act of an information-system failure that let a timely applicant's
/// stay expire, kept by Koshi: it names a journaled outage and the earlier application, is signed
/// by the ЦОН and countersigned by the police body, and serves one late filing.
const OUTAGE_ACTS: &str = r#"
CREATE TABLE outage_acts (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    outage_id TEXT NOT NULL,
    failure_on TEXT NOT NULL,
    earlier_application_id TEXT NOT NULL,
    person_key TEXT NOT NULL,
    iin_key TEXT NOT NULL,
    con_unit TEXT NOT NULL,
    con_signed_by TEXT NOT NULL,
    con_signed_at TEXT NOT NULL,
    police_unit TEXT NOT NULL,
    police_signed_by TEXT,
    police_signed_at TEXT,
    used_by TEXT UNIQUE,
    created_at TEXT NOT NULL
);
"#;

/// Issue 14 item 11: the п. 22 bar and the pending-PR check find a person's PR cases by any of
/// the keys the person filed with (the IIN, each passport), not by one passport number. Cases
/// filed before carry none here and are still found by `applications.person_key` (their passport).
const PERSON_KEYS: &str = r#"
CREATE TABLE person_keys (
    key TEXT NOT NULL,
    application_id TEXT NOT NULL,
    PRIMARY KEY (key, application_id)
);
"#;

/// Issue 14 item 4: a portal identity is the inviting party proven by its ЭЦП (IIN or BIN); its
/// tokens carry that party and expire. Tokens issued before carry none (a portal one is refused).
const PARTY_TOKENS: &str = r#"
ALTER TABLE api_tokens ADD COLUMN party TEXT;
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
"#;

/// п. 9-5: the journal records, besides the system, start and end, the messages delayed and
/// what was done.
const OUTAGE_DETAIL: &str = r#"
ALTER TABLE outages ADD COLUMN delayed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outages ADD COLUMN action TEXT NOT NULL DEFAULT '';
"#;

/// A database a drill ran on with a simulated clock keeps the clock's offset here; the row also
/// marks the database as a drill's, which the system clock then refuses to serve (and a database
/// with cases but no row refuses a simulated clock).
const DRILL_CLOCK: &str = r#"
CREATE TABLE drill_clock (
    id BIGINT PRIMARY KEY,
    offset_ms BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"#;

/// Official calendar years and MCI figures an administrator loads while Koshi runs: each load
/// kept whole (the file as given, its digest), in order of its time-ordered id. Every instance
/// builds its law from the shipped data and these loads, in order.
const LAW_DATA: &str = r#"
CREATE TABLE law_data_loads (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    content TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    summary TEXT NOT NULL,
    loaded_by TEXT NOT NULL,
    loaded_at TEXT NOT NULL
);
"#;

/// The index of open cases holds the same rows as before (every case not in one of the five final
/// states), but its condition is written as five comparisons instead of `status NOT IN (…)`.
/// SQLite evaluates an IN list of more than two constants by building a temporary b-tree of the
/// list each time a statement runs, and a partial index's condition is evaluated at every insert
/// into the table and at every status change (for the old row and the new): three temporary
/// b-trees per RVP case, each with a page allocated and zeroed. Comparisons cost a few
/// instructions. Queries repeat the condition word for word so that both databases use the index.
const OPEN_BY_COMPARISONS: &str = r#"
DROP INDEX IF EXISTS applications_open;
CREATE INDEX applications_open ON applications (status) WHERE status <> 'issued' AND status <> 'refused' AND status <> 'refused_to_accept' AND status <> 'annulled' AND status <> 'withdrawn';
"#;

/// The indexes follow the reads Koshi makes, so that a case's writes maintain no more than those:
/// - applications by status: only open cases (the queues and the background pass); closed cases,
///   the great majority, are never looked up by status alone. Queries repeat the index's
///   condition word for word, so that both databases use it;
/// - by employer: only household-work filings carry an employer (п. 9-1 пп. 5);
/// - by person: only PR cases are looked up by person (п. 9-1 пп. 6, the п. 22 bar);
/// - the outbox: due messages are the pending ones; a case's messages are listed by case.
///
/// On SQLite the checks and the outbox become WITHOUT ROWID tables: their rows live in their
/// primary key's b-tree, one b-tree to write instead of two.
const LEAN_INDEXES_SQLITE: &str = r#"
DROP INDEX IF EXISTS applications_status;
DROP INDEX IF EXISTS applications_employer;
DROP INDEX IF EXISTS applications_person;
CREATE INDEX applications_open ON applications (status) WHERE status NOT IN ('issued', 'refused', 'refused_to_accept', 'annulled', 'withdrawn');
CREATE INDEX applications_employer ON applications (employer_iin, status) WHERE employer_iin IS NOT NULL;
CREATE INDEX applications_person_pr ON applications (person_key, status) WHERE kind = 'pr';

CREATE TABLE checks_v8 (
    application_id TEXT NOT NULL REFERENCES applications (id),
    check_name TEXT NOT NULL,
    state TEXT NOT NULL,
    finding TEXT,
    source TEXT NOT NULL,
    checked_at TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT,
    PRIMARY KEY (application_id, check_name)
) WITHOUT ROWID;
INSERT INTO checks_v8 SELECT application_id, check_name, state, finding, source, checked_at, attempts, next_attempt_at, last_error FROM checks;
DROP TABLE checks;
ALTER TABLE checks_v8 RENAME TO checks;

CREATE TABLE outbox_v8 (
    id TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    application_id TEXT,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    delivered_at TEXT,
    last_error TEXT
) WITHOUT ROWID;
INSERT INTO outbox_v8 SELECT id, topic, application_id, payload, created_at, state, attempts, next_attempt_at, delivered_at, last_error FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v8 RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_application ON outbox (application_id, created_at);
"#;

const LEAN_INDEXES_POSTGRES: &str = r#"
DROP INDEX IF EXISTS applications_status;
DROP INDEX IF EXISTS applications_employer;
DROP INDEX IF EXISTS applications_person;
CREATE INDEX applications_open ON applications (status) WHERE status NOT IN ('issued', 'refused', 'refused_to_accept', 'annulled', 'withdrawn');
CREATE INDEX applications_employer ON applications (employer_iin, status) WHERE employer_iin IS NOT NULL;
CREATE INDEX applications_person_pr ON applications (person_key, status) WHERE kind = 'pr';
DROP INDEX IF EXISTS outbox_due;
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_application ON outbox (application_id, created_at);
"#;

/// A case accepted for checking has no check rows until its checks first run (the application's
/// status says it is waiting for all seven); due retries are found through the application, so
/// the index over every check's state is no longer read.
const CHECKS_ON_FIRST_RUN: &str = "DROP INDEX IF EXISTS checks_due;";

/// What was filed (the request as received and the receipt given for it) never changes after
/// intake; the case's state (status, decision, permit) changes at every stage. They live in two
/// tables so that a stage change rewrites a short row instead of the whole filing: the filing is
/// written once, at intake.
const FILED_APART: &str = r#"
CREATE TABLE application_filings (
    id TEXT PRIMARY KEY REFERENCES applications (id),
    receipt TEXT NOT NULL,
    data TEXT NOT NULL
);
INSERT INTO application_filings (id, receipt, data) SELECT id, receipt, data FROM applications;
ALTER TABLE applications DROP COLUMN receipt;
ALTER TABLE applications DROP COLUMN data;
"#;

/// The seven checks of a case run together and are recorded together: one row per case (the
/// list as JSON, by check name, and the earliest retry of a waiting check) instead of seven,
/// so that recording them is one write, not seven, each with its foreign-key lookup.
const CHECK_SHEETS_SQLITE: &str = r#"
CREATE TABLE check_sheets (
    application_id TEXT PRIMARY KEY REFERENCES applications (id),
    checks TEXT NOT NULL,
    next_attempt_at TEXT
);
INSERT INTO check_sheets (application_id, checks, next_attempt_at)
SELECT application_id,
       json_group_array(json_object('check_name', check_name, 'state', state, 'finding', finding, 'source', source, 'checked_at', checked_at, 'attempts', attempts, 'next_attempt_at', next_attempt_at, 'last_error', last_error)),
       MIN(CASE WHEN state = 'waiting' THEN COALESCE(next_attempt_at, '') END)
FROM (SELECT * FROM checks ORDER BY application_id, check_name)
GROUP BY application_id;
DROP TABLE checks;
"#;

const CHECK_SHEETS_POSTGRES: &str = r#"
CREATE TABLE check_sheets (
    application_id TEXT PRIMARY KEY REFERENCES applications (id),
    checks TEXT NOT NULL,
    next_attempt_at TEXT
);
INSERT INTO check_sheets (application_id, checks, next_attempt_at)
SELECT application_id,
       json_agg(json_build_object('check_name', check_name, 'state', state, 'finding', finding, 'source', source, 'checked_at', checked_at, 'attempts', attempts, 'next_attempt_at', next_attempt_at, 'last_error', last_error) ORDER BY check_name)::text,
       MIN(CASE WHEN state = 'waiting' THEN COALESCE(next_attempt_at, '') END)
FROM checks
GROUP BY application_id;
DROP TABLE checks;
"#;

/// SQLite: the audit trail's rows live in the b-tree of their sequence number (`INTEGER PRIMARY
/// KEY`, the rowid), which the chain is read and extended by, instead of a rowid of their own
/// plus a separate unique index on `seq`: one b-tree fewer to write per event. The append-only
/// triggers are made again on the new table. (PostgreSQL keeps its table: a no-op there.)
const EVENTS_BY_SEQ_SQLITE: &str = r#"
DROP TRIGGER IF EXISTS events_no_update;
DROP TRIGGER IF EXISTS events_no_delete;
CREATE TABLE events_v11 (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    application_id TEXT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    citation TEXT NOT NULL,
    rules_version TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO events_v11 (seq, id, application_id, at, actor, action, citation, rules_version, detail, prev_hash, hash)
SELECT seq, id, application_id, at, actor, action, citation, rules_version, detail, prev_hash, hash FROM events ORDER BY seq;
DROP TABLE events;
ALTER TABLE events_v11 RENAME TO events;
CREATE INDEX events_application ON events (application_id, at);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"#;

/// п. 14 пп. 2–3: what was asked of which agency, by when, and what it answered.
const AGENCY_REQUESTS: &str = r#"
CREATE TABLE agency_requests (
    application_id TEXT NOT NULL,
    agency TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    due_on TEXT NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT,
    detail TEXT,
    answered_at TEXT,
    answered_by TEXT,
    PRIMARY KEY (application_id, agency)
);
"#;

/// App. 8: the journal of case files of permanent residents, per police body. Its running number
/// is the case number: assigned at commit, so it has no gaps, and unique per unit.
const PR_JOURNAL: &str = r#"
CREATE TABLE pr_journal (
    unit TEXT NOT NULL,
    number BIGINT NOT NULL,
    application_id TEXT NOT NULL UNIQUE,
    registered_at TEXT NOT NULL,
    PRIMARY KEY (unit, number)
);
"#;

/// Legal clocks that survive restarts: one row per (kind, subject), claimed under a lease.
const TIMERS: &str = r#"
CREATE TABLE timers (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    due_at TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    lease_owner TEXT,
    lease_until TEXT,
    fired_at TEXT,
    fired_by TEXT,
    attempts BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX timers_subject ON timers (kind, subject);
CREATE INDEX timers_due ON timers (state, due_at);
"#;

const ACCOUNTS: &str = r#"
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    unit TEXT NOT NULL,
    post TEXT NOT NULL,
    created_at TEXT NOT NULL,
    disabled_at TEXT
);
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
"#;

/// The audit trail cannot be changed or deleted through SQL; the hash chain shows it if someone
/// with the rights to drop these triggers does it anyway.
const AUDIT_SQLITE: &str = r#"
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"#;

const AUDIT_POSTGRES: &str = r#"
CREATE OR REPLACE FUNCTION koshi_append_only() RETURNS trigger AS $fn$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END
$fn$ LANGUAGE plpgsql;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION koshi_append_only();
"#;

const RVP_SERVICE: &str = r#"
CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    channel TEXT NOT NULL,
    unit TEXT NOT NULL,
    filed_unit TEXT NOT NULL,
    purpose TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    accepted_on TEXT,
    due_on TEXT,
    receipt TEXT NOT NULL,
    data TEXT NOT NULL,
    decision TEXT,
    employer_iin TEXT,
    household BIGINT NOT NULL DEFAULT 0,
    person_key TEXT NOT NULL,
    permit_number TEXT UNIQUE,
    valid_from TEXT,
    valid_until TEXT,
    rules_version TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    revision BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX applications_status ON applications (status);
CREATE INDEX applications_employer ON applications (employer_iin, status);
CREATE INDEX applications_person ON applications (person_key, kind, status);

CREATE TABLE checks (
    application_id TEXT NOT NULL REFERENCES applications (id),
    check_name TEXT NOT NULL,
    state TEXT NOT NULL,
    finding TEXT,
    source TEXT NOT NULL,
    checked_at TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT,
    PRIMARY KEY (application_id, check_name)
);
CREATE INDEX checks_due ON checks (state, next_attempt_at);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    application_id TEXT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    citation TEXT NOT NULL,
    rules_version TEXT NOT NULL,
    detail TEXT NOT NULL,
    seq BIGINT NOT NULL UNIQUE,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX events_application ON events (application_id, at);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    application_id TEXT,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    delivered_at TEXT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

CREATE TABLE outages (
    id TEXT PRIMARY KEY,
    registry TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    journaled_at TEXT,
    last_error TEXT NOT NULL,
    failed_attempts BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX outages_registry ON outages (registry, ended_at);

CREATE TABLE attachments (
    sha256 TEXT PRIMARY KEY,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    content {blob} NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE idempotency_keys (
    subject TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    application_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (subject, key)
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    unit TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
"#;

pub(crate) async fn apply(db: &Db) -> StoreResult<()> {
    apply_until(db, i64::MAX).await
}

/// Applies the migrations up to and including `last` (tests build older schemas with it).
async fn apply_until(db: &Db, last: i64) -> StoreResult<()> {
    let create = "CREATE TABLE IF NOT EXISTS koshi_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";
    let blob = match db {
        Db::Sqlite(_) => "BLOB",
        Db::Postgres(_) => "BYTEA",
    };
    match db {
        Db::Sqlite(pool) => {
            // Two processes starting on one fresh data directory: the first takes the write
            // lock for the whole pass (BEGIN IMMEDIATE), the second waits for it (the busy
            // timeout) and then finds every migration applied.
            let mut conn = pool.acquire().await?;
            sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
            let pass = async {
                sqlx::query(create).execute(&mut *conn).await?;
                for (version, name, sql, _) in MIGRATIONS.iter().filter(|m| m.0 <= last) {
                    let done: Option<(i64,)> =
                        sqlx::query_as("SELECT version FROM koshi_migrations WHERE version = $1")
                            .bind(version)
                            .fetch_optional(&mut *conn)
                            .await?;
                    if done.is_some() {
                        continue;
                    }
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.replace("{blob}", blob)))
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("INSERT INTO koshi_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                        .bind(version)
                        .bind(*name)
                        .bind(crate::instant(jiff::Timestamp::now()))
                        .execute(&mut *conn)
                        .await?;
                }
                Ok::<(), crate::StoreError>(())
            }
            .await;
            match pass {
                Ok(()) => {
                    sqlx::query("COMMIT").execute(&mut *conn).await?;
                }
                Err(e) => {
                    let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                    return Err(e);
                }
            }
        }
        Db::Postgres(pool) => {
            // Several Koshi instances may start at once on one PostgreSQL: serialise migrations.
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock(7303001)")
                .execute(&mut *tx)
                .await?;
            sqlx::query(create).execute(&mut *tx).await?;
            for (version, name, sqlite_sql, pg_sql) in MIGRATIONS.iter().filter(|m| m.0 <= last) {
                let sql = pg_sql.unwrap_or(sqlite_sql);
                let done: Option<(i64,)> = sqlx::query_as("SELECT version FROM koshi_migrations WHERE version = $1")
                    .bind(version)
                    .fetch_optional(&mut *tx)
                    .await?;
                if done.is_some() {
                    continue;
                }
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.replace("{blob}", blob)))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO koshi_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                    .bind(version)
                    .bind(*name)
                    .bind(crate::instant(jiff::Timestamp::now()))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
