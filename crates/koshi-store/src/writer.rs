//! The group-commit writer.
//!
//! Units arrive on a channel; the writer takes everything waiting (up to a bound), runs each unit
//! inside its own savepoint in one transaction, and commits once. A unit that fails is rolled back
//! to its savepoint alone; the others commit. Every caller is answered only after the commit has
//! returned, so a reply means durable.
//!
//! SQLite's writer is a thread of its own (`sqlite_writer`); PostgreSQL's is a task on the pool,
//! below, which merges the same INSERT of many units into multi-row statements.

use sqlx::{PgPool, Postgres};
use tokio::sync::{mpsc, oneshot};

use crate::sqlite_writer::SqliteWriter;
use crate::{StoreError, StoreResult};

/// A bind argument, portable across both backends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    OptText(Option<String>),
    I64(i64),
    OptI64(Option<i64>),
    Bytes(Vec<u8>),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_string())
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}
impl From<Option<String>> for Arg {
    fn from(s: Option<String>) -> Arg {
        Arg::OptText(s)
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

/// The shape of a plain INSERT, so that the writer can merge the same INSERT from many units into
/// one multi-row statement: `head (…), (…) tail`.
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
        }
    }
    pub(crate) fn insert(what: &'static str, shape: InsertShape, args: Vec<Arg>) -> Op {
        debug_assert_eq!(args.len(), shape.columns);
        Op {
            sql: multi_row_sql(shape, 1),
            insert: Some(shape),
            audit: false,
            args,
            expect_rows: None,
            what,
        }
    }
    pub(crate) fn audit(what: &'static str, shape: InsertShape, args: Vec<Arg>) -> Op {
        debug_assert_eq!(args.len() + 3, shape.columns);
        Op {
            sql: multi_row_sql(shape, 1),
            insert: Some(shape),
            audit: true,
            args,
            expect_rows: None,
            what,
        }
    }
    pub(crate) fn expecting(mut self, rows: u64) -> Op {
        self.expect_rows = Some(rows);
        self
    }
}

/// The SQL text of `rows` rows of an insert shape. Texts are built once and kept for the life of
/// the process (a bounded set: shapes × chunk sizes), so sqlx can cache their prepared statements.
fn multi_row_sql(shape: InsertShape, rows: usize) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<(InsertShape, usize), &'static str>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = cache.lock().unwrap_or_else(|p| p.into_inner());
    map.entry((shape, rows)).or_insert_with(|| {
        let mut sql = String::with_capacity(shape.head.len() + shape.tail.len() + rows * shape.columns * 5);
        sql.push_str(shape.head);
        let mut n = 0;
        for r in 0..rows {
            sql.push_str(if r == 0 { " (" } else { ", (" });
            for c in 0..shape.columns {
                n += 1;
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push('$');
                sql.push_str(&n.to_string());
            }
            sql.push(')');
        }
        if !shape.tail.is_empty() {
            sql.push(' ');
            sql.push_str(shape.tail);
        }
        Box::leak(sql.into_boxed_str())
    })
}

/// Row counts a merged insert is cut into (few distinct statements).
const CHUNKS: [usize; 6] = [128, 32, 16, 8, 4, 1];
/// At most this many parameters in one merged statement: binding `$n` parameters costs time
/// growing with the statement's parameter count (measured: larger statements were slower).
const MAX_PARAMS: usize = 256;

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

    /// The op's arguments with its chain fields appended, advancing the chain. Only audit events
    /// are copied; every other op's arguments are used as they are.
    pub(crate) fn extend<'a>(&mut self, op: &'a Op) -> std::borrow::Cow<'a, [Arg]> {
        if !op.audit {
            return std::borrow::Cow::Borrowed(&op.args);
        }
        let mut args = op.args.clone();
        {
            let seq = self.seq + 1;
            let hash = crate::audit::entry_hash(&self.hash, seq, &crate::audit::fields_of(&op.args));
            args.push(Arg::I64(seq));
            args.push(Arg::Text(self.hash.clone()));
            args.push(Arg::Text(hash.clone()));
            self.seq = seq;
            self.hash = hash;
        }
        std::borrow::Cow::Owned(args)
    }
}

pub(crate) struct Job {
    pub(crate) unit: Unit,
    /// Answered after the commit, with the unit handed back: its memory is freed by the task
    /// that built it, not by the writer (freeing another thread's allocations cost the SQLite
    /// writer thread 7% of its time).
    pub(crate) reply: oneshot::Sender<(StoreResult<()>, Unit)>,
}

/// The writer of either backend.
#[derive(Debug, Clone)]
pub(crate) enum Writer {
    Sqlite(SqliteWriter),
    Postgres(mpsc::Sender<Job>),
}

/// At most this many units share one transaction.
pub(crate) const MAX_BATCH: usize = 2048;

impl Writer {
    pub(crate) fn postgres(pool: PgPool) -> Writer {
        let (tx, rx) = mpsc::channel::<Job>(MAX_BATCH * 4);
        tokio::spawn(run_pg(pool, rx));
        Writer::Postgres(tx)
    }

    pub(crate) async fn submit(&self, unit: Unit) -> StoreResult<()> {
        if unit.is_empty() {
            return Ok(());
        }
        match self {
            Writer::Sqlite(w) => w.submit(unit).await,
            Writer::Postgres(tx) => {
                let (reply, rx) = oneshot::channel();
                tx.send(Job { unit, reply }).await.map_err(|_| StoreError::Closed)?;
                rx.await.map_err(|_| StoreError::Closed)?.0
            }
        }
    }

    /// Stops the SQLite writer thread (PostgreSQL's task ends with the pool).
    pub(crate) async fn close(&self) {
        if let Writer::Sqlite(w) = self {
            w.close().await;
        }
    }
}

async fn run_pg(pool: PgPool, mut rx: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let fast = if batch.len() > 1 {
            merged_pg(&pool, &batch).await
        } else {
            Err(StoreError::Conflict(String::new()))
        };
        let results = match fast {
            Ok(()) => Ok(batch.iter().map(|_| Ok(())).collect()),
            // Something in the batch failed: replay it unit by unit, each in its savepoint.
            Err(_) => commit_pg(&pool, &batch).await,
        };
        match results {
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
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Text(s) => q.bind(s.as_str()),
                Arg::OptText(s) => q.bind(s.as_deref()),
                Arg::I64(n) => q.bind(*n),
                Arg::OptI64(n) => q.bind(*n),
                Arg::Bytes(b) => q.bind(b.as_slice()),
            };
        }
        q
    }};
}

/// Reads the chain head inside the transaction, after taking the lock that orders every
/// instance's audit writes.
macro_rules! chain_head {
    ($tx:expr, $db:ty, $batch:expr) => {{
        if $batch.iter().any(|j| j.unit.ops.iter().any(|o| o.audit)) {
            sqlx::query::<$db>("SELECT pg_advisory_xact_lock(7303002)")
                .execute(&mut *$tx)
                .await?;
            let head: Option<(i64, String)> =
                sqlx::query_as::<$db, (i64, String)>("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut *$tx)
                    .await?;
            match head {
                Some((seq, hash)) => Chain::at(seq, hash),
                None => Chain::genesis(),
            }
        } else {
            Chain::empty()
        }
    }};
}

macro_rules! commit_impl {
    ($name:ident, $db:ty, $pool:ty) => {
        async fn $name(pool: &$pool, batch: &[Job]) -> StoreResult<Vec<StoreResult<()>>> {
            let mut tx = pool.begin().await?;
            let mut chain = chain_head!(tx, $db, batch);
            let mut results = Vec::with_capacity(batch.len());
            let single = batch.len() == 1;
            for job in batch {
                if !single {
                    sqlx::query::<$db>("SAVEPOINT unit").execute(&mut *tx).await?;
                }
                let mut outcome: StoreResult<()> = Ok(());
                let chain_before = chain.clone();
                for op in &job.unit.ops {
                    let args = chain.extend(op);
                    let q = bind_all!(sqlx::query::<$db>(op.sql), args.iter());
                    match q.execute(&mut *tx).await {
                        Ok(r) => {
                            if let Some(n) = op.expect_rows
                                && r.rows_affected() != n
                            {
                                outcome = Err(StoreError::Conflict(format!(
                                    "{}: expected {n} row(s), changed {}",
                                    op.what,
                                    r.rows_affected()
                                )));
                                break;
                            }
                        }
                        Err(e) => {
                            let e = StoreError::from(e);
                            outcome = Err(match e {
                                StoreError::Conflict(m) => StoreError::Conflict(format!("{}: {m}", op.what)),
                                other => other,
                            });
                            break;
                        }
                    }
                }
                if single {
                    if outcome.is_err() {
                        tx.rollback().await?;
                        return Ok(vec![outcome]);
                    }
                } else if outcome.is_err() {
                    chain = chain_before;
                    sqlx::query::<$db>("ROLLBACK TO SAVEPOINT unit")
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query::<$db>("RELEASE SAVEPOINT unit")
                        .execute(&mut *tx)
                        .await?;
                } else {
                    sqlx::query::<$db>("RELEASE SAVEPOINT unit")
                        .execute(&mut *tx)
                        .await?;
                }
                results.push(outcome);
            }
            tx.commit().await?;
            Ok(results)
        }
    };
}

commit_impl!(commit_pg, Postgres, sqlx::PgPool);

/// The fast path: the whole batch in one transaction, with the same INSERT of many units merged
/// into multi-row statements (in rank order, so referenced rows come first), then every other
/// statement in unit order. Any error or unexpected row count rolls everything back; the caller
/// then replays the batch unit by unit.
macro_rules! merged_impl {
    ($name:ident, $db:ty, $pool:ty) => {
        async fn $name(pool: &$pool, batch: &[Job]) -> StoreResult<()> {
            let mut tx = pool.begin().await?;
            let mut chain = chain_head!(tx, $db, batch);
            // Chain fields are assigned in unit order, before statements are grouped.
            let extended: Vec<Vec<std::borrow::Cow<'_, [Arg]>>> = batch
                .iter()
                .map(|j| j.unit.ops.iter().map(|op| chain.extend(op)).collect())
                .collect();
            let mut groups: Vec<(InsertShape, Vec<&[Arg]>)> = Vec::new();
            let mut others: Vec<(&Op, &[Arg])> = Vec::new();
            for (job, args) in batch.iter().zip(&extended) {
                for (op, a) in job.unit.ops.iter().zip(args) {
                    match op.insert {
                        Some(shape) => match groups.iter_mut().find(|(s, _)| *s == shape) {
                            Some((_, v)) => v.push(a.as_ref()),
                            None => groups.push((shape, vec![a.as_ref()])),
                        },
                        None => others.push((op, a.as_ref())),
                    }
                }
            }
            groups.sort_by_key(|(s, _)| s.rank);
            for (shape, ops) in &groups {
                let mut rest: &[&[Arg]] = ops;
                while !rest.is_empty() {
                    let size = CHUNKS
                        .iter()
                        .copied()
                        .find(|c| *c <= rest.len() && (*c == 1 || c * shape.columns <= MAX_PARAMS))
                        .unwrap_or(1);
                    let (chunk, tail) = rest.split_at(size);
                    let mut q = sqlx::query::<$db>(multi_row_sql(*shape, size));
                    for a in chunk {
                        q = bind_all!(q, *a);
                    }
                    q.execute(&mut *tx).await?;
                    rest = tail;
                }
            }
            for (op, a) in others {
                let r = bind_all!(sqlx::query::<$db>(op.sql), a).execute(&mut *tx).await?;
                if let Some(n) = op.expect_rows
                    && r.rows_affected() != n
                {
                    tx.rollback().await?;
                    return Err(StoreError::Conflict(op.what.to_string()));
                }
            }
            tx.commit().await?;
            Ok(())
        }
    };
}

merged_impl!(merged_pg, Postgres, sqlx::PgPool);
