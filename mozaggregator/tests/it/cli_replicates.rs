//! `mozaggregator aggregate --replicates R`: a bad R is a clear usage error naming the allowed
//! values; a good one leaves the normal aggregates as they were and reports its counters.

use mozaggregator_core::testing::dataset;

use crate::common::cli::{fails, ok, ok_reporting, s};

#[test]
fn a_replicate_count_that_does_not_divide_100_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("a.sqlite");
    for bad in ["3", "0", "1", "200", "twenty"] {
        let stderr = fails(2, &["aggregate", "--db", s(&db), "--replicates", bad, "-"]);
        assert!(stderr.contains("--replicates"), "{stderr}");
        assert!(
            stderr.contains("use one of 2, 4, 5, 10, 20, 25, 50, 100"),
            "{stderr}"
        );
    }
    assert!(!db.exists(), "nothing was opened");
    let help = String::from_utf8(ok(&["aggregate", "--help"]).stdout).unwrap();
    assert!(help.contains("--replicates <R>"), "{help}");
}

#[test]
fn replicates_leave_the_normal_aggregates_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let pings: Vec<String> = dataset::pings("20240110")
        .unwrap()
        .into_iter()
        .step_by(11)
        .collect();
    let input = tmp.path().join("pings.ndjson");
    std::fs::write(&input, pings.join("\n") + "\n").unwrap();
    let mut exports = Vec::new();
    for replicates in [None, Some("20")] {
        let db = tmp.path().join(format!("{replicates:?}.sqlite"));
        let report = tmp.path().join("r.json");
        let mut args = vec!["aggregate", "--db", s(&db)];
        if let Some(r) = replicates {
            args.extend(["--replicates", r]);
        }
        args.push(s(&input));
        let (_, r) = ok_reporting(&report, &args);
        assert_eq!(r["pings_used"].as_u64(), Some(pings.len() as u64));
        assert_eq!(r["pings_without_replicate_group"].as_u64(), Some(0));
        assert!(r["replicate_rows_written"].is_u64(), "{r}");
        exports.push(ok(&["export", "--db", s(&db)]).stdout);
    }
    assert!(!exports[0].is_empty());
    assert!(exports[0] == exports[1], "the normal aggregates differ");
}
