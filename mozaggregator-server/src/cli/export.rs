//! `mozaggregator export`: every stored row, as NDJSON or CSV, in a deterministic order.
//!
//! ```text
//! $ mozaggregator export --db aggregates.sqlite --prefix build_id --channel nightly
//! {"prefix":"build_id","channel":"nightly","version":"42","date":"20150601","metric":"GC_MS",…}
//! ```

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::export::{Exporter, CSV_HEADER};
use mozaggregator_core::{Histogram, Prefix, Selection, SeriesKey, StoreLocation, Target};
use mozaggregator_server::{Error, Result};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header; `buckets` and `histogram` are JSON arrays.
    Csv,
}

/// Arguments of `mozaggregator export`.
#[derive(clap::Args)]
#[command(
    long_about = "Print every stored row: prefix, channel, version, date, metric, label, process, \
                  application, architecture, os, os_version, kind, buckets (lower bounds, or \
                  categorical labels when --histograms defines them), histogram (dense counts, \
                  one per bucket), sum, count. Rows come in the store's scan order (target, then \
                  series key), so two stores with the same content export the same bytes."
)]
pub struct Args {
    /// The store to read: a SQLite file or a PostgreSQL database URL.
    #[arg(long, value_name = "PATH|URL", env = "MOZAGGREGATOR_DB")]
    db: String,

    /// Only this family: build_id or submission_date.
    #[arg(long, value_name = "PREFIX")]
    prefix: Option<String>,

    /// Only this channel.
    #[arg(long, value_name = "CHANNEL")]
    channel: Option<String>,

    /// Only this major version.
    #[arg(long, value_name = "VERSION")]
    version: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    format: Format,

    /// A Histograms.json naming the labels of categorical histograms.
    #[arg(long, value_name = "FILE", env = "MOZAGGREGATOR_HISTOGRAMS")]
    histograms: Option<PathBuf>,

    /// Write here instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

fn io_err(path: &str) -> impl Fn(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_string(),
        source,
    }
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    let location = StoreLocation::parse(&args.db);
    if location.is_missing_file() {
        return Err(Error::Usage(format!("{location}: no such store")));
    }
    let prefix = args
        .prefix
        .as_deref()
        .map(str::parse::<Prefix>)
        .transpose()?;
    let definitions = Definitions::load(args.histograms.as_deref(), &[] as &[PathBuf])?;
    let store = location.open(&[])?;
    let out_name = args
        .out
        .as_ref()
        .map_or("<stdout>".to_string(), |p| p.display().to_string());
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::fs::File::create(path).map_err(io_err(&out_name))?),
        None => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, sink);
    if args.format == Format::Csv {
        if let Err(e) = writeln!(out, "{CSV_HEADER}") {
            return match e.kind() {
                io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
                _ => Err(io_err(&out_name)(e)),
            };
        }
    }
    let selection = Selection {
        prefix,
        channel: args.channel.clone(),
        version: args.version.clone(),
    };
    let mut exporter = Exporter::new(&definitions);
    let mut line = String::new();
    let mut write_error = None;
    let scanned = store
        .scan(
            &selection,
            &mut |target: &Target, key: &SeriesKey, h: &Histogram| {
                line.clear();
                let row = exporter.row(target, key, h);
                match args.format {
                    Format::Ndjson => row.write_ndjson(&mut line),
                    Format::Csv => row.write_csv(&mut line),
                }
                if let Err(e) = out.write_all(line.as_bytes()) {
                    write_error = Some(e);
                    return Err(mozaggregator_core::Error::invalid("output", "write failed"));
                }
                Ok(())
            },
        )
        .map_err(|e| match write_error.take() {
            Some(source) => Error::Io {
                path: out_name.clone(),
                source,
            },
            None => Error::Core(e),
        });
    let result = scanned.and_then(|()| out.flush().map_err(io_err(&out_name)));
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // The reader went away (`| head`): not an error.
        Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::BrokenPipe => {
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(e),
    }
}
