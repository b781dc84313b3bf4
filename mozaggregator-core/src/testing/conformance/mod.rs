//! The `Store` conformance suite: the executable form of the [`Store`] contract.
//!
//! Every check takes a *factory* that returns a fresh, empty store, runs one part of the
//! contract against it and returns a [`Failure`] describing the first deviation. Run all of them
//! with [`run_all`]:
//!
//! ```
//! use mozaggregator_core::{MemoryStore, Store};
//! use mozaggregator_core::testing::conformance;
//! let factory = || Box::new(MemoryStore::new()) as Box<dyn Store>;
//! conformance::run_all(&factory).unwrap();
//! ```
//!
//! A new store implementation adds one test calling [`run_all`] with its own factory (see
//! `docs/store.md`). [`CHECKS`] lists the checks by name, to run them one by one.

use std::fmt;

use crate::store::Store;

pub mod fixtures;
mod guarded;
mod lifecycle;
mod mobile;
mod mobile_reads;
mod reads;
mod replicates;
mod writes;

pub use guarded::Guarded;
pub use lifecycle::{data_version, trim};
pub use mobile::{
    mobile_absorbed_without_rows, mobile_batch_checked, mobile_empty_rows_not_stored,
    mobile_idempotent_per_submission_date, mobile_layouts_kept_apart, mobile_merge_on_write,
    mobile_refused_by_write, mobile_rejected_rows,
};
pub use mobile_reads::{
    mobile_data_version, mobile_scan_order_and_selection, mobile_stats_match_scan,
    mobile_tables_listed, mobile_trim,
};
pub use reads::{
    channels_sorted_per_prefix, dates_newest_first, empty_results, filter_options, filters,
    grouping_and_order, scan_order_and_selection, stats_match_reads, versions_order_as_numbers,
};
pub use replicates::{replicate_coverage, replicate_groups, replicates_kept};
pub use writes::{
    absorbed_without_rows, atomic_multi_target, empty_rows_not_stored,
    idempotent_per_submission_date, layouts_kept_apart, merge_on_write, rejected_rows,
};

/// A function returning a fresh, empty store.
pub type Factory<'a> = &'a dyn Fn() -> Box<dyn Store>;

/// One conformance check.
pub type Check = fn(Factory<'_>) -> Result<(), Failure>;

/// Every check, by name, in the order [`run_all`] runs them.
pub const CHECKS: &[(&str, Check)] = &[
    ("merge_on_write", merge_on_write),
    ("layouts_kept_apart", layouts_kept_apart),
    (
        "idempotent_per_submission_date",
        idempotent_per_submission_date,
    ),
    ("absorbed_without_rows", absorbed_without_rows),
    ("atomic_multi_target", atomic_multi_target),
    ("rejected_rows", rejected_rows),
    ("empty_rows_not_stored", empty_rows_not_stored),
    ("filters", filters),
    ("grouping_and_order", grouping_and_order),
    ("empty_results", empty_results),
    ("channels_sorted_per_prefix", channels_sorted_per_prefix),
    ("dates_newest_first", dates_newest_first),
    ("versions_order_as_numbers", versions_order_as_numbers),
    ("filter_options", filter_options),
    ("scan_order_and_selection", scan_order_and_selection),
    ("stats_match_reads", stats_match_reads),
    ("trim", trim),
    ("data_version", data_version),
    ("replicate_groups", replicate_groups),
    ("replicate_coverage", replicate_coverage),
    ("mobile_merge_on_write", mobile_merge_on_write),
    ("mobile_layouts_kept_apart", mobile_layouts_kept_apart),
    (
        "mobile_idempotent_per_submission_date",
        mobile_idempotent_per_submission_date,
    ),
    ("mobile_absorbed_without_rows", mobile_absorbed_without_rows),
    ("mobile_rejected_rows", mobile_rejected_rows),
    ("mobile_empty_rows_not_stored", mobile_empty_rows_not_stored),
    ("mobile_batch_checked", mobile_batch_checked),
    ("mobile_refused_by_write", mobile_refused_by_write),
    ("mobile_tables_listed", mobile_tables_listed),
    ("mobile_trim", mobile_trim),
    ("mobile_data_version", mobile_data_version),
    (
        "mobile_scan_order_and_selection",
        mobile_scan_order_and_selection,
    ),
    ("mobile_stats_match_scan", mobile_stats_match_scan),
];

/// How a store deviates from the contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The check (or step) that failed.
    pub check: &'static str,
    /// What was expected and what the store did.
    pub message: String,
}

impl Failure {
    /// A failure of `check`.
    pub fn new(check: &'static str, message: impl Into<String>) -> Self {
        Self {
            check,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check, self.message)
    }
}

impl std::error::Error for Failure {}

/// Every failure of a [`run_all`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failures(pub Vec<Failure>);

impl fmt::Display for Failures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} conformance check(s) failed:", self.0.len())?;
        for failure in &self.0 {
            writeln!(f, "- {failure}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failures {}

/// Runs every check of [`CHECKS`], each on a fresh store from `factory`.
///
/// # Errors
/// Every failure, when any check fails.
pub fn run_all(factory: Factory<'_>) -> Result<(), Failures> {
    let failures: Vec<Failure> = CHECKS
        .iter()
        .filter_map(|(_, check)| check(factory).err())
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failures(failures))
    }
}

/// Turns a store error into a failure of `check`.
pub(crate) fn ok<T>(check: &'static str, what: &str, r: crate::Result<T>) -> Result<T, Failure> {
    r.map_err(|e| Failure::new(check, format!("{what}: unexpected error: {e}")))
}

/// Fails `check` with a message showing both values when they differ.
pub(crate) fn same<T: PartialEq + fmt::Debug>(
    check: &'static str,
    what: &str,
    got: &T,
    want: &T,
) -> Result<(), Failure> {
    if got == want {
        Ok(())
    } else {
        Err(Failure::new(
            check,
            format!("{what}:\n  got:  {got:?}\n  want: {want:?}"),
        ))
    }
}

/// Fails `check` unless `cond`.
pub(crate) fn ensure(
    check: &'static str,
    cond: bool,
    what: impl Into<String>,
) -> Result<(), Failure> {
    if cond {
        Ok(())
    } else {
        Err(Failure::new(check, what))
    }
}
