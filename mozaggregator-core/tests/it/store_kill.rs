//! A process killed at any point of a write leaves the store before or after that write.
//!
//! The test re-runs its own binary as a child (`child_writer`, ignored in normal runs) that
//! writes large batches in a loop, each adding 1 to the count of every series under a new
//! submission date; the parent kills it at random moments, reopens the store and checks that
//! every series has the same count `k` and the target absorbed exactly `k` dates.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mozaggregator_core::store::ReplicateTables;
use mozaggregator_core::testing::conformance::fixtures::{batch, date, dims, hist, key, target};
use mozaggregator_core::{
    Filter, Histogram, LayoutSpec, Prefix, Process, QueryRow, ReplicateCount, Selection,
    SeriesQuery, SqliteStore, Store, Target,
};

const PATH_VAR: &str = "MOZAGG_KILL_TEST_STORE";
const ROWS: usize = 20_000;
const GROUPS: usize = 4;

fn the_target() -> Target {
    target(Prefix::BuildId, "nightly", "42", "20150601")
}

fn child_batch(k: i64) -> mozaggregator_core::Batch {
    let layout = LayoutSpec::exponential(1, 10_000, 50).unwrap();
    let d = [
        dims("Firefox", "x86", "Windows_NT", "10.0"),
        dims("Firefox", "x86-64", "Linux", "6.1"),
    ];
    let rows = (0..ROWS)
        .map(|i| {
            let k = key(
                &format!("METRIC_{}", i % 200),
                &format!("label{}", i / 200 % 50),
                Process::ALL[i / 10_000 % 3],
                &d[i / 10_000 % 2],
            );
            (
                k,
                hist(layout, &[(i % 50, 1), ((i * 7) % 50, 2)], i as u64, 1),
            )
        })
        .collect::<Vec<_>>();
    // Replicate groups too: row i in group i mod 4, so the groups sum to the normal rows.
    let mut replicates = ReplicateTables::new(ReplicateCount::new(GROUPS as u32).unwrap());
    for (i, row) in rows.iter().enumerate() {
        replicates.groups[i % GROUPS]
            .entry(the_target())
            .or_default()
            .push(row.clone());
    }
    let mut b = batch(
        &date("20150101").add_days(k).unwrap().to_string(),
        vec![(the_target(), rows)],
    );
    b.replicates = Some(replicates);
    b
}

/// The child: writes batches forever, announcing each one on stdout before it starts.
#[test]
#[ignore = "run by store_kill::killed_writers_leave_whole_writes as a child process"]
fn child_writer() {
    let Ok(path) = std::env::var(PATH_VAR) else {
        return;
    };
    let store = SqliteStore::open(&path).unwrap();
    let mut k = store.absorbed(&the_target()).unwrap().len() as i64;
    let mut out = std::io::stdout();
    loop {
        let b = child_batch(k);
        writeln!(out, "writing {k}").unwrap();
        out.flush().unwrap();
        store.write(&b).unwrap();
        k += 1;
    }
}

/// A small xorshift generator: the kill points only need to vary, not to be good random.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn check(path: &std::path::Path) -> u64 {
    let store = SqliteStore::open(path).unwrap();
    store.integrity_check().unwrap();
    let absorbed = store.absorbed(&the_target()).unwrap();
    let mut counts = BTreeSet::new();
    let mut rows = 0;
    store
        .scan(&Selection::default(), &mut |_, _, h| {
            counts.insert(h.count());
            rows += 1;
            Ok(())
        })
        .unwrap();
    let k = absorbed.len() as u64;
    // The replicate groups were written with their rows, or not at all: they sum to them.
    for metric in ["METRIC_0", "METRIC_1", "METRIC_2", "METRIC_3"] {
        let t = the_target();
        let q = SeriesQuery {
            prefix: t.prefix,
            channel: t.channel,
            version: t.version,
            dates: vec![t.date],
            metric: metric.into(),
            filter: Filter::All,
        };
        let normal = store.query(&q).unwrap();
        match store.replicates(&q).unwrap() {
            None => assert_eq!(k, 0),
            Some(reps) => {
                assert_eq!(reps.count.get(), GROUPS);
                let by_label = |rows: &mut dyn Iterator<Item = &QueryRow>| {
                    let mut out: BTreeMap<String, Histogram> = BTreeMap::new();
                    for r in rows {
                        let h = out
                            .entry(r.label.clone())
                            .or_insert_with(|| Histogram::empty(r.histogram.layout()));
                        h.merge(&r.histogram).unwrap();
                    }
                    out
                };
                assert_eq!(
                    by_label(&mut reps.groups.iter().flatten()),
                    by_label(&mut normal.iter()),
                    "groups differ from the rows"
                );
            }
        }
    }
    if k == 0 {
        assert_eq!(rows, 0);
    } else {
        assert_eq!(rows, ROWS, "series lost or added");
        assert_eq!(
            counts,
            [k].into(),
            "series counts differ from the {k} absorbed dates"
        );
    }
    k
}

#[test]
fn killed_writers_leave_whole_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.sqlite");
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("kill test seed {seed}");
    let mut rng = Rng(seed);
    let exe = std::env::current_exe().unwrap();
    let mut lost = 0;
    for round in 0..6 {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "store_kill::child_writer",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(PATH_VAR, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Let the child start 1 to 3 writes, then kill it somewhere inside or between writes.
        let starts = 1 + rng.below(3);
        let mut announced = 0;
        let mut last = None;
        while announced < starts {
            let line = lines.next().expect("child ended early").unwrap();
            if let Some(k) = line.strip_prefix("writing ") {
                last = Some(k.parse::<u64>().unwrap());
                announced += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(rng.below(400)));
        child.kill().unwrap();
        child.wait().unwrap();
        let k = check(&path);
        let last = last.unwrap();
        // Write #last was announced after #last-1 returned: the store holds at least `last`.
        assert!(
            k >= last,
            "round {round}: {k} writes after announcing #{last}"
        );
        if k == last {
            lost += 1;
        }
        eprintln!("round {round}: killed while or after writing #{last}; store holds {k} writes");
    }
    eprintln!("{lost} of 6 kills interrupted a write in progress");
}
