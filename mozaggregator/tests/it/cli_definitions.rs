//! `mozaggregator definitions` end to end: the binary's output against the reference layouts of
//! ranges_all_defs.json (when ../shared is present) and the core crate's hand-derived fixtures,
//! plus errors (exit code 2, message naming metric and field) and a closed pipe.

use crate::core_common as common;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{expected_for, fixture, read, read_object, shared_data, u64s};
use serde_json::{Map, Value};

const BIN: &str = env!("CARGO_BIN_EXE_mozaggregator");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("definitions")
        .args(args)
        .output()
        .expect("run mozaggregator")
}

/// Runs the command successfully and parses its lines.
fn lines(args: &[&str]) -> Vec<Map<String, Value>> {
    let out = run(args);
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let parsed: Vec<Map<String, Value>> = text
        .lines()
        .map(|l| match serde_json::from_str(l) {
            Ok(Value::Object(m)) => m,
            other => panic!("not a JSON object line: {l}: {other:?}"),
        })
        .collect();
    for line in &parsed {
        let keys: Vec<&str> = line.keys().map(String::as_str).collect();
        let mut want = vec![
            "buckets",
            "description",
            "keyed",
            "kind",
            "labels",
            "metric",
        ];
        want.sort_unstable();
        let mut got = keys.clone();
        got.sort_unstable();
        assert_eq!(got, want);
    }
    let names: Vec<&str> = parsed
        .iter()
        .map(|l| l["metric"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(names, sorted, "sorted by metric, each once");
    parsed
}

/// Every definition of `definitions` is printed with exactly the expected kind, buckets and
/// labels (plus `spill` for categorical ones).
fn check_output(path: &Path, expected: &Map<String, Value>) -> usize {
    let printed = lines(&["--histograms", path.to_str().unwrap()]);
    let wanted = expected_for(&read(path), expected);
    assert_eq!(printed.len(), wanted.len());
    for (line, e) in printed.iter().zip(&wanted) {
        assert_eq!(line["metric"].as_str().unwrap(), e.name);
        assert_eq!(line["kind"].as_str().unwrap(), e.kind, "{}", e.name);
        assert_eq!(u64s(&line["buckets"]), e.ranges, "{}", e.name);
        let mut labels = e.labels.clone();
        if !labels.is_empty() {
            labels.push("spill".into());
        }
        assert_eq!(common::strings(&line["labels"]), labels, "{}", e.name);
        if let Some(keyed) = e.keyed {
            assert_eq!(line["keyed"].as_bool().unwrap(), keyed, "{}", e.name);
        }
        if let Some(description) = &e.description {
            assert_eq!(
                line["description"].as_str().unwrap(),
                description,
                "{}",
                e.name
            );
        }
    }
    wanted.len()
}

#[test]
fn ranges_all_defs_through_the_cli() {
    let Some(data) = shared_data() else { return };
    let expected = read_object(&data.join("vectors/ranges_all_defs.json"));
    let n = check_output(&data.join("definitions/Histograms-2017.json"), &expected);
    assert_eq!(n, 1497);
}

#[test]
fn fixture_through_the_cli() {
    let expected = read_object(&fixture("histograms-quirks.expected.json"));
    let n = check_output(&fixture("histograms-quirks.json"), &expected);
    assert_eq!(n, expected.len() - 1);
}

#[test]
fn scalars_files_are_merged_and_sorted() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.yaml");
    let two = dir.path().join("two.yaml");
    std::fs::write(&one, "b.cat:\n  probe:\n    kind: uint\n    keyed: true\n    description: >\n      Folded\n      text.\n").unwrap();
    std::fs::write(&two, "a.cat:\n  flag:\n    kind: boolean\n").unwrap();
    let printed = lines(&[
        "--scalars",
        one.to_str().unwrap(),
        "--scalars",
        two.to_str().unwrap(),
        "--histograms",
        fixture("histograms-quirks.json").to_str().unwrap(),
    ]);
    let a = printed
        .iter()
        .position(|l| l["metric"] == "SCALARS_A.CAT.FLAG")
        .unwrap();
    let b = printed
        .iter()
        .position(|l| l["metric"] == "SCALARS_B.CAT.PROBE")
        .unwrap();
    assert!(a < b);
    let probe = &printed[b];
    assert_eq!(probe["kind"], "exponential");
    assert_eq!(probe["keyed"], true);
    assert_eq!(probe["description"], "Folded text.");
    assert_eq!(probe["labels"], Value::Array(vec![]));
    let buckets = u64s(&probe["buckets"]);
    assert_eq!(buckets.len(), 100);
    assert_eq!((buckets[28], buckets[99]), (40, 10000));
    assert!(printed.iter().any(|l| l["metric"] == "FIX_CAT"));
}

#[test]
fn shared_scalars_through_the_cli() {
    let Some(data) = shared_data() else { return };
    let path = data.join("definitions/Scalars-test-subset.yaml");
    let printed = lines(&["--scalars", path.to_str().unwrap()]);
    let names: Vec<&str> = printed
        .iter()
        .map(|l| l["metric"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "SCALARS_BROWSER.ENGAGEMENT.TOTAL_URI_COUNT",
            "SCALARS_TELEMETRY.EVENT_COUNTS",
            "SCALARS_TELEMETRY.TEST.KEYED_UNSIGNED_INT",
        ]
    );
}

#[track_caller]
fn assert_fails(args: &[&str], stderr_contains: &[&str]) {
    let out = run(args);
    assert_eq!(out.status.code(), Some(2), "exit code");
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    for s in stderr_contains {
        assert!(stderr.contains(s), "{s:?} not in {stderr}");
    }
}

#[test]
fn corrupt_definition_exits_2_naming_metric_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Histograms.json");
    std::fs::write(
        &path,
        r#"{"OK": {"kind": "flag"}, "BAD_ONE": {"kind": "exponential", "high": 100, "n_buckets": 1000000000}}"#,
    )
    .unwrap();
    assert_fails(
        &["--histograms", path.to_str().unwrap()],
        &["BAD_ONE", "n_buckets", "Histograms.json"],
    );
}

#[test]
fn truncated_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Histograms.json");
    std::fs::write(&path, r#"{"A": {"kind": "flag""#).unwrap();
    assert_fails(&["--histograms", path.to_str().unwrap()], &["cannot parse"]);
}

#[test]
fn bad_scalars_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Scalars.yaml");
    std::fs::write(&path, "a:\n  b:\n    kind: float\n").unwrap();
    assert_fails(
        &["--scalars", path.to_str().unwrap()],
        &["a.b", "kind", "float"],
    );
}

#[test]
fn missing_file_and_no_file_exit_2() {
    assert_fails(
        &["--histograms", "/nonexistent/Histograms.json"],
        &["/nonexistent"],
    );
    assert_fails(&[], &["--histograms"]);
}

/// A reader that stops early (`| head -1`) ends the output quietly: success, no panic.
#[test]
fn closed_pipe_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Histograms.json");
    // About 2 MB of output, far more than a pipe buffers.
    let mut file = std::fs::File::create(&path).unwrap();
    write!(file, "{{").unwrap();
    for i in 0..5000 {
        let sep = if i == 0 { "" } else { "," };
        write!(
            file,
            r#"{sep}"H{i:05}": {{"kind": "exponential", "high": 100000, "n_buckets": 100}}"#
        )
        .unwrap();
    }
    write!(file, "}}").unwrap();
    drop(file);
    let mut child = Command::new(BIN)
        .args(["definitions", "--histograms", path.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).unwrap();
    assert!(first.starts_with(r#"{"metric":"H00000""#), "{first}");
    // The reader is dropped here: the rest of the output hits a closed pipe.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(stderr.is_empty(), "{stderr}");
}
