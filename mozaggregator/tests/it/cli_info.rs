//! `mozaggregator info` on a store of known contents.

use mozaggregator_core::keys::{Dims, Prefix, Process, SeriesKey, Target};
use mozaggregator_core::{Batch, Histogram, LayoutSpec, SqliteStore, Store};
use serde_json::{json, Value};

use crate::common::cli::{fails, ok, s};

fn target(prefix: Prefix, channel: &str, version: &str, date: &str) -> Target {
    Target {
        prefix,
        channel: channel.into(),
        version: version.into(),
        date: date.parse().unwrap(),
    }
}

fn row(metric: &str, label: &str, process: Process) -> (SeriesKey, Histogram) {
    let mut h = Histogram::empty(LayoutSpec::scalar());
    h.record(7).unwrap();
    let key = SeriesKey {
        metric: metric.into(),
        label: label.into(),
        process,
        dims: Dims {
            application: "Firefox".into(),
            architecture: "x86-64".into(),
            os: "Linux".into(),
            os_version: "6.5".into(),
        },
    };
    (key, h)
}

#[test]
fn info_reports_what_was_written() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("known.sqlite");
    {
        let store = SqliteStore::open(&db).unwrap();
        // Submission date 20240105: build ids 20240103 and 20240104 on nightly 123 (2 series
        // in 1 row each) and beta 10 (2 series in 2 rows each), and its submission-date tables.
        // Submission date 20240106: build id 20240104 again (merges, absorbs a second date).
        for (submission, build_dates) in [
            ("20240105", &["20240103", "20240104"][..]),
            ("20240106", &["20240104"][..]),
        ] {
            let mut batch = Batch::new(submission.parse().unwrap());
            for date in build_dates {
                batch.tables.insert(
                    target(Prefix::BuildId, "nightly", "123", date),
                    vec![
                        row("GC_MS", "", Process::Parent),
                        row("GC_MS", "", Process::Content),
                    ],
                );
                batch.tables.insert(
                    target(Prefix::BuildId, "beta", "10", date),
                    vec![
                        row("K", "a", Process::Parent),
                        row("K", "b", Process::Parent),
                    ],
                );
            }
            batch.tables.insert(
                target(Prefix::SubmissionDate, "nightly", "123", submission),
                vec![row("GC_MS", "", Process::Parent)],
            );
            store.write(&batch).unwrap();
        }
    }
    let out = ok(&["info", "--db", s(&db), "--json"]).stdout;
    let info: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(info["channels"], json!(["beta", "nightly"]));
    assert_eq!(info["versions"], json!(["10", "123"]));
    assert_eq!(info["absorbed"], json!(["20240105", "20240106"]));
    assert_eq!(
        info["families"],
        json!([
            {"prefix": "build_id", "tables": [
                {"channel": "beta", "version": "10", "dates": 2,
                 "first": "20240103", "last": "20240104"},
                {"channel": "nightly", "version": "123", "dates": 2,
                 "first": "20240103", "last": "20240104"}]},
            {"prefix": "submission_date", "tables": [
                {"channel": "nightly", "version": "123", "dates": 2,
                 "first": "20240105", "last": "20240106"}]}
        ])
    );
    let stats = &info["stats"];
    // 4 build-id tables, 2 submission-date tables.
    assert_eq!(stats["targets"], 6);
    // Build-id tables: 2 series each, in 1 row (nightly) or 2 (beta); submission-date: 1.
    assert_eq!(stats["series"], 4 * 2 + 2);
    assert_eq!(stats["rows"], 2 + 2 * 2 + 2);
    assert_eq!(stats["replicate_rows"], 0);
    let bytes = stats["bytes"].as_u64().unwrap();
    assert_eq!(bytes, std::fs::metadata(&db).unwrap().len());
    let per = info["bytes_per_series"].as_f64().unwrap();
    assert!((per - bytes as f64 / 10.0).abs() < 1e-9);
    // Three writes, each changing the data version.
    assert!(info["data_version"].as_u64().unwrap() > 0);

    let text = String::from_utf8(ok(&["info", "--db", s(&db)]).stdout).unwrap();
    for line in [
        "channels:         beta, nightly",
        "versions:         10, 123",
        "absorbed dates:   20240105 … 20240106 (2)",
        "series:           10",
        "build_id:",
        "  beta 10: 2 dates, 20240103 … 20240104",
    ] {
        assert!(text.contains(line), "{line:?} not in\n{text}");
    }
}

#[test]
fn info_refuses_a_store_that_does_not_exist() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("none.sqlite");
    let stderr = fails(2, &["info", "--db", s(&missing)]);
    assert!(stderr.contains("no such store"), "{stderr}");
    assert!(!missing.exists());
}
