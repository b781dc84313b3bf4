//! The PostgreSQL store (feature `postgres`): many stateless servers on one database.
//!
//! The schema (see `schema`) keeps the SQLite store's design — interned names, one pack per
//! (target, metric, label) with its totals beside it, the same codec — in a `series` table
//! partitioned by target. Writers take one advisory lock per batch, so jobs of several
//! processes interleave safely by whole batches; readers run on a pool of connections (or on
//! read replicas), each read in one repeatable-read snapshot, and never wait for a writer.
//!
//! Mobile tables (`write_mobile`) are `targets` rows of their own prefix code without a
//! partition of `series`, their rows one `mobile_rows` row each (see `mobile`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};

use postgres::{Client, NoTls};

use super::{Batch, FilterOptions, QueryRow, Selection, SeriesQuery, Store, WriteReport};
use crate::error::Result;
use crate::histogram::Histogram;
use crate::keys::{DateVersion, Prefix, SeriesKey, Target};
use crate::mobile::{MobileBatch, MobileHistogram, MobileKey};
use crate::store::packed::names::Names;

mod fault;
mod location;
mod mobile;
mod pool;
mod read;
mod schema;
mod write;

use fault::relabel;
use location::Location;
use pool::{pool, Pool, Statements};
use read::{Snapshot, TableIds};
pub use schema::PG_SCHEMA_VERSION;
use write::WriteCache;

/// A [`Store`] in a PostgreSQL database (feature `postgres`).
///
/// [`PostgresStore::open`] creates (or migrates) the `mozaggregator` schema inside an existing
/// database; creating the database itself is the operator's job. `Send + Sync`: reads use a
/// pool of connections, each read one snapshot; writes from any number of processes are
/// serialised per batch by an advisory lock, each batch one transaction.
pub struct PostgresStore {
    primary: Pool,
    replicas: Vec<Pool>,
    next_replica: AtomicUsize,
    names: RwLock<Names>,
    table_ids: Mutex<TableIds>,
    writer: Mutex<WriteCache>,
    shown: String,
}

impl PostgresStore {
    /// Opens the store in the database at `url` (`postgres://user:password@host:port/db`),
    /// creating or migrating its schema.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for a URL that cannot be parsed; [`crate::Error::Store`] when
    /// the database cannot be reached ([`crate::StoreErrorKind::Unavailable`]) or refuses the
    /// login, when its `mozaggregator` schema is not a store; [`crate::Error::SchemaTooNew`]
    /// for a schema written by a newer build. Messages never contain the password.
    pub fn open(url: &str) -> Result<Self> {
        Self::open_with_replicas(url, &[])
    }

    /// Like [`PostgresStore::open`], reading from `replicas` (read replicas of the same
    /// database, in turn) and writing to `url`. The data version is always read from `url`,
    /// so an ETag never runs ahead of the data a replica has.
    ///
    /// # Errors
    /// As [`PostgresStore::open`], for each URL.
    pub fn open_with_replicas(url: &str, replicas: &[String]) -> Result<Self> {
        let location = Location::parse(url)?;
        let shown = location.shown.clone();
        let result = (|| {
            {
                // A direct connection first: its error says why (refused, authentication).
                let mut client = location.config.connect(NoTls)?;
                let mut tx = client.transaction()?;
                schema::migrate(&mut tx)?;
                tx.commit()?;
            }
            let primary = pool(&location);
            let replicas = replicas
                .iter()
                .map(|url| {
                    let replica = Location::parse(url)?;
                    replica
                        .config
                        .connect(NoTls)
                        .map_err(|e| relabel(e.into(), &replica.shown))?;
                    Ok(pool(&replica))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(PostgresStore {
                primary,
                replicas,
                next_replica: AtomicUsize::new(0),
                names: RwLock::new(Names::default()),
                table_ids: Mutex::new(TableIds::default()),
                writer: Mutex::new(WriteCache::default()),
                shown: shown.clone(),
            })
        })();
        result.map_err(|e| relabel(e, &shown))
    }

    /// The database's URL, without its password.
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// The pool reads go to: the next replica in turn, else the primary.
    fn read_pool(&self) -> &Pool {
        if self.replicas.is_empty() {
            return &self.primary;
        }
        let i = self.next_replica.fetch_add(1, Ordering::Relaxed) % self.replicas.len();
        &self.replicas[i]
    }

    /// Runs `f` in a read-only repeatable-read transaction (one snapshot) with the interned
    /// names complete for it.
    fn read<T>(
        &self,
        f: impl FnOnce(&mut Client, &mut Statements, &Snapshot<'_>, &Names) -> Result<T>,
    ) -> Result<T> {
        let run = || -> Result<T> {
            let mut conn = self.read_pool().get()?;
            let (client, statements) = conn.parts()?;
            let result = (|| {
                let version = read::begin_snapshot(client)?;
                let fresh = self
                    .names
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .is_fresh_for(version);
                if !fresh {
                    let mut names = self.names.write().unwrap_or_else(PoisonError::into_inner);
                    if !names.is_fresh_for(version) {
                        read::refresh(&mut names, client, version)?;
                    }
                }
                let names = self.names.read().unwrap_or_else(PoisonError::into_inner);
                let snapshot = Snapshot {
                    version,
                    table_ids: &self.table_ids,
                };
                f(client, statements, &snapshot, &names)
            })();
            match result {
                Ok(value) => {
                    client.batch_execute("COMMIT")?;
                    Ok(value)
                }
                Err(e) => {
                    // A connection goes back to the pool outside any transaction (or broken).
                    let _ = client.batch_execute("ROLLBACK");
                    Err(e)
                }
            }
        };
        run().map_err(|e| relabel(e, &self.shown))
    }

    fn writer(&self) -> MutexGuard<'_, WriteCache> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one write (`write`: a transaction on the primary with the interning cache), off
    /// the async runtime; a failed write clears the cache, since the ids a transaction that
    /// did not commit interned must not be reused.
    fn writing(
        &self,
        write: impl FnOnce(&mut Client, &mut WriteCache) -> Result<WriteReport> + Send,
    ) -> Result<WriteReport> {
        off_runtime(|| {
            let mut cache = self.writer();
            let result = (|| {
                let mut conn = self.primary.get()?;
                write(conn.client()?, &mut cache)
            })();
            if result.is_err() {
                cache.clear();
            }
            result.map_err(|e| relabel(e, &self.shown))
        })
    }
}

/// Runs `f` on the calling thread, or on a new scoped thread when the caller is a worker of an
/// async (tokio) runtime: the synchronous client drives its connection with a runtime of its
/// own, which cannot start inside another.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio_rt::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|scope| match scope.spawn(f).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

impl Store for PostgresStore {
    fn replicates(&self, _: &SeriesQuery) -> Result<Option<super::ReplicateRows>> {
        Err(crate::Error::NoReplicates(
            "the PostgreSQL store does not keep replicate groups yet".to_string(),
        ))
    }

    fn write(&self, batch: &Batch) -> Result<WriteReport> {
        if batch.replicates.is_some() {
            return Err(crate::Error::NoReplicates(
                "the PostgreSQL store does not keep replicate groups yet: aggregate into SQLite \
                 to use --replicates"
                    .to_string(),
            ));
        }
        self.writing(|client, cache| write::write(client, cache, batch))
    }

    fn channels(&self, prefix: Prefix) -> Result<Vec<String>> {
        off_runtime(|| self.read(|tx, _, _, _| read::channels(tx, prefix)))
    }

    fn dates(&self, prefix: Prefix, channel: &str) -> Result<Vec<DateVersion>> {
        off_runtime(|| self.read(|tx, _, _, _| read::dates(tx, prefix, channel)))
    }

    fn filter_options(&self, channel: &str, version: &str) -> Result<Option<FilterOptions>> {
        off_runtime(|| {
            self.read(|tx, _, _, names| read::filter_options(tx, names, channel, version))
        })
    }

    fn query(&self, query: &SeriesQuery) -> Result<Vec<QueryRow>> {
        off_runtime(|| {
            self.read(|tx, statements, snapshot, names| {
                read::query(tx, statements, snapshot, names, query)
            })
        })
    }

    fn absorbed(&self, target: &Target) -> Result<std::collections::BTreeSet<crate::date::Date>> {
        off_runtime(|| self.read(|tx, _, _, _| read::absorbed(tx, target)))
    }

    fn trim(&self, cutoff: crate::date::Date, dry_run: bool) -> Result<Vec<Target>> {
        off_runtime(|| {
            let _writer = self.writer();
            let result = (|| {
                let mut conn = self.primary.get()?;
                write::trim(conn.client()?, cutoff, dry_run)
            })();
            result.map_err(|e| relabel(e, &self.shown))
        })
    }

    fn data_version(&self) -> Result<u64> {
        off_runtime(|| {
            let result = (|| {
                // One statement: its own snapshot, no transaction around it.
                let mut conn = self.primary.get()?;
                read::stored_version(conn.client()?)
            })();
            result.map_err(|e| relabel(e, &self.shown))
        })
    }

    fn stats(&self) -> Result<super::StoreStats> {
        off_runtime(|| self.read(|tx, _, _, _| read::stats(tx)))
    }

    /// Runs on the calling thread, which must not be an async runtime's worker (the visitor
    /// need not be `Send`, so it cannot move to another thread).
    fn scan(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(&Target, &SeriesKey, &Histogram) -> Result<()>,
    ) -> Result<()> {
        // The visitor's own errors pass through as they are (they may come from another
        // store); only this store's are relabelled.
        let mut failed = None;
        let result = self.read(|tx, _, _, names| {
            read::scan(tx, names, selection, &mut |target, key, histogram| {
                visit(target, key, histogram).map_err(|e| {
                    failed = Some(e);
                    crate::Error::invalid("scan", "stopped by its visitor")
                })
            })
        });
        match failed {
            Some(e) => Err(e),
            None => result,
        }
    }

    fn write_mobile(&self, batch: &MobileBatch) -> Result<WriteReport> {
        self.writing(|client, cache| mobile::write(client, cache, batch))
    }

    /// Runs on the calling thread, which must not be an async runtime's worker (as
    /// [`Store::scan`]).
    fn scan_mobile(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(&Target, &MobileKey, &MobileHistogram) -> Result<()>,
    ) -> Result<()> {
        // The visitor's own errors pass through as they are; only this store's are relabelled.
        let mut failed = None;
        let result = self.read(|tx, _, _, _| {
            mobile::scan(tx, selection, &mut |target, key, histogram| {
                visit(target, key, histogram).map_err(|e| {
                    failed = Some(e);
                    crate::Error::invalid("scan", "stopped by its visitor")
                })
            })
        });
        match failed {
            Some(e) => Err(e),
            None => result,
        }
    }
}
