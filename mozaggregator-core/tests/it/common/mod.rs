//! Helpers shared by the integration tests of the core crate (and the CLI tests of the server
//! crate, which include this file by path): where the reference data and fixtures are, and the
//! expected-layout format of `ranges_all_defs.json` and `histograms-quirks.expected.json`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// `../shared/data` next to the repository, when it is there; otherwise the skip is recorded
/// (printed, and counted by `scripts/test.sh`) and the test returns early.
pub fn shared_data() -> Option<PathBuf> {
    mozaggregator_core::testing::shared_data()
}

/// A file of the core crate's test fixtures.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mozaggregator-core/tests/fixtures")
        .join(name)
}

/// Reads a whole file as text.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads a JSON object.
pub fn read_object(path: &Path) -> Map<String, Value> {
    match serde_json::from_str(&read(path)) {
        Ok(Value::Object(m)) => m,
        other => panic!("{}: not a JSON object: {other:?}", path.display()),
    }
}

/// `"exp(1,30000,50)"` → `("exp", 1, 30000, 50)`.
pub fn parse_vector_key(key: &str) -> (&str, u64, u64, u32) {
    let (func, rest) = key.split_once('(').expect("vector key has `(`");
    let args: Vec<u64> = rest
        .trim_end_matches(')')
        .split(',')
        .map(|a| a.trim().parse().expect("vector argument"))
        .collect();
    assert_eq!(args.len(), 3, "{key}");
    (func, args[0], args[1], u32::try_from(args[2]).unwrap())
}

/// A JSON array of non-negative integers (integral floats accepted).
pub fn u64s(value: &Value) -> Vec<u64> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| match v.as_u64() {
            Some(u) => u,
            None => {
                let f = v.as_f64().expect("number");
                assert!(f >= 0.0 && f.fract() == 0.0, "{f} is not a count");
                f as u64
            }
        })
        .collect()
}

/// A JSON array of strings.
pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_str().expect("string").to_string())
        .collect()
}

/// What a metric's layout must be, from an expected-layout file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Metric name.
    pub name: String,
    /// Kind name.
    pub kind: String,
    /// Lower bounds.
    pub ranges: Vec<u64>,
    /// Categorical labels, without `spill`.
    pub labels: Vec<String>,
    /// `(low, high, n_buckets)` when the file gives them.
    pub params: Option<(u64, u64, u64)>,
    /// Keyedness, when the file gives it.
    pub keyed: Option<bool>,
    /// Description, when the file gives it.
    pub description: Option<String>,
}

/// The expected layouts of every definition that `definitions_json` defines (keys starting with
/// `_` skipped), read from `expected`. Panics if one is missing: every entry must be checked.
pub fn expected_for(definitions_json: &str, expected: &Map<String, Value>) -> Vec<Expected> {
    let defs: Map<String, Value> = serde_json::from_str(definitions_json).unwrap();
    let mut out: Vec<Expected> = defs
        .keys()
        .filter(|name| !name.starts_with('_'))
        .map(|name| {
            let e = expected
                .get(name)
                .unwrap_or_else(|| panic!("no expected layout for {name}"));
            let params = match (e.get("low"), e.get("high"), e.get("n_buckets")) {
                (Some(l), Some(h), Some(n)) => Some((
                    l.as_u64().unwrap(),
                    h.as_u64().unwrap(),
                    n.as_u64().unwrap(),
                )),
                _ => None,
            };
            Expected {
                name: name.clone(),
                kind: e["kind"].as_str().unwrap().to_string(),
                ranges: u64s(&e["ranges"]),
                labels: strings(&e["labels"]),
                params,
                keyed: e.get("keyed").map(|k| k.as_bool().unwrap()),
                description: e
                    .get("description")
                    .map(|d| d.as_str().unwrap().to_string()),
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The original service's test data set (its pings of `today`), aggregated by our ingest into
/// a memory store.
pub fn dataset_store(today: &str) -> mozaggregator_core::MemoryStore {
    use mozaggregator_core::{MemoryStore, Store};
    let aggregates = aggregate(&mozaggregator_core::testing::dataset::pings(today).unwrap());
    let store = MemoryStore::new();
    for date in aggregates.submission_dates().unwrap() {
        for (channel, version) in aggregates.channel_versions(date) {
            store
                .write(&aggregates.batch_part(date, &channel, &version).unwrap())
                .unwrap();
        }
    }
    store
}

/// The definitions of `../shared/data/definitions/Histograms-test-subset.json`, when it is
/// there (otherwise the skip is recorded and the test returns early).
pub fn subset_definitions() -> Option<mozaggregator_core::definitions::Definitions> {
    let path = mozaggregator_core::testing::shared_file("definitions/Histograms-test-subset.json")?;
    Some(
        mozaggregator_core::definitions::Definitions::load(Some(&path), &[] as &[PathBuf]).unwrap(),
    )
}

/// `pings` aggregated in memory with the default options.
pub fn aggregate(pings: &[String]) -> mozaggregator_core::Aggregates {
    use mozaggregator_core::{Aggregates, Aggregator, Options};
    let mut aggregator = Aggregator::new(Options::default());
    let mut out = Aggregates::new();
    for p in pings {
        aggregator.add_json(&mut out, p.as_bytes());
    }
    out
}

/// `data` gzip-compressed.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Asserts that an import report accounts for every row read: imported, skipped or rejected.
pub fn sum_ok(report: &mozaggregator_core::import::ImportReport) {
    assert_eq!(
        report.rows_read,
        report.rows_imported + report.rows_skipped + report.rows_rejected.total(),
        "{report:?}"
    );
}

pub mod replicates;
