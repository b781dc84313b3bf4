//! The Analysis API benchmark, in process, on the 3-million-row synthetic store of
//! `store_bench` (built here when absent): each analysis request against its plain baseline,
//! measured in the same run, and reported as ratios. Each measurement is what the HTTP handler
//! computes: the request run on the store plus its JSON encoding.
//!
//! ```text
//! cargo run --release -p mozaggregator-core --example analysis_bench -- \
//!     [--store PATH] [--iterations N] [--out FILE] [--replicates R]
//! ```
//!
//! `--replicates R` builds an absent store with R replicate groups for the hot metrics (as
//! `build_bench_store --replicates R`); on a store with groups the statistics query is also
//! timed with `ci=0.95`, against the same query without it. A store without groups reports
//! that row as not measured.
//!
//! `bench/analysis.sh` runs it (and the idle-latency check over HTTP) for BENCHMARKS.md.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use mozaggregator_core::analysis::{Evolution, MetricRequest};
use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::query::MetricQuery;
use mozaggregator_core::stats::{Confidence, PercentileMethod, Stat};
use mozaggregator_core::testing::bench::{self, Args, Error};
use mozaggregator_core::testing::synthetic::{Shape, Synthetic};
use mozaggregator_core::{Dimension, Error as CoreError, Filter, SqliteStore, Store};

fn main() -> ExitCode {
    bench::exit_code("analysis_bench", run())
}

/// A measured request: what it computes, returning the bytes of its answer.
type Job<'a> = Box<dyn FnMut() -> Result<usize, Error> + 'a>;

/// Median and 99th percentile, in ms, of each job over `iterations` rounds after 5 warm-up
/// rounds. The jobs run round-robin, so a burst of load on this shared machine hits every
/// one of them alike and the ratios between them stay fair.
fn measure_all(iterations: usize, jobs: &mut [Job<'_>]) -> Result<Vec<(f64, f64)>, Error> {
    for _ in 0..5 {
        for job in jobs.iter_mut() {
            job()?;
        }
    }
    let mut times = vec![Vec::with_capacity(iterations); jobs.len()];
    for _ in 0..iterations {
        for (job, t) in jobs.iter_mut().zip(&mut times) {
            let started = Instant::now();
            job()?;
            t.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    Ok(times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            (bench::nearest_rank(&t, 0.5), bench::nearest_rank(&t, 0.99))
        })
        .collect())
}

fn run() -> Result<(), Error> {
    let mut store_path = PathBuf::from("target/bench/store.sqlite");
    let mut iterations = 300usize;
    let mut out: Option<PathBuf> = None;
    let mut shape = Shape::default();
    let mut args = Args::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--store" => store_path = PathBuf::from(args.value(&arg)?),
            "--iterations" => iterations = args.value(&arg)?.parse()?,
            "--out" => out = Some(PathBuf::from(args.value(&arg)?)),
            "--replicates" => shape.replicates = Some(args.value(&arg)?.parse()?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let data = Synthetic::new(shape);
    if !store_path.exists() {
        if let Some(dir) = store_path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        eprintln!("building {} (3 M rows)…", store_path.display());
        let store = SqliteStore::open(&store_path)?;
        data.write_all(&store, |i, _| {
            eprint!("\r  date {}/{}", i + 1, data.dates().len())
        })?;
        eprintln!();
        store.checkpoint()?;
    }
    let store = SqliteStore::open(&store_path)?;
    let rows = store.stats()?.series;
    let defs = Definitions::new();
    let s = data.shape();
    let query = |metric: &str, filter: Filter| MetricQuery {
        prefix: s.prefix,
        channel: s.channel.clone(),
        version: s.version.clone(),
        dates: data.dates().to_vec(),
        metric: metric.into(),
        filter,
    };
    let stats = Stat::parse_list("mean,p5,p25,p50,p75,p95,p99")?;
    let request = |q: MetricQuery| MetricRequest::plain(q);
    let with_stats = |q: MetricQuery| MetricRequest {
        stats: Some(stats.clone()),
        method: PercentileMethod::Interp,
        ..MetricRequest::plain(q)
    };
    // The same request with intervals over the replicate groups: measured only when the store
    // has groups for it (else the row says why).
    let with_ci = MetricRequest {
        ci: Some(Confidence::P95),
        ..with_stats(query(data.hot_plain_metric(), Filter::All))
    };
    let ci_groups = match with_ci.run_replicated(&store, &defs) {
        Ok(answer) => answer.map(|(_, groups)| groups.count),
        Err(CoreError::NoReplicates(reason)) => {
            eprintln!("not measuring ci=0.95: {reason}");
            None
        }
        Err(e) => return Err(e.into()),
    };
    let run_request = |r: MetricRequest| -> Job<'_> {
        let store = &store;
        let defs = &defs;
        Box::new(move || {
            let response = r.run(store, defs)?.ok_or("no data")?;
            Ok(response.to_json().len())
        })
    };

    let plain_metric = data.hot_plain_metric();
    let keyed_metric = data.hot_keyed_metric();
    let os_values = ["Windows_NT", "Darwin", "Linux"];
    let evolution_request = request(query(plain_metric, Filter::All));
    let mut jobs: Vec<Job<'_>> = vec![
        run_request(request(query(plain_metric, Filter::All))),
        run_request(with_stats(query(plain_metric, Filter::All))),
        run_request(request(query(
            plain_metric,
            Filter::eq(Dimension::Os, os_values[0]),
        ))),
        run_request(request(query(
            plain_metric,
            Filter::eq(Dimension::Os, os_values[1]),
        ))),
        run_request(request(query(
            plain_metric,
            Filter::eq(Dimension::Os, os_values[2]),
        ))),
        run_request(request(query(
            plain_metric,
            Filter::is_in(Dimension::Os, os_values),
        ))),
        run_request(request(query(keyed_metric, Filter::All))),
        run_request(MetricRequest {
            top: Some(5),
            ..request(query(keyed_metric, Filter::All))
        }),
        Box::new(|| {
            let e = Evolution::of(&evolution_request, &store, &defs)?.ok_or("no data")?;
            Ok(serde_json::to_vec(&e)?.len())
        }),
    ];
    if ci_groups.is_some() {
        jobs.push(run_request(with_ci.clone()));
    }
    eprintln!("measuring…");
    let t = measure_all(iterations, &mut jobs)?;
    drop(jobs);
    let ci_time = t.get(9).copied();
    let (plain, stats_time, single, or3, keyed_plain, keyed_top, evolution) =
        (t[0], t[1], t[2], t[5], t[6], t[7], t[8]);
    let separate = (t[2].0 + t[3].0 + t[4].0, t[2].1 + t[3].1 + t[4].1);

    let mut report = String::new();
    writeln!(report, "# Analysis API benchmark (in process)\n")?;
    writeln!(
        report,
        "Store: {} ({rows} series rows), 30-date queries of the hot metrics, {iterations} rounds after 5 warm-up rounds; the measurements run round-robin within each round, so load bursts hit all of them alike. Each time is the request run on the store plus its JSON encoding (what the HTTP handler computes). Ratios are against baselines measured in this run. Rerun: `bash bench/analysis.sh`.\n",
        store_path.display()
    )?;
    writeln!(
        report,
        "| measurement | p50 ms | p99 ms | ratio (p50) | target |"
    )?;
    writeln!(report, "|---|---|---|---|---|")?;
    // Each measurement: its times, the baseline its p50 ratio is against, its target.
    #[rustfmt::skip]
    let rows = [
        ("(a) plain metric, 30 dates", plain, None, "baseline"),
        ("(a) + stats=mean,p5,p25,p50,p75,p95,p99", stats_time, Some(plain), "≤ 1.2× (a)"),
        ("os=Windows_NT (one value)", single, None, "baseline"),
        ("3 separate requests, one OS each (sum)", separate, None, "baseline"),
        ("os=Windows_NT&os=Darwin&os=Linux (one request)", or3, Some(separate), "≤ 0.5× the 3 requests"),
        ("  the same OR against one value", or3, Some(single), "≤ 1.5× one value"),
        ("(d) keyed metric, 20 labels", keyed_plain, None, "baseline"),
        ("(d) + top=5", keyed_top, Some(keyed_plain), "≤ 1.2× (d)"),
        ("evolution/, 30 dates, default stats", evolution, None, "≤ 1 ms p50"),
    ];
    for (name, t, baseline, target) in rows {
        let ratio = baseline.map_or("—".to_string(), |b: (f64, f64)| {
            format!("{:.2}×", t.0 / b.0)
        });
        writeln!(
            report,
            "| {name} | {:.3} | {:.3} | {ratio} | {target} |",
            t.0, t.1
        )?;
    }
    let ci_target = "≤ 3× the same without ci";
    match (ci_groups, ci_time) {
        (Some(r), Some(t)) => writeln!(
            report,
            "| (a) + stats + ci=0.95 (R = {r}) | {:.3} | {:.3} | {:.2}× | {ci_target} |",
            t.0,
            t.1,
            t.0 / stats_time.0
        )?,
        _ => writeln!(
            report,
            "| (a) + stats + ci=0.95 | — | — | — | not measured: the store has no replicate groups (build it with --replicates 20) |"
        )?,
    }
    print!("{report}");
    if let Some(path) = out {
        std::fs::write(path, report)?;
    }
    Ok(())
}
