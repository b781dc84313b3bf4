//! Test support shared by every crate of the project (feature `testing`): the store
//! conformance suite, what the benchmark examples share, a generator of the original
//! service's test data set, synthetic aggregates for benchmarks, and visible skips of tests
//! whose optional data is absent.

pub mod bench;
pub mod conformance;
pub mod dataset;
#[cfg(feature = "postgres")]
pub mod original;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod synthetic;

use std::io::Write;
use std::path::{Path, PathBuf};

/// Environment variable naming the file where [`skip`] appends one line per skipped test
/// (`scripts/test.sh` sets it and prints a summary of the file at the end).
pub const SKIP_LOG_VAR: &str = "MOZAGGREGATOR_SKIP_LOG";

/// Environment variable overriding where [`shared_data`] looks for the reference data
/// (default: `../shared/data` beside the repository). Pointing it at a missing directory runs
/// the tests as on a fresh clone.
pub const SHARED_DATA_VAR: &str = "MOZAGGREGATOR_SHARED_DATA";

/// Records that the running test skipped (all or part of) its work, and why: prints
/// `SKIPPED: <test>: <reason>` to stderr and appends the same line to the file named by
/// [`SKIP_LOG_VAR`], when set. The test is named after its thread (the test harness names
/// each test's thread after the test).
pub fn skip(reason: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("<unnamed test>");
    // The test binary, without cargo's hash suffix: `layouts-0123abcd` → `layouts`.
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|stem| match stem.rsplit_once('-') {
            Some((name, hash)) if hash.bytes().all(|b| b.is_ascii_hexdigit()) => name.to_string(),
            _ => stem,
        })
        .unwrap_or_default();
    let line = format!("SKIPPED: {binary}::{test}: {reason}");
    eprintln!("{line}");
    if let Some(path) = std::env::var_os(SKIP_LOG_VAR) {
        if let Err(e) = record(Path::new(&path), &line) {
            eprintln!(
                "cannot record the skip in {}: {e}",
                Path::new(&path).display()
            );
        }
    }
}

/// Appends `line` to the skip log at `path` (one write, so lines of parallel tests do not mix).
fn record(path: &Path, line: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(format!("{line}\n").as_bytes())
}

/// The reference data directory (`../shared/data` beside the repository, or
/// [`SHARED_DATA_VAR`]) when it exists; otherwise records a [`skip`] of the running test and
/// returns `None`.
pub fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os(SHARED_DATA_VAR).map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")),
        PathBuf::from,
    );
    if dir.is_dir() {
        Some(dir)
    } else {
        skip(&format!(
            "reference data {} is absent (a fresh clone has no ../shared)",
            dir.display()
        ));
        None
    }
}

/// `relative` inside the reference data (see [`shared_data`]) when it exists; otherwise
/// records a [`skip`] and returns `None`.
pub fn shared_file(relative: &str) -> Option<PathBuf> {
    let path = shared_data()?.join(relative);
    if path.exists() {
        Some(path)
    } else {
        skip(&format!("reference file {} is absent", path.display()));
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn skips_are_appended_line_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("skips.txt");
        record(&log, "SKIPPED: a::b: one").unwrap();
        record(&log, "SKIPPED: a::c: two").unwrap();
        assert_eq!(
            std::fs::read_to_string(&log).unwrap(),
            "SKIPPED: a::b: one\nSKIPPED: a::c: two\n"
        );
    }
}
