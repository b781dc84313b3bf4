//! `mozaggregator trim`: drop tables older than a retention period.
//!
//! ```text
//! $ mozaggregator trim --db aggregates.sqlite --base-date 20240115 --retention-days 730 --dry-run
//! would drop build_id nightly 40 20211231
//! ```

use std::process::ExitCode;

use mozaggregator_core::{Date, StoreLocation};
use mozaggregator_http::{Error, Result};

/// Arguments of `mozaggregator trim`.
#[derive(clap::Args)]
#[command(
    long_about = "Drop every table (build-id or submission-date aggregate) whose date is older \
                  than BASE_DATE minus RETENTION_DAYS. Prints one line per table: \
                  `<prefix> <channel> <version> <date>`, prefixed by `dropped` or, with \
                  --dry-run, `would drop`."
)]
pub struct Args {
    /// The store: a SQLite file or a PostgreSQL database URL.
    #[arg(long, value_name = "PATH|URL", env = "MOZAGGREGATOR_DB")]
    db: String,

    /// Keep tables dated at most this many days before the base date.
    #[arg(long, value_name = "DAYS", default_value_t = 730)]
    retention_days: u32,

    /// The date retention counts from (default: today, UTC).
    #[arg(long, value_name = "YYYYMMDD")]
    base_date: Option<String>,

    /// List what would be dropped, drop nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    let base = match &args.base_date {
        Some(text) => Date::parse_as("base date", text)?,
        None => Date::today_utc(),
    };
    let cutoff = base.days_before(args.retention_days)?;
    let location = StoreLocation::parse(&args.db);
    if location.is_missing_file() {
        return Err(Error::Usage(format!("{location}: no such store")));
    }
    let store = location.open(&[])?;
    let targets = store.trim(cutoff, args.dry_run)?;
    let verb = if args.dry_run {
        "would drop"
    } else {
        "dropped"
    };
    for t in &targets {
        println!("{verb} {} {} {} {}", t.prefix, t.channel, t.version, t.date);
    }
    eprintln!(
        "{verb} {} dated before {cutoff}",
        mozaggregator_core::report::count(targets.len() as u64, "table", "tables")
    );
    Ok(ExitCode::SUCCESS)
}
