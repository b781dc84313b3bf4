//! The rows of the mobile family: their key, their histogram, and a batch of them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::error::{Error, MergeError, Quantity, Result};
use crate::keys::{Prefix, Target};
use crate::layout::{BucketLayout, LayoutSpec};
use crate::reject::RowReject;
use crate::tally::Tally;

/// The key of one mobile row inside its table (channel, full app version, submission date):
/// the other dimensions of the original's `mobile_metrics_aggregates` rows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MobileKey {
    /// `meta.appBuildId`, as sent (e.g. `323001230-GeckoView`: not a date).
    pub build_id: String,
    /// `meta.appName`, e.g. `Focus`.
    pub application: String,
    /// The ping's `arch`, e.g. `arm64-v8a`.
    pub architecture: String,
    /// The ping's `os`, e.g. `Android`.
    pub os: String,
    /// The ping's `osversion` (a number in some pings: kept as its decimal text).
    pub os_version: String,
    /// A histogram name, `SCALARS_…` for scalars, `[[COUNT]]_…` for count histograms.
    pub metric: String,
    /// The key of a keyed histogram or scalar; `""` otherwise.
    pub key: String,
    /// The process, as the ping names it under `metrics` (`engine`, `content`, `gpu`, …).
    pub process: String,
}

/// What a mobile row holds: how many pings sent the measurement, their sum, and the samples
/// per bucket.
///
/// Mobile histograms carry only `sum` and `values`: their buckets follow a `layout` when the
/// probe's definition gave one (or for scalars, the scalar layout), and are otherwise the
/// values as the pings sent them (`layout` is `None`). Either way only non-empty buckets are
/// kept, by lower bound. Rows of the same key and different layouts are never merged.
///
/// ```
/// use mozaggregator_core::mobile::MobileHistogram;
/// let mut a = MobileHistogram::new(None);
/// a.add_ping(12, &[(2, 3), (6, 1)]).unwrap();
/// let mut b = MobileHistogram::new(None);
/// b.add_ping(5, &[(2, 1)]).unwrap();
/// a.merge(&b).unwrap();
/// assert_eq!((a.count(), a.sum(), a.samples()), (2, 17, 5));
/// assert_eq!(a.buckets().iter().collect::<Vec<_>>(), [(&2, &4), (&6, &1)]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawMobileHistogram")]
pub struct MobileHistogram {
    layout: Option<LayoutSpec>,
    count: u64,
    sum: u64,
    buckets: BTreeMap<u64, u64>,
}

/// A [`MobileHistogram`] as deserialised, before it is checked.
#[derive(Deserialize)]
struct RawMobileHistogram {
    layout: Option<LayoutSpec>,
    count: u64,
    sum: u64,
    buckets: BTreeMap<u64, u64>,
}

impl TryFrom<RawMobileHistogram> for MobileHistogram {
    type Error = Error;

    fn try_from(raw: RawMobileHistogram) -> Result<Self> {
        MobileHistogram::from_parts(raw.layout, raw.count, raw.sum, raw.buckets)
    }
}

impl MobileHistogram {
    /// An empty row of `layout` (`None`: sparse values as sent).
    pub fn new(layout: Option<LayoutSpec>) -> Self {
        MobileHistogram {
            layout,
            count: 0,
            sum: 0,
            buckets: BTreeMap::new(),
        }
    }

    /// A row from its stored parts; zero buckets are dropped.
    ///
    /// # Errors
    /// [`Error::Invalid`] when a bucket repeats, or is not a lower bound of `layout`;
    /// [`Error::InvalidLayout`] when `layout` describes no layout.
    pub fn from_parts(
        layout: Option<LayoutSpec>,
        count: u64,
        sum: u64,
        buckets: impl IntoIterator<Item = (u64, u64)>,
    ) -> Result<Self> {
        // A layout that did not come through a validating constructor (deserialised) must
        // still describe one.
        let layout = layout
            .map(|l| LayoutSpec::from_parts(l.kind(), l.low(), l.high(), l.bucket_count()))
            .transpose()?;
        let bounds = layout.map(|l| BucketLayout::new(l).bounds().to_vec());
        let mut out = MobileHistogram {
            layout,
            count,
            sum,
            buckets: BTreeMap::new(),
        };
        for (bound, n) in buckets {
            if bounds
                .as_ref()
                .is_some_and(|b| b.binary_search(&bound).is_err())
            {
                return Err(Error::invalid(
                    "histogram",
                    format!("bucket {bound} is not a lower bound of its layout"),
                ));
            }
            if out.buckets.insert(bound, n).is_some() {
                return Err(Error::invalid(
                    "histogram",
                    format!("bucket {bound} appears twice"),
                ));
            }
        }
        out.buckets.retain(|_, n| *n > 0);
        Ok(out)
    }

    /// The layout the buckets follow; `None` for values kept as sent.
    pub fn layout(&self) -> Option<LayoutSpec> {
        self.layout
    }

    /// Pings that sent this measurement.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of the values.
    pub fn sum(&self) -> u64 {
        self.sum
    }

    /// Non-empty buckets: lower bound → samples, ascending.
    pub fn buckets(&self) -> &BTreeMap<u64, u64> {
        &self.buckets
    }

    /// Samples over all buckets (saturating).
    pub fn samples(&self) -> u64 {
        self.buckets
            .values()
            .fold(0u64, |a, &n| a.saturating_add(n))
    }

    /// True when nothing was added: no ping, no sum, no sample.
    pub fn is_empty(&self) -> bool {
        self.count == 0 && self.sum == 0 && self.buckets.is_empty()
    }

    /// Adds one ping's measurement: `sum`, and samples per bucket lower bound (zero counts
    /// are skipped). All or nothing.
    ///
    /// # Errors
    /// [`Error::Merge`] when a count or the sum would pass 2^64; the row is then unchanged.
    pub fn add_ping(&mut self, sum: u64, buckets: &[(u64, u64)]) -> Result<()> {
        let other = MobileHistogram {
            layout: self.layout,
            count: 1,
            sum,
            buckets: buckets.iter().copied().filter(|&(_, n)| n > 0).fold(
                BTreeMap::new(),
                |mut m, (b, n)| {
                    let slot: &mut u64 = m.entry(b).or_default();
                    *slot = slot.saturating_add(n);
                    m
                },
            ),
        };
        self.merge(&other)
    }

    /// Adds `other` (count, sum and buckets). All or nothing.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the layouts differ; an overflow error when a count or the sum
    /// would pass 2^64. The row is then unchanged.
    pub fn merge(&mut self, other: &MobileHistogram) -> Result<()> {
        if self.layout != other.layout {
            return Err(Error::invalid(
                "histogram",
                "rows of different layouts are not merged",
            ));
        }
        let overflow = |q| Error::from(MergeError::Overflow(q));
        let count =
            (self.count.checked_add(other.count)).ok_or_else(|| overflow(Quantity::Count))?;
        let sum = (self.sum.checked_add(other.sum)).ok_or_else(|| overflow(Quantity::Sum))?;
        for (bound, n) in &other.buckets {
            let mine = self.buckets.get(bound).copied().unwrap_or(0);
            mine.checked_add(*n)
                .ok_or_else(|| overflow(Quantity::Bucket))?;
        }
        for (bound, n) in &other.buckets {
            *self.buckets.entry(*bound).or_default() += n;
        }
        self.count = count;
        self.sum = sum;
        Ok(())
    }
}

/// Mobile rows from the pings of one submission date, ready for [`crate::Store::write_mobile`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MobileBatch {
    /// The submission date every row came from.
    pub submission_date: Date,
    /// Rows per table. Each table's prefix is [`Prefix::MobileMetrics`] and its date the
    /// submission date; a key appears at most once per table and layout.
    pub tables: BTreeMap<Target, Vec<(MobileKey, MobileHistogram)>>,
}

impl MobileBatch {
    /// A batch of `submission_date` without tables.
    pub fn new(submission_date: Date) -> Self {
        MobileBatch {
            submission_date,
            tables: BTreeMap::new(),
        }
    }

    /// The table of (`channel`, `version`) in this batch's submission date.
    pub fn target(&self, channel: &str, version: &str) -> Target {
        Target {
            prefix: Prefix::MobileMetrics,
            channel: channel.to_string(),
            version: version.to_string(),
            date: self.submission_date,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.tables.values().map(Vec::len).sum()
    }

    /// Checks what a store needs before writing: every table is a mobile table of this
    /// submission date.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the first table that is not.
    pub fn check(&self) -> Result<()> {
        for target in self.tables.keys() {
            if target.prefix != Prefix::MobileMetrics || target.date != self.submission_date {
                return Err(Error::invalid(
                    "batch",
                    format!(
                        "table {} {} {} {} is not a mobile table of submission date {}",
                        target.prefix,
                        target.channel,
                        target.version,
                        target.date,
                        self.submission_date
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Checks one mobile row against the rules every store applies (docs/store.md): a metric name
/// of the allowed characters, no NUL in any dimension, a sum that fits a signed 64-bit column.
///
/// # Errors
/// The first rule the row breaks.
pub fn check_mobile_row(key: &MobileKey, histogram: &MobileHistogram) -> Result<(), RowReject> {
    if !crate::store::metric_name_ok(&key.metric) {
        return Err(RowReject::BadMetricName);
    }
    let dims = [
        &key.build_id,
        &key.application,
        &key.architecture,
        &key.os,
        &key.os_version,
        &key.key,
        &key.process,
    ];
    if dims.iter().any(|s| s.contains('\0')) {
        return Err(RowReject::NulInDimension);
    }
    if histogram.sum > i64::MAX as u64
        || histogram.count > i64::MAX as u64
        || histogram.buckets.values().any(|&n| n > i64::MAX as u64)
    {
        return Err(RowReject::SumOutOfRange);
    }
    Ok(())
}

/// The rows of one mobile table by (key, layout): the order [`crate::Store::scan_mobile`]
/// visits them in (`None` before every layout).
pub(crate) type MobileRows = BTreeMap<(MobileKey, Option<LayoutSpec>), MobileHistogram>;

/// Merges a batch's `rows` of one table into `into` by the contract's rules: rows failing
/// [`check_mobile_row`] are rejected by reason, a merge whose result would not fit (beyond
/// 2^64, or beyond 2^63 - 1 where stored signed) is rejected as
/// [`RowReject::MergeOverflow`] and leaves the row as it was, and empty rows are dropped.
/// Returns the rows written (empty ones included).
pub(crate) fn merge_mobile_rows(
    rows: &[(MobileKey, MobileHistogram)],
    into: &mut MobileRows,
    rejected: &mut Tally<RowReject>,
) -> u64 {
    let mut written = 0;
    for (key, histogram) in rows {
        let verdict = check_mobile_row(key, histogram).and_then(|()| {
            let slot = into
                .entry((key.clone(), histogram.layout()))
                .or_insert_with(|| MobileHistogram::new(histogram.layout()));
            let mut merged = slot.clone();
            merged
                .merge(histogram)
                .map_err(|_| RowReject::MergeOverflow)?;
            check_mobile_row(key, &merged).map_err(|_| RowReject::MergeOverflow)?;
            *slot = merged;
            Ok(())
        });
        match verdict {
            Ok(()) => written += 1,
            Err(reason) => rejected.add(reason, 1),
        }
    }
    into.retain(|_, h| !h.is_empty());
    written
}
