//! Mobile rows in the SQL stores beyond the conformance suite: the schema migrations that add
//! them, stored bytes that do not decode, and trim leaving no row behind.

use std::path::Path;

use mozaggregator_core::mobile::{MobileHistogram, MobileKey};
use mozaggregator_core::testing::conformance::fixtures::{
    batch, date, dims, dump, key, layout_a, mobile_batch, mobile_dump, mobile_hist, mobile_key,
    mobile_target, seeded, target,
};
use mozaggregator_core::{Prefix, Process, SqliteStore, Store, StoreErrorKind, Target};

/// A mobile table of 20240102 with three rows (one without a layout, two with), and the rows.
fn mobile_rows() -> (Target, Vec<(MobileKey, MobileHistogram)>) {
    let k = mobile_key("20240101", "Fenix", "29", "GC_MS", "", "parent");
    let t = mobile_target("release", "68.1", "20240102");
    let rows = vec![
        (k.clone(), mobile_hist(None, &[(3, 2), (1000, 1)], 1006, 3)),
        (k.clone(), mobile_hist(Some(layout_a()), &[(2, 4)], 9, 4)),
        (
            mobile_key("20240101", "Focus", "28", "SCALARS_A", "k", "engine"),
            mobile_hist(Some(layout_a()), &[(5, 1)], 20, 1),
        ),
    ];
    (t, rows)
}

/// Writes a desktop row and the mobile rows into `store`.
fn fill(store: &dyn Store) {
    let d = dims("Firefox", "x86", "Windows_NT", "10.0");
    let t = target(Prefix::SubmissionDate, "release", "68", "20240102");
    let row = (key("GC_MS", "", Process::Parent, &d), seeded(layout_a(), 3));
    store
        .write(&batch("20240102", vec![(t, vec![row])]))
        .unwrap();
    let (t, rows) = mobile_rows();
    let r = store
        .write_mobile(&mobile_batch("20240102", vec![(t, rows)]))
        .unwrap();
    assert_eq!(r.rows_written, 3);
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

fn kind(r: mozaggregator_core::Result<()>) -> Option<StoreErrorKind> {
    r.err().and_then(|e| e.store_kind())
}

/// A store of schema version 3 (before mobile rows) is migrated on open: its desktop data
/// reads as before, and mobile rows can be written and read.
#[test]
fn a_version_3_sqlite_store_gets_mobile_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    fill(&store);
    let desktop = dump(&store).unwrap();
    drop(store);
    raw(&path)
        .execute_batch(
            "DROP TABLE mobile_rows;
             DELETE FROM absorbed WHERE target_id IN (SELECT id FROM targets WHERE prefix = 2);
             DELETE FROM targets WHERE prefix = 2;
             PRAGMA user_version = 3;",
        )
        .unwrap();
    let store = SqliteStore::open(&path).unwrap();
    let version: i64 = raw(&path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 5);
    assert_eq!(version, mozaggregator_core::store::SCHEMA_VERSION);
    assert_eq!(dump(&store).unwrap(), desktop);
    assert!(mobile_dump(&store).unwrap().is_empty());
    let (t, rows) = mobile_rows();
    store
        .write_mobile(&mobile_batch("20240102", vec![(t.clone(), rows)]))
        .unwrap();
    assert_eq!(mobile_dump(&store).unwrap().len(), 3);
    assert_eq!(
        store.dates(Prefix::MobileMetrics, "release").unwrap().len(),
        1
    );
    assert_eq!(store.absorbed(&t).unwrap(), [date("20240102")].into());
    store.integrity_check().unwrap();
}

/// Mobile rows whose stored bytes do not decode are a corrupt store on `scan_mobile`, never a
/// panic; the other reads keep working.
#[test]
fn corrupt_sqlite_mobile_rows_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    fill(&store);
    let before = mobile_dump(&store).unwrap();
    let conn = raw(&path);
    conn.execute_batch("CREATE TABLE backup AS SELECT * FROM mobile_rows;")
        .unwrap();
    let scan = || store.scan_mobile(&Default::default(), &mut |_, _, _| Ok(()));
    for corruption in [
        "buckets = x'07'",
        "buckets = zeroblob(0)",
        "buckets = 'text, not a blob'",
        "buckets = x'0103'",
        "buckets = x'010100'",
        "count = -1",
        "sum = 'many'",
        "layout_id = 9999 WHERE layout_id <> 0",
        "build_id = x'ff00'",
    ] {
        conn.execute_batch(&format!(
            "UPDATE mobile_rows SET {corruption};
             UPDATE meta SET value = value + 1 WHERE key = 'data_version';"
        ))
        .unwrap();
        assert_eq!(kind(scan()), Some(StoreErrorKind::Corrupt), "{corruption}");
        assert_eq!(store.stats().unwrap().mobile_rows, 3, "{corruption}");
        assert_eq!(
            store.channels(Prefix::MobileMetrics).unwrap(),
            ["release"],
            "{corruption}"
        );
        conn.execute_batch(
            "DELETE FROM mobile_rows; INSERT INTO mobile_rows SELECT * FROM backup;",
        )
        .unwrap();
        assert_eq!(mobile_dump(&store).unwrap(), before);
    }
    // Buckets that are not lower bounds of the row's layout.
    conn.execute_batch("UPDATE mobile_rows SET buckets = x'01e70701' WHERE layout_id <> 0")
        .unwrap();
    assert_eq!(kind(scan()), Some(StoreErrorKind::Corrupt));
}

/// Trim deletes a mobile table's rows with it: none is left behind in `mobile_rows`.
#[test]
fn sqlite_trim_leaves_no_mobile_row_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    fill(&store);
    let count = || -> i64 {
        raw(&path)
            .query_row("SELECT count(*) FROM mobile_rows", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count(), 3);
    assert_eq!(store.trim(date("20240103"), false).unwrap().len(), 2);
    assert_eq!(count(), 0);
    let absorbed: i64 = raw(&path)
        .query_row("SELECT count(*) FROM absorbed", [], |r| r.get(0))
        .unwrap();
    assert_eq!(absorbed, 0);
}

/// A PostgreSQL store of schema version 1 (before mobile rows) is migrated on open; its
/// corrupt mobile rows are errors, and trim leaves none behind.
#[test]
fn postgres_mobile_rows_migrate_decode_and_trim() {
    use mozaggregator_core::PostgresStore;
    let Some(url) = mozaggregator_core::testing::postgres::database() else {
        return;
    };
    let store = PostgresStore::open(&url).unwrap();
    fill(&store);
    let desktop = dump(&store).unwrap();
    drop(store);
    let mut admin = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    admin
        .batch_execute(
            "DROP TABLE mozaggregator.mobile_rows;
             DELETE FROM mozaggregator.absorbed WHERE target_id IN
                 (SELECT id FROM mozaggregator.targets WHERE prefix = 2);
             DELETE FROM mozaggregator.targets WHERE prefix = 2;
             UPDATE mozaggregator.meta SET value = 1 WHERE key = 'schema_version'",
        )
        .unwrap();
    let store = PostgresStore::open(&url).unwrap();
    let schema: i64 = admin
        .query_one(
            "SELECT value FROM mozaggregator.meta WHERE key = 'schema_version'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(schema, mozaggregator_core::store::PG_SCHEMA_VERSION);
    assert_eq!(schema, 3);
    assert_eq!(dump(&store).unwrap(), desktop);
    assert!(mobile_dump(&store).unwrap().is_empty());
    let (t, rows) = mobile_rows();
    store
        .write_mobile(&mobile_batch("20240102", vec![(t, rows)]))
        .unwrap();
    let before = mobile_dump(&store).unwrap();
    assert_eq!(before.len(), 3);

    let scan = || store.scan_mobile(&Default::default(), &mut |_, _, _| Ok(()));
    admin
        .batch_execute(
            "CREATE TABLE mozaggregator.backup AS SELECT * FROM mozaggregator.mobile_rows",
        )
        .unwrap();
    for corruption in [
        "buckets = '\\x07'",
        "buckets = ''",
        "buckets = '\\x010100'",
        "count = -1",
        "layout_id = 9999 WHERE layout_id <> 0",
    ] {
        admin
            .batch_execute(&format!(
                "UPDATE mozaggregator.mobile_rows SET {corruption};
                 UPDATE mozaggregator.meta SET value = value + 1 WHERE key = 'data_version'"
            ))
            .unwrap();
        assert_eq!(kind(scan()), Some(StoreErrorKind::Corrupt), "{corruption}");
        admin
            .batch_execute(
                "DELETE FROM mozaggregator.mobile_rows;
                 INSERT INTO mozaggregator.mobile_rows SELECT * FROM mozaggregator.backup",
            )
            .unwrap();
        assert_eq!(mobile_dump(&store).unwrap(), before);
    }

    assert_eq!(store.trim(date("20240103"), false).unwrap().len(), 2);
    let left: i64 = admin
        .query_one("SELECT count(*) FROM mozaggregator.mobile_rows", &[])
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
}
