//! The conformance suite must catch broken stores: each mutant below breaks one rule of the
//! contract on top of the reference store, and the check pinning that rule must fail.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use mozaggregator_core::store::ReplicateRows;
use mozaggregator_core::testing::conformance::{self, Check, CHECKS};
use mozaggregator_core::{
    Batch, Date, DateVersion, Filter, FilterOptions, Histogram, MemoryStore, Prefix, QueryRow,
    Result, Selection, SeriesKey, SeriesQuery, Store, Target, WriteReport,
};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mutation {
    ChannelsUnsorted,
    DatesOldestFirst,
    IgnoresFilter,
    NotIdempotent,
    ConstantVersion,
    DryRunDrops,
    RepeatsDates,
    ScanReversed,
    OptionsWithoutChild,
    RejectsNothingCounted,
    LabelsUnsorted,
    EmptyRowsStored,
    EmptyTargetsIgnored,
    GroupsReversed,
    ReplicatesIgnoreFilter,
    ReplicatesWithoutCoverage,
}

struct Mutant {
    inner: MemoryStore,
    mutation: Mutation,
    fresh: AtomicU64,
}

impl Store for Mutant {
    fn write(&self, batch: &Batch) -> Result<WriteReport> {
        let mut batch = batch.clone();
        if self.mutation == Mutation::NotIdempotent {
            let n = self.fresh.fetch_add(1, Ordering::SeqCst);
            batch.submission_date =
                Date::from_ymd(1999, 1 + n as u32 / 28 % 12, 1 + n as u32 % 28)?;
        }
        if self.mutation == Mutation::EmptyRowsStored {
            for rows in batch.tables.values_mut() {
                for (_, h) in rows.iter_mut() {
                    if h.is_empty() {
                        let mut counts = vec![0; h.layout().len()];
                        counts[0] = 1;
                        *h = Histogram::from_parts(h.layout(), counts, 0, 0).unwrap();
                    }
                }
            }
        }
        if self.mutation == Mutation::EmptyTargetsIgnored {
            batch.tables.retain(|_, rows| !rows.is_empty());
        }
        let mut report = self.inner.write(&batch)?;
        if self.mutation == Mutation::RejectsNothingCounted {
            report.rows_rejected.clear();
        }
        Ok(report)
    }

    fn channels(&self, prefix: Prefix) -> Result<Vec<String>> {
        let mut out = self.inner.channels(prefix)?;
        if self.mutation == Mutation::ChannelsUnsorted {
            out.reverse();
        }
        Ok(out)
    }

    fn dates(&self, prefix: Prefix, channel: &str) -> Result<Vec<DateVersion>> {
        let mut out = self.inner.dates(prefix, channel)?;
        if self.mutation == Mutation::DatesOldestFirst {
            out.reverse();
        }
        Ok(out)
    }

    fn filter_options(&self, channel: &str, version: &str) -> Result<Option<FilterOptions>> {
        let mut out = self.inner.filter_options(channel, version)?;
        if self.mutation == Mutation::OptionsWithoutChild {
            if let Some(o) = out.as_mut() {
                o.child.clear();
            }
        }
        Ok(out)
    }

    fn query(&self, query: &SeriesQuery) -> Result<Vec<QueryRow>> {
        let mut q = query.clone();
        match self.mutation {
            Mutation::IgnoresFilter => q.filter = Filter::All,
            Mutation::RepeatsDates => {
                let mut out = Vec::new();
                for date in &query.dates {
                    q.dates = vec![*date];
                    out.extend(self.inner.query(&q)?);
                }
                return Ok(out);
            }
            _ => {}
        }
        let mut out = self.inner.query(&q)?;
        if self.mutation == Mutation::LabelsUnsorted {
            out.reverse();
        }
        Ok(out)
    }

    fn replicates(&self, query: &SeriesQuery) -> Result<Option<ReplicateRows>> {
        let mut q = query.clone();
        match self.mutation {
            Mutation::ReplicatesIgnoreFilter => q.filter = Filter::All,
            Mutation::ReplicatesWithoutCoverage => {
                // Answers even a table absorbed without replicates: empty groups, made up.
                if let Err(mozaggregator_core::Error::NoReplicates(_)) = self.inner.replicates(&q) {
                    let count = mozaggregator_core::ReplicateCount::new(4)?;
                    let groups = vec![Vec::new(); 4];
                    return Ok(Some(ReplicateRows { count, groups }));
                }
            }
            _ => {}
        }
        let mut out = self.inner.replicates(&q)?;
        if self.mutation == Mutation::GroupsReversed {
            if let Some(rows) = &mut out {
                rows.groups.reverse();
            }
        }
        Ok(out)
    }

    fn absorbed(&self, target: &Target) -> Result<BTreeSet<Date>> {
        self.inner.absorbed(target)
    }

    fn trim(&self, cutoff: Date, dry_run: bool) -> Result<Vec<Target>> {
        self.inner
            .trim(cutoff, dry_run && self.mutation != Mutation::DryRunDrops)
    }

    fn data_version(&self) -> Result<u64> {
        if self.mutation == Mutation::ConstantVersion {
            return Ok(7);
        }
        self.inner.data_version()
    }

    fn scan(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(&Target, &SeriesKey, &Histogram) -> Result<()>,
    ) -> Result<()> {
        if self.mutation != Mutation::ScanReversed {
            return self.inner.scan(selection, visit);
        }
        let mut all = Vec::new();
        self.inner.scan(selection, &mut |t, k, h| {
            all.push((t.clone(), k.clone(), h.clone()));
            Ok(())
        })?;
        all.reverse();
        for (t, k, h) in &all {
            visit(t, k, h)?;
        }
        Ok(())
    }

    fn write_mobile(&self, batch: &mozaggregator_core::mobile::MobileBatch) -> Result<WriteReport> {
        self.inner.write_mobile(batch)
    }

    fn scan_mobile(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(
            &Target,
            &mozaggregator_core::mobile::MobileKey,
            &mozaggregator_core::mobile::MobileHistogram,
        ) -> Result<()>,
    ) -> Result<()> {
        self.inner.scan_mobile(selection, visit)
    }
}

fn check(name: &str) -> Check {
    CHECKS.iter().find(|(n, _)| *n == name).unwrap().1
}

#[test]
fn each_mutant_fails_its_check() {
    let cases = [
        (Mutation::ChannelsUnsorted, "channels_sorted_per_prefix"),
        (Mutation::DatesOldestFirst, "dates_newest_first"),
        (Mutation::IgnoresFilter, "filters"),
        (Mutation::NotIdempotent, "idempotent_per_submission_date"),
        (Mutation::ConstantVersion, "data_version"),
        (Mutation::DryRunDrops, "trim"),
        (Mutation::RepeatsDates, "grouping_and_order"),
        (Mutation::ScanReversed, "scan_order_and_selection"),
        (Mutation::OptionsWithoutChild, "filter_options"),
        (Mutation::RejectsNothingCounted, "rejected_rows"),
        (Mutation::LabelsUnsorted, "grouping_and_order"),
        (Mutation::EmptyRowsStored, "empty_rows_not_stored"),
        (Mutation::EmptyTargetsIgnored, "absorbed_without_rows"),
        (Mutation::GroupsReversed, "replicate_groups"),
        (Mutation::ReplicatesIgnoreFilter, "replicate_groups"),
        (Mutation::ReplicatesWithoutCoverage, "replicate_coverage"),
    ];
    for (mutation, name) in cases {
        let factory = || {
            Box::new(Mutant {
                inner: MemoryStore::new(),
                mutation,
                fresh: AtomicU64::new(0),
            }) as Box<dyn Store>
        };
        let failure = check(name)(&factory).expect_err(&format!("{mutation:?} passed {name}"));
        assert_eq!(failure.check, name, "{mutation:?}: {failure}");
        assert!(conformance::run_all(&factory).is_err(), "{mutation:?}");
    }
}
