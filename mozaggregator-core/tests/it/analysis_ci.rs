//! `ci=`: the jackknife intervals of the Analysis API over replicate groups, on stores built by
//! hand — the formula computed by hand, the estimate against the plain statistic, identical
//! groups, compare's verdict, entries paired through `top` and `group_by`, and the stores
//! that cannot answer.

use mozaggregator_core::analysis::{
    Comparison, EntryCi, Evolution, MetricRequest, Verdict, OTHER_LABEL,
};
use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::params::{Accepts, ParsedParams};
use mozaggregator_core::query::{DataPoint, MetricResponse};
use mozaggregator_core::stats::{
    self, t_quantile, Confidence, Distribution, Interval, PercentileMethod,
};
use mozaggregator_core::*;

use crate::common::replicates::{histogram, key_on, nightly_42, replicated_batch, Row};

const D1: &str = "20240101";
const D2: &str = "20240102";
const METRIC: &str = "GC_MS";

fn layout() -> LayoutSpec {
    LayoutSpec::exponential(1, 10000, 50).unwrap()
}

/// Group g of R = 4 on `os`: one ping with `g + 1` samples in bucket 3 and 2 in bucket 10
/// (bucket indexes shifted by `shift`), sum `40 + 3g`.
fn group_rows(g: u64, os: &str, shift: usize) -> Vec<Row> {
    let h = histogram(layout(), &[(3 + shift, g + 1), (10 + shift, 2)], 40 + 3 * g);
    vec![(key_on(METRIC, "", os), h)]
}

/// The parsed request of a route's query string, on nightly 42.
fn request(qs: &[(&str, &str)], accepts: Accepts) -> MetricRequest {
    let parsed = ParsedParams::from_pairs(qs.iter().copied(), accepts).unwrap();
    assert!(parsed.unknown.is_empty(), "{:?}", parsed.unknown);
    let mut params = parsed.params;
    params.version.get_or_insert_with(|| "42".into());
    params.dates.get_or_insert_with(|| D1.into());
    params.metric.get_or_insert_with(|| METRIC.into());
    MetricRequest::from_params(&params, Prefix::SubmissionDate, "nightly").unwrap()
}

fn run(store: &MemoryStore, qs: &[(&str, &str)]) -> MetricResponse {
    request(qs, Accepts::METRIC)
        .run(store, &Definitions::new())
        .unwrap()
        .unwrap()
}

fn ci(p: &DataPoint) -> &EntryCi {
    p.ci.as_ref().expect("the entry has a ci")
}

fn interval(p: &DataPoint, stat: &str) -> Option<Interval> {
    ci(p)
        .stats
        .iter()
        .find(|(name, _)| name == stat)
        .unwrap_or_else(|| panic!("no {stat} in {:?}", ci(p).stats))
        .1
}

fn plain(p: &DataPoint, stat: &str) -> Option<f64> {
    let stats = p.stats.as_ref().expect("the entry has stats");
    stats.values().find(|(name, _)| *name == stat).unwrap().1
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

/// A store of R = 4 groups on Linux on D1, plus one ping outside the groups.
fn store_with_outside_ping() -> MemoryStore {
    let store = MemoryStore::new();
    let groups = (0..4).map(|g| group_rows(g, "Linux", 0)).collect();
    let outside = vec![(
        key_on(METRIC, "", "Linux"),
        histogram(layout(), &[(20, 5)], 1000),
    )];
    store
        .write(&replicated_batch(&nightly_42(D1), groups, outside))
        .unwrap();
    store
}

#[test]
fn the_mean_interval_is_the_jackknife_formula_by_hand() {
    let store = store_with_outside_ping();
    let r = run(&store, &[("stats", "mean,p50"), ("ci", "0.95")]);
    let entry = &r.data[0];
    let c = ci(entry);
    assert_eq!(
        (c.level, c.replicates.get(), c.pings),
        (Confidence::P95, 4, 4)
    );
    assert_eq!(
        entry.count, 5,
        "the plain entry has the ping outside the groups"
    );

    // By hand: group g has g + 3 samples and a sum of 40 + 3g.
    let samples: Vec<f64> = (0..4).map(|g| f64::from(g + 3)).collect();
    let sums: Vec<f64> = (0..4).map(|g| f64::from(40 + 3 * g)).collect();
    let (n, s) = (samples.iter().sum::<f64>(), sums.iter().sum::<f64>());
    let estimate = s / n;
    let loo: Vec<f64> = (0..4).map(|g| (s - sums[g]) / (n - samples[g])).collect();
    let mean_loo = loo.iter().sum::<f64>() / 4.0;
    let se = (3.0 / 4.0 * loo.iter().map(|v| (v - mean_loo).powi(2)).sum::<f64>()).sqrt();
    let t = t_quantile(Confidence::P95, 3).unwrap();
    let got = interval(entry, "mean").unwrap();
    assert!(close(got.estimate, estimate), "{got:?} vs {estimate}");
    assert!(close(got.se, se), "{got:?} vs {se}");
    assert!(close(got.lower, estimate - t * se) && close(got.upper, estimate + t * se));
    assert!(se > 0.0);
    // The plain mean counts the ping outside the groups: θ̂ differs from it.
    assert_ne!(plain(entry, "mean"), Some(got.estimate));

    // The median: the core percentile of T and of each T − G_g, jackknifed by hand.
    let bounds = layout().bounds();
    let part = |g: u64| {
        let mut c = vec![0u64; layout().len()];
        c[3] = g + 1;
        c[10] = 2;
        c
    };
    let total: Vec<u64> = (0..layout().len())
        .map(|i| (0..4).map(|g| part(g)[i]).sum())
        .collect();
    let p50 = |counts: &[u64], sum: u64| {
        let d = Distribution {
            kind: Kind::Exponential,
            bounds: &bounds,
            counts,
            sum,
        };
        stats::percentile(&d, 50.0, PercentileMethod::Interp)
            .unwrap()
            .value
    };
    let loo: Vec<Option<f64>> = (0..4)
        .map(|g| {
            let rest: Vec<u64> = total.iter().zip(part(g)).map(|(t, c)| t - c).collect();
            p50(&rest, 0)
        })
        .collect();
    let want = stats::jackknife(p50(&total, 0).unwrap(), &loo, Confidence::P95).unwrap();
    assert_eq!(interval(entry, "p50"), Some(want));
}

#[test]
fn the_estimate_is_the_plain_statistic_when_every_ping_is_in_a_group() {
    let store = MemoryStore::new();
    let groups = (0..4).map(|g| group_rows(g, "Linux", 0)).collect();
    store
        .write(&replicated_batch(&nightly_42(D1), groups, vec![]))
        .unwrap();
    for method in ["interp", "nearest", "tmo"] {
        let r = run(
            &store,
            &[
                ("stats", "mean,p5,p50,p95"),
                ("ci", "0.9"),
                ("pct_method", method),
            ],
        );
        let entry = &r.data[0];
        assert_eq!(ci(entry).pings, entry.count);
        for stat in ["mean", "p5", "p50", "p95"] {
            let i = interval(entry, stat).unwrap();
            assert_eq!(Some(i.estimate), plain(entry, stat), "{method} {stat}");
        }
    }
}

#[test]
fn identical_groups_give_a_zero_standard_error() {
    let store = MemoryStore::new();
    let groups = (0..5).map(|_| group_rows(2, "Linux", 0)).collect();
    store
        .write(&replicated_batch(&nightly_42(D1), groups, vec![]))
        .unwrap();
    let r = run(&store, &[("ci", "0.99")]);
    let entry = &r.data[0];
    assert_eq!(ci(entry).replicates.get(), 5);
    // `ci` without `stats` gives the default statistics and their intervals.
    let names: Vec<&str> = ci(entry).stats.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["mean", "p5", "p25", "p50", "p75", "p95"]);
    for (name, i) in &ci(entry).stats {
        let i = i.unwrap();
        assert_eq!(i.se, 0.0, "{name}");
        assert_eq!((i.lower, i.upper), (i.estimate, i.estimate), "{name}");
    }
}

#[test]
fn an_entry_in_one_group_only_has_no_interval() {
    // Leaving out its only group leaves nothing: the interval cannot be computed.
    let store = MemoryStore::new();
    let mut groups: Vec<Vec<Row>> = vec![vec![]; 4];
    groups[2] = group_rows(1, "Linux", 0);
    store
        .write(&replicated_batch(&nightly_42(D1), groups, vec![]))
        .unwrap();
    let r = run(&store, &[("stats", "mean"), ("ci", "0.95")]);
    assert_eq!(ci(&r.data[0]).pings, 1);
    assert_eq!(interval(&r.data[0], "mean"), None);
    let json = String::from_utf8(r.to_json()).unwrap();
    assert!(
        json.contains(r#""ci":{"level":0.95,"replicates":4,"pings":1,"stats":{"mean":null}}"#),
        "{json}"
    );
}

/// Linux on D1 and D2 (R = 4) and Windows_NT, whose values are `shift` buckets higher.
fn two_os_store(shift: usize) -> MemoryStore {
    let store = MemoryStore::new();
    for date in [D1, D2] {
        let groups = (0..4)
            .map(|g| {
                let mut rows = group_rows(g, "Linux", 0);
                rows.extend(group_rows(g, "Windows_NT", shift));
                rows
            })
            .collect();
        store
            .write(&replicated_batch(&nightly_42(date), groups, vec![]))
            .unwrap();
    }
    store
}

fn compare(store: &MemoryStore, qs: &[(&str, &str)]) -> Result<Option<Comparison>> {
    let parsed = ParsedParams::from_pairs(qs.iter().copied(), Accepts::COMPARE).unwrap();
    let mut params = parsed.params;
    params.version = Some("42".into());
    params.metric = Some(METRIC.into());
    params.dates.get_or_insert_with(|| format!("{D1},{D2}"));
    let b = params.overridden_by(&parsed.b);
    let a = MetricRequest::from_params(&params, Prefix::SubmissionDate, "nightly")?;
    let b = MetricRequest::from_params(&b, Prefix::SubmissionDate, "nightly")?;
    Comparison::of(&a, &b, store, &Definitions::new())
}

#[test]
fn compare_of_identical_selections_says_same() {
    let store = two_os_store(0);
    let c = compare(
        &store,
        &[("os", "Linux"), ("b.os", "Windows_NT"), ("ci", "0.95")],
    )
    .unwrap()
    .unwrap();
    let ci = c.ci.as_ref().unwrap();
    assert_eq!(ci.verdict, Some(Verdict::Same));
    assert!(ci.triggered_by.is_empty());
    assert_eq!(ci.threshold, 0.01);
    for (name, checked) in &ci.checked {
        let checked = checked.unwrap();
        assert_eq!(checked.interval.estimate, 0.0, "{name}");
        assert!(!checked.excludes_zero, "{name}");
    }
    // Every delta of a statistic has its intervals; samples and pings have none.
    for (name, delta) in &c.deltas {
        assert_eq!(
            delta.ci.is_some(),
            !matches!(name.as_str(), "samples" | "pings"),
            "{name}"
        );
    }
    assert_eq!(ci.proportions.len(), c.buckets.len());
    assert!(c.a.ci.is_some() && c.b.ci.is_some());
}

#[test]
fn compare_of_a_shifted_selection_says_differs_and_pairs_groups_by_index() {
    let store = two_os_store(8);
    let c = compare(
        &store,
        &[
            ("os", "Linux"),
            ("b.os", "Windows_NT"),
            ("ci", "0.95"),
            ("stats", "mean"),
        ],
    )
    .unwrap()
    .unwrap();
    let ci = c.ci.as_ref().unwrap();
    assert_eq!(ci.verdict, Some(Verdict::Differs));
    // The median is checked though `stats` asks only for the mean.
    assert_eq!(ci.triggered_by, ["p50"]);
    assert!(ci.checked[0].1.unwrap().excludes_zero);
    // The means are the same sums over the same samples: no change.
    let mean = c.deltas.iter().find(|(n, _)| n == "mean").unwrap().1;
    assert_eq!(mean.ci.unwrap().absolute.unwrap().interval.estimate, 0.0);

    // The median's absolute delta by hand: groups paired by index, both dates pooled.
    let bounds = layout().bounds();
    let side = |shift: usize, without: Option<u64>| {
        let mut counts = vec![0u64; layout().len()];
        for g in (0..4).filter(|g| Some(*g) != without) {
            counts[3 + shift] += 2 * (g + 1);
            counts[10 + shift] += 4;
        }
        let d = Distribution {
            kind: Kind::Exponential,
            bounds: &bounds,
            counts: &counts,
            sum: 0,
        };
        stats::percentile(&d, 50.0, PercentileMethod::Interp)
            .unwrap()
            .value
            .unwrap()
    };
    let estimate = side(8, None) - side(0, None);
    let loo: Vec<Option<f64>> = (0..4)
        .map(|g| Some(side(8, Some(g)) - side(0, Some(g))))
        .collect();
    let want = stats::jackknife(estimate, &loo, Confidence::P95).unwrap();
    let relative = ci.checked[0].1.unwrap().interval;
    assert!(close(relative.estimate, estimate / side(0, None)));
    // With p50 asked for, its delta carries the intervals.
    let c = compare(
        &store,
        &[
            ("os", "Linux"),
            ("b.os", "Windows_NT"),
            ("ci", "0.95"),
            ("stats", "p50"),
        ],
    )
    .unwrap()
    .unwrap();
    let p50 = c.deltas.iter().find(|(n, _)| n == "p50").unwrap().1;
    let got = p50.ci.unwrap().absolute.unwrap();
    assert!(close(got.interval.estimate, want.estimate));
    assert!(close(got.interval.se, want.se), "{got:?} vs {want:?}");
    assert!(got.excludes_zero);
    assert_eq!(c.ci.unwrap().triggered_by, ["p50"]);
}

#[test]
fn a_high_threshold_keeps_a_clear_change_the_same() {
    let store = two_os_store(8);
    let qs = [
        ("os", "Linux"),
        ("b.os", "Windows_NT"),
        ("ci", "0.95"),
        ("threshold", "1000"),
    ];
    let c = compare(&store, &qs).unwrap().unwrap();
    let ci = c.ci.unwrap();
    assert_eq!((ci.verdict, ci.threshold), (Some(Verdict::Same), 1000.0));
    assert!(ci.checked[0].1.unwrap().excludes_zero);
    // Without ci the threshold has nothing to set (as pct_method without stats).
    let c = compare(&store, &[("threshold", "0.05")]).unwrap().unwrap();
    assert!(c.ci.is_none());
    // A threshold that is not a relative change is refused.
    let err = ParsedParams::from_pairs([("threshold", "-0.5")], Accepts::COMPARE).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Invalid {
                what: "threshold",
                ..
            }
        ),
        "{err}"
    );
}

/// A keyed metric over two OS values and two dates, R = 4, every ping in a group: label
/// `k` has `k + 1` pings per group (label `c` the most).
fn keyed_store() -> MemoryStore {
    let store = MemoryStore::new();
    for date in [D1, D2] {
        let groups = (0..4u64)
            .map(|g| {
                let mut rows = Vec::new();
                for (k, label) in ["a", "b", "c"].iter().enumerate() {
                    for os in ["Linux", "Windows_NT"] {
                        for _ in 0..=k {
                            let h = histogram(layout(), &[(2 + k, g + 1), (5, 1)], 9 + g);
                            rows.push((key_on("KEYED_MS", label, os), h));
                        }
                    }
                }
                rows
            })
            .collect();
        store
            .write(&replicated_batch(&nightly_42(date), groups, vec![]))
            .unwrap();
    }
    store
}

#[test]
fn top_and_group_by_pair_each_entry_with_its_groups() {
    let store = keyed_store();
    let dates = format!("{D1},{D2}");
    for shape in [
        vec![("top", "1")],
        vec![("top", "1"), ("group_by", "os")],
        vec![("group_by", "label")],
        vec![("group_by", "os"), ("os", "Linux")],
    ] {
        let mut qs = vec![
            ("metric", "KEYED_MS"),
            ("dates", dates.as_str()),
            ("stats", "mean,p50"),
            ("ci", "0.95"),
        ];
        qs.extend(shape.iter().copied());
        let r = run(&store, &qs);
        for entry in &r.data {
            // Every ping is in a group: each entry's groups add up to it exactly.
            assert_eq!(ci(entry).pings, entry.count, "{shape:?} {entry:?}");
            for stat in ["mean", "p50"] {
                let i = interval(entry, stat).unwrap();
                assert_eq!(Some(i.estimate), plain(entry, stat), "{shape:?} {stat}");
                assert!(i.se > 0.0, "{shape:?} {stat}: the groups differ");
            }
        }
        if shape.contains(&("top", "1")) {
            assert!(r.data.iter().any(|p| p.label == OTHER_LABEL), "{shape:?}");
            assert!(r
                .data
                .iter()
                .all(|p| ["c", OTHER_LABEL].contains(&p.label.as_str())));
        }
    }
}

#[test]
fn evolution_points_carry_the_metric_routes_intervals() {
    let store = keyed_store();
    let dates = format!("{D1},{D2}");
    let qs = [
        ("metric", "KEYED_MS"),
        ("dates", dates.as_str()),
        ("label", "b"),
        ("stats", "mean,p50"),
        ("ci", "0.95"),
    ];
    let r = run(&store, &qs);
    let e = Evolution::of(&request(&qs, Accepts::METRIC), &store, &Definitions::new())
        .unwrap()
        .unwrap();
    let points: Vec<_> = e.series.iter().flat_map(|s| &s.data).collect();
    assert_eq!(points.len(), r.data.len());
    for (point, entry) in points.iter().zip(&r.data) {
        assert_eq!(point.ci.as_ref(), entry.ci.as_ref());
    }
    let json = serde_json::to_string(&e).unwrap();
    assert!(
        json.contains(r#""ci":{"level":0.95,"replicates":4,"pings":"#),
        "{json}"
    );
}

#[test]
fn without_complete_groups_ci_is_an_error_not_a_number() {
    let defs = Definitions::new();
    // Written without replicate groups.
    let store = MemoryStore::new();
    let mut batch = Batch::new(D1.parse().unwrap());
    batch
        .tables
        .insert(nightly_42(D1), group_rows(0, "Linux", 0));
    store.write(&batch).unwrap();
    let err = request(&[("ci", "0.95")], Accepts::METRIC)
        .run(&store, &defs)
        .unwrap_err();
    assert!(matches!(err, Error::NoReplicates(_)), "{err}");
    assert!(err.to_string().contains("--replicates"), "{err}");
    // Without ci the same store answers.
    assert!(request(&[("stats", "mean")], Accepts::METRIC)
        .run(&store, &defs)
        .unwrap()
        .is_some());

    // Dates of different replicate counts in one query; then compared with each other.
    let store = MemoryStore::new();
    for (date, r) in [(D1, 4), (D2, 2)] {
        let groups = (0..r).map(|g| group_rows(g, "Linux", 0)).collect();
        store
            .write(&replicated_batch(&nightly_42(date), groups, vec![]))
            .unwrap();
    }
    let both = format!("{D1},{D2}");
    let err = request(&[("ci", "0.95"), ("dates", &both)], Accepts::METRIC)
        .run(&store, &defs)
        .unwrap_err();
    assert!(matches!(err, Error::NoReplicates(_)), "{err}");
    let err = compare(&store, &[("dates", D1), ("b.dates", D2), ("ci", "0.95")]).unwrap_err();
    assert!(matches!(err, Error::NoReplicates(_)), "{err}");
    assert!(err.to_string().contains("same count"), "{err}");
}

#[test]
fn a_bad_level_names_the_allowed_values() {
    let err = ParsedParams::from_pairs([("ci", "0.8")], Accepts::METRIC).unwrap_err();
    assert!(matches!(err, Error::Invalid { what: "ci", .. }), "{err}");
    assert!(err.to_string().contains("0.9, 0.95 or 0.99"), "{err}");
    // labels/ takes no ci.
    let p = ParsedParams::from_pairs([("ci", "0.95")], Accepts::LABELS).unwrap();
    assert_eq!(p.unknown, ["ci"]);
}

#[test]
fn scalars_and_count_histograms_get_intervals_too() {
    let store = MemoryStore::new();
    let groups = (0..4u64)
        .map(|g| {
            let mut scalar = Histogram::empty(LayoutSpec::scalar());
            scalar.record(10 * (g + 1)).unwrap();
            let mut count = Histogram::empty(LayoutSpec::count());
            count.record(g + 2).unwrap();
            vec![
                (key_on("SCALARS_A.B", "", "Linux"), scalar),
                (key_on("[[COUNT]]_SEARCH", "x", "Linux"), count),
            ]
        })
        .collect();
    store
        .write(&replicated_batch(&nightly_42(D1), groups, vec![]))
        .unwrap();
    for metric in ["SCALARS_A.B", "SEARCH"] {
        let r = run(
            &store,
            &[("metric", metric), ("stats", "mean"), ("ci", "0.95")],
        );
        let entry = &r.data[0];
        let i = interval(entry, "mean").unwrap();
        assert_eq!(Some(i.estimate), plain(entry, "mean"), "{metric}");
        assert!(i.se > 0.0, "{metric}");
    }
}
