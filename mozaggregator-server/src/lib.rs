//! # mozaggregator-server
//!
//! The HTTP API of mozaggregator (poem) and the pieces of the `mozaggregator` command-line tool.
//! Thin by design: it parses requests and arguments into `mozaggregator-core` types, calls the
//! core, and serializes the answer.

pub mod error;

pub use error::{Error, Result};
