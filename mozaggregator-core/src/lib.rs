//! # mozaggregator-core
//!
//! The domain of mozaggregator, a re-creation of Mozilla's Telemetry aggregation service:
//! Firefox's bucket layouts ([`layout`]), histograms and their merge ([`histogram`]), completion
//! of sparse ping histograms ([`completion`]), probe definitions ([`definitions`]), the filter
//! algebra ([`filter`]), the dimensions that address aggregates ([`keys`]) and the storage
//! contract with its implementations ([`store`]).

pub mod completion;
pub mod definitions;
pub mod error;
pub mod filter;
pub mod histogram;
pub mod keys;
pub mod layout;
pub mod store;

pub use completion::{complete, Completion};
pub use definitions::{Definition, Definitions};
pub use error::{Error, Result};
pub use filter::{Dimension, Filter, NormalForm, ParsedFilter, RowDims};
pub use histogram::Histogram;
pub use keys::{check_date, DateVersion, Dims, Prefix, Process, SeriesKey, Target};
pub use layout::{exponential_buckets, linear_buckets, BucketLayout, Kind, LayoutSpec};
pub use store::{
    check_row, Batch, FilterOptions, MemoryStore, QueryRow, RowReject, Selection, SeriesQuery,
    Store, WriteReport,
};

#[cfg(feature = "testing")]
pub mod testing;
