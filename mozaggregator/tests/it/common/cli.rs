//! Running the `mozaggregator` binary in tests, without the caller's store settings.

use std::path::Path;
use std::process::{Command, Output};

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
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
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
    let report = serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
    (out, report)
}
