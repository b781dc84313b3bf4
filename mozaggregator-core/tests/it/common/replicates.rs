//! Stores with replicate groups built by hand, for the tests of `ci=` (core and HTTP).

use std::collections::BTreeMap;

use mozaggregator_core::store::ReplicateTables;
use mozaggregator_core::*;

/// One row: a series key and its histogram.
pub type Row = (SeriesKey, Histogram);

/// A batch of `target`'s date whose table holds every group's rows plus `outside` (pings
/// without a client id, in no group), and whose replicate tables hold each group's rows.
/// `groups.len()` is R. Rows of the same key are merged, as ingest merges them.
pub fn replicated_batch(target: &Target, groups: Vec<Vec<Row>>, outside: Vec<Row>) -> Batch {
    let count = ReplicateCount::new(u32::try_from(groups.len()).unwrap()).unwrap();
    let mut tables = ReplicateTables::new(count);
    let mut all: Vec<Row> = outside;
    for (g, rows) in groups.into_iter().enumerate() {
        let rows = merged(rows);
        all.extend(rows.iter().cloned());
        tables.groups[g].insert(target.clone(), rows);
    }
    let mut batch = Batch::new(target.date);
    batch.tables.insert(target.clone(), merged(all));
    batch.replicates = Some(tables);
    batch
}

/// The rows with those of the same key merged.
pub fn merged(rows: Vec<Row>) -> Vec<Row> {
    let mut by_key: BTreeMap<SeriesKey, Histogram> = BTreeMap::new();
    for (key, h) in rows {
        match by_key.get_mut(&key) {
            Some(into) => into.merge(&h).unwrap(),
            None => {
                by_key.insert(key, h);
            }
        }
    }
    by_key.into_iter().collect()
}

/// A histogram of `layout` with `counts` (bucket index, samples), `sum` and one ping.
pub fn histogram(layout: LayoutSpec, counts: &[(usize, u64)], sum: u64) -> Histogram {
    let mut dense = vec![0; layout.len()];
    for (i, n) in counts {
        dense[*i] += n;
    }
    let mut h = Histogram::empty(layout);
    h.add_dense(&dense, sum).unwrap();
    h
}

/// The submission-date target of nightly 42 on `date`.
pub fn nightly_42(date: &str) -> Target {
    Target {
        prefix: Prefix::SubmissionDate,
        channel: "nightly".into(),
        version: "42".into(),
        date: date.parse().unwrap(),
    }
}

/// A key of `metric` and `label` in the parent process on `os`.
pub fn key_on(metric: &str, label: &str, os: &str) -> SeriesKey {
    SeriesKey {
        metric: metric.into(),
        label: label.into(),
        process: Process::Parent,
        dims: Dims {
            application: "Firefox".into(),
            architecture: "x86-64".into(),
            os: os.into(),
            os_version: "1".into(),
        },
    }
}
