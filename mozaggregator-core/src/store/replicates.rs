//! Per-group aggregates beside the normal ones: what a [`Batch`](super::Batch) carries and a
//! [`Store::replicates`](super::Store::replicates) query returns (see [`crate::replicate`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::QueryRow;
use crate::histogram::Histogram;
use crate::keys::{SeriesKey, Target};
use crate::replicate::ReplicateCount;

/// The rows of each replicate group of a batch, by target.
///
/// `groups[g]` holds group g's rows, shaped like [`Batch::tables`](super::Batch::tables): a
/// key at most once per target and layout. Every target named here is also a target of the
/// batch's `tables` (a group's pings are among the batch's pings). A group without rows is an
/// empty map.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicateTables {
    /// R, the number of groups (`groups.len()`).
    pub count: ReplicateCount,
    /// Rows per group, then per target.
    pub groups: Vec<BTreeMap<Target, Vec<(SeriesKey, Histogram)>>>,
}

impl ReplicateTables {
    /// R groups without rows.
    pub fn new(count: ReplicateCount) -> Self {
        Self {
            count,
            groups: vec![BTreeMap::new(); count.get()],
        }
    }

    /// Number of rows over all groups.
    pub fn rows(&self) -> usize {
        self.groups
            .iter()
            .flat_map(BTreeMap::values)
            .map(Vec::len)
            .sum()
    }
}

/// The answer of [`Store::replicates`](super::Store::replicates): the same query as
/// [`Store::query`](super::Store::query), answered once per replicate group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicateRows {
    /// R, the number of groups.
    pub count: ReplicateCount,
    /// `groups[g]`: group g's rows, in the order [`Store::query`](super::Store::query) gives.
    pub groups: Vec<Vec<QueryRow>>,
}
