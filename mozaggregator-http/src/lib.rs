//! # mozaggregator-http
//!
//! The HTTP API of mozaggregator (poem), as a library: the `mozaggregator` command-line tool
//! serves it (`mozaggregator serve`), and another server can mount [`App`] itself. Thin by
//! design: it parses requests into `mozaggregator-core` types, calls the core, and serializes
//! the answer.
//!
//! - [`app`]: the API endpoint (routes, caching, limits, headers);
//! - [`auth`]: bearer tokens (RS256 JWTs against a JWKS, static tokens);
//! - [`cache`]: the bounded response cache;
//! - [`config`]: the settings;
//! - [`dashboard`]: the web dashboard served at `/` (embedded built files);
//! - [`headers`]: headers every response carries, ETag matching;
//! - [`listener`]: the bound TCP listener, guarding connections against over-long URLs;
//! - [`api_error`]: error answers and their statuses;
//! - [`openapi`]: the `/openapi.json` document.

pub mod api_error;
pub mod app;
pub mod auth;
pub mod cache;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod headers;
mod jwks_fetch;
pub mod listener;
pub mod openapi;
mod reads;
pub mod request_id;

pub use app::App;
pub use config::{Limits, ServerConfig};
pub use error::{Error, Result};
