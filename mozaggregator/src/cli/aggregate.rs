//! `mozaggregator aggregate`: aggregate pings into a store (the aggregation job).
//!
//! ```text
//! $ mozaggregator aggregate --db aggregates.sqlite --submission-date 20240115 pings/
//! read 10000 pings (1634.2 MB of JSON, 12 inputs) in 4.10 s: 398.6 MB/s, 2439 pings/s
//!   pings used 9990, rejected 10
//!   …
//! $ mozaggregator aggregate --db aggregates.sqlite --replicates 20 pings/   # and 20 groups
//! ```

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::ingest::{check_threads, ingest, IngestOptions, Progress};
use mozaggregator_core::input::discover_listing;
use mozaggregator_core::{Aggregator, Date, DocType, Options, ReplicateCount, StoreLocation};
use mozaggregator_http::{Error, Result};

/// Arguments of `mozaggregator aggregate`.
#[derive(clap::Args)]
#[command(
    long_about = "Aggregate Firefox main pings into build-id and submission-date aggregates and \
                  merge them into a store. INPUT: files or directories (walked recursively) of \
                  .json (one ping per file), .ndjson/.jsonl (one ping per line), optionally .gz \
                  or .zst compressed, or - for NDJSON on stdin. Idempotent per submission date: \
                  tables that already absorbed a submission date are left unchanged. Every \
                  rejected ping, histogram, scalar and row is counted by reason in the final \
                  report (stderr). Exit status: 0 on success, 1 with --strict when a ping was \
                  rejected or an input damaged, 2 when an input is unreadable or the store fails."
)]
pub struct Args {
    /// The store to write into: a SQLite file (created if absent) or a PostgreSQL database
    /// URL (`postgres://user@host:port/db`; the schema is created if absent).
    #[arg(long, value_name = "PATH|URL", env = "MOZAGGREGATOR_DB")]
    db: String,

    /// Aggregate only pings of this submission date (YYYYMMDD); pings without `meta` (straight
    /// from clients) get this date. Without it, dates come from `meta.submissionDate`.
    #[arg(long, value_name = "YYYYMMDD")]
    submission_date: Option<String>,

    /// Channels to aggregate, comma-separated (default: nightly,aurora,beta,release).
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    channels: Vec<String>,

    /// Major versions to aggregate, comma-separated (`121,122`: `application.version` up to
    /// its first `.`; default: every version). Pings of other versions are counted as
    /// `version_not_selected`.
    #[arg(long, value_name = "V,W", value_delimiter = ',')]
    versions: Vec<String>,

    /// A Histograms.json, for --prefer-definitions.
    #[arg(long, value_name = "FILE", env = "MOZAGGREGATOR_HISTOGRAMS")]
    histograms: Option<PathBuf>,

    /// A Scalars.yaml (repeatable).
    #[arg(long, value_name = "FILE")]
    scalars: Vec<PathBuf>,

    /// Lay histograms out by their definition when there is one (the original service's rule,
    /// for exact comparisons with its output) instead of by the layout each ping declares.
    #[arg(long)]
    prefer_definitions: bool,

    /// Keep full Linux OS versions (default: first 3 characters, as the original did).
    #[arg(long)]
    full_os_version: bool,

    /// Also store the aggregates of R replicate groups, from which confidence intervals are
    /// computed: a ping goes into group sample_id mod R (meta.sampleId, else crc32(clientId)
    /// mod 100). R divides 100: 2, 4, 5, 10, 20, 25, 50 or 100. Off by default; costs time
    /// and memory (docs/ingest.md, "Replicate groups").
    #[arg(long, value_name = "R")]
    replicates: Option<ReplicateCount>,

    /// The kind of pings: `main` (desktop main pings) or `mobile_metrics` (Fennec/GeckoView
    /// mobile-metrics pings, aggregated into a family of their own; docs/ingest.md, "Mobile
    /// pings"). With `mobile_metrics`, histograms are laid out by --histograms when defined
    /// there, else kept as sent.
    #[arg(long, value_name = "TYPE", default_value = "main")]
    doc_type: DocType,

    /// Worker threads parsing and aggregating (0: one per core; at most 256). Other than 1,
    /// the next part's batch is built while the store writes one.
    #[arg(long, value_name = "N", default_value_t = IngestOptions::default().threads)]
    threads: usize,

    /// Also write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,

    /// Exit with status 1 when any ping was rejected or any input damaged.
    #[arg(long)]
    strict: bool,

    /// Ping files, directories, or - for stdin.
    #[arg(value_name = "INPUT", required = true)]
    inputs: Vec<PathBuf>,
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    check_threads(args.threads)?;
    let channels = if args.channels.is_empty() {
        Options::default().channels
    } else {
        args.channels.clone()
    };
    if args.prefer_definitions && args.histograms.is_none() {
        return Err(Error::Usage(
            "--prefer-definitions needs --histograms FILE".into(),
        ));
    }
    let definitions = Definitions::load(args.histograms.as_deref(), &args.scalars)?;
    let options = Options {
        submission_date: args
            .submission_date
            .as_deref()
            .map(|d| Date::parse_as("submission_date", d))
            .transpose()?,
        channels,
        versions: (!args.versions.is_empty()).then(|| args.versions.clone()),
        prefer_definitions: args.prefer_definitions,
        full_os_version: args.full_os_version,
        definitions: Arc::new(definitions),
        replicates: args.replicates,
        doc_type: args.doc_type,
    };
    options.validate()?;
    let (inputs, files_skipped) = discover_listing(&args.inputs)?;
    // Open the store before the long part, so a bad path fails fast.
    let store = StoreLocation::parse(&args.db).open(&[])?;
    let aggregator = Aggregator::new(options);
    let options = IngestOptions {
        threads: args.threads,
        ..IngestOptions::default()
    };
    let bar = std::io::stderr()
        .is_terminal()
        .then(|| progress_bar(&inputs));
    let on_progress = |p: &Progress| {
        if let Some(bar) = &bar {
            bar.set_position(p.input_bytes);
            let secs = p.elapsed.as_secs_f64().max(1e-9);
            bar.set_message(format!(
                "read + aggregate: {} pings, {:.0} pings/s, {:.1} MB/s",
                p.pings,
                p.pings as f64 / secs,
                p.json_bytes as f64 / 1e6 / secs
            ));
        }
    };
    let mut aggregates = ingest(&inputs, &aggregator, &options, Some(&on_progress))?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    aggregates.report_mut().files_skipped = files_skipped
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    // One write per (submission date, channel, version): memory for the largest part only
    // (see `Aggregates::write_to`). The write is its own phase of the progress display.
    let writing = Instant::now();
    let write_bar = std::io::stderr().is_terminal().then(write_progress_bar);
    aggregates.write_with(store.as_ref(), args.threads, |part| {
        if let Some(bar) = &write_bar {
            bar.set_length(part.of as u64);
            bar.set_position(part.index as u64);
            bar.set_message(format!(
                "writing {} {} {}",
                part.date, part.channel, part.version
            ));
        }
    })?;
    if let Some(bar) = &write_bar {
        bar.finish_and_clear();
    }
    aggregates.report_mut().write_seconds = writing.elapsed().as_secs_f64();
    let report = aggregates.report();
    eprint!("{report}");
    if let Some(path) = &args.report_json {
        let json = serde_json::to_vec_pretty(report).map_err(|e| Error::Io {
            path: path.display().to_string(),
            source: e.into(),
        })?;
        std::fs::write(path, json).map_err(|e| Error::Io {
            path: path.display().to_string(),
            source: e,
        })?;
    }
    let failed = report.pings_rejected_total() > 0 || !report.inputs_damaged.is_empty();
    Ok(if args.strict && failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The write phase: one step per (submission date, channel, version) part (the length is set
/// when the write starts).
fn write_progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] write {wide_bar} {pos}/{len} parts {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

fn progress_bar(inputs: &[mozaggregator_core::input::Input]) -> ProgressBar {
    let total: u64 = inputs.iter().filter_map(|i| i.size).sum();
    let bar = if total > 0 {
        ProgressBar::new(total)
    } else {
        ProgressBar::new_spinner()
    };
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}
