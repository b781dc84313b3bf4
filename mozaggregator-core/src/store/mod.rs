//! Where aggregates live: the [`Store`] contract and its implementations.
//!
//! A store holds aggregate *tables*, each addressed by a [`Target`] (prefix, channel, version,
//! date), each holding metric *series* keyed by [`SeriesKey`] with a [`Histogram`]. Ingest writes
//! [`Batch`]es; the HTTP API reads channels, dates, filter options and metric queries.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::error::Result;
use crate::filter::Filter;
use crate::histogram::Histogram;
use crate::keys::{DateVersion, Prefix, Process, SeriesKey, Target};
use crate::mobile::{MobileBatch, MobileHistogram, MobileKey};
use crate::tally::Tally;

mod location;
mod memory;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod packed;
#[cfg(feature = "postgres")]
mod postgres;
mod replicates;
mod rules;
#[cfg(feature = "sqlite")]
mod sqlite;
mod stats;

pub use crate::reject::RowReject;
pub use location::{is_postgres_url, redact_url, StoreLocation};
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresStore, PG_SCHEMA_VERSION};
pub use replicates::{ReplicateRows, ReplicateTables};
pub(crate) use rules::metric_name_ok;
pub use rules::{check_row, check_target};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteStore, SCHEMA_VERSION};
pub use stats::StoreStats;

/// Aggregates that came from the pings of one submission date, ready to be written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// The submission date every row of this batch came from.
    pub submission_date: Date,
    /// Rows per target table. A key appears at most once per target and layout. A target with
    /// no rows still absorbs the submission date (see the contract of [`Store`]).
    pub tables: BTreeMap<Target, Vec<(SeriesKey, Histogram)>>,
    /// Rows left out by the code that built the batch, by reason: `merge_overflow` for a
    /// submission-date series whose build ids cannot be summed within 2^64. A store does not
    /// read it; the job adds it to its report ([`crate::Report::add_refused`]).
    #[serde(default, skip_serializing_if = "Tally::is_empty")]
    pub rows_refused: Tally<RowReject>,
    /// The rows of each replicate group (`aggregate --replicates R`), when the job made them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicates: Option<ReplicateTables>,
}

impl Batch {
    /// A batch of `submission_date` without tables.
    pub fn new(submission_date: Date) -> Batch {
        Batch {
            submission_date,
            tables: BTreeMap::new(),
            rows_refused: Tally::default(),
            replicates: None,
        }
    }

    /// Number of series rows in the batch.
    pub fn rows(&self) -> usize {
        self.tables.values().map(Vec::len).sum()
    }
}

/// What a [`Store::write`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteReport {
    /// Targets that absorbed this submission date now.
    pub targets_written: u64,
    /// Targets that had already absorbed this submission date: left unchanged.
    pub targets_skipped: Vec<Target>,
    /// Series rows merged into the store.
    pub rows_written: u64,
    /// Rows not written, by reason (see [`check_row`]).
    pub rows_rejected: Tally<RowReject>,
    /// Replicate group rows merged into the store (not counted in `rows_written`).
    #[serde(default)]
    pub replicate_rows_written: u64,
    /// Replicate group rows not written, by reason (not counted in `rows_rejected`).
    #[serde(default, skip_serializing_if = "Tally::is_empty")]
    pub replicate_rows_rejected: Tally<RowReject>,
}

impl WriteReport {
    /// Adds another write's report, and the rows (and replicate group rows) its batch's
    /// builder refused before the write, to this sum.
    pub(crate) fn add(
        &mut self,
        written: &WriteReport,
        refused: &Tally<RowReject>,
        replicate_refused: &Tally<RowReject>,
    ) {
        self.targets_written += written.targets_written;
        self.targets_skipped
            .extend(written.targets_skipped.iter().cloned());
        self.rows_written += written.rows_written;
        self.rows_rejected.merge(&written.rows_rejected);
        self.rows_rejected.merge(refused);
        self.replicate_rows_written += written.replicate_rows_written;
        self.replicate_rows_rejected
            .merge(&written.replicate_rows_rejected);
        self.replicate_rows_rejected.merge(replicate_refused);
    }
}

/// The filter options of one (channel, version), as `/filters/` serves them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterOptions {
    /// Stored metric names (including `[[COUNT]]_…` series, as stored).
    pub metric: BTreeSet<String>,
    /// Applications.
    pub application: BTreeSet<String>,
    /// Architectures.
    pub architecture: BTreeSet<String>,
    /// (os, os version) pairs.
    pub os: BTreeSet<(String, String)>,
    /// Processes.
    pub child: BTreeSet<Process>,
}

/// A metric query: one metric over some dates of one (prefix, channel, version).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesQuery {
    /// Aggregate family.
    pub prefix: Prefix,
    /// Channel.
    pub channel: String,
    /// Major version.
    pub version: String,
    /// Dates to read; unknown dates contribute nothing.
    pub dates: Vec<Date>,
    /// Stored metric name (`[[COUNT]]_…` for count histograms).
    pub metric: String,
    /// Which series to include. [`Filter::All`] matches every series.
    pub filter: Filter,
}

/// One group of a metric query's answer: every matching series of one date and label (and one
/// layout) merged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryRow {
    /// The date of the table the rows came from.
    pub date: Date,
    /// The label (`""` for unkeyed metrics).
    pub label: String,
    /// The merged histogram (its layout included).
    pub histogram: Histogram,
}

/// Which tables a [`Store::scan`] visits; `None` matches all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only this family.
    pub prefix: Option<Prefix>,
    /// Only this channel.
    pub channel: Option<String>,
    /// Only this version.
    pub version: Option<String>,
}

impl Selection {
    /// The selection of an export of `doc_type`'s rows: for main pings, the desktop `prefix`
    /// given (`None`: both); for mobile-metrics pings, the mobile tables.
    ///
    /// ```
    /// use mozaggregator_core::{DocType, Prefix, Selection};
    /// let s = Selection::of_doc_type(DocType::MobileMetrics, None, None, None).unwrap();
    /// assert_eq!(s.prefix, Some(Prefix::MobileMetrics));
    /// assert!(Selection::of_doc_type(DocType::MobileMetrics, Some(Prefix::BuildId), None, None).is_err());
    /// ```
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] (`prefix`) for a prefix with mobile rows, which have no
    /// build-id or submission-date families.
    pub fn of_doc_type(
        doc_type: crate::DocType,
        prefix: Option<Prefix>,
        channel: Option<String>,
        version: Option<String>,
    ) -> Result<Selection> {
        let prefix = match (doc_type, prefix) {
            (crate::DocType::Main, p) => p,
            (crate::DocType::MobileMetrics, None) => Some(Prefix::MobileMetrics),
            (crate::DocType::MobileMetrics, Some(p)) => {
                return Err(crate::Error::invalid(
                    "prefix",
                    format!(
                        "mobile_metrics rows are one family, by submission date: leave the \
                         prefix ({p}) out"
                    ),
                ))
            }
        };
        Ok(Selection {
            prefix,
            channel,
            version,
        })
    }

    /// True when `target` is selected.
    pub fn matches(&self, target: &Target) -> bool {
        self.prefix.is_none_or(|p| p == target.prefix)
            && self.channel.as_ref().is_none_or(|c| *c == target.channel)
            && self.version.as_ref().is_none_or(|v| *v == target.version)
    }
}

/// The storage contract. Synchronous, shareable across threads.
///
/// Every implementation must pass the conformance suite in `crate::testing` (feature
/// `testing`); the suite is the executable form of this contract:
///
/// - **Merge on write.** [`Store::write`] merges each row into what the target holds for the same
///   (series key, layout): bucket-wise add, `sum` and `count` added. Rows of the same key with
///   different layouts are kept apart, never merged.
/// - **Atomic.** A write is all or nothing: a reader sees the store before or after it, and a
///   crash during it leaves the store as it was before or after it.
/// - **Idempotent per submission date.** Each target remembers the submission dates it has
///   absorbed ([`Store::absorbed`]). Writing a batch whose submission date a target already
///   absorbed leaves that target unchanged and reports it in
///   [`WriteReport::targets_skipped`]; the other targets of the batch are written.
/// - **Absorbing without rows.** A target in a batch with no rows (an empty `Vec`) absorbs the
///   batch's submission date like any other: it is written (counted in
///   [`WriteReport::targets_written`]), [`Store::absorbed`] lists the date, the same date again
///   is skipped, and no series appears. (`import` records a target's absorbed dates this way.)
/// - **Rejected rows.** Rows failing [`check_row`] are not written, and are counted by reason.
///   A merge that would overflow a count or sum is also rejected, not wrapped. A target failing
///   [`check_target`] is not created: all its rows are rejected.
/// - **Empty rows.** A row whose histogram is empty (no count, sum or samples) counts as written
///   but adds nothing: it is not stored and does not appear in filter options.
/// - **Filter options** of a (channel, version) list exactly the values of the series stored in
///   its tables (both prefixes), also after [`Store::trim`].
/// - **Ordering.** Channels sorted ascending; dates newest first (ties by version descending).
/// - **Data version.** [`Store::data_version`] changes whenever stored data changes, and only
///   then.
/// - **Replicates.** A batch may carry the rows of R replicate groups
///   ([`Batch::replicates`]). A store that keeps them merges each group's rows into that
///   group of the target by the rules above, in the same write (same atomicity), and only for
///   targets this write absorbs: a skipped target skips its groups too, a rejected row is
///   counted in [`WriteReport::replicate_rows_rejected`]. A group row whose target is not in
///   the batch's `tables` fails the write ([`crate::Error::Invalid`], nothing written). Each
///   absorbed submission date of a target remembers the R it was written with (none when the
///   batch had no replicates). [`Store::replicates`] answers a query per group only when every
///   requested date that has a table was absorbed with the same R throughout; otherwise it
///   fails with [`crate::Error::NoReplicates`] saying why. Replicate groups never show in
///   [`Store::channels`], [`Store::dates`], filter options, [`Store::scan`] or the targets
///   [`Store::trim`] returns, and trim drops them with their target. A store that does not
///   keep replicates fails a write that carries them, and every [`Store::replicates`] call,
///   with [`crate::Error::NoReplicates`].
/// - **Mobile rows.** [`Store::write_mobile`] writes a [`MobileBatch`] by the same rules:
///   merge on write per (mobile key, layout) — count, sum and buckets added, rows of
///   different layouts kept apart; atomic; idempotent per submission date (a mobile table's
///   date is its submission date, so a table absorbs one date); a table with no rows absorbs
///   its date; rows failing [`crate::mobile::check_mobile_row`], and merges that would
///   overflow ([`RowReject::MergeOverflow`]), are counted and not written; empty rows are not
///   stored. A batch failing [`MobileBatch::check`] fails the write ([`crate::Error::Invalid`],
///   nothing written). Mobile tables are targets of [`Prefix::MobileMetrics`]: they show in
///   [`Store::channels`], [`Store::dates`] and [`Store::absorbed`] for that prefix, are dropped
///   and returned by [`Store::trim`], and change [`Store::data_version`]; they never show in
///   filter options, [`Store::query`], [`Store::replicates`] or [`Store::scan`], and
///   [`Store::write`] refuses them ([`crate::Error::Invalid`]).
pub trait Store: Send + Sync {
    /// Merges a batch of one submission date (see the contract above).
    ///
    /// # Errors
    /// I/O or storage failures; the store is then unchanged.
    fn write(&self, batch: &Batch) -> Result<WriteReport>;

    /// Channels that have at least one table of `prefix`, sorted.
    ///
    /// # Errors
    /// Storage failures.
    fn channels(&self, prefix: Prefix) -> Result<Vec<String>>;

    /// Every (date, version) with a table under (`prefix`, `channel`), newest date first.
    ///
    /// # Errors
    /// Storage failures.
    fn dates(&self, prefix: Prefix, channel: &str) -> Result<Vec<DateVersion>>;

    /// Filter options of (`channel`, `version`) over both prefixes; `None` when nothing is known.
    ///
    /// # Errors
    /// Storage failures.
    fn filter_options(&self, channel: &str, version: &str) -> Result<Option<FilterOptions>>;

    /// Runs a metric query: for each requested date and label, the merge of every series of
    /// `query.metric` matching `query.filter`, one [`QueryRow`] per (date, label, layout).
    /// Rows are ordered by date as requested, then label ascending. Dates without data yield
    /// nothing.
    ///
    /// # Errors
    /// Storage failures.
    fn query(&self, query: &SeriesQuery) -> Result<Vec<QueryRow>>;

    /// Runs a metric query once per replicate group (see the contract above). `Ok(None)` when
    /// no requested date has a table.
    ///
    /// # Errors
    /// [`crate::Error::NoReplicates`] when a requested date's table was not absorbed with the
    /// same R throughout (or the store keeps no replicates); storage failures.
    fn replicates(&self, query: &SeriesQuery) -> Result<Option<ReplicateRows>>;

    /// Submission dates the target has absorbed, sorted.
    ///
    /// # Errors
    /// Storage failures.
    fn absorbed(&self, target: &Target) -> Result<BTreeSet<Date>>;

    /// Drops every table whose date is older than `cutoff` (exclusive) and returns the targets
    /// dropped; with `dry_run`, drops nothing and returns what would go.
    ///
    /// # Errors
    /// Storage failures.
    fn trim(&self, cutoff: Date, dry_run: bool) -> Result<Vec<Target>>;

    /// A number that changes whenever stored data changes (for HTTP ETags).
    ///
    /// # Errors
    /// Storage failures.
    fn data_version(&self) -> Result<u64>;

    /// Counts what the store holds ([`StoreStats`]): its targets (those [`Store::dates`]
    /// lists), its rows and series (those [`Store::scan`] visits), its replicate groups and its
    /// size. The default counts with those reads ([`StoreStats::by_scan`]: no replicate groups,
    /// no size); a store with cheaper bookkeeping overrides it, and a wrapper forwards it.
    ///
    /// # Errors
    /// Storage failures.
    fn stats(&self) -> Result<StoreStats> {
        StoreStats::by_scan(self)
    }

    /// Visits every stored series of the selected tables, ordered by target, then series key.
    ///
    /// # Errors
    /// Storage failures, or the first error `visit` returns.
    fn scan(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(&Target, &SeriesKey, &Histogram) -> Result<()>,
    ) -> Result<()>;

    /// Merges a batch of mobile rows (see "Mobile rows" in the contract above).
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for a batch failing [`MobileBatch::check`]; I/O or storage
    /// failures. The store is then unchanged.
    fn write_mobile(&self, batch: &MobileBatch) -> Result<WriteReport>;

    /// Visits every stored mobile row of the selected tables (a selection of a desktop prefix
    /// selects none), ordered by target, then key, then layout (`None` first).
    ///
    /// # Errors
    /// Storage failures, or the first error `visit` returns.
    fn scan_mobile(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(&Target, &MobileKey, &MobileHistogram) -> Result<()>,
    ) -> Result<()>;
}
