//! Builds the benchmark store: synthetic aggregates shaped like real ones (see
//! `mozaggregator_core::testing::synthetic`), 30 dates × ~100k rows by default.
//!
//! ```text
//! cargo run --release -p mozaggregator-core --example build_bench_store -- PATH [--dates N] [--rows N] [--replicates R] [--force]
//! ```
//!
//! Refuses to overwrite an existing PATH unless `--force`. Prints the hot metrics to query.

use std::process::ExitCode;

use mozaggregator_core::testing::bench::{self, Args, Error};
use mozaggregator_core::testing::synthetic::{Shape, Synthetic};
use mozaggregator_core::{SqliteStore, Store};

fn main() -> ExitCode {
    bench::exit_code("build_bench_store", run())
}

fn run() -> Result<(), Error> {
    let mut args = Args::new();
    let mut path = None;
    let mut shape = Shape::default();
    let mut force = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dates" => shape.dates = args.value(&arg)?.parse()?,
            "--rows" => shape.rows_per_date = args.value(&arg)?.parse()?,
            "--replicates" => shape.replicates = Some(args.value(&arg)?.parse()?),
            "--force" => force = true,
            "-h" | "--help" => {
                println!("usage: build_bench_store PATH [--dates N] [--rows N] [--replicates R] [--force]");
                return Ok(());
            }
            _ if path.is_none() && !arg.starts_with('-') => path = Some(arg),
            _ => return Err(format!("unexpected argument `{arg}`").into()),
        }
    }
    let path = path
        .ok_or("usage: build_bench_store PATH [--dates N] [--rows N] [--replicates R] [--force]")?;
    if std::path::Path::new(&path).exists() {
        if !force {
            return Err(format!("{path} exists (use --force to replace it)").into());
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    let data = Synthetic::new(shape);
    let store = SqliteStore::open(&path)?;
    let stats = data.write_all(&store, |i, report| {
        eprint!(
            "\rdate {}/{}: {} rows   ",
            i + 1,
            data.dates().len(),
            report.rows_written
        );
    })?;
    eprintln!();
    store.checkpoint()?;
    let bytes = std::fs::metadata(&path)?.len();
    println!("store:             {path}");
    println!("rows:              {}", stats.rows);
    println!(
        "write:             {:.1} s, {:.0} rows/s (generation {:.1} s)",
        stats.write_seconds,
        stats.rows_per_second(),
        stats.generate_seconds
    );
    println!(
        "size:              {} bytes, {:.1} bytes/row",
        bytes,
        bytes as f64 / stats.rows.max(1) as f64
    );
    let s = data.shape();
    println!(
        "tables:            {} {} {} dates {}..={}",
        s.prefix,
        s.channel,
        s.version,
        data.dates()
            .first()
            .map_or(String::new(), ToString::to_string),
        data.dates()
            .last()
            .map_or(String::new(), ToString::to_string)
    );
    if let Some(r) = s.replicates {
        let counts = store.stats()?;
        println!(
            "replicate groups:  {r} for the hot metrics: {} rows holding {} group series (the hot metrics' own rows hold {})",
            counts.replicate_rows,
            counts.replicate_series,
            data.hot_series()
        );
    }
    println!("hot plain metric:  {}", data.hot_plain_metric());
    println!("hot keyed metric:  {}", data.hot_keyed_metric());
    Ok(())
}
