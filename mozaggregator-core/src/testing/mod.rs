//! Test support shared by every crate of the project (feature `testing`): the store
//! conformance suite and a generator of the original service's test data set.

pub mod conformance;
pub mod dataset;
