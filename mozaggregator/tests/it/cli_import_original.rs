//! `mozaggregator import --from-original` end to end, running the binary against a database in
//! the original service's schema on the private PostgreSQL cluster.

use std::collections::BTreeSet;

use mozaggregator_core::testing::{dataset, original, postgres};
use mozaggregator_core::SqliteStore;

use crate::common::cli::{fails, ok, read_json, s};

const TODAY: &str = "20240110";

/// The dataset's histograms that need a definition, except the categorical one (whose
/// 4-bucket layout no Histograms.json can describe: its rows are rejected).
const HISTOGRAMS_JSON: &str = r#"{
  "EVENTLOOP_UI_ACTIVITY_EXP_MS": {"kind": "exponential", "low": 50, "high": 60000, "n_buckets": 20},
  "GC_MAX_PAUSE_MS_2": {"kind": "linear", "low": 1, "high": 1000, "n_buckets": 50},
  "DEVTOOLS_PERFTOOLS_RECORDING_FEATURES_USED": {"kind": "boolean", "keyed": true},
  "MESSAGE_MANAGER_MESSAGE_SIZE": {"kind": "exponential", "high": 1000, "n_buckets": 20},
  "VIDEO_DETAILED_DROPPED_FRAMES_PROPORTION": {"kind": "exponential", "high": 1000, "n_buckets": 20}
}"#;

fn lines(bytes: &[u8]) -> BTreeSet<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn import_from_original_then_again_is_exact_and_then_a_no_op() {
    let Some(url) = postgres::database() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let pings = tmp.path().join("pings.ndjson");
    std::fs::write(&pings, dataset::pings(TODAY).unwrap().join("\n") + "\n").unwrap();
    let source = tmp.path().join("source.sqlite");
    ok(&["aggregate", "--db", s(&source), s(&pings)]);
    let written = original::write_store(&url, &SqliteStore::open(&source).unwrap(), true).unwrap();
    let histograms = tmp.path().join("Histograms.json");
    std::fs::write(&histograms, HISTOGRAMS_JSON).unwrap();

    let dest = tmp.path().join("dest.sqlite");
    let report_path = tmp.path().join("report.json");
    let args = [
        "import",
        "--db",
        s(&dest),
        "--from-original",
        &url,
        "--histograms",
        s(&histograms),
        "--report-json",
        s(&report_path),
    ];
    let out = ok(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown_metric"), "{stderr}");
    let report = read_json(&report_path);
    let rejected = report["rows_rejected"]["unknown_metric"].as_u64().unwrap();
    assert!(rejected > 0);
    assert_eq!(report["rows_read"], written.rows);
    assert_eq!(
        report["rows_imported"].as_u64().unwrap() + rejected,
        written.rows
    );
    assert_eq!(report["targets_written"], written.tables);
    assert!(report["rejected_examples"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["detail"]
            .as_str()
            .unwrap()
            .contains("TELEMETRY_TEST_CATEGORICAL")));

    // The new store holds what the source holds, but the rejected categorical rows.
    let want: BTreeSet<String> = lines(&ok(&["export", "--db", s(&source)]).stdout)
        .into_iter()
        .filter(|l| !l.contains("\"metric\":\"TELEMETRY_TEST_CATEGORICAL\""))
        .collect();
    let got = lines(&ok(&["export", "--db", s(&dest)]).stdout);
    assert_eq!(got.len(), want.len());
    assert!(got == want, "exports differ");

    // Again: every table skipped, nothing written.
    ok(&args);
    let again = read_json(&report_path);
    assert_eq!(again["targets_written"], 0);
    assert_eq!(again["targets_skipped"], written.tables);
    assert_eq!(again["rows_imported"], 0);
    assert!(lines(&ok(&["export", "--db", s(&dest)]).stdout) == want);
}

#[test]
fn an_unreachable_original_is_a_clear_error_without_the_password() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("dest.sqlite");
    let stderr = fails(
        2,
        &[
            "import",
            "--db",
            s(&dest),
            "--from-original",
            "postgres://reader:s3cret-pw@127.0.0.1:1/telemetry?connect_timeout=5",
        ],
    );
    assert!(
        stderr.contains("cannot connect to the original database"),
        "{stderr}"
    );
    assert!(stderr.contains("reader:***@127.0.0.1:1"), "{stderr}");
    assert!(!stderr.contains("s3cret-pw"), "{stderr}");
}

#[test]
fn from_original_takes_no_files_and_definitions_need_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("dest.sqlite");
    let rows = tmp.path().join("rows.ndjson");
    std::fs::write(&rows, "").unwrap();
    for (extra, error) in [
        (
            ["--from-original", "postgres://localhost/x"],
            "cannot be used with",
        ),
        (["--histograms", "H.json"], "--from-original"),
    ] {
        let stderr = fails(
            2,
            &[&["import", "--db", s(&dest)], &extra[..], &[s(&rows)]].concat(),
        );
        assert!(stderr.contains(error), "{stderr}");
    }
    assert!(!dest.exists(), "nothing is created on a usage error");
}
