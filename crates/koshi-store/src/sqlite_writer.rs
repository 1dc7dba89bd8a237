//! The SQLite group-commit writer: one OS thread owning one connection.
//!
//! SQLite admits one writer at a time, so Koshi gives it exactly one: a thread that takes every
//! unit waiting (up to a bound), runs them all in one `BEGIN IMMEDIATE` transaction with cached
//! prepared statements (the rows of each kind of INSERT in statements of many rows, as
//! PostgreSQL's writer does; should anything fail, the batch runs again statement by statement
//! with a savepoint per unit, so that only the failing unit is refused), and commits once
//! (`synchronous=FULL`: the commit is fsync'd). Every caller is answered only after the commit
//! has returned, so a reply means durable. Running the statements on the thread that owns the
//! connection, rather than handing each one to a driver's worker thread and back, is what lets
//! thousands of cases share a commit without paying a thread switch per statement.
//!
//! Reads stay on the sqlx pool (WAL lets them run beside the writer), but for the counts on a
//! case's hot path and a case's own rows read by their key (the case, its acts, its check sheet,
//! the token of a request), which run on the calling thread (`SqliteReader`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, ToSql};
use tokio::sync::{mpsc, oneshot};

use crate::writer::{Arg, Chain, InsertShape, Job, MAX_BATCH, Msg, Op, answer, gather, refuse_the_rest};
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

#[derive(Debug, Clone)]
pub(crate) struct SqliteWriter {
    pub(crate) tx: mpsc::Sender<Msg>,
}

impl SqliteWriter {
    /// Opens the writer's own connection and starts its thread.
    pub(crate) fn start(path: &Path) -> StoreResult<SqliteWriter> {
        let conn = open(path)?;
        // The writer does not checkpoint: a thread beside it copies the WAL back into the
        // database file, so that commits never wait for a checkpoint.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // When the WAL is started over, a file grown longer by a burst is cut back to 256 MiB.
        // Not less: under a steady load the WAL reaches 60–120 MiB between restarts (the
        // checkpoint thread asks for one past 32 MiB), and a limit of 64 MiB cut the file at many
        // restarts. Each cut frees blocks, which a file system mounted with `discard` (as this
        // kind of machine is) discards synchronously in the writer's path (seen in the writer's
        // kernel stack), and the blocks are allocated again as the WAL grows back.
        conn.pragma_update(None, "journal_size_limit", 256 * 1024 * 1024)?;
        // An INSERT of many rows into a table with a foreign key keeps a statement journal (the
        // pages it changes, to undo just that statement); past 64 KiB SQLite spills it to a
        // temporary file, created and deleted in the writer's path (measured: 0.5 KiB a case
        // written to files that never reach the disk, and their inodes evicted). In memory.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        let checkpointer = Checkpointer::start(open(path)?)?;
        let (tx, rx) = mpsc::channel::<Msg>(MAX_BATCH * 4);
        std::thread::Builder::new()
            .name("koshi-sqlite-writer".into())
            .spawn(move || run(conn, rx, checkpointer))
            .map_err(|e| StoreError::Database(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteWriter { tx })
    }
}

/// Read-only connections for the reads on the hot path of a case (the counts two of the seven
/// checks need), run on the calling thread: each takes a connection from a small pool, runs its
/// indexed count and puts the connection back.
///
/// These reads are a few b-tree pages that the writer has just written, so they are in the
/// operating system's cache: a count takes microseconds. Handing each to a thread of its own, as
/// an earlier version did, cost more than the read: the reader thread slept and was woken about
/// once a case, and the runtime's worker parked while it waited for the answer (measured: 14,000
/// context switches of each for 20,000 cases, 4 µs of the reader's CPU a case besides).
#[derive(Clone)]
pub(crate) struct SqliteReader {
    path: PathBuf,
    idle: std::sync::Arc<std::sync::Mutex<Vec<ReadConn>>>,
}

/// Idle read connections kept for reuse; a burst beyond this opens more, closed after use.
const IDLE_READERS: usize = 8;

struct ReadConn {
    conn: Connection,
    /// Each statement's map from SQLite's parameter order to Koshi's `$n` (see `Stmts`).
    maps: HashMap<(usize, usize), Vec<usize>>,
}

impl std::fmt::Debug for SqliteReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteReader")
    }
}

impl SqliteReader {
    pub(crate) fn start(path: &Path) -> StoreResult<SqliteReader> {
        let reader = SqliteReader {
            path: path.to_path_buf(),
            idle: std::sync::Arc::new(std::sync::Mutex::new(Vec::new())),
        };
        // One connection opened now, so that a database that cannot be read fails at start.
        let first = reader.connect()?;
        reader.put_back(first);
        Ok(reader)
    }

    fn connect(&self) -> StoreResult<ReadConn> {
        let conn = open(&self.path)?;
        conn.pragma_update(None, "query_only", "ON")?;
        Ok(ReadConn {
            conn,
            maps: HashMap::new(),
        })
    }

    fn put_back(&self, c: ReadConn) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(c);
        }
    }

    /// The single integer a query returns (a count), 0 when it returns no row.
    pub(crate) fn count(&self, sql: &'static str, args: &[Arg]) -> StoreResult<i64> {
        Ok(self.rows(sql, args, |r| r.get(0))?.into_iter().next().unwrap_or(0))
    }

    /// Every row a query returns, each read by `row`. For a case's own rows, read by their key
    /// (a case read whole, its acts, the token of a request): a few pages in the cache.
    pub(crate) fn rows<T>(
        &self,
        sql: &'static str,
        args: &[Arg],
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        let taken = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut c = match taken {
            Some(c) => c,
            None => self.connect()?,
        };
        let r = c.rows(sql, args, row);
        self.put_back(c);
        r
    }
}

impl ReadConn {
    fn rows<T>(
        &mut self,
        sql: &'static str,
        args: &[Arg],
        mut row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let map = match self.maps.entry((sql.as_ptr() as usize, sql.len())) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(parameter_map(&stmt, sql)?),
        };
        for (i, &a) in map.iter().enumerate() {
            let arg = args
                .get(a)
                .ok_or_else(|| StoreError::Database(format!("missing argument ${} for {sql}", a + 1)))?;
            stmt.raw_bind_parameter(i + 1, arg)?;
        }
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(row(r)?);
        }
        Ok(out)
    }
}

/// For each of a statement's parameters in SQLite's order, the index of the argument it takes:
/// Koshi's SQL numbers its parameters `$1…$n` (the same text runs on PostgreSQL); to SQLite those
/// are names, indexed in order of first appearance.
fn parameter_map(stmt: &rusqlite::Statement<'_>, sql: &str) -> StoreResult<Vec<usize>> {
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
    Ok(map)
}

fn open(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(PathBuf::from(path))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // The same settings as the pool's connections: WAL (persistent in the file, set again here
    // for a file opened first by this connection), every commit fsync'd, foreign keys enforced.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // 8 MiB of page cache: the pages a batch touches (the right edges of the b-trees) stay in
    // memory. Not more: every commit scans the cache's whole hash table once (SQLite truncates the
    // cache to the database size at the end of each transaction), measured at 4% of the writer's
    // time with 64 MiB and 0.1% with 2 MiB (it grows with the cache).
    conn.pragma_update(None, "cache_size", -8192)?;
    Ok(conn)
}

/// Copies committed WAL frames back into the database file (`PRAGMA wal_checkpoint(PASSIVE)`:
/// never blocks the writer or a reader) a few times a second while there are new commits, and
/// truncates the WAL when the store closes.
struct Checkpointer {
    commits: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Set when the WAL has grown long: the writer finishes the checkpoint (see `catch_up`).
    restart: std::sync::Arc<std::sync::atomic::AtomicBool>,
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);
/// A WAL longer than this many frames (32 MiB of 8 KiB pages) is started over: see
/// `Checkpointer::catch_up`.
const RESTART_ABOVE_FRAMES: i64 = 4096;
/// Passes the checkpoint thread makes back to back on a long WAL before it asks the writer to
/// finish the checkpoint itself.
const CATCH_UP_PASSES: usize = 32;
/// A pass that had no more than this many frames to copy was short: few frames were committed
/// while it ran (256 frames: a few of the writer's batches).
const SHORT_PASS_FRAMES: i64 = 256;

impl Checkpointer {
    fn start(conn: Connection) -> StoreResult<Checkpointer> {
        use std::sync::atomic::Ordering;
        let commits = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let seen = commits.clone();
        let restart = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let wanted = restart.clone();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("koshi-sqlite-checkpoint".into())
            .spawn(move || {
                let mut done = 0;
                loop {
                    let finished = !matches!(
                        stopped.recv_timeout(CHECKPOINT_EVERY),
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout)
                    );
                    let now = seen.load(Ordering::Acquire);
                    if finished {
                        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
                            tracing::warn!(error = %e, "final checkpoint failed; the WAL is applied on next open");
                        }
                        return;
                    }
                    if now == done {
                        continue;
                    }
                    // A long WAL: passes follow each other at once, each copying only what was
                    // committed during the last, until one is short; the writer then copies the
                    // little committed since, between two batches (`catch_up`).
                    let mut passes = 0;
                    let mut copied_before = 0;
                    loop {
                        let now = seen.load(Ordering::Acquire);
                        // (frames in the WAL when the pass began, frames copied by its end)
                        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                            Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
                        }) {
                            Ok((frames, copied)) => {
                                done = now;
                                if frames <= RESTART_ABOVE_FRAMES {
                                    break;
                                }
                                passes += 1;
                                let short = copied == frames && frames - copied_before <= SHORT_PASS_FRAMES;
                                if short || passes == CATCH_UP_PASSES {
                                    wanted.store(true, Ordering::Release);
                                    break;
                                }
                                copied_before = copied;
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "checkpoint failed; retrying");
                                break;
                            }
                        }
                    }
                }
            })
            .map_err(|e| StoreError::Database(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer {
            commits,
            restart,
            stop,
            thread,
        })
    }

    fn committed(&self) {
        self.commits.fetch_add(1, std::sync::atomic::Ordering::Release);
    }

    /// Under a steady stream of commits a passive checkpoint never catches up with the writer,
    /// so SQLite never starts the WAL over and it grows without bound (measured: 220 MB in the
    /// two seconds of the benchmark, every frame written to a newly allocated page of the file).
    /// The WAL is started over only by a transaction that begins when every frame has been
    /// copied, which the checkpoint thread alone cannot arrange: the writer begins its next
    /// batch as soon as it has committed one. So once the WAL is long, the checkpoint thread
    /// makes passes back to back until one is short (each copies only what was committed
    /// during the last), and then the writer, between two batches, copies the few
    /// frames committed since (a passive checkpoint of its own: it never waits); with every
    /// frame copied, its next transaction writes the WAL from the start again. (Asked after any
    /// long pass, the writer had up to 200 ms of commits to copy: 7% of its time in the
    /// benchmark.)
    fn catch_up(&self, conn: &Connection) {
        if self.restart.swap(false, std::sync::atomic::Ordering::AcqRel)
            && let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
        {
            tracing::debug!(error = %e, "writer's checkpoint skipped");
        }
    }

    /// Stops the thread after a last, truncating checkpoint.
    fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Msg>, checkpointer: Checkpointer) {
    let mut stmts = Stmts {
        conn: &conn,
        cache: HashMap::new(),
    };
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut closing: Option<oneshot::Sender<()>> = None;
    while closing.is_none() {
        let Some(first) = rx.blocking_recv() else { break };
        closing = gather(first, &mut rx, &mut batch);
        if batch.is_empty() {
            continue;
        }
        // First all units at once in one transaction, the rows of each kind of INSERT in
        // statements of many rows (`commit_merged`); if anything fails, that transaction is rolled back
        // and the batch is run again statement by statement with a savepoint per unit, so that
        // only the failing unit is refused. (Savepoints cost a sub-journal copy of every page
        // touched: they are paid only when needed.)
        let started = std::time::Instant::now();
        let outcome = match commit_merged(&mut stmts, &batch) {
            Ok(()) => Ok(batch.iter().map(|_| Ok(())).collect()),
            Err(_) => commit_one_by_one(&mut stmts, &batch),
        };
        let committed = outcome.is_ok();
        crate::writer::observed(batch.len(), started.elapsed(), committed);
        if committed {
            checkpointer.committed();
        }
        answer(&mut batch, outcome);
        if committed {
            checkpointer.catch_up(&conn);
        }
    }
    refuse_the_rest(&mut rx);
    drop(stmts);
    drop(conn);
    checkpointer.finish();
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

/// The writer's prepared statements, each with the argument each of its SQL parameters takes,
/// kept for the life of the connection. Koshi's SQL texts are `&'static str` (a bounded set), so
/// a text is known by its address and length, without hashing it.
///
/// Koshi's SQL numbers its parameters `$1…$n` (the same text runs on PostgreSQL); to SQLite those
/// are names, indexed in order of first appearance, so the map is read off the statement once.
struct Stmts<'c> {
    conn: &'c Connection,
    cache: HashMap<(usize, usize), (rusqlite::Statement<'c>, Vec<usize>)>,
}

impl<'c> Stmts<'c> {
    fn prepare(&mut self, sql: &'static str) -> StoreResult<&mut (rusqlite::Statement<'c>, Vec<usize>)> {
        let key = (sql.as_ptr() as usize, sql.len());
        if !self.cache.contains_key(&key) {
            let stmt = self.conn.prepare(sql)?;
            let map = parameter_map(&stmt, sql)?;
            self.cache.insert(key, (stmt, map));
        }
        self.cache
            .get_mut(&key)
            .ok_or_else(|| StoreError::Database("statement cache".into()))
    }

    /// The statement for `sql`, prepared once, with `args` and then `more` bound to its
    /// parameters (`$1…` are `args`, numbered on into `more`).
    fn bound(&mut self, sql: &'static str, args: &[Arg], more: &[Arg]) -> StoreResult<&mut rusqlite::Statement<'c>> {
        let (stmt, map) = self.prepare(sql)?;
        for (i, &a) in map.iter().enumerate() {
            let arg = args
                .get(a)
                .or_else(|| more.get(a.wrapping_sub(args.len())))
                .ok_or_else(|| StoreError::Database(format!("missing argument ${} for {sql}", a + 1)))?;
            stmt.raw_bind_parameter(i + 1, arg)?;
        }
        Ok(stmt)
    }

    /// Runs one statement; returns the rows it changed.
    fn execute(&mut self, sql: &'static str, args: &[Arg]) -> StoreResult<u64> {
        self.execute_more(sql, args, &[])
    }

    /// As `execute`, with `more` arguments after `args` (an audit event's chain fields).
    fn execute_more(&mut self, sql: &'static str, args: &[Arg], more: &[Arg]) -> StoreResult<u64> {
        Ok(self.bound(sql, args, more)?.raw_execute()? as u64)
    }

    /// Inserts `rows` (each the arguments of one row of `shape`, in column order: the op's own,
    /// then its chain fields) with one statement, prepared once for each shape and number of rows.
    fn insert_rows(&mut self, shape: InsertShape, rows: &[(&[Arg], &[Arg])]) -> StoreResult<()> {
        let sql = crate::writer::insert_rows_sql(shape, rows.len());
        let (stmt, _) = self.prepare(sql)?;
        let mut i = 0;
        for (args, more) in rows {
            if args.len() + more.len() != shape.columns {
                return Err(StoreError::Database(format!(
                    "a row of {} arguments for an insert of {} columns",
                    args.len() + more.len(),
                    shape.columns
                )));
            }
            for arg in args.iter().chain(more.iter()) {
                i += 1;
                stmt.raw_bind_parameter(i, arg)?;
            }
        }
        stmt.raw_execute()?;
        Ok(())
    }

    fn chain_head(&mut self, batch: &[Job]) -> StoreResult<Chain> {
        if !batch.iter().any(|j| j.unit.ops.iter().any(|o| o.audit)) {
            return Ok(Chain::empty());
        }
        let mut rows = self
            .bound("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", &[], &[])?
            .raw_query();
        Ok(match rows.next()? {
            Some(r) => Chain::at(r.get(0)?, r.get(1)?),
            None => Chain::genesis(),
        })
    }
}

/// Rows of one INSERT shape put in one statement at most (SQLite allows 32,766 parameters; a case's
/// widest row has 22 columns). Groups are cut in powers of two, so each shape has at most seven
/// statement texts.
const MERGE_ROWS: usize = 64;

/// The fast path, as PostgreSQL's writer takes it (`pg_writer::merged`), so that both databases run
/// a batch's statements in the same order: the chain fields assigned in unit order, then every
/// kind of INSERT (in rank order: referenced rows first) as statements of many rows, then every
/// other statement in unit order. A statement of many rows opens its cursors and runs its program
/// once, not once a row. Any error or unexpected row count rolls the whole batch back.
fn commit_merged(stmts: &mut Stmts<'_>, batch: &[Job]) -> StoreResult<()> {
    transaction(stmts, |s| run_merged(s, batch))
}

/// `run` inside one `BEGIN IMMEDIATE` transaction, committed if it succeeds and rolled back if it
/// or the commit fails.
fn transaction<T>(stmts: &mut Stmts<'_>, run: impl FnOnce(&mut Stmts<'_>) -> StoreResult<T>) -> StoreResult<T> {
    stmts.execute("BEGIN IMMEDIATE", &[])?;
    match run(stmts).and_then(|done| stmts.execute("COMMIT", &[]).map(|_| done)) {
        Ok(done) => Ok(done),
        Err(e) => {
            let _ = stmts.execute("ROLLBACK", &[]);
            Err(e)
        }
    }
}

fn run_merged(stmts: &mut Stmts<'_>, batch: &[Job]) -> StoreResult<()> {
    let mut chain = stmts.chain_head(batch)?;
    // Each op's chain fields (an audit event's), assigned in unit order; bound after its own
    // arguments, which are not copied.
    let chained: Vec<Vec<Option<[Arg; 3]>>> = batch
        .iter()
        .map(|j| j.unit.ops.iter().map(|op| chain.advance(op)).collect())
        .collect();
    type Row<'a> = (&'a [Arg], &'a [Arg]);
    let mut inserts: Vec<(InsertShape, Vec<Row<'_>>)> = Vec::new();
    let mut others: Vec<(&Op, Row<'_>)> = Vec::new();
    for (job, more) in batch.iter().zip(&chained) {
        for (op, more) in job.unit.ops.iter().zip(more) {
            let row = (&op.args[..], more.as_ref().map_or(&[][..], |m| &m[..]));
            match op.insert {
                // Shapes are told apart by the address of their texts, as `insert_sql` keys them:
                // comparing the texts themselves was 2% of the writer's time.
                Some(shape) if op.expect_rows.is_none() => match inserts
                    .iter_mut()
                    .find(|(s, _)| std::ptr::eq(s.head, shape.head) && std::ptr::eq(s.tail, shape.tail))
                {
                    Some((_, rows)) => rows.push(row),
                    None => inserts.push((shape, vec![row])),
                },
                _ => others.push((op, row)),
            }
        }
    }
    inserts.sort_by_key(|(s, _)| s.rank);
    for (shape, rows) in &inserts {
        let mut rest = &rows[..];
        while !rest.is_empty() {
            let n = if rest.len() >= MERGE_ROWS {
                MERGE_ROWS
            } else {
                1 << rest.len().ilog2()
            };
            let (now, later) = rest.split_at(n);
            stmts.insert_rows(*shape, now)?;
            rest = later;
        }
    }
    for (op, (args, more)) in others {
        let n = stmts.execute_more(op.sql, args, more)?;
        if let Some(want) = op.expect_rows
            && n != want
        {
            return Err(StoreError::Conflict(format!(
                "{}: expected {want} row(s), changed {n}",
                op.what
            )));
        }
    }
    Ok(())
}

/// The slow path: the whole batch in one transaction, statement by statement, each unit in a
/// savepoint of its own: a unit that fails is rolled back alone and answered with its error, and
/// the others commit.
fn commit_one_by_one(stmts: &mut Stmts<'_>, batch: &[Job]) -> StoreResult<Vec<StoreResult<()>>> {
    transaction(stmts, |s| units(s, batch))
}

fn units(stmts: &mut Stmts<'_>, batch: &[Job]) -> StoreResult<Vec<StoreResult<()>>> {
    let mut chain = stmts.chain_head(batch)?;
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        stmts.execute("SAVEPOINT unit", &[])?;
        let before = chain.clone();
        let mut outcome: StoreResult<()> = Ok(());
        for op in &job.unit.ops {
            let more = chain.advance(op);
            match stmts.execute_more(op.sql, &op.args, more.as_ref().map_or(&[], |m| &m[..])) {
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
            stmts.execute("ROLLBACK TO SAVEPOINT unit", &[])?;
        }
        stmts.execute("RELEASE SAVEPOINT unit", &[])?;
        results.push(outcome);
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    /// The bundled SQLite is built as `.cargo/config.toml` says (a build from outside the
    /// workspace, or with LIBSQLITE3_FLAGS overridden, would silently lose it): no process-wide
    /// memory statistics, and a page cache of its own for each connection, so that the readers
    /// cannot recycle the writer's pages.
    #[test]
    fn bundled_sqlite_is_built_with_the_workspace_options() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let mut stmt = conn.prepare("PRAGMA compile_options").unwrap();
        let options: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
        assert!(!options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"), "{options:?}");
    }
}
