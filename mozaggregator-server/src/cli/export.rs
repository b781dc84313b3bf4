//! `mozaggregator export`: every stored row, as NDJSON or CSV, in a deterministic order.
//!
//! ```text
//! $ mozaggregator export --db aggregates.sqlite --prefix build_id --channel nightly
//! {"prefix":"build_id","channel":"nightly","version":"42","date":"20150601","metric":"GC_MS",…}
//! ```

use std::collections::HashMap;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::{
    BucketLayout, Histogram, Kind, LayoutSpec, Prefix, Selection, SeriesKey, SqliteStore, Store,
    Target,
};
use mozaggregator_server::{Error, Result};
use serde::Serialize;

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
    /// The SQLite store to read.
    #[arg(long, value_name = "PATH", env = "MOZAGGREGATOR_DB")]
    db: PathBuf,

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

#[derive(Serialize)]
struct Row<'a> {
    prefix: &'a str,
    channel: &'a str,
    version: &'a str,
    date: &'a str,
    metric: &'a str,
    label: &'a str,
    process: &'a str,
    application: &'a str,
    architecture: &'a str,
    os: &'a str,
    os_version: &'a str,
    kind: &'a str,
    buckets: Buckets<'a>,
    histogram: &'a [u64],
    sum: u64,
    count: u64,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Buckets<'a> {
    Bounds(&'a [u64]),
    Labels(Vec<String>),
}

const CSV_HEADER: &str = "prefix,channel,version,date,metric,label,process,application,\
architecture,os,os_version,kind,buckets,histogram,sum,count";

fn csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

fn io_err(path: &str) -> impl Fn(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_string(),
        source,
    }
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    if !args.db.exists() {
        return Err(Error::Usage(format!(
            "{}: no such store",
            args.db.display()
        )));
    }
    let prefix = args
        .prefix
        .as_deref()
        .map(str::parse::<Prefix>)
        .transpose()?;
    let definitions = Definitions::load(args.histograms.as_deref(), &[] as &[PathBuf])?;
    let store = SqliteStore::open(&args.db)?;
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
    let mut bounds: HashMap<LayoutSpec, BucketLayout> = HashMap::new();
    let mut line = String::new();
    let mut write_error = None;
    let scanned = store
        .scan(
            &selection,
            &mut |target: &Target, key: &SeriesKey, h: &Histogram| {
                let layout = bounds
                    .entry(h.layout())
                    .or_insert_with(|| BucketLayout::new(h.layout()));
                let labels = (h.layout().kind() == Kind::Categorical)
                    .then(|| definitions.lookup(&key.metric))
                    .flatten()
                    .map(|d| d.layout.labels())
                    .filter(|l| !l.is_empty() && l.len() < layout.bounds().len());
                let buckets = match labels {
                    Some(labels) => Buckets::Labels(
                        (0..layout.bounds().len())
                            .map(|i| match i.cmp(&labels.len()) {
                                std::cmp::Ordering::Less => labels[i].clone(),
                                std::cmp::Ordering::Equal => "spill".to_string(),
                                std::cmp::Ordering::Greater => i.to_string(),
                            })
                            .collect(),
                    ),
                    None => Buckets::Bounds(layout.bounds()),
                };
                let row = Row {
                    prefix: target.prefix.as_str(),
                    channel: &target.channel,
                    version: &target.version,
                    date: &target.date,
                    metric: &key.metric,
                    label: &key.label,
                    process: key.process.as_str(),
                    application: &key.dims.application,
                    architecture: &key.dims.architecture,
                    os: &key.dims.os,
                    os_version: &key.dims.os_version,
                    kind: h.layout().kind().name(),
                    buckets,
                    histogram: h.counts(),
                    sum: h.sum(),
                    count: h.count(),
                };
                line.clear();
                match args.format {
                    Format::Ndjson => {
                        line.push_str(&serde_json::to_string(&row).unwrap_or_default());
                    }
                    Format::Csv => {
                        for field in [
                            row.prefix,
                            row.channel,
                            row.version,
                            row.date,
                            row.metric,
                            row.label,
                            row.process,
                            row.application,
                            row.architecture,
                            row.os,
                            row.os_version,
                            row.kind,
                        ] {
                            csv_field(&mut line, field);
                            line.push(',');
                        }
                        csv_field(
                            &mut line,
                            &serde_json::to_string(&row.buckets).unwrap_or_default(),
                        );
                        line.push(',');
                        csv_field(
                            &mut line,
                            &serde_json::to_string(row.histogram).unwrap_or_default(),
                        );
                        line.push_str(&format!(",{},{}", row.sum, row.count));
                    }
                }
                line.push('\n');
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
