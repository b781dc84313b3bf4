//! `mozaggregator import`: load the output of `export` (NDJSON or CSV), or the database of the
//! retired original service (`--from-original`), into a store.
//!
//! ```text
//! $ mozaggregator export --db old.sqlite --with-absorbed --out rows.ndjson
//! $ mozaggregator import --db new.sqlite rows.ndjson
//! read 1200 rows (1 input): imported 1200, skipped 0 (already absorbed), rejected 0
//!   tables written 12, tables skipped (already absorbed) 0
//! $ mozaggregator import --db new.sqlite --from-original postgres://reader@old-host/telemetry \
//!     --histograms Histograms.json --scalars Scalars.yaml
//! ```

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::import::{
    ImportOptions, ImportReport, Importer, OriginalImport, OriginalOptions,
};
use mozaggregator_core::input::{self, Input};
use mozaggregator_core::{export, Date, Store, StoreLocation};
use mozaggregator_http::{Error, Result};

/// The formats `import` reads: those `export` prints (a Parquet data set is not read back).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header; `buckets` and `histogram` are JSON arrays.
    Csv,
}

/// Arguments of `mozaggregator import`.
#[derive(clap::Args)]
#[command(
    long_about = "Load rows printed by `mozaggregator export` (NDJSON or CSV, told apart by the \
                  first line; optionally .gz or .zst compressed, or - for stdin) into a store. \
                  Exact with `export --with-absorbed`: each table absorbs the submission dates \
                  it had absorbed, so importing again is a no-op (tables skipped) and the new \
                  store exports the same bytes. Without absorbed dates, a submission_date table \
                  absorbed its own date and build_id rows need --submission-date. Every row \
                  read is imported, skipped (its table already absorbed its dates) or rejected \
                  by reason, in the report (stderr). With --from-original URL instead of \
                  files, reads the PostgreSQL database of the retired original service \
                  (python_mozaggregator): every build_id_* and submission_date_* table, with \
                  the submission dates table_update_dates lists; histograms other than use \
                  counters take their layout from --histograms/--scalars (without a \
                  definition they are rejected, unknown_metric). Exit status: 0 on success, 1 \
                  with --strict when a row was rejected, 2 when an input is unreadable, not an \
                  export, a database cannot be reached, or the store fails."
)]
pub struct Args {
    /// The store to write into: a SQLite file (created if absent) or a PostgreSQL database URL.
    #[arg(long, value_name = "PATH|URL", env = "MOZAGGREGATOR_DB")]
    db: String,

    /// Read the original service's PostgreSQL database at this URL instead of export files
    /// (its password is never printed).
    #[arg(long, value_name = "URL", conflicts_with_all = ["inputs", "format", "submission_date"])]
    from_original: Option<String>,

    /// With --from-original: a Histograms.json giving the layouts of histograms.
    #[arg(long, value_name = "FILE")]
    histograms: Option<PathBuf>,

    /// With --from-original: a Scalars.yaml file (repeatable).
    #[arg(long, value_name = "FILE")]
    scalars: Vec<PathBuf>,

    /// The inputs' format (default: told by each input's first line).
    #[arg(long, value_enum)]
    format: Option<Format>,

    /// The submission date whose data the build_id rows of an export without absorbed dates
    /// hold (YYYYMMDD).
    #[arg(long, value_name = "YYYYMMDD")]
    submission_date: Option<String>,

    /// Also write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,

    /// Exit with status 1 when any row was rejected.
    #[arg(long)]
    strict: bool,

    /// Export files, or - for stdin.
    #[arg(value_name = "FILE", required_unless_present = "from_original")]
    inputs: Vec<PathBuf>,
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    let report = match &args.from_original {
        Some(url) => from_original(&args, url)?,
        None if args.histograms.is_some() || !args.scalars.is_empty() => {
            return Err(Error::Usage(
                "--histograms and --scalars go with --from-original (an export carries its \
                 layouts)"
                    .into(),
            ));
        }
        None => from_exports(&args)?,
    };
    eprint!("{report}");
    if let Some(path) = &args.report_json {
        let io = |source| Error::Io {
            path: path.display().to_string(),
            source,
        };
        let json = serde_json::to_vec_pretty(&report).map_err(|e| io(e.into()))?;
        std::fs::write(path, json).map_err(io)?;
    }
    Ok(if args.strict && report.rows_rejected.total() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Imports the export files of `args`.
fn from_exports(args: &Args) -> Result<ImportReport> {
    let inputs = inputs(&args.inputs)?;
    let options = ImportOptions {
        format: args.format.map(|f| match f {
            Format::Ndjson => export::Format::Ndjson,
            Format::Csv => export::Format::Csv,
        }),
        submission_date: args
            .submission_date
            .as_deref()
            .map(|d| Date::parse_as("submission date", d))
            .transpose()?,
        ..ImportOptions::default()
    };
    let store = open(&args.db)?;
    let mut importer = Importer::new(store.as_ref(), options);
    for input in &inputs {
        let result = input::open(input).and_then(|reader| {
            let mut reader = BufReader::with_capacity(1 << 20, reader);
            importer.import(&input.name(), &mut reader)
        });
        if let Err(e) = result {
            // What was written stays written (importing again skips it): say what it was.
            eprint!("{}", importer.report());
            return Err(e.into());
        }
    }
    Ok(importer.finish())
}

/// Imports the original service's database at `url`.
fn from_original(args: &Args, url: &str) -> Result<ImportReport> {
    let definitions = Definitions::load(args.histograms.as_deref(), &args.scalars)?;
    let store = open(&args.db)?;
    let mut import = OriginalImport::new(store.as_ref(), OriginalOptions { definitions });
    if let Err(e) = import.run(url) {
        // What was written stays written (importing again skips it): say what it was.
        if import.report().inputs_read > 0 {
            eprint!("{}", import.report());
        }
        return Err(e.into());
    }
    Ok(import.finish())
}

/// The store to write into.
fn open(db: &str) -> Result<Arc<dyn Store>> {
    Ok(StoreLocation::parse(db).open(&[])?)
}

/// The inputs, checked before anything is written: `-` once at most, files that exist.
fn inputs(paths: &[PathBuf]) -> Result<Vec<Input>> {
    let mut out = Vec::with_capacity(paths.len());
    let mut stdin = false;
    for path in paths {
        if path == Path::new("-") {
            if stdin {
                return Err(Error::Usage("- (stdin) given twice".into()));
            }
            stdin = true;
            out.push(Input::stdin());
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        if meta.is_dir() {
            return Err(Error::Usage(format!(
                "{}: a directory; import reads export files",
                path.display()
            )));
        }
        out.push(Input::file(path));
    }
    Ok(out)
}
