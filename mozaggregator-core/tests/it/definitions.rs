//! Loading definition files: every file of ../shared/data/definitions (when present), the
//! crate's fixtures, lookup fallbacks, scalars, and one test per kind of corrupt input (errors
//! that name the metric and field, never panics).

use std::collections::BTreeSet;

use crate::common::{fixture, read, shared_data};
use mozaggregator_core::definitions::{Definitions, MAX_TOTAL_BUCKETS};
use mozaggregator_core::{exponential_buckets, Error, Kind, LayoutSpec};

const NO_SCALARS: &[&str] = &[];

fn quirks() -> Definitions {
    Definitions::from_histograms_json(&read(&fixture("histograms-quirks.json"))).unwrap()
}

// ------------------------------------------------------------------------------------------
// Real files

#[test]
fn loads_histograms_2017() {
    let Some(data) = shared_data() else { return };
    let path = data.join("definitions/Histograms-2017.json");
    let defs = Definitions::load(Some(&path), NO_SCALARS).unwrap();
    assert_eq!(defs.len(), 1497);
    let mut by_kind = std::collections::BTreeMap::new();
    for def in defs.iter() {
        *by_kind.entry(def.kind).or_insert(0) += 1;
    }
    // The README's census of the file.
    assert_eq!(by_kind[&Kind::Exponential], 672);
    assert_eq!(by_kind[&Kind::Enumerated], 285);
    assert_eq!(by_kind[&Kind::Count], 226);
    assert_eq!(by_kind[&Kind::Boolean], 164);
    assert_eq!(by_kind[&Kind::Linear], 82);
    assert_eq!(by_kind[&Kind::Flag], 61);
    assert_eq!(by_kind[&Kind::Categorical], 7);
    let gc = defs.lookup("GC_MS").unwrap();
    assert_eq!(gc.description, "Time spent running JS GC (ms)");
    assert_eq!(
        gc.layout.bounds(),
        exponential_buckets(1, 10000, 50).unwrap()
    );
    assert!(defs.lookup("SEARCH_COUNTS").unwrap().keyed);
    assert_eq!(defs.sorted().len(), 1497);
}

#[test]
fn loads_histograms_test_subset_skipping_provenance() {
    let Some(data) = shared_data() else { return };
    let path = data.join("definitions/Histograms-test-subset.json");
    let defs = Definitions::load(Some(&path), NO_SCALARS).unwrap();
    assert!(defs.get("_provenance").is_none());
    let names: BTreeSet<&str> = defs.iter().map(|d| d.name.as_str()).collect();
    let expected: BTreeSet<&str> = [
        "EVENTLOOP_UI_ACTIVITY_EXP_MS",
        "GC_MAX_PAUSE_MS_2",
        "TELEMETRY_TEST_CATEGORICAL",
        "UPDATE_PING_COUNT_EXTERNAL",
        "CONTENT_DOCUMENTS_DESTROYED",
        "TOP_LEVEL_CONTENT_DOCUMENTS_DESTROYED",
        "DEVTOOLS_PERFTOOLS_RECORDING_FEATURES_USED",
        "GC_MAX_PAUSE_MS",
    ]
    .into();
    assert_eq!(names, expected);
    let cat = defs.lookup("TELEMETRY_TEST_CATEGORICAL").unwrap();
    assert_eq!(
        cat.layout.served_labels(),
        ["CommonLabel", "Label2", "Label3", "spill"]
    );
    assert_eq!(defs.kind("UPDATE_PING_COUNT_EXTERNAL"), Some(Kind::Count));
    assert!(
        defs.lookup("DEVTOOLS_PERFTOOLS_RECORDING_FEATURES_USED")
            .unwrap()
            .keyed
    );
    assert_eq!(
        defs.description("GC_MAX_PAUSE_MS_2"),
        "Longest GC slice in a GC (ms)"
    );
}

#[test]
fn loads_scalars_test_subset() {
    let Some(data) = shared_data() else { return };
    let path = data.join("definitions/Scalars-test-subset.yaml");
    let defs = Definitions::load(None, &[&path]).unwrap();
    let names: Vec<&str> = defs.sorted().iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "SCALARS_BROWSER.ENGAGEMENT.TOTAL_URI_COUNT",
            "SCALARS_TELEMETRY.EVENT_COUNTS",
            "SCALARS_TELEMETRY.TEST.KEYED_UNSIGNED_INT",
        ]
    );
    let keyed = defs
        .lookup("SCALARS_TELEMETRY.TEST.KEYED_UNSIGNED_INT")
        .unwrap();
    assert!(keyed.keyed);
    assert_eq!(keyed.kind, Kind::Exponential);
    assert_eq!(keyed.layout.spec(), LayoutSpec::scalar());
    assert_eq!(keyed.layout.bounds()[keyed.layout.bucket_index(42)], 40);
    assert_eq!(
        keyed.description,
        "A testing keyed uint scalar; not meant to be touched."
    );
    let uri = defs
        .lookup("SCALARS_BROWSER.ENGAGEMENT.TOTAL_URI_COUNT")
        .unwrap();
    assert!(!uri.keyed);
    assert!(uri
        .description
        .starts_with("The count of the total non-unique"));
    assert!(!uri.description.ends_with('\n'));
    // Lowercase (dotted-name) spelling resolves too.
    assert_eq!(
        defs.lookup("SCALARS_telemetry.event_counts").unwrap().name,
        "SCALARS_TELEMETRY.EVENT_COUNTS"
    );
}

#[test]
fn loads_several_scalar_files_with_histograms() {
    let Some(data) = shared_data() else { return };
    let dir = data.join("definitions");
    let subset = dir.join("Scalars-test-subset.yaml");
    let trimmed = dir.join("Scalars-2017-trimmed.yaml");
    let alone = Definitions::load(None, &[&trimmed]).unwrap();
    assert_eq!(alone.len(), 27);
    let names =
        |d: &Definitions| -> BTreeSet<String> { d.iter().map(|d| d.name.clone()).collect() };
    let union: BTreeSet<String> = names(&alone)
        .union(&names(&Definitions::load(None, &[&subset]).unwrap()))
        .cloned()
        .collect();
    let all = Definitions::load(
        Some(&dir.join("Histograms-test-subset.json")),
        &[&subset, &trimmed],
    )
    .unwrap();
    assert_eq!(all.len(), 8 + union.len());
    assert!(all.lookup("SCALARS_TELEMETRY.EVENT_COUNTS").is_some());
    assert!(all.lookup("GC_MAX_PAUSE_MS_2").is_some());
    assert!(all
        .iter()
        .all(|d| !d.name.starts_with("SCALARS_") || d.kind == Kind::Exponential));
}

// ------------------------------------------------------------------------------------------
// Quirks and lookup

#[test]
fn quirky_numbers_and_keyed_strings() {
    let defs = quirks();
    let old = defs.lookup("FIX_EXP_OLD_STYLE").unwrap().layout.spec();
    assert_eq!(
        (old.low(), old.high(), old.bucket_count()),
        (32768, 16_777_216, 10)
    );
    assert_eq!(
        defs.layout("FIX_ENUM_GC_REASONS").unwrap().bounds().len(),
        102
    );
    assert_eq!(defs.layout("FIX_ENUM_STARTUP").unwrap().bounds().len(), 13);
    assert!(defs.lookup("FIX_EXP_LOW").unwrap().keyed); // "keyed": "true"
    assert!(defs.lookup("FIX_BOOL").unwrap().keyed);
    assert!(!defs.lookup("FIX_COUNT").unwrap().keyed); // "keyed": "false"
    assert!(!defs.lookup("FIX_FLAG").unwrap().keyed); // absent
    assert!(defs.get("_comment").is_none());
}

#[test]
fn lookup_fallbacks() {
    let defs = quirks();
    assert_eq!(defs.lookup("FIX_FLAG").unwrap().name, "FIX_FLAG");
    assert_eq!(defs.lookup("FIX_COUNT/some.key").unwrap().name, "FIX_COUNT");
    assert_eq!(defs.lookup("STARTUP_FIX_FLAG").unwrap().name, "FIX_FLAG");
    assert_eq!(
        defs.lookup("STARTUP_FIX_COUNT/k").unwrap().name,
        "FIX_COUNT"
    );
    assert!(defs.lookup("FIX_FLAG_OTHER").is_none());
    assert!(defs.lookup("STARTUP_").is_none());
    assert!(defs.lookup("/").is_none());
    assert!(defs.lookup("").is_none());
    assert_eq!(defs.description("NOT_DEFINED"), "");
    assert_eq!(defs.description("STARTUP_FIX_FLAG"), "a flag");
    for name in [
        "USE_COUNTER_SVGSVGELEMENT",
        "USE_COUNTER2_PROPERTY_FILL_PAGE",
    ] {
        let def = defs.lookup(name).unwrap();
        assert_eq!(def.kind, Kind::Boolean, "{name}");
        assert_eq!(def.layout.bounds(), [0, 1, 2], "{name}");
        assert_eq!(def.description, "", "{name}");
    }
    // Use counters resolve even with no definitions at all; other names do not.
    let none = Definitions::new();
    assert!(none.lookup("USE_COUNTER2_X_DOCUMENT").is_some());
    assert!(none.lookup("USE_COUNTERX").is_none());
    assert!(none.is_empty());
}

#[test]
fn explicit_definition_wins_over_synthetic_use_counter() {
    let defs = Definitions::from_histograms_json(
        r#"{"USE_COUNTER2_X_PAGE": {"kind": "boolean", "description": "explicit"}}"#,
    )
    .unwrap();
    assert_eq!(defs.description("USE_COUNTER2_X_PAGE"), "explicit");
    assert_eq!(defs.description("USE_COUNTER2_Y_PAGE"), "");
}

#[test]
fn later_definitions_replace_earlier() {
    let mut defs =
        Definitions::from_histograms_json(r#"{"A": {"kind": "flag", "description": "one"}}"#)
            .unwrap();
    let n = defs
        .add_histograms_json(
            r#"{"A": {"kind": "count", "description": "two"}, "B": {"kind": "flag"}}"#,
        )
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(defs.len(), 2);
    assert_eq!(defs.kind("A"), Some(Kind::Count));
    assert_eq!(defs.description("B"), "");
}

#[test]
fn empty_documents() {
    assert!(Definitions::from_histograms_json("{}").unwrap().is_empty());
    let mut defs = Definitions::new();
    assert_eq!(defs.add_scalars_yaml("").unwrap(), 0);
    assert_eq!(defs.add_scalars_yaml("# only a comment\n").unwrap(), 0);
}

#[test]
fn scalar_kinds_and_keyed_strings() {
    let mut defs = Definitions::new();
    let yaml = "a.b:\n  u:\n    kind: uint\n    keyed: 'true'\n  s:\n    kind: string\n    description: text\n  f:\n    kind: bool\n  g:\n    kind: boolean\n";
    assert_eq!(defs.add_scalars_yaml(yaml).unwrap(), 4);
    assert!(defs.lookup("SCALARS_A.B.U").unwrap().keyed);
    assert_eq!(defs.description("SCALARS_A.B.S"), "text");
    assert_eq!(defs.kind("SCALARS_A.B.F"), Some(Kind::Exponential));
}

// ------------------------------------------------------------------------------------------
// Corrupt input: one test per case; each error names the metric and the field.

/// Each `(json, field)`: a definition of metric `A` refused for its `field`.
#[track_caller]
fn field_errors(cases: &[(&str, &str)]) {
    for (json, field) in cases {
        definition_error(json, "A", field);
    }
}

#[track_caller]
fn definition_error(json: &str, metric: &str, field: &str) -> String {
    match Definitions::from_histograms_json(json) {
        Err(err @ Error::Definition { .. }) => {
            let Error::Definition {
                metric: m,
                field: f,
                reason,
            } = &err
            else {
                unreachable!()
            };
            assert_eq!(
                (m.as_str(), f.as_str()),
                (metric, field),
                "{json}: {reason}"
            );
            let message = err.to_string();
            assert!(
                message.contains(metric) && message.contains(field),
                "{message}"
            );
            reason.clone()
        }
        other => panic!("{json}: expected a definition error for {metric}.{field}, got {other:?}"),
    }
}

#[test]
fn truncated_json_is_a_parse_error() {
    let text = r#"{"GC_MS": {"kind": "exponential", "high": 10000, "n_bu"#;
    match Definitions::from_histograms_json(text) {
        Err(Error::Parse { what, reason }) => {
            assert_eq!(what, "Histograms.json");
            assert!(reason.contains("line 1"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn truncated_real_file_is_a_parse_error() {
    let Some(data) = shared_data() else { return };
    let text = read(&data.join("definitions/Histograms-2017.json"));
    for cut in [1, text.len() / 3, text.len() / 2, text.len() - 2] {
        let cut = (0..=cut).rev().find(|&i| text.is_char_boundary(i)).unwrap();
        assert!(
            matches!(
                Definitions::from_histograms_json(&text[..cut]),
                Err(Error::Parse { .. })
            ),
            "cut at {cut}"
        );
    }
}

#[test]
fn top_level_not_an_object() {
    for text in ["[]", "42", "null", "\"x\""] {
        assert!(
            matches!(
                Definitions::from_histograms_json(text),
                Err(Error::Parse { .. })
            ),
            "{text}"
        );
    }
}

#[test]
fn definition_not_an_object() {
    definition_error(r#"{"A": [1, 2]}"#, "A", "(definition)");
}

#[test]
fn wrong_type_high() {
    let reason = definition_error(
        r#"{"A": {"kind": "exponential", "high": [10000], "n_buckets": 50}}"#,
        "A",
        "high",
    );
    assert!(reason.contains("expected an integer"), "{reason}");
}

#[test]
fn wrong_type_kind() {
    definition_error(r#"{"A": {"kind": 0}}"#, "A", "kind");
}

#[test]
fn wrong_type_description() {
    definition_error(
        r#"{"A": {"kind": "flag", "description": {"x": 1}}}"#,
        "A",
        "description",
    );
}

#[test]
fn wrong_type_keyed() {
    field_errors(&[
        (r#"{"A": {"kind": "flag", "keyed": "yes"}}"#, "keyed"),
        (r#"{"A": {"kind": "flag", "keyed": 1}}"#, "keyed"),
    ]);
}

#[test]
fn wrong_type_labels() {
    field_errors(&[
        (
            r#"{"A": {"kind": "categorical", "labels": "a,b"}}"#,
            "labels",
        ),
        (
            r#"{"A": {"kind": "categorical", "labels": ["a", 2]}}"#,
            "labels",
        ),
        (r#"{"A": {"kind": "categorical", "labels": []}}"#, "labels"),
        (r#"{"A": {"kind": "categorical"}}"#, "labels"),
    ]);
}

#[test]
fn fractional_number() {
    definition_error(
        r#"{"A": {"kind": "linear", "high": 100.5, "n_buckets": 10}}"#,
        "A",
        "high",
    );
}

#[test]
fn integral_float_is_accepted() {
    let defs = Definitions::from_histograms_json(
        r#"{"A": {"kind": "linear", "high": 1e2, "n_buckets": 10.0}}"#,
    )
    .unwrap();
    assert_eq!(defs.layout("A").unwrap().bounds().len(), 10);
}

#[test]
fn billion_buckets() {
    field_errors(&[
        (
            r#"{"A": {"kind": "exponential", "high": 10000, "n_buckets": 1000000000}}"#,
            "n_buckets",
        ),
        (
            r#"{"A": {"kind": "linear", "high": 1000000000000, "n_buckets": "1000 * 1000 * 1000"}}"#,
            "n_buckets",
        ),
        (
            r#"{"A": {"kind": "exponential", "high": 10000, "n_buckets": 18446744073709551615}}"#,
            "n_buckets",
        ),
    ]);
}

#[test]
fn billion_values() {
    field_errors(&[
        (
            r#"{"A": {"kind": "enumerated", "n_values": 1000000000}}"#,
            "n_values",
        ),
        (
            r#"{"A": {"kind": "categorical", "labels": ["a"], "n_values": 1000000000}}"#,
            "n_values",
        ),
    ]);
}

#[test]
fn too_many_buckets_in_total() {
    let entries: Vec<String> = (0..(MAX_TOTAL_BUCKETS / 100_000 + 1))
        .map(|i| {
            format!(r#""H{i:03}": {{"kind": "linear", "high": 1000000, "n_buckets": 100000}}"#)
        })
        .collect();
    let json = format!("{{{}}}", entries.join(","));
    let last = format!("H{:03}", MAX_TOTAL_BUCKETS / 100_000);
    let reason = definition_error(&json, &last, "n_buckets");
    assert!(reason.contains("in total"), "{reason}");
}

#[test]
fn negative_low() {
    let reason = definition_error(
        r#"{"A": {"kind": "exponential", "low": -5, "high": 10000, "n_buckets": 50}}"#,
        "A",
        "low",
    );
    assert!(reason.contains("negative"), "{reason}");
}

#[test]
fn negative_high_expression() {
    definition_error(
        r#"{"A": {"kind": "linear", "high": "-100", "n_buckets": 10}}"#,
        "A",
        "high",
    );
}

#[test]
fn zero_low() {
    definition_error(
        r#"{"A": {"kind": "exponential", "low": 0, "high": 100, "n_buckets": 10}}"#,
        "A",
        "low",
    );
}

#[test]
fn high_not_above_low() {
    field_errors(&[
        (
            r#"{"A": {"kind": "exponential", "low": 100, "high": 100, "n_buckets": 10}}"#,
            "high",
        ),
        (
            r#"{"A": {"kind": "linear", "low": 100, "high": 10, "n_buckets": 10}}"#,
            "high",
        ),
    ]);
}

#[test]
fn high_beyond_exact_floats() {
    definition_error(
        r#"{"A": {"kind": "exponential", "high": 18014398509481984, "n_buckets": 10}}"#,
        "A",
        "high",
    );
}

#[test]
fn linear_with_more_buckets_than_values() {
    definition_error(
        r#"{"A": {"kind": "linear", "low": 1, "high": 5, "n_buckets": 20}}"#,
        "A",
        "n_buckets",
    );
}

#[test]
fn unknown_kind() {
    let reason = definition_error(r#"{"A": {"kind": "keyed-exponential"}}"#, "A", "kind");
    assert!(reason.contains("keyed-exponential"), "{reason}");
}

#[test]
fn missing_kind() {
    definition_error(r#"{"A": {"description": "no kind"}}"#, "A", "kind");
}

#[test]
fn too_few_buckets() {
    field_errors(&[
        (
            r#"{"A": {"kind": "exponential", "high": 100, "n_buckets": 2}}"#,
            "n_buckets",
        ),
        (
            r#"{"A": {"kind": "enumerated", "n_values": 1}}"#,
            "n_values",
        ),
    ]);
}

#[test]
fn missing_parameters() {
    field_errors(&[
        (r#"{"A": {"kind": "exponential", "n_buckets": 10}}"#, "high"),
        (r#"{"A": {"kind": "linear", "high": 10}}"#, "n_buckets"),
        (r#"{"A": {"kind": "enumerated"}}"#, "n_values"),
    ]);
}

#[test]
fn bad_expressions() {
    for expr in [
        "__import__('os')",
        "32 *",
        "7 / 2",
        "1 / 0",
        "JS::gcreason::UNKNOWN",
        "99999999999999999999",
    ] {
        let json = format!(
            r#"{{"A": {{"kind": "exponential", "high": {}, "n_buckets": 10}}}}"#,
            serde_json::to_string(expr).unwrap()
        );
        definition_error(&json, "A", "high");
    }
    let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let json = format!(r#"{{"A": {{"kind": "enumerated", "n_values": "{deep}"}}}}"#);
    definition_error(&json, "A", "n_values");
}

#[test]
fn failed_add_changes_nothing() {
    let mut defs = quirks();
    let before = defs.len();
    let bad = r#"{"NEW_OK": {"kind": "flag"}, "NEW_BAD": {"kind": "nope"}}"#;
    assert!(defs.add_histograms_json(bad).is_err());
    assert_eq!(defs.len(), before);
    assert!(defs.get("NEW_OK").is_none());
}

#[test]
fn missing_file_is_an_io_error() {
    let err = Definitions::load(
        Some(std::path::Path::new("/nonexistent/Histograms.json")),
        NO_SCALARS,
    )
    .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/Histograms.json"));
}

#[test]
fn load_names_the_file_in_definition_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, r#"{"A": {"kind": "nope"}}"#).unwrap();
    let err = Definitions::load(Some(&path), NO_SCALARS).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("`A`") && message.contains("`kind`"),
        "{message}"
    );
    assert!(message.contains("bad.json"), "{message}");
}

#[test]
fn scalars_syntax_error() {
    let mut defs = Definitions::new();
    let err = defs.add_scalars_yaml("a.b:\n  c: [unclosed\n").unwrap_err();
    assert!(matches!(err, Error::Parse { .. }), "{err:?}");
    let err = defs.add_scalars_yaml("- a\n- b\n").unwrap_err();
    assert!(matches!(err, Error::Parse { .. }), "{err:?}");
}

#[track_caller]
fn scalar_error(yaml: &str, metric: &str, field: &str) {
    let mut defs = Definitions::new();
    match defs.add_scalars_yaml(yaml) {
        Err(Error::Definition {
            metric: m,
            field: f,
            reason,
        }) => assert_eq!((m.as_str(), f.as_str()), (metric, field), "{reason}"),
        other => panic!("expected a definition error for {metric}.{field}, got {other:?}"),
    }
    assert!(defs.is_empty());
}

#[test]
fn scalars_unknown_kind() {
    scalar_error("a:\n  b:\n    kind: float\n", "a.b", "kind");
}

#[test]
fn scalars_missing_kind() {
    scalar_error("a:\n  b:\n    description: x\n", "a.b", "kind");
}

#[test]
fn scalars_wrong_types() {
    scalar_error("a:\n  b:\n    kind: uint\n    keyed: 3\n", "a.b", "keyed");
    scalar_error(
        "a:\n  b:\n    kind: uint\n    description: [x]\n",
        "a.b",
        "description",
    );
    scalar_error("a:\n  b: 5\n", "a.b", "(definition)");
    scalar_error("a: [1, 2]\n", "a", "(category)");
}

#[test]
fn scalars_alias_bomb_is_refused() {
    let mut yaml = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i", "j"])
    {
        yaml.push_str(&format!(
            "{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    let mut defs = Definitions::new();
    let err = defs.add_scalars_yaml(&yaml).unwrap_err();
    assert!(matches!(err, Error::Parse { .. }), "{err:?}");
    assert!(defs.is_empty());
}
