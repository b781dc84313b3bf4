//! `mozaggregator import`: load the output of `export` (NDJSON or CSV) into a store.
//!
//! ```text
//! $ mozaggregator export --db old.sqlite --with-absorbed --out rows.ndjson
//! $ mozaggregator import --db new.sqlite rows.ndjson
//! read 1200 rows (1 input): imported 1200, skipped 0 (already absorbed), rejected 0
//!   tables written 12, tables skipped (already absorbed) 0
//! ```

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mozaggregator_core::import::{ImportOptions, Importer};
use mozaggregator_core::input::{self, Input};
use mozaggregator_core::{export, StoreLocation};
use mozaggregator_server::{Error, Result};

use super::export::Format;

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
                  by reason, in the report (stderr). Exit status: 0 on success, 1 with --strict \
                  when a row was rejected, 2 when an input is unreadable, not an export, or the \
                  store fails."
)]
pub struct Args {
    /// The store to write into: a SQLite file (created if absent) or a PostgreSQL database URL.
    #[arg(long, value_name = "PATH|URL", env = "MOZAGGREGATOR_DB")]
    db: String,

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
    #[arg(value_name = "FILE", required = true)]
    inputs: Vec<PathBuf>,
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    let inputs = inputs(&args.inputs)?;
    let options = ImportOptions {
        format: args.format.map(|f| match f {
            Format::Ndjson => export::Format::Ndjson,
            Format::Csv => export::Format::Csv,
        }),
        submission_date: args.submission_date.clone(),
        ..ImportOptions::default()
    };
    let store = StoreLocation::parse(&args.db).open(&[])?;
    let mut importer = Importer::new(store.as_ref(), options)?;
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
    let report = importer.finish();
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
