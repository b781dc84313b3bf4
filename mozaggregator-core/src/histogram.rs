//! Dense histograms: bucket counts over a layout, plus `sum` and `count`.

use serde::{Deserialize, Serialize};

use crate::error::{MergeError, Quantity, Result};
use crate::layout::{bucket_index, BucketLayout, LayoutSpec};

/// A dense histogram over a [`LayoutSpec`].
///
/// `counts[i]` is the number of samples in bucket `i`; `sum` is the sum of recorded values and
/// `count` the number of contributing (ping, process) histograms — *not* the number of samples
/// (docs/ingest.md, "Aggregates and merging"). Merging adds all three; it is associative and commutative, with
/// [`Histogram::empty`] as identity, and never overflows silently.
///
/// ```
/// use mozaggregator_core::{Histogram, LayoutSpec};
/// let spec = LayoutSpec::scalar();
/// let mut a = Histogram::empty(spec);
/// a.record(42).unwrap();
/// let mut b = Histogram::empty(spec);
/// b.record(3).unwrap();
/// a.merge(&b).unwrap();
/// assert_eq!((a.sum(), a.count(), a.samples()), (45, 2, 2));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Histogram {
    layout: LayoutSpec,
    counts: Vec<u64>,
    sum: u64,
    count: u64,
}

impl LayoutSpec {
    /// The fixed labels of numeric scalars and count histograms:
    /// `exponential_buckets(1, 10000, 100)` (docs/ingest.md, "Scalars, simple measures, count histograms").
    pub fn scalar() -> Self {
        // Constant, valid parameters.
        Self::exponential(1, 10_000, 100).unwrap_or_else(|_| Self::boolean())
    }

    /// The fixed labels of simple measures: `exponential_buckets(1, 30000, 50)`.
    pub fn simple_measure() -> Self {
        Self::exponential(1, 30_000, 50).unwrap_or_else(|_| Self::boolean())
    }
}

impl Histogram {
    /// The empty histogram over `layout`: the identity of [`Histogram::merge`].
    pub fn empty(layout: LayoutSpec) -> Self {
        Self {
            layout,
            counts: vec![0; layout.len()],
            sum: 0,
            count: 0,
        }
    }

    /// A histogram from its parts.
    ///
    /// # Errors
    /// [`MergeError`] (in [`crate::Error::Merge`]) when `counts` does not have one entry per bucket.
    pub fn from_parts(layout: LayoutSpec, counts: Vec<u64>, sum: u64, count: u64) -> Result<Self> {
        if counts.len() != layout.len() {
            return Err(MergeError::CountsLength {
                found: counts.len(),
                expected: layout.len(),
            }
            .into());
        }
        Ok(Self {
            layout,
            counts,
            sum,
            count,
        })
    }

    /// The layout.
    pub fn layout(&self) -> LayoutSpec {
        self.layout
    }

    /// Bucket counts, one per bucket of the layout.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The bucket counts, taking the histogram apart.
    pub fn into_counts(self) -> Vec<u64> {
        self.counts
    }

    /// Sum of recorded values.
    pub fn sum(&self) -> u64 {
        self.sum
    }

    /// Number of contributing histograms.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Total number of samples in the buckets (saturating).
    pub fn samples(&self) -> u64 {
        self.counts.iter().fold(0u64, |a, &c| a.saturating_add(c))
    }

    /// True when nothing was ever added.
    pub fn is_empty(&self) -> bool {
        self.count == 0 && self.sum == 0 && self.counts.iter().all(|&c| c == 0)
    }

    /// Merges `other` into `self`: bucket-wise add, `sum += other.sum`, `count += other.count`.
    ///
    /// # Errors
    /// [`MergeError`] (in [`crate::Error::Merge`]) for different layouts; [`MergeError::Overflow`] when any number
    /// would exceed `u64`. On error `self` is unchanged.
    pub fn merge(&mut self, other: &Histogram) -> Result<()> {
        if self.layout != other.layout {
            return Err(MergeError::Layouts {
                left: self.layout,
                right: other.layout,
            }
            .into());
        }
        let sum = checked(self.sum, other.sum, Quantity::Sum)?;
        let count = checked(self.count, other.count, Quantity::Count)?;
        if self
            .counts
            .iter()
            .zip(&other.counts)
            .any(|(a, b)| a.checked_add(*b).is_none())
        {
            return Err(MergeError::Overflow(Quantity::Bucket).into());
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += *b;
        }
        self.sum = sum;
        self.count = count;
        Ok(())
    }

    /// Adds one histogram's worth of data: the given dense `counts` plus `sum`, and `count += 1`.
    ///
    /// # Errors
    /// [`MergeError`] (in [`crate::Error::Merge`]) when `counts` does not have one entry per bucket;
    /// [`MergeError::Overflow`] when any number would exceed `u64`. On error `self` is unchanged.
    pub fn add_dense(&mut self, counts: &[u64], sum: u64) -> Result<()> {
        if counts.len() != self.counts.len() {
            return Err(MergeError::CountsLength {
                found: counts.len(),
                expected: self.counts.len(),
            }
            .into());
        }
        let new_sum = checked(self.sum, sum, Quantity::Sum)?;
        let new_count = checked(self.count, 1, Quantity::Count)?;
        if self
            .counts
            .iter()
            .zip(counts)
            .any(|(a, b)| a.checked_add(*b).is_none())
        {
            return Err(MergeError::Overflow(Quantity::Bucket).into());
        }
        for (a, b) in self.counts.iter_mut().zip(counts) {
            *a += *b;
        }
        self.sum = new_sum;
        self.count = new_count;
        Ok(())
    }

    /// Adds one histogram's worth of sparse data: `counts[i] += c` for each `(i, c)` of
    /// `pairs` (an index may repeat), `sum += sum`, `count += 1`.
    ///
    /// # Errors
    /// [`MergeError`] (in [`crate::Error::Merge`]) when an index is not a bucket; [`MergeError::Overflow`] when any
    /// number would exceed `u64`. On error `self` is unchanged.
    pub fn add_sparse(&mut self, pairs: &[(u32, u64)], sum: u64) -> Result<()> {
        let new_sum = checked(self.sum, sum, Quantity::Sum)?;
        let new_count = checked(self.count, 1, Quantity::Count)?;
        for (done, &(i, c)) in pairs.iter().enumerate() {
            let ok = match self.counts.get_mut(i as usize) {
                Some(slot) => match slot.checked_add(c) {
                    Some(v) => {
                        *slot = v;
                        Ok(())
                    }
                    None => Err(MergeError::Overflow(Quantity::Bucket)),
                },
                None => Err(MergeError::Bucket(i as usize)),
            };
            if let Err(e) = ok {
                // Undo what was added: exact, since it was just added without overflow.
                for &(j, c) in &pairs[..done] {
                    self.counts[j as usize] -= c;
                }
                return Err(e.into());
            }
        }
        self.sum = new_sum;
        self.count = new_count;
        Ok(())
    }

    /// As [`Histogram::record`], with the bounds taken from `layout` (computed once by the
    /// caller) instead of being recomputed.
    ///
    /// # Errors
    /// [`MergeError`] (in [`crate::Error::Merge`]) when `layout` is not this histogram's layout;
    /// [`MergeError::Overflow`] as [`Histogram::record`].
    pub fn record_in(&mut self, layout: &BucketLayout, value: u64) -> Result<()> {
        if layout.spec() != self.layout || layout.bounds().len() != self.counts.len() {
            return Err(MergeError::Layouts {
                left: self.layout,
                right: layout.spec(),
            }
            .into());
        }
        self.record_at(bucket_index(layout.bounds(), value), value)
    }

    /// Records one scalar-like value in bucket `i` (an index computed by the caller, e.g. with
    /// [`crate::layout::bucket_index`]): `sum += value`, `count += 1`, `counts[i] += 1`.
    ///
    /// # Errors
    /// [`MergeError`] (in [`crate::Error::Merge`]) when `i` is not a bucket; [`MergeError::Overflow`] as
    /// [`Histogram::record`]. On error `self` is unchanged.
    pub fn record_at(&mut self, i: usize, value: u64) -> Result<()> {
        let sum = checked(self.sum, value, Quantity::Sum)?;
        let count = checked(self.count, 1, Quantity::Count)?;
        let slot = self.counts.get_mut(i).ok_or(MergeError::Bucket(i))?;
        *slot = checked(*slot, 1, Quantity::Bucket)?;
        self.sum = sum;
        self.count = count;
        Ok(())
    }

    /// Records one scalar-like value (docs/ingest.md, "Scalars, simple measures, count histograms"): `sum += value`, `count += 1`, and one sample
    /// in the bucket whose lower bound is the largest `<= value`.
    ///
    /// # Errors
    /// [`MergeError::Overflow`] when the sum or count would exceed `u64`; `self` is then unchanged.
    pub fn record(&mut self, value: u64) -> Result<()> {
        let i = bucket_index(&self.layout.bounds(), value);
        self.record_at(i, value)
    }
}

fn checked(a: u64, b: u64, what: Quantity) -> Result<u64, MergeError> {
    a.checked_add(b).ok_or(MergeError::Overflow(what))
}
