//! Ingest throughput next to the parse limit, on the same bytes, in one process.
//!
//! `ingest-bench FILE.ndjson [RUNS [ONLY]]` prints a markdown table: MB/s and pings/s of the
//! best of RUNS runs (default 3) of each measurement, and its ratio to the fastest bare parse.
//! ONLY, when given, runs just the measurements whose name contains it (for profiling).

use std::time::Instant;

use mozaggregator_core::ingest::{ingest, IngestOptions};
use mozaggregator_core::input::Input;
use mozaggregator_core::{Aggregates, Aggregator, Options};
use rayon::prelude::*;
use serde::de::IgnoredAny;

struct Bench {
    runs: usize,
    only: String,
    rows: Vec<(String, bool, f64)>,
}

impl Bench {
    /// Runs `f` RUNS times and keeps the best time; `limit` marks a bare-parse measurement.
    fn measure<F: FnMut() -> u64>(&mut self, name: &str, limit: bool, mut f: F) {
        if !name.contains(self.only.as_str()) {
            return;
        }
        let mut best = f64::INFINITY;
        for _ in 0..self.runs {
            let t = Instant::now();
            std::hint::black_box(f());
            best = best.min(t.elapsed().as_secs_f64());
        }
        self.rows.push((name.to_string(), limit, best));
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: ingest-bench FILE.ndjson [RUNS [ONLY]]");
    let runs: usize = args.next().map_or(3, |r| r.parse().expect("RUNS is a number"));
    let only = args.next().unwrap_or_default();
    let text = std::fs::read(&path).expect("read the input");
    let lines: Vec<&[u8]> = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    let pings = lines.len();
    eprintln!("{pings} pings, {:.1} MB of JSON", bytes as f64 / 1e6);
    let mut b = Bench {
        runs,
        only,
        rows: Vec::new(),
    };

    // Bare parses of the same bytes: validate everything, build nothing (or a DOM).
    b.measure("serde_json, IgnoredAny (validate, build nothing)", true, || {
        lines
            .iter()
            .map(|l| serde_json::from_slice::<IgnoredAny>(l).is_ok() as u64)
            .sum()
    });
    b.measure("serde_json, Value (DOM)", true, || {
        lines
            .iter()
            .map(|l| serde_json::from_slice::<serde_json::Value>(l).is_ok() as u64)
            .sum()
    });
    b.measure("sonic-rs, IgnoredAny (validate, build nothing)", true, || {
        lines
            .iter()
            .map(|l| sonic_rs::from_slice::<IgnoredAny>(l).is_ok() as u64)
            .sum()
    });
    b.measure("sonic-rs, Value (DOM)", true, || {
        lines
            .iter()
            .map(|l| sonic_rs::from_slice::<sonic_rs::Value>(l).is_ok() as u64)
            .sum()
    });

    // Ours: parse + aggregation in memory, and the whole driver from the file.
    b.measure("mozaggregator: aggregate in memory, 1 thread", false, || {
        let mut aggregator = Aggregator::new(Options::default());
        let mut out = Aggregates::new();
        for l in &lines {
            aggregator.add_json(&mut out, l);
        }
        out.report().pings_used
    });
    let aggregator = Aggregator::new(Options::default());
    let inputs = vec![Input::file(&path)];
    for threads in [1, 2] {
        let options = IngestOptions {
            threads,
            ..IngestOptions::default()
        };
        let name = format!("mozaggregator: ingest() file to aggregates, {threads} worker(s)");
        b.measure(&name, false, || {
            ingest(&inputs, &aggregator, &options, None)
                .expect("ingest")
                .report()
                .pings_used
        });
    }
    b.measure("serde_json IgnoredAny, 2 threads (rayon)", false, || {
        lines
            .par_iter()
            .map(|l| serde_json::from_slice::<IgnoredAny>(l).is_ok() as u64)
            .sum()
    });

    let fastest = b
        .rows
        .iter()
        .filter(|r| r.1)
        .map(|r| r.2)
        .fold(f64::INFINITY, f64::min);
    println!("| measurement | MB/s | pings/s | vs fastest bare parse |");
    println!("|---|---:|---:|---:|");
    for (name, _, seconds) in &b.rows {
        println!(
            "| {name} | {:.0} | {:.0} | {:.2} |",
            bytes as f64 / 1e6 / seconds,
            pings as f64 / seconds,
            fastest / seconds
        );
    }
}
