//! The Analysis API's algebra, on a store made by the real ingest of generated pings: OR of two
//! filter values is the sum of the single-value answers; `group_by` entries add up to the
//! ungrouped answer; top-K plus `__other__` preserves totals; a date range equals its explicit
//! list; statistics are consistent with the buckets (mean = sum / samples, percentiles monotone
//! and inside their bucket).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use mozaggregator_core::analysis::{Comparison, Evolution, LabelPage, MetricRequest, OTHER_LABEL};
use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::generate::{GenerateOptions, Generator};
use mozaggregator_core::params::{Accepts, ParsedParams};
use mozaggregator_core::query::{MetricQuery, MetricResponse};
use mozaggregator_core::stats::{PercentileMethod, Stat};
use mozaggregator_core::*;
use proptest::prelude::*;

const DAYS: [&str; 3] = ["20240113", "20240114", "20240115"];

struct Fixture {
    store: MemoryStore,
    channel: String,
    version: String,
    /// Unkeyed histogram metrics with data on every day.
    metrics: Vec<String>,
    /// Keyed metrics with at least 3 labels.
    keyed: Vec<String>,
    os: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let store = MemoryStore::new();
        for (i, day) in DAYS.iter().enumerate() {
            let mut generator = Generator::new(GenerateOptions {
                seed: 7 + i as u64,
                submission_date: Some(day.parse().unwrap()),
                ..GenerateOptions::default()
            })
            .unwrap();
            let mut aggregator = Aggregator::new(Options::default());
            let mut aggregates = Aggregates::new();
            for _ in 0..120 {
                aggregator.add_json(&mut aggregates, generator.ping().as_bytes());
            }
            for batch in aggregates.batches().unwrap() {
                store.write(&batch).unwrap();
            }
        }
        // The (channel, version) with the most submission-date tables.
        let mut tables: BTreeMap<(String, String), usize> = BTreeMap::new();
        for channel in store.channels(Prefix::SubmissionDate).unwrap() {
            for dv in store.dates(Prefix::SubmissionDate, &channel).unwrap() {
                *tables.entry((channel.clone(), dv.version)).or_default() += 1;
            }
        }
        let ((channel, version), _) = tables.into_iter().max_by_key(|(_, n)| *n).unwrap();
        let options = store.filter_options(&channel, &version).unwrap().unwrap();
        let os: Vec<String> = options
            .os
            .iter()
            .map(|(o, _)| o.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let defs = Definitions::new();
        let mut metrics = Vec::new();
        let mut keyed = Vec::new();
        for metric in options
            .metric
            .iter()
            .filter(|m| !m.starts_with("[[COUNT]]_"))
        {
            let q = query(&channel, &version, metric, &DAYS);
            let Some(r) = q.run(&store, &defs).unwrap() else {
                continue;
            };
            let labels: std::collections::BTreeSet<&str> =
                r.data.iter().map(|p| p.label.as_str()).collect();
            if labels.len() >= 3 && !labels.contains("") {
                keyed.push(metric.clone());
            } else if labels == [""].into() && r.kind == "exponential" && r.data.len() == 3 {
                metrics.push(metric.clone());
            }
        }
        assert!(metrics.len() >= 3, "generated data has unkeyed metrics");
        assert!(!keyed.is_empty(), "generated data has keyed metrics");
        assert!(os.len() >= 2, "generated data has several OS values");
        Fixture {
            store,
            channel,
            version,
            metrics,
            keyed,
            os,
        }
    })
}

fn query(channel: &str, version: &str, metric: &str, dates: &[&str]) -> MetricQuery {
    MetricQuery {
        prefix: Prefix::SubmissionDate,
        channel: channel.into(),
        version: version.into(),
        dates: dates.iter().map(|d| d.parse().unwrap()).collect(),
        metric: metric.into(),
        filter: Filter::All,
    }
}

/// Runs the metric route's query string through the same parsing as the HTTP API.
fn run(qs: &[(&str, &str)]) -> Option<MetricResponse> {
    let f = fixture();
    request(qs, Accepts::METRIC)
        .run(&f.store, &Definitions::new())
        .unwrap()
}

/// The request of one route's query string (the fixture's version when none is given).
fn request(qs: &[(&str, &str)], accepts: Accepts) -> MetricRequest {
    let f = fixture();
    let parsed = ParsedParams::from_pairs(qs.iter().copied(), accepts).unwrap();
    assert!(parsed.unknown.is_empty(), "{:?}", parsed.unknown);
    let mut params = parsed.params;
    params.version.get_or_insert_with(|| f.version.clone());
    MetricRequest::from_params(&params, Prefix::SubmissionDate, &f.channel).unwrap()
}

/// A request of the first keyed metric over every day of the fixture.
fn keyed_over_all_days(accepts: Accepts) -> MetricRequest {
    let dates = DAYS.join(",");
    request(
        &[
            ("metric", fixture().keyed[0].as_str()),
            ("dates", dates.as_str()),
        ],
        accepts,
    )
}

/// (date, label) → (count, sum, histogram) summed over entries.
fn totals(r: &MetricResponse) -> BTreeMap<(String, String), (u64, u64, Vec<u64>)> {
    let mut out: BTreeMap<(String, String), (u64, u64, Vec<u64>)> = BTreeMap::new();
    for p in &r.data {
        let t = out
            .entry((p.date.to_string(), p.label.clone()))
            .or_insert_with(|| (0, 0, vec![0; p.histogram.len()]));
        t.0 += p.count;
        t.1 += p.sum;
        for (a, b) in t.2.iter_mut().zip(&p.histogram) {
            *a += b;
        }
    }
    out
}

fn merge(a: &mut BTreeMap<(String, String), (u64, u64, Vec<u64>)>, r: Option<&MetricResponse>) {
    let Some(r) = r else { return };
    for (k, v) in totals(r) {
        let t = a.entry(k).or_insert_with(|| (0, 0, vec![0; v.2.len()]));
        t.0 += v.0;
        t.1 += v.1;
        for (x, y) in t.2.iter_mut().zip(&v.2) {
            *x += y;
        }
    }
}

fn pick(items: &[String], i: usize) -> &str {
    &items[i % items.len()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, rng_seed: proptest::test_runner::RngSeed::Fixed(9), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn or_of_two_values_is_the_sum_of_each(m in 0usize..100, o in 0usize..100) {
        let f = fixture();
        let metric = pick(&f.metrics, m);
        let (os1, os2) = (pick(&f.os, o), pick(&f.os, o + 1));
        prop_assume!(os1 != os2);
        let dates = DAYS.join(",");
        let base = [("metric", metric), ("dates", dates.as_str())];
        let both = run(&[base[0], base[1], ("os", os1), ("os", os2)]);
        let mut expected = BTreeMap::new();
        let one = run(&[base[0], base[1], ("os", os1)]);
        let two = run(&[base[0], base[1], ("os", os2)]);
        merge(&mut expected, one.as_ref());
        merge(&mut expected, two.as_ref());
        prop_assert_eq!(both.as_ref().map(totals).unwrap_or_default(), expected);
    }

    #[test]
    fn group_by_entries_add_up_to_the_ungrouped_answer(m in 0usize..100, g in 0usize..5) {
        let f = fixture();
        let metric = pick(&f.metrics, m);
        let dim = ["os", "architecture", "child", "application", "osVersion"][g];
        let dates = DAYS.join(",");
        let whole = run(&[("metric", metric), ("dates", &dates)]).unwrap();
        let grouped = run(&[("metric", metric), ("dates", &dates), ("group_by", dim)]).unwrap();
        prop_assert!(grouped.data.iter().all(|p| p.group.is_some()));
        prop_assert_eq!(&grouped.buckets, &whole.buckets);
        prop_assert_eq!(totals(&grouped), totals(&whole));
    }

    #[test]
    fn top_k_plus_other_preserves_totals(m in 0usize..100, k in 1usize..6) {
        let f = fixture();
        let metric = pick(&f.keyed, m);
        let dates = DAYS.join(",");
        let whole = run(&[("metric", metric), ("dates", &dates)]).unwrap();
        let k_text = k.to_string();
        let top = run(&[("metric", metric), ("dates", &dates), ("top", &k_text)]).unwrap();
        let labels: std::collections::BTreeSet<&str> =
            top.data.iter().map(|p| p.label.as_str()).filter(|l| *l != OTHER_LABEL).collect();
        let all: std::collections::BTreeSet<&str> = whole.data.iter().map(|p| p.label.as_str()).collect();
        prop_assert_eq!(labels.len(), k.min(all.len()));
        prop_assert_eq!(top.data.iter().any(|p| p.label == OTHER_LABEL), all.len() > k);
        // Per date, the sums over labels are equal.
        let per_date = |r: &MetricResponse| {
            let mut out: BTreeMap<String, (u64, u64, Vec<u64>)> = BTreeMap::new();
            for ((date, _), v) in totals(r) {
                let t = out.entry(date).or_insert_with(|| (0, 0, vec![0; v.2.len()]));
                t.0 += v.0;
                t.1 += v.1;
                for (x, y) in t.2.iter_mut().zip(&v.2) { *x += y; }
            }
            out
        };
        prop_assert_eq!(per_date(&top), per_date(&whole));
        // The kept labels have at least as many pings as any label left out.
        let mut pings: BTreeMap<&str, u64> = BTreeMap::new();
        for p in &whole.data { *pings.entry(p.label.as_str()).or_default() += p.count; }
        let min_kept = labels.iter().map(|l| pings[l]).min().unwrap();
        let max_left = pings.iter().filter(|(l, _)| !labels.contains(*l)).map(|(_, n)| *n).max();
        prop_assert!(max_left.is_none_or(|n| n <= min_kept));
    }

    #[test]
    fn a_range_equals_its_explicit_date_list(m in 0usize..100, from in 0usize..3, len in 0usize..3) {
        let f = fixture();
        let metric = pick(&f.metrics, m);
        let to = (from + len).min(2);
        let range = format!("{}..{}", DAYS[from], DAYS[to]);
        let list = DAYS[from..=to].join(",");
        prop_assert_eq!(
            run(&[("metric", metric), ("dates", &range)]),
            run(&[("metric", metric), ("dates", &list)])
        );
    }

    #[test]
    fn statistics_agree_with_the_buckets(m in 0usize..100, method in 0usize..3) {
        let f = fixture();
        let metric = pick(&f.metrics, m);
        let dates = DAYS.join(",");
        let method = ["interp", "nearest", "tmo"][method];
        let r = run(&[("metric", metric), ("dates", &dates),
            ("stats", "mean,p0,p5,p25,p50,p75,p95,p99,p99.9,p100"), ("pct_method", method)]).unwrap();
        for p in &r.data {
            let stats = serde_json::to_value(p).unwrap();
            let values = &stats["stats"];
            let samples: u64 = p.histogram.iter().sum();
            prop_assert_eq!(values["samples"].as_u64(), Some(samples));
            if samples > 0 {
                let mean = values["mean"].as_f64().unwrap();
                prop_assert!((mean - p.sum as f64 / samples as f64).abs() <= 1e-9 * mean.abs().max(1.0));
            }
            let mut last = f64::NEG_INFINITY;
            for name in ["p0", "p5", "p25", "p50", "p75", "p95", "p99", "p99.9"] {
                let Some(v) = values[name].as_f64() else { continue };
                prop_assert!(v >= last - 1e-9, "{name} {v} < {last}");
                last = v;
                if method != "tmo" {
                    let b = &stats["stats_buckets"][name];
                    prop_assert!(v >= b[0].as_f64().unwrap() - 1e-9);
                    if let Some(u) = b[1].as_f64() { prop_assert!(v <= u + 1e-9); }
                }
            }
        }
    }
}

#[test]
fn top_on_an_unkeyed_metric_is_an_error() {
    let f = fixture();
    let request = request(
        &[
            ("metric", f.metrics[0].as_str()),
            ("dates", DAYS[0]),
            ("top", "3"),
        ],
        Accepts::METRIC,
    );
    let err = request.run(&f.store, &Definitions::new()).unwrap_err();
    assert!(matches!(err, Error::Invalid { what: "top", .. }), "{err}");
}

#[test]
fn evolution_has_one_point_per_date_and_series_per_label() {
    let f = fixture();
    let request = keyed_over_all_days(Accepts::METRIC);
    let whole = request.run(&f.store, &Definitions::new()).unwrap().unwrap();
    let evolution = Evolution::of(&request, &f.store, &Definitions::new())
        .unwrap()
        .unwrap();
    let labels: std::collections::BTreeSet<&str> =
        whole.data.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(evolution.series.len(), labels.len());
    let points: usize = evolution.series.iter().map(|s| s.data.len()).sum();
    assert_eq!(points, whole.data.len());
    let json = serde_json::to_value(&evolution).unwrap();
    let first = &json["series"][0]["data"][0];
    for key in ["date", "pings", "samples", "sum", "stats"] {
        assert!(first.get(key).is_some(), "{key} in {first}");
    }
    for stat in ["samples", "mean", "p5", "p25", "p50", "p75", "p95"] {
        assert!(first["stats"].get(stat).is_some(), "{stat} in {first}");
    }
}

#[test]
fn labels_are_paged_most_pings_first() {
    let f = fixture();
    let request = keyed_over_all_days(Accepts::LABELS);
    let all = LabelPage::of(&request, None, None, &f.store, &Definitions::new())
        .unwrap()
        .unwrap();
    assert!(all.total >= 3);
    assert!(all
        .labels
        .windows(2)
        .all(|w| w[0].pings > w[1].pings || (w[0].pings == w[1].pings && w[0].label < w[1].label)));
    let page2 = LabelPage::of(&request, Some(2), Some(2), &f.store, &Definitions::new())
        .unwrap()
        .unwrap();
    assert_eq!(page2.total, all.total);
    assert_eq!(page2.labels, all.labels[2..(4.min(all.total))]);
}

#[test]
fn comparing_a_selection_with_itself_gives_zero_deltas_and_distances() {
    let f = fixture();
    let q = query(&f.channel, &f.version, &f.metrics[0], &DAYS);
    let mut request = MetricRequest::plain(q);
    request.stats = Some(Stat::parse_list("mean,p50,p95").unwrap());
    request.method = PercentileMethod::Interp;
    let c = Comparison::of(&request, &request, &f.store, &Definitions::new())
        .unwrap()
        .unwrap();
    assert_eq!(c.a, c.b);
    assert_eq!(c.distances.ks, 0.0);
    assert!(c.distances.bhattacharyya.abs() < 1e-6);
    assert_eq!(c.distances.cdf_squared, 0.0);
    for (name, d) in &c.deltas {
        assert_eq!(d.absolute, Some(0.0), "{name}");
    }
    let names: Vec<&str> = c.deltas.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["samples", "pings", "mean", "p50", "p95"]);
}

#[test]
fn comparing_two_layouts_is_an_error() {
    let f = fixture();
    let a = MetricRequest::plain(query(&f.channel, &f.version, &f.metrics[0], &DAYS));
    // A scalar is served over the scalar labels: another layout than any GC-style histogram.
    let options = f
        .store
        .filter_options(&f.channel, &f.version)
        .unwrap()
        .unwrap();
    let scalar = options
        .metric
        .iter()
        .find(|m| m.starts_with("SCALARS_"))
        .unwrap();
    let b = MetricRequest::plain(query(&f.channel, &f.version, scalar, &DAYS));
    let ra = a.run(&f.store, &Definitions::new()).unwrap().unwrap();
    let rb = b.run(&f.store, &Definitions::new()).unwrap().unwrap();
    prop_assume_layouts_differ(&ra, &rb);
    let err = Comparison::of(&a, &b, &f.store, &Definitions::new()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Invalid {
                what: "compare",
                ..
            }
        ),
        "{err}"
    );
}

fn prop_assume_layouts_differ(a: &MetricResponse, b: &MetricResponse) {
    assert_ne!(
        a.buckets, b.buckets,
        "the fixture's metrics must differ in layout"
    );
}

#[test]
fn plain_requests_serialize_exactly_as_before() {
    let f = fixture();
    let q = query(&f.channel, &f.version, &f.keyed[0], &DAYS);
    let plain = q.run(&f.store, &Definitions::new()).unwrap().unwrap();
    let json = serde_json::to_value(&plain).unwrap();
    let entry = json["data"][0].as_object().unwrap();
    let keys: Vec<&str> = entry.keys().map(String::as_str).collect();
    // serde_json's map sorts keys; the set is what matters here (order is checked over HTTP).
    assert_eq!(keys, ["count", "date", "histogram", "label", "sum"]);
}
