//! # koshi-store: all of Koshi's SQL
//!
//! One API over two native pools, SQLite (embedded default) and PostgreSQL, with the same SQL
//! text (`$n` placeholders, portable types; the only backend difference, BLOB vs BYTEA, is in
//! the migrations). Instants are stored as fixed-precision RFC 3339 UTC text, civil dates as
//! `YYYY-MM-DD`, money as integers.
//!
//! Writes go through a group-commit writer: each state change is a [`Unit`] (the case row, its
//! audit event, its outbox messages, …); many units from concurrent cases share one durable
//! commit, and a unit that fails is refused alone (the batch is replayed with a savepoint per
//! unit). A unit is atomic: all of it or none of it.
//!
//! Architecture invariant: no other crate contains SQL.

pub mod audit;
mod migrate;
mod pg_writer;
pub mod repo;
mod sqlite_writer;
pub mod timers;
mod writer;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use sqlite_writer::{SqliteReader, SqliteWriter};
pub use writer::{Arg, Op, Unit, observe_commits};

/// Why the store refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness or optimistic-concurrency conflict: the unit was rolled back.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database failed; the unit was rolled back.
    #[error("database error: {0}")]
    Database(String),
    /// The writer has stopped.
    #[error("the store is closed")]
    Closed,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        if let sqlx::Error::Database(d) = &e
            && d.is_unique_violation()
        {
            return StoreError::Conflict(d.message().to_string());
        }
        StoreError::Database(e.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The two backends.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Db {
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }
}

/// Where the data lives.
#[derive(Debug, Clone)]
pub enum Location {
    /// A SQLite file (created on first use).
    SqliteFile(std::path::PathBuf),
    /// A PostgreSQL URL, optionally confined to a schema (tests use one schema each).
    Postgres { url: String, schema: Option<String> },
}

impl Location {
    /// `KOSHI_DATABASE_URL` (postgres://…) wins; otherwise `DATA_DIR/koshi.db`.
    pub fn resolve(database_url: Option<&str>, data_dir: &std::path::Path) -> Result<Location, StoreError> {
        match database_url {
            Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => Ok(Location::Postgres {
                url: u.to_string(),
                schema: None,
            }),
            Some(u) if u.starts_with("sqlite:") => Ok(Location::SqliteFile(
                u.trim_start_matches("sqlite://").trim_start_matches("sqlite:").into(),
            )),
            Some(u) => Err(StoreError::Database(format!(
                "KOSHI_DATABASE_URL must start with postgres:// or sqlite: (got {:?})",
                u.split(':').next().unwrap_or("")
            ))),
            None => Ok(Location::SqliteFile(data_dir.join("koshi.db"))),
        }
    }
}

/// The store: pools for reads, the writer for state changes.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
    writer: writer::Writer,
    /// SQLite only: the read connections for the counts on a case's hot path.
    reader: Option<SqliteReader>,
}

impl Store {
    /// Opens (creating if needed) the database and applies the migrations.
    pub async fn open(location: &Location) -> StoreResult<Store> {
        let db = match location {
            Location::SqliteFile(path) => {
                if let Some(dir) = path.parent()
                    && !dir.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| StoreError::Database(format!("cannot create {}: {e}", dir.display())))?;
                }
                let opts = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // Every commit is fsync'd: durability is not traded for speed; batching is.
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    // 8 KiB pages for a new database (an existing one keeps its own): half the
                    // WAL frames, each a write call of its own, for the same rows; measured
                    // 12–18% more cases per second than 4 KiB, and more than 16 KiB.
                    .page_size(8192)
                    .busy_timeout(Duration::from_secs(10));
                // Processes starting at once on a fresh file: SQLite answers "database is
                // locked" without waiting while another one switches the file to WAL or holds
                // the migration lock; try again for up to ten seconds.
                let mut tries = 0;
                loop {
                    let attempt = async {
                        let pool = SqlitePoolOptions::new()
                            .max_connections(8)
                            .connect_with(opts.clone())
                            .await?;
                        let db = Db::Sqlite(pool);
                        migrate::apply(&db).await?;
                        Ok::<Db, StoreError>(db)
                    };
                    match attempt.await {
                        Ok(db) => break db,
                        Err(e) if tries < 100 && e.to_string().contains("database is locked") => {
                            tries += 1;
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            Location::Postgres { url, schema } => {
                let mut opts = PgConnectOptions::from_str(url)?;
                // A URL that names no `sslmode` to a server on this machine: plain. TLS on
                // loopback protects nothing, and sqlx 0.9.0 sends TLS records in several TCP
                // segments without TCP_NODELAY, so each round trip waits out a delayed ACK
                // (measured: 673 cases/s against 7,392 plain; transact-rs/sqlx#4335). A remote
                // server gets sqlx's default (`prefer`); production names `verify-full`.
                if !url.contains("sslmode=") && is_loopback(opts.get_host()) {
                    opts = opts.ssl_mode(sqlx::postgres::PgSslMode::Disable);
                }
                if let Some(s) = schema {
                    opts = opts.options([("search_path", s.as_str())]);
                }
                let pool = PgPoolOptions::new().max_connections(16).connect_with(opts).await?;
                Db::Postgres(pool)
            }
        };
        if let Db::Postgres(_) = db {
            migrate::apply(&db).await?;
        }
        let mut reader = None;
        let writer = match (&db, location) {
            (Db::Sqlite(_), Location::SqliteFile(path)) => {
                reader = Some(SqliteReader::start(path)?);
                writer::Writer::Sqlite(SqliteWriter::start(path)?)
            }
            (Db::Postgres(pool), _) => {
                writer::Writer::Postgres(pg_writer::PgWriter::start(pool.connect_options().as_ref().clone()).await?)
            }
            (Db::Sqlite(_), Location::Postgres { .. }) => {
                return Err(StoreError::Database("a PostgreSQL location opened as SQLite".into()));
            }
        };
        Ok(Store { db, writer, reader })
    }

    /// The SQLite read connections for hot-path counts (None on PostgreSQL).
    pub(crate) fn hot_reader(&self) -> Option<&SqliteReader> {
        self.reader.as_ref()
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn backend(&self) -> &'static str {
        self.db.backend()
    }

    /// Executes a unit atomically; concurrent units share one durable commit.
    pub async fn write(&self, unit: Unit) -> StoreResult<()> {
        self.writer.submit(unit).await
    }

    /// Stops the writer (after the units already queued commit) and closes the pools.
    pub async fn close(&self) {
        self.writer.close().await;
        match &self.db {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

/// A host on this machine: a loopback address, `localhost`, or a Unix socket directory.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.starts_with('/')
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Creates a PostgreSQL schema for an isolated test database and returns its location.
pub async fn create_test_schema(url: &str, schema: &str) -> StoreResult<Location> {
    let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"")))
        .execute(&pool)
        .await?;
    pool.close().await;
    Ok(Location::Postgres {
        url: url.to_string(),
        schema: Some(schema.to_string()),
    })
}

/// Drops a test schema.
pub async fn drop_test_schema(url: &str, schema: &str) -> StoreResult<()> {
    let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
    )))
    .execute(&pool)
    .await?;
    pool.close().await;
    Ok(())
}

/// The canonical text of an instant: RFC 3339, UTC, microseconds (sorts as text), e.g.
/// `2026-02-02T05:00:00.000000Z`. Written directly (it is on every write's path); the test
/// holds it to jiff's `%Y-%m-%dT%H:%M:%S%.6fZ`.
pub fn instant(t: jiff::Timestamp) -> String {
    let dt = jiff::tz::Offset::UTC.to_datetime(t);
    // Digits written in place (this runs several times for every case): the formatting machinery
    // with its padding cost ten times as much. Years outside 0000–9999 are not instants Koshi
    // records; they are written as `format!` would, and the test holds both to jiff's text.
    let year = i32::from(dt.year());
    if !(0..=9999).contains(&year) {
        return format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.subsec_nanosecond() / 1000
        );
    }
    let mut b = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut n: u32| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year.unsigned_abs());
    put(5, 2, u32::from(dt.month().unsigned_abs()));
    put(8, 2, u32::from(dt.day().unsigned_abs()));
    put(11, 2, u32::from(dt.hour().unsigned_abs()));
    put(14, 2, u32::from(dt.minute().unsigned_abs()));
    put(17, 2, u32::from(dt.second().unsigned_abs()));
    put(20, 6, (dt.subsec_nanosecond() / 1000).unsigned_abs());
    std::str::from_utf8(&b).map(str::to_owned).unwrap_or_default()
}

/// Parses the canonical text back.
pub fn parse_instant(s: &str) -> StoreResult<jiff::Timestamp> {
    s.parse()
        .map_err(|e| StoreError::Database(format!("bad instant {s:?} in the database: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn instants_are_written_as_jiff_writes_them() {
        let mut t = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        for step in [
            0i64,
            1,
            999,
            1_000,
            123_456_789,
            86_399_999_999_999,
            31_622_400_000_000_007,
        ] {
            t = t.checked_add(jiff::SignedDuration::from_nanos(step)).unwrap();
            assert_eq!(super::instant(t), t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
            assert_eq!(
                super::parse_instant(&super::instant(t)).unwrap().as_microsecond(),
                t.as_microsecond()
            );
        }
        let epoch = jiff::Timestamp::UNIX_EPOCH;
        assert_eq!(super::instant(epoch), "1970-01-01T00:00:00.000000Z");
    }
}
