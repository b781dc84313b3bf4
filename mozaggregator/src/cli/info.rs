//! `mozaggregator info`: what a store holds, from its bookkeeping (seconds, not an export).
//!
//! ```text
//! $ mozaggregator info --db aggregates.sqlite
//! data version:     30
//! channels:         beta, nightly
//! …
//! $ mozaggregator info --db aggregates.sqlite --json
//! ```

use std::process::ExitCode;

use mozaggregator_core::info::StoreInfo;
use mozaggregator_core::StoreLocation;
use mozaggregator_http::{Error, Result};

/// Arguments of `mozaggregator info`.
#[derive(clap::Args)]
#[command(
    long_about = "Print what a store holds: its families (build_id, submission_date) with the \
                  dates of each (channel, version), its channels and versions, the submission \
                  dates it absorbed, its data version, its tables, rows (one per table, metric \
                  and label) and series (the rows export prints), replicate group rows and \
                  series when it has them, and its bytes on disk and bytes per series. Read \
                  from the store's own bookkeeping and entry headers, never histograms: seconds \
                  on a store of millions of series. --json prints one JSON object instead."
)]
pub struct Args {
    /// The store to read: a SQLite file or a PostgreSQL database URL.
    #[arg(long, value_name = "PATH|URL", env = "MOZAGGREGATOR_DB")]
    db: String,

    /// Print one JSON object (the fields of docs/store.md, "Inspecting a store").
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    let location = StoreLocation::parse(&args.db);
    if location.is_missing_file() {
        return Err(Error::Usage(format!("{location}: no such store")));
    }
    let store = location.open(&[])?;
    let info = StoreInfo::of(store.as_ref())?;
    if args.json {
        let text = serde_json::to_string_pretty(&info).map_err(|e| Error::Io {
            path: "<stdout>".into(),
            source: e.into(),
        })?;
        println!("{text}");
    } else {
        println!("store:            {location}");
        print!("{info}");
    }
    Ok(ExitCode::SUCCESS)
}
