//! Layout functions and definition layouts against reference vectors: bucket_vectors.json and
//! ranges_all_defs.json from ../shared/data when present, and the crate's own hand-derived
//! fixtures always.

use crate::common::{
    expected_for, fixture, parse_vector_key, read, read_object, shared_data, u64s,
};
use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::{exponential_buckets, linear_buckets, Kind};
use serde_json::{Map, Value};

/// Checks every `"exp(..)"`/`"lin(..)"` vector bit-exactly; returns how many were checked.
fn check_vectors(vectors: &Map<String, Value>) -> usize {
    let mut checked = 0;
    for (key, expected) in vectors {
        if key.starts_with('_') {
            continue;
        }
        let (func, low, high, n) = parse_vector_key(key);
        let got = match func {
            "exp" => exponential_buckets(low, high, n),
            "lin" => linear_buckets(low, high, n),
            other => panic!("unknown layout function {other} in {key}"),
        }
        .unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(got, u64s(expected), "{key}");
        checked += 1;
    }
    checked
}

#[test]
fn bucket_vectors_reference() {
    let Some(data) = shared_data() else { return };
    let vectors = read_object(&data.join("vectors/bucket_vectors.json"));
    assert_eq!(check_vectors(&vectors), vectors.len());
}

#[test]
fn bucket_vectors_fixture() {
    let vectors = read_object(&fixture("bucket-vectors.json"));
    assert_eq!(check_vectors(&vectors), vectors.len() - 1);
}

/// Loads `definitions` and checks that each of its definitions has exactly the expected kind,
/// lower bounds, labels (and parameters, keyedness, description when given). Returns how many
/// were checked.
fn check_definitions(definitions: &str, expected: &Map<String, Value>) -> usize {
    let defs = Definitions::from_histograms_json(definitions).unwrap();
    let wanted = expected_for(definitions, expected);
    assert_eq!(defs.len(), wanted.len(), "every definition is loaded");
    for e in &wanted {
        let def = defs
            .get(&e.name)
            .unwrap_or_else(|| panic!("{} not loaded", e.name));
        assert_eq!(def.name, e.name);
        assert_eq!(def.kind.name(), e.kind, "{}: kind", e.name);
        assert_eq!(def.layout.kind(), def.kind, "{}: layout kind", e.name);
        assert_eq!(
            def.layout.bounds(),
            e.ranges.as_slice(),
            "{}: bounds",
            e.name
        );
        assert_eq!(
            def.layout.labels(),
            e.labels.as_slice(),
            "{}: labels",
            e.name
        );
        if let Some((low, high, n)) = e.params {
            let spec = def.layout.spec();
            assert_eq!(
                (spec.low(), spec.high(), u64::from(spec.bucket_count())),
                (low, high, n),
                "{}: parameters",
                e.name
            );
        }
        if let Some(keyed) = e.keyed {
            assert_eq!(def.keyed, keyed, "{}: keyed", e.name);
        }
        if let Some(description) = &e.description {
            assert_eq!(&def.description, description, "{}: description", e.name);
        }
        if def.kind == Kind::Categorical {
            let served = def.layout.served_labels();
            assert_eq!(served.last(), Some(&"spill"), "{}", e.name);
            assert_eq!(served.len(), e.labels.len() + 1, "{}", e.name);
        }
    }
    wanted.len()
}

#[test]
fn ranges_all_defs_reference() {
    let Some(data) = shared_data() else { return };
    let definitions = read(&data.join("definitions/Histograms-2017.json"));
    let expected = read_object(&data.join("vectors/ranges_all_defs.json"));
    let checked = check_definitions(&definitions, &expected);
    assert_eq!(
        checked, 1497,
        "Histograms-2017.json defines 1497 histograms"
    );
}

#[test]
fn ranges_fixture() {
    let definitions = read(&fixture("histograms-quirks.json"));
    let expected = read_object(&fixture("histograms-quirks.expected.json"));
    let checked = check_definitions(&definitions, &expected);
    assert_eq!(checked, expected.len() - 1);
}

/// The reference vectors and the fixture agree where they overlap (the fixture's
/// `EVENTLOOP_UI_LAG_EXP_MS` and `OLD_STYLE_EXPR` layouts were derived independently).
#[test]
fn fixture_agrees_with_reference_vectors() {
    let Some(data) = shared_data() else { return };
    let vectors = read_object(&data.join("vectors/bucket_vectors.json"));
    let expected = read_object(&fixture("histograms-quirks.expected.json"));
    for (metric, key) in [
        ("EVENTLOOP_UI_LAG_EXP_MS", "exp(50,60000,20)"),
        ("OLD_STYLE_EXPR", "exp(32768,16777216,10)"),
    ] {
        assert_eq!(
            u64s(&expected[metric]["ranges"]),
            u64s(&vectors[key]),
            "{metric}"
        );
    }
}
