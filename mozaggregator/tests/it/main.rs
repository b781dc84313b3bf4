//! The server crate's integration tests, in one binary (one link instead of one per file):
//! each module is one area, `common` holds the shared fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
/// The core crate's test fixtures (reference layouts), shared with `cli_definitions`.
#[path = "../../../mozaggregator-core/tests/it/common/mod.rs"]
mod core_common;

mod analysis;
mod analysis_ci;
mod api;
mod auth;
mod cli_definitions;
mod cli_export_parquet;
mod cli_generate;
mod cli_import;
mod cli_import_original;
mod cli_info;
mod cli_ingest;
mod cli_mobile;
mod cli_replicates;
mod concurrency;
mod dashboard;
mod demo;
mod openapi;
mod original_service;
mod postgres;
mod serve_cli;
mod serve_tcp;
mod telemetry_js;
