//! The conformance suite against every store of this crate.

use mozaggregator_core::testing::conformance::{self, Guarded, CHECKS};
use mozaggregator_core::{MemoryStore, SqliteStore, Store};

#[test]
fn memory_store_conforms() {
    conformance::run_all(&|| Box::new(MemoryStore::new()) as Box<dyn Store>).unwrap();
}

#[test]
fn sqlite_in_memory_store_conforms() {
    conformance::run_all(&|| Box::new(SqliteStore::open_in_memory().unwrap()) as Box<dyn Store>)
        .unwrap();
}

#[test]
fn sqlite_file_store_conforms() {
    conformance::run_all(&|| {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("store.sqlite")).unwrap();
        Box::new(Guarded { store, guard: dir }) as Box<dyn Store>
    })
    .unwrap();
}

#[test]
fn memory_and_sqlite_stores_keep_replicate_groups() {
    conformance::replicates_kept(&|| Box::new(MemoryStore::new()) as Box<dyn Store>).unwrap();
    conformance::replicates_kept(&|| {
        Box::new(SqliteStore::open_in_memory().unwrap()) as Box<dyn Store>
    })
    .unwrap();
}

#[test]
fn every_check_is_listed_once() {
    let names: std::collections::BTreeSet<&str> = CHECKS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names.len(), CHECKS.len());
    assert!(CHECKS.len() >= 15);
}

#[test]
fn postgres_store_conforms() {
    use mozaggregator_core::testing::postgres;
    use mozaggregator_core::PostgresStore;
    let Some(first) = postgres::database() else {
        return;
    };
    let urls = std::sync::Mutex::new(vec![first]);
    conformance::run_all(&|| {
        let url = urls
            .lock()
            .unwrap()
            .pop()
            .unwrap_or_else(|| postgres::database().unwrap());
        Box::new(PostgresStore::open(&url).unwrap()) as Box<dyn Store>
    })
    .unwrap();
}

/// A PostgreSQL store (in a fresh database of the shared test cluster) holding one `GC_MS` row
/// of (prefix, channel, version) on 2015-06-01, with its URL; `None` when PostgreSQL is not
/// installed (the test is listed as skipped).
fn postgres_store_with(
    prefix: mozaggregator_core::Prefix,
    channel: &str,
    version: &str,
) -> Option<(mozaggregator_core::PostgresStore, String)> {
    use conformance::fixtures::{batch, dims, hist, key, layout_a, target};
    let url = mozaggregator_core::testing::postgres::database()?;
    let store = mozaggregator_core::PostgresStore::open(&url).unwrap();
    let row = (
        key(
            "GC_MS",
            "",
            mozaggregator_core::Process::Parent,
            &dims("Firefox", "x86", "Linux", "6"),
        ),
        hist(layout_a(), &[(0, 3)], 3, 1),
    );
    let t = target(prefix, channel, version, "20150601");
    store
        .write(&batch("20150601", vec![(t, vec![row])]))
        .unwrap();
    Some((store, url))
}

/// A read that fails inside its snapshot (here: a table renamed away under the store) rolls
/// its transaction back, so the pooled connection serves the next read once the table is back.
#[test]
fn postgres_reads_recover_after_a_failed_snapshot() {
    use mozaggregator_core::Prefix;
    let Some((store, url)) = postgres_store_with(Prefix::SubmissionDate, "nightly", "42") else {
        return;
    };
    let before = store.channels(Prefix::SubmissionDate).unwrap();
    assert!(!before.is_empty());
    let mut admin = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    admin
        .batch_execute("ALTER TABLE mozaggregator.meta RENAME TO meta_away")
        .unwrap();
    for _ in 0..3 {
        assert!(store.channels(Prefix::SubmissionDate).is_err());
    }
    admin
        .batch_execute("ALTER TABLE mozaggregator.meta_away RENAME TO meta")
        .unwrap();
    assert_eq!(store.channels(Prefix::SubmissionDate).unwrap(), before);
}

/// A stored date that is not a `YYYYMMDD` date is a corrupt store on every read path of the
/// PostgreSQL store, never a panic.
#[test]
fn postgres_stored_dates_that_do_not_parse_are_corrupt() {
    use conformance::fixtures::{date, target};
    use mozaggregator_core::{Filter, Prefix, Selection, SeriesQuery, StoreErrorKind};
    let Some((store, url)) = postgres_store_with(Prefix::BuildId, "beta", "41") else {
        return;
    };
    let t = target(Prefix::BuildId, "beta", "41", "20150601");
    let mut admin = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    admin
        .batch_execute(
            "UPDATE mozaggregator.targets SET date = '2015-06-01' WHERE channel = 'beta'",
        )
        .unwrap();
    let kind = |r: mozaggregator_core::Result<()>| r.err().and_then(|e| e.store_kind());
    let corrupt = Some(StoreErrorKind::Corrupt);
    assert_eq!(
        kind(store.dates(Prefix::BuildId, "beta").map(drop)),
        corrupt
    );
    let q = SeriesQuery {
        prefix: Prefix::BuildId,
        channel: "beta".into(),
        version: "41".into(),
        dates: vec![date("20150601")],
        metric: "GC_MS".into(),
        filter: Filter::All,
    };
    assert_eq!(kind(store.query(&q).map(drop)), corrupt);
    let selection = Selection {
        channel: Some("beta".into()),
        ..Selection::default()
    };
    assert_eq!(kind(store.scan(&selection, &mut |_, _, _| Ok(()))), corrupt);
    admin
        .batch_execute(
            "UPDATE mozaggregator.targets SET date = '20150601' WHERE channel = 'beta';
             UPDATE mozaggregator.absorbed SET submission_date = 'june'
             WHERE target_id IN (SELECT id FROM mozaggregator.targets WHERE channel = 'beta')",
        )
        .unwrap();
    assert_eq!(kind(store.absorbed(&t).map(drop)), corrupt);
}
