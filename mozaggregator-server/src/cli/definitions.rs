//! `mozaggregator definitions`: print layouts of definition files. (Being written.)

use std::process::ExitCode;

use mozaggregator_server::Result;

/// Arguments of `mozaggregator definitions`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
