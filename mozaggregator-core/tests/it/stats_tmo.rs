//! The `tmo` percentiles and `tmo_mean` against Mozilla's real telemetry.js (v2, the client of
//! the Telemetry dashboards), run under Node by tests/js/stats_check.js.
//!
//! Over a thousand served distributions of every kind (real Firefox layouts from the layout
//! functions, sparse and dense counts, empty, overflow-only, zero-bucket-only…), generated
//! from a fixed seed, go to a JSON file shaped like API answers together with our answers; the
//! script builds telemetry.js `Evolution`s from them exactly as telemetry.js does from an API
//! answer, and compares `histogram().percentile(p)` and `histogram().mean()` with ours.
//!
//! Optional: runs only when `TELEMETRY_JS` names a local copy of telemetry.js (it is not part of
//! this repository, and nothing is fetched) and `node` is installed; otherwise it records a skip
//! (`testing::skip`), which scripts/test.sh lists at the end, as
//! mozaggregator/tests/it/telemetry_js.rs does.

use mozaggregator_core::stats::{percentiles, tmo_mean, Distribution, PercentileMethod};
use mozaggregator_core::{exponential_buckets, linear_buckets, Kind, LayoutSpec};
use serde_json::{json, Value};

/// The percentiles compared, as the dashboards and the Analysis API ask for them.
const PS: [f64; 10] = [0.0, 1.0, 5.0, 25.0, 50.0, 75.0, 95.0, 99.0, 99.9, 100.0];

/// Distributions generated per kind (7 kinds).
const PER_KIND: usize = 160;

/// How the counts of a generated distribution are spread; every kind gets every shape.
const SHAPES: [&str; 10] = [
    "empty",
    "overflow-only",
    "one-bucket",
    "zero-bucket-only",
    "sparse",
    "dense",
    "dense-large",
    "ones",
    "first-and-last",
    "bell",
];

/// splitmix64: a small deterministic generator, so the cases are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the modulo bias does not matter here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize].clone()
    }
}

/// One generated case: what the API would serve, and the distribution we compute on.
struct Case {
    name: String,
    kind: Kind,
    /// The API's `buckets` (numbers, or label strings for some categorical cases).
    buckets: Value,
    /// The API's `histogram`, before being split over dates.
    histogram: Vec<u64>,
    /// Our bounds: the numeric buckets (categorical: label indices).
    bounds: Vec<u64>,
}

/// The served layout of a kind: (API buckets, our bounds, API histogram length).
fn layout(kind: Kind, rng: &mut Rng) -> (Value, Vec<u64>, usize) {
    let numeric = |b: Vec<u64>| {
        let n = b.len();
        (json!(b), b, n)
    };
    match kind {
        Kind::Exponential => {
            let (low, high, n) = rng.pick(&[
                (1, 10_000, 50),
                (1, 10_000, 100), // numeric scalars
                (1, 30_000, 50),  // simple measures
                (50, 60_000, 20),
                (1, 1000, 10),
                (1, 100_000, 100),
                (10, 1_000_000, 30),
                (1, 50, 5),
                (1, 1 << 40, 80),
            ]);
            numeric(exponential_buckets(low, high, n).unwrap())
        }
        Kind::Linear => {
            let (low, high, n) = rng.pick(&[
                (1, 100, 10),
                (1, 1000, 50),
                (1, 30_000, 31),
                (1, 3, 4),
                (5, 100, 8),
                (1, 10, 11),
                (100, 1_000_000, 100),
            ]);
            numeric(linear_buckets(low, high, n).unwrap())
        }
        Kind::Enumerated => {
            let n = rng.pick(&[2, 3, 10, 20, 50, 100]);
            numeric(LayoutSpec::enumerated(n).unwrap().bounds())
        }
        // Count histograms are served over the scalar labels.
        Kind::Count => numeric(LayoutSpec::scalar().bounds()),
        Kind::Boolean => numeric(LayoutSpec::boolean().bounds()),
        // Flags are served with buckets [0, 1] and their three stored counts.
        Kind::Flag => (json!([0, 1]), vec![0, 1], 3),
        Kind::Categorical => {
            let n = rng.pick(&[2u32, 3, 6, 20, 51]);
            let bounds = LayoutSpec::categorical(n).unwrap().bounds();
            if rng.below(2) == 0 {
                // Labels from the definitions, plus "spill".
                let mut labels: Vec<String> = (1..n).map(|l| format!("LABEL_{l}")).collect();
                labels.push("spill".into());
                (json!(labels), bounds, n as usize)
            } else {
                numeric(bounds)
            }
        }
    }
}

/// Counts over `len` buckets in the given shape.
fn counts(shape: &str, len: usize, rng: &mut Rng) -> Vec<u64> {
    let mut c = vec![0u64; len];
    let last = len - 1;
    match shape {
        "empty" => {}
        "overflow-only" => c[last] = 1 + rng.below(1_000_000),
        "one-bucket" => c[rng.below(len as u64) as usize] = 1 + rng.below(1000),
        "zero-bucket-only" => c[0] = 1 + rng.below(100_000),
        "sparse" => {
            for _ in 0..1 + rng.below(5) {
                c[rng.below(len as u64) as usize] += 1 + rng.below(1_000_000);
            }
        }
        "dense" => c.iter_mut().for_each(|x| *x = rng.below(1000)),
        "dense-large" => c.iter_mut().for_each(|x| *x = rng.below(100_000_000_000)),
        "ones" => {
            for _ in 0..1 + rng.below(len as u64) {
                c[rng.below(len as u64) as usize] = 1;
            }
        }
        "first-and-last" => {
            c[0] = 1 + rng.below(50);
            c[last] = 1 + rng.below(50);
        }
        _ => {
            let centre = rng.below(len as u64) as f64;
            let spread = 1.0 + rng.below(len as u64 / 2 + 1) as f64;
            let peak = 1.0 + rng.below(1_000_000) as f64;
            for (i, x) in c.iter_mut().enumerate() {
                let z = (i as f64 - centre) / spread;
                *x = (peak * (-0.5 * z * z).exp()).round() as u64;
            }
        }
    }
    c
}

fn cases() -> Vec<Case> {
    let mut rng = Rng(20_240_115);
    let mut out = Vec::new();
    for kind in Kind::ALL {
        for i in 0..PER_KIND {
            let shape = SHAPES[i % SHAPES.len()];
            let (buckets, bounds, len) = layout(kind, &mut rng);
            out.push(Case {
                name: format!("{kind}-{i}-{shape}-{}b", bounds.len()),
                kind,
                buckets,
                histogram: counts(shape, len, &mut rng),
                bounds,
            });
        }
    }
    out
}

/// One case as JSON: an API answer (`buckets`, `kind`, `data` split over 1 to 3 dates, as
/// telemetry.js sums them back) and our answers.
fn case_json(case: &Case, rng: &mut Rng) -> Value {
    let dates = 1 + rng.below(3) as usize;
    let mut parts = vec![vec![0u64; case.histogram.len()]; dates];
    for (b, &count) in case.histogram.iter().enumerate() {
        let mut left = count;
        for part in parts.iter_mut().take(dates - 1) {
            let share = rng.below(left + 1);
            part[b] = share;
            left -= share;
        }
        parts[dates - 1][b] = left;
    }
    let mut sum = 0u64;
    let data: Vec<Value> = parts
        .into_iter()
        .enumerate()
        .map(|(d, histogram)| {
            let entry_sum = rng.below(1 << 40);
            sum += entry_sum;
            json!({
                "date": format!("202401{:02}", d + 10),
                "label": "",
                "count": 1 + rng.below(1000),
                "sum": entry_sum,
                "histogram": histogram,
            })
        })
        .collect();
    let d = Distribution {
        kind: case.kind,
        bounds: &case.bounds,
        counts: &case.histogram,
        sum,
    };
    let ours = percentiles(&d, &PS, PercentileMethod::Tmo).unwrap();
    json!({
        "name": case.name,
        "answer": {
            "buckets": case.buckets,
            "kind": case.kind.name(),
            "description": "",
            "data": data,
        },
        "ours": {
            "percentiles": ours.iter().map(|p| p.value).collect::<Vec<_>>(),
            "mean": tmo_mean(&d),
        },
    })
}

#[test]
fn generated_cases_cover_every_kind_and_shape() {
    let cases = cases();
    assert!(cases.len() >= 1000);
    for kind in Kind::ALL {
        for shape in SHAPES {
            let n = cases
                .iter()
                .filter(|c| c.kind == kind && c.name.contains(&format!("-{shape}-")))
                .count();
            assert!(n >= 10, "{kind} {shape}: {n}");
        }
    }
    let empty = cases
        .iter()
        .filter(|c| c.histogram.iter().all(|&x| x == 0))
        .count();
    assert!(empty >= 7 * 16);
}

#[test]
fn tmo_matches_telemetry_js() {
    let Ok(telemetry_js) = std::env::var("TELEMETRY_JS") else {
        mozaggregator_core::testing::skip("set TELEMETRY_JS=/path/to/telemetry.js to run");
        return;
    };
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        mozaggregator_core::testing::skip("node is not installed; install Node.js to run");
        return;
    }
    let mut rng = Rng(7);
    let cases: Vec<Value> = cases().iter().map(|c| case_json(c, &mut rng)).collect();
    let n = cases.len();
    assert!(n >= 1000);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tmo_cases.json");
    let doc = json!({ "percentiles": PS, "cases": cases });
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/js/stats_check.js");
    let output = std::process::Command::new("node")
        .arg(script)
        .arg(&file)
        .env("TELEMETRY_JS", &telemetry_js)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "stats_check.js failed:\n{stdout}");
    assert!(
        stdout.contains(&format!("{n} passed, 0 failed")),
        "every one of the {n} histograms must pass:\n{stdout}"
    );
}
