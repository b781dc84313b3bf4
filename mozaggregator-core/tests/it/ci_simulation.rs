//! Simulations of `ci=` (issue #11): do the jackknife intervals over replicate groups mean what
//! they say? Clients with their own latent distributions send several pings each; the pings go
//! through the real ingest (`Aggregator` with replicates) into a store, and the intervals come
//! from the Analysis API, as a user gets them. Seeded, so every run of the suite sees the same
//! numbers.
//!
//! - Coverage: 90 % intervals of the mean and the median cover the population value in 85–95 %
//!   of fresh populations. The naive interval that treats every sample as independent (what a
//!   pooled-bucket test does) is printed beside it and must cover far less.
//! - Comparison: two samples of one population are called "differs" in at most 15 % of runs
//!   at 0.9; a real 10 % shift is detected in at least 80 % of runs, with 300 clients per side.

use mozaggregator_core::analysis::{Comparison, MetricRequest, Verdict};
use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::query::MetricQuery;
use mozaggregator_core::stats::{percentile, Confidence, Distribution, PercentileMethod, Stat};
use mozaggregator_core::{
    exponential_buckets, Aggregates, Aggregator, Date, Filter, Kind, MemoryStore, Options, Prefix,
    ReplicateCount,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

const METRIC: &str = "SIMULATED_MS";
const DAY: &str = "20240601";
const HIGH: u64 = 10_000;
const BUCKETS: u32 = 50;
const R: u32 = 20;
/// Clients per population in the coverage test.
const CLIENTS: usize = 300;

/// The population clients are drawn from: each client's log-values are normal around its own
/// centre μ_c ~ N(μ₀, σ_between²), with spread σ_within.
#[derive(Clone, Copy)]
struct Population {
    mu0: f64,
    sigma_between: f64,
    sigma_within: f64,
}

const POPULATION: Population = Population {
    mu0: 5.0, // e^5 ≈ 148
    sigma_between: 0.3,
    sigma_within: 0.6,
};

fn normal(rng: &mut SmallRng) -> f64 {
    // Box–Muller; 1 − u keeps the logarithm finite.
    let (u, v): (f64, f64) = (rng.random(), rng.random());
    (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn bounds() -> Vec<u64> {
    exponential_buckets(1, HIGH, BUCKETS).unwrap()
}

/// The bucket of `value`: the last lower bound not above it.
fn bucket(bounds: &[u64], value: u64) -> usize {
    bounds.partition_point(|&b| b <= value).saturating_sub(1)
}

/// Pings of `clients` clients of `pop` (values × `shift`), of Firefox `version`.
fn pings(
    rng: &mut SmallRng,
    pop: Population,
    clients: usize,
    shift: f64,
    version: &str,
) -> Vec<String> {
    let bounds = bounds();
    let mut out = Vec::new();
    for _ in 0..clients {
        let client_id = format!("{:016x}-{:016x}", rng.random::<u64>(), rng.random::<u64>());
        let centre = pop.mu0 + pop.sigma_between * normal(rng);
        for _ in 0..rng.random_range(1..=5) {
            let mut values = Map::new();
            let mut counts = vec![0u64; bounds.len()];
            let mut sum = 0u64;
            for _ in 0..rng.random_range(3..=12) {
                let v = ((centre + pop.sigma_within * normal(rng)).exp() * shift).round() as u64;
                counts[bucket(&bounds, v)] += 1;
                sum += v;
            }
            for (b, c) in bounds.iter().zip(&counts).filter(|(_, c)| **c > 0) {
                values.insert(b.to_string(), json!(c));
            }
            out.push(
                json!({
                    "clientId": client_id,
                    "meta": {"submissionDate": DAY},
                    "application": {"channel": "nightly", "version": version,
                                    "buildId": "20240531000000", "name": "Firefox",
                                    "architecture": "x86-64"},
                    "environment": {"system": {"os": {"name": "Windows_NT", "version": "10.0"}}},
                    "payload": {"histograms": {METRIC: {
                        "range": [1, HIGH], "bucket_count": BUCKETS, "histogram_type": 0,
                        "sum": sum, "values": Value::Object(values)}}}
                })
                .to_string(),
            );
        }
    }
    out
}

/// A store holding the pings, aggregated with R replicate groups.
fn store_of(pings: &[String]) -> MemoryStore {
    let options = Options {
        replicates: Some(ReplicateCount::new(R).unwrap()),
        ..Options::default()
    };
    let mut aggregator = Aggregator::new(options);
    let mut aggregates = Aggregates::new();
    for ping in pings {
        aggregator.add_json(&mut aggregates, ping.as_bytes());
    }
    assert_eq!(aggregates.report().pings_used, pings.len() as u64);
    let store = MemoryStore::new();
    aggregates.write_to(&store, |_| {}).unwrap();
    store
}

fn request(version: &str) -> MetricRequest {
    MetricRequest {
        stats: Some(Stat::parse_list("mean,p50").unwrap()),
        method: PercentileMethod::Interp,
        ci: Some(Confidence::P90),
        ..MetricRequest::plain(MetricQuery {
            prefix: Prefix::SubmissionDate,
            channel: "nightly".into(),
            version: version.into(),
            dates: vec![Date::parse(DAY).unwrap()],
            metric: METRIC.into(),
            filter: Filter::All,
        })
    }
}

/// The population's mean, and the median the `interp` method gives on the population's own
/// bucketed distribution (estimated once from 2 million draws): the values the intervals aim
/// at. (A percentile of bucketed data can only aim at that.)
fn population_values(pop: Population) -> (f64, f64) {
    let var = pop.sigma_between.powi(2) + pop.sigma_within.powi(2);
    let mean = (pop.mu0 + var / 2.0).exp();
    let bounds = bounds();
    let mut counts = vec![0u64; bounds.len()];
    let mut rng = SmallRng::seed_from_u64(7);
    for _ in 0..2_000_000 {
        let v = (pop.mu0 + var.sqrt() * normal(&mut rng)).exp().round() as u64;
        counts[bucket(&bounds, v)] += 1;
    }
    let d = Distribution {
        kind: Kind::Exponential,
        bounds: &bounds,
        counts: &counts,
        sum: 0,
    };
    let median = percentile(&d, 50.0, PercentileMethod::Interp)
        .unwrap()
        .value
        .unwrap();
    (mean, median)
}

/// The naive 90 % intervals that treat every sample as independent: mean ± z·s/√N with bucket
/// midpoints as values; the median between the percentiles 50 ∓ z·50/√N.
fn naive(counts: &[u64], sum: u64) -> ((f64, f64), (f64, f64)) {
    let z = 1.6448536269514722;
    let bounds = bounds();
    let n: u64 = counts.iter().sum();
    let nf = n as f64;
    let mean = sum as f64 / nf;
    let mid = |i: usize| match bounds.get(i + 1) {
        Some(&u) => ((bounds[i].max(1) as f64) * u as f64).sqrt(),
        None => bounds[i] as f64,
    };
    let var = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| c as f64 * (mid(i) - mean).powi(2))
        .sum::<f64>()
        / (nf - 1.0);
    let half = z * (var / nf).sqrt();
    let d = Distribution {
        kind: Kind::Exponential,
        bounds: &bounds,
        counts,
        sum,
    };
    let at = |p: f64| {
        percentile(&d, p, PercentileMethod::Interp)
            .unwrap()
            .value
            .unwrap()
    };
    let spread = z * 50.0 / nf.sqrt();
    (
        (mean - half, mean + half),
        (at(50.0 - spread), at(50.0 + spread)),
    )
}

#[test]
fn intervals_cover_the_population_value_at_their_level() {
    let (true_mean, true_median) = population_values(POPULATION);
    let defs = Definitions::new();
    let runs = 200;
    let mut rng = SmallRng::seed_from_u64(2024);
    let (mut mean_in, mut median_in, mut naive_mean_in, mut naive_median_in) = (0, 0, 0, 0);
    for _ in 0..runs {
        let store = store_of(&pings(&mut rng, POPULATION, CLIENTS, 1.0, "130"));
        let response = request("130").run(&store, &defs).unwrap().unwrap();
        let entry = &response.data[0];
        let ci = entry.ci.as_ref().expect("intervals");
        let interval = |name: &str| {
            ci.stats
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, i)| *i)
                .expect(name)
        };
        let covers = |i: mozaggregator_core::stats::Interval, v: f64| i.lower <= v && v <= i.upper;
        mean_in += usize::from(covers(interval("mean"), true_mean));
        median_in += usize::from(covers(interval("p50"), true_median));
        let ((ml, mu), (dl, du)) = naive(&entry.histogram, entry.sum);
        naive_mean_in += usize::from(ml <= true_mean && true_mean <= mu);
        naive_median_in += usize::from(dl <= true_median && true_median <= du);
    }
    let rate = |n: usize| n as f64 / runs as f64;
    eprintln!(
        "90 % intervals over {runs} populations of {CLIENTS} clients, R = {R}: mean covered {:.1} % \
         (naive pooled-sample interval: {:.1} %), median covered {:.1} % (naive: {:.1} %)",
        100.0 * rate(mean_in),
        100.0 * rate(naive_mean_in),
        100.0 * rate(median_in),
        100.0 * rate(naive_median_in)
    );
    for (what, n) in [("mean", mean_in), ("median", median_in)] {
        assert!(
            (0.85..=0.95).contains(&rate(n)),
            "{what} covered in {:.1} % of runs",
            100.0 * rate(n)
        );
    }
    assert!(
        rate(naive_mean_in) < 0.75,
        "the naive mean interval covered {:.1} %",
        100.0 * rate(naive_mean_in)
    );
    assert!(
        rate(naive_median_in) < 0.75,
        "the naive median interval covered {:.1} %",
        100.0 * rate(naive_median_in)
    );
}

/// The verdicts of `runs` comparisons of two fresh samples, B's values × `shift`.
fn verdicts(seed: u64, runs: usize, clients: usize, shift: f64) -> usize {
    let defs = Definitions::new();
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut differs = 0;
    for _ in 0..runs {
        let mut all = pings(&mut rng, POPULATION, clients, 1.0, "130");
        all.extend(pings(&mut rng, POPULATION, clients, shift, "131"));
        let store = store_of(&all);
        let c = Comparison::of(&request("130"), &request("131"), &store, &defs)
            .unwrap()
            .unwrap();
        let verdict = c.ci.as_ref().and_then(|ci| ci.verdict);
        differs += usize::from(verdict == Some(Verdict::Differs));
    }
    differs
}

#[test]
fn comparing_a_population_with_itself_rarely_says_differs() {
    let runs = 100;
    let differs = verdicts(11, runs, 300, 1.0);
    eprintln!("same population, {runs} runs of 300 clients per side: \"differs\" in {differs}");
    assert!(
        differs * 100 <= 15 * runs,
        "{differs} of {runs} runs said differs"
    );
}

#[test]
fn a_ten_percent_shift_is_detected() {
    let runs = 100;
    let differs = verdicts(12, runs, 300, 1.1);
    eprintln!("values × 1.1, {runs} runs of 300 clients per side: \"differs\" in {differs}");
    assert!(
        differs * 100 >= 80 * runs,
        "only {differs} of {runs} runs said differs"
    );
}
