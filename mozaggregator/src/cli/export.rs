//! `mozaggregator export`: every stored row, as NDJSON or CSV in a deterministic order, or as a
//! hive-partitioned Parquet data set (`--format parquet --out DIR`).
//!
//! ```text
//! $ mozaggregator export --db aggregates.sqlite --prefix build_id --channel nightly
//! {"prefix":"build_id","channel":"nightly","version":"42","date":"20150601","metric":"GC_MS",…}
//! ```

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::export::{self, parquet, ExportOptions};
use mozaggregator_core::{DocType, Error as CoreError, Prefix, Selection, StoreLocation};
use mozaggregator_http::{Error, Result};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header; `buckets` and `histogram` are JSON arrays.
    Csv,
    /// A hive-partitioned Parquet data set (metric, aggregate_type, period) in the directory
    /// `--out`, with the columns of the original's `aggregates_poc/v1`.
    Parquet,
}

/// Arguments of `mozaggregator export`.
#[derive(clap::Args)]
#[command(
    long_about = "Print every stored row: prefix, channel, version, date, metric, label, process, \
                  application, architecture, os, os_version, kind, buckets (lower bounds, or \
                  categorical labels when --histograms defines them), histogram (dense counts, \
                  one per bucket), sum, count. Rows come in the store's scan order (target, then \
                  series key), so two stores with the same content export the same bytes. \
                  --with-absorbed adds `absorbed`, the submission dates each row's table \
                  absorbed, for `mozaggregator import`. --format parquet --out DIR writes \
                  instead a hive-partitioned Parquet data set, \
                  DIR/metric=M/aggregate_type=T/period=YYYYMM/part-N.parquet, with the columns \
                  submission_date, channel, version, build_id, application, architecture, os, \
                  os_version, key, process_type, count, sum, histogram (bucket -> count, empty \
                  buckets left out) and kind (docs/python.md, \"Parquet\"). --doc-type \
                  mobile_metrics exports the mobile rows instead (docs/ingest.md, \"Mobile \
                  pings\")."
)]
pub struct Args {
    /// The store to read: a SQLite file or a PostgreSQL database URL.
    #[arg(long, value_name = "PATH|URL", env = "MOZAGGREGATOR_DB")]
    db: String,

    /// Only this family: build_id or submission_date.
    #[arg(long, value_name = "PREFIX")]
    prefix: Option<String>,

    /// Which rows: `main` (desktop aggregates) or `mobile_metrics` (the rows of
    /// `aggregate --doc-type mobile_metrics`, with a `build_id` field after `date`).
    #[arg(long, value_name = "TYPE", default_value = "main")]
    doc_type: DocType,

    /// Only this channel.
    #[arg(long, value_name = "CHANNEL")]
    channel: Option<String>,

    /// Only this version (major for main pings; the full app version for mobile rows).
    #[arg(long, value_name = "VERSION")]
    version: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    format: Format,

    /// A Histograms.json naming the labels of categorical histograms.
    #[arg(long, value_name = "FILE", env = "MOZAGGREGATOR_HISTOGRAMS")]
    histograms: Option<PathBuf>,

    /// Write here instead of stdout (with `--format parquet`: the directory of the data set,
    /// new or empty, and required).
    #[arg(long, value_name = "FILE|DIR")]
    out: Option<PathBuf>,

    /// Add each row's table's absorbed submission dates, as a last field
    /// `"absorbed":["YYYYMMDD",…]` (NDJSON) or a last column `absorbed` (CSV): what `import`
    /// needs to restore the store exactly.
    #[arg(long)]
    with_absorbed: bool,
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
    if args.format == Format::Parquet && args.with_absorbed {
        return Err(Error::Usage(
            "--with-absorbed is for NDJSON and CSV exports, not --format parquet".to_string(),
        ));
    }
    let definitions = Definitions::load(args.histograms.as_deref(), &[] as &[PathBuf])?;
    let store = location.open(&[])?;
    let selection = Selection::of_doc_type(
        args.doc_type,
        prefix,
        args.channel.clone(),
        args.version.clone(),
    )?;
    let format = match (args.format, &args.out) {
        (Format::Ndjson, _) => export::Format::Ndjson,
        (Format::Csv, _) => export::Format::Csv,
        (Format::Parquet, Some(dir)) => {
            let limits = parquet::ParquetLimits::default();
            parquet::export_parquet(store.as_ref(), &selection, &definitions, dir, &limits)?;
            return Ok(ExitCode::SUCCESS);
        }
        (Format::Parquet, None) => {
            return Err(Error::Usage(
                "--format parquet writes a directory: give it with --out DIR".to_string(),
            ))
        }
    };
    let out_name = args
        .out
        .as_ref()
        .map_or("<stdout>".to_string(), |p| p.display().to_string());
    let sink: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::fs::File::create(path).map_err(io_err(&out_name))?),
        None => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::with_capacity(1 << 20, sink);
    let options = ExportOptions {
        format,
        with_absorbed: args.with_absorbed,
    };
    match export::export(store.as_ref(), &selection, &definitions, &options, &mut out) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // The reader went away (`| head`): not an error.
        Err(CoreError::Io { source, .. }) if source.kind() == io::ErrorKind::BrokenPipe => {
            Ok(ExitCode::SUCCESS)
        }
        // `export` names its output `<output>`; name it as the user gave it.
        Err(CoreError::Io { source, .. }) => Err(io_err(&out_name)(source)),
        Err(e) => Err(Error::Core(e)),
    }
}
