//! Completion of sparse ping histograms against definition layouts: every case of
//! completion_cases.json (from ../shared/data when present) and the crate's own fixture cases.
//!
//! Two reference cases record quirks of the original that this project improves on (docs/api.md, "Differences from the original service, on purpose"):
//! a key that is not an integer zeroed the whole histogram, and duplicate keys (`"1"`,
//! `"0001"`) did not add up. For those, the improved result is asserted explicitly.

use crate::common::{fixture, read, read_object, shared_data, strings, u64s};
use mozaggregator_core::definitions::{Definition, Definitions};
use mozaggregator_core::{complete, Completion};
use serde_json::{Map, Value};

/// Definition sets searched in order; the first that resolves a metric wins.
struct Sources(Vec<Definitions>);

impl Sources {
    fn lookup(&self, metric: &str) -> &Definition {
        self.0
            .iter()
            .find_map(|d| d.lookup(metric))
            .unwrap_or_else(|| panic!("no definition resolves {metric}"))
    }
}

fn entries(input: &Value) -> Vec<(&str, u64)> {
    input
        .as_object()
        .expect("input object")
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_u64().expect("integer count")))
        .collect()
}

fn input_total(input: &Value) -> u64 {
    entries(input).iter().map(|(_, v)| v).sum()
}

/// The case's metric: the part of its name before the first space.
fn metric_of(case: &str) -> &str {
    case.split(' ').next().unwrap()
}

/// The case's own description of the layout agrees with the definition the lookup found.
fn assert_layout_matches(case: &str, def: &Definition, expected: &Map<String, Value>) {
    assert_eq!(
        def.kind.name(),
        expected["kind"].as_str().unwrap(),
        "{case}"
    );
    let spec = def.layout.spec();
    assert_eq!(
        (spec.low(), spec.high(), u64::from(spec.bucket_count())),
        (
            expected["low"].as_u64().unwrap(),
            expected["high"].as_u64().unwrap(),
            expected["n_buckets"].as_u64().unwrap()
        ),
        "{case}"
    );
    assert_eq!(def.layout.labels(), strings(&expected["labels"]), "{case}");
    if def.layout.labels().is_empty() {
        assert_eq!(def.layout.bounds(), u64s(&expected["index"]), "{case}");
    } else {
        assert_eq!(
            def.layout.served_labels(),
            strings(&expected["index"]),
            "{case}"
        );
    }
}

fn conserved(case: &str, c: &Completion, input: &Value) {
    let placed: u64 = c.counts.iter().sum();
    assert_eq!(
        placed + c.unplaced,
        input_total(input),
        "{case}: samples conserved"
    );
}

#[test]
fn completion_cases_reference() {
    let Some(data) = shared_data() else { return };
    let defs = data.join("definitions");
    let sources = Sources(vec![
        Definitions::load::<&str>(Some(&defs.join("Histograms-test-subset.json")), &[]).unwrap(),
        Definitions::load::<&str>(Some(&defs.join("Histograms-2017.json")), &[]).unwrap(),
        Definitions::from_histograms_json(&read(&fixture("histograms-quirks.json"))).unwrap(),
    ]);
    let cases = read_object(&data.join("vectors/completion_cases.json"));
    let mut improved = 0;
    for (case, expected) in &cases {
        let expected = expected.as_object().unwrap();
        let def = sources.lookup(metric_of(case));
        assert_layout_matches(case, def, expected);
        let input = &expected["input"];
        let c = complete(entries(input), &def.layout);
        conserved(case, &c, input);
        let original = u64s(&expected["values"]);
        let mut improved_counts = original.clone();
        if case.starts_with("GC_MS {\"1\": 5, \"3.0683611344442837e+257\"") {
            // Original: the unparsable key zeroed everything. Here it is dropped and counted,
            // and the 5 samples under "1" stay.
            assert!(original.iter().all(|&v| v == 0), "{case}: the quirk");
            improved_counts[1] = 5;
            assert_eq!((c.unplaced, c.bad_keys), (1, 1), "{case}");
            improved += 1;
        } else if case.starts_with("GC_MS {\"-1\": 3, \"0001\": 7, \"1\": 5}") {
            // Original: "0001" overwrote "1" (7). Here they add up; -1 is not a bound.
            assert_eq!(original[1], 7, "{case}: the quirk");
            improved_counts[1] = 12;
            assert_eq!((c.unplaced, c.bad_keys), (3, 0), "{case}");
            improved += 1;
        } else {
            let unplaced = input_total(input) - original.iter().sum::<u64>();
            assert_eq!(c.unplaced, unplaced, "{case}: unplaced");
        }
        assert_eq!(c.counts, improved_counts, "{case}");
    }
    assert_eq!(improved, 2, "both documented improvements were checked");
    assert_eq!(cases.len(), 18, "every reference case was checked");
}

#[test]
fn completion_cases_fixture() {
    let sources = Sources(vec![Definitions::from_histograms_json(&read(&fixture(
        "histograms-quirks.json",
    )))
    .unwrap()]);
    let cases = read_object(&fixture("completion-cases.json"));
    let mut checked = 0;
    for (case, expected) in &cases {
        if case.starts_with('_') {
            continue;
        }
        let def = sources.lookup(expected["metric"].as_str().unwrap());
        let input = &expected["input"];
        let c = complete(entries(input), &def.layout);
        assert_eq!(c.counts, u64s(&expected["counts"]), "{case}");
        assert_eq!(c.unplaced, expected["unplaced"].as_u64().unwrap(), "{case}");
        assert_eq!(c.bad_keys, expected["bad_keys"].as_u64().unwrap(), "{case}");
        conserved(case, &c, input);
        checked += 1;
    }
    assert_eq!(checked, cases.len() - 1);
}
