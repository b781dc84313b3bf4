//! The embedded SQLite store.
//!
//! One database file holds every target table (see `docs/store.md` for the schema). Dimension
//! values are interned into small tables; each series is one row of a `WITHOUT ROWID` table
//! keyed by (target, metric, label, process, dims, layout), so a metric query is one primary-key
//! range scan per date. Histograms are compact varint BLOBs (see `codec`). Writes run in one
//! transaction each, merge in Rust and maintain the `/filters/` options; readers use a small
//! pool of read-only connections beside the writer (WAL).
//!
//! Mobile tables (`write_mobile`) are `targets` rows of their own prefix code, their rows one
//! `mobile_rows` row each (see `mobile`); they have no series, totals or filter options.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::{
    Batch, FilterOptions, QueryRow, Selection, SeriesQuery, Store, StoreStats, WriteReport,
};
use crate::date::Date;
use crate::error::{Backend, Error, Result, StoreError, StoreErrorKind};
use crate::histogram::Histogram;
use crate::keys::{DateVersion, Prefix, SeriesKey, Target};
use crate::mobile::{MobileBatch, MobileHistogram, MobileKey};

mod cache;
mod fault;
mod mobile;
mod pool;
mod read;
mod schema;
mod write;

use super::packed::codec;
use super::packed::codes::prefix_code;
use super::packed::names::Names;
use cache::WriteCache;
use fault::{corrupt, file_fault, is_busy, open_error};
use pool::Pool;
pub use schema::SCHEMA_VERSION;

/// Dates are stored as their `YYYYMMDD` text (read back with `read::date_at`).
impl rusqlite::ToSql for Date {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.to_string().into())
    }
}

/// Largest number of idle reader connections kept open.
const MAX_IDLE_READERS: usize = 8;

/// A [`Store`] in one SQLite database file (feature `sqlite`, on by default).
///
/// `Send + Sync`: writes are serialised on one writer connection; reads run concurrently on a
/// small pool of read-only connections and each sees one consistent snapshot (never half a
/// write). Several processes may open the same file: one writes at a time (others wait), readers
/// are never blocked. A process killed during a write leaves the store as it was before or after
/// that write.
///
/// ```
/// use mozaggregator_core::{Batch, Dims, Histogram, LayoutSpec, Prefix, Process, SeriesKey,
///     SqliteStore, Store, Target};
/// let dir = tempfile::tempdir().unwrap();
/// let store = SqliteStore::open(dir.path().join("aggregates.sqlite")).unwrap();
/// let target = Target { prefix: Prefix::SubmissionDate, channel: "nightly".into(),
///     version: "42".into(), date: "20150601".parse().unwrap() };
/// let key = SeriesKey { metric: "GC_MS".into(), label: "".into(), process: Process::Parent,
///     dims: Dims::default() };
/// let mut h = Histogram::empty(LayoutSpec::scalar());
/// h.record(42).unwrap();
/// let mut batch = Batch::new("20150601".parse().unwrap());
/// batch.tables.insert(target.clone(), vec![(key, h)]);
/// assert_eq!(store.write(&batch).unwrap().rows_written, 1);
/// // The same submission date again changes nothing.
/// assert_eq!(store.write(&batch).unwrap().targets_skipped, vec![target]);
/// assert_eq!(store.channels(Prefix::SubmissionDate).unwrap(), vec!["nightly"]);
/// ```
pub struct SqliteStore {
    writer: Mutex<Writer>,
    readers: Option<Pool>,
    cache: RwLock<Names>,
    path: Option<PathBuf>,
    /// How long a write retries while another process holds the store locked (milliseconds).
    lock_wait_ms: AtomicU64,
}

struct Writer {
    conn: Connection,
    cache: WriteCache,
}

impl SqliteStore {
    /// Opens the store at `path`, creating it (and its schema) if the file does not exist and
    /// migrating an older schema forward.
    ///
    /// # Errors
    /// [`Error::SchemaTooNew`] for a store written by a newer build; [`Error::Store`] for a file
    /// that is not a mozaggregator store ([`StoreErrorKind::NotAStore`]) and for I/O and database
    /// errors (of their [`StoreErrorKind`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let conn = open_writer(&path)?;
        Ok(Self {
            writer: Mutex::new(Writer {
                conn,
                cache: WriteCache::default(),
            }),
            readers: Some(Pool::new(path.clone(), MAX_IDLE_READERS)),
            cache: RwLock::new(Names::default()),
            path: Some(path),
            lock_wait_ms: AtomicU64::new(LOCK_WAIT_MS),
        })
    }

    /// A store in memory (for tests and notebooks). It has one connection, so reads wait for
    /// writes instead of running beside them.
    ///
    /// # Errors
    /// [`Error::Store`] when SQLite cannot allocate the database.
    pub fn open_in_memory() -> Result<Self> {
        let mut conn = Connection::open_in_memory()?;
        schema::configure(&conn)?;
        schema::migrate(&mut conn)?;
        Ok(Self {
            writer: Mutex::new(Writer {
                conn,
                cache: WriteCache::default(),
            }),
            readers: None,
            cache: RwLock::new(Names::default()),
            path: None,
            lock_wait_ms: AtomicU64::new(LOCK_WAIT_MS),
        })
    }

    /// How long a write waits for another process that holds the store locked before it
    /// fails with an error naming the file (default 60 s).
    ///
    /// # Errors
    /// [`Error::Store`] when SQLite refuses the setting.
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<()> {
        self.writer().conn.busy_timeout(timeout)?;
        let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self.lock_wait_ms.store(millis, Ordering::Relaxed);
        Ok(())
    }

    fn lock_wait(&self) -> Duration {
        Duration::from_millis(self.lock_wait_ms.load(Ordering::Relaxed))
    }

    /// The database file, `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Runs SQLite's `PRAGMA integrity_check` (reads the whole file: slow on big stores).
    ///
    /// # Errors
    /// [`Error::Store`] ([`StoreErrorKind::Corrupt`]) listing the problems found, or why it
    /// cannot run.
    pub fn integrity_check(&self) -> Result<()> {
        let writer = self.writer();
        let mut stmt = writer.conn.prepare("PRAGMA integrity_check")?;
        let problems: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<_>>()?;
        if problems == ["ok"] {
            Ok(())
        } else {
            Err(corrupt(format!(
                "integrity check failed: {}",
                problems.join("; ")
            )))
        }
    }

    /// Copies the write-ahead log into the database file and truncates the log, so the file
    /// alone holds everything (before copying it elsewhere, or to measure its size).
    ///
    /// # Errors
    /// [`Error::Store`] when the checkpoint cannot run, or ([`StoreErrorKind::Locked`]) when readers kept
    /// it from completing.
    pub fn checkpoint(&self) -> Result<()> {
        let writer = self.writer();
        let busy: i64 = writer
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy != 0 {
            return Err(StoreError::new(
                Backend::Sqlite,
                StoreErrorKind::Locked,
                "checkpoint incomplete: readers are using the log",
            )
            .into());
        }
        Ok(())
    }

    /// An error of the file itself as an error naming the file and what to do: a lock (another
    /// process kept the store busy beyond the busy timeout), or a read-only, full or damaged
    /// file (see [`file_fault`]); other errors unchanged.
    fn name_file(&self, err: Error) -> Error {
        match &self.path {
            Some(path) => file_fault(path, err),
            None => err,
        }
    }

    fn writer(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` in a read transaction (one snapshot) with the interning cache complete for it.
    ///
    /// `BEGIN` and `COMMIT` are cached statements: parsing them anew on every read was a
    /// measurable part of a short query.
    fn read<T>(&self, f: impl FnOnce(&Connection, &Names) -> Result<T>) -> Result<T> {
        let run = |conn: &mut Connection| -> Result<T> {
            conn.prepare_cached("BEGIN")?.execute([])?;
            let result = self.read_in(conn, f);
            // Ending a read transaction cannot lose anything; a connection left inside one
            // is not returned to the pool (see `Pooled`).
            let end = conn
                .prepare_cached("COMMIT")
                .and_then(|mut s| s.execute([]));
            let value = result?;
            end?;
            Ok(value)
        };
        let result = match &self.readers {
            Some(pool) => pool.get().and_then(|mut conn| run(&mut conn)),
            None => run(&mut self.writer().conn),
        };
        result.map_err(|e| self.name_file(e))
    }

    /// The body of [`Self::read`], inside its transaction.
    fn read_in<T>(
        &self,
        tx: &Connection,
        f: impl FnOnce(&Connection, &Names) -> Result<T>,
    ) -> Result<T> {
        let version = read::stored_version(tx)?;
        let fresh = self
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_fresh_for(version);
        if !fresh {
            let mut names = self.cache.write().unwrap_or_else(PoisonError::into_inner);
            if !names.is_fresh_for(version) {
                cache::refresh(&mut names, tx, version)?;
            }
        }
        let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
        f(tx, &cache)
    }
}

impl Store for SqliteStore {
    fn write(&self, batch: &Batch) -> Result<WriteReport> {
        let mut writer = self.writer();
        let Writer { conn, cache } = &mut *writer;
        let lock_wait = self.lock_wait();
        retry_busy(lock_wait, || write::write(conn, cache, batch)).map_err(|e| self.name_file(e))
    }

    fn channels(&self, prefix: Prefix) -> Result<Vec<String>> {
        self.read(|tx, _| read::channels(tx, prefix))
    }

    fn dates(&self, prefix: Prefix, channel: &str) -> Result<Vec<DateVersion>> {
        self.read(|tx, _| read::dates(tx, prefix, channel))
    }

    fn filter_options(&self, channel: &str, version: &str) -> Result<Option<FilterOptions>> {
        self.read(|tx, cache| read::filter_options(tx, cache, channel, version))
    }

    fn query(&self, query: &SeriesQuery) -> Result<Vec<QueryRow>> {
        self.read(|tx, cache| read::query(tx, cache, query))
    }

    fn replicates(&self, query: &SeriesQuery) -> Result<Option<super::ReplicateRows>> {
        self.read(|tx, cache| read::replicates(tx, cache, query))
    }

    fn absorbed(&self, target: &Target) -> Result<std::collections::BTreeSet<Date>> {
        self.read(|tx, _| read::absorbed(tx, target))
    }

    fn trim(&self, cutoff: Date, dry_run: bool) -> Result<Vec<Target>> {
        let mut writer = self.writer();
        let lock_wait = self.lock_wait();
        retry_busy(lock_wait, || write::trim(&mut writer.conn, cutoff, dry_run))
            .map_err(|e| self.name_file(e))
    }

    fn data_version(&self) -> Result<u64> {
        self.read(|tx, _| read::stored_version(tx))
    }

    /// Counts from the store's tables: reads every row's entry headers, not the histograms.
    fn stats(&self) -> Result<StoreStats> {
        self.read(|tx, _| {
            let number = |sql: &str| -> Result<u64> {
                let n: i64 = tx.query_row(sql, [], |r| r.get(0))?;
                Ok(u64::try_from(n).unwrap_or(0))
            };
            let mobile = prefix_code(Prefix::MobileMetrics);
            let mut stats = StoreStats {
                targets: number(&format!(
                    "SELECT count(*) FROM targets WHERE prefix <> {mobile}"
                ))?,
                mobile_targets: number(&format!(
                    "SELECT count(*) FROM targets WHERE prefix = {mobile}"
                ))?,
                mobile_rows: number("SELECT count(*) FROM mobile_rows")?,
                bytes: Some(number("PRAGMA page_size")? * number("PRAGMA page_count")?),
                ..StoreStats::default()
            };
            let count_entries = |table: &str| -> Result<(u64, u64)> {
                let (mut rows, mut series) = (0, 0);
                let mut stmt = tx.prepare(&format!("SELECT data FROM {table}"))?;
                let mut cursor = stmt.query([])?;
                while let Some(row) = cursor.next()? {
                    rows += 1;
                    let data = row
                        .get_ref(0)?
                        .as_blob()
                        .map_err(|e| corrupt(format!("{table} data: {e}")))?;
                    for entry in codec::entries(data)? {
                        entry?;
                        series += 1;
                    }
                }
                Ok((rows, series))
            };
            (stats.rows, stats.series) = count_entries("series")?;
            (stats.replicate_rows, stats.replicate_series) = count_entries("replicate_series")?;
            Ok(stats)
        })
    }

    fn scan(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(&Target, &SeriesKey, &Histogram) -> Result<()>,
    ) -> Result<()> {
        self.read(|tx, cache| read::scan(tx, cache, selection, visit))
    }

    fn write_mobile(&self, batch: &MobileBatch) -> Result<WriteReport> {
        batch.check()?;
        let mut writer = self.writer();
        let Writer { conn, cache } = &mut *writer;
        let lock_wait = self.lock_wait();
        retry_busy(lock_wait, || {
            write::in_transaction(conn, cache, |tx, cache| mobile::write_in(tx, cache, batch))
        })
        .map_err(|e| self.name_file(e))
    }

    fn scan_mobile(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(&Target, &MobileKey, &MobileHistogram) -> Result<()>,
    ) -> Result<()> {
        self.read(|tx, _| mobile::scan(tx, selection, visit))
    }
}

/// How long opening or writing a store retries while another process holds it locked, beyond
/// SQLite's own busy timeout (milliseconds; [`SqliteStore::set_busy_timeout`] changes it for
/// writes).
const LOCK_WAIT_MS: u64 = 60_000;

/// Runs `f` again while it fails with SQLite's "database is locked", for at most `wait`.
///
/// SQLite calls its busy handler (the busy timeout) for most lock waits, but not for all:
/// switching a new file to WAL, WAL recovery, and a writer starting while another process
/// closes the last connection (deleting the log) return "locked" at once. Each attempt is one
/// transaction that rolled back completely, so running it again is safe.
fn retry_busy<T>(wait: Duration, mut f: impl FnMut() -> Result<T>) -> Result<T> {
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(5);
    loop {
        match f() {
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

/// Opens the writer connection of a file store: configures it, switches the file to WAL and
/// creates or migrates the schema. Safe when several processes open (and create) the same file
/// at once: the whole sequence is retried while another opener holds the lock it needs
/// ([`retry_busy`]), and a lock held beyond that is reported with the path and the remedy.
fn open_writer(path: &Path) -> Result<Connection> {
    retry_busy(Duration::from_millis(LOCK_WAIT_MS), || {
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| open_error(path, e))?;
        schema::configure(&conn)?;
        schema::configure_writer(&conn)?;
        schema::migrate(&mut conn)?;
        Ok(conn)
    })
    .map_err(|e| file_fault(path, e))
}
