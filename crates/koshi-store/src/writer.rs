//! The group-commit writer.
//!
//! Units arrive on a channel; the writer takes everything waiting (up to a bound), runs them all
//! in one transaction, and commits once: first the rows of each kind of INSERT together (in
//! `InsertShape::rank` order), then every other statement in unit order. If anything fails, the
//! transaction is rolled back and the batch runs again, statement by statement, each unit in a
//! savepoint of its own: a unit that fails is rolled back alone; the others commit. Every caller
//! is answered only after the commit has returned, so a reply means durable.
//!
//! Each backend's writer is a thread of its own: SQLite's (`sqlite_writer`) owns a connection
//! and runs the statements itself, an INSERT of many rows as one statement of many `VALUES`;
//! PostgreSQL's (`pg_writer`) runs a small runtime of its own, so that its round trips never
//! queue behind the cases' tasks, and sends the same INSERT (or guarded UPDATE) of many units as
//! one statement over arrays.

use std::borrow::Cow;

use tokio::sync::oneshot;

use crate::pg_writer::PgWriter;
use crate::sqlite_writer::SqliteWriter;
use crate::{StoreError, StoreResult};

/// A bind argument, portable across both backends. Text is owned, or borrowed from the program
/// when it is one of Koshi's fixed words (a topic, a state, an action: `Arg::fixed`), so that
/// those cost no allocation each time a case writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Text(Cow<'static, str>),
    OptText(Option<Cow<'static, str>>),
    I64(i64),
    OptI64(Option<i64>),
    Bytes(Vec<u8>),
}

impl Arg {
    /// One of Koshi's fixed words, bound without a copy of its own.
    pub fn fixed(s: &'static str) -> Arg {
        Arg::Text(Cow::Borrowed(s))
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(Cow::Owned(s.to_string()))
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(Cow::Owned(s))
    }
}
impl From<Cow<'static, str>> for Arg {
    fn from(s: Cow<'static, str>) -> Arg {
        Arg::Text(s)
    }
}
impl From<Option<String>> for Arg {
    fn from(s: Option<String>) -> Arg {
        Arg::OptText(s.map(Cow::Owned))
    }
}
impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::I64(n)
    }
}
impl From<Option<i64>> for Arg {
    fn from(n: Option<i64>) -> Arg {
        Arg::OptI64(n)
    }
}
impl From<Vec<u8>> for Arg {
    fn from(b: Vec<u8>) -> Arg {
        Arg::Bytes(b)
    }
}

/// The shape of a plain INSERT (`head (…) tail`), so that PostgreSQL's writer can send the same
/// INSERT of many units as one statement (`head … SELECT * FROM UNNEST(…) tail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct InsertShape {
    /// `INSERT INTO t (a, b, c) VALUES`
    pub head: &'static str,
    /// `ON CONFLICT … DO …` or empty.
    pub tail: &'static str,
    pub columns: usize,
    /// Execution order in a merged batch: referenced tables first.
    pub rank: u8,
}

/// One SQL statement of a unit. `expect_rows` turns a guarded UPDATE into an optimistic lock:
/// a different row count rolls the unit back with a conflict.
#[derive(Debug, Clone)]
pub struct Op {
    pub(crate) sql: &'static str,
    pub(crate) insert: Option<InsertShape>,
    /// An audit event: the writer appends its chain fields (seq, prev_hash, hash).
    pub(crate) audit: bool,
    pub(crate) args: Vec<Arg>,
    pub(crate) expect_rows: Option<u64>,
    pub(crate) what: &'static str,
    /// PostgreSQL: the same UPDATE for many rows in one statement, taking one array per argument
    /// (`… FROM UNNEST($1::text[], …) AS u(…) WHERE …`). Only for guarded one-row updates: the
    /// batch must change exactly one row per unit.
    pub(crate) pg_batch: Option<&'static str>,
}

impl Op {
    pub(crate) fn new(what: &'static str, sql: &'static str, args: Vec<Arg>) -> Op {
        Op {
            sql,
            insert: None,
            audit: false,
            args,
            expect_rows: None,
            what,
            pg_batch: None,
        }
    }
    pub(crate) fn insert(what: &'static str, shape: InsertShape, args: Vec<Arg>) -> Op {
        debug_assert_eq!(args.len(), shape.columns);
        Op {
            sql: insert_sql(shape),
            insert: Some(shape),
            audit: false,
            args,
            expect_rows: None,
            what,
            pg_batch: None,
        }
    }
    pub(crate) fn audit(what: &'static str, shape: InsertShape, args: Vec<Arg>) -> Op {
        debug_assert_eq!(args.len() + 3, shape.columns);
        Op {
            sql: insert_sql(shape),
            insert: Some(shape),
            audit: true,
            args,
            expect_rows: None,
            what,
            pg_batch: None,
        }
    }
    pub(crate) fn batched_on_postgres(mut self, sql: &'static str) -> Op {
        self.pg_batch = Some(sql);
        self
    }
    pub(crate) fn expecting(mut self, rows: u64) -> Op {
        self.expect_rows = Some(rows);
        self
    }
}

/// The one-row SQL text of an insert shape, built once per shape and kept for the life of the
/// process (a bounded set), so that statements are prepared once.
fn insert_sql(shape: InsertShape) -> &'static str {
    // No SQLite text asks for 0 rows: 0 stands for this one-row form.
    interned(shape, 0, || {
        let mut sql = String::with_capacity(shape.head.len() + shape.tail.len() + shape.columns * 5);
        sql.push_str(shape.head);
        sql.push_str(" (");
        for c in 1..=shape.columns {
            if c > 1 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&c.to_string());
        }
        sql.push(')');
        if !shape.tail.is_empty() {
            sql.push(' ');
            sql.push_str(shape.tail);
        }
        sql
    })
}

/// SQLite: the SQL text of an insert of `rows` rows of `shape` at once (`INSERT OR ROLLBACK INTO
/// … (?, …), (?, …) tail`, the parameters in order: row by row, column by column), built once
/// per shape and number of rows and kept for the life of the process (a bounded set: the writer
/// asks only for powers of two up to its limit), so that its statement is prepared once.
///
/// `OR ROLLBACK`: a row that breaks a constraint ends the whole transaction at once, which is
/// what the writer does then anyway (it runs the batch again unit by unit). A plain INSERT of many
/// rows would instead keep a statement journal, a copy of every page the statement changes, to
/// undo just that statement: measured at 16 KiB more written per case.
pub(crate) fn insert_rows_sql(shape: InsertShape, rows: usize) -> &'static str {
    interned(shape, rows, || {
        let row = format!("({})", vec!["?"; shape.columns].join(", "));
        let mut sql = String::with_capacity(shape.head.len() + shape.tail.len() + rows * (row.len() + 2) + 2);
        match shape.head.strip_prefix("INSERT INTO ") {
            Some(rest) => {
                sql.push_str("INSERT OR ROLLBACK INTO ");
                sql.push_str(rest);
            }
            None => sql.push_str(shape.head),
        }
        sql.push(' ');
        sql.push_str(&vec![row; rows].join(", "));
        if !shape.tail.is_empty() {
            sql.push(' ');
            sql.push_str(shape.tail);
        }
        sql
    })
}

/// The SQL text `build` makes for a shape and a number of rows, built the first time it is asked
/// for and kept for the life of the process. Shapes are known by the addresses of their
/// `&'static str` parts: no hashing of the texts on a case's path.
fn interned(shape: InsertShape, rows: usize, build: impl FnOnce() -> String) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Key = (usize, usize, usize, usize);
    static CACHE: OnceLock<Mutex<HashMap<Key, &'static str>>> = OnceLock::new();
    let key = (
        shape.head.as_ptr() as usize,
        shape.tail.as_ptr() as usize,
        shape.tail.len(),
        rows,
    );
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    map.entry(key).or_insert_with(|| Box::leak(build().into_boxed_str()))
}

/// A state change: all of its statements, or none.
#[derive(Debug, Clone, Default)]
pub struct Unit {
    pub(crate) ops: Vec<Op>,
}

impl Unit {
    pub fn new() -> Unit {
        Unit::default()
    }
    pub fn push(&mut self, op: Op) -> &mut Unit {
        self.ops.push(op);
        self
    }
    pub fn push_all(&mut self, ops: impl IntoIterator<Item = Op>) -> &mut Unit {
        self.ops.extend(ops);
        self
    }
    pub fn with(mut self, op: Op) -> Unit {
        self.ops.push(op);
        self
    }
    pub fn len(&self) -> usize {
        self.ops.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// The head of the audit chain inside a transaction.
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    seq: i64,
    hash: String,
}

impl Chain {
    /// For a batch without audit events.
    pub(crate) fn empty() -> Chain {
        Chain {
            seq: 0,
            hash: String::new(),
        }
    }
    /// Before the first entry.
    pub(crate) fn genesis() -> Chain {
        Chain::at(0, crate::audit::GENESIS.to_string())
    }
    pub(crate) fn at(seq: i64, hash: String) -> Chain {
        Chain { seq, hash }
    }

    /// The op's chain fields (sequence number, previous hash, hash), advancing the chain; none
    /// for an op that is not an audit event. They follow the op's own arguments.
    pub(crate) fn advance(&mut self, op: &Op) -> Option<[Arg; 3]> {
        if !op.audit {
            return None;
        }
        let seq = self.seq + 1;
        let hash = crate::audit::entry_hash(&self.hash, seq, &crate::audit::fields_of(&op.args));
        let prev = std::mem::replace(&mut self.hash, hash.clone());
        self.seq = seq;
        Some([Arg::I64(seq), Arg::from(prev), Arg::from(hash)])
    }

    /// The op's arguments with its chain fields appended, advancing the chain. Only audit events
    /// are copied; every other op's arguments are used as they are.
    pub(crate) fn extend<'a>(&mut self, op: &'a Op) -> std::borrow::Cow<'a, [Arg]> {
        match self.advance(op) {
            None => std::borrow::Cow::Borrowed(&op.args),
            Some(chain) => {
                let mut args = op.args.clone();
                args.extend(chain);
                std::borrow::Cow::Owned(args)
            }
        }
    }
}

pub(crate) struct Job {
    pub(crate) unit: Unit,
    /// Answered after the commit, with the unit handed back: its memory is freed by the task
    /// that built it, not by the writer (freeing another thread's allocations cost the SQLite
    /// writer thread 7% of its time).
    pub(crate) reply: oneshot::Sender<(StoreResult<()>, Unit)>,
}

/// The writer of either backend: a thread of its own, fed through a channel.
#[derive(Debug, Clone)]
pub(crate) enum Writer {
    Sqlite(SqliteWriter),
    Postgres(PgWriter),
}

/// At most this many units share one transaction.
pub(crate) const MAX_BATCH: usize = 2048;

impl Writer {
    pub(crate) async fn submit(&self, unit: Unit) -> StoreResult<()> {
        if unit.is_empty() {
            return Ok(());
        }
        let (reply, rx) = oneshot::channel();
        let tx = match self {
            Writer::Sqlite(w) => &w.tx,
            Writer::Postgres(w) => &w.tx,
        };
        tx.send(Msg::Job(Job { unit, reply }))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?.0
    }

    /// Stops the writer once the units already queued are committed; later writes are refused.
    pub(crate) async fn close(&self) {
        let tx = match self {
            Writer::Sqlite(w) => &w.tx,
            Writer::Postgres(w) => &w.tx,
        };
        let (done, rx) = oneshot::channel();
        if tx.send(Msg::Close(done)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// Adds to `batch` the message `first` and every message waiting behind it (up to
/// `MAX_BATCH` units). Returns the close request if one came (the units before it still run).
pub(crate) fn gather(
    first: Msg,
    rx: &mut tokio::sync::mpsc::Receiver<Msg>,
    batch: &mut Vec<Job>,
) -> Option<oneshot::Sender<()>> {
    let mut next = Some(first);
    while let Some(m) = next {
        match m {
            Msg::Close(done) => return Some(done),
            Msg::Job(j) => batch.push(j),
        }
        next = if batch.len() < MAX_BATCH {
            rx.try_recv().ok()
        } else {
            None
        };
    }
    None
}

/// Answers every unit of the batch, handing it back: with its own outcome, or with the error
/// that failed the whole batch.
pub(crate) fn answer(batch: &mut Vec<Job>, outcome: StoreResult<Vec<StoreResult<()>>>) {
    match outcome {
        Ok(per_unit) => {
            for (job, r) in batch.drain(..).zip(per_unit) {
                let _ = job.reply.send((r, job.unit));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, units = batch.len(), "group commit failed");
            for job in batch.drain(..) {
                let _ = job.reply.send((Err(e.clone()), job.unit));
            }
        }
    }
}

/// After the writer stops: later writes find the channel closed; units that raced the close
/// are refused (their callers see `Closed`), never lost silently; close requests are answered.
pub(crate) fn refuse_the_rest(rx: &mut tokio::sync::mpsc::Receiver<Msg>) {
    rx.close();
    while let Ok(m) = rx.try_recv() {
        match m {
            Msg::Job(job) => {
                let _ = job.reply.send((Err(StoreError::Closed), job.unit));
            }
            Msg::Close(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// What a writer thread is sent.
pub(crate) enum Msg {
    Job(Job),
    /// Finish the units already queued, close the connection, then answer.
    Close(oneshot::Sender<()>),
}

/// What the process's metrics hear of each batch the writer commits: its units, how long the
/// commit took, and whether it committed. Set once per process ([`crate::observe_commits`]).
type CommitObserver = Box<dyn Fn(usize, std::time::Duration, bool) + Send + Sync>;
static COMMIT_OBSERVER: std::sync::OnceLock<CommitObserver> = std::sync::OnceLock::new();

/// Installs the observer of commits; a second call changes nothing.
pub fn observe_commits(f: impl Fn(usize, std::time::Duration, bool) + Send + Sync + 'static) {
    let _ = COMMIT_OBSERVER.set(Box::new(f));
}

/// Reports one batch to the observer, if any.
pub(crate) fn observed(units: usize, took: std::time::Duration, committed: bool) {
    if let Some(f) = COMMIT_OBSERVER.get() {
        f(units, took, committed);
    }
}
