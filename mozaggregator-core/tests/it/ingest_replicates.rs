//! Replicate groups at ingest (`aggregate --replicates R`, docs/ingest.md "Replicate groups"):
//! which group a ping goes into (`meta.sampleId` first, else crc32(clientId) mod 100, else
//! none and counted), the groups adding up to the normal aggregates in both families, the
//! normal aggregates unchanged by replicates, batch parts holding their own groups, and the
//! store's replicate rows in the job's report.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use mozaggregator_core::generate::{GenerateOptions, Generator};
use mozaggregator_core::store::{ReplicateRows, ReplicateTables};
use mozaggregator_core::{
    Aggregates, Aggregator, Batch, Date, DateVersion, FilterOptions, Histogram, MemoryStore,
    Options, Prefix, QueryRow, ReplicateCount, RowReject, Selection, SeriesKey, SeriesQuery, Store,
    Target, WriteReport,
};

/// Aggregates `pings` with `replicates` groups (none with `None`).
pub fn aggregate_with(replicates: Option<u32>, pings: &[String]) -> Aggregates {
    let mut aggregator = Aggregator::new(Options {
        replicates: replicates.map(|r| ReplicateCount::new(r).unwrap()),
        ..Options::default()
    });
    let mut out = Aggregates::new();
    for p in pings {
        aggregator.add_json(&mut out, p.as_bytes());
    }
    out
}

/// A minimal ping of 2024-01-02 whose architecture is `arch` (to find it in its group):
/// `sample_id` and `client_id` are raw JSON, left out when `None`.
pub fn ping(sample_id: Option<&str>, client_id: Option<&str>, arch: &str) -> String {
    let sample = sample_id.map_or(String::new(), |s| format!(r#", "sampleId": {s}"#));
    let client = client_id.map_or(String::new(), |c| format!(r#""clientId": {c}, "#));
    format!(
        r#"{{{client}"meta": {{"submissionDate": "20240102"{sample}}},
        "application": {{"channel": "nightly", "version": "120.0a1", "buildId": "20240101093000",
                         "name": "Firefox", "architecture": "{arch}"}},
        "environment": {{"system": {{"os": {{"name": "Linux", "version": "6.5.0"}}}}}},
        "payload": {{"simpleMeasurements": {{"uptime": 42}}}}}}"#
    )
}

/// The architectures in each replicate group's build-id rows.
fn architectures(replicates: &ReplicateTables) -> Vec<BTreeSet<String>> {
    replicates
        .groups
        .iter()
        .map(|tables| {
            tables
                .iter()
                .filter(|(t, _)| t.prefix == Prefix::BuildId)
                .flat_map(|(_, rows)| rows.iter().map(|(k, _)| k.dims.architecture.clone()))
                .collect()
        })
        .collect()
}

fn one_batch(a: &Aggregates) -> Batch {
    let mut batches = a.batches().unwrap();
    assert_eq!(batches.len(), 1);
    batches.remove(0)
}

#[test]
fn the_sample_id_wins_then_the_client_id_then_the_ping_is_counted_without_a_group() {
    // crc32("123456789") = 0xCBF43926: sample id 62.
    let crc = Some(r#""123456789""#);
    let pings = [
        ping(Some("47"), crc, "sample-47"),
        ping(None, crc, "client-62"),
        ping(Some("-3"), crc, "negative-then-client-62"),
        ping(Some("5.0"), None, "float-5"),
        ping(Some("1e1"), None, "exponent-10"),
        ping(Some("99"), Some(r#""""#), "sample-99"),
        // Used, but without a group.
        ping(Some("2.5"), None, "fraction-no-client"),
        ping(None, Some(r#""""#), "empty-client"),
        ping(Some("-1"), Some("42"), "negative-number-client"),
        // Rejected as today.
        ping(Some(r#""7""#), crc, "string-sample"),
        ping(None, None, "nothing"),
        ping(Some("100"), crc, "sample-100"),
    ];
    let a = aggregate_with(Some(20), &pings);
    let r = a.report();
    assert_eq!((r.pings_read, r.pings_used), (12, 9));
    assert_eq!(r.pings_without_replicate_group, 3);
    assert_eq!(r.pings_rejected["invalid_sample_id"], 1);
    assert_eq!(r.pings_rejected["missing_client_id"], 1);
    assert_eq!(r.pings_rejected["sample_id_out_of_range"], 1);
    assert_eq!(a.replicates().unwrap().map(ReplicateCount::get), Some(20));

    let batch = one_batch(&a);
    let replicates = batch.replicates.as_ref().unwrap();
    assert_eq!(replicates.count.get(), 20);
    let groups = architectures(replicates);
    assert_eq!(groups.len(), 20);
    let expected: BTreeMap<usize, BTreeSet<String>> = [
        (7, vec!["sample-47"]),
        (2, vec!["client-62", "negative-then-client-62"]),
        (5, vec!["float-5"]),
        (10, vec!["exponent-10"]),
        (19, vec!["sample-99"]),
    ]
    .into_iter()
    .map(|(g, archs)| (g, archs.into_iter().map(String::from).collect()))
    .collect();
    for (g, archs) in groups.iter().enumerate() {
        assert_eq!(
            archs,
            &expected.get(&g).cloned().unwrap_or_default(),
            "group {g}"
        );
        // A group without pings has no tables at all.
        assert_eq!(
            replicates.groups[g].is_empty(),
            archs.is_empty(),
            "group {g}"
        );
    }
    // Every ping used is in the normal aggregates, with or without a group.
    let normal: BTreeSet<String> = batch
        .tables
        .iter()
        .filter(|(t, _)| t.prefix == Prefix::BuildId)
        .flat_map(|(_, rows)| rows.iter().map(|(k, _)| k.dims.architecture.clone()))
        .collect();
    assert_eq!(normal.len(), 9);
    assert!(normal.contains("fraction-no-client") && normal.contains("empty-client"));

    // Another R: the same sample ids, mod 2.
    let a = aggregate_with(Some(2), &pings[..3]);
    let groups = architectures(one_batch(&a).replicates.as_ref().unwrap());
    assert_eq!(groups[1], ["sample-47"].map(String::from).into());
    assert_eq!(
        groups[0],
        ["client-62", "negative-then-client-62"]
            .map(String::from)
            .into()
    );
}

/// `n` generated pings: half with `meta` (their sample id), half as clients send them
/// (clientId only, dated by the aggregator's submission date).
fn generated(n: usize) -> Vec<String> {
    let date = "20240115".parse().unwrap();
    let mut with_meta = Generator::new(GenerateOptions {
        seed: 11,
        submission_date: Some(date),
        ..GenerateOptions::default()
    })
    .unwrap();
    let mut without = Generator::new(GenerateOptions {
        seed: 12,
        submission_date: None,
        ..GenerateOptions::default()
    })
    .unwrap();
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                with_meta.ping()
            } else {
                without.ping()
            }
        })
        .collect()
}

fn aggregate_generated(replicates: Option<u32>, pings: &[String]) -> Aggregates {
    let mut aggregator = Aggregator::new(Options {
        submission_date: Some("20240115".parse().unwrap()),
        replicates: replicates.map(|r| ReplicateCount::new(r).unwrap()),
        ..Options::default()
    });
    let mut out = Aggregates::new();
    for p in pings {
        aggregator.add_json(&mut out, p.as_bytes());
    }
    out
}

/// Rows by (target, key, layout).
type Rows = BTreeMap<(Target, SeriesKey, String), Histogram>;

fn rows(tables: &BTreeMap<Target, Vec<(SeriesKey, Histogram)>>) -> Rows {
    tables
        .iter()
        .flat_map(|(t, rows)| {
            rows.iter().map(move |(k, h)| {
                (
                    (t.clone(), k.clone(), format!("{:?}", h.layout())),
                    h.clone(),
                )
            })
        })
        .collect()
}

#[test]
fn the_groups_add_up_to_the_normal_aggregates_in_both_families() {
    let pings = generated(40);
    let a = aggregate_generated(Some(20), &pings);
    assert_eq!(a.report().pings_used, 40);
    assert_eq!(a.report().pings_without_replicate_group, 0);
    let batch = one_batch(&a);
    let replicates = batch.replicates.as_ref().unwrap();
    assert_eq!(replicates.groups.len(), 20);
    assert!(
        replicates.groups.iter().filter(|g| !g.is_empty()).count() > 5,
        "the pings spread over the groups"
    );
    let normal = rows(&batch.tables);
    let mut summed = Rows::new();
    for group in &replicates.groups {
        for (target, group_rows) in group {
            assert!(
                batch.tables.contains_key(target),
                "{target:?} not in tables"
            );
            // Sorted like the normal tables: by key, then layout.
            assert!(group_rows
                .windows(2)
                .all(|w| (&w[0].0, w[0].1.layout()) < (&w[1].0, w[1].1.layout())));
        }
        for (key, h) in rows(group) {
            match summed.get_mut(&key) {
                Some(sum) => sum.merge(&h).unwrap(),
                None => {
                    summed.insert(key, h);
                }
            }
        }
    }
    assert_eq!(summed, normal);
    for prefix in [Prefix::BuildId, Prefix::SubmissionDate] {
        assert!(normal.keys().any(|(t, _, _)| t.prefix == prefix));
    }
}

#[test]
fn without_replicates_the_batches_and_report_are_those_of_before() {
    let pings = generated(24);
    let off = aggregate_generated(None, &pings);
    let on = aggregate_generated(Some(20), &pings);
    assert!(matches!(off.replicates(), Ok(None)));
    let (off_batches, on_batches) = (off.batches().unwrap(), on.batches().unwrap());
    assert_eq!(off_batches.len(), on_batches.len());
    for (a, b) in off_batches.iter().zip(&on_batches) {
        assert_eq!(a.replicates, None);
        assert_eq!(b.replicates.as_ref().map(|r| r.count.get()), Some(20));
        assert_eq!((&a.tables, &a.rows_refused), (&b.tables, &b.rows_refused));
    }
    assert_eq!(off.report(), on.report());
    assert_eq!(
        (off.len(), off.series_len(), off.submission_date_len()),
        (on.len(), on.series_len(), on.submission_date_len())
    );
    // The stored rows are the same too, and the report does not mention replicates.
    let (a, b) = (MemoryStore::new(), MemoryStore::new());
    let mut off = off;
    let mut on = on;
    let written_off = off.write_to(&a, |_| {}).unwrap();
    let written_on = on.write_to(&b, |_| {}).unwrap();
    assert_eq!(written_off.rows_written, written_on.rows_written);
    assert_eq!(scan(&a), scan(&b));
    assert!(!off.report().to_string().contains("replicate"));
}

/// Every stored row.
fn scan(store: &dyn Store) -> Vec<(Target, SeriesKey, Histogram)> {
    let mut out = Vec::new();
    store
        .scan(&Selection::default(), &mut |t, k, h| {
            out.push((t.clone(), k.clone(), h.clone()));
            Ok(())
        })
        .unwrap();
    out
}

#[test]
fn batch_parts_hold_their_own_groups_and_add_up_to_the_batch() {
    let pings = generated(24);
    let a = aggregate_generated(Some(4), &pings);
    let date = a.submission_dates().unwrap()[0];
    let whole = a.batch(date).unwrap();
    let whole_groups = &whole.replicates.as_ref().unwrap().groups;
    let mut groups = vec![BTreeMap::new(); 4];
    let pairs = a.channel_versions(date);
    assert!(pairs.len() > 1);
    for (channel, version) in &pairs {
        let part = a.batch_part(date, channel, version).unwrap();
        let replicates = part.replicates.unwrap();
        assert_eq!(replicates.groups.len(), 4);
        for (g, tables) in replicates.groups.into_iter().enumerate() {
            for (target, rows) in tables {
                assert_eq!((&target.channel, &target.version), (channel, version));
                assert!(part.tables.contains_key(&target));
                assert!(
                    groups[g].insert(target, rows).is_none(),
                    "a table in two parts"
                );
            }
        }
    }
    assert_eq!(&groups, whole_groups);
    // A part that does not exist has R empty groups.
    let none = a.batch_part(date, "esr", "40").unwrap();
    assert!(none.tables.is_empty());
    assert_eq!(
        none.replicates,
        Some(ReplicateTables::new(ReplicateCount::new(4).unwrap()))
    );
}

/// A memory store that reports the replicate rows of each batch as written, but one group's
/// first row as rejected (what a store keeping replicates reports), to follow them into the
/// job's report; and that fails its `n`-th write (from 0) when told to.
#[derive(Default)]
struct ReplicateCounting(MemoryStore, Option<usize>, AtomicUsize);

impl ReplicateCounting {
    fn failing_at(n: usize) -> Self {
        ReplicateCounting(MemoryStore::new(), Some(n), AtomicUsize::new(0))
    }
}

impl Store for ReplicateCounting {
    fn write(&self, batch: &Batch) -> mozaggregator_core::Result<WriteReport> {
        if Some(self.2.fetch_add(1, Ordering::SeqCst)) == self.1 {
            return Err(mozaggregator_core::Error::invalid(
                "test",
                "this write fails",
            ));
        }
        let mut report = self.0.write(batch)?;
        if let Some(r) = &batch.replicates {
            let rows = r.rows() as u64;
            report.replicate_rows_written = rows.saturating_sub(1);
            if rows > 0 {
                report
                    .replicate_rows_rejected
                    .add(RowReject::BadMetricName, 1);
            }
        }
        Ok(report)
    }
    fn channels(&self, prefix: Prefix) -> mozaggregator_core::Result<Vec<String>> {
        self.0.channels(prefix)
    }
    fn dates(&self, prefix: Prefix, channel: &str) -> mozaggregator_core::Result<Vec<DateVersion>> {
        self.0.dates(prefix, channel)
    }
    fn filter_options(
        &self,
        channel: &str,
        version: &str,
    ) -> mozaggregator_core::Result<Option<FilterOptions>> {
        self.0.filter_options(channel, version)
    }
    fn query(&self, query: &SeriesQuery) -> mozaggregator_core::Result<Vec<QueryRow>> {
        self.0.query(query)
    }
    fn replicates(&self, query: &SeriesQuery) -> mozaggregator_core::Result<Option<ReplicateRows>> {
        self.0.replicates(query)
    }
    fn absorbed(&self, target: &Target) -> mozaggregator_core::Result<BTreeSet<Date>> {
        self.0.absorbed(target)
    }
    fn trim(&self, cutoff: Date, dry_run: bool) -> mozaggregator_core::Result<Vec<Target>> {
        self.0.trim(cutoff, dry_run)
    }
    fn data_version(&self) -> mozaggregator_core::Result<u64> {
        self.0.data_version()
    }
    fn scan(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(&Target, &SeriesKey, &Histogram) -> mozaggregator_core::Result<()>,
    ) -> mozaggregator_core::Result<()> {
        self.0.scan(selection, visit)
    }

    fn write_mobile(
        &self,
        batch: &mozaggregator_core::mobile::MobileBatch,
    ) -> mozaggregator_core::Result<WriteReport> {
        self.0.write_mobile(batch)
    }

    fn scan_mobile(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(
            &Target,
            &mozaggregator_core::mobile::MobileKey,
            &mozaggregator_core::mobile::MobileHistogram,
        ) -> mozaggregator_core::Result<()>,
    ) -> mozaggregator_core::Result<()> {
        self.0.scan_mobile(selection, visit)
    }
}

#[test]
fn the_write_reports_replicate_rows_in_the_report() {
    let pings = generated(12);
    let mut a = aggregate_generated(Some(5), &pings);
    let rows: u64 = a
        .batches()
        .unwrap()
        .iter()
        .map(|b| b.replicates.as_ref().unwrap().rows() as u64)
        .sum();
    let parts: usize = a
        .submission_dates()
        .unwrap()
        .iter()
        .map(|d| a.channel_versions(*d).len())
        .sum();
    let store = ReplicateCounting::default();
    let total = a.write_to(&store, |_| {}).unwrap();
    // Each part wrote its own groups (one row of each part refused by the store).
    assert!(rows > parts as u64);
    assert_eq!(total.replicate_rows_written, rows - parts as u64);
    assert_eq!(total.replicate_rows_rejected.total(), parts as u64);
    let r = a.report();
    assert_eq!(r.replicate_rows_written, total.replicate_rows_written);
    assert_eq!(r.replicate_rows_rejected, total.replicate_rows_rejected);
    assert!(r.rows_rejected.is_empty(), "not among the normal rows");
    let text = r.to_string();
    assert!(
        text.contains(&format!(
            "replicate groups: rows written {}, rejected {parts}; pings without a group 0",
            rows - parts as u64
        )),
        "{text}"
    );
}

#[test]
fn a_group_row_whose_build_ids_overflow_is_refused_and_counted_apart() {
    // Two build ids whose uptimes cannot be summed within 2^64, in the same group.
    let huge = |build: &str| {
        ping(Some("3"), None, "x")
            .replace("\"uptime\": 42", "\"uptime\": 10000000000000000000")
            .replace("20240101093000", build)
    };
    let mut a = aggregate_with(Some(2), &[huge("20240101093000"), huge("20231231093000")]);
    let batch = one_batch(&a);
    assert_eq!(batch.rows_refused.count(RowReject::MergeOverflow), 1);
    let group = &batch.replicates.as_ref().unwrap().groups[1];
    assert!(
        group.keys().all(|t| t.prefix == Prefix::BuildId),
        "{group:?}"
    );
    assert_eq!(group.len(), 2);
    let total = a.write_to(&MemoryStore::new(), |_| {}).unwrap();
    assert_eq!(
        total
            .replicate_rows_rejected
            .count(RowReject::MergeOverflow),
        1
    );
    assert_eq!(total.rows_rejected.count(RowReject::MergeOverflow), 1);
    let r = a.report();
    assert_eq!(r.replicate_rows_rejected.count(RowReject::MergeOverflow), 1);
    assert_eq!(r.rows_rejected.count(RowReject::MergeOverflow), 1);
}

/// The parts a write announced: (index, of, date, channel, version).
type Announced = Vec<(usize, usize, String, String, String)>;

fn write_with(
    a: &mut Aggregates,
    store: &dyn Store,
    threads: usize,
) -> (mozaggregator_core::Result<WriteReport>, Announced) {
    let mut seen = Vec::new();
    let written = a.write_with(store, threads, |p| {
        seen.push((
            p.index,
            p.of,
            p.date.to_string(),
            p.channel.to_string(),
            p.version.to_string(),
        ));
    });
    (written, seen)
}

#[test]
fn a_write_on_more_threads_writes_what_one_thread_writes() {
    // Replicate groups and several parts, so that batches are built ahead and freed apart.
    let pings = generated(40);
    let base = aggregate_generated(Some(4), &pings);
    let mut one = base.clone();
    let single = ReplicateCounting::default();
    let (written, announced) = write_with(&mut one, &single, 1);
    let written = written.unwrap();
    assert!(announced.len() > 3, "{} parts", announced.len());
    let rows = |store: &ReplicateCounting| {
        mozaggregator_core::export::stored_rows(&store.0, &Selection::default()).unwrap()
    };
    assert!(!rows(&single).is_empty());
    for threads in [0, 2, 3] {
        let mut many = base.clone();
        let store = ReplicateCounting::default();
        let (got, got_announced) = write_with(&mut many, &store, threads);
        assert_eq!(got.unwrap(), written, "{threads} threads");
        assert_eq!(got_announced, announced);
        assert_eq!(many.report(), one.report());
        assert_eq!(rows(&store), rows(&single));
    }
    // A failed write stops the job on either path: the parts before it stay written and
    // reported, none after it is written.
    for threads in [1, 2] {
        let mut a = base.clone();
        let store = ReplicateCounting::failing_at(2);
        let (result, seen) = write_with(&mut a, &store, threads);
        let err = result.unwrap_err();
        assert!(err.to_string().contains("this write fails"), "{err}");
        // One thread announces up to the failed part; more may announce a part or two
        // beyond it while it is written (none of them is written, as checked below).
        assert_eq!(seen[..3], announced[..3], "{threads} threads");
        assert!(threads > 1 || seen.len() == 3, "{} announced", seen.len());
        let written_parts = 2;
        let expected: u64 = base
            .batches()
            .unwrap()
            .iter()
            .flat_map(|b| {
                announced[..written_parts]
                    .iter()
                    .filter(|(_, _, date, _, _)| *date == b.submission_date.to_string())
                    .map(|(_, _, _, channel, version)| {
                        b.tables
                            .iter()
                            .filter(|(t, _)| (&t.channel, &t.version) == (channel, version))
                            .map(|(_, rows)| rows.len() as u64)
                            .sum::<u64>()
                    })
                    .collect::<Vec<_>>()
            })
            .sum();
        assert!(expected > 0);
        assert_eq!(a.report().series_written, expected, "{threads} threads");
        assert_eq!(rows(&store).len() as u64, expected);
    }
}
