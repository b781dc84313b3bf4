//! # mozaggregator-core
//!
//! The domain of mozaggregator, a re-creation of Mozilla's Telemetry aggregation service:
//! Firefox's bucket layouts ([`layout`]), histograms and their merge ([`histogram`]), completion
//! of sparse ping histograms ([`completion`]), probe definitions ([`definitions`]), the filter
//! algebra ([`filter`]), the dimensions that address aggregates ([`keys`]) and the storage
//! contract with its implementations ([`store`]). The aggregation job reads pings ([`ping`],
//! [`input`]), applies the rules of docs/ingest.md ([`aggregate`]), in parallel ([`ingest`]), and
//! accounts for everything it read ([`report`]). [`export`] flattens a store into rows;
//! [`import`] reads them back; [`info`] summarises a store from its bookkeeping. With the `generate` feature, `generate` makes
//! realistic synthetic pings; with `testing`, `testing` holds the store conformance suite.
//! [`stats`] computes means, percentiles and distances of served distributions.

pub mod access;
pub mod aggregate;
pub mod analysis;
pub mod completion;
pub mod date;
pub mod definitions;
pub mod doc_type;
pub mod error;
pub mod export;
pub mod filter;
#[cfg(feature = "generate")]
pub mod generate;
pub mod histogram;
pub mod import;
pub mod info;
pub mod ingest;
pub mod input;
mod json;
pub mod keys;
pub mod layout;
pub mod metric_name;
pub mod mobile;
pub mod params;
pub mod ping;
pub mod query;
pub mod reject;
pub mod replicate;
pub mod report;
pub mod stats;
pub mod store;
pub mod tally;

pub use aggregate::{Aggregates, Aggregator, Options, WritePart, CHANNELS};
pub use completion::{complete, Completion};
pub use date::Date;
pub use definitions::{Definition, Definitions};
pub use doc_type::DocType;
pub use error::{Error, Result, StoreError, StoreErrorKind};
pub use filter::{Dimension, Filter, NormalForm, RowDims};
pub use histogram::Histogram;
pub use keys::{DateVersion, Dims, Prefix, Process, SeriesKey, Target};
pub use layout::{exponential_buckets, linear_buckets, BucketLayout, Kind, LayoutSpec};
pub use reject::{HistogramReject, ImportReject, InputDamage, PingReject, Reason, ScalarReject};
pub use replicate::ReplicateCount;
pub use report::Report;
#[cfg(feature = "postgres")]
pub use store::PostgresStore;
#[cfg(feature = "sqlite")]
pub use store::SqliteStore;
pub use store::{
    check_row, check_target, Batch, FilterOptions, MemoryStore, QueryRow, RowReject, Selection,
    SeriesQuery, Store, StoreLocation, StoreStats, WriteReport,
};

#[cfg(feature = "testing")]
pub mod testing;
