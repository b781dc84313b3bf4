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
