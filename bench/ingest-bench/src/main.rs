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

/// CPU time of this thread or of the whole process, in seconds.
fn cpu_seconds(clock: libc::clockid_t) -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// One measurement: best wall time, and the CPU time of that run (process-wide).
struct Row {
    name: String,
    limit: bool,
    wall: f64,
    cpu: f64,
}

struct Bench {
    runs: usize,
    only: String,
    rows: Vec<Row>,
}

impl Bench {
    /// Runs `f` RUNS times and keeps the run with the least CPU time (robust on a shared
    /// machine); `limit` marks a bare-parse measurement.
    /// What `f` returns is dropped after the clock stops (freeing a big aggregate is not
    /// part of aggregating).
    fn measure<R, F: FnMut() -> R>(&mut self, name: &str, limit: bool, mut f: F) {
        if !name.contains(self.only.as_str()) {
            return;
        }
        let mut best = Row {
            name: name.to_string(),
            limit,
            wall: f64::INFINITY,
            cpu: f64::INFINITY,
        };
        for _ in 0..self.runs {
            let cpu = cpu_seconds(libc::CLOCK_PROCESS_CPUTIME_ID);
            let t = Instant::now();
            let out = std::hint::black_box(f());
            let wall = t.elapsed().as_secs_f64();
            let cpu = cpu_seconds(libc::CLOCK_PROCESS_CPUTIME_ID) - cpu;
            drop(out);
            if cpu < best.cpu {
                best.cpu = cpu;
            }
            if wall < best.wall {
                best.wall = wall;
            }
        }
        self.rows.push(best);
    }
}

/// A minimal typed visit of the histograms of a ping (the floor of any typed parse): borrowed
/// keys, integer values, nothing kept but a checksum.
mod floor {
    use serde::de::{Deserializer, MapAccess, Visitor};
    use serde::Deserialize;
    use std::fmt;

    pub struct Sum(pub u64);

    struct SumVisitor<F>(F);

    impl<'de> Deserialize<'de> for Sum {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Sum, D::Error> {
            d.deserialize_map(SumVisitor(()))
        }
    }

    impl<'de> Visitor<'de> for SumVisitor<()> {
        type Value = Sum;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("values")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Sum, A::Error> {
            let mut acc = 0u64;
            while let Some((k, v)) = map.next_entry::<&'de str, u64>()? {
                acc = acc.wrapping_add(v).wrapping_add(k.len() as u64);
            }
            Ok(Sum(acc))
        }
    }

    #[derive(Deserialize)]
    pub struct H {
        pub values: Option<Sum>,
        pub sum: Option<u64>,
        pub histogram_type: Option<u64>,
        pub bucket_count: Option<u64>,
        pub range: Option<[u64; 2]>,
    }

    pub struct Map<T>(pub u64, std::marker::PhantomData<T>);

    impl<'de, T: Deserialize<'de> + Check> Deserialize<'de> for Map<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V<T>(std::marker::PhantomData<T>);
            impl<'de, T: Deserialize<'de> + Check> Visitor<'de> for V<T> {
                type Value = Map<T>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a map")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Map<T>, A::Error> {
                    let mut acc = 0u64;
                    while let Some((k, v)) = map.next_entry::<&'de str, T>()? {
                        acc = acc.wrapping_add(v.check()).wrapping_add(k.len() as u64);
                    }
                    Ok(Map(acc, std::marker::PhantomData))
                }
            }
            d.deserialize_map(V(std::marker::PhantomData))
        }
    }

    pub trait Check {
        fn check(&self) -> u64;
    }

    impl Check for H {
        fn check(&self) -> u64 {
            self.values.as_ref().map_or(0, |v| v.0) + self.sum.unwrap_or(0)
                + self.histogram_type.unwrap_or(0)
                + self.bucket_count.unwrap_or(0)
                + self.range.map_or(0, |r| r[0])
        }
    }

    impl<T> Check for Map<T> {
        fn check(&self) -> u64 {
            self.0
        }
    }

    #[derive(Deserialize)]
    pub struct Proc {
        pub histograms: Option<Map<H>>,
        #[serde(rename = "keyedHistograms")]
        pub keyed: Option<Map<Map<H>>>,
    }

    #[derive(Deserialize)]
    pub struct Procs {
        pub content: Option<Proc>,
        pub gpu: Option<Proc>,
    }

    #[derive(Deserialize)]
    pub struct Payload {
        pub histograms: Option<Map<H>>,
        #[serde(rename = "keyedHistograms")]
        pub keyed: Option<Map<Map<H>>>,
        pub processes: Option<Procs>,
        #[serde(rename = "childPayloads")]
        pub children: Option<Vec<Proc>>,
    }

    #[derive(Deserialize)]
    pub struct Ping {
        pub payload: Option<Payload>,
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
            .sum::<u64>()
    });
    b.measure("serde_json, Value (DOM)", true, || {
        lines
            .iter()
            .map(|l| serde_json::from_slice::<serde_json::Value>(l).is_ok() as u64)
            .sum::<u64>()
    });
    b.measure("sonic-rs, IgnoredAny (validate, build nothing)", true, || {
        lines
            .iter()
            .map(|l| sonic_rs::from_slice::<IgnoredAny>(l).is_ok() as u64)
            .sum::<u64>()
    });
    b.measure("sonic-rs, Value (DOM)", true, || {
        lines
            .iter()
            .map(|l| sonic_rs::from_slice::<sonic_rs::Value>(l).is_ok() as u64)
            .sum::<u64>()
    });

    // A minimal typed visit of the histograms: what any typed parse costs at least.
    b.measure("typed visit floor: histograms with serde derive, nothing kept", false, || {
        lines
            .iter()
            .map(|l| serde_json::from_slice::<floor::Ping>(l).is_ok() as u64)
            .sum::<u64>()
    });

    // Ours: parse + aggregation in memory, and the whole driver from the file.
    b.measure("mozaggregator: aggregate in memory, 1 thread", false, || {
        let mut aggregator = Aggregator::new(Options::default());
        let mut out = Aggregates::new();
        for l in &lines {
            aggregator.add_json(&mut out, l);
        }
        out
    });
    // Merging two partial aggregates (what the 2-thread job does at its end).
    let half = |part: &[&[u8]]| {
        let mut aggregator = Aggregator::new(Options::default());
        let mut out = Aggregates::new();
        for l in part {
            aggregator.add_json(&mut out, l);
        }
        out
    };
    let (first, second) = lines.split_at(lines.len() / 2);
    let (a, c) = (half(first), half(second));
    b.measure("merge of two partial aggregates (halves of the input)", false, || {
        let mut x = a.clone();
        x.merge(c.clone());
        x
    });
    b.measure("clone of the two partial aggregates (subtract from the merge)", false, || {
        (a.clone(), c.clone())
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
            ingest(&inputs, &aggregator, &options, None).expect("ingest")
        });
    }
    b.measure("serde_json IgnoredAny, 2 threads (rayon)", false, || {
        lines
            .par_iter()
            .map(|l| serde_json::from_slice::<IgnoredAny>(l).is_ok() as u64)
            .sum::<u64>()
    });

    // Single-threaded ratios use CPU time (unaffected by other processes taking the cores);
    // the 2-thread speed-up uses wall time.
    let fastest = b
        .rows
        .iter()
        .filter(|r| r.limit)
        .map(|r| r.cpu)
        .fold(f64::INFINITY, f64::min);
    let fastest_name = b
        .rows
        .iter()
        .find(|r| r.limit && r.cpu == fastest)
        .map_or("", |r| r.name.as_str());
    println!("fastest bare parse (the limit): {fastest_name}");
    println!();
    println!("| measurement | MB/s (CPU time) | pings/s (CPU time) | vs limit (CPU time) | MB/s (wall) | CPU s | wall s |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in &b.rows {
        println!(
            "| {} | {:.0} | {:.0} | {:.2} | {:.0} | {:.2} | {:.2} |",
            r.name,
            bytes as f64 / 1e6 / r.cpu,
            pings as f64 / r.cpu,
            fastest / r.cpu,
            bytes as f64 / 1e6 / r.wall,
            r.cpu,
            r.wall
        );
    }
}
