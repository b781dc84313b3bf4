//! `mozaggregator serve` reads its settings from flags and `MOZAGGREGATOR_*` variables and
//! refuses bad ones with a clear message before binding anything.

use std::process::Command;

fn serve(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mozaggregator"));
    cmd.arg("serve").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn settings_come_from_flags_or_environment_and_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.sqlite");
    let missing = missing.to_str().unwrap();

    let (code, err) = serve(&[], &[("MOZAGGREGATOR_DB", missing)]);
    assert_eq!(code, 2);
    assert!(err.contains("no such store"), "{err}");

    let (code, err) = serve(&["--db", missing], &[("MOZAGGREGATOR_DENY_METRIC", "(")]);
    assert_eq!(code, 2);
    assert!(err.contains("deny-list pattern"), "{err}");

    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, r#"{"keys": []}"#).unwrap();
    let (code, err) = serve(&["--db", missing, "--jwks", jwks.to_str().unwrap()], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("--jwt-issuer"), "{err}");

    let (code, err) = serve(
        &["--db", missing],
        &[("MOZAGGREGATOR_TOKENS_FILE", "/nonexistent/tokens")],
    );
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/tokens"), "{err}");

    let out = Command::new(env!("CARGO_BIN_EXE_mozaggregator"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "MOZAGGREGATOR_DB",
        "MOZAGGREGATOR_BIND",
        "MOZAGGREGATOR_HISTOGRAMS",
        "MOZAGGREGATOR_SCALARS",
        "MOZAGGREGATOR_DENY_METRIC",
        "MOZAGGREGATOR_AUTH_ONLY_METRIC",
        "MOZAGGREGATOR_PUBLIC_RELEASE_METRIC",
        "MOZAGGREGATOR_ALLOW_ALL_RELEASE",
        "MOZAGGREGATOR_JWKS",
        "MOZAGGREGATOR_JWT_ISSUER",
        "MOZAGGREGATOR_JWT_AUDIENCE",
        "MOZAGGREGATOR_JWT_SCOPE",
        "MOZAGGREGATOR_TOKENS_FILE",
        "MOZAGGREGATOR_CACHE_TIMEOUT",
        "MOZAGGREGATOR_MAX_DATES",
    ] {
        assert!(help.contains(var), "{var} missing from --help");
    }
}

/// Issue 16: a `--db` that is not a store (here a gzip file of pings) is refused with its path.
#[test]
fn a_db_that_is_not_a_store_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let pings = dir.path().join("pings.gz");
    std::fs::write(
        &pings,
        b"\x1f\x8b\x08\x00 this is not an SQLite database at all, just bytes",
    )
    .unwrap();
    let path = pings.to_str().unwrap();
    let (code, err) = serve(&["--db", path, "--bind", "127.0.0.1:0"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(path), "{err}");
    assert!(err.contains("not a mozaggregator store"), "{err}");
}
