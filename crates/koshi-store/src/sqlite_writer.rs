//! The SQLite group-commit writer: one OS thread owning one connection.
//!
//! SQLite admits one writer at a time, so Koshi gives it exactly one: a thread that takes every
//! unit waiting (up to a bound), runs each inside its own savepoint in one `BEGIN IMMEDIATE`
//! transaction with cached prepared statements, and commits once (`synchronous=FULL`: the commit
//! is fsync'd). Every caller is answered only after the commit has returned, so a reply means
//! durable. Running the statements on the thread that owns the connection, rather than handing
//! each one to a driver's worker thread and back, is what lets thousands of cases share a commit
//! without paying a thread switch per statement.
//!
//! Reads stay on the sqlx pool (WAL lets them run beside the writer).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, ToSql};
use tokio::sync::{mpsc, oneshot};

use crate::writer::{Arg, Chain, Job, MAX_BATCH, Unit};
use crate::{StoreError, StoreResult};

impl ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Arg::Text(s) => ValueRef::Text(s.as_bytes()),
            Arg::OptText(Some(s)) => ValueRef::Text(s.as_bytes()),
            Arg::OptText(None) | Arg::OptI64(None) => ValueRef::Null,
            Arg::I64(n) | Arg::OptI64(Some(n)) => ValueRef::Integer(*n),
            Arg::Bytes(b) => ValueRef::Blob(b),
        }))
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        if let rusqlite::Error::SqliteFailure(f, msg) = &e
            && f.code == ErrorCode::ConstraintViolation
            && matches!(
                f.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            )
        {
            return StoreError::Conflict(msg.clone().unwrap_or_else(|| f.to_string()));
        }
        StoreError::Database(e.to_string())
    }
}

enum Msg {
    Job(Job),
    /// Finish the units already queued, close the connection, then answer.
    Close(oneshot::Sender<()>),
}

#[derive(Debug, Clone)]
pub(crate) struct SqliteWriter {
    tx: mpsc::Sender<Msg>,
}

impl SqliteWriter {
    /// Opens the writer's own connection and starts its thread.
    pub(crate) fn start(path: &Path) -> StoreResult<SqliteWriter> {
        let conn = open(path)?;
        let (tx, rx) = mpsc::channel::<Msg>(MAX_BATCH * 4);
        std::thread::Builder::new()
            .name("koshi-sqlite-writer".into())
            .spawn(move || run(conn, rx))
            .map_err(|e| StoreError::Database(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteWriter { tx })
    }

    pub(crate) async fn submit(&self, unit: Unit) -> StoreResult<()> {
        if unit.is_empty() {
            return Ok(());
        }
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg::Job(Job { unit, reply }))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Stops the writer once the units already queued are committed; later writes are refused.
    pub(crate) async fn close(&self) {
        let (done, rx) = oneshot::channel();
        if self.tx.send(Msg::Close(done)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

fn open(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(PathBuf::from(path))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // The same settings as the pool's connections: WAL (persistent in the file, set again here
    // for a file opened first by this connection), every commit fsync'd, foreign keys enforced.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Msg>) {
    let mut params = ParamMaps::default();
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut closing: Option<oneshot::Sender<()>> = None;
    while closing.is_none() {
        match rx.blocking_recv() {
            None => break,
            Some(Msg::Close(done)) => closing = Some(done),
            Some(Msg::Job(j)) => batch.push(j),
        }
        while batch.len() < MAX_BATCH && closing.is_none() {
            match rx.try_recv() {
                Ok(Msg::Job(j)) => batch.push(j),
                Ok(Msg::Close(done)) => closing = Some(done),
                Err(_) => break,
            }
        }
        if batch.is_empty() {
            continue;
        }
        match commit(&conn, &mut params, &batch) {
            Ok(per_unit) => {
                for (job, r) in batch.drain(..).zip(per_unit) {
                    let _ = job.reply.send(r);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, units = batch.len(), "group commit failed");
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
    rx.close();
    // Units that raced the close are refused, not lost silently: their callers see Closed.
    while let Ok(m) = rx.try_recv() {
        if let Msg::Close(done) = m {
            let _ = done.send(());
        }
    }
    drop(conn);
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

/// For each statement text, which argument each SQL parameter takes. Koshi's SQL numbers its
/// parameters `$1…$n` (the same text runs on PostgreSQL); to SQLite those are names, indexed in
/// order of first appearance, so the map is read off the prepared statement once.
#[derive(Default)]
struct ParamMaps(HashMap<&'static str, Vec<usize>>);

impl ParamMaps {
    fn get(&mut self, sql: &'static str, stmt: &rusqlite::Statement<'_>) -> StoreResult<&[usize]> {
        if !self.0.contains_key(sql) {
            let n = stmt.parameter_count();
            let mut map = Vec::with_capacity(n);
            for i in 1..=n {
                let arg = match stmt.parameter_name(i) {
                    Some(name) => name
                        .strip_prefix('$')
                        .and_then(|d| d.parse::<usize>().ok())
                        .filter(|d| *d >= 1)
                        .map(|d| d - 1)
                        .ok_or_else(|| StoreError::Database(format!("unsupported parameter {name} in {sql}")))?,
                    None => i - 1,
                };
                map.push(arg);
            }
            self.0.insert(sql, map);
        }
        Ok(self.0.get(sql).map(Vec::as_slice).unwrap_or(&[]))
    }
}

/// Runs one statement; returns the rows it changed.
fn execute(conn: &Connection, params: &mut ParamMaps, sql: &'static str, args: &[Arg]) -> StoreResult<u64> {
    let mut stmt = conn.prepare_cached(sql)?;
    let map = params.get(sql, &stmt)?;
    for (i, &a) in map.iter().enumerate() {
        let arg = args
            .get(a)
            .ok_or_else(|| StoreError::Database(format!("missing argument ${} for {sql}", a + 1)))?;
        stmt.raw_bind_parameter(i + 1, arg)?;
    }
    Ok(stmt.raw_execute()? as u64)
}

fn chain_head(conn: &Connection, batch: &[Job]) -> StoreResult<Chain> {
    if !batch.iter().any(|j| j.unit.ops.iter().any(|o| o.audit)) {
        return Ok(Chain::empty());
    }
    let mut stmt = conn.prepare_cached("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")?;
    let mut rows = stmt.query([])?;
    Ok(match rows.next()? {
        Some(r) => Chain::at(r.get(0)?, r.get(1)?),
        None => Chain::genesis(),
    })
}

/// One transaction for the whole batch, a savepoint per unit: a unit that fails is rolled back
/// alone and answered with its error; the others commit.
fn commit(conn: &Connection, params: &mut ParamMaps, batch: &[Job]) -> StoreResult<Vec<StoreResult<()>>> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match units(conn, params, batch) {
        Ok(results) => match conn.execute_batch("COMMIT") {
            Ok(()) => Ok(results),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e.into())
            }
        },
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn units(conn: &Connection, params: &mut ParamMaps, batch: &[Job]) -> StoreResult<Vec<StoreResult<()>>> {
    let mut chain = chain_head(conn, batch)?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        execute(conn, params, "SAVEPOINT unit", &[])?;
        let before = chain.clone();
        let mut outcome: StoreResult<()> = Ok(());
        for op in &job.unit.ops {
            let args = chain.extend(op);
            match execute(conn, params, op.sql, &args) {
                Ok(n) => {
                    if let Some(want) = op.expect_rows
                        && n != want
                    {
                        outcome = Err(StoreError::Conflict(format!(
                            "{}: expected {want} row(s), changed {n}",
                            op.what
                        )));
                        break;
                    }
                }
                Err(StoreError::Conflict(m)) => {
                    outcome = Err(StoreError::Conflict(format!("{}: {m}", op.what)));
                    break;
                }
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        if outcome.is_err() {
            chain = before;
            execute(conn, params, "ROLLBACK TO SAVEPOINT unit", &[])?;
        }
        execute(conn, params, "RELEASE SAVEPOINT unit", &[])?;
        results.push(outcome);
    }
    Ok(results)
}
