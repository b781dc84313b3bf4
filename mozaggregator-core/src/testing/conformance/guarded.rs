//! A store that keeps something alive as long as itself (a temporary directory, a server).

use std::collections::BTreeSet;

use crate::date::Date;
use crate::error::Result;
use crate::histogram::Histogram;
use crate::keys::{DateVersion, Prefix, SeriesKey, Target};
use crate::mobile::{MobileBatch, MobileHistogram, MobileKey};
use crate::store::{
    Batch, FilterOptions, QueryRow, ReplicateRows, Selection, SeriesQuery, Store, StoreStats,
    WriteReport,
};

/// A [`Store`] together with a guard dropped after it, e.g. the temporary directory of a
/// file-backed store in a conformance factory:
///
/// ```
/// use mozaggregator_core::{SqliteStore, Store};
/// use mozaggregator_core::testing::conformance::{self, Guarded};
/// let factory = || {
///     let dir = tempfile::tempdir().unwrap();
///     let store = SqliteStore::open(dir.path().join("s.sqlite")).unwrap();
///     Box::new(Guarded { store, guard: dir }) as Box<dyn Store>
/// };
/// conformance::merge_on_write(&factory).unwrap();
/// ```
pub struct Guarded<S, G> {
    /// The store (dropped first).
    pub store: S,
    /// What the store needs to outlive it.
    pub guard: G,
}

impl<S: Store, G: Send + Sync> Store for Guarded<S, G> {
    fn write(&self, batch: &Batch) -> Result<WriteReport> {
        self.store.write(batch)
    }

    fn channels(&self, prefix: Prefix) -> Result<Vec<String>> {
        self.store.channels(prefix)
    }

    fn dates(&self, prefix: Prefix, channel: &str) -> Result<Vec<DateVersion>> {
        self.store.dates(prefix, channel)
    }

    fn filter_options(&self, channel: &str, version: &str) -> Result<Option<FilterOptions>> {
        self.store.filter_options(channel, version)
    }

    fn query(&self, query: &SeriesQuery) -> Result<Vec<QueryRow>> {
        self.store.query(query)
    }

    fn replicates(&self, query: &SeriesQuery) -> Result<Option<ReplicateRows>> {
        self.store.replicates(query)
    }

    fn absorbed(&self, target: &Target) -> Result<BTreeSet<Date>> {
        self.store.absorbed(target)
    }

    fn trim(&self, cutoff: Date, dry_run: bool) -> Result<Vec<Target>> {
        self.store.trim(cutoff, dry_run)
    }

    fn data_version(&self) -> Result<u64> {
        self.store.data_version()
    }

    fn write_mobile(&self, batch: &MobileBatch) -> Result<WriteReport> {
        self.store.write_mobile(batch)
    }

    fn scan_mobile(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(&Target, &MobileKey, &MobileHistogram) -> Result<()>,
    ) -> Result<()> {
        self.store.scan_mobile(selection, visit)
    }

    fn stats(&self) -> Result<StoreStats> {
        self.store.stats()
    }

    fn scan(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(&Target, &SeriesKey, &Histogram) -> Result<()>,
    ) -> Result<()> {
        self.store.scan(selection, visit)
    }
}
