//! The in-memory reference store.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{PoisonError, RwLock};

use super::replicates::{check_batch, query_count, target_count};
use super::{
    check_row, check_target, Batch, FilterOptions, QueryRow, ReplicateRows, RowReject, Selection,
    SeriesQuery, Store, StoreStats, WriteReport,
};
use crate::date::Date;
use crate::error::Result;
use crate::filter::RowDims;
use crate::histogram::Histogram;
use crate::keys::{DateVersion, Prefix, SeriesKey, Target};
use crate::layout::LayoutSpec;
use crate::mobile::{merge_mobile_rows, MobileBatch, MobileHistogram, MobileKey, MobileRows};
use crate::replicate::ReplicateCount;
use crate::tally::Tally;

type Rows = BTreeMap<(SeriesKey, LayoutSpec), Histogram>;

#[derive(Clone, Default)]
struct Table {
    /// Each absorbed submission date, with the R it was written with.
    absorbed: BTreeMap<Date, Option<ReplicateCount>>,
    rows: Rows,
    /// The replicate groups' rows (as many as the R of the dates absorbed with replicates).
    groups: Vec<Rows>,
    /// The rows of a mobile table (whose `rows` and `groups` stay empty).
    mobile: MobileRows,
}

/// Merges `rows` of `target` into `into` by the contract's rules; returns the rows written.
fn merge_rows(
    target: &Target,
    rows: &[(SeriesKey, Histogram)],
    into: &mut Rows,
    rejected: &mut Tally<RowReject>,
) -> u64 {
    let mut written = 0;
    for (key, histogram) in rows {
        let verdict = check_row(target, key, histogram).and_then(|()| {
            let slot = into
                .entry((key.clone(), histogram.layout()))
                .or_insert_with(|| Histogram::empty(histogram.layout()));
            let mut merged = slot.clone();
            merged
                .merge(histogram)
                .map_err(|_| RowReject::MergeOverflow)?;
            if merged.sum() > i64::MAX as u64 {
                return Err(RowReject::SumOutOfRange);
            }
            *slot = merged;
            Ok(())
        });
        match verdict {
            Ok(()) => written += 1,
            Err(reason) => rejected.add(reason, 1),
        }
    }
    into.retain(|_, h| !h.is_empty());
    written
}

/// The rows of `rows` a query reads for one date, merged per (label, layout).
fn query_rows(rows: &Rows, query: &SeriesQuery, date: Date) -> Result<Vec<QueryRow>> {
    let mut groups: BTreeMap<(&str, LayoutSpec), Histogram> = BTreeMap::new();
    for ((key, layout), histogram) in rows {
        if key.metric != query.metric || !query.filter.matches(&RowDims::of(key)) {
            continue;
        }
        let group = groups
            .entry((key.label.as_str(), *layout))
            .or_insert_with(|| Histogram::empty(*layout));
        group.merge(histogram)?;
    }
    Ok(groups
        .into_iter()
        .map(|((label, _), histogram)| QueryRow {
            date,
            label: label.to_string(),
            histogram,
        })
        .collect())
}

#[derive(Default)]
struct Inner {
    tables: BTreeMap<Target, Table>,
    version: u64,
}

/// A [`Store`] kept in memory: the reference implementation of the contract, for tests and
/// notebooks. Writes take a lock for their whole duration, so they are atomic to readers.
///
/// ```
/// use mozaggregator_core::{MemoryStore, Prefix, Store};
/// let store = MemoryStore::new();
/// assert!(store.channels(Prefix::BuildId).unwrap().is_empty());
/// ```
#[derive(Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Store for MemoryStore {
    fn write(&self, batch: &Batch) -> Result<WriteReport> {
        check_batch(batch)?;
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let mut report = WriteReport::default();
        let count = batch.replicates.as_ref().map(|r| r.count);
        // Work on copies so that the write is all-or-nothing even if a later step fails.
        let mut staged: BTreeMap<Target, Table> = BTreeMap::new();
        for (target, rows) in &batch.tables {
            let group_rows = batch.replicates.iter().flat_map(|r| &r.groups);
            let group_rows: Vec<&[(SeriesKey, Histogram)]> = group_rows
                .map(|g| g.get(target).map_or(&[][..], Vec::as_slice))
                .collect();
            if let Err(reason) = check_target(target) {
                report.rows_rejected.add(reason, rows.len() as u64);
                let n: usize = group_rows.iter().map(|g| g.len()).sum();
                report.replicate_rows_rejected.add(reason, n as u64);
                continue;
            }
            let existing = inner.tables.get(target);
            if existing.is_some_and(|t| t.absorbed.contains_key(&batch.submission_date)) {
                report.targets_skipped.push(target.clone());
                continue;
            }
            let mut table = existing.cloned().unwrap_or_default();
            report.rows_written +=
                merge_rows(target, rows, &mut table.rows, &mut report.rows_rejected);
            if table.groups.len() < group_rows.len() {
                table.groups.resize_with(group_rows.len(), Rows::default);
            }
            for (into, rows) in table.groups.iter_mut().zip(&group_rows) {
                report.replicate_rows_written +=
                    merge_rows(target, rows, into, &mut report.replicate_rows_rejected);
            }
            table.absorbed.insert(batch.submission_date, count);
            staged.insert(target.clone(), table);
            report.targets_written += 1;
        }
        if !staged.is_empty() {
            inner.tables.extend(staged);
            inner.version += 1;
        }
        Ok(report)
    }

    fn channels(&self, prefix: Prefix) -> Result<Vec<String>> {
        let inner = self.read();
        let set: BTreeSet<&String> = inner
            .tables
            .keys()
            .filter(|t| t.prefix == prefix)
            .map(|t| &t.channel)
            .collect();
        Ok(set.into_iter().cloned().collect())
    }

    fn dates(&self, prefix: Prefix, channel: &str) -> Result<Vec<DateVersion>> {
        let inner = self.read();
        let mut out: Vec<DateVersion> = inner
            .tables
            .keys()
            .filter(|t| t.prefix == prefix && t.channel == channel)
            .map(|t| DateVersion {
                date: t.date,
                version: t.version.clone(),
            })
            .collect();
        crate::keys::sort_dates(&mut out);
        Ok(out)
    }

    fn filter_options(&self, channel: &str, version: &str) -> Result<Option<FilterOptions>> {
        let inner = self.read();
        let mut options = FilterOptions::default();
        let mut any = false;
        for (target, table) in &inner.tables {
            if target.channel != channel || target.version != version {
                continue;
            }
            for (key, _) in table.rows.keys() {
                any = true;
                options.metric.insert(key.metric.clone());
                options.application.insert(key.dims.application.clone());
                options.architecture.insert(key.dims.architecture.clone());
                options
                    .os
                    .insert((key.dims.os.clone(), key.dims.os_version.clone()));
                options.child.insert(key.process);
            }
        }
        Ok(any.then_some(options))
    }

    fn query(&self, query: &SeriesQuery) -> Result<Vec<QueryRow>> {
        let inner = self.read();
        let mut out = Vec::new();
        for (target, table) in tables_of(&inner, query) {
            out.extend(query_rows(&table.rows, query, target.date)?);
        }
        Ok(out)
    }

    fn replicates(&self, query: &SeriesQuery) -> Result<Option<ReplicateRows>> {
        let inner = self.read();
        let tables = tables_of(&inner, query);
        let mut per_date = Vec::with_capacity(tables.len());
        for (target, table) in &tables {
            let r = target_count(target, table.absorbed.iter().map(|(d, r)| (*d, *r)))?;
            per_date.push((target.date, r));
        }
        let Some(count) = query_count(per_date)? else {
            return Ok(None);
        };
        let mut groups = vec![Vec::new(); count.get()];
        for (target, table) in tables {
            for (out, rows) in groups.iter_mut().zip(&table.groups) {
                out.extend(query_rows(rows, query, target.date)?);
            }
        }
        Ok(Some(ReplicateRows { count, groups }))
    }

    fn absorbed(&self, target: &Target) -> Result<BTreeSet<Date>> {
        Ok(self
            .read()
            .tables
            .get(target)
            .map(|t| t.absorbed.keys().copied().collect())
            .unwrap_or_default())
    }

    fn trim(&self, cutoff: Date, dry_run: bool) -> Result<Vec<Target>> {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let old: Vec<Target> = inner
            .tables
            .keys()
            .filter(|t| t.date < cutoff)
            .cloned()
            .collect();
        if !dry_run && !old.is_empty() {
            for t in &old {
                inner.tables.remove(t);
            }
            inner.version += 1;
        }
        Ok(old)
    }

    fn data_version(&self) -> Result<u64> {
        Ok(self.read().version)
    }

    fn stats(&self) -> Result<StoreStats> {
        /// Distinct (metric, label) of series keys, in key order.
        fn rows<'a>(keys: impl Iterator<Item = &'a SeriesKey>) -> BTreeSet<(&'a str, &'a str)> {
            keys.map(|k| (k.metric.as_str(), k.label.as_str()))
                .collect()
        }
        let inner = self.read();
        let mut stats = StoreStats::default();
        for (target, table) in &inner.tables {
            if !target.prefix.is_desktop() {
                stats.mobile_targets += 1;
                stats.mobile_rows += table.mobile.len() as u64;
                continue;
            }
            stats.targets += 1;
            stats.series += table.rows.len() as u64;
            stats.rows += rows(table.rows.keys().map(|(k, _)| k)).len() as u64;
            let groups = table.groups.iter().flat_map(|g| g.keys().map(|(k, _)| k));
            stats.replicate_rows += rows(groups).len() as u64;
            stats.replicate_series += table.groups.iter().map(|g| g.len() as u64).sum::<u64>();
        }
        Ok(stats)
    }

    fn scan(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(&Target, &SeriesKey, &Histogram) -> Result<()>,
    ) -> Result<()> {
        let inner = self.read();
        for (target, table) in inner.tables.iter().filter(|(t, _)| selection.matches(t)) {
            for ((key, _), histogram) in &table.rows {
                visit(target, key, histogram)?;
            }
        }
        Ok(())
    }

    fn write_mobile(&self, batch: &MobileBatch) -> Result<WriteReport> {
        self.write_mobile_batch(batch)
    }

    fn scan_mobile(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(&Target, &MobileKey, &MobileHistogram) -> Result<()>,
    ) -> Result<()> {
        let inner = self.read();
        let tables = inner.tables.iter().filter(|(t, _)| selection.matches(t));
        for (target, table) in tables {
            for ((key, _), histogram) in &table.mobile {
                visit(target, key, histogram)?;
            }
        }
        Ok(())
    }
}

impl MemoryStore {
    fn write_mobile_batch(&self, batch: &MobileBatch) -> Result<WriteReport> {
        batch.check()?;
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let mut report = WriteReport::default();
        let mut staged: BTreeMap<Target, Table> = BTreeMap::new();
        for (target, rows) in &batch.tables {
            if let Err(reason) = check_target(target) {
                report.rows_rejected.add(reason, rows.len() as u64);
                continue;
            }
            let existing = inner.tables.get(target);
            if existing.is_some_and(|t| t.absorbed.contains_key(&batch.submission_date)) {
                report.targets_skipped.push(target.clone());
                continue;
            }
            let mut table = existing.cloned().unwrap_or_default();
            report.rows_written +=
                merge_mobile_rows(rows, &mut table.mobile, &mut report.rows_rejected);
            table.absorbed.insert(batch.submission_date, None);
            staged.insert(target.clone(), table);
            report.targets_written += 1;
        }
        if !staged.is_empty() {
            inner.tables.extend(staged);
            inner.version += 1;
        }
        Ok(report)
    }
}

/// The tables of a query's distinct dates that exist, in the order asked.
fn tables_of<'a>(inner: &'a Inner, query: &SeriesQuery) -> Vec<(Target, &'a Table)> {
    let mut seen = BTreeSet::new();
    query
        .dates
        .iter()
        .filter(|d| seen.insert(**d))
        .filter_map(|date| {
            let target = Target {
                prefix: query.prefix,
                channel: query.channel.clone(),
                version: query.version.clone(),
                date: *date,
            };
            inner.tables.get(&target).map(|t| (target, t))
        })
        .collect()
}
