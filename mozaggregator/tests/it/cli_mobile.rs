//! Mobile-metrics pings through the CLI: `generate --doc-type mobile_metrics`, `aggregate
//! --doc-type mobile_metrics`, `export --doc-type mobile_metrics`, `info`, and the usage
//! errors of flags that do not apply.

use std::path::Path;

use serde_json::Value;

use crate::common::cli::{fails, ok, ok_reporting, s};

fn lines(out: Vec<u8>) -> Vec<Value> {
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Generates `n` mobile pings of `date` into `dir` and aggregates them into `db`; returns the
/// report.
fn aggregate(dir: &Path, db: &Path, n: &str, date: &str) -> Value {
    let pings = dir.join(format!("m-{date}.ndjson"));
    ok(&[
        "generate",
        "--doc-type",
        "mobile_metrics",
        "--pings",
        n,
        "--seed",
        date,
        "--submission-date",
        date,
        "--channel",
        "beta,release",
        "--out",
        s(&pings),
    ]);
    let report = dir.join(format!("r-{date}.json"));
    let args = [
        "aggregate",
        "--db",
        s(db),
        "--doc-type",
        "mobile_metrics",
        "--strict",
        s(&pings),
    ];
    ok_reporting(&report, &args).1
}

#[test]
fn mobile_pings_go_from_generate_to_export_in_a_family_of_their_own() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("m.sqlite");
    let r = aggregate(tmp.path(), &db, "80", "20240115");
    assert_eq!(r["pings_used"], 80, "{r}");
    assert!(r["pings_rejected"].as_object().unwrap().is_empty(), "{r}");
    assert!(r["histograms_used"].as_u64().unwrap() > 80);
    assert!(r["scalars_used"].as_u64().unwrap() > 80);
    let written = r["series_written"].as_u64().unwrap();
    assert!(written > 0);
    aggregate(tmp.path(), &db, "40", "20240116");

    let rows = lines(ok(&["export", "--db", s(&db), "--doc-type", "mobile_metrics"]).stdout);
    assert!(rows.len() as u64 > written);
    for row in &rows {
        assert_eq!(row["prefix"], "mobile_metrics");
        assert!(["beta", "release"].contains(&row["channel"].as_str().unwrap()));
        assert!(row["version"].as_str().unwrap().starts_with("68."));
        assert!(row["build_id"].as_str().unwrap().ends_with("-GeckoView"));
        assert_eq!(
            row["buckets"].as_array().unwrap().len(),
            row["histogram"].as_array().unwrap().len()
        );
    }
    // A selection, and the desktop export, which has no mobile row.
    let beta = lines(
        ok(&[
            "export",
            "--db",
            s(&db),
            "--doc-type",
            "mobile_metrics",
            "--channel",
            "beta",
        ])
        .stdout,
    );
    assert_eq!(
        beta.len(),
        rows.iter().filter(|r| r["channel"] == "beta").count()
    );
    assert!(ok(&["export", "--db", s(&db)]).stdout.is_empty());
    let csv = String::from_utf8(
        ok(&[
            "export",
            "--db",
            s(&db),
            "--doc-type",
            "mobile_metrics",
            "--format",
            "csv",
        ])
        .stdout,
    )
    .unwrap();
    assert!(csv.starts_with("prefix,channel,version,date,build_id,metric,"));
    assert_eq!(csv.lines().count(), rows.len() + 1);

    // Aggregating the same day again changes nothing.
    let again = aggregate(tmp.path(), &db, "80", "20240115");
    assert_eq!(again["series_written"], 0, "{again}");
    assert!(again["targets_skipped"].as_u64().unwrap() > 0);
    let after = lines(ok(&["export", "--db", s(&db), "--doc-type", "mobile_metrics"]).stdout);
    assert_eq!(after, rows);

    // `info` shows the family and counts its rows.
    let info: Value =
        serde_json::from_slice(&ok(&["info", "--db", s(&db), "--json"]).stdout).unwrap();
    assert_eq!(info["stats"]["mobile_rows"], rows.len() as u64, "{info}");
    assert_eq!(info["stats"]["targets"], 0);
    let families: Vec<&str> = info["families"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["prefix"].as_str().unwrap())
        .collect();
    assert_eq!(families, ["mobile_metrics"]);
}

#[test]
fn flags_that_do_not_apply_to_mobile_pings_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("m.sqlite");
    aggregate(tmp.path(), &db, "5", "20240115");
    let err = fails(
        2,
        &[
            "export",
            "--db",
            s(&db),
            "--doc-type",
            "mobile_metrics",
            "--prefix",
            "build_id",
        ],
    );
    assert!(err.contains("prefix"), "{err}");
    let err = fails(2, &["export", "--db", s(&db), "--doc-type", "crash"]);
    assert!(err.contains("mobile_metrics"), "{err}");
    let err = fails(
        2,
        &[
            "generate",
            "--doc-type",
            "mobile_metrics",
            "--pings",
            "1",
            "--os",
            "Linux",
        ],
    );
    assert!(err.contains("Android"), "{err}");
    let pings = tmp.path().join("m-20240115.ndjson");
    let err = fails(
        2,
        &[
            "aggregate",
            "--db",
            s(&db),
            "--doc-type",
            "mobile_metrics",
            "--replicates",
            "10",
            s(&pings),
        ],
    );
    assert!(err.contains("mobile_metrics"), "{err}");
}
