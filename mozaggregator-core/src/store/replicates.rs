//! Per-group aggregates beside the normal ones: what a [`Batch`](super::Batch) carries and a
//! [`Store::replicates`](super::Store::replicates) query returns (see [`crate::replicate`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Batch, QueryRow};
use crate::date::Date;
use crate::error::{Error, Result};
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

/// The R that a target's replicate groups were written with, from the R of each submission
/// date it absorbed (`None`: absorbed without replicates). Shared by every store, so that they
/// refuse alike.
///
/// # Errors
/// [`Error::NoReplicates`] when a date was absorbed without replicates, or two with different
/// counts.
pub(crate) fn target_count(
    target: &Target,
    absorbed: impl IntoIterator<Item = (Date, Option<ReplicateCount>)>,
) -> Result<ReplicateCount> {
    let mut counts: BTreeMap<ReplicateCount, Date> = BTreeMap::new();
    let mut without: Vec<Date> = Vec::new();
    for (date, count) in absorbed {
        match count {
            Some(r) => {
                counts.entry(r).or_insert(date);
            }
            None => without.push(date),
        }
    }
    let table = format!(
        "the {} table of {} {} dated {}",
        target.prefix, target.channel, target.version, target.date
    );
    if counts.is_empty() {
        return Err(Error::NoReplicates(format!(
            "{table} was aggregated without replicate groups; aggregate with --replicates R to \
             get intervals"
        )));
    }
    if let Some(first) = without.first() {
        return Err(Error::NoReplicates(format!(
            "{table} absorbed {} submission date(s) without replicate groups (the first: \
             {first}); its groups do not cover its data",
            without.len()
        )));
    }
    let mut keys = counts.keys();
    match (keys.next(), keys.next()) {
        (Some(&r), None) => Ok(r),
        _ => Err(Error::NoReplicates(format!(
            "{table} mixes replicate counts ({}); its groups cannot be paired",
            counts
                .iter()
                .map(|(r, d)| format!("{r} from {d}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The one R of the dates a query reads, given each date's ([`target_count`]).
///
/// # Errors
/// [`Error::NoReplicates`] when two dates have different counts.
pub(crate) fn query_count(
    per_date: impl IntoIterator<Item = (Date, ReplicateCount)>,
) -> Result<Option<ReplicateCount>> {
    let mut found: Option<(Date, ReplicateCount)> = None;
    for (date, r) in per_date {
        match found {
            None => found = Some((date, r)),
            Some((first, fr)) if fr != r => {
                return Err(Error::NoReplicates(format!(
                    "dates {first} and {date} were aggregated with different replicate counts \
                     ({fr} and {r}); ask for dates of one count"
                )))
            }
            Some(_) => {}
        }
    }
    Ok(found.map(|(_, r)| r))
}

/// Checks the shape of a batch's replicate tables: R groups, each naming only targets of the
/// batch's `tables`.
///
/// # Errors
/// [`Error::Invalid`] (`replicates`) naming what is wrong.
pub(crate) fn check_batch(batch: &Batch) -> Result<()> {
    if let Some(target) = batch.tables.keys().find(|t| !t.prefix.is_desktop()) {
        return Err(Error::invalid(
            "batch",
            format!(
                "the {} table of {} {} dated {} is a mobile table: write it with write_mobile",
                target.prefix, target.channel, target.version, target.date
            ),
        ));
    }
    let Some(reps) = &batch.replicates else {
        return Ok(());
    };
    if reps.groups.len() != reps.count.get() {
        return Err(Error::invalid(
            "replicates",
            format!(
                "{} groups for a replicate count of {}",
                reps.groups.len(),
                reps.count
            ),
        ));
    }
    for (g, group) in reps.groups.iter().enumerate() {
        if let Some(target) = group.keys().find(|t| !batch.tables.contains_key(*t)) {
            return Err(Error::invalid(
                "replicates",
                format!(
                    "group {g} has rows for the {} table of {} {} dated {}, which the batch's \
                     tables do not name",
                    target.prefix, target.channel, target.version, target.date
                ),
            ));
        }
    }
    Ok(())
}
