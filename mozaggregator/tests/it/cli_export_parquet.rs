//! `mozaggregator export --format parquet`: the data set's layout end to end, and the usage
//! and output errors it gives instead of writing somewhere it must not.

use std::path::Path;

use mozaggregator_core::testing::dataset;

use crate::common::cli::{fails, ok, s};

/// A store of the whole data set.
fn aggregated(dir: &Path) -> std::path::PathBuf {
    let pings = dir.join("pings.ndjson");
    std::fs::write(
        &pings,
        dataset::pings("20240110").unwrap().join("\n") + "\n",
    )
    .unwrap();
    let db = dir.join("a.sqlite");
    ok(&["aggregate", "--db", s(&db), s(&pings)]);
    db
}

fn parquet_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn parquet_export_writes_one_directory_per_metric_type_and_period() {
    let tmp = tempfile::tempdir().unwrap();
    let db = aggregated(tmp.path());
    let out = tmp.path().join("parquet");
    ok(&[
        "export",
        "--db",
        s(&db),
        "--format",
        "parquet",
        "--out",
        s(&out),
    ]);
    let files = parquet_files(&out);
    assert!(!files.is_empty());
    for f in &files {
        let parts: Vec<&str> = f.split('/').collect();
        assert_eq!(parts.len(), 4, "{f}");
        assert!(parts[0].starts_with("metric="), "{f}");
        assert!(
            parts[1] == "aggregate_type=build_id" || parts[1] == "aggregate_type=submission_date",
            "{f}"
        );
        assert!(
            parts[2].starts_with("period=2024") && parts[2].len() == 13,
            "{f}"
        );
        assert!(
            parts[3].starts_with("part-") && parts[3].ends_with(".parquet"),
            "{f}"
        );
    }
    let ndjson = String::from_utf8(ok(&["export", "--db", s(&db)]).stdout).unwrap();
    let metrics: std::collections::BTreeSet<String> = ndjson
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["metric"].to_string())
        .collect();
    let dirs: std::collections::BTreeSet<&str> =
        files.iter().map(|f| f.split('/').next().unwrap()).collect();
    assert_eq!(dirs.len(), metrics.len());
}

#[test]
fn bad_parquet_outputs_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let db = aggregated(tmp.path());
    let err = fails(2, &["export", "--db", s(&db), "--format", "parquet"]);
    assert!(err.contains("--out DIR"), "{err}");
    let out = tmp.path().join("p");
    let err = fails(
        2,
        &[
            "export",
            "--db",
            s(&db),
            "--format",
            "parquet",
            "--out",
            s(&out),
            "--with-absorbed",
        ],
    );
    assert!(err.contains("--with-absorbed"), "{err}");
    assert!(!out.exists(), "nothing written on a usage error");
    let err = fails(
        2,
        &[
            "export",
            "--db",
            s(&db),
            "--format",
            "parquet",
            "--out",
            s(&db),
        ],
    );
    assert!(err.contains("not a directory"), "{err}");
    ok(&[
        "export",
        "--db",
        s(&db),
        "--format",
        "parquet",
        "--out",
        s(&out),
    ]);
    let err = fails(
        2,
        &[
            "export",
            "--db",
            s(&db),
            "--format",
            "parquet",
            "--out",
            s(&out),
        ],
    );
    assert!(err.contains("not empty"), "{err}");
    let below = db.join("sub");
    let err = fails(
        2,
        &[
            "export",
            "--db",
            s(&db),
            "--format",
            "parquet",
            "--out",
            s(&below),
        ],
    );
    assert!(err.contains("sub"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
