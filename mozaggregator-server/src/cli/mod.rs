//! One module per subcommand: each has `Args` (clap) and `run(Args) -> Result<ExitCode>`.

pub mod definitions;
pub mod demo;
pub mod serve;
