//! The core crate's integration tests, in one binary (one link instead of one per file): each
//! module is one area, `common` holds the shared fixtures (the server's tests include it too).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod analysis;
mod analysis_ci;
mod ci_simulation;
mod completion;
mod definitions;
mod filters;
mod fuzz;
#[cfg(feature = "sqlite")]
mod import;
#[cfg(all(feature = "sqlite", feature = "postgres"))]
mod import_original;
mod ingest_bad_pings;
mod ingest_dataset;
mod ingest_input;
mod ingest_real_pings;
mod ingest_replicates;
mod ingest_replicates_merge;
mod ingest_store;
mod json;
mod layouts;
#[cfg(feature = "generate")]
mod mobile;
#[cfg(feature = "parquet")]
mod parquet_export;
mod properties;
mod query;
mod stats;
mod stats_tmo;
#[cfg(feature = "sqlite")]
mod store_conformance;
mod store_conformance_mutants;
#[cfg(feature = "sqlite")]
mod store_kill;
#[cfg(feature = "sqlite")]
mod store_mobile;
mod store_mobile_mutants;
#[cfg(feature = "sqlite")]
mod store_sqlite;
