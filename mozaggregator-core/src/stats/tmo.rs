//! The statistics of telemetry.js v2 (the client of the Telemetry dashboards,
//! telemetry.mozilla.org), reproduced operation for operation in f64.
//!
//! telemetry.js appends one bound after the last bucket (the last bucket's width, or ratio,
//! repeated) and then uses the width (linear kinds) or ratio (other kinds) of that *last*
//! bucket for every bucket. Its rank search walks the counts with a running subtraction and
//! runs off the end when the rank equals the total (p100) or there are no samples, which gives
//! `NaN`; here that is `None`.

use super::percentile::Percentile;
use super::{has_order, Distribution};
use crate::layout::Kind;

/// The kinds telemetry.js treats as linear; every other kind is treated as exponential.
fn linear_in_telemetry_js(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Linear | Kind::Flag | Kind::Boolean | Kind::Enumerated
    )
}

/// The bounds of the used buckets followed by telemetry.js's `lastBucketUpper()`: one more
/// than the only bound, or the last bound plus the last width (linear kinds), or times the last
/// ratio (other kinds), computed as telemetry.js does. `None` when there is no bucket.
fn extended_bounds(d: &Distribution<'_>) -> Option<Vec<f64>> {
    let bounds = d.used_bounds();
    let mut out: Vec<f64> = bounds.iter().map(|&b| b as f64).collect();
    let upper = match out.as_slice() {
        [] => return None,
        [only] => only + 1.0,
        [.., before, last] if linear_in_telemetry_js(d.kind) => last + last - before,
        [.., before, last] => last * last / before,
    };
    out.push(upper);
    Some(out)
}

/// The `p`-th percentile as telemetry.js's `Histogram.prototype.percentile` computes it.
/// `p` is checked by the caller; kinds without order are [`Percentile::NONE`].
pub(super) fn percentile(d: &Distribution<'_>, p: f64) -> Percentile {
    if !has_order(d.kind) {
        return Percentile::NONE;
    }
    let Some(buckets) = extended_bounds(d) else {
        return Percentile::NONE;
    };
    let values = d.used_counts();
    let n = values.len();
    let (last, before_last) = (buckets[n], buckets[n - 1]);
    let width = last - before_last;
    let ratio = last / before_last;

    // The running subtraction of telemetry.js, including its order of operations: the rank
    // `total * (p / 100)` minus each count until it goes negative. Running off the end reads
    // `undefined` in JavaScript, which makes everything NaN.
    let total = values.iter().fold(0.0, |acc, &v| acc + v as f64);
    let mut hits = total * (p / 100.0);
    let mut index = 0;
    while hits >= 0.0 {
        let Some(&v) = values.get(index) else {
            return Percentile::NONE;
        };
        hits -= v as f64;
        index += 1;
    }
    // The loop ran at least once: the rank is never negative.
    let Some(index) = index.checked_sub(1) else {
        return Percentile::NONE;
    };
    let count = values[index] as f64;
    hits += count;
    let in_bar = hits / count;
    let value = if linear_in_telemetry_js(d.kind) {
        buckets[index] + width * in_bar
    } else {
        buckets[index] * ratio.powf(in_bar)
    };
    Percentile::new(value, d.bounds[index], d.upper(index))
}

/// The mean as telemetry.js's `Histogram.prototype.mean` computes it: every sample at the
/// centre of its bucket, the centre being the lower bound plus half the *last* bucket's width
/// (linear kinds) or the lower bound times the square root of the *last* bucket's ratio (other
/// kinds, so the zero bucket counts as 0). It ignores `sum`.
///
/// `None` where telemetry.js gives `NaN` or an infinity (no samples), and for kinds without
/// order ([`has_order`]), like [`mean`](super::mean): telemetry.js does compute a number for
/// boolean, flag and categorical histograms, but it is not a mean of anything.
///
/// ```
/// use mozaggregator_core::stats::{mean, tmo_mean, Distribution};
/// use mozaggregator_core::Kind;
/// // Linear buckets of width 10 and a last bucket of width 10: centres 5, 15, 25, 35.
/// let d = Distribution { kind: Kind::Linear, bounds: &[0, 10, 20, 30], counts: &[1, 0, 1, 0], sum: 22 };
/// assert_eq!(tmo_mean(&d), Some(15.0));
/// assert_eq!(mean(&d), Some(11.0)); // the exact mean, from `sum`
/// assert_eq!(tmo_mean(&Distribution { counts: &[0, 0, 0, 0], ..d }), None);
/// ```
pub fn tmo_mean(d: &Distribution<'_>) -> Option<f64> {
    if !has_order(d.kind) {
        return None;
    }
    let buckets = extended_bounds(d)?;
    let n = d.len();
    let half_width = (buckets[n] - buckets[n - 1]) / 2.0;
    let root_ratio = (buckets[n] / buckets[n - 1]).sqrt();
    let linear = linear_in_telemetry_js(d.kind);
    let mut total = 0.0;
    let mut weighted = 0.0;
    for (&count, &lower) in d.used_counts().iter().zip(&buckets) {
        let count = count as f64;
        total += count;
        let centre = if linear {
            lower + half_width
        } else {
            lower * root_ratio
        };
        weighted += count * centre;
    }
    let mean = weighted / total;
    mean.is_finite().then_some(mean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{percentile as pct, PercentileMethod};

    fn tmo(kind: Kind, bounds: &[u64], counts: &[u64], p: f64) -> Percentile {
        let d = Distribution {
            kind,
            bounds,
            counts,
            sum: 0,
        };
        pct(&d, p, PercentileMethod::Tmo).unwrap()
    }

    #[test]
    fn last_bucket_upper() {
        let d = |kind, bounds| Distribution {
            kind,
            bounds,
            counts: &[1; 8],
            sum: 0,
        };
        let b = [0, 1, 4, 16];
        assert_eq!(extended_bounds(&d(Kind::Linear, &b)).unwrap()[4], 28.0);
        assert_eq!(extended_bounds(&d(Kind::Exponential, &b)).unwrap()[4], 64.0);
        assert_eq!(extended_bounds(&d(Kind::Count, &b)).unwrap()[4], 64.0);
        assert_eq!(extended_bounds(&d(Kind::Linear, &[7])).unwrap(), [7.0, 8.0]);
        assert_eq!(extended_bounds(&d(Kind::Linear, &[])), None);
    }

    #[test]
    fn last_width_is_used_for_every_bucket() {
        // Linear bounds 0, 1, 11, 21: the last width (10) is used in [0, 1) too, so the
        // median of 2 samples in bucket 0 is 0 + 10 · 0.5 = 5, outside its bucket.
        let p = tmo(Kind::Linear, &[0, 1, 11, 21], &[2, 0, 0, 0], 50.0);
        assert_eq!(p.value, Some(5.0));
        assert_eq!(p.bucket, Some((0, Some(1))));
        // Exponential: the last ratio (2) everywhere; the zero bucket is always 0.
        let b = [0, 1, 3, 6];
        let close = |p: Percentile, want: f64| (p.value.unwrap() - want).abs() < 1e-12 * want;
        assert!(close(
            tmo(Kind::Exponential, &b, &[0, 4, 0, 0], 50.0),
            2f64.sqrt()
        ));
        assert_eq!(
            tmo(Kind::Exponential, &b, &[4, 0, 0, 0], 50.0).value,
            Some(0.0)
        );
        // The last bucket is interpolated towards the appended bound.
        assert!(close(
            tmo(Kind::Exponential, &b, &[0, 0, 0, 4], 50.0),
            6.0 * 2f64.sqrt()
        ));
    }

    #[test]
    fn rank_search_is_strict() {
        // Rank 2 equals the first bucket's count: telemetry.js moves on to the next non-empty
        // bucket, at its lower bound (interp stays at the top of the first).
        let p = tmo(Kind::Linear, &[0, 10, 20, 30], &[2, 0, 2, 0], 50.0);
        assert_eq!(p.value, Some(20.0));
        assert_eq!(p.bucket, Some((20, Some(30))));
    }

    #[test]
    fn nan_cases_are_none() {
        let b = [0, 10, 20, 30];
        assert_eq!(
            tmo(Kind::Linear, &b, &[1, 2, 3, 4], 100.0),
            Percentile::NONE
        );
        assert_eq!(tmo(Kind::Linear, &b, &[0, 0, 0, 0], 0.0), Percentile::NONE);
        assert_eq!(tmo(Kind::Linear, &b, &[1, 2, 3, 4], 0.0).value, Some(0.0));
        let p99 = tmo(Kind::Linear, &b, &[0, 0, 0, 4], 99.0).value.unwrap();
        assert!((p99 - 39.9).abs() < 1e-12, "{p99}");
    }

    #[test]
    fn mean_of_one_bucket_layout_and_unordered_kinds() {
        let d = Distribution {
            kind: Kind::Enumerated,
            bounds: &[3],
            counts: &[5],
            sum: 15,
        };
        assert_eq!(tmo_mean(&d), Some(3.5));
        for kind in [Kind::Boolean, Kind::Flag, Kind::Categorical] {
            assert_eq!(tmo_mean(&Distribution { kind, ..d }), None);
        }
        // The exponential zero bucket has centre 0.
        let d = Distribution {
            kind: Kind::Exponential,
            bounds: &[0, 1, 2, 4],
            counts: &[3, 0, 0, 1],
            sum: 5,
        };
        assert_eq!(tmo_mean(&d), Some(4.0 * 2f64.sqrt() / 4.0));
    }
}
