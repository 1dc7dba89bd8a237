//! The PostgreSQL group-commit writer: a thread with a runtime and a connection of its own.
//!
//! Its round trips are never queued behind the cases' tasks on the service's runtime (when a
//! hundred cases finish their checks at once, a writer on that runtime waited behind them at
//! every await). A batch costs a round trip per kind of statement, not per row: the same INSERT
//! of many units is one `INSERT … SELECT * FROM UNNEST(…)` over one array per column, and the
//! same guarded UPDATE likewise (`Op::pg_batch`).

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};
use tokio::sync::{mpsc, oneshot};

use crate::writer::{Arg, Chain, InsertShape, Job, MAX_BATCH, Msg, Op, answer, gather, refuse_the_rest};
use crate::{StoreError, StoreResult};

/// The writer connection's planner settings (see `PgWriter::start`).
const KEYED_PLANS: [(&str, &str); 3] = [
    ("enable_seqscan", "off"),
    ("enable_hashjoin", "off"),
    ("enable_mergejoin", "off"),
];

#[derive(Debug, Clone)]
pub(crate) struct PgWriter {
    pub(crate) tx: mpsc::Sender<Msg>,
}

impl PgWriter {
    /// Connects the writer's own connection and starts its thread.
    pub(crate) async fn start(opts: PgConnectOptions) -> StoreResult<PgWriter> {
        // The writer touches rows only by key. Its statements are prepared once and PostgreSQL
        // may keep one generic plan for each: planned while a table was still small, a batched
        // UPDATE … FROM UNNEST kept a hash join over a scan of the whole table as it grew
        // (measured: 687 scans reading 13 million rows in a 60,000-case run; throughput fell by
        // a third). On this connection only, index lookups are the plans it can choose.
        let opts = opts.options(KEYED_PLANS);
        let (tx, rx) = mpsc::channel::<Msg>(MAX_BATCH * 4);
        let (ready, started) = oneshot::channel::<StoreResult<()>>();
        std::thread::Builder::new()
            .name("koshi-pg-writer".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready.send(Err(StoreError::Database(format!("writer runtime: {e}"))));
                        return;
                    }
                };
                rt.block_on(async move {
                    match PgPoolOptions::new().max_connections(1).connect_with(opts).await {
                        Ok(pool) => {
                            let _ = ready.send(Ok(()));
                            run(&pool, rx).await;
                            pool.close().await;
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e.into()));
                        }
                    }
                });
            })
            .map_err(|e| StoreError::Database(format!("cannot start the writer thread: {e}")))?;
        started.await.map_err(|_| StoreError::Closed)??;
        Ok(PgWriter { tx })
    }
}

async fn run(pool: &PgPool, mut rx: mpsc::Receiver<Msg>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut closing: Option<oneshot::Sender<()>> = None;
    while closing.is_none() {
        let Some(first) = rx.recv().await else { break };
        closing = gather(first, &mut rx, &mut batch);
        if batch.is_empty() {
            continue;
        }
        let started = std::time::Instant::now();
        // One unit of many statements (the relay's marks of a thousand messages) also takes
        // the grouped path: a round trip per kind of statement, not per row.
        let fast = if batch.len() > 1 || batch.first().is_some_and(|j| j.unit.ops.len() > 16) {
            merged(pool, &batch).await
        } else {
            Err(StoreError::Conflict(String::new()))
        };
        let outcome = match fast {
            Ok(()) => Ok(batch.iter().map(|_| Ok(())).collect()),
            // Something in the batch failed: replay it unit by unit, each in its savepoint.
            Err(_) => one_by_one(pool, &batch).await,
        };
        crate::writer::observed(batch.len(), started.elapsed(), outcome.is_ok());
        answer(&mut batch, outcome);
    }
    refuse_the_rest(&mut rx);
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Text(s) => q.bind(s.as_ref()),
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
async fn chain_head(tx: &mut sqlx::PgConnection, batch: &[Job]) -> StoreResult<Chain> {
    if !batch.iter().any(|j| j.unit.ops.iter().any(|o| o.audit)) {
        return Ok(Chain::empty());
    }
    sqlx::query("SELECT pg_advisory_xact_lock(7303002)")
        .execute(&mut *tx)
        .await?;
    let head: Option<(i64, String)> = sqlx::query_as("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *tx)
        .await?;
    Ok(match head {
        Some((seq, hash)) => Chain::at(seq, hash),
        None => Chain::genesis(),
    })
}

/// The slow path: every unit in its own savepoint, statement by statement, so that a failing
/// unit is refused alone.
async fn one_by_one(pool: &PgPool, batch: &[Job]) -> StoreResult<Vec<StoreResult<()>>> {
    let mut tx = pool.begin().await?;
    let mut chain = chain_head(&mut tx, batch).await?;
    let mut results = Vec::with_capacity(batch.len());
    let single = batch.len() == 1;
    for job in batch {
        if !single {
            sqlx::query("SAVEPOINT unit").execute(&mut *tx).await?;
        }
        let mut outcome: StoreResult<()> = Ok(());
        let chain_before = chain.clone();
        for op in &job.unit.ops {
            let args = chain.extend(op);
            let q = bind_all!(sqlx::query::<Postgres>(op.sql), args.iter());
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
                    outcome = Err(match StoreError::from(e) {
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
            sqlx::query("ROLLBACK TO SAVEPOINT unit").execute(&mut *tx).await?;
            sqlx::query("RELEASE SAVEPOINT unit").execute(&mut *tx).await?;
        } else {
            sqlx::query("RELEASE SAVEPOINT unit").execute(&mut *tx).await?;
        }
        results.push(outcome);
    }
    tx.commit().await?;
    Ok(results)
}

/// One column of many rows, as a PostgreSQL array.
enum Column<'a> {
    Text(Vec<Option<&'a str>>),
    Int(Vec<Option<i64>>),
    Bytes(Vec<Option<&'a [u8]>>),
}

impl Column<'_> {
    fn pg_type(&self) -> &'static str {
        match self {
            Column::Text(_) => "text[]",
            Column::Int(_) => "int8[]",
            Column::Bytes(_) => "bytea[]",
        }
    }
}

/// The rows' arguments turned into one array per column (the type of each column is that of its
/// first row; a row that disagrees is an error, and the batch is replayed statement by statement).
fn columns<'a>(rows: &[&'a [Arg]]) -> StoreResult<Vec<Column<'a>>> {
    let width = rows.first().map_or(0, |r| r.len());
    let mixed = || StoreError::Database("a batched statement's rows disagree in their types".into());
    if rows.iter().any(|r| r.len() != width) {
        return Err(mixed());
    }
    let mut out = Vec::with_capacity(width);
    for c in 0..width {
        let col = match rows[0].get(c) {
            Some(Arg::Text(_) | Arg::OptText(_)) => Column::Text(
                rows.iter()
                    .map(|r| match r.get(c) {
                        Some(Arg::Text(s)) => Ok(Some(s.as_ref())),
                        Some(Arg::OptText(s)) => Ok(s.as_deref()),
                        _ => Err(mixed()),
                    })
                    .collect::<StoreResult<_>>()?,
            ),
            Some(Arg::I64(_) | Arg::OptI64(_)) => Column::Int(
                rows.iter()
                    .map(|r| match r.get(c) {
                        Some(Arg::I64(n)) => Ok(Some(*n)),
                        Some(Arg::OptI64(n)) => Ok(*n),
                        _ => Err(mixed()),
                    })
                    .collect::<StoreResult<_>>()?,
            ),
            Some(Arg::Bytes(_)) => Column::Bytes(
                rows.iter()
                    .map(|r| match r.get(c) {
                        Some(Arg::Bytes(b)) => Ok(Some(b.as_slice())),
                        _ => Err(mixed()),
                    })
                    .collect::<StoreResult<_>>()?,
            ),
            None => return Err(mixed()),
        };
        out.push(col);
    }
    Ok(out)
}

/// Runs one statement over many rows: `sql` takes one array per column.
async fn execute_arrays(tx: &mut sqlx::PgConnection, sql: String, cols: &[Column<'_>]) -> StoreResult<u64> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for c in cols {
        q = match c {
            Column::Text(v) => q.bind(v.as_slice()),
            Column::Int(v) => q.bind(v.as_slice()),
            Column::Bytes(v) => q.bind(v.as_slice()),
        };
    }
    Ok(q.execute(&mut *tx).await?.rows_affected())
}

/// The fast path: the whole batch in one transaction, one statement per kind of INSERT (in rank
/// order, so referenced rows come first) over arrays of all the units' rows (`INSERT … SELECT *
/// FROM UNNEST(…)`), the same for UPDATEs that have a batched form (`Op::pg_batch`; every row must
/// match), then every other statement in unit order. A round trip per kind of statement, not per
/// row: the batch's time no longer grows with its size. Any error or unexpected row count rolls
/// everything back; the caller then replays the batch unit by unit.
async fn merged(pool: &PgPool, batch: &[Job]) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let mut chain = chain_head(&mut tx, batch).await?;
    // Chain fields are assigned in unit order, before statements are grouped.
    let extended: Vec<Vec<std::borrow::Cow<'_, [Arg]>>> = batch
        .iter()
        .map(|j| j.unit.ops.iter().map(|op| chain.extend(op)).collect())
        .collect();
    let mut inserts: Vec<(InsertShape, &'static str, Vec<&[Arg]>)> = Vec::new();
    let mut updates: Vec<(&Op, Vec<&[Arg]>)> = Vec::new();
    let mut others: Vec<(&Op, &[Arg])> = Vec::new();
    for (job, args) in batch.iter().zip(&extended) {
        for (op, a) in job.unit.ops.iter().zip(args) {
            if let Some(shape) = op.insert {
                match inserts.iter_mut().find(|(s, _, _)| *s == shape) {
                    Some((_, _, v)) => v.push(a.as_ref()),
                    None => inserts.push((shape, op.sql, vec![a.as_ref()])),
                }
            } else if op.pg_batch.is_some() && matches!(op.expect_rows, Some(1) | None) {
                match updates.iter_mut().find(|(o, _)| std::ptr::eq(o.sql, op.sql)) {
                    Some((_, v)) => v.push(a.as_ref()),
                    None => updates.push((op, vec![a.as_ref()])),
                }
            } else {
                others.push((op, a.as_ref()));
            }
        }
    }
    inserts.sort_by_key(|(s, _, _)| s.rank);
    for (shape, one_row_sql, rows) in &inserts {
        if rows.len() == 1 {
            bind_all!(sqlx::query::<Postgres>(*one_row_sql), rows[0].iter())
                .execute(&mut *tx)
                .await?;
            continue;
        }
        let cols = columns(rows)?;
        let mut sql = String::with_capacity(shape.head.len() + shape.tail.len() + 16 * cols.len() + 32);
        sql.push_str(shape.head.strip_suffix(" VALUES").unwrap_or(shape.head));
        sql.push_str(" SELECT * FROM UNNEST(");
        for (i, c) in cols.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}::{}", i + 1, c.pg_type()));
        }
        sql.push(')');
        if !shape.tail.is_empty() {
            sql.push(' ');
            sql.push_str(shape.tail);
        }
        execute_arrays(&mut tx, sql, &cols).await?;
    }
    for (op, rows) in &updates {
        let changed = if rows.len() == 1 {
            bind_all!(sqlx::query::<Postgres>(op.sql), rows[0].iter())
                .execute(&mut *tx)
                .await?
                .rows_affected()
        } else {
            let cols = columns(rows)?;
            execute_arrays(&mut tx, op.pg_batch.unwrap_or(op.sql).to_string(), &cols).await?
        };
        // Guarded updates must each change their row; the others (an outbox mark that another
        // instance made first) may change fewer.
        if op.expect_rows == Some(1) && changed != rows.len() as u64 {
            tx.rollback().await?;
            return Err(StoreError::Conflict(op.what.to_string()));
        }
    }
    for (op, a) in others {
        let r = bind_all!(sqlx::query::<Postgres>(op.sql), a).execute(&mut *tx).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// With the writer's settings, the batched status change plans as index lookups even in the
    /// generic plan of a table that was empty when planned (the case that scanned whole tables).
    #[tokio::test]
    async fn batched_updates_plan_as_index_lookups() {
        let Ok(url) = std::env::var("KOSHI_TEST_DATABASE_URL") else {
            return;
        };
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let loc = crate::create_test_schema(&url, &schema).await.unwrap();
        let store = crate::Store::open(&loc).await.unwrap();
        store.close().await;
        let opts: PgConnectOptions = url.parse().unwrap();
        let opts = opts.options([("search_path", schema.as_str())]).options(KEYED_PLANS);
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .unwrap();
        let change = crate::repo::change_status(crate::repo::StatusChange {
            id: "a".into(),
            expected_revision: 0,
            status: "issued".into(),
            decision: None,
            permit_number: None,
            valid_from: None,
            valid_until: None,
            updated_at: "t".into(),
        });
        let batched = change.pg_batch.expect("the status change has a batched form");
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("SET LOCAL plan_cache_mode = force_generic_plan")
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "PREPARE batched (text[], text[], text[], text[], text[], text[], text[], int8[]) AS {batched}"
        )))
        .execute(&mut *tx)
        .await
        .unwrap();
        let plan: Vec<(String,)> =
            sqlx::query_as("EXPLAIN EXECUTE batched ('{x}', '{x}', '{x}', '{x}', '{x}', '{x}', '{a}', '{0}')")
                .fetch_all(&mut *tx)
                .await
                .unwrap();
        let plan: Vec<String> = plan.into_iter().map(|r| r.0).collect();
        let text = plan.join("\n");
        assert!(text.contains("Index Scan"), "{text}");
        assert!(!text.contains("Seq Scan on applications"), "{text}");
        tx.rollback().await.unwrap();
        pool.close().await;
        crate::drop_test_schema(&url, &schema).await.unwrap();
    }
}
