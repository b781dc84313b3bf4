//! `mozaggregator generate`: realistic synthetic main pings, as NDJSON.
//!
//! ```text
//! $ mozaggregator generate --pings 1000 --seed 1 --submission-date 20240115 --out pings.ndjson.zst
//! $ mozaggregator generate --pings 100 --channel beta,nightly --version 130.0 --os Linux \
//!       --build-id 20240110123456 --submission-date 20240115 --out pings.ndjson
//! ```

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use mozaggregator_core::generate::{GenerateOptions, Generator};
use mozaggregator_core::mobile::MobileGenerator;
use mozaggregator_core::{Date, DocType};
use mozaggregator_http::{Error, Result};

/// Arguments of `mozaggregator generate`.
#[derive(clap::Args)]
#[command(
    long_about = "Write synthetic Firefox main pings, one per line. Each looks like a real main \
                  ping (100-400 KB): a few hundred histograms of every kind, keyed histograms, \
                  scalars, keyed scalars, simple measures, content and gpu processes, legacy \
                  childPayloads in about one ping in ten, and the bulky sections aggregation \
                  skips. Dimensions vary over channels, versions, build ids, OSes, architectures \
                  and applications; --channel, --version, --os and --build-id narrow them to \
                  the values given (each repeatable or comma-separated, drawn uniformly). \
                  Every generated ping aggregates without a reject under default settings \
                  (without --submission-date, aggregate them with --submission-date), and none \
                  of its metrics is on the API's default deny-list. The same seed and options \
                  give the same bytes. --doc-type mobile_metrics writes mobile-metrics pings \
                  instead (1-3 KB: processes with histograms, keyed histograms, scalars and \
                  keyed scalars)."
)]
pub struct Args {
    /// Number of pings.
    #[arg(long, value_name = "N")]
    pings: u64,

    /// Seed of the generator.
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,

    /// Give pings `meta` with this submission date (as Mozilla's pipeline does); without it,
    /// pings are as clients send them (no `meta`).
    #[arg(long, value_name = "YYYYMMDD")]
    submission_date: Option<String>,

    /// Vary this real ping (its histograms, dimensions, client id, values) instead of making
    /// pings from scratch.
    #[arg(long, value_name = "PING.json")]
    template: Option<PathBuf>,

    /// Channels to draw from (nightly, aurora, beta, release); repeatable or comma-separated.
    /// Default: the usual mix, half of it release.
    #[arg(long, value_name = "C", value_delimiter = ',')]
    channel: Vec<String>,

    /// Application versions to draw from (`130.0`, `131.0b2`: stored under their major
    /// version); repeatable or comma-separated. Default: versions fitting each channel.
    #[arg(long, value_name = "V", value_delimiter = ',')]
    version: Vec<String>,

    /// OS names to draw from (Windows_NT, Darwin, Linux; the OS version is drawn from that
    /// OS's usual ones); repeatable or comma-separated. Default: the usual mix.
    #[arg(long, value_name = "OS", value_delimiter = ',')]
    os: Vec<String>,

    /// Build ids to draw from (YYYYMMDDhhmmss); repeatable or comma-separated. Default: build
    /// ids of the week before the submission date.
    #[arg(long, value_name = "YYYYMMDDhhmmss", value_delimiter = ',')]
    build_id: Vec<String>,

    /// The kind of pings: `main` (desktop main pings) or `mobile_metrics` (GeckoView
    /// mobile-metrics pings with the pipeline's `meta`, for `aggregate --doc-type
    /// mobile_metrics`; --version and --build-id are then taken as the pings send them, and
    /// --os can only be Android).
    #[arg(long, value_name = "TYPE", default_value = "main")]
    doc_type: DocType,

    /// Write here instead of stdout; `.gz` / `.zst` endings compress.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Writes N pings as NDJSON, returning the bytes written (either generator's `write_ndjson`).
type WriteNdjson = dyn FnMut(u64, &mut dyn Write) -> io::Result<u64>;

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    let template = match &args.template {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?),
        None => None,
    };
    let options = GenerateOptions {
        seed: args.seed,
        submission_date: args
            .submission_date
            .as_deref()
            .map(|d| Date::parse_as("submission date", d))
            .transpose()?,
        template,
        channels: args.channel,
        versions: args.version,
        os: args.os,
        build_ids: args.build_id,
    };
    let mut generate: Box<WriteNdjson> = match args.doc_type {
        DocType::Main => {
            let mut g = Generator::new(options)?;
            Box::new(move |n, out| g.write_ndjson(n, out))
        }
        DocType::MobileMetrics => {
            let mut g = MobileGenerator::new(options)?;
            Box::new(move |n, out| g.write_ndjson(n, out))
        }
    };
    let name = args
        .out
        .as_ref()
        .map_or("<stdout>".to_string(), |p| p.display().to_string());
    let io_err = |source| Error::Io {
        path: name.clone(),
        source,
    };
    let raw: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::fs::File::create(path).map_err(io_err)?),
        None => Box::new(io::stdout().lock()),
    };
    let raw = BufWriter::with_capacity(1 << 20, raw);
    let lower = name.to_ascii_lowercase();
    let written = if lower.ends_with(".gz") {
        let mut w = flate2::write::GzEncoder::new(raw, flate2::Compression::default());
        generate(args.pings, &mut w)
            .and_then(|_| w.finish())
            .and_then(|mut raw| raw.flush())
    } else if lower.ends_with(".zst") {
        zstd::stream::write::Encoder::new(raw, 3).and_then(|mut w| {
            generate(args.pings, &mut w)?;
            w.finish()?.flush()
        })
    } else {
        let mut w = raw;
        generate(args.pings, &mut w).and_then(|_| w.flush())
    };
    match written {
        Ok(()) => {}
        // The reader went away (`| head`): not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(io_err(e)),
    }
    Ok(ExitCode::SUCCESS)
}
