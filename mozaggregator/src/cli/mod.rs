//! One module per subcommand: each has `Args` (clap) and `run(Args) -> Result<ExitCode>`.

pub mod aggregate;
pub mod definitions;
pub mod demo;
pub mod export;
pub mod generate;
pub mod import;
pub mod info;
pub mod serve;
pub mod trim;
