//! `MetricResponse::to_json` writes exactly the bytes of its serde encoding, on generated
//! answers: numeric and label buckets, strings that need escaping, groups, statistics of
//! every method (values that are missing, zero, huge or fractional) and their intervals.

use mozaggregator_core::analysis::EntryCi;
use mozaggregator_core::query::{Bucket, DataPoint, MetricResponse};
use mozaggregator_core::stats::{
    Confidence, Distribution, Interval, PercentileMethod, Plan, Stat, REPLICATE_COUNTS,
};
use mozaggregator_core::{Date, Kind, ReplicateCount};
use proptest::prelude::*;

const METHODS: [PercentileMethod; 3] = [
    PercentileMethod::Interp,
    PercentileMethod::Nearest,
    PercentileMethod::Tmo,
];

fn stat() -> impl Strategy<Value = Stat> {
    prop_oneof![
        Just(Stat::Samples),
        Just(Stat::Mean),
        (0u32..=1000).prop_map(|p| Stat::Percentile(f64::from(p) / 10.0)),
    ]
}

/// A number of every sort an interval may hold: zero, negative, tiny, huge, not finite.
fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        -1e6f64..1e6,
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY)
    ]
}

/// The `ci` of an entry: any level and count, some intervals `null`.
fn entry_ci() -> impl Strategy<Value = EntryCi> {
    let interval =
        (number(), number(), number(), number()).prop_map(|(estimate, se, lower, upper)| {
            Interval {
                estimate,
                se,
                lower,
                upper,
            }
        });
    (
        0usize..3,
        0usize..REPLICATE_COUNTS.len(),
        any::<u64>(),
        proptest::collection::vec((stat(), proptest::option::of(interval)), 0..5),
    )
        .prop_map(|(level, r, pings, stats)| EntryCi {
            level: [Confidence::P90, Confidence::P95, Confidence::P99][level],
            replicates: ReplicateCount::new(REPLICATE_COUNTS[r]).unwrap(),
            pings,
            stats: stats.into_iter().map(|(s, i)| (s.name(), i)).collect(),
        })
}

/// A string with quotes, backslashes, control characters and non-ASCII text.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z0-9_]{1,12}",
        "\\PC{0,8}",
        ".{0,8}"
    ]
}

/// An answer over `n` ascending bucket bounds, with statistics on some entries.
fn response() -> impl Strategy<Value = MetricResponse> {
    (1usize..12, 0usize..7, any::<bool>())
        .prop_flat_map(|(n, kind, labels)| {
            let bounds = proptest::collection::btree_set(0u64..u64::MAX / 2, n)
                .prop_map(|b| b.into_iter().collect::<Vec<_>>());
            let point = (
                (1900u32..2100, 1u32..=12, 1u32..=28)
                    .prop_map(|(y, m, d)| Date::from_ymd(y, m, d).unwrap()),
                text(),
                any::<u64>(),
                any::<u64>(),
                proptest::collection::vec(prop_oneof![Just(0u64), 0u64..1000, any::<u64>()], n),
                proptest::option::of(text()),
                proptest::option::of((proptest::collection::vec(stat(), 0..6), 0usize..3)),
                proptest::option::of(entry_ci()),
            );
            (
                Just(Kind::ALL[kind]),
                Just(labels),
                bounds,
                text(),
                proptest::collection::vec(point, 0..5),
            )
        })
        .prop_map(|(kind, labels, bounds, description, points)| {
            let buckets = if labels {
                bounds
                    .iter()
                    .map(|b| Bucket::Label(format!("l{b}\"\\")))
                    .collect()
            } else {
                bounds.iter().copied().map(Bucket::Number).collect()
            };
            let data = points
                .into_iter()
                .map(|(date, label, count, sum, histogram, group, stats, ci)| {
                    let mut p = DataPoint::new(date, label, count, sum, histogram);
                    p.group = group;
                    p.ci = ci;
                    p.stats = stats.map(|(stats, method)| {
                        let d = Distribution {
                            kind,
                            bounds: &bounds,
                            counts: &p.histogram,
                            sum: p.sum,
                        };
                        Plan::new(&stats).unwrap().summarize(&d, METHODS[method])
                    });
                    p
                })
                .collect();
            MetricResponse {
                buckets,
                kind: kind.name().to_string(),
                description,
                data,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn to_json_is_the_serde_encoding(response in response()) {
        let serde = serde_json::to_vec(&response).unwrap();
        prop_assert_eq!(
            String::from_utf8(response.to_json()).unwrap(),
            String::from_utf8(serde).unwrap()
        );
    }
}

/// Statistics the generator above rarely reaches: `null` values and buckets (no samples), the
/// overflow bucket's `null` upper bound, and a `tmo` mean and `null` p100.
#[test]
fn to_json_writes_nulls_as_serde_does() {
    let bounds = [0u64, 1, 10, 100];
    let plan = Plan::new(&Stat::parse_list("mean,p0,p50,p100").unwrap()).unwrap();
    let mut empty = DataPoint::new(
        Date::parse("20240101").unwrap(),
        String::new(),
        0,
        0,
        vec![0; 4],
    );
    let mut overflow = DataPoint::new(
        Date::parse("20240102").unwrap(),
        "a".into(),
        1,
        500,
        vec![0, 0, 0, 5],
    );
    for (p, method) in [
        (&mut empty, PercentileMethod::Interp),
        (&mut overflow, PercentileMethod::Tmo),
    ] {
        let d = Distribution {
            kind: Kind::Exponential,
            bounds: &bounds,
            counts: &p.histogram,
            sum: p.sum,
        };
        p.stats = Some(plan.summarize(&d, method));
    }
    let response = MetricResponse {
        buckets: bounds.iter().copied().map(Bucket::Number).collect(),
        kind: "exponential".into(),
        description: String::new(),
        data: vec![empty, overflow],
    };
    let json = String::from_utf8(response.to_json()).unwrap();
    assert!(
        json.contains(r#""stats":{"samples":0,"mean":null,"p0":null"#),
        "{json}"
    );
    assert!(json.contains(r#""p50":[100,null]"#), "{json}");
    assert!(json.contains(r#""tmo_mean":"#), "{json}");
    assert_eq!(json.into_bytes(), serde_json::to_vec(&response).unwrap());
}
