//! The mobile checks of the conformance suite must catch broken stores: each mutant below
//! breaks one point of the contract's "Mobile rows" on top of the reference store, and the
//! check pinning that point must fail.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use mozaggregator_core::mobile::{MobileBatch, MobileHistogram, MobileKey};
use mozaggregator_core::store::ReplicateRows;
use mozaggregator_core::testing::conformance::{self, Check, CHECKS};
use mozaggregator_core::{
    Batch, Date, DateVersion, FilterOptions, Histogram, MemoryStore, Prefix, QueryRow, Result,
    Selection, SeriesKey, SeriesQuery, Store, StoreStats, Target, WriteReport,
};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mutation {
    NotMerged,
    LayoutsMerged,
    SkipsNotReported,
    EmptyTablesIgnored,
    RejectsNotCounted,
    EmptyRowsStored,
    BatchNotChecked,
    DesktopWriteTakesMobile,
    MobileChannelsHidden,
    TrimHidesMobile,
    ScanMobileReversed,
    ScanMobileIgnoresPrefix,
    StatsWithoutMobileRows,
    VersionIgnoresMobile,
}

struct Mutant {
    inner: MemoryStore,
    mutation: Mutation,
    /// Desktop writes and trims that changed something (for `VersionIgnoresMobile`).
    desktop_changes: AtomicU64,
}

impl Mutant {
    fn is(&self, m: Mutation) -> bool {
        self.mutation == m
    }
}

/// The same histogram without its layout (its bucket bounds kept as values).
fn without_layout(h: &MobileHistogram) -> MobileHistogram {
    let buckets = h.buckets().iter().map(|(b, n)| (*b, *n));
    MobileHistogram::from_parts(None, h.count(), h.sum(), buckets).unwrap()
}

impl Store for Mutant {
    fn write(&self, batch: &Batch) -> Result<WriteReport> {
        let mut batch = batch.clone();
        if self.is(Mutation::DesktopWriteTakesMobile) {
            batch.tables.retain(|t, _| t.prefix.is_desktop());
        }
        let report = self.inner.write(&batch)?;
        if report.targets_written > 0 {
            self.desktop_changes.fetch_add(1, Ordering::SeqCst);
        }
        Ok(report)
    }

    fn channels(&self, prefix: Prefix) -> Result<Vec<String>> {
        if self.is(Mutation::MobileChannelsHidden) && prefix == Prefix::MobileMetrics {
            return Ok(Vec::new());
        }
        self.inner.channels(prefix)
    }

    fn dates(&self, prefix: Prefix, channel: &str) -> Result<Vec<DateVersion>> {
        self.inner.dates(prefix, channel)
    }

    fn filter_options(&self, channel: &str, version: &str) -> Result<Option<FilterOptions>> {
        self.inner.filter_options(channel, version)
    }

    fn query(&self, query: &SeriesQuery) -> Result<Vec<QueryRow>> {
        self.inner.query(query)
    }

    fn replicates(&self, query: &SeriesQuery) -> Result<Option<ReplicateRows>> {
        self.inner.replicates(query)
    }

    fn absorbed(&self, target: &Target) -> Result<BTreeSet<Date>> {
        self.inner.absorbed(target)
    }

    fn trim(&self, cutoff: Date, dry_run: bool) -> Result<Vec<Target>> {
        let mut out = self.inner.trim(cutoff, dry_run)?;
        if !dry_run && !out.is_empty() {
            self.desktop_changes.fetch_add(1, Ordering::SeqCst);
        }
        if self.is(Mutation::TrimHidesMobile) {
            out.retain(|t| t.prefix.is_desktop());
        }
        Ok(out)
    }

    fn data_version(&self) -> Result<u64> {
        if self.is(Mutation::VersionIgnoresMobile) {
            return Ok(self.desktop_changes.load(Ordering::SeqCst));
        }
        self.inner.data_version()
    }

    fn stats(&self) -> Result<StoreStats> {
        let mut stats = self.inner.stats()?;
        if self.is(Mutation::StatsWithoutMobileRows) {
            stats.mobile_rows = 0;
        }
        Ok(stats)
    }

    fn scan(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(&Target, &SeriesKey, &Histogram) -> Result<()>,
    ) -> Result<()> {
        self.inner.scan(selection, visit)
    }

    fn write_mobile(&self, batch: &MobileBatch) -> Result<WriteReport> {
        let mut batch = batch.clone();
        for rows in batch.tables.values_mut() {
            if self.is(Mutation::NotMerged) {
                // Keeps the last row of each (key, layout) instead of merging them.
                let mut seen = BTreeSet::new();
                rows.reverse();
                rows.retain(|(k, h)| seen.insert((k.clone(), h.layout())));
            }
            if self.is(Mutation::LayoutsMerged) {
                for (_, h) in rows.iter_mut() {
                    *h = without_layout(h);
                }
            }
            if self.is(Mutation::EmptyRowsStored) {
                for (_, h) in rows.iter_mut() {
                    if h.is_empty() {
                        *h = MobileHistogram::from_parts(h.layout(), 1, 0, []).unwrap();
                    }
                }
            }
        }
        if self.is(Mutation::EmptyTablesIgnored) {
            batch.tables.retain(|_, rows| !rows.is_empty());
        }
        if self.is(Mutation::BatchNotChecked) {
            let date = batch.submission_date;
            batch
                .tables
                .retain(|t, _| t.prefix == Prefix::MobileMetrics && t.date == date);
        }
        let mut report = self.inner.write_mobile(&batch)?;
        if self.is(Mutation::SkipsNotReported) {
            report.targets_skipped.clear();
        }
        if self.is(Mutation::RejectsNotCounted) {
            report.rows_rejected.clear();
        }
        Ok(report)
    }

    fn scan_mobile(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(&Target, &MobileKey, &MobileHistogram) -> Result<()>,
    ) -> Result<()> {
        let mut selection = selection.clone();
        if self.is(Mutation::ScanMobileIgnoresPrefix) {
            selection.prefix = None;
        }
        if !self.is(Mutation::ScanMobileReversed) {
            return self.inner.scan_mobile(&selection, visit);
        }
        let mut all = Vec::new();
        self.inner.scan_mobile(&selection, &mut |t, k, h| {
            all.push((t.clone(), k.clone(), h.clone()));
            Ok(())
        })?;
        for (t, k, h) in all.iter().rev() {
            visit(t, k, h)?;
        }
        Ok(())
    }
}

fn check(name: &str) -> Check {
    CHECKS.iter().find(|(n, _)| *n == name).unwrap().1
}

#[test]
fn each_mobile_mutant_fails_its_check() {
    let cases = [
        (Mutation::NotMerged, "mobile_merge_on_write"),
        (Mutation::LayoutsMerged, "mobile_layouts_kept_apart"),
        (
            Mutation::SkipsNotReported,
            "mobile_idempotent_per_submission_date",
        ),
        (Mutation::EmptyTablesIgnored, "mobile_absorbed_without_rows"),
        (Mutation::RejectsNotCounted, "mobile_rejected_rows"),
        (Mutation::EmptyRowsStored, "mobile_empty_rows_not_stored"),
        (Mutation::BatchNotChecked, "mobile_batch_checked"),
        (Mutation::DesktopWriteTakesMobile, "mobile_refused_by_write"),
        (Mutation::MobileChannelsHidden, "mobile_tables_listed"),
        (Mutation::TrimHidesMobile, "mobile_trim"),
        (
            Mutation::ScanMobileReversed,
            "mobile_scan_order_and_selection",
        ),
        (
            Mutation::ScanMobileIgnoresPrefix,
            "mobile_scan_order_and_selection",
        ),
        (Mutation::StatsWithoutMobileRows, "mobile_stats_match_scan"),
        (Mutation::VersionIgnoresMobile, "mobile_data_version"),
    ];
    for (mutation, name) in cases {
        let factory = || {
            Box::new(Mutant {
                inner: MemoryStore::new(),
                mutation,
                desktop_changes: AtomicU64::new(0),
            }) as Box<dyn Store>
        };
        let failure = check(name)(&factory).expect_err(&format!("{mutation:?} passed {name}"));
        assert_eq!(failure.check, name, "{mutation:?}: {failure}");
        assert!(conformance::run_all(&factory).is_err(), "{mutation:?}");
    }
}
