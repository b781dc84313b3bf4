//! `mozaggregator generate` with chosen dimensions, and `aggregate --versions`, end to end.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::common::cli::{fails, ok, ok_reporting, s};

/// The rows `export` prints for `db`.
fn exported(db: &Path) -> Vec<Value> {
    let out = ok(&["export", "--db", s(db)]).stdout;
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every reject counter of an `aggregate` report is empty (or zero).
fn assert_no_rejects(r: &Value) {
    for field in [
        "pings_rejected",
        "inputs_damaged",
        "histograms_rejected",
        "scalars_rejected",
        "rows_rejected",
        "unplaced_samples",
    ] {
        assert!(r[field].as_object().unwrap().is_empty(), "{field}: {r}");
    }
    for field in ["bad_keys", "non_integer_counts"] {
        assert_eq!(r[field], 0, "{field}: {r}");
    }
}

#[test]
fn a_generated_file_aggregates_with_zero_rejects_under_default_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let pings = tmp.path().join("g.ndjson");
    ok(&[
        "generate",
        "--pings",
        "60",
        "--seed",
        "1",
        "--submission-date",
        "20240115",
        "--out",
        s(&pings),
    ]);
    let db = tmp.path().join("g.sqlite");
    let report = tmp.path().join("r.json");
    let (_, r) = ok_reporting(
        &report,
        &["aggregate", "--db", s(&db), "--strict", s(&pings)],
    );
    assert_eq!(r["pings_used"], 60);
    assert!(r["scalars_used"].as_u64().unwrap() > 0);
    assert_no_rejects(&r);
    // Nothing the server hides by default: no deny-listed metric was stored.
    let rows = exported(&db);
    assert!(rows.len() > 1000);
    assert!(rows
        .iter()
        .any(|r| r["metric"].as_str().unwrap().starts_with("SCALARS_") && r["label"] != ""));
    assert!(!rows.iter().any(|r| {
        let m = r["metric"].as_str().unwrap();
        m.starts_with("SCALARS_BROWSER.SEARCH.") || m.contains("SEARCH_COUNTS")
    }));
}

#[test]
fn chosen_channels_versions_oses_and_build_ids_are_honoured() {
    let tmp = tempfile::tempdir().unwrap();
    let pings = tmp.path().join("g.ndjson");
    ok(&[
        "generate",
        "--pings",
        "30",
        "--seed",
        "2",
        "--submission-date",
        "20240115",
        "--channel",
        "beta",
        "--channel",
        "aurora",
        "--version",
        "130.0,131.0b2",
        "--os",
        "Linux",
        "--build-id",
        "20240112083000",
        "--out",
        s(&pings),
    ]);
    let db = tmp.path().join("g.sqlite");
    let report = tmp.path().join("r.json");
    let (_, r) = ok_reporting(&report, &["aggregate", "--db", s(&db), s(&pings)]);
    assert_eq!(r["pings_used"], 30);
    assert_no_rejects(&r);
    let rows = exported(&db);
    let mut channels = BTreeSet::new();
    let mut versions = BTreeSet::new();
    for row in &rows {
        channels.insert(row["channel"].as_str().unwrap().to_string());
        versions.insert(row["version"].as_str().unwrap().to_string());
        assert_eq!(row["os"], "Linux", "{row}");
        if row["prefix"] == "build_id" {
            assert_eq!(row["date"], "20240112", "{row}");
        }
    }
    assert_eq!(channels.into_iter().collect::<Vec<_>>(), ["aurora", "beta"]);
    assert_eq!(versions.into_iter().collect::<Vec<_>>(), ["130", "131"]);
}

#[test]
fn bad_generator_choices_are_usage_errors_naming_the_value() {
    for (flag, value, needle) in [
        (
            "--channel",
            "esr",
            "`esr` is not one of nightly, aurora, beta, release",
        ),
        (
            "--version",
            "beta",
            "`beta` does not start with a major version number",
        ),
        (
            "--os",
            "BeOS",
            "`BeOS` is not one of Windows_NT, Darwin, Linux",
        ),
        (
            "--build-id",
            "2024011208",
            "`2024011208` is not YYYYMMDDhhmmss",
        ),
    ] {
        let stderr = fails(2, &["generate", "--pings", "1", flag, value]);
        assert!(stderr.contains(needle), "{flag}: {stderr}");
    }
}

#[test]
fn aggregate_versions_keeps_only_those_and_counts_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let pings = tmp.path().join("g.ndjson");
    ok(&[
        "generate",
        "--pings",
        "24",
        "--seed",
        "3",
        "--submission-date",
        "20240115",
        "--version",
        "128.0,129.0.1,130.0b1",
        "--out",
        s(&pings),
    ]);
    let db = tmp.path().join("v.sqlite");
    let report = tmp.path().join("r.json");
    let (_, r) = ok_reporting(
        &report,
        &[
            "aggregate",
            "--db",
            s(&db),
            "--versions",
            "128,130",
            s(&pings),
        ],
    );
    let used = r["pings_used"].as_u64().unwrap();
    let rejected = r["pings_rejected"].as_object().unwrap();
    let not_selected = rejected["version_not_selected"].as_u64().unwrap();
    // Only that reason, and every ping is either used or counted under it.
    assert_eq!(rejected.len(), 1, "{r}");
    assert_eq!(used + not_selected, 24);
    assert!(used > 0 && not_selected > 0);
    let versions: BTreeSet<String> = exported(&db)
        .iter()
        .map(|r| r["version"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(versions.into_iter().collect::<Vec<_>>(), ["128", "130"]);
    // The same rule and words as Python's (Options::validate).
    let stderr = fails(
        2,
        &[
            "aggregate",
            "--db",
            s(&db),
            "--versions",
            "128.0",
            s(&pings),
        ],
    );
    assert!(
        stderr.contains("invalid versions: `128.0` is not a major version: give `128`"),
        "{stderr}"
    );
}
