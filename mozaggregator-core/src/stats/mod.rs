//! Statistics of served distributions: sample counts, means, percentiles, proportions, CDFs and
//! distances between two distributions.
//!
//! Everything here is pure arithmetic over one [`Distribution`]: the `buckets` of an HTTP API
//! answer plus the `histogram` and `sum` of one of its data entries. Nothing here panics, on any
//! input; a statistic that is not defined is `None`, and only caller mistakes (a percentile
//! outside `[0, 100]`, an unknown statistic name) are errors.
//!
//! - [`samples`], [`mean`], [`proportions`], [`cdf`]: the plain statistics.
//! - [`percentile`] and [`percentiles`] with three [`PercentileMethod`]s: `interp` (the default:
//!   interpolation inside the bucket, geometric for exponential layouts), `nearest` (GLAM's
//!   rule: the lower bound of the bucket holding the percentile) and `tmo` (what Mozilla's
//!   `telemetry.js` v2 dashboards client computes, quirks included), with [`tmo_mean`].
//! - [`distances`]: Bhattacharyya (as Cerberus computed it), Kolmogorov–Smirnov and mozdetect's
//!   signed `cdf_squared`.
//! - [`Stat`], [`summarize`] and [`Summary`]: a list of requested statistics, parsed from
//!   `"mean,p5,p50,p95"`, computed in one pass and serialised in request order.
//! - [`jackknife`] and [`t_quantile`]: leave-one-group-out intervals over replicate groups of
//!   clients, at a [`Confidence`] level.
//!
//! Every formula, edge case and source is in `docs/statistics.md`.
//!
//! ```
//! use mozaggregator_core::stats::{self, Distribution, PercentileMethod};
//! use mozaggregator_core::Kind;
//! let bounds = [0, 1, 2, 4, 8];
//! let counts = [0, 2, 2, 0, 0];
//! let d = Distribution { kind: Kind::Linear, bounds: &bounds, counts: &counts, sum: 6 };
//! assert_eq!(stats::samples(&d), 4);
//! assert_eq!(stats::mean(&d), Some(1.5));
//! let p50 = stats::percentile(&d, 50.0, PercentileMethod::Interp).unwrap();
//! assert_eq!(p50.value, Some(2.0)); // half of the samples lie in [1, 2)
//! assert_eq!(p50.bucket, Some((1, Some(2))));
//! ```

use crate::layout::Kind;

mod distance;
mod jackknife;
mod percentile;
mod summary;
mod tmo;

pub use distance::{distances, Distances};
pub use jackknife::{jackknife, t_quantile, Confidence, Interval, REPLICATE_COUNTS};
pub use percentile::{percentile, percentiles, BoundLogs, Bucket, Percentile, PercentileMethod};
pub(crate) use summary::Scratch;
pub use summary::{summarize, Plan, Stat, Summary};
pub use tmo::tmo_mean;

/// A served distribution: the API's `buckets` plus one data entry.
///
/// `bounds` are the lower bounds of the buckets, ascending (for categorical histograms the label
/// indices `0..n`); `counts` the number of samples in each bucket; `sum` the exact sum of the
/// recorded values. When `bounds` and `counts` have different lengths every function here uses
/// the shorter length and ignores the rest of the longer slice.
///
/// ```
/// use mozaggregator_core::stats::Distribution;
/// use mozaggregator_core::{BucketLayout, Kind};
/// let layout = BucketLayout::exponential(1, 10000, 50).unwrap();
/// let mut counts = vec![0; layout.bounds().len()];
/// counts[17] = 3; // three samples in [40, 48)
/// let d = Distribution { kind: Kind::Exponential, bounds: layout.bounds(), counts: &counts, sum: 130 };
/// assert_eq!(mozaggregator_core::stats::samples(&d), 3);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Distribution<'a> {
    /// The histogram kind the API serves (`kind`); scalars are served as exponential.
    pub kind: Kind,
    /// The lower bound of each bucket, ascending.
    pub bounds: &'a [u64],
    /// The count of each bucket.
    pub counts: &'a [u64],
    /// The exact sum of the recorded values.
    pub sum: u64,
}

impl Distribution<'_> {
    /// The number of buckets used: the shorter of `bounds` and `counts`.
    fn len(&self) -> usize {
        self.bounds.len().min(self.counts.len())
    }

    /// The counts of the buckets used.
    fn used_counts(&self) -> &[u64] {
        &self.counts[..self.len()]
    }

    /// The bounds of the buckets used.
    fn used_bounds(&self) -> &[u64] {
        &self.bounds[..self.len()]
    }

    /// The exact number of samples (a sum of u64 never overflows u128 for any slice length).
    pub(crate) fn total(&self) -> u128 {
        // Summed in 64 bits while that cannot overflow (always, in practice): 128-bit adds
        // and conversions cost several times more, and every answer entry pays them.
        let mut total = 0u64;
        for &c in self.used_counts() {
            match total.checked_add(c) {
                Some(t) => total = t,
                None => return self.used_counts().iter().map(|&c| u128::from(c)).sum(),
            }
        }
        u128::from(total)
    }

    /// The upper bound of bucket `i`: the next lower bound, `None` for the last bucket.
    fn upper(&self, i: usize) -> Option<u64> {
        if i + 1 < self.len() {
            self.bounds.get(i + 1).copied()
        } else {
            None
        }
    }
}

/// True when the values of a kind are ordered, so that a mean and percentiles mean something:
/// exponential, linear, enumerated and count histograms (and scalars, served as exponential).
/// Categorical, boolean and flag histograms only have proportions.
///
/// ```
/// use mozaggregator_core::{stats::has_order, Kind};
/// assert!(has_order(Kind::Exponential) && has_order(Kind::Count));
/// assert!(!has_order(Kind::Categorical) && !has_order(Kind::Boolean) && !has_order(Kind::Flag));
/// ```
pub fn has_order(kind: Kind) -> bool {
    match kind {
        Kind::Exponential | Kind::Linear | Kind::Enumerated | Kind::Count => true,
        Kind::Categorical | Kind::Boolean | Kind::Flag => false,
    }
}

/// The number of samples: the sum of the counts, saturating at `u64::MAX`.
///
/// ```
/// use mozaggregator_core::stats::{samples, Distribution};
/// use mozaggregator_core::Kind;
/// let d = Distribution { kind: Kind::Boolean, bounds: &[0, 1, 2], counts: &[3, 4, 0], sum: 4 };
/// assert_eq!(samples(&d), 7);
/// let huge = [u64::MAX, 1, 0];
/// let d = Distribution { counts: &huge, ..d };
/// assert_eq!(samples(&d), u64::MAX);
/// ```
pub fn samples(d: &Distribution<'_>) -> u64 {
    u64::try_from(d.total()).unwrap_or(u64::MAX)
}

/// The mean: `sum / samples`. `None` when there are no samples or the kind has no order
/// ([`has_order`]).
///
/// ```
/// use mozaggregator_core::stats::{mean, Distribution};
/// use mozaggregator_core::Kind;
/// let d = Distribution { kind: Kind::Exponential, bounds: &[0, 1, 2, 4], counts: &[1, 0, 3, 0], sum: 9 };
/// assert_eq!(mean(&d), Some(2.25));
/// assert_eq!(mean(&Distribution { counts: &[0, 0, 0, 0], ..d }), None);
/// assert_eq!(mean(&Distribution { kind: Kind::Categorical, ..d }), None);
/// ```
pub fn mean(d: &Distribution<'_>) -> Option<f64> {
    mean_of(d, d.total())
}

/// [`mean`], given the distribution's total.
pub(crate) fn mean_of(d: &Distribution<'_>, total: u128) -> Option<f64> {
    if total == 0 || !has_order(d.kind) {
        return None;
    }
    Some(d.sum as f64 / count_to_f64(total))
}

/// `n` as the nearest f64, through u64 when it fits: converting a u128 is a slow software
/// routine.
pub(crate) fn count_to_f64(n: u128) -> f64 {
    match u64::try_from(n) {
        Ok(n) => n as f64,
        Err(_) => n as f64,
    }
}

/// The proportion of the samples in each bucket, `count_i / samples`; all `0.0` when there are
/// no samples. Defined for every kind.
///
/// ```
/// use mozaggregator_core::stats::{proportions, Distribution};
/// use mozaggregator_core::Kind;
/// let d = Distribution { kind: Kind::Categorical, bounds: &[0, 1, 2, 3], counts: &[1, 3, 0, 4], sum: 0 };
/// assert_eq!(proportions(&d), vec![0.125, 0.375, 0.0, 0.5]);
/// assert_eq!(proportions(&Distribution { counts: &[0, 0], ..d }), vec![0.0, 0.0]);
/// ```
pub fn proportions(d: &Distribution<'_>) -> Vec<f64> {
    let n = d.total();
    if n == 0 {
        return vec![0.0; d.len()];
    }
    let n = n as f64;
    d.used_counts().iter().map(|&c| c as f64 / n).collect()
}

/// The cumulative proportions: entry `i` is the share of the samples in buckets `0..=i`. It is
/// non-decreasing and ends at exactly `1.0`; all `0.0` when there are no samples.
///
/// ```
/// use mozaggregator_core::stats::{cdf, Distribution};
/// use mozaggregator_core::Kind;
/// let d = Distribution { kind: Kind::Linear, bounds: &[0, 1, 2, 3], counts: &[1, 3, 0, 4], sum: 19 };
/// assert_eq!(cdf(&d), vec![0.125, 0.5, 0.5, 1.0]);
/// ```
pub fn cdf(d: &Distribution<'_>) -> Vec<f64> {
    let n = d.total();
    if n == 0 {
        return vec![0.0; d.len()];
    }
    let n = n as f64;
    let mut cumulative = 0u128;
    d.used_counts()
        .iter()
        .map(|&c| {
            cumulative += u128::from(c);
            cumulative as f64 / n
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d<'a>(kind: Kind, bounds: &'a [u64], counts: &'a [u64], sum: u64) -> Distribution<'a> {
        Distribution {
            kind,
            bounds,
            counts,
            sum,
        }
    }

    #[test]
    fn lengths_differ_uses_the_shorter() {
        let x = d(Kind::Linear, &[0, 1, 2], &[1, 1, 1, 100], 3);
        assert_eq!(samples(&x), 3);
        assert_eq!(proportions(&x).len(), 3);
        assert_eq!(cdf(&x), vec![1.0 / 3.0, 2.0 / 3.0, 1.0]);
        let y = d(Kind::Linear, &[0, 1, 2, 3], &[1, 1], 1);
        assert_eq!(samples(&y), 2);
        assert_eq!(cdf(&y), vec![0.5, 1.0]);
        assert_eq!(y.upper(0), Some(1));
        assert_eq!(y.upper(1), None); // bucket 1 is the last one used
    }

    #[test]
    fn empty_and_zero_length() {
        let x = d(Kind::Exponential, &[], &[], 0);
        assert_eq!(samples(&x), 0);
        assert_eq!(mean(&x), None);
        assert!(proportions(&x).is_empty());
        assert!(cdf(&x).is_empty());
        let z = d(Kind::Exponential, &[0, 1, 2], &[0, 0, 0], 0);
        assert_eq!(proportions(&z), vec![0.0; 3]);
        assert_eq!(cdf(&z), vec![0.0; 3]);
    }

    #[test]
    fn mean_by_kind() {
        for kind in Kind::ALL {
            let x = d(kind, &[0, 1, 2], &[1, 1, 2], 5);
            assert_eq!(mean(&x).is_some(), has_order(kind), "{kind}");
        }
        let x = d(Kind::Count, &[0, 1, 2], &[0, 0, 4], 17);
        assert_eq!(mean(&x), Some(4.25));
    }

    #[test]
    fn cdf_of_saturating_counts_ends_at_one() {
        let x = d(Kind::Linear, &[0, 1, 2], &[u64::MAX, u64::MAX, 1], 0);
        assert_eq!(samples(&x), u64::MAX);
        let c = cdf(&x);
        assert_eq!(c.last(), Some(&1.0));
        assert!(c.windows(2).all(|w| w[0] <= w[1]));
    }
}
