//! The `mozaggregator` command-line tool: aggregate pings, serve the API, inspect, export,
//! import, trim.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

/// Firefox Telemetry aggregation: ingest main pings, store histogram aggregates, serve them.
#[derive(Parser)]
#[command(name = "mozaggregator", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Aggregate pings into a store: build-id and submission-date aggregates.
    Aggregate(Box<cli::aggregate::Args>),
    /// Print the bucket layout of every metric of definition files, one JSON object per line.
    Definitions(cli::definitions::Args),
    /// Serve the HTTP API (wire-compatible with Mozilla's aggregates service) over a store.
    Serve(Box<cli::serve::Args>),
    /// Generate realistic pings, aggregate them into a new store and serve the API: the whole
    /// service on a fresh machine, in one command.
    Demo(Box<cli::demo::Args>),
    /// Print every stored row as NDJSON or CSV.
    Export(cli::export::Args),
    /// Load rows printed by `export` (NDJSON or CSV) into a store.
    Import(cli::import::Args),
    /// Print what a store holds: families, channels, versions, dates, rows, size.
    Info(cli::info::Args),
    /// Write realistic synthetic main pings as NDJSON.
    Generate(cli::generate::Args),
    /// Drop tables older than a retention period.
    Trim(cli::trim::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Definitions(args) => cli::definitions::run(args),
        Command::Serve(args) => cli::serve::run(*args),
        Command::Demo(args) => cli::demo::run(*args),
        Command::Aggregate(args) => cli::aggregate::run(*args),
        Command::Export(args) => cli::export::run(args),
        Command::Generate(args) => cli::generate::run(args),
        Command::Import(args) => cli::import::run(args),
        Command::Info(args) => cli::info::run(args),
        Command::Trim(args) => cli::trim::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("mozaggregator: {err}");
            ExitCode::from(2)
        }
    }
}
