//! Durable timers: the legal clocks (stage terms, the 60-day term, delivery margins) as rows.
//!
//! A timer is scheduled in the same unit as the state change that starts its clock. Instances
//! claim due timers under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two instances never
//! claim the same row at once); the effect of firing and the `fired` mark are written in one unit,
//! guarded by the lease (`expect 1 row`): if the lease ran out and another instance took the timer,
//! the late unit is rolled back whole. So each timer's effect happens exactly once, across
//! restarts and instances.

use crate::writer::{Arg, InsertShape, Op};
use crate::{Db, Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TimerRow {
    pub id: String,
    /// What the timer is for, e.g. `pr.stage.registration`.
    pub kind: String,
    /// The case (or other subject) it belongs to; one timer per (kind, subject).
    pub subject: String,
    pub due_at: String,
    pub payload: String,
    /// `pending`, `fired`, `cancelled`
    pub state: String,
    pub lease_owner: Option<String>,
    pub lease_until: Option<String>,
    pub fired_at: Option<String>,
    pub fired_by: Option<String>,
    pub attempts: i64,
}

/// Schedules a timer; scheduling the same (kind, subject) again changes nothing.
pub fn schedule(id: &str, kind: &str, subject: &str, due_at: &str, payload: &str) -> Op {
    Op::insert(
        "schedule timer",
        InsertShape {
            head: "INSERT INTO timers (id, kind, subject, due_at, payload, state, attempts) VALUES",
            tail: "ON CONFLICT (kind, subject) DO NOTHING",
            columns: 7,
            rank: 1,
        },
        vec![
            id.into(),
            kind.into(),
            subject.into(),
            due_at.into(),
            payload.into(),
            "pending".into(),
            Arg::I64(0),
        ],
    )
}

/// Marks a claimed timer fired; fails the unit (and so its effect) unless `owner` still holds it.
pub fn fired(id: &str, owner: &str, at: &str) -> Op {
    Op::new(
        "fire timer",
        "UPDATE timers SET state = 'fired', fired_at = $1, fired_by = $2, lease_until = NULL WHERE id = $3 AND state = 'pending' AND lease_owner = $2",
        vec![at.into(), owner.into(), id.into()],
    )
    .expecting(1)
}

/// Starts again a timer that was cancelled (its term runs anew, e.g. further consideration
/// after a hearing): pending, at the new instant, with no lease. Changes nothing otherwise.
pub fn revive(kind: &str, subject: &str, due_at: &str, payload: &str) -> Op {
    Op::new(
        "revive timer",
        "UPDATE timers SET state = 'pending', due_at = $1, payload = $2, lease_owner = NULL, lease_until = NULL, fired_at = NULL WHERE kind = $3 AND subject = $4 AND state = 'cancelled'",
        vec![due_at.into(), payload.into(), kind.into(), subject.into()],
    )
}

/// Moves a pending timer to a new instant (its term was computed again).
pub fn reschedule(kind: &str, subject: &str, due_at: &str, payload: &str) -> Op {
    Op::new(
        "reschedule timer",
        "UPDATE timers SET due_at = $1, payload = $2 WHERE kind = $3 AND subject = $4 AND state = 'pending'",
        vec![due_at.into(), payload.into(), kind.into(), subject.into()],
    )
}

/// Cancels a pending timer (the clock stopped: the stage was done in time).
pub fn cancel(kind: &str, subject: &str) -> Op {
    Op::new(
        "cancel timer",
        "UPDATE timers SET state = 'cancelled', lease_until = NULL WHERE kind = $1 AND subject = $2 AND state = 'pending'",
        vec![kind.into(), subject.into()],
    )
}

const CLAIM_PG: &str = "UPDATE timers SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 WHERE id IN (SELECT id FROM timers WHERE state = 'pending' AND due_at <= $3 AND (lease_until IS NULL OR lease_until < $3) ORDER BY due_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING id, kind, subject, due_at, payload, state, lease_owner, lease_until, fired_at, fired_by, attempts";
const CLAIM_SQLITE: &str = "UPDATE timers SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 WHERE id IN (SELECT id FROM timers WHERE state = 'pending' AND due_at <= $3 AND (lease_until IS NULL OR lease_until < $3) ORDER BY due_at, id LIMIT $4) RETURNING id, kind, subject, due_at, payload, state, lease_owner, lease_until, fired_at, fired_by, attempts";

impl Store {
    /// Claims up to `limit` due timers for `owner` until `lease_until` (instants as canonical text).
    pub async fn claim_due_timers(
        &self,
        owner: &str,
        now: &str,
        lease_until: &str,
        limit: i64,
    ) -> StoreResult<Vec<TimerRow>> {
        Ok(match self.db() {
            Db::Postgres(p) => {
                sqlx::query_as::<_, TimerRow>(CLAIM_PG)
                    .bind(owner)
                    .bind(lease_until)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(p)
                    .await?
            }
            // SQLite has one writer at a time: the UPDATE itself is the claim.
            Db::Sqlite(p) => {
                sqlx::query_as::<_, TimerRow>(CLAIM_SQLITE)
                    .bind(owner)
                    .bind(lease_until)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(p)
                    .await?
            }
        })
    }

    /// Pending timers due at or after `from` (an instant): the ones a calendar year loaded while
    /// they wait may move.
    pub async fn pending_timers_from(&self, from: &str) -> StoreResult<Vec<TimerRow>> {
        let sql = "SELECT id, kind, subject, due_at, payload, state, lease_owner, lease_until, fired_at, fired_by, attempts FROM timers WHERE state = 'pending' AND due_at >= $1 ORDER BY due_at, kind";
        Ok(match self.db() {
            Db::Postgres(p) => sqlx::query_as(sql).bind(from).fetch_all(p).await?,
            Db::Sqlite(p) => sqlx::query_as(sql).bind(from).fetch_all(p).await?,
        })
    }

    pub async fn timers_of(&self, subject: &str) -> StoreResult<Vec<TimerRow>> {
        let sql = "SELECT id, kind, subject, due_at, payload, state, lease_owner, lease_until, fired_at, fired_by, attempts FROM timers WHERE subject = $1 ORDER BY due_at, kind";
        Ok(match self.db() {
            Db::Postgres(p) => sqlx::query_as(sql).bind(subject).fetch_all(p).await?,
            Db::Sqlite(p) => sqlx::query_as(sql).bind(subject).fetch_all(p).await?,
        })
    }

    /// (effects, distinct timers) recorded by the drill.
    pub async fn drill_effects(&self) -> StoreResult<(i64, i64)> {
        let sql = "SELECT COUNT(*), COUNT(DISTINCT detail) FROM events WHERE action = 'drill.fired'";
        Ok(match self.db() {
            Db::Postgres(p) => sqlx::query_as(sql).fetch_one(p).await?,
            Db::Sqlite(p) => sqlx::query_as(sql).fetch_one(p).await?,
        })
    }

    /// (state, count) of all timers.
    pub async fn timer_counts(&self) -> StoreResult<Vec<(String, i64)>> {
        let sql = "SELECT state, COUNT(*) FROM timers GROUP BY state ORDER BY state";
        Ok(match self.db() {
            Db::Postgres(p) => sqlx::query_as(sql).fetch_all(p).await?,
            Db::Sqlite(p) => sqlx::query_as(sql).fetch_all(p).await?,
        })
    }
}
