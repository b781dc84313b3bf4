//! The store benchmark: write rates, metric-query latencies and size per row of `SqliteStore`
//! on synthetic aggregates, against two baselines measured in the same run: a naive SQLite
//! design (text dimensions, JSON histograms, one index) and the in-memory reference store.
//!
//! ```text
//! cargo run --release -p mozaggregator-core --example store_bench -- \
//!     [--store PATH] [--rebuild] [--iterations N] [--out FILE] [--no-memory] [--no-naive]
//! ```
//!
//! `bench/store.sh` runs it with the defaults used for `bench/results-store.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use mozaggregator_core::testing::bench::{self, Args, Error};
use mozaggregator_core::testing::synthetic::{Shape, Synthetic};
use mozaggregator_core::{
    Batch, Dimension, Filter, Histogram, MemoryStore, QueryRow, RowDims, SeriesQuery, SqliteStore,
    Store,
};
use rusqlite::{params, Connection};

struct Options {
    store: PathBuf,
    rebuild: bool,
    iterations: usize,
    out: Option<PathBuf>,
    memory: bool,
    naive: bool,
    shape: Shape,
}

fn main() -> ExitCode {
    bench::exit_code("store_bench", parse().and_then(run))
}

fn parse() -> Result<Options, Error> {
    let mut o = Options {
        store: PathBuf::from("target/bench/store.sqlite"),
        rebuild: false,
        iterations: 300,
        out: None,
        memory: true,
        naive: true,
        shape: Shape::default(),
    };
    let mut args = Args::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--store" => o.store = args.value(&arg)?.into(),
            "--rebuild" => o.rebuild = true,
            "--iterations" => o.iterations = args.value(&arg)?.parse()?,
            "--out" => o.out = Some(args.value(&arg)?.into()),
            "--no-memory" => o.memory = false,
            "--no-naive" => o.naive = false,
            "--dates" => o.shape.dates = args.value(&arg)?.parse()?,
            "--rows" => o.shape.rows_per_date = args.value(&arg)?.parse()?,
            _ => return Err(format!("unexpected argument `{arg}`").into()),
        }
    }
    Ok(o)
}

/// Latency percentiles of one query, in milliseconds.
#[derive(Clone, Copy, Default)]
struct Latency {
    p50: f64,
    p99: f64,
    mean: f64,
    rows: usize,
}

fn measure(iterations: usize, f: impl FnMut() -> Result<usize, Error>) -> Result<Latency, Error> {
    let (times, rows) = bench::timed_runs(iterations, f)?;
    Ok(Latency {
        p50: bench::nearest_rank(&times, 0.50),
        p99: bench::nearest_rank(&times, 0.99),
        mean: times.iter().sum::<f64>() / times.len().max(1) as f64,
        rows,
    })
}

/// How many times to run the query `name` out of `iterations`: the keyed case (d) over
/// `divisors[0]`, the others over `divisors[1]`, at least 10.
fn runs(name: &str, iterations: usize, divisors: [usize; 2]) -> usize {
    let divisor = divisors[usize::from(!name.starts_with("(d)"))];
    (iterations / divisor).max(10)
}

fn remove_store(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// The four benchmark queries: (name, query).
fn queries(data: &Synthetic) -> Vec<(&'static str, SeriesQuery)> {
    let q = |metric: &str, filter: Filter| data.query(metric, filter);
    vec![
        (
            "(a) plain metric, no filter",
            q(data.hot_plain_metric(), Filter::All),
        ),
        (
            "(b) plain metric, os=Windows_NT",
            q(
                data.hot_plain_metric(),
                Filter::eq(Dimension::Os, "Windows_NT"),
            ),
        ),
        (
            "(c) plain metric, child=content",
            q(
                data.hot_plain_metric(),
                Filter::eq(Dimension::Child, "content"),
            ),
        ),
        (
            "(d) keyed metric, all labels",
            q(data.hot_keyed_metric(), Filter::All),
        ),
    ]
}

fn run(o: Options) -> Result<(), Error> {
    if let Some(dir) = o.store.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let load_before = load_average();
    let data = Synthetic::new(o.shape.clone());
    let mut report = String::new();
    let mut raw: BTreeMap<&str, String> = BTreeMap::new();

    // 1. Write rates on fresh stores (always measured, even when the big store is reused).
    eprintln!("measuring write rates…");
    let sample = Synthetic::new(Shape {
        dates: 3,
        ..o.shape.clone()
    });
    let tmp = tempfile::tempdir()?;
    let insert = {
        let store = SqliteStore::open(tmp.path().join("insert.sqlite"))?;
        sample.write_all(&store, |_, _| {})?
    };
    let merge_rate = {
        let store = SqliteStore::open(tmp.path().join("merge.sqlite"))?;
        let first = sample.batch(0);
        store.write(&first)?;
        let mut again: Batch = first.clone();
        again.submission_date = "20991231".parse()?;
        let started = Instant::now();
        let r = store.write(&again)?;
        r.rows_written as f64 / started.elapsed().as_secs_f64()
    };
    let naive_insert = if o.naive {
        let mut conn = naive_open(&tmp.path().join("naive.sqlite"))?;
        let mut rows = 0;
        let mut seconds = 0.0;
        for i in 0..3 {
            let b = sample.batch(i);
            let started = Instant::now();
            rows += naive_write(&mut conn, &b)?;
            seconds += started.elapsed().as_secs_f64();
        }
        Some(rows as f64 / seconds)
    } else {
        None
    };
    drop(tmp);

    // 2. The big store: reuse or build.
    let mut built = None;
    if o.rebuild || !o.store.exists() {
        remove_store(&o.store);
        eprintln!("building {}…", o.store.display());
        let store = SqliteStore::open(&o.store)?;
        let stats = data.write_all(&store, |i, _| {
            eprint!("\r  date {}/{}", i + 1, data.dates().len())
        })?;
        eprintln!();
        store.checkpoint()?;
        built = Some(stats);
    }
    let store = SqliteStore::open(&o.store)?;
    store.checkpoint()?;
    let stats = store.stats()?;
    let rows = stats.series;
    let bytes = std::fs::metadata(&o.store)?.len();

    // 3. Queries.
    eprintln!("querying SqliteStore…");
    let qs = queries(&data);
    let mut sqlite_lat = Vec::new();
    for (name, q) in &qs {
        let n = runs(name, o.iterations, [3, 1]);
        sqlite_lat.push(measure(n, || Ok(store.query(q)?.len()))?);
    }

    // 4. Baselines.
    let mut naive = None;
    if o.naive {
        let path = o.store.with_extension("naive.sqlite");
        let mut naive_build = None;
        if o.rebuild || !path.exists() {
            remove_store(&path);
            eprintln!("building the naive baseline {}…", path.display());
            let mut conn = naive_open(&path)?;
            let mut seconds = 0.0;
            let mut n = 0;
            for i in 0..data.dates().len() {
                let b = data.batch(i);
                let started = Instant::now();
                n += naive_write(&mut conn, &b)?;
                seconds += started.elapsed().as_secs_f64();
                eprint!("\r  date {}/{}", i + 1, data.dates().len());
            }
            eprintln!();
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
            naive_build = Some(n as f64 / seconds);
        }
        let conn = naive_open(&path)?;
        let naive_rows: i64 = conn.query_row("SELECT count(*) FROM naive", [], |r| r.get(0))?;
        let naive_bytes = std::fs::metadata(&path)?.len();
        eprintln!("querying the naive baseline…");
        let mut lat = Vec::new();
        for (name, q) in &qs {
            let n = runs(name, o.iterations, [10, 3]);
            lat.push(measure(n, || naive_query(&conn, q).map(|r| r.len()))?);
        }
        // The naive answers must equal the store's: the comparison is between equal work.
        for (_, q) in &qs {
            if naive_query(&conn, q)? != store.query(q)? {
                return Err("the naive baseline answers differently from SqliteStore".into());
            }
        }
        naive = Some((
            lat,
            naive_bytes as f64 / naive_rows.max(1) as f64,
            naive_build,
        ));
    }
    let mut memory = None;
    if o.memory {
        eprintln!("loading the MemoryStore baseline…");
        let mem = MemoryStore::new();
        data.write_all(&mem, |_, _| {})?;
        let mut lat = Vec::new();
        for (name, q) in &qs {
            let n = runs(name, o.iterations, [10, 5]);
            lat.push(measure(n, || Ok(mem.query(q)?.len()))?);
        }
        for (_, q) in &qs {
            if mem.query(q)? != store.query(q)? {
                return Err("MemoryStore answers differently from SqliteStore".into());
            }
        }
        memory = Some(lat);
    }

    // 5. Report.
    let bytes_per_row = bytes as f64 / rows.max(1) as f64;
    let _ = writeln!(report, "# Store benchmark (`SqliteStore`)\n");
    let _ = writeln!(
        report,
        "Rerun: `bench/store.sh` (builds the stores under `target/bench/` once and reuses them; \
         `bench/store.sh --rebuild` rebuilds them and measures the full build too).\n"
    );
    let _ = writeln!(
        report,
        "Machine: {} cores; load average before / after the run: {} / {} (other jobs were \
         running: absolute times are noisy, ratios within this run are comparable).\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_before,
        load_average(),
    );
    let _ = writeln!(
        report,
        "Data: synthetic aggregates (`testing::synthetic`, seed {}): {} dates × ~{} rows = {} rows; \
         {} metrics (50-bucket exponential layouts, {:.0} % keyed with 2–20 labels), \
         parent/content/gpu, 24 application/architecture/os/osVersion combinations, \
         5–15 non-zero buckets per row. Hot plain metric: 72 series per date; hot keyed \
         metric: 20 labels, 1440 series per date. Queries ask for all {} dates; latencies are \
         warm (file in the page cache), single-threaded, {} iterations for (a)–(c), {} for (d).\n",
        o.shape.seed,
        o.shape.dates,
        o.shape.rows_per_date,
        rows,
        o.shape.metrics,
        o.shape.keyed_share * 100.0,
        o.shape.dates,
        o.iterations,
        o.iterations / 3,
    );
    let _ = writeln!(report, "### Queries (ms)\n");
    let _ = writeln!(
        report,
        "| query | rows out | SqliteStore p50 | p99 | mean | target | naive SQLite p50 | p99 | ratio p50 | MemoryStore p50 | p99 | ratio p50 |"
    );
    let _ = writeln!(
        report,
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"
    );
    for (i, (name, _)) in qs.iter().enumerate() {
        let s = sqlite_lat[i];
        let target = if name.starts_with("(d)") {
            "p50 ≤ 10"
        } else {
            "p50 ≤ 1, p99 ≤ 5"
        };
        let met = if name.starts_with("(d)") {
            s.p50 <= 10.0
        } else {
            s.p50 <= 1.0 && s.p99 <= 5.0
        };
        let (np50, np99, nratio) = naive
            .as_ref()
            .map(|(l, _, _)| {
                (
                    format!("{:.2}", l[i].p50),
                    format!("{:.2}", l[i].p99),
                    format!("{:.1}×", l[i].p50 / s.p50),
                )
            })
            .unwrap_or_default();
        let (mp50, mp99, mratio) = memory
            .as_ref()
            .map(|l| {
                (
                    format!("{:.2}", l[i].p50),
                    format!("{:.2}", l[i].p99),
                    format!("{:.1}×", l[i].p50 / s.p50),
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            report,
            "| {name} | {} | {:.3} | {:.3} | {:.3} | {target} {} | {np50} | {np99} | {nratio} | {mp50} | {mp99} | {mratio} |",
            s.rows,
            s.p50,
            s.p99,
            s.mean,
            if met { "✅" } else { "❌ missed" },
        );
    }
    let _ = writeln!(
        report,
        "\nRatios are baseline time / SqliteStore time (higher = SqliteStore faster).\n"
    );
    let _ = writeln!(report, "### Writes and size\n");
    let _ = writeln!(
        report,
        "| measure | SqliteStore | target | naive SQLite | ratio |"
    );
    let _ = writeln!(report, "|---|---:|---|---:|---:|");
    let insert_rate = insert.rows_per_second();
    let _ = writeln!(
        report,
        "| insert rate, new tables (3 dates, {} rows) | {:.0} rows/s | ≥ 200k {} | {} | {} |",
        insert.rows,
        insert_rate,
        if insert_rate >= 200_000.0 {
            "✅"
        } else {
            "❌ missed"
        },
        naive_insert.map_or(String::new(), |r| format!("{r:.0} rows/s")),
        naive_insert.map_or(String::new(), |r| format!("{:.1}×", insert_rate / r)),
    );
    let _ = writeln!(
        report,
        "| merge rate, every row merges into a stored row | {merge_rate:.0} rows/s | – | – | – |"
    );
    if let Some(b) = &built {
        let _ = writeln!(
            report,
            "| full build ({} rows) | {:.0} rows/s, {:.1} s writing | – | {} | {} |",
            b.rows,
            b.rows_per_second(),
            b.write_seconds,
            naive
                .as_ref()
                .and_then(|n| n.2)
                .map_or(String::new(), |r| format!("{r:.0} rows/s")),
            naive
                .as_ref()
                .and_then(|n| n.2)
                .map_or(String::new(), |r| format!(
                    "{:.1}×",
                    b.rows_per_second() / r
                )),
        );
    }
    let _ = writeln!(
        report,
        "| size on disk | {bytes_per_row:.1} bytes/row ({:.1} MB) | ≤ 60 {} | {} | {} |",
        bytes as f64 / 1e6,
        if bytes_per_row <= 60.0 {
            "✅"
        } else {
            "❌ missed"
        },
        naive
            .as_ref()
            .map_or(String::new(), |n| format!("{:.1} bytes/row", n.1)),
        naive.as_ref().map_or(String::new(), |n| format!(
            "{:.1}× smaller",
            n.1 / bytes_per_row
        )),
    );
    raw.insert("store", o.store.display().to_string());
    let _ = writeln!(
        report,
        "\nStore file: `{}`: {} series in {} packed rows (one per date, metric and label), \
         {} tables.",
        raw["store"], rows, stats.rows, stats.targets
    );
    let _ = writeln!(
        report,
        "\nThe naive baseline stores one row per series with text dimensions and a JSON array \
         `[counts…, sum, count]`, indexed on (prefix, channel, version, date, metric), and \
         filters and merges in Rust; MemoryStore is the reference store (a scan of each date's \
         table). Both answers are checked equal to SqliteStore's before timing is reported."
    );
    print!("{report}");
    if let Some(out) = &o.out {
        // Hand-written notes after the marker survive reruns.
        let notes = std::fs::read_to_string(out)
            .ok()
            .and_then(|old| old.find(NOTES).map(|i| old[i..].to_string()))
            .unwrap_or_else(|| format!("{NOTES}\n"));
        std::fs::write(out, format!("{report}\n{notes}"))?;
    }
    Ok(())
}

const NOTES: &str = "<!-- notes: kept across reruns -->";

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

// ---- the naive baseline: text dimensions, JSON histograms, one index -------------------------

fn naive_open(path: &Path) -> Result<Connection, Error> {
    let conn = Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;
         PRAGMA mmap_size = 1073741824;
         CREATE TABLE IF NOT EXISTS naive (
             prefix TEXT, channel TEXT, version TEXT, date TEXT, metric TEXT, label TEXT,
             process TEXT, application TEXT, architecture TEXT, os TEXT, os_version TEXT,
             kind TEXT, low INTEGER, high INTEGER, n INTEGER, histogram TEXT);
         CREATE INDEX IF NOT EXISTS naive_metric ON naive (prefix, channel, version, date, metric);",
    )?;
    Ok(conn)
}

fn naive_write(conn: &mut Connection, batch: &Batch) -> Result<u64, Error> {
    let tx = conn.transaction()?;
    let mut n = 0;
    {
        let mut stmt = tx.prepare(
            "INSERT INTO naive VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )?;
        for (t, rows) in &batch.tables {
            for (k, h) in rows {
                let mut json: Vec<u64> = h.counts().to_vec();
                json.push(h.sum());
                json.push(h.count());
                let l = h.layout();
                stmt.execute(params![
                    t.prefix.as_str(),
                    t.channel,
                    t.version,
                    t.date,
                    k.metric,
                    k.label,
                    k.process.as_str(),
                    k.dims.application,
                    k.dims.architecture,
                    k.dims.os,
                    k.dims.os_version,
                    l.kind().name(),
                    l.low() as i64,
                    l.high() as i64,
                    l.bucket_count(),
                    serde_json::to_string(&json)?,
                ])?;
                n += 1;
            }
        }
    }
    tx.commit()?;
    Ok(n)
}

fn naive_query(conn: &Connection, q: &SeriesQuery) -> Result<Vec<QueryRow>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT label, process, application, architecture, os, os_version, kind, low, high, n, histogram
         FROM naive WHERE prefix = ?1 AND channel = ?2 AND version = ?3 AND date = ?4 AND metric = ?5",
    )?;
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for date in &q.dates {
        if !seen.insert(date) {
            continue;
        }
        let mut groups: BTreeMap<(String, mozaggregator_core::LayoutSpec), Histogram> =
            BTreeMap::new();
        let mut rows = stmt.query(params![
            q.prefix.as_str(),
            q.channel,
            q.version,
            date,
            q.metric
        ])?;
        while let Some(row) = rows.next()? {
            let label: String = row.get(0)?;
            let process: String = row.get(1)?;
            let (application, architecture, os, os_version): (String, String, String, String) =
                (row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?);
            let dims = RowDims {
                metric: &q.metric,
                application: &application,
                architecture: &architecture,
                os: &os,
                os_version: &os_version,
                child: process.parse()?,
                label: &label,
            };
            if !q.filter.matches(&dims) {
                continue;
            }
            let kind: String = row.get(6)?;
            let layout = mozaggregator_core::LayoutSpec::from_parts(
                kind.parse()?,
                row.get::<_, i64>(7)? as u64,
                row.get::<_, i64>(8)? as u64,
                row.get::<_, i64>(9)? as u32,
            )?;
            let mut numbers: Vec<u64> = serde_json::from_str(&row.get::<_, String>(10)?)?;
            let count = numbers.pop().unwrap_or(0);
            let sum = numbers.pop().unwrap_or(0);
            let h = Histogram::from_parts(layout, numbers, sum, count)?;
            groups
                .entry((label, layout))
                .or_insert_with(|| Histogram::empty(layout))
                .merge(&h)?;
        }
        out.extend(groups.into_iter().map(|((label, _), histogram)| QueryRow {
            date: *date,
            label,
            histogram,
        }));
    }
    Ok(out)
}
