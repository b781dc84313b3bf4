//! Distances between two distributions over the same buckets.

use serde::Serialize;

/// Three distances between the per-bucket proportions of a side A and a side B.
///
/// - `bhattacharyya`: `√(1 − Σᵢ √(pᵢ·qᵢ) / √(Σp · Σq))`, the Bhattacharyya distance as
///   Cerberus computed it with OpenCV (`HISTCMP_BHATTACHARYYA`); with proportions (each side
///   sums to 1) it is `√(1 − Σᵢ √(pᵢ·qᵢ))`. 0 for identical distributions, 1 for disjoint ones.
/// - `ks`: the Kolmogorov–Smirnov statistic `maxᵢ |CDF_A(i) − CDF_B(i)|`, over the buckets.
/// - `cdf_squared`: mozdetect's `Σᵢ (CDF_A(i) − CDF_B(i))²`, signed by `Σᵢ (CDF_A(i) − CDF_B(i))`:
///   positive when B moved to larger values (its CDF rises later, so it lies below A's), negative
///   when it moved to smaller values, 0 when the signed sum is exactly 0.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Distances {
    /// The Bhattacharyya distance, in `[0, 1]`.
    pub bhattacharyya: f64,
    /// The Kolmogorov–Smirnov statistic, in `[0, 1]` for proportions.
    pub ks: f64,
    /// The signed sum of squared CDF differences.
    pub cdf_squared: f64,
}

/// The [`Distances`] between the per-bucket proportions `a` (side A) and `b` (side B), as
/// [`proportions`](super::proportions) gives them.
///
/// The CDFs are the running sums of the proportions. A bucket missing from the shorter slice
/// counts as 0, as does an entry that is NaN or negative; entries above 1 count as 1.
///
/// An empty side (all zeros) is used as it is, a CDF of 0 everywhere: against a non-empty side
/// `bhattacharyya` is 1 (no overlap; OpenCV's normalisation is skipped when a side sums to 0),
/// `ks` is 1 and `cdf_squared` is ∓Σ CDF²; two empty sides give `bhattacharyya` 1, `ks` 0 and
/// `cdf_squared` 0.
///
/// ```
/// use mozaggregator_core::stats::distances;
/// let a = [0.5, 0.5, 0.0];
/// let same = distances(&a, &a);
/// assert_eq!((same.bhattacharyya, same.ks, same.cdf_squared), (0.0, 0.0, 0.0));
/// // B moved to larger values: its CDF is [0, 0.5, 1] against A's [0.5, 1, 1].
/// let d = distances(&a, &[0.0, 0.5, 0.5]);
/// assert_eq!(d.ks, 0.5);
/// assert_eq!(d.cdf_squared, 0.5); // 0.25 + 0.25, positive
/// assert!((d.bhattacharyya - (1.0 - 0.5f64).sqrt()).abs() < 1e-15);
/// assert_eq!(distances(&[0.0, 0.5, 0.5], &a).cdf_squared, -0.5);
/// ```
pub fn distances(a: &[f64], b: &[f64]) -> Distances {
    let entry = |side: &[f64], i: usize| -> f64 {
        match side.get(i) {
            Some(&x) if x > 0.0 => x.min(1.0),
            _ => 0.0,
        }
    };
    let (mut sum_a, mut sum_b, mut overlap) = (0.0f64, 0.0f64, 0.0f64);
    let (mut ks, mut squares, mut signed) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..a.len().max(b.len()) {
        let (p, q) = (entry(a, i), entry(b, i));
        overlap += (p * q).sqrt();
        sum_a += p;
        sum_b += q;
        let diff = sum_a - sum_b;
        ks = ks.max(diff.abs());
        squares += diff * diff;
        signed += diff;
    }
    let scale = sum_a * sum_b;
    let similarity = if scale > 0.0 {
        overlap / scale.sqrt()
    } else {
        overlap
    };
    let sign = if signed > 0.0 {
        1.0
    } else if signed < 0.0 {
        -1.0
    } else {
        0.0
    };
    Distances {
        bhattacharyya: (1.0 - similarity).max(0.0).sqrt(),
        ks,
        cdf_squared: squares * sign,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disjoint_sides() {
        let d = distances(&[1.0, 0.0], &[0.0, 1.0]);
        assert_eq!(d.bhattacharyya, 1.0);
        assert_eq!(d.ks, 1.0);
        assert_eq!(d.cdf_squared, 1.0); // CDFs [1, 1] and [0, 1]
    }

    #[test]
    fn empty_sides() {
        let d = distances(&[0.0, 0.0], &[0.0, 0.0]);
        assert_eq!((d.bhattacharyya, d.ks, d.cdf_squared), (1.0, 0.0, 0.0));
        let d = distances(&[0.0, 0.0], &[0.5, 0.5]);
        assert_eq!((d.bhattacharyya, d.ks, d.cdf_squared), (1.0, 1.0, -1.25));
        let d = distances(&[], &[]);
        assert_eq!((d.bhattacharyya, d.ks, d.cdf_squared), (1.0, 0.0, 0.0));
    }

    #[test]
    fn missing_buckets_are_zero() {
        assert_eq!(
            distances(&[0.5, 0.5], &[0.5, 0.5, 0.0]),
            distances(&[0.5, 0.5, 0.0], &[0.5, 0.5])
        );
        assert_eq!(distances(&[0.5, 0.5], &[0.5, 0.5, 0.0]).ks, 0.0);
    }

    #[test]
    fn bad_entries_do_not_poison_the_result() {
        let d = distances(&[f64::NAN, -1.0, f64::INFINITY], &[0.2, 0.3, 0.5]);
        assert!(d.bhattacharyya.is_finite() && d.ks.is_finite() && d.cdf_squared.is_finite());
    }

    #[test]
    fn opposite_shifts_that_cancel_are_unsigned_zero() {
        // A = [0.5, 0, 0.5], B = [0, 1, 0]: CDF differences +0.5 and -0.5 (then 0).
        let d = distances(&[0.5, 0.0, 0.5], &[0.0, 1.0, 0.0]);
        assert_eq!(d.ks, 0.5);
        assert_eq!(d.cdf_squared, 0.0);
    }
}
