//! `mozaggregator demo --no-serve` builds a store from generated pings, and every URL it
//! prints answers 200 on that store.

use crate::common;
use std::sync::Arc;

use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::{Prefix, SqliteStore, Store};
use mozaggregator_http::App;
use poem::test::TestClient;

#[tokio::test]
async fn demo_prepares_a_store_and_prints_working_urls() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_mozaggregator"))
            .args(["demo", "--no-serve", "--pings", "24", "--days", "2", "--db"])
            .arg(&db)
            .output()
            .unwrap()
    };
    let output = run();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("aggregated 24 pings"), "{stdout}");

    let store = Arc::new(SqliteStore::open(&db).unwrap());
    assert!(!store.channels(Prefix::SubmissionDate).unwrap().is_empty());
    let urls: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("curl -s '"))
        .map(|u| {
            u.trim_end_matches('\'')
                .replace("http://127.0.0.1:5000", "")
        })
        .collect();
    assert!(urls.len() >= 7, "{stdout}");
    assert!(
        urls.iter().any(|u| u.contains("metric=")),
        "a metric URL: {stdout}"
    );
    let c = TestClient::new(App::new(
        store,
        Arc::new(Definitions::new()),
        common::config(None),
    ));
    for url in &urls {
        let r = c.get(url).send().await;
        assert_eq!(r.0.status(), 200, "{url}");
    }

    // A second run keeps the data it finds.
    let again = run();
    let stdout = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(again.status.success());
    assert!(stdout.contains("already holds aggregates"), "{stdout}");
}
