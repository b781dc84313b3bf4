//! Test support shared by every crate of the project (feature `testing`): the store
//! conformance suite, a generator of the original service's test data set and synthetic
//! aggregates for benchmarks.

pub mod conformance;
pub mod dataset;
pub mod synthetic;
