//! Builders for the conformance checks: targets, keys, histograms, batches, and a naive model
//! of what a metric query must answer.

use std::collections::{BTreeMap, BTreeSet};

use super::Failure;
use crate::date::Date;
use crate::filter::{Filter, RowDims};
use crate::histogram::Histogram;
use crate::keys::{Dims, Prefix, Process, SeriesKey, Target};
use crate::layout::LayoutSpec;
use crate::mobile::{MobileBatch, MobileHistogram, MobileKey};
use crate::store::{Batch, QueryRow, Selection, SeriesQuery, Store};

/// The date `text` (a `YYYYMMDD` literal of the suite).
///
/// # Panics
/// When `text` is not a date: a mistake in the suite itself, never input.
pub fn date(text: &str) -> Date {
    Date::parse(text).unwrap_or_else(|e| panic!("conformance fixture: {e}"))
}

/// A target table.
pub fn target(prefix: Prefix, channel: &str, version: &str, date_text: &str) -> Target {
    Target {
        prefix,
        channel: channel.into(),
        version: version.into(),
        date: date(date_text),
    }
}

/// Dimension values.
pub fn dims(application: &str, architecture: &str, os: &str, os_version: &str) -> Dims {
    Dims {
        application: application.into(),
        architecture: architecture.into(),
        os: os.into(),
        os_version: os_version.into(),
    }
}

/// A series key.
pub fn key(metric: &str, label: &str, process: Process, dims: &Dims) -> SeriesKey {
    SeriesKey {
        metric: metric.into(),
        label: label.into(),
        process,
        dims: dims.clone(),
    }
}

/// A 20-bucket exponential layout.
pub fn layout_a() -> LayoutSpec {
    LayoutSpec::exponential(1, 1000, 20).unwrap_or_else(|_| LayoutSpec::flag())
}

/// A second layout, for "same key, different layout".
pub fn layout_b() -> LayoutSpec {
    LayoutSpec::linear(1, 100, 10).unwrap_or_else(|_| LayoutSpec::boolean())
}

/// A histogram over `layout` with the given (bucket, count) pairs. Buckets beyond the layout
/// are ignored.
pub fn hist(layout: LayoutSpec, buckets: &[(usize, u64)], sum: u64, count: u64) -> Histogram {
    let mut counts = vec![0; layout.len()];
    for &(i, c) in buckets {
        if let Some(slot) = counts.get_mut(i) {
            *slot = c;
        }
    }
    Histogram::from_parts(layout, counts, sum, count).unwrap_or_else(|_| Histogram::empty(layout))
}

/// A histogram whose numbers are derived from `seed` (so rows differ from each other).
pub fn seeded(layout: LayoutSpec, seed: u64) -> Histogram {
    let n = layout.len() as u64;
    hist(
        layout,
        &[
            ((seed % n) as usize, seed + 1),
            (((seed * 7 + 3) % n) as usize, 2 * seed + 5),
        ],
        seed * 13 + 1,
        seed % 5 + 1,
    )
}

/// A batch of one submission date.
pub fn batch(submission_date: &str, tables: Vec<(Target, Vec<(SeriesKey, Histogram)>)>) -> Batch {
    let mut b = Batch::new(date(submission_date));
    for (t, rows) in tables {
        b.tables.entry(t).or_default().extend(rows);
    }
    b
}

/// Everything the store holds, via [`Store::scan`] (for before/after comparisons).
pub fn dump(store: &dyn Store) -> Result<Vec<(Target, SeriesKey, Histogram)>, Failure> {
    let mut out = Vec::new();
    store
        .scan(&Default::default(), &mut |t, k, h| {
            out.push((t.clone(), k.clone(), h.clone()));
            Ok(())
        })
        .map_err(|e| Failure::new("dump", format!("scan failed: {e}")))?;
    Ok(out)
}

/// What `query` must answer over `rows` (each (target, key, histogram) stored once): the naive
/// definition of the contract.
pub fn expected(rows: &[(Target, SeriesKey, Histogram)], query: &SeriesQuery) -> Vec<QueryRow> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for date in &query.dates {
        if !seen.insert(date) {
            continue;
        }
        let mut groups: BTreeMap<(String, LayoutSpec), Histogram> = BTreeMap::new();
        for (t, k, h) in rows {
            let in_table = t.prefix == query.prefix
                && t.channel == query.channel
                && t.version == query.version
                && t.date == *date;
            if !in_table || k.metric != query.metric || !query.filter.matches(&RowDims::of(k)) {
                continue;
            }
            let g = groups
                .entry((k.label.clone(), h.layout()))
                .or_insert_with(|| Histogram::empty(h.layout()));
            // Fixture numbers are small: merging cannot overflow.
            let _ = g.merge(h);
        }
        out.extend(groups.into_iter().map(|((label, _), histogram)| QueryRow {
            date: *date,
            label,
            histogram,
        }));
    }
    out
}

/// A metric query.
pub fn query(
    prefix: Prefix,
    channel: &str,
    version: &str,
    dates: &[&str],
    metric: &str,
    filter: Filter,
) -> SeriesQuery {
    SeriesQuery {
        prefix,
        channel: channel.into(),
        version: version.into(),
        dates: dates.iter().map(|d| date(d)).collect(),
        metric: metric.into(),
        filter,
    }
}

/// A mobile table: (channel, full app version, submission date).
pub fn mobile_target(channel: &str, version: &str, date_text: &str) -> Target {
    target(Prefix::MobileMetrics, channel, version, date_text)
}

/// A mobile key of `metric` (keyed by `label`, in `process`) from build `build_id` of
/// `application` on `os` `os_version`, `arm64-v8a`.
pub fn mobile_key(
    build_id: &str,
    application: &str,
    os_version: &str,
    metric: &str,
    label: &str,
    process: &str,
) -> MobileKey {
    MobileKey {
        build_id: build_id.into(),
        application: application.into(),
        architecture: "arm64-v8a".into(),
        os: "Android".into(),
        os_version: os_version.into(),
        metric: metric.into(),
        key: label.into(),
        process: process.into(),
    }
}

/// A mobile row's histogram: `count` pings summing to `sum`, with samples per bucket *index*:
/// the index-th lower bound of `layout`, or the value `index` itself without a layout.
/// Indices beyond the layout are ignored.
pub fn mobile_hist(
    layout: Option<LayoutSpec>,
    buckets: &[(usize, u64)],
    sum: u64,
    count: u64,
) -> MobileHistogram {
    let bounds = layout.map(|l| l.bounds());
    let pairs = buckets.iter().filter_map(|&(i, n)| match &bounds {
        Some(b) => b.get(i).map(|&bound| (bound, n)),
        None => Some((i as u64, n)),
    });
    MobileHistogram::from_parts(layout, count, sum, pairs)
        .unwrap_or_else(|_| MobileHistogram::new(layout))
}

/// A mobile batch of one submission date (tables of the same target are concatenated).
pub fn mobile_batch(
    submission_date: &str,
    tables: Vec<(Target, Vec<(MobileKey, MobileHistogram)>)>,
) -> MobileBatch {
    let mut b = MobileBatch::new(date(submission_date));
    for (t, rows) in tables {
        b.tables.entry(t).or_default().extend(rows);
    }
    b
}

/// Every mobile row the store holds, via [`Store::scan_mobile`] of `selection`.
pub fn mobile_dump_of(
    store: &dyn Store,
    selection: &Selection,
) -> Result<Vec<(Target, MobileKey, MobileHistogram)>, Failure> {
    let mut out = Vec::new();
    store
        .scan_mobile(selection, &mut |t, k, h| {
            out.push((t.clone(), k.clone(), h.clone()));
            Ok(())
        })
        .map_err(|e| Failure::new("mobile_dump", format!("scan_mobile failed: {e}")))?;
    Ok(out)
}

/// Every mobile row the store holds (for before/after comparisons).
pub fn mobile_dump(
    store: &dyn Store,
) -> Result<Vec<(Target, MobileKey, MobileHistogram)>, Failure> {
    mobile_dump_of(store, &Selection::default())
}

/// What a store holds after writing `tables` (each table once): their rows merged per
/// (target, key, layout), empty ones left out, in the order [`Store::scan_mobile`] visits them
/// (target, key, then layout with `None` first).
pub fn mobile_model(
    tables: &[(Target, Vec<(MobileKey, MobileHistogram)>)],
) -> Vec<(Target, MobileKey, MobileHistogram)> {
    let mut merged: BTreeMap<(Target, MobileKey, Option<LayoutSpec>), MobileHistogram> =
        BTreeMap::new();
    for (t, rows) in tables {
        for (k, h) in rows {
            let slot = merged
                .entry((t.clone(), k.clone(), h.layout()))
                .or_insert_with(|| MobileHistogram::new(h.layout()));
            // Fixture numbers are small: merging cannot overflow.
            let _ = slot.merge(h);
        }
    }
    merged
        .into_iter()
        .filter(|(_, h)| !h.is_empty())
        .map(|((t, k, _), h)| (t, k, h))
        .collect()
}
