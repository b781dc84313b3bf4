//! The PostgreSQL store benchmark: `PostgresStore` against `SqliteStore` and against the
//! retired service's schema (one table per target, `dimensions jsonb` with a GIN index,
//! `bigint[]` histograms) on the same private PostgreSQL cluster, in one run: query p50/p99 of
//! the store benchmark's four cases, rows written per second, bytes per row.
//!
//! ```text
//! cargo run --release -p mozaggregator-core --features postgres --example pg_bench -- \
//!     [--sqlite PATH] [--iterations N] [--dates N] [--rows N] [--out FILE]
//! ```
//!
//! `--sqlite PATH` is where the SQLite store is (re)built (default
//! `target/bench/pg-bench.sqlite`).
//!
//! `bench/postgres.sh` runs it with the defaults used for `bench/results-postgres.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use mozaggregator_core::testing::bench::{self, Args, Error};
use mozaggregator_core::testing::postgres::Cluster;
use mozaggregator_core::testing::synthetic::{Shape, Synthetic};
use mozaggregator_core::{
    Batch, Dimension, Filter, PostgresStore, Process, SeriesQuery, SqliteStore, Store,
};

struct Options {
    sqlite: PathBuf,
    iterations: usize,
    out: Option<PathBuf>,
    shape: Shape,
}

fn main() -> ExitCode {
    bench::exit_code("pg_bench", parse().and_then(run))
}

fn parse() -> Result<Options, Error> {
    let mut o = Options {
        sqlite: PathBuf::from("target/bench/pg-bench.sqlite"),
        iterations: 200,
        out: None,
        shape: Shape::default(),
    };
    let mut args = Args::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--sqlite" => o.sqlite = args.value(&arg)?.into(),
            "--iterations" => o.iterations = args.value(&arg)?.parse()?,
            "--out" => o.out = Some(args.value(&arg)?.into()),
            "--dates" => o.shape.dates = args.value(&arg)?.parse()?,
            "--rows" => o.shape.rows_per_date = args.value(&arg)?.parse()?,
            _ => return Err(format!("unexpected argument `{arg}`").into()),
        }
    }
    Ok(o)
}

/// `r` without its value.
fn done<T, E: Into<Error>>(r: Result<T, E>) -> Result<(), Error> {
    r.map(drop).map_err(Into::into)
}

/// Latency percentiles of one query, in milliseconds.
#[derive(Clone, Copy, Default)]
struct Latency {
    p50: f64,
    p99: f64,
}

fn measure(iterations: usize, f: impl FnMut() -> Result<(), Error>) -> Result<Latency, Error> {
    let (times, ()) = bench::timed_runs(iterations, f)?;
    Ok(Latency {
        p50: bench::nearest_rank(&times, 0.50),
        p99: bench::nearest_rank(&times, 0.99),
    })
}

/// The store benchmark's four queries: (name, query, the original's containment filter).
fn queries(data: &Synthetic) -> Vec<(&'static str, SeriesQuery, serde_json::Value)> {
    let q = |metric: &str, filter: Filter| data.query(metric, filter);
    let plain = data.hot_plain_metric();
    let keyed = data.hot_keyed_metric();
    vec![
        (
            "(a) plain metric, no filter",
            q(plain, Filter::All),
            serde_json::json!({ "metric": plain }),
        ),
        (
            "(b) plain metric, os=Windows_NT",
            q(plain, Filter::eq(Dimension::Os, "Windows_NT")),
            serde_json::json!({ "metric": plain, "os": "Windows_NT" }),
        ),
        (
            "(c) plain metric, child=content",
            q(plain, Filter::eq(Dimension::Child, "content")),
            serde_json::json!({ "metric": plain, "child": "true" }),
        ),
        (
            "(d) keyed metric, all labels",
            q(keyed, Filter::All),
            serde_json::json!({ "metric": keyed }),
        ),
    ]
}

/// The original service's table name of a batch's target.
fn original_table(batch: &Batch) -> Result<String, Error> {
    let target = batch.tables.keys().next().ok_or("an empty batch")?;
    Ok(format!(
        "{}_{}_{}_{}",
        target.prefix, target.channel, target.version, target.date
    ))
}

/// Writes a batch as the original service stored it: one table per target, a row per series
/// with its dimensions as JSON and `[buckets…, sum, count]`, then the GIN index.
fn write_original(client: &mut postgres::Client, batch: &Batch) -> Result<u64, Error> {
    let table = original_table(batch)?;
    client.batch_execute(&format!(
        "CREATE TABLE {table} (dimensions jsonb NOT NULL, histogram bigint[] NOT NULL)"
    ))?;
    let mut rows = 0;
    let mut sink = client.copy_in(&format!("COPY {table} (dimensions, histogram) FROM STDIN"))?;
    let mut line = String::new();
    for series in batch.tables.values() {
        for (key, h) in series {
            let child = match key.process {
                Process::Parent => "false",
                Process::Content => "true",
                Process::Gpu => "gpu",
            };
            let dims = serde_json::json!({
                "metric": key.metric, "label": key.label, "child": child,
                "application": key.dims.application, "architecture": key.dims.architecture,
                "os": key.dims.os, "osVersion": key.dims.os_version,
            });
            line.clear();
            let values: Vec<String> = h
                .counts()
                .iter()
                .chain([h.sum(), h.count()].iter())
                .map(u64::to_string)
                .collect();
            let _ = writeln!(line, "{dims}\t{{{}}}", values.join(","));
            sink.write_all(line.as_bytes())?;
            rows += 1;
        }
    }
    sink.finish()?;
    client.batch_execute(&format!(
        "CREATE INDEX ON {table} USING GIN (dimensions jsonb_path_ops)"
    ))?;
    Ok(rows)
}

/// A metric query on the original's schema: every date's table in one statement, summed per
/// (date, label) by the server. Returns (date, label) → summed array.
fn query_original(
    client: &mut postgres::Client,
    data: &Synthetic,
    filter: &serde_json::Value,
) -> Result<BTreeMap<(String, String), Vec<i64>>, Error> {
    let parts: Vec<String> = (0..data.dates().len())
        .map(|i| {
            let t = data.target(i);
            format!(
                "SELECT '{date}' AS date, dimensions->>'label' AS label, ord, sum(v)::bigint AS v
                 FROM {prefix}_{channel}_{version}_{date}, unnest(histogram) WITH ORDINALITY u(v, ord)
                 WHERE dimensions @> $1::text::jsonb GROUP BY 2, 3",
                date = t.date,
                prefix = t.prefix,
                channel = t.channel,
                version = t.version
            )
        })
        .collect();
    let sql = parts.join(" UNION ALL ");
    let mut out: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    for row in client.query(&sql, &[&filter.to_string()])? {
        let key = (row.get::<_, String>(0), row.get::<_, String>(1));
        let ord = usize::try_from(row.get::<_, i64>(2))? - 1;
        let entry = out.entry(key).or_default();
        if entry.len() <= ord {
            entry.resize(ord + 1, 0);
        }
        entry[ord] = row.get(3);
    }
    Ok(out)
}

/// A store's answer in the original's shape, to check that both answer the same.
fn as_original(
    store: &dyn Store,
    q: &SeriesQuery,
) -> Result<BTreeMap<(String, String), Vec<i64>>, Error> {
    let mut out = BTreeMap::new();
    for row in store.query(q)? {
        let h = &row.histogram;
        let values = h
            .counts()
            .iter()
            .chain([h.sum(), h.count()].iter())
            .map(|&v| i64::try_from(v))
            .collect::<Result<Vec<_>, _>>()?;
        out.insert((row.date.to_string(), row.label), values);
    }
    Ok(out)
}

fn size_of(client: &mut postgres::Client, condition: &str) -> Result<i64, Error> {
    let row = client.query_one(
        &format!(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND {condition}"
        ),
        &[],
    )?;
    Ok(row.get(0))
}

fn run(o: Options) -> Result<(), Error> {
    let data = Synthetic::new(o.shape.clone());
    let cluster = Cluster::start()?;
    let store_url = cluster.create_database()?;
    let original_url = cluster.create_database()?;
    let mut report = String::new();

    eprintln!("writing {} dates into PostgresStore…", data.dates().len());
    let pg = PostgresStore::open(&store_url)?;
    let pg_write = data.write_all(&pg, |i, _| eprint!("\r  date {}", i + 1))?;
    eprintln!();

    eprintln!("writing the original's schema…");
    let mut original = postgres::Client::connect(&original_url, postgres::NoTls)?;
    let mut original_rows = 0;
    let mut original_seconds = 0.0;
    for i in 0..data.dates().len() {
        let batch = data.batch(i);
        let started = Instant::now();
        original_rows += write_original(&mut original, &batch)?;
        original_seconds += started.elapsed().as_secs_f64();
        eprint!("\r  date {}", i + 1);
    }
    eprintln!();
    cluster.execute("postgres", "CHECKPOINT")?;
    for url in [&store_url, &original_url] {
        let mut c = postgres::Client::connect(url, postgres::NoTls)?;
        c.batch_execute("VACUUM ANALYZE")?;
    }

    // The SQLite store is built anew too, so that the three write rates come from one run.
    eprintln!("writing {}…", o.sqlite.display());
    for suffix in ["", "-wal", "-shm"] {
        let mut path = o.sqlite.clone().into_os_string();
        path.push(suffix);
        let _ = std::fs::remove_file(path);
    }
    let sqlite_write = {
        let store = SqliteStore::open(&o.sqlite)?;
        let stats = data.write_all(&store, |_, _| {})?;
        store.checkpoint()?;
        stats
    };
    let sqlite = SqliteStore::open(&o.sqlite)?;
    sqlite.checkpoint()?;
    let series = sqlite.stats()?.series;
    let sqlite_bytes = std::fs::metadata(&o.sqlite)?.len();

    let mut store_meta = postgres::Client::connect(&store_url, postgres::NoTls)?;
    let pg_bytes = size_of(&mut store_meta, "n.nspname = 'mozaggregator'")?;
    let original_bytes = size_of(&mut original, "n.nspname = 'public'")?;

    if std::env::var_os("PG_BENCH_EXPLAIN").is_some() {
        // Where a query's time goes, on the server side.
        let ids: Vec<i32> = store_meta
            .query("SELECT id FROM mozaggregator.targets", &[])?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let metric: i32 = store_meta
            .query_one(
                "SELECT id FROM mozaggregator.metrics WHERE name = $1",
                &[&data.hot_plain_metric()],
            )?
            .get(0);
        for row in store_meta.query(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT target_id, label_id, totals FROM mozaggregator.series
             WHERE target_id = ANY($1) AND metric_id = $2",
            &[&ids, &metric],
        )? {
            eprintln!("{}", row.get::<_, String>(0));
        }
    }
    if std::env::var_os("PG_BENCH_EXPLAIN").is_some() {
        let v = measure(200, || done(pg.data_version()))?;
        eprintln!("data_version: p50 {:.3} ms", v.p50);
        let c = measure(200, || done(pg.channels(data.shape().prefix)))?;
        eprintln!("channels: p50 {:.3} ms", c.p50);
        let mut raw = postgres::Client::connect(&store_url, postgres::NoTls)?;
        let r = measure(200, || done(raw.simple_query("SELECT 1")))?;
        eprintln!("raw SELECT 1: p50 {:.3} ms", r.p50);
    }
    eprintln!("querying…");
    let mut lines = Vec::new();
    for (name, q, filter) in queries(&data) {
        let expected = as_original(&sqlite, &q)?;
        if as_original(&pg, &q)? != expected {
            return Err(
                format!("{name}: PostgresStore answers differently from SqliteStore").into(),
            );
        }
        if query_original(&mut original, &data, &filter)? != expected {
            return Err(format!("{name}: the original's schema answers differently").into());
        }
        let n = if name.starts_with("(d)") {
            o.iterations / 4
        } else {
            o.iterations
        };
        let lite = measure(n.max(10), || done(sqlite.query(&q)))?;
        let post = measure(n.max(10), || done(pg.query(&q)))?;
        let orig = measure((n / 4).max(10), || {
            done(query_original(&mut original, &data, &filter))
        })?;
        lines.push((name, lite, post, orig));
    }

    let _ = writeln!(report, "# PostgreSQL store benchmark\n");
    let _ = writeln!(
        report,
        "Rerun: `bench/postgres.sh`. One run, one private PostgreSQL {} cluster (`initdb` \
         defaults, `fsync=off`, on this machine's loopback), {} cores. Data: the store \
         benchmark's synthetic aggregates, {} dates, {} series rows. Every store's answer to \
         each query was checked equal to SqliteStore's before timing. Latencies are warm, \
         single-threaded, one client.\n",
        pg_version(&mut original)?,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        data.dates().len(),
        series,
    );
    let _ = writeln!(report, "{NOTE}\n");
    let _ = writeln!(
        report,
        "| query | SqliteStore p50 / p99 (ms) | PostgresStore p50 / p99 (ms) | original schema p50 / p99 (ms) | original ÷ PostgresStore (p50) |"
    );
    let _ = writeln!(report, "|---|---|---|---|---|");
    for (name, lite, post, orig) in &lines {
        let _ = writeln!(
            report,
            "| {name} | {:.3} / {:.3} | {:.3} / {:.3} | {:.2} / {:.2} | {:.1}× |",
            lite.p50,
            lite.p99,
            post.p50,
            post.p99,
            orig.p50,
            orig.p99,
            orig.p50 / post.p50
        );
    }
    let per_row = |bytes: f64| bytes / series.max(1) as f64;
    let _ = writeln!(
        report,
        "\n| | SqliteStore | PostgresStore | original schema |\n|---|---|---|---|\n\
         | bytes per row | {:.0} | {:.0} | {:.0} |\n\
         | rows written per second (whole build) | {:.0} | {:.0} | {:.0} |",
        per_row(sqlite_bytes as f64),
        per_row(pg_bytes as f64),
        per_row(original_bytes as f64),
        sqlite_write.rows_per_second(),
        pg_write.rows_per_second(),
        original_rows as f64 / original_seconds.max(1e-9),
    );
    print!("{report}");
    if let Some(out) = &o.out {
        std::fs::write(out, &report)?;
    }
    Ok(())
}

/// How the baselines are built and measured (printed with the results).
const NOTE: &str = "The original's schema is loaded as its job left it (one table per date, `dimensions jsonb` with a `jsonb_path_ops` GIN index, `[buckets…, sum, count]` arrays, text `COPY`, index built after the load) and queried with one statement over all dates that sums the arrays with `unnest … WITH ORDINALITY … GROUP BY` — faster than the original service's own plpgsql `aggregate_histograms`, so the ratios are conservative. `fsync=off` applies to both PostgreSQL schemas alike (SQLite runs as it ships: WAL, `synchronous=NORMAL`); with durable commits the PostgreSQL write rates drop. Bytes per row: SQLite the file size, PostgreSQL `pg_total_relation_size` of every table (heap, TOAST, indexes) of the store's schema, each divided by the series rows.";

fn pg_version(client: &mut postgres::Client) -> Result<String, Error> {
    Ok(client.query_one("SHOW server_version", &[])?.get(0))
}
