//! Running the `mozaggregator` binary in tests, without the caller's store settings.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// The binary built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_mozaggregator");

/// `mozaggregator ARGS…` without the environment's store, replicas or definitions.
pub fn command(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("MOZAGGREGATOR_DB")
        .env_remove("MOZAGGREGATOR_DB_REPLICA")
        .env_remove("MOZAGGREGATOR_HISTOGRAMS");
    c
}

/// Runs `mozaggregator ARGS…` to completion.
pub fn run(args: &[&str]) -> Output {
    command(args).output().expect("run mozaggregator")
}

/// Runs `mozaggregator ARGS…`, which must succeed.
pub fn ok(args: &[&str]) -> Output {
    succeeded(run(args), &format!("{args:?}"))
}

/// `out`, after checking that its run succeeded (`what` names the run in the failure).
#[track_caller]
pub fn succeeded(out: Output, what: &str) -> Output {
    assert!(
        out.status.success(),
        "{what}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `mozaggregator ARGS…`, which must exit with `code`: its standard error.
#[track_caller]
pub fn fails(code: i32, args: &[&str]) -> String {
    let out = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    stderr
}

/// Starts `mozaggregator ARGS…` in the background, its standard output dropped and its
/// standard error kept for `wait_with_output`.
pub fn start(args: &[&str]) -> Child {
    command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mozaggregator")
}

/// Runs `mozaggregator ARGS…` to completion with `input` on its standard input.
pub fn run_with_input(args: &[&str], input: &[u8]) -> Output {
    let mut child = command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start mozaggregator");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// A path as the `&str` an argument list takes.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs `mozaggregator SUBCOMMAND --report-json REPORT ARGS…` (`args` starting with the
/// subcommand), which must succeed: its output and the report it wrote.
pub fn ok_reporting(report: &Path, args: &[&str]) -> (Output, serde_json::Value) {
    let (subcommand, rest) = args.split_first().expect("a subcommand");
    let mut all = vec![*subcommand, "--report-json", s(report)];
    all.extend_from_slice(rest);
    let out = ok(&all);
    (out, read_json(report))
}

/// The JSON document in the file at `path` (a report a run wrote).
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}
