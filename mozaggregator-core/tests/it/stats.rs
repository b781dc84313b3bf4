//! The statistics module against published vectors (GLAM's percentile UDF), hand-derived
//! vectors over real Firefox layouts, and its properties by property testing: percentiles are
//! monotone in p and lie in their bucket, the one-pass `percentiles` agrees with `percentile`,
//! means, proportions and CDFs are consistent, distances are 0, symmetric and antisymmetric
//! where they must be.

use mozaggregator_core::stats::{
    self, cdf, distances, mean, percentile, percentiles, proportions, samples, summarize, tmo_mean,
    Distribution, Percentile, PercentileMethod, Stat,
};
use mozaggregator_core::{exponential_buckets, linear_buckets, Kind, LayoutSpec};
use proptest::prelude::*;

use PercentileMethod::{Interp, Nearest, Tmo};

const PS: [f64; 12] = [
    0.0, 0.1, 1.0, 5.0, 25.0, 33.3, 50.0, 75.0, 95.0, 99.0, 99.9, 100.0,
];

fn dist<'a>(kind: Kind, bounds: &'a [u64], counts: &'a [u64], sum: u64) -> Distribution<'a> {
    Distribution {
        kind,
        bounds,
        counts,
        sum,
    }
}

fn value(d: &Distribution<'_>, p: f64, m: PercentileMethod) -> Option<f64> {
    percentile(d, p, m).unwrap().value
}

// ---------------------------------------------------------------------------------------------
// GLAM's `nearest` vectors.
//
// Source: the tests of GLAM's percentile UDF, mozilla/bigquery-etl,
// sql/mozfun/glam/percentile/udf.sql (the same four assertions and one expected failure in every
// version since 2020). The UDF takes a histogram as (bucket key, count) pairs and returns the
// smallest key whose cumulative share of the total reaches pct / 100. The numbers are encoded
// here as our own cases; the keys are lower bounds of consecutive buckets.
// ---------------------------------------------------------------------------------------------

#[test]
fn glam_nearest_vectors() {
    // (bounds, counts, p, expected)
    let vectors: [(&[u64], &[u64], f64, f64); 4] = [
        (&[0, 2, 3], &[1, 2, 1], 50.0, 2.0),
        (&[0, 2, 3], &[1, 2, 1], 100.0, 3.0),
        (&[0, 2, 3], &[1, 2, 1], 0.0, 0.0),
        (&[0, 2, 10, 11], &[1, 2, 10, 100], 2.0, 2.0),
    ];
    for (bounds, counts, p, expected) in vectors {
        for kind in [
            Kind::Exponential,
            Kind::Linear,
            Kind::Enumerated,
            Kind::Count,
        ] {
            let d = dist(kind, bounds, counts, 0);
            let got = percentile(&d, p, Nearest).unwrap();
            assert_eq!(got.value, Some(expected), "{kind} {counts:?} p{p}");
            let i = bounds.iter().position(|&b| b as f64 == expected).unwrap();
            assert_eq!(got.bucket, Some((bounds[i], bounds.get(i + 1).copied())));
        }
    }
    // GLAM's expected failure: a percentile above 100.
    let d = dist(Kind::Linear, &[0, 2, 3], &[1, 2, 1], 0);
    assert!(percentile(&d, 101.0, Nearest).is_err());
}

#[test]
fn nearest_compares_cumulative_proportions() {
    // The cumulative shares of 1, 2, 10, 100 out of 113 are 0.00885, 0.0265, 0.115, 1: p0.88
    // still lands in the first bucket, p0.9 in the second, p11.5 in the third.
    let d = dist(Kind::Linear, &[0, 2, 10, 11], &[1, 2, 10, 100], 0);
    assert_eq!(value(&d, 0.88, Nearest), Some(0.0));
    assert_eq!(value(&d, 0.9, Nearest), Some(2.0));
    assert_eq!(value(&d, 11.5, Nearest), Some(10.0));
    assert_eq!(value(&d, 11.6, Nearest), Some(11.0));
    // Empty buckets are skipped: p0 is the first non-empty bucket, not bucket 0.
    let d = dist(Kind::Linear, &[0, 2, 10, 11], &[0, 0, 10, 0], 0);
    assert_eq!(value(&d, 0.0, Nearest), Some(10.0));
    assert_eq!(value(&d, 100.0, Nearest), Some(10.0));
}

// ---------------------------------------------------------------------------------------------
// Hand-derived vectors over real layouts.
// ---------------------------------------------------------------------------------------------

#[test]
fn interp_over_a_real_exponential_layout() {
    // GC_MS-like: exponential_buckets(1, 10000, 50); bucket 17 is [40, 48).
    let bounds = exponential_buckets(1, 10000, 50).unwrap();
    assert_eq!(&bounds[17..19], &[40, 48]);
    let mut counts = vec![0; 50];
    counts[17] = 10;
    counts[18] = 10;
    let d = dist(Kind::Exponential, &bounds, &counts, 900);
    // p25: halfway through [40, 48) geometrically, √(40·48).
    let p25 = percentile(&d, 25.0, Interp).unwrap();
    assert!((p25.value.unwrap() - (40.0f64 * 48.0).sqrt()).abs() < 1e-12);
    assert_eq!(p25.bucket, Some((40, Some(48))));
    // p50: the top of [40, 48) exactly (rank 10 = the first bucket's cumulative count), not the
    // bottom of the next bucket.
    let p50 = percentile(&d, 50.0, Interp).unwrap();
    assert_eq!(p50.value, Some(48.0));
    assert_eq!(p50.bucket, Some((40, Some(48))));
    // p0 and p100: the ends of the data.
    assert_eq!(value(&d, 0.0, Interp), Some(40.0));
    assert_eq!(value(&d, 100.0, Interp), Some(bounds[19] as f64));
    assert_eq!(mean(&d), Some(45.0));
}

#[test]
fn interp_zero_bucket_and_overflow_of_the_scalar_layout() {
    let bounds = LayoutSpec::scalar().bounds(); // exponential_buckets(1, 10000, 100)
    let mut counts = vec![0; bounds.len()];
    counts[0] = 8;
    let d = dist(Kind::Exponential, &bounds, &counts, 0);
    // The zero bucket [0, 1) is interpolated linearly.
    assert_eq!(value(&d, 25.0, Interp), Some(0.25));
    assert_eq!(value(&d, 100.0, Interp), Some(1.0));
    assert_eq!(value(&d, 50.0, Nearest), Some(0.0));
    assert_eq!(value(&d, 50.0, Tmo), Some(0.0)); // telemetry.js: 0 · ratio^x
                                                 // Everything in the overflow bucket: its lower bound, bucket [10000, null].
    let mut counts = vec![0; bounds.len()];
    counts[99] = 3;
    let d = dist(Kind::Exponential, &bounds, &counts, 40000);
    for m in [Interp, Nearest] {
        for p in PS {
            let got = percentile(&d, p, m).unwrap();
            assert_eq!(got.value, Some(10000.0), "{m} p{p}");
            assert_eq!(got.bucket, Some((10000, None)));
        }
    }
}

#[test]
fn interp_linear_layout() {
    let bounds = linear_buckets(1, 1000, 50).unwrap(); // 0, 1, 22, 43, 63, …
    let mut counts = vec![0; 50];
    counts[2] = 3; // [22, 43)
    counts[3] = 1; // [43, 63)
    let d = dist(Kind::Linear, &bounds, &counts, 120);
    let close = |got: Option<f64>, want: f64| (got.unwrap() - want).abs() < 1e-12;
    assert!(close(value(&d, 50.0, Interp), 22.0 + 21.0 * 2.0 / 3.0)); // rank 2 of 3 in [22, 43)
    assert!(close(value(&d, 90.0, Interp), 43.0 + 20.0 * 0.6)); // rank 3.6: 0.6 into [43, 63)
    assert_eq!(value(&d, 90.0, Nearest), Some(43.0));
}

#[test]
fn unordered_kinds_have_proportions_only() {
    let bounds: Vec<u64> = (0..5).collect();
    let counts = [3, 0, 1, 0, 4];
    for kind in [Kind::Categorical, Kind::Boolean, Kind::Flag] {
        let d = dist(kind, &bounds, &counts, 7);
        for m in PercentileMethod::ALL {
            assert_eq!(
                percentile(&d, 50.0, m).unwrap(),
                Percentile::NONE,
                "{kind} {m}"
            );
        }
        assert_eq!(mean(&d), None);
        assert_eq!(tmo_mean(&d), None);
        assert_eq!(samples(&d), 8);
        assert_eq!(proportions(&d), vec![0.375, 0.0, 0.125, 0.0, 0.5]);
        assert_eq!(cdf(&d), vec![0.375, 0.375, 0.5, 0.5, 1.0]);
        let s = summarize(&d, &Stat::parse_list("mean,p50").unwrap(), Tmo).unwrap();
        assert_eq!(
            serde_json::to_string(&s.values_json()).unwrap(),
            r#"{"samples":8,"mean":null,"p50":null,"tmo_mean":null}"#
        );
    }
}

#[test]
fn summary_json_in_request_order() {
    let bounds = exponential_buckets(1, 10000, 50).unwrap();
    let mut counts = vec![0; 50];
    counts[17] = 10;
    counts[49] = 10;
    let d = dist(Kind::Exponential, &bounds, &counts, 100_450);
    let stats = Stat::parse_list(" p99 ,mean, p0,samples,p25").unwrap();
    let s = summarize(&d, &stats, Interp).unwrap();
    let values = serde_json::to_value(s.values_json()).unwrap();
    let text = serde_json::to_string(&s.values_json()).unwrap();
    assert!(text.starts_with(r#"{"samples":20,"p99":10000.0,"mean":5022.5,"p0":40.0,"p25":"#));
    assert_eq!(values.as_object().unwrap().len(), 5);
    assert_eq!(
        serde_json::to_string(&s.buckets_json()).unwrap(),
        r#"{"p99":[10000,null],"p0":[40,48],"p25":[40,48]}"#
    );
    assert_eq!(s.tmo_mean(), None);
}

#[test]
fn distances_of_served_distributions() {
    let bounds = exponential_buckets(1, 10000, 50).unwrap();
    let mut a = vec![0; 50];
    let mut b = vec![0; 50];
    a[10..20].iter_mut().for_each(|c| *c = 100);
    b[12..22].iter_mut().for_each(|c| *c = 100); // B moved right by two buckets
    let pa = proportions(&dist(Kind::Exponential, &bounds, &a, 0));
    let pb = proportions(&dist(Kind::Exponential, &bounds, &b, 0));
    let d = distances(&pa, &pb);
    assert!((d.ks - 0.2).abs() < 1e-12);
    assert!(d.cdf_squared > 0.0);
    // CDF differences over buckets 10..=21: 0.1, then 0.2 in 11..=19, 0.1, 0: squares
    // 0.01·2 + 0.04·9.
    assert!((d.cdf_squared - 0.38).abs() < 1e-12, "{}", d.cdf_squared);
    // Σ√(pq) over the 8 shared buckets of 0.1 each: 0.8, so √0.2.
    assert!((d.bhattacharyya - 0.2f64.sqrt()).abs() < 1e-12);
    let back = distances(&pb, &pa);
    assert_eq!(back.cdf_squared, -d.cdf_squared);
    assert_eq!(
        serde_json::to_value(d).unwrap().as_object().unwrap().len(),
        3
    );
}

// ---------------------------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------------------------

/// A real layout: (kind, bounds).
fn layouts() -> Vec<(Kind, Vec<u64>)> {
    vec![
        (
            Kind::Exponential,
            exponential_buckets(1, 10000, 50).unwrap(),
        ),
        (Kind::Exponential, LayoutSpec::scalar().bounds()),
        (
            Kind::Exponential,
            exponential_buckets(50, 60000, 20).unwrap(),
        ),
        (Kind::Exponential, exponential_buckets(1, 100, 5).unwrap()),
        (Kind::Linear, linear_buckets(1, 1000, 50).unwrap()),
        (Kind::Linear, linear_buckets(5, 100, 8).unwrap()),
        (
            Kind::Enumerated,
            LayoutSpec::enumerated(20).unwrap().bounds(),
        ),
        (
            Kind::Enumerated,
            LayoutSpec::enumerated(2).unwrap().bounds(),
        ),
        (Kind::Count, LayoutSpec::scalar().bounds()),
        (
            Kind::Categorical,
            LayoutSpec::categorical(6).unwrap().bounds(),
        ),
        (Kind::Boolean, LayoutSpec::boolean().bounds()),
        (Kind::Flag, LayoutSpec::flag().bounds()),
    ]
}

/// Counts over `len` buckets: mostly empty, some small, some large, sometimes all empty.
fn counts(len: usize) -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(
        prop_oneof![
            4 => Just(0u64),
            3 => 1u64..10,
            1 => 0u64..1_000_000_000,
        ],
        len,
    )
}

/// A distribution over a real layout: (kind, bounds, counts, sum).
fn distribution() -> impl Strategy<Value = (Kind, Vec<u64>, Vec<u64>, u64)> {
    prop::sample::select(layouts()).prop_flat_map(|(kind, bounds)| {
        let len = bounds.len();
        (Just(kind), Just(bounds), counts(len), 0u64..1 << 50)
    })
}

/// Two distributions over the same layout.
fn pair() -> impl Strategy<Value = (Kind, Vec<u64>, Vec<u64>, Vec<u64>)> {
    prop::sample::select(layouts()).prop_flat_map(|(kind, bounds)| {
        let len = bounds.len();
        (Just(kind), Just(bounds), counts(len), counts(len))
    })
}

/// The percentiles of many `p` in ascending order, and the `p`s themselves.
fn sweep(d: &Distribution<'_>, m: PercentileMethod, extra: &[f64]) -> (Vec<f64>, Vec<Percentile>) {
    let mut ps: Vec<f64> = PS.iter().chain(extra).copied().collect();
    ps.sort_by(f64::total_cmp);
    let got = percentiles(d, &ps, m).unwrap();
    (ps, got)
}

fn assert_monotone(ps: &[f64], got: &[Percentile]) -> Result<(), TestCaseError> {
    let values: Vec<(f64, f64)> = ps
        .iter()
        .zip(got)
        .filter_map(|(&p, g)| g.value.map(|v| (p, v)))
        .collect();
    for w in values.windows(2) {
        prop_assert!(
            w[0].1 <= w[1].1,
            "p{} = {} > p{} = {}",
            w[0].0,
            w[0].1,
            w[1].0,
            w[1].1
        );
    }
    Ok(())
}

fn assert_in_bucket(got: &[Percentile], strict: bool) -> Result<(), TestCaseError> {
    for g in got {
        prop_assert_eq!(g.value.is_some(), g.bucket.is_some());
        if let (Some(v), Some((l, u))) = (g.value, g.bucket) {
            prop_assert!(v >= l as f64, "{} below its bucket [{}, {:?}]", v, l, u);
            if let (true, Some(u)) = (strict, u) {
                prop_assert!(v <= u as f64, "{} above its bucket [{}, {}]", v, l, u);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn interp_and_nearest_are_monotone_and_in_their_bucket(
        (kind, bounds, counts, sum) in distribution(),
        extra in prop::collection::vec(0.0f64..=100.0, 0..8),
    ) {
        let d = dist(kind, &bounds, &counts, sum);
        for m in [Interp, Nearest] {
            let (ps, got) = sweep(&d, m, &extra);
            assert_monotone(&ps, &got)?;
            assert_in_bucket(&got, true)?;
            let defined = samples(&d) > 0 && stats::has_order(kind);
            prop_assert!(got.iter().all(|g| g.value.is_some() == defined));
        }
    }

    #[test]
    fn interp_and_nearest_land_in_the_bucket_of_the_rank(
        (kind, bounds, counts, sum) in distribution(),
        p in 0.0f64..=100.0,
    ) {
        let d = dist(kind, &bounds, &counts, sum);
        let n: u128 = counts.iter().map(|&c| u128::from(c)).sum();
        for (m, p) in [Interp, Nearest].into_iter().flat_map(|m| PS.iter().chain([&p]).map(move |&p| (m, p))) {
            let Some((l, _)) = percentile(&d, p, m).unwrap().bucket else { continue };
            let i = bounds.iter().position(|&b| b == l).unwrap();
            prop_assert!(counts[i] > 0, "an empty bucket");
            let before: u128 = counts[..i].iter().map(|&c| u128::from(c)).sum();
            let through = before + u128::from(counts[i]);
            let (before, through, n) = (before as f64, through as f64, n as f64);
            match m {
                Interp => {
                    let rank = p / 100.0 * n;
                    prop_assert!(through >= rank && (before < rank || before == 0.0));
                }
                _ => {
                    prop_assert!(through / n >= p / 100.0);
                    prop_assert!(before == 0.0 || before / n < p / 100.0);
                }
            }
        }
    }

    #[test]
    fn tmo_is_never_below_its_bucket_and_monotone_over_unit_buckets(
        (kind, bounds, counts, sum) in distribution(),
    ) {
        // telemetry.js uses the last bucket's width or ratio everywhere, so its percentiles can
        // leave their bucket and go backwards on layouts whose buckets differ; where every
        // bucket has the same width (enumerated), they are monotone and inside.
        let d = dist(kind, &bounds, &counts, sum);
        let (ps, got) = sweep(&d, Tmo, &[]);
        let uniform = kind == Kind::Enumerated;
        assert_in_bucket(&got, uniform)?;
        if uniform {
            assert_monotone(&ps, &got)?;
        }
        // p100 is NaN in telemetry.js.
        prop_assert_eq!(got.last().copied(), Some(Percentile::NONE));
    }

    #[test]
    fn one_pass_percentiles_equal_single_percentiles(
        (kind, bounds, counts, sum) in distribution(),
        ps in prop::collection::vec(0.0f64..=100.0, 0..10),
    ) {
        let d = dist(kind, &bounds, &counts, sum);
        for m in PercentileMethod::ALL {
            let all = percentiles(&d, &ps, m).unwrap();
            prop_assert_eq!(all.len(), ps.len());
            for (&p, got) in ps.iter().zip(&all) {
                prop_assert_eq!(*got, percentile(&d, p, m).unwrap());
            }
        }
    }

    #[test]
    fn mean_proportions_and_cdf_agree((kind, bounds, counts, sum) in distribution()) {
        let d = dist(kind, &bounds, &counts, sum);
        let n: u64 = counts.iter().sum();
        prop_assert_eq!(samples(&d), n);
        let expected_mean = (n > 0 && stats::has_order(kind)).then(|| sum as f64 / n as f64);
        prop_assert_eq!(mean(&d), expected_mean);
        let props = proportions(&d);
        let c = cdf(&d);
        prop_assert_eq!(props.len(), counts.len());
        prop_assert_eq!(c.len(), counts.len());
        prop_assert!(c.windows(2).all(|w| w[0] <= w[1]));
        if n > 0 {
            prop_assert!((props.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            prop_assert_eq!(c.last().copied(), Some(1.0));
            for (p, &count) in props.iter().zip(&counts) {
                prop_assert_eq!(*p, count as f64 / n as f64);
            }
        } else {
            prop_assert!(props.iter().chain(&c).all(|&x| x == 0.0));
        }
        prop_assert_eq!(tmo_mean(&d).is_some(), n > 0 && stats::has_order(kind));
    }

    #[test]
    fn distances_are_zero_symmetric_and_antisymmetric((kind, bounds, a, b) in pair()) {
        let pa = proportions(&dist(kind, &bounds, &a, 0));
        let pb = proportions(&dist(kind, &bounds, &b, 0));
        let same = distances(&pa, &pa);
        if a.iter().any(|&c| c > 0) {
            prop_assert_eq!((same.bhattacharyya, same.ks, same.cdf_squared), (0.0, 0.0, 0.0));
        }
        let ab = distances(&pa, &pb);
        let ba = distances(&pb, &pa);
        prop_assert_eq!(ab.bhattacharyya, ba.bhattacharyya);
        prop_assert_eq!(ab.ks, ba.ks);
        prop_assert_eq!(ab.cdf_squared, -ba.cdf_squared);
        prop_assert!((0.0..=1.0).contains(&ab.bhattacharyya));
        prop_assert!((0.0..=1.0 + 1e-12).contains(&ab.ks));
        prop_assert!(ab.cdf_squared.abs() <= bounds.len() as f64 * (1.0 + 1e-9));
    }
}

#[test]
fn tmo_is_not_monotone_on_uneven_linear_buckets() {
    // The documented quirk the property above excludes: linear bounds 0, 1, 11, 21 (last width
    // 10). Two samples in [0, 1) and two in [1, 11): p49 is 0 + 10·0.98 = 9.8, p51 is
    // 1 + 10·0.02 = 1.2.
    let d = dist(Kind::Linear, &[0, 1, 11, 21], &[2, 2, 0, 0], 0);
    let p49 = value(&d, 49.0, Tmo).unwrap();
    let p51 = value(&d, 51.0, Tmo).unwrap();
    assert!(
        (p49 - 9.8).abs() < 1e-12 && (p51 - 1.2).abs() < 1e-12,
        "{p49} {p51}"
    );
    assert!(value(&d, 49.0, Interp).unwrap() <= value(&d, 51.0, Interp).unwrap());
}
