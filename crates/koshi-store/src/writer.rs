//! The group-commit writer.
//!
//! Units arrive on a channel; the writer takes everything waiting (up to a bound), runs each unit
//! inside its own savepoint in one transaction, and commits once. A unit that fails is rolled back
//! to its savepoint alone; the others commit. Every caller is answered only after the commit has
//! returned, so a reply means durable.

use sqlx::{Postgres, Sqlite};
use tokio::sync::{mpsc, oneshot};

use crate::{Db, StoreError, StoreResult};

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

/// One SQL statement of a unit. `expect_rows` turns a guarded UPDATE into an optimistic lock:
/// a different row count rolls the unit back with a conflict.
#[derive(Debug, Clone)]
pub struct Op {
    pub(crate) sql: &'static str,
    pub(crate) args: Vec<Arg>,
    pub(crate) expect_rows: Option<u64>,
    pub(crate) what: &'static str,
}

impl Op {
    pub(crate) fn new(what: &'static str, sql: &'static str, args: Vec<Arg>) -> Op {
        Op {
            sql,
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

struct Job {
    unit: Unit,
    reply: oneshot::Sender<StoreResult<()>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Writer {
    tx: mpsc::Sender<Job>,
}

const MAX_BATCH: usize = 2048;

impl Writer {
    pub(crate) fn start(db: Db) -> Writer {
        let (tx, rx) = mpsc::channel::<Job>(MAX_BATCH * 4);
        tokio::spawn(run(db, rx));
        Writer { tx }
    }

    pub(crate) async fn submit(&self, unit: Unit) -> StoreResult<()> {
        if unit.is_empty() {
            return Ok(());
        }
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job { unit, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let results = match &db {
            Db::Sqlite(pool) => commit_sqlite(pool, &batch).await,
            Db::Postgres(pool) => commit_pg(pool, &batch).await,
        };
        match results {
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
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::OptText(s) => q.bind(s.clone()),
                Arg::I64(n) => q.bind(*n),
                Arg::OptI64(n) => q.bind(*n),
                Arg::Bytes(b) => q.bind(b.clone()),
            };
        }
        q
    }};
}

macro_rules! commit_impl {
    ($name:ident, $db:ty, $pool:ty) => {
        async fn $name(pool: &$pool, batch: &[Job]) -> StoreResult<Vec<StoreResult<()>>> {
            let mut tx = pool.begin().await?;
            let mut results = Vec::with_capacity(batch.len());
            let single = batch.len() == 1;
            for job in batch {
                if !single {
                    sqlx::query::<$db>("SAVEPOINT unit").execute(&mut *tx).await?;
                }
                let mut outcome: StoreResult<()> = Ok(());
                for op in &job.unit.ops {
                    let q = bind_all!(sqlx::query::<$db>(op.sql), &op.args);
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

commit_impl!(commit_sqlite, Sqlite, sqlx::SqlitePool);
commit_impl!(commit_pg, Postgres, sqlx::PgPool);
