//! SqliteStore beyond the conformance suite: concurrency, several handles on one file, schema
//! versions, corrupt data, reopening.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use mozaggregator_core::error::{Backend, StoreErrorKind};
use mozaggregator_core::testing::conformance::fixtures::{
    batch, date, dims, dump, hist, key, target,
};
use mozaggregator_core::{
    Dimension, Error, Filter, Histogram, LayoutSpec, Prefix, Process, Selection, SeriesKey,
    SeriesQuery, SqliteStore, Store, Target,
};

fn layout() -> LayoutSpec {
    LayoutSpec::exponential(1, 10_000, 50).unwrap()
}

/// `n` keys over 10 labels of metric `M`, 3 processes and 2 dims combinations.
fn keys(n: usize) -> Vec<SeriesKey> {
    let d = [
        dims("Firefox", "x86", "Windows_NT", "10.0"),
        dims("Firefox", "x86-64", "Linux", "6.1"),
    ];
    (0..n)
        .map(|i| {
            key(
                "M",
                &format!("label{}", i % 10),
                Process::ALL[i / 10 % 3],
                &d[i / 30 % 2],
            )
        })
        .collect()
}

fn one(i: usize) -> Histogram {
    hist(layout(), &[(i % 50, 1)], i as u64, 1)
}

/// The first `n` of `keys`, each with its own histogram, for target `nightly/42/20150601`.
fn rows(n: usize) -> (Target, Vec<(SeriesKey, Histogram)>) {
    let t = target(Prefix::BuildId, "nightly", "42", "20150601");
    let rows = keys(n)
        .into_iter()
        .enumerate()
        .map(|(i, k)| (k, one(i)))
        .collect();
    (t, rows)
}

/// A new store `s.sqlite` in `dir` holding `rows(n)` of submission date 20150601, and its path.
fn store_of_rows(dir: &Path, n: usize) -> (PathBuf, SqliteStore) {
    let path = dir.join("s.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    store.write(&batch("20150601", vec![rows(n)])).unwrap();
    (path, store)
}

/// A query of metric `M` on `nightly/42` over `dates`.
fn query_m(dates: &[&str], filter: Filter) -> SeriesQuery {
    SeriesQuery {
        prefix: Prefix::BuildId,
        channel: "nightly".into(),
        version: "42".into(),
        dates: dates.iter().map(|d| date(d)).collect(),
        metric: "M".into(),
        filter,
    }
}

/// Admits every row of `keys`, but names OS versions, so a query reads `series`, not `totals`.
fn every_os_version() -> Filter {
    Filter::is_in(Dimension::OsVersion, ["10.0", "6.1"])
}

/// Every series count seen by one scan.
fn counts(store: &dyn Store) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    store
        .scan(&Selection::default(), &mut |_, _, h| {
            out.insert(h.count());
            Ok(())
        })
        .unwrap();
    out
}

#[test]
fn readers_never_see_half_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("s.sqlite")).unwrap();
    let targets = [
        target(Prefix::BuildId, "nightly", "42", "20150601"),
        target(Prefix::BuildId, "nightly", "42", "20150602"),
        target(Prefix::SubmissionDate, "nightly", "42", "20150603"),
    ];
    let keys = keys(60);
    const WRITES: i64 = 20;
    let done = AtomicBool::new(false);
    let store = &store;
    let query = SeriesQuery {
        prefix: Prefix::BuildId,
        channel: "nightly".into(),
        version: "42".into(),
        dates: vec![date("20150601"), date("20150602")],
        metric: "M".into(),
        filter: Filter::All,
    };
    let query = &query;
    let reader = |use_scan: bool| {
        let mut last_version = 0;
        let mut last_count = 0;
        let mut reads = 0;
        loop {
            let finished = done.load(Ordering::SeqCst);
            let version = store.data_version().unwrap();
            assert!(version >= last_version);
            last_version = version;
            let seen: BTreeSet<u64> = if use_scan {
                counts(store)
            } else {
                let rows = store.query(query).unwrap();
                assert!(rows.is_empty() || rows.len() == 20, "{} rows", rows.len());
                // 6 series (3 processes x 2 dims) per label.
                rows.iter().map(|r| r.histogram.count() / 6).collect()
            };
            assert!(seen.len() <= 1, "one read saw counts {seen:?}");
            let count = seen.into_iter().next().unwrap_or(0);
            assert!(
                count >= last_count,
                "count went back from {last_count} to {count}"
            );
            last_count = count;
            reads += 1;
            if finished {
                assert_eq!(count, WRITES as u64);
                return reads;
            }
        }
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            for k in 0..WRITES {
                let rows: Vec<_> = keys
                    .iter()
                    .enumerate()
                    .map(|(i, k)| (k.clone(), one(i)))
                    .collect();
                let b = batch(
                    &date("20150603").add_days(k).unwrap().to_string(),
                    targets.iter().map(|t| (t.clone(), rows.clone())).collect(),
                );
                let report = store.write(&b).unwrap();
                assert_eq!(report.rows_written, 180);
            }
            done.store(true, Ordering::SeqCst);
        });
        let reader = &reader;
        let a = s.spawn(move || reader(false));
        let b = s.spawn(move || reader(false));
        let c = s.spawn(move || reader(true));
        for h in [a, b, c] {
            assert!(h.join().unwrap() > 0);
        }
    });
}

#[test]
fn two_handles_on_one_file_see_each_others_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let a = SqliteStore::open(&path).unwrap();
    let b = SqliteStore::open(&path).unwrap();
    let t = target(Prefix::SubmissionDate, "beta", "40", "20150601");
    let d = dims("Firefox", "x86", "Windows_NT", "6.1");
    let d2 = dims("Fennec", "arm", "Android", "23");
    // b reads first, so its caches exist before a adds new ids.
    assert!(b.filter_options("beta", "40").unwrap().is_none());
    let x = hist(layout(), &[(3, 2)], 10, 1);
    let y = hist(LayoutSpec::flag(), &[(1, 1)], 1, 1);
    a.write(&batch(
        "20150601",
        vec![(
            t.clone(),
            vec![(key("X", "k1", Process::Parent, &d), x.clone())],
        )],
    ))
    .unwrap();
    b.write(&batch(
        "20150602",
        vec![(
            t.clone(),
            vec![
                (key("X", "k1", Process::Parent, &d), x.clone()),
                (key("Y", "k2", Process::Gpu, &d2), y.clone()),
            ],
        )],
    ))
    .unwrap();
    a.write(&batch(
        "20150603",
        vec![(
            t.clone(),
            vec![(key("Y", "k2", Process::Gpu, &d2), y.clone())],
        )],
    ))
    .unwrap();
    let mut xx = x.clone();
    xx.merge(&x).unwrap();
    let mut yy = y.clone();
    yy.merge(&y).unwrap();
    let want = vec![
        (t.clone(), key("X", "k1", Process::Parent, &d), xx),
        (t.clone(), key("Y", "k2", Process::Gpu, &d2), yy),
    ];
    assert_eq!(dump(&a).unwrap(), want);
    assert_eq!(dump(&b).unwrap(), want);
    assert_eq!(a.data_version().unwrap(), b.data_version().unwrap());
    let options = b.filter_options("beta", "40").unwrap().unwrap();
    assert_eq!(options.metric, ["X".to_string(), "Y".to_string()].into());
    assert_eq!(options.child, [Process::Parent, Process::Gpu].into());
    assert_eq!(a.absorbed(&t).unwrap().len(), 3);
}

#[test]
fn data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let t = target(Prefix::BuildId, "nightly", "42", "20150601");
    let rows: Vec<_> = keys(30)
        .into_iter()
        .enumerate()
        .map(|(i, k)| (k, one(i)))
        .collect();
    let (before, version) = {
        let store = SqliteStore::open(&path).unwrap();
        store
            .write(&batch("20150601", vec![(t.clone(), rows.clone())]))
            .unwrap();
        (dump(&store).unwrap(), store.data_version().unwrap())
    };
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(dump(&store).unwrap(), before);
    assert_eq!(store.data_version().unwrap(), version);
    assert_eq!(
        store
            .write(&batch("20150601", vec![(t.clone(), rows)]))
            .unwrap()
            .targets_skipped,
        vec![t]
    );
    assert_eq!(dump(&store).unwrap(), before);
    store.integrity_check().unwrap();
    assert_eq!(store.path(), Some(path.as_path()));
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    drop(SqliteStore::open(&path).unwrap());
    raw(&path)
        .execute_batch("PRAGMA user_version = 99;")
        .unwrap();
    match SqliteStore::open(&path) {
        Err(Error::SchemaTooNew {
            found: 99,
            supported,
        }) => {
            assert_eq!(supported, mozaggregator_core::store::SCHEMA_VERSION);
        }
        other => panic!("expected SchemaTooNew, got {:?}", other.err()),
    }
}

#[test]
fn foreign_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.sqlite");
    raw(&path)
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    let err = SqliteStore::open(&path).err().unwrap();
    assert_eq!(err.store_kind(), Some(StoreErrorKind::NotAStore), "{err}");
    assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
    let text = dir.path().join("text.txt");
    std::fs::write(
        &text,
        "not a database at all, just some text that is long enough",
    )
    .unwrap();
    let err = SqliteStore::open(&text).err().unwrap();
    assert_eq!(err.store_kind(), Some(StoreErrorKind::NotAStore), "{err}");
    let Error::Store(store_error) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(store_error.backend(), Backend::Sqlite);
    // SQLite's own error is kept as the source, and the message says what to do.
    let source = std::error::Error::source(store_error).expect("a source");
    assert!(
        source.downcast_ref::<rusqlite::Error>().is_some(),
        "{source}"
    );
    assert!(
        err.to_string().contains("not a mozaggregator store"),
        "{err}"
    );
}

#[test]
fn corrupt_rows_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let (path, store) = store_of_rows(dir.path(), 30);
    let (t, rows) = rows(30);
    let before = dump(&store).unwrap();
    let query = query_m(&["20150601"], every_os_version());
    let totals_query = query_m(&["20150601"], Filter::All);
    assert_eq!(store.query(&query).unwrap().len(), 10);
    let answer = store.query(&totals_query).unwrap();
    assert_eq!(answer, store.query(&query).unwrap());

    let conn = raw(&path);
    conn.execute_batch(
        "CREATE TABLE backup AS SELECT rowid AS r, data FROM series;
         CREATE TABLE backup_totals AS SELECT * FROM totals;",
    )
    .unwrap();
    let restore = || {
        conn.execute_batch(
            "UPDATE series SET data = (SELECT data FROM backup WHERE r = series.rowid);
             DELETE FROM totals; INSERT INTO totals SELECT * FROM backup_totals;",
        )
        .unwrap();
        assert_eq!(dump(&store).unwrap(), before);
    };
    let one_row = "WHERE rowid = (SELECT min(rowid) FROM series)";
    for corruption in [
        "data || x'00'",            // an entry cut short
        "x'07' || substr(data, 2)", // unknown pack format
        "x'01000101ff'",            // entry longer than the pack
        "x'0100010103211234'",      // histogram of an unknown format
        "x'01090101021100'",        // unknown process
        "x'01007f01021100'",        // unknown dims id
        "zeroblob(0)",
        "'text, not a blob'",
    ] {
        let changed = conn
            .execute(
                &format!("UPDATE series SET data = {corruption} {one_row}"),
                [],
            )
            .unwrap();
        assert_eq!(changed, 1);
        assert_eq!(
            store.query(&query).err().and_then(|e| e.store_kind()),
            Some(StoreErrorKind::Corrupt),
            "{corruption}"
        );
        assert!(dump(&store).is_err(), "{corruption}");
        // The totals, computed before the damage, still answer what needs no dims.
        assert_eq!(store.query(&totals_query).unwrap(), answer, "{corruption}");
        // A write merging into the corrupt row either fails as a whole (nothing changes) or,
        // when the damage is in a part it copies without reading, leaves it to be reported
        // by readers. It never panics.
        let version = store.data_version().unwrap();
        match store.write(&batch("20150602", vec![(t.clone(), rows.clone())])) {
            Err(_) => {
                assert_eq!(store.data_version().unwrap(), version);
                assert_eq!(store.absorbed(&t).unwrap().len(), 1);
                restore();
            }
            Ok(_) => {
                assert!(store.query(&query).is_err(), "{corruption}");
                // Totals rewritten from a damaged pack: a clear error or (when the damage is
                // in what totals ignore, such as a dims id) the sums; never a panic.
                let _ = store.query(&totals_query);
                assert!(dump(&store).is_err(), "{corruption}");
                conn.execute(
                    "DELETE FROM absorbed WHERE submission_date = '20150602'",
                    [],
                )
                .unwrap();
                restore();
            }
        }
    }

    // A layout row that no longer describes a layout: queries meeting it fail, others work.
    conn.execute("UPDATE layouts SET n = 1", []).unwrap();
    conn.execute(
        "UPDATE meta SET value = value + 1 WHERE key = 'data_version'",
        [],
    )
    .unwrap();
    let fresh = SqliteStore::open(&path).unwrap();
    assert!(matches!(fresh.query(&query), Err(Error::Store(_))));
    assert_eq!(fresh.channels(Prefix::BuildId).unwrap(), vec!["nightly"]);
    drop(before);
}

#[test]
fn a_stored_date_that_is_not_a_date_is_a_corrupt_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    let (t, rows) = rows(3);
    store
        .write(&batch("20150601", vec![(t.clone(), rows)]))
        .unwrap();
    let corrupt = |what: &str, kind: Option<StoreErrorKind>| {
        assert_eq!(kind, Some(StoreErrorKind::Corrupt), "{what}");
    };
    let conn = raw(&path);
    for bad in ["2015-06-01", "20150231", ""] {
        conn.execute("UPDATE targets SET date = ?1", [bad]).unwrap();
        let kind = |r: mozaggregator_core::Result<()>| r.err().and_then(|e| e.store_kind());
        corrupt(bad, kind(store.dates(Prefix::BuildId, "nightly").map(drop)));
        corrupt(
            bad,
            kind(store.query(&query_m(&["20150601"], Filter::All)).map(drop)),
        );
        corrupt(
            bad,
            kind(store.scan(&Selection::default(), &mut |_, _, _| Ok(()))),
        );
        corrupt(bad, kind(store.trim(date("20990101"), true).map(drop)));
    }
    conn.execute("UPDATE targets SET date = '20150601'", [])
        .unwrap();
    conn.execute("UPDATE absorbed SET submission_date = 'june'", [])
        .unwrap();
    let kind = store.absorbed(&t).err().and_then(|e| e.store_kind());
    corrupt("absorbed", kind);
}

/// Queries that need no dims but the OS read `totals`; they answer exactly what the packs
/// answer, over merges of several batches, with and without OS, process and label filters.
#[test]
fn totals_answer_what_the_packs_answer() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("s.sqlite")).unwrap();
    let t = target(Prefix::BuildId, "nightly", "42", "20150601");
    for (day, n) in [("20150601", 60), ("20150602", 45), ("20150603", 7)] {
        let rows: Vec<_> = keys(n)
            .into_iter()
            .enumerate()
            .map(|(i, k)| (k, one(i * 7 + n)))
            .collect();
        store.write(&batch(day, vec![(t.clone(), rows)])).unwrap();
    }
    for extra in [
        Filter::All,
        Filter::eq(Dimension::Child, "content"),
        Filter::is_in(Dimension::Child, ["parent", "gpu"]),
        Filter::eq(Dimension::Label, "label3"),
        Filter::eq(Dimension::Child, "parent").not(),
        Filter::eq(Dimension::Os, "Linux"),
        Filter::is_in(Dimension::Os, ["Windows_NT", "Linux"]),
        Filter::eq(Dimension::Os, "Windows_NT").and(Filter::eq(Dimension::Child, "content")),
        Filter::eq(Dimension::Os, "Linux").and(Filter::eq(Dimension::Label, "label3")),
        Filter::eq(Dimension::Os, "Linux").or(Filter::eq(Dimension::Os, "Windows_NT")),
    ] {
        let query = |filter: Filter| query_m(&["20150601", "20150602"], filter);
        let from_totals = store.query(&query(extra.clone())).unwrap();
        let from_packs = store
            .query(&query(extra.clone().and(every_os_version())))
            .unwrap();
        assert!(!from_totals.is_empty(), "{extra:?}");
        assert_eq!(from_totals, from_packs, "{extra:?}");
    }
    // One OS is part of the whole, and an OS no row has answers nothing.
    let linux = store.query(&query_m(&["20150601"], Filter::eq(Dimension::Os, "Linux")));
    let all = store.query(&query_m(&["20150601"], Filter::All)).unwrap();
    assert_ne!(linux.unwrap(), all);
    let beos = query_m(&["20150601"], Filter::eq(Dimension::Os, "BeOS"));
    assert!(store.query(&beos).unwrap().is_empty());
}

/// Rows whose entries all have one OS keep one marker instead of per-OS sums: a query of that
/// OS answers from the sums over all dims, a query of another OS answers nothing, as the packs.
#[test]
fn packs_of_one_os_answer_os_queries_from_their_sums() {
    let dir = tempfile::tempdir().unwrap();
    // The first 30 keys are all Windows_NT.
    let (_, store) = store_of_rows(dir.path(), 30);
    for (os, empty) in [("Windows_NT", false), ("Linux", true)] {
        let filter = Filter::eq(Dimension::Os, os);
        let from_totals = store
            .query(&query_m(&["20150601"], filter.clone()))
            .unwrap();
        let from_packs = store
            .query(&query_m(&["20150601"], filter.and(every_os_version())))
            .unwrap();
        assert_eq!(from_totals, from_packs, "{os}");
        assert_eq!(from_totals.is_empty(), empty, "{os}");
    }
    let all = store.query(&query_m(&["20150601"], Filter::All)).unwrap();
    let windows = query_m(&["20150601"], Filter::eq(Dimension::Os, "Windows_NT"));
    assert_eq!(store.query(&windows).unwrap(), all);
}

/// A totals row that cannot answer (damaged, or marked as a sum that could not be made) falls
/// back to its pack: the same answer, or the pack's own error.
#[test]
fn damaged_totals_fall_back_to_the_packs() {
    let dir = tempfile::tempdir().unwrap();
    let (path, store) = store_of_rows(dir.path(), 60);
    let query = query_m(&["20150601"], Filter::All);
    let answer = store.query(&query).unwrap();
    let os_query = query_m(&["20150601"], Filter::eq(Dimension::Os, "Linux"));
    let os_answer = store.query(&os_query).unwrap();
    assert!(!os_answer.is_empty());
    let conn = raw(&path);
    // x'0100000000': one empty entry over all dims, as a pack that cannot be read is marked,
    // and without per-OS sums, as rows written before they existed.
    for damage in ["x'07'", "zeroblob(0)", "x'0100000000'", "'text'"] {
        conn.execute_batch(&format!("UPDATE totals SET data = {damage}"))
            .unwrap();
        assert_eq!(store.query(&query).unwrap(), answer, "{damage}");
        assert_eq!(store.query(&os_query).unwrap(), os_answer, "{damage}");
    }
    conn.execute_batch("UPDATE series SET data = x'07'")
        .unwrap();
    assert_eq!(
        store.query(&query).err().and_then(|e| e.store_kind()),
        Some(StoreErrorKind::Corrupt)
    );
}

/// What schema version 3 added (replicate groups), undone (after what version 4 added).
const TO_VERSION_2: &str = "DROP TABLE mobile_rows; DROP TABLE replicate_series;
    DROP TABLE replicate_totals; ALTER TABLE absorbed DROP COLUMN replicates;";

/// A store of 60 rows taken back to an older schema by `downgrade` (SQL), then reopened (which
/// migrates it): its path, the reopened store, and the query of its rows with the answer it
/// gave before.
fn migrated(
    dir: &Path,
    downgrade: &str,
) -> (
    PathBuf,
    SqliteStore,
    SeriesQuery,
    Vec<mozaggregator_core::QueryRow>,
) {
    let query = query_m(&["20150601"], every_os_version());
    let (path, store) = store_of_rows(dir, 60);
    let answer = store.query(&query).unwrap();
    drop(store);
    raw(&path).execute_batch(downgrade).unwrap();
    let store = SqliteStore::open(&path).unwrap();
    (path, store, query, answer)
}

/// A store of schema version 2 (no replicate groups) is migrated on open: it answers as before,
/// its tables have no groups (an interval query says so), and later writes can add them.
#[test]
fn a_version_2_store_gets_replicate_tables() {
    let dir = tempfile::tempdir().unwrap();
    let downgrade = format!("{TO_VERSION_2} PRAGMA user_version = 2;");
    let (path, store, query, answer) = migrated(dir.path(), &downgrade);
    assert_eq!(store.query(&query).unwrap(), answer);
    assert!(matches!(
        store.replicates(&query),
        Err(Error::NoReplicates(reason)) if reason.contains("without replicate groups")
    ));
    let version: i64 = raw(&path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, mozaggregator_core::store::SCHEMA_VERSION);
}

/// A store of schema version 1 (no totals) is migrated on open: its totals are computed from
/// the stored packs and every query answers as before.
#[test]
fn a_version_1_store_gets_its_totals() {
    let dir = tempfile::tempdir().unwrap();
    let downgrade = format!("{TO_VERSION_2} DROP TABLE totals; PRAGMA user_version = 1;");
    let (path, store, query, answer) = migrated(dir.path(), &downgrade);
    assert_eq!(store.query(&query).unwrap(), answer);
    let totals_query = query_m(&["20150601"], Filter::All);
    assert_eq!(store.query(&totals_query).unwrap(), answer);
    let n: i64 = raw(&path)
        .query_row("SELECT count(*) FROM totals", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 10);
}

/// A store of schema version 4 (totals without per-OS sums) is migrated on open: its totals
/// are computed again, with the per-OS sums, and every query answers as before.
#[test]
fn a_version_4_store_gets_per_os_totals() {
    let dir = tempfile::tempdir().unwrap();
    let (path, store) = store_of_rows(dir.path(), 60);
    let os_query = query_m(&["20150601"], Filter::eq(Dimension::Os, "Linux"));
    let os_answer = store.query(&os_query).unwrap();
    drop(store);
    let conn = raw(&path);
    let totals = |conn: &rusqlite::Connection| -> Vec<Vec<u8>> {
        let mut stmt = conn
            .prepare("SELECT data FROM totals ORDER BY metric_id, target_id, label_id")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let computed = totals(&conn);
    assert_eq!(computed.len(), 10);
    // Version 4 totals had no per-OS sums: each row's first entry stands for them here.
    conn.execute_batch("UPDATE totals SET data = x'0100000000'; PRAGMA user_version = 4;")
        .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(totals(&raw(&path)), computed);
    assert_eq!(store.query(&os_query).unwrap(), os_answer);
}

#[test]
fn paths_that_cannot_be_opened_are_io_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/x.sqlite");
    match SqliteStore::open(&missing) {
        Err(Error::Io { path, source }) => {
            assert_eq!(path, missing.display().to_string());
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected an I/O error, got {:?}", other.err()),
    }
    match SqliteStore::open(dir.path()) {
        Err(Error::Io { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::IsADirectory);
        }
        other => panic!("expected an I/O error, got {:?}", other.err()),
    }
}

/// Issue 16, bug 1: several openers creating one store at once (schema, WAL switch) all
/// succeed, and every one of them can then write. 20 rounds of 6 threads, each round on a new
/// file; each thread has its own connection, which SQLite locks like another process.
#[test]
fn concurrent_creation_of_one_store_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..20 {
        let path = dir.path().join(format!("new{round}.sqlite"));
        let barrier = std::sync::Barrier::new(6);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..6)
                .map(|t| {
                    let (path, barrier) = (&path, &barrier);
                    scope.spawn(move || {
                        barrier.wait();
                        let store = SqliteStore::open(path)?;
                        let date = format!("202401{:02}", t + 1);
                        let b = batch(
                            &date,
                            vec![(
                                target(Prefix::SubmissionDate, "nightly", "42", &date),
                                vec![(keys(1)[0].clone(), one(t))],
                            )],
                        );
                        store.write(&b).map(|r| r.rows_written)
                    })
                })
                .collect();
            for h in handles {
                let written = h.join().unwrap();
                assert_eq!(
                    written.as_ref().ok(),
                    Some(&1),
                    "round {round}: {written:?}"
                );
            }
        });
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(
            store
                .dates(Prefix::SubmissionDate, "nightly")
                .unwrap()
                .len(),
            6
        );
    }
}

/// A store kept locked by another connection beyond the busy timeout fails with an error that
/// names the file and the remedy (not a bare "database is locked").
#[test]
fn a_lock_error_names_the_file_and_the_remedy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.sqlite");
    let store = SqliteStore::open(&path).unwrap();
    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    // Shorten the wait: the writer's busy timeout is 60 s; this test holds the lock only as
    // long as it takes the writer to give up with a 0 ms timeout set below.
    let b = batch(
        "20240101",
        vec![(
            target(Prefix::SubmissionDate, "nightly", "42", "20240101"),
            vec![(keys(1)[0].clone(), one(1))],
        )],
    );
    store.set_busy_timeout(std::time::Duration::ZERO).unwrap();
    let err = store.write(&b).unwrap_err();
    assert_eq!(err.store_kind(), Some(StoreErrorKind::Locked), "{err:?}");
    let err = err.to_string();
    assert!(err.contains("locked.sqlite"), "{err}");
    assert!(err.contains("locked by another process"), "{err}");
    assert!(err.contains("wait for it to finish"), "{err}");
    blocker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(store.write(&b).unwrap().rows_written, 1);
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config {
        cases: 24,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    })]

    /// Per-OS totals (each OS's sums, and the rest OS's as the whole less the others) answer
    /// every OS filter exactly as the packs do: random rows over four OSes, three processes,
    /// two layouts and empty histograms, written in one or two batches.
    #[test]
    fn per_os_totals_answer_every_os_filter_as_the_packs(
        rows in proptest::collection::vec(
            (0usize..4, 0usize..2, 0usize..3, 0usize..2, 0usize..2, 0u64..4, 0u64..1000),
            1..40,
        ),
        split in 0usize..40,
    ) {
        const OSES: [&str; 4] = ["Windows_NT", "Linux", "Darwin", "FreeBSD"];
        let layouts = [layout(), LayoutSpec::linear(1, 100, 10).unwrap()];
        let t = target(Prefix::BuildId, "nightly", "42", "20150601");
        let rows: Vec<(SeriesKey, Histogram)> = rows
            .iter()
            .map(|&(os, version, process, label, l, count, value)| {
                let d = dims("Firefox", "x86", OSES[os], ["6.1", "10.0"][version]);
                let key = key("M", &format!("label{label}"), Process::ALL[process], &d);
                let spec = layouts[l];
                let buckets = if count == 0 { vec![] } else { vec![(value as usize % spec.len(), count)] };
                (key, hist(spec, &buckets, value * count, count))
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("s.sqlite")).unwrap();
        let (first, second) = rows.split_at(split.min(rows.len()));
        for (day, part) in [("20150601", first), ("20150602", second)] {
            store.write(&batch(day, vec![(t.clone(), part.to_vec())])).unwrap();
        }
        for subset in 1..16u32 {
            let oses: Vec<&str> = (0..4).filter(|i| subset & (1 << i) != 0).map(|i| OSES[i]).collect();
            let os = Filter::is_in(Dimension::Os, oses.clone());
            let from_totals = store.query(&query_m(&["20150601"], os.clone())).unwrap();
            let from_packs = store
                .query(&query_m(&["20150601"], os.and(every_os_version())))
                .unwrap();
            proptest::prop_assert_eq!(from_totals, from_packs, "{:?}", oses);
        }
    }
}
