//! The in-memory reference store.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{PoisonError, RwLock};

use super::{
    check_row, check_target, Batch, FilterOptions, QueryRow, RowReject, Selection, SeriesQuery,
    Store, WriteReport,
};
use crate::date::Date;
use crate::error::Result;
use crate::filter::RowDims;
use crate::histogram::Histogram;
use crate::keys::{DateVersion, Prefix, SeriesKey, Target};
use crate::layout::LayoutSpec;

#[derive(Default)]
struct Table {
    absorbed: BTreeSet<Date>,
    rows: BTreeMap<(SeriesKey, LayoutSpec), Histogram>,
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
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let mut report = WriteReport::default();
        // Work on copies so that the write is all-or-nothing even if a later step fails.
        let mut staged: BTreeMap<Target, Table> = BTreeMap::new();
        for (target, rows) in &batch.tables {
            if let Err(reason) = check_target(target) {
                report.rows_rejected.add(reason, rows.len() as u64);
                continue;
            }
            let existing = inner.tables.get(target);
            if existing.is_some_and(|t| t.absorbed.contains(&batch.submission_date)) {
                report.targets_skipped.push(target.clone());
                continue;
            }
            let mut table = Table {
                absorbed: existing.map(|t| t.absorbed.clone()).unwrap_or_default(),
                rows: existing.map(|t| t.rows.clone()).unwrap_or_default(),
            };
            for (key, histogram) in rows {
                let verdict = check_row(target, key, histogram).and_then(|()| {
                    let slot = table
                        .rows
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
                    Ok(()) => report.rows_written += 1,
                    Err(reason) => report.rows_rejected.add(reason, 1),
                }
            }
            table.rows.retain(|_, h| !h.is_empty());
            table.absorbed.insert(batch.submission_date);
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
        let mut seen = BTreeSet::new();
        for date in &query.dates {
            if !seen.insert(date) {
                continue;
            }
            let target = Target {
                prefix: query.prefix,
                channel: query.channel.clone(),
                version: query.version.clone(),
                date: *date,
            };
            let Some(table) = inner.tables.get(&target) else {
                continue;
            };
            let mut groups: BTreeMap<(&str, LayoutSpec), Histogram> = BTreeMap::new();
            for ((key, layout), histogram) in &table.rows {
                if key.metric != query.metric || !query.filter.matches(&RowDims::of(key)) {
                    continue;
                }
                let group = groups
                    .entry((key.label.as_str(), *layout))
                    .or_insert_with(|| Histogram::empty(*layout));
                group.merge(histogram)?;
            }
            out.extend(groups.into_iter().map(|((label, _), histogram)| QueryRow {
                date: *date,
                label: label.to_string(),
                histogram,
            }));
        }
        Ok(out)
    }

    fn absorbed(&self, target: &Target) -> Result<BTreeSet<Date>> {
        Ok(self
            .read()
            .tables
            .get(target)
            .map(|t| t.absorbed.clone())
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
}
