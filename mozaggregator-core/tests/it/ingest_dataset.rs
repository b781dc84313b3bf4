//! Aggregating the original service's test data set gives the counts and sums its own tests
//! expected (mozaggregator/tests in mozilla/python_mozaggregator), for both aggregate families.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use mozaggregator_core::testing::dataset::{self, expected_count, expected_simple_measure_count};
use mozaggregator_core::{Aggregates, BucketLayout, Histogram, LayoutSpec, Prefix, Process};

use crate::common::aggregate;

const TODAY: &str = "20240110";

/// (submission date, channel, version, date of the target, application, architecture, os,
/// os version) → (metric, label, process) → histogram.
type Index = BTreeMap<[String; 8], BTreeMap<(String, String, Process), Histogram>>;

/// The data set's pings and their aggregate, computed once for all tests of this file.
fn dataset_aggregates() -> &'static (Vec<String>, Aggregates) {
    static ONCE: OnceLock<(Vec<String>, Aggregates)> = OnceLock::new();
    ONCE.get_or_init(|| {
        let pings = dataset::pings(TODAY).unwrap();
        let aggregates = aggregate(&pings);
        (pings, aggregates)
    })
}

fn index(aggregates: &Aggregates, prefix: Prefix) -> Index {
    let mut out = Index::new();
    for batch in aggregates.batches().unwrap() {
        for (target, rows) in batch.tables.iter().filter(|(t, _)| t.prefix == prefix) {
            for (key, histogram) in rows {
                let group = [
                    batch.submission_date.to_string(),
                    target.channel.clone(),
                    target.version.clone(),
                    target.date.to_string(),
                    key.dims.application.clone(),
                    key.dims.architecture.clone(),
                    key.dims.os.clone(),
                    key.dims.os_version.clone(),
                ];
                let series = (key.metric.clone(), key.label.clone(), key.process);
                let previous = out
                    .entry(group)
                    .or_default()
                    .insert(series.clone(), histogram.clone());
                assert!(previous.is_none(), "one layout per series: {series:?}");
            }
        }
    }
    out
}

fn bucket(h: &Histogram, bound: u64) -> u64 {
    let layout = BucketLayout::new(h.layout());
    let i = layout.exact_index(bound).expect("a bound of the layout");
    h.counts()[i]
}

/// Checks every series of one aggregate key; `factor` is 1 for build-id aggregates and 2 for
/// submission-date aggregates (two build ids merged).
fn check_group(series: &BTreeMap<(String, String, Process), Histogram>, factor: u64) {
    let mut expected_keys = BTreeSet::new();
    let procs = [Process::Parent, Process::Content, Process::Gpu];
    for t in &dataset::HISTOGRAMS {
        for p in procs {
            let n = expected_count(p, false) * factor;
            if t.is_count() {
                let metric = format!("[[COUNT]]_{}", t.name);
                let h = &series[&(metric.clone(), String::new(), p)];
                assert_eq!(h.layout(), LayoutSpec::scalar(), "{metric}");
                assert_eq!((h.count(), h.sum()), (n, t.sum * n), "{metric} {p}");
                let label = match t.sum {
                    42 => dataset::COUNT_SCALAR_BUCKET,
                    other => other, // 17 and 19 are labels of their own
                };
                assert_eq!(bucket(h, label), n, "{metric} {p}");
                assert_eq!(h.samples(), n);
                expected_keys.insert((metric, String::new(), p));
            } else {
                let h = &series[&(t.name.to_string(), String::new(), p)];
                let spec = LayoutSpec::from_ping(
                    i64::from(t.histogram_type),
                    t.range[0],
                    t.range[1],
                    u64::from(t.bucket_count),
                )
                .unwrap();
                assert_eq!(h.layout(), spec, "{}", t.name);
                assert_eq!((h.count(), h.sum()), (n, t.sum * n), "{} {p}", t.name);
                // Every template key is a bound of the ping's own layout (GC_MAX_PAUSE_MS_2's
                // linear keys included): nothing is lost.
                for (k, v) in t.values {
                    assert_eq!(bucket(h, *k), v * n, "{} key {k}", t.name);
                }
                let total: u64 = t.values.iter().map(|(_, v)| v).sum();
                assert_eq!(h.samples(), total * n, "{}", t.name);
                expected_keys.insert((t.name.to_string(), String::new(), p));
            }
        }
    }
    for (name, key, t) in &dataset::KEYED_HISTOGRAMS {
        for p in procs {
            let n = expected_count(p, false) * factor;
            let h = &series[&(name.to_string(), key.to_string(), p)];
            assert_eq!((h.count(), h.sum()), (n, t.sum * n));
            assert_eq!(h.counts(), &[0, n, 0]);
            expected_keys.insert((name.to_string(), key.to_string(), p));
        }
    }
    // SEARCH_COUNTS is not skipped: a parent-only count series labelled by its key.
    let search = (
        "[[COUNT]]_SEARCH_COUNTS".to_string(),
        "ddg.urlbar".to_string(),
        Process::Parent,
    );
    let h = &series[&search];
    let n = 3 * factor;
    assert_eq!((h.count(), h.sum(), bucket(h, 1)), (n, n, n));
    expected_keys.insert(search);
    for (metric, label) in dataset::SCALARS {
        for p in procs {
            let n = expected_count(p, true) * factor;
            let h = &series[&(metric.to_string(), label.to_string(), p)];
            assert_eq!(h.layout(), LayoutSpec::scalar());
            assert_eq!((h.count(), h.sum()), (n, dataset::SCALAR_VALUE * n));
            assert_eq!(bucket(h, dataset::NUMERIC_SCALAR_BUCKET), n);
            assert_eq!(h.counts()[28], n, "42 is at index 28 of the scalar labels");
            expected_keys.insert((metric.to_string(), label.to_string(), p));
        }
    }
    for metric in dataset::SIMPLE_MEASURES {
        for p in [Process::Parent, Process::Content] {
            let n = expected_simple_measure_count(p) * factor;
            let h = &series[&(metric.to_string(), String::new(), p)];
            assert_eq!(h.layout(), LayoutSpec::simple_measure());
            assert_eq!((h.count(), h.sum()), (n, dataset::SCALAR_VALUE * n));
            assert_eq!(bucket(h, dataset::SIMPLE_SCALAR_BUCKET), n);
            assert_eq!(
                h.counts()[15],
                n,
                "42 is at index 15 of the simple-measure labels"
            );
            expected_keys.insert((metric.to_string(), String::new(), p));
        }
    }
    // Nothing else: ignored keyed histograms, navigation scalars and string scalars are absent.
    let keys: BTreeSet<_> = series.keys().cloned().collect();
    assert_eq!(keys, expected_keys);
}

#[test]
fn build_id_and_submission_date_aggregates_match_the_original() {
    let (pings, aggregates) = dataset_aggregates();
    assert_eq!(pings.len(), 1152);
    assert_eq!(aggregates.len(), 384);
    assert_eq!(aggregates.submission_date_len(), 192);

    let by_build = index(aggregates, Prefix::BuildId);
    assert_eq!(by_build.len(), 384);
    let build_ids: BTreeSet<String> = dataset::build_ids(TODAY)
        .unwrap()
        .iter()
        .map(|b| b[..8].to_string())
        .collect();
    for (key, series) in &by_build {
        assert!(build_ids.contains(&key[3]), "{key:?}");
        assert!(["40", "41"].contains(&key[2].as_str()));
        if key[6] == "Linux" {
            assert!(["6.1", "3.1"].contains(&key[7].as_str()), "{key:?}");
        } else {
            assert!(["6.1", "3.1.12"].contains(&key[7].as_str()), "{key:?}");
        }
        check_group(series, 1);
    }

    let by_date = index(aggregates, Prefix::SubmissionDate);
    assert_eq!(by_date.len(), 192);
    let dates = dataset::submission_dates(TODAY).unwrap();
    for (key, series) in &by_date {
        assert_eq!(
            key[0], key[3],
            "submission-date tables are dated by submission date"
        );
        assert!(dates.contains(&key[3]));
        check_group(series, 2);
    }
}

#[test]
fn the_report_counts_every_skipped_item() {
    let r = dataset_aggregates().1.report();
    assert_eq!((r.pings_read, r.pings_used), (1152, 1152));
    assert!(r.pings_rejected.is_empty());
    // One null histogram per histograms section: new-style pings have 3 (parent, content,
    // gpu), old-style 4 (parent and 3 child payloads).
    let combos = dataset::NUM_COMBINATIONS as u64;
    let expected: BTreeMap<String, u64> = [
        ("not_an_object".to_string(), combos * (3 + 3 + 4)),
        ("ignored_by_name".to_string(), 2 * 1152),
    ]
    .into();
    assert_eq!(r.histograms_rejected, expected);
    // Scalar sections: 3 per new-style ping, 1 per old-style ping.
    let sections = combos * (3 + 3 + 1);
    let expected: BTreeMap<String, u64> = [
        (
            "ignored_by_name".to_string(),
            dataset::IGNORED_SCALARS_PER_SECTION * sections,
        ),
        (
            "not_numeric".to_string(),
            dataset::STRING_SCALARS_PER_SECTION * sections,
        ),
    ]
    .into();
    assert_eq!(r.scalars_rejected, expected);
    assert!(r.unplaced_samples.is_empty(), "{:?}", r.unplaced_samples);
    assert_eq!((r.bad_keys, r.non_integer_counts), (0, 0));
}

#[test]
fn the_ping_order_and_split_do_not_matter() {
    let (pings, whole) = dataset_aggregates();
    let mut reversed: Vec<String> = pings.clone();
    reversed.reverse();
    let mut merged = Aggregates::new();
    for part in reversed.chunks(100) {
        let partial = Aggregates::from_bytes(&aggregate(part).to_bytes()).unwrap();
        merged.merge(partial);
    }
    assert_eq!(merged.batches().unwrap(), whole.batches().unwrap());
    assert_eq!(merged.report(), whole.report());
    // The parallel merge of many parts gives the same.
    let parts: Vec<Aggregates> = pings.chunks(77).map(aggregate).collect();
    let all = Aggregates::merge_all(parts);
    assert_eq!(all.batches().unwrap(), whole.batches().unwrap());
    assert_eq!(all.report(), whole.report());
    assert_eq!(Aggregates::merge_all(Vec::new()).len(), 0);
}

#[test]
fn batch_parts_add_up_to_the_batch() {
    let (_, aggregates) = dataset_aggregates();
    let dates = aggregates.submission_dates().unwrap();
    assert_eq!(dates.len(), 2);
    for &date in &dates {
        let whole = aggregates.batch(date).unwrap();
        let pairs = aggregates.channel_versions(date);
        assert_eq!(pairs.len(), 3 * 2, "channels × versions");
        let mut tables = std::collections::BTreeMap::new();
        for (channel, version) in &pairs {
            let part = aggregates.batch_part(date, channel, version).unwrap();
            assert_eq!(part.submission_date, date);
            for (target, rows) in part.tables {
                assert_eq!((&target.channel, &target.version), (channel, version));
                assert!(
                    tables.insert(target, rows).is_none(),
                    "a table in two parts"
                );
            }
        }
        assert_eq!(tables, whole.tables);
    }
    assert!(aggregates
        .batch_part(dates[0], "esr", "40")
        .unwrap()
        .tables
        .is_empty());
}

#[test]
fn batch_rows_are_sorted_by_series_key_then_layout() {
    // `Aggregates::batch` promises this order; the builder sorts by interned ids' ranks, so
    // check it against the strings themselves, over every dimension the data set varies.
    let (_, aggregates) = dataset_aggregates();
    let mut rows_seen = 0;
    let mut dims_seen = BTreeSet::new();
    for batch in aggregates.batches().unwrap() {
        for rows in batch.tables.values() {
            for pair in rows.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                assert!(
                    (&a.0, a.1.layout()) < (&b.0, b.1.layout()),
                    "{:?} before {:?}",
                    a.0,
                    b.0
                );
            }
            rows_seen += rows.len();
            dims_seen.extend(rows.iter().map(|(k, _)| k.dims.clone()));
        }
    }
    assert!(rows_seen > 1000, "{rows_seen} rows");
    assert!(dims_seen.len() > 1, "the data set varies its dims");
}
