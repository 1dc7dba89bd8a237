//! The reads of the store, each a statement named here or beside its table in `repo`.

use crate::{Db, Store, StoreResult};
use std::borrow::Cow;

use super::*;

// ------------------------------------------------------------------ reads

impl Store {
    pub async fn application(&self, id: &str) -> StoreResult<Option<ApplicationRow>> {
        if let Some(r) = self.hot_reader() {
            return Ok(r
                .rows(APPLICATION_SQL, &[id.into()], ApplicationRow::from_sqlite)?
                .pop());
        }
        Ok(fetch_optional!(self.db(), ApplicationRow, APPLICATION_SQL, id))
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
        let sheet: Option<(String,)> = match self.hot_reader() {
            Some(r) => r
                .rows(CHECKS_SQL, &[application_id.into()], |r| Ok((r.get(0)?,)))?
                .pop(),
            None => fetch_optional!(self.db(), (String,), CHECKS_SQL, application_id),
        };
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

    /// Claims a case's due check retry for this instance until `until`: its sheet's next attempt
    /// moves to `until` if it was due at `now`, in one statement, so that of several instances
    /// passing over the same due retry one runs it (the others find it no longer due). Whoever
    /// runs it records the sheet again, with its real next attempt; one that stops before that
    /// leaves the claim to lapse at `until`. False for a case with no sheet (its checks never ran:
    /// nothing to claim) or one another instance holds.
    pub async fn claim_check_retry(&self, application_id: &str, now: &str, until: &str) -> StoreResult<bool> {
        let rows: Vec<(String,)> = fetch_all!(
            self.db(),
            (String,),
            "UPDATE check_sheets SET next_attempt_at = $1 WHERE application_id = $2 AND next_attempt_at IS NOT NULL AND next_attempt_at <= $3 RETURNING application_id",
            until,
            application_id,
            now
        );
        Ok(!rows.is_empty())
    }

    /// Whether a due case whose retry this instance could not claim is another's to run: its
    /// checks have a sheet (another instance holds the claim), or it was filed after
    /// `fresh_since` (its own instance runs its first checks). One statement.
    pub async fn checks_held_elsewhere(&self, application_id: &str, fresh_since: Option<&str>) -> StoreResult<bool> {
        // No grace: a filing instant is never after the end of time.
        let since = fresh_since.unwrap_or("9999");
        let rows: Vec<(i64,)> = fetch_all!(
            self.db(),
            (i64,),
            "SELECT CAST(COUNT(*) AS BIGINT) FROM applications a WHERE a.id = $1 AND (a.filed_at > $2 OR EXISTS (SELECT 1 FROM check_sheets s WHERE s.application_id = a.id))",
            application_id,
            since
        );
        Ok(rows.first().is_some_and(|r| r.0 > 0))
    }

    /// A case's acts (its audit events without the records of reads).
    pub async fn events(&self, application_id: &str) -> StoreResult<Vec<EventRow>> {
        if let Some(r) = self.hot_reader() {
            return r.rows(EVENTS_SQL, &[application_id.into()], EventRow::from_sqlite);
        }
        Ok(fetch_all!(self.db(), EventRow, EVENTS_SQL, application_id))
    }

    /// The latest acts on people's accounts and system tokens (`account.*`, `token.*`), newest
    /// first: acts of no case, read through the index of acts (a case's id is NULL for them).
    pub async fn staff_events(&self, limit: i64) -> StoreResult<Vec<EventRow>> {
        Ok(fetch_all!(self.db(), EventRow, STAFF_EVENTS_SQL, limit))
    }

    /// The records of reads of a case, newest first: up to `limit` before the cursor (`at`, `id`
    /// of the last one seen; from the newest without one).
    pub async fn access_log(
        &self,
        application_id: &str,
        before: Option<(&str, &str)>,
        limit: i64,
    ) -> StoreResult<Vec<EventRow>> {
        // "~" sorts after every instant and id Koshi writes.
        let (at, id) = before.unwrap_or(("~", "~"));
        Ok(fetch_all!(
            self.db(),
            EventRow,
            ACCESS_LOG_SQL,
            application_id,
            at,
            id,
            limit
        ))
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

    /// Claims up to `limit` due messages until `lease_until`: their next attempt moves to the
    /// lease's end, so no other instance takes them while this one delivers (`FOR UPDATE SKIP
    /// LOCKED` on PostgreSQL; on SQLite the UPDATE itself is the claim, one writer at a time).
    /// A message whose delivery outlives the lease (a crash) is claimed again after it: at least
    /// once. In due order.
    pub async fn claim_outbox(&self, now: &str, lease_until: &str, limit: i64) -> StoreResult<Vec<OutboxRow>> {
        let sql = match self.db() {
            Db::Postgres(_) => CLAIM_OUTBOX_PG,
            Db::Sqlite(_) => CLAIM_OUTBOX_SQLITE,
        };
        let mut rows = fetch_all!(self.db(), OutboxRow, sql, lease_until, now, limit);
        rows.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
        Ok(rows)
    }

    /// Cases by kind and status (metrics).
    pub async fn cases_by_status(&self) -> StoreResult<Vec<(String, String, i64)>> {
        Ok(fetch_all!(
            self.db(),
            (String, String, i64),
            "SELECT kind, status, COUNT(*) FROM applications GROUP BY kind, status ORDER BY kind, status"
        ))
    }

    /// Pending timers by kind that are due at `now`, and those due before `late` (the scheduler
    /// is behind on them).
    pub async fn timers_due(&self, now: &str, late: &str) -> StoreResult<Vec<(String, i64, i64)>> {
        Ok(fetch_all!(
            self.db(),
            (String, i64, i64),
            "SELECT kind, COUNT(*), SUM(CASE WHEN due_at <= $2 THEN 1 ELSE 0 END) FROM timers WHERE state = 'pending' AND due_at <= $1 GROUP BY kind ORDER BY kind",
            now,
            late
        ))
    }

    /// Outages not yet over, by system (п. 9-5).
    pub async fn open_outages(&self) -> StoreResult<Vec<(String, i64)>> {
        Ok(fetch_all!(
            self.db(),
            (String, i64),
            "SELECT registry, COUNT(*) FROM outages WHERE ended_at IS NULL GROUP BY registry ORDER BY registry"
        ))
    }

    /// Ready to serve: every migration this build knows is applied, and a write through the
    /// writer commits (this instance's heartbeat in `instances`).
    pub async fn ready(&self, instance: &str, at: &str) -> StoreResult<()> {
        let v: Option<(Option<i64>,)> =
            fetch_optional!(self.db(), (Option<i64>,), "SELECT MAX(version) FROM koshi_migrations");
        let have = v.and_then(|r| r.0).unwrap_or(0);
        if have != crate::migrate::latest() {
            return Err(crate::StoreError::Database(format!(
                "the schema is at version {have}; this build expects {}",
                crate::migrate::latest()
            )));
        }
        self.write(crate::Unit::new().with(crate::Op::new(
            "instance heartbeat",
            "INSERT INTO instances (id, seen_at) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET seen_at = $2",
            vec![instance.into(), at.into()],
        )))
        .await
    }

    /// Whether this process's connection to the database is encrypted: PostgreSQL's own answer
    /// for a connection of the pool (TLS per the URL's `sslmode`); `None` for SQLite (a file).
    pub async fn encrypted(&self) -> StoreResult<Option<bool>> {
        match self.db() {
            Db::Sqlite(_) => Ok(None),
            Db::Postgres(p) => {
                let r: Option<(bool,)> = sqlx::query_as("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                    .fetch_optional(p)
                    .await?;
                Ok(Some(r.is_some_and(|r| r.0)))
            }
        }
    }

    /// The outbox's backlog by topic: pending messages and the oldest one's creation instant.
    pub async fn outbox_backlog(&self) -> StoreResult<Vec<(String, i64, String)>> {
        Ok(fetch_all!(
            self.db(),
            (String, i64, String),
            "SELECT topic, COUNT(*), MIN(created_at) FROM outbox WHERE state = 'pending' GROUP BY topic ORDER BY topic"
        ))
    }

    /// The cases a party follows in `relation` (`case_parties`), newest id first, up to `limit`.
    pub async fn party_cases(&self, party: &str, relation: &str, limit: i64) -> StoreResult<Vec<String>> {
        Ok(fetch_all!(
            self.db(),
            (String,),
            "SELECT application_id FROM case_parties WHERE party = $1 AND relation = $2 ORDER BY application_id DESC LIMIT $3",
            party,
            relation,
            limit
        )
        .into_iter()
        .map(|(id,)| id)
        .collect())
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
        if let Some(r) = self.hot_reader() {
            return Ok(r.rows(TOKEN_SQL, &[token_hash.into()], TokenRow::from_sqlite)?.pop());
        }
        Ok(fetch_optional!(self.db(), TokenRow, TOKEN_SQL, token_hash))
    }

    pub async fn token(&self, id: &str) -> StoreResult<Option<TokenRow>> {
        Ok(fetch_optional!(
            self.db(),
            TokenRow,
            "SELECT id, token_hash, role, unit, label, created_at, revoked_at, party, expires_at FROM api_tokens WHERE id = $1",
            id
        ))
    }

    pub async fn tokens(&self) -> StoreResult<Vec<TokenRow>> {
        Ok(fetch_all!(
            self.db(),
            TokenRow,
            "SELECT id, token_hash, role, unit, label, created_at, revoked_at, party, expires_at FROM api_tokens ORDER BY created_at"
        ))
    }

    /// The latest `limit` answered requests to the agencies of п. 14, newest first (how long each
    /// agency takes; led by the index of migration 27).
    pub async fn latest_agency_answers(&self, limit: i64) -> StoreResult<Vec<AgencyRequestRow>> {
        Ok(fetch_all!(
            self.db(),
            AgencyRequestRow,
            "SELECT application_id, agency, sent_at, due_on, state, outcome, detail, answered_at, answered_by FROM agency_requests WHERE answered_at IS NOT NULL ORDER BY answered_at DESC LIMIT $1",
            limit
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

    /// Every account, by name (the administrator's list; the password hash is the caller's to leave out).
    pub async fn users(&self) -> StoreResult<Vec<UserRow>> {
        Ok(fetch_all!(
            self.db(),
            UserRow,
            "SELECT id, username, password_hash, role, unit, post, created_at, disabled_at FROM users ORDER BY username"
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
            "documents",
            "document_files",
            "outage_acts",
            "timers",
            "pr_journal",
            "agency_requests",
            "person_keys",
            "case_parties",
        ] {
            let sql = format!("SELECT COUNT(*) FROM {t}");
            let r: Vec<(i64,)> = fetch_all!(self.db(), (i64,), sqlx::AssertSqlSafe(sql));
            out.push((t.to_string(), r.first().map(|x| x.0).unwrap_or(0)));
        }
        // A change of an existing case's state (every write of it raises its revision), which a
        // count of rows does not see.
        let r: Vec<(i64,)> = fetch_all!(
            self.db(),
            (i64,),
            "SELECT CAST(COALESCE(SUM(revision), 0) AS BIGINT) FROM applications"
        );
        out.push(("applications.revisions".into(), r.first().map(|x| x.0).unwrap_or(0)));
        Ok(out)
    }
}
