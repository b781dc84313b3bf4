//! `mozaggregator demo`: from nothing to a running API in one command. Generates realistic
//! synthetic main pings for the last few days, aggregates them into a SQLite store, prints what
//! it did and URLs that answer on that data, then serves the API.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::generate::{GenerateOptions, Generator};
use mozaggregator_core::metric_name;
use mozaggregator_core::query::MetricQuery;
use mozaggregator_core::report::count;
use mozaggregator_core::{
    Aggregates, Aggregator, Date, Filter, Options, Prefix, Store, StoreLocation,
};
use mozaggregator_http::listener::BoundListener;
use mozaggregator_http::{App, Error, Result};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::serve::{init_logging, runtime, serve_app, ServerArgs};

/// Arguments of `mozaggregator demo`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The store to create (kept as it is when it already has data): a SQLite file or a
    /// PostgreSQL database URL.
    #[arg(long, env = "MOZAGGREGATOR_DB", default_value = "demo.sqlite")]
    pub db: String,

    /// Pings to generate in all (each 100-400 KB of JSON, like real main pings).
    #[arg(long, default_value_t = 1200)]
    pub pings: u64,

    /// Submission dates to spread them over: today and the days before (UTC).
    #[arg(long, default_value_t = 3)]
    pub days: u32,

    /// Seed of the generator (same seed, same data).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Prepare the store and print the URLs, but do not serve.
    #[arg(long)]
    pub no_serve: bool,

    #[command(flatten)]
    pub server: ServerArgs,
}

/// Runs the command.
///
/// # Errors
/// Bad arguments, an unwritable store, an unbindable address.
pub fn run(args: Args) -> Result<ExitCode> {
    init_logging(&args.server.log_format);
    let config = args.server.config()?;
    let definitions = args.server.definitions()?;
    // Bind before the long part: a busy or invalid address fails now, not after generating.
    let serving = if args.no_serve {
        None
    } else {
        let runtime = runtime()?;
        let listener = runtime.block_on(BoundListener::bind(&args.server.bind))?;
        Some((runtime, listener))
    };
    let base = match &serving {
        Some((_, listener)) => format!("http://{}", listener.local_addr()),
        None => format!("http://{}", args.server.bind),
    };
    let location = StoreLocation::parse(&args.db);
    let store = location.open(&[])?;
    let has_data = Prefix::ALL
        .iter()
        .map(|p| store.channels(*p))
        .collect::<mozaggregator_core::Result<Vec<_>>>()?
        .iter()
        .any(|c| !c.is_empty());
    if has_data {
        println!(
            "{} already holds aggregates: serving them (delete it, or pass another --db, to generate anew)",
            location
        );
    } else {
        generate_into(&args, store.as_ref())?;
    }
    print_examples(&args, &base, store.as_ref(), &definitions)?;
    let Some((runtime, listener)) = serving else {
        return Ok(ExitCode::SUCCESS);
    };
    let app = App::new(store, Arc::new(definitions), config);
    runtime.block_on(serve_app(app, listener))?;
    Ok(ExitCode::SUCCESS)
}

fn generate_into(args: &Args, store: &dyn Store) -> Result<()> {
    if args.days == 0 || args.pings == 0 {
        return Err(Error::Usage("--pings and --days must be at least 1".into()));
    }
    let today = Date::today_utc();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    let mut total = Aggregates::new();
    let mut bytes = 0u64;
    println!(
        "generating {} over {} on {}…",
        count(args.pings, "synthetic main ping", "synthetic main pings"),
        count(u64::from(args.days), "submission date", "submission dates"),
        count(threads as u64, "thread", "threads"),
    );
    for day in 0..args.days {
        let submission_date = today.days_before(args.days - 1 - day)?;
        let share = args.pings / u64::from(args.days)
            + u64::from(u64::from(day) < args.pings % u64::from(args.days));
        let results: Vec<Result<(Aggregates, u64)>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads as u64)
                .map(|t| {
                    let n = share / threads as u64 + u64::from(t < share % threads as u64);
                    let seed = args.seed.wrapping_mul(1_000_003) ^ (u64::from(day) << 32) ^ t;
                    scope.spawn(move || -> Result<(Aggregates, u64)> {
                        let mut generator = Generator::new(GenerateOptions {
                            seed,
                            submission_date: Some(submission_date),
                            ..GenerateOptions::default()
                        })?;
                        let mut aggregator = Aggregator::new(Options::default());
                        let mut out = Aggregates::new();
                        let mut bytes = 0u64;
                        for _ in 0..n {
                            let ping = generator.ping();
                            bytes += ping.len() as u64;
                            aggregator.add_json(&mut out, ping.as_bytes());
                        }
                        Ok((out, bytes))
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| {
                    w.join()
                        .unwrap_or_else(|_| Err(Error::Usage("a generator thread failed".into())))
                })
                .collect()
        });
        for result in results {
            let (aggregates, b) = result?;
            bytes += b;
            total.merge(aggregates);
        }
        println!("  {submission_date}: {}", count(share, "ping", "pings"));
    }
    let aggregated = started.elapsed();
    let written = total.write_to(store, |_| {})?;
    let rows = written.rows_written;
    let rejected = written.rows_rejected.values().sum::<u64>();
    let report = total.report();
    println!(
        "aggregated {} ({:.0} MB of JSON; {} used, {} rejected) in {:.1} s; wrote {} ({rejected} rejected) to {} in {:.1} s total",
        count(report.pings_read, "ping", "pings"),
        bytes as f64 / 1e6,
        report.pings_used,
        report.pings_rejected_total(),
        aggregated.as_secs_f64(),
        count(rows, "series row", "series rows"),
        StoreLocation::parse(&args.db),
        started.elapsed().as_secs_f64(),
    );
    Ok(())
}

/// Prints URLs that answer on the store's data: the first non-release channel, its newest
/// version, and a metric that has data on every date.
fn print_examples(
    args: &Args,
    base: &str,
    store: &dyn Store,
    definitions: &Definitions,
) -> Result<()> {
    // The (channel, version) with the most submission dates; release last (it needs a token).
    let mut best: Option<(String, String, Vec<Date>)> = None;
    for channel in store.channels(Prefix::SubmissionDate)? {
        let dates = store.dates(Prefix::SubmissionDate, &channel)?;
        let mut versions: Vec<&str> = dates.iter().map(|d| d.version.as_str()).collect();
        versions.dedup();
        for version in versions {
            let mut version_dates: Vec<Date> = dates
                .iter()
                .filter(|d| d.version == version)
                .map(|d| d.date)
                .collect();
            version_dates.reverse();
            let rank = |c: &str, n: usize| (c != "release", n);
            if best
                .as_ref()
                .is_none_or(|(c, _, d)| rank(&channel, version_dates.len()) > rank(c, d.len()))
            {
                best = Some((channel.clone(), version.to_string(), version_dates));
            }
        }
    }
    let Some((channel, version, version_dates)) = best else {
        println!("the store has no data yet");
        return Ok(());
    };
    let channel = &channel;
    let options = store.filter_options(channel, &version)?.unwrap_or_default();
    let mut metric = None;
    let preferred = options
        .metric
        .iter()
        .filter(|m| !m.starts_with("SCALARS_") && !m.starts_with("[[COUNT]]_"))
        .chain(options.metric.iter());
    for candidate in preferred.take(200) {
        let query = MetricQuery {
            prefix: Prefix::SubmissionDate,
            channel: channel.clone(),
            version: version.clone(),
            dates: version_dates.clone(),
            metric: candidate.clone(),
            filter: Filter::All,
        };
        if query
            .run(store, definitions)?
            .is_some_and(|r| r.data.len() == version_dates.len())
        {
            metric = Some(candidate.clone());
            break;
        }
    }
    let dates_param = version_dates
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    println!();
    let dashboard = metric.as_ref().map_or_else(String::new, |m| {
        format!(
            "?prefix=submission_date&channel={}&version={}&metric={}",
            encode(channel),
            encode(&version),
            encode(metric_name::served(m))
        )
    });
    println!("The dashboard: {base}/{dashboard}");
    println!(
        "The API {} at {base}/ — try:",
        if args.no_serve {
            "would answer"
        } else {
            "answers"
        }
    );
    println!("  curl -s '{base}/aggregates_by/submission_date/channels/'");
    println!("  curl -s '{base}/aggregates_by/submission_date/channels/{channel}/dates/'");
    println!("  curl -s '{base}/aggregates_by/build_id/channels/{channel}/dates/'");
    println!("  curl -s '{base}/filters/?channel={channel}&version={version}'");
    if let Some(metric) = metric {
        let url = format!(
            "{base}/aggregates_by/submission_date/channels/{channel}/?version={version}&dates={dates_param}&metric={}",
            encode(metric_name::served(&metric))
        );
        println!("  curl -s '{url}'");
        println!("  curl -s '{url}&child=parent'");
        if let Some((os, _)) = options.os.iter().next() {
            println!("  curl -s '{url}&os={}'", encode(os));
        }
        let analysis = format!(
            "?version={version}&dates={dates_param}&metric={}",
            encode(metric_name::served(&metric))
        );
        let path = format!("{base}/aggregates_by/submission_date/channels/{channel}");
        println!("The Analysis API (docs/api.md#analysis):");
        println!("  curl -s '{url}&stats=mean,p50,p95,p99.9'");
        println!("  curl -s '{path}/evolution/{analysis}&group_by=os'");
        println!("  curl -s '{path}/compare/{analysis}&child=parent&b.child=*'");
    }
    println!("  curl -s '{base}/openapi.json'");
    println!(
        "(`release` is listed only with a token: pass --tokens-file FILE and send `Authorization: Bearer TOKEN`.)"
    );
    Ok(())
}

/// Characters left as they are in URL query values.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}
