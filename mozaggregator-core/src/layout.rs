//! Firefox's bucket layouts, bit-exact.
//!
//! A layout is the list of bucket lower bounds of a histogram. Firefox computes them with two
//! functions, [`exponential_buckets`] and [`linear_buckets`], in IEEE f64 in a fixed operation
//! order; this module reproduces them exactly (docs/definitions.md, "Layout functions"). A layout is identified by a small
//! [`LayoutSpec`] (kind, low, high, bucket count), which is what pings declare and what stores
//! keep; [`BucketLayout`] is the spec together with its computed bounds and, for categorical
//! histograms, their labels.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Largest bucket count accepted anywhere. Firefox's own limit is far below it.
pub const MAX_BUCKETS: u32 = 100_000;

/// Largest `high` accepted: above 2^53 the f64 arithmetic of the layout functions is inexact.
pub const MAX_HIGH: u64 = 1 << 53;

/// Firefox's histogram kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Exponentially spaced buckets (ping `histogram_type` 0).
    Exponential,
    /// Linearly spaced buckets (ping `histogram_type` 1).
    Linear,
    /// Two values, buckets `[0, 1, 2]` (type 2).
    Boolean,
    /// One value set once, buckets `[0, 1, 2]` (type 3).
    Flag,
    /// A counter, buckets `[0, 1, 2]` (type 4); aggregated as a `[[COUNT]]_` series.
    Count,
    /// Small integers `0..=n_values` (declared by pings as linear, type 1).
    Enumerated,
    /// Labelled buckets, stored by label index (type 5).
    Categorical,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Kind; 7] = [
        Kind::Exponential,
        Kind::Linear,
        Kind::Boolean,
        Kind::Flag,
        Kind::Count,
        Kind::Enumerated,
        Kind::Categorical,
    ];

    /// The name used by Histograms.json and the HTTP API (`"exponential"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Exponential => "exponential",
            Kind::Linear => "linear",
            Kind::Boolean => "boolean",
            Kind::Flag => "flag",
            Kind::Count => "count",
            Kind::Enumerated => "enumerated",
            Kind::Categorical => "categorical",
        }
    }

    /// The kind a ping's `histogram_type` declares (0 exponential, 1 linear, 2 boolean, 3 flag,
    /// 4 count, 5 categorical); `None` for any other number.
    pub fn from_histogram_type(histogram_type: i64) -> Option<Kind> {
        Some(match histogram_type {
            0 => Kind::Exponential,
            1 => Kind::Linear,
            2 => Kind::Boolean,
            3 => Kind::Flag,
            4 => Kind::Count,
            5 => Kind::Categorical,
            _ => return None,
        })
    }

    /// The ping `histogram_type` of this kind (enumerated is declared as linear).
    #[inline]
    pub fn histogram_type(self) -> u8 {
        match self {
            Kind::Exponential => 0,
            Kind::Linear | Kind::Enumerated => 1,
            Kind::Boolean => 2,
            Kind::Flag => 3,
            Kind::Count => 4,
            Kind::Categorical => 5,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| Error::invalid("histogram kind", format!("`{s}` is not a kind")))
    }
}

/// Firefox's `exponential_buckets(min, max, n)`: `n` lower bounds starting at 0.
///
/// Computed in f64 in Firefox's exact operation order; ties of `+ 0.5` round up.
///
/// ```
/// use mozaggregator_core::exponential_buckets;
/// let b = exponential_buckets(1, 10000, 50).unwrap();
/// assert_eq!(&b[..10], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 10]);
/// assert_eq!(b.last(), Some(&10000));
/// ```
///
/// # Errors
/// [`Error::InvalidLayout`] when `n < 3`, `min < 1`, `max <= min`, `max > 2^53` or
/// `n > MAX_BUCKETS`.
pub fn exponential_buckets(min: u64, max: u64, n: u32) -> Result<Vec<u64>> {
    check_range("exponential", min, max, n)?;
    let n_f = f64::from(n);
    let log_max = (max as f64).ln();
    let mut out = Vec::with_capacity(n as usize);
    out.push(0);
    out.push(min);
    let mut current = min;
    for i in 2..n {
        let log_current = (current as f64).ln();
        let log_ratio = (log_max - log_current) / (n_f - f64::from(i));
        let next = ((log_current + log_ratio).exp() + 0.5).floor() as u64;
        current = if next > current { next } else { current + 1 };
        out.push(current);
    }
    Ok(out)
}

/// Firefox's `linear_buckets(min, max, n)`: `n` lower bounds starting at 0.
///
/// `r[i] = floor((min*(n-1-i) + max*(i-1)) / (n-2) + 0.5)`, in f64, in that order: exact `.5`
/// ties round up (`linear_buckets(1, 1000, 50)[9] == 168`).
///
/// ```
/// use mozaggregator_core::linear_buckets;
/// let b = linear_buckets(1, 1000, 50).unwrap();
/// assert_eq!(&b[..10], &[0, 1, 22, 43, 63, 84, 105, 126, 147, 168]);
/// ```
///
/// # Errors
/// As [`exponential_buckets`].
pub fn linear_buckets(min: u64, max: u64, n: u32) -> Result<Vec<u64>> {
    check_range("linear", min, max, n)?;
    let (min_f, max_f, n_f) = (min as f64, max as f64, f64::from(n));
    let mut out = Vec::with_capacity(n as usize);
    out.push(0);
    for i in 1..n {
        let i_f = f64::from(i);
        let v = (min_f * (n_f - 1.0 - i_f) + max_f * (i_f - 1.0)) / (n_f - 2.0);
        out.push((v + 0.5).floor() as u64);
    }
    Ok(out)
}

fn check_range(what: &str, min: u64, max: u64, n: u32) -> Result<()> {
    if n < 3 {
        return Err(Error::InvalidLayout(format!(
            "{what}: bucket count {n} < 3"
        )));
    }
    if n > MAX_BUCKETS {
        return Err(Error::InvalidLayout(format!(
            "{what}: bucket count {n} > {MAX_BUCKETS}"
        )));
    }
    if min < 1 {
        return Err(Error::InvalidLayout(format!("{what}: low {min} < 1")));
    }
    if max <= min {
        return Err(Error::InvalidLayout(format!(
            "{what}: high {max} <= low {min}"
        )));
    }
    if max > MAX_HIGH {
        return Err(Error::InvalidLayout(format!("{what}: high {max} > 2^53")));
    }
    Ok(())
}

/// The identity of a layout: kind, `low`, `high` and bucket count `n`.
///
/// This is what a ping declares (`histogram_type`, `range`, `bucket_count`) and what stores keep
/// next to every series. It is small and `Copy`; [`BucketLayout::new`] computes the bounds.
/// Every constructor validates, so a `LayoutSpec` always describes a valid layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LayoutSpec {
    kind: Kind,
    low: u64,
    high: u64,
    n: u32,
}

impl LayoutSpec {
    /// Exponential buckets `exponential_buckets(low, high, n)`.
    ///
    /// # Errors
    /// As [`exponential_buckets`].
    pub fn exponential(low: u64, high: u64, n: u32) -> Result<Self> {
        check_range("exponential", low, high, n)?;
        Ok(Self::raw(Kind::Exponential, low, high, n))
    }

    /// Linear buckets `linear_buckets(low, high, n)`; rejects parameters whose bounds would not
    /// be strictly increasing (more buckets than distinct values).
    ///
    /// # Errors
    /// As [`exponential_buckets`], and when `n - 1 > high - low + 1`.
    pub fn linear(low: u64, high: u64, n: u32) -> Result<Self> {
        check_range("linear", low, high, n)?;
        if u64::from(n) - 1 > high - low + 1 {
            return Err(Error::InvalidLayout(format!(
                "linear: {n} buckets over [{low}, {high}] are not strictly increasing"
            )));
        }
        Ok(Self::raw(Kind::Linear, low, high, n))
    }

    /// Enumerated buckets `[0, 1, …, n_values]`.
    ///
    /// # Errors
    /// [`Error::InvalidLayout`] when `n_values < 2` or the layout would be too large.
    pub fn enumerated(n_values: u64) -> Result<Self> {
        if n_values < 2 || n_values >= u64::from(MAX_BUCKETS) {
            return Err(Error::InvalidLayout(format!(
                "enumerated: n_values {n_values} outside 2..{MAX_BUCKETS}"
            )));
        }
        Ok(Self::raw(
            Kind::Enumerated,
            1,
            n_values,
            n_values as u32 + 1,
        ))
    }

    /// Boolean: `[0, 1, 2]`.
    pub fn boolean() -> Self {
        Self::raw(Kind::Boolean, 1, 2, 3)
    }

    /// Flag: `[0, 1, 2]`.
    pub fn flag() -> Self {
        Self::raw(Kind::Flag, 1, 2, 3)
    }

    /// Count: `[0, 1, 2]`.
    pub fn count() -> Self {
        Self::raw(Kind::Count, 1, 2, 3)
    }

    /// Categorical with `n` label indices `0..n`.
    ///
    /// # Errors
    /// [`Error::InvalidLayout`] when `n < 2` or `n > MAX_BUCKETS`.
    pub fn categorical(n: u32) -> Result<Self> {
        if !(2..=MAX_BUCKETS).contains(&n) {
            return Err(Error::InvalidLayout(format!(
                "categorical: {n} buckets outside 2..={MAX_BUCKETS}"
            )));
        }
        Ok(Self::raw(Kind::Categorical, 1, u64::from(n) - 1, n))
    }

    /// The layout a ping declares with `histogram_type`, `range: [low, high]` and
    /// `bucket_count: n` (docs/definitions.md, "Layout per kind"): 0 exponential, 1 linear (also enumerated), 2/3/4
    /// `[0, 1, 2]`, 5 categorical indices `0..n`.
    ///
    /// ```
    /// use mozaggregator_core::{Kind, LayoutSpec};
    /// let spec = LayoutSpec::from_ping(0, 1, 10000, 50).unwrap();
    /// assert_eq!(spec.kind(), Kind::Exponential);
    /// assert!(LayoutSpec::from_ping(0, 0, 10000, 50).is_err()); // low < 1
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidLayout`] for an unknown type or parameters no valid layout has.
    pub fn from_ping(histogram_type: i64, low: u64, high: u64, n: u64) -> Result<Self> {
        let kind = Kind::from_histogram_type(histogram_type).ok_or_else(|| {
            Error::InvalidLayout(format!("unknown histogram_type {histogram_type}"))
        })?;
        let n32 = u32::try_from(n)
            .ok()
            .filter(|&n| n <= MAX_BUCKETS)
            .ok_or_else(|| Error::InvalidLayout(format!("bucket count {n} > {MAX_BUCKETS}")))?;
        match kind {
            Kind::Exponential => Self::exponential(low, high, n32),
            Kind::Linear | Kind::Enumerated => Self::linear(low, high, n32),
            Kind::Boolean => Ok(Self::boolean()),
            Kind::Flag => Ok(Self::flag()),
            Kind::Count => Ok(Self::count()),
            Kind::Categorical => Self::categorical(n32),
        }
    }

    /// Rebuilds a spec from its four parts (as a store keeps them), validating them.
    ///
    /// # Errors
    /// [`Error::InvalidLayout`] when the parts do not describe a valid layout.
    pub fn from_parts(kind: Kind, low: u64, high: u64, n: u32) -> Result<Self> {
        let spec = match kind {
            Kind::Exponential => Self::exponential(low, high, n)?,
            Kind::Linear => Self::linear(low, high, n)?,
            Kind::Enumerated => Self::enumerated(high)?,
            Kind::Boolean => Self::boolean(),
            Kind::Flag => Self::flag(),
            Kind::Count => Self::count(),
            Kind::Categorical => Self::categorical(n)?,
        };
        if spec != Self::raw(kind, low, high, n) {
            return Err(Error::InvalidLayout(format!(
                "{kind} layout cannot have low {low}, high {high}, {n} buckets"
            )));
        }
        Ok(spec)
    }

    const fn raw(kind: Kind, low: u64, high: u64, n: u32) -> Self {
        Self { kind, low, high, n }
    }

    /// The kind.
    #[inline]
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The lowest non-zero bound.
    #[inline]
    pub fn low(&self) -> u64 {
        self.low
    }

    /// The highest bound.
    #[inline]
    pub fn high(&self) -> u64 {
        self.high
    }

    /// Number of buckets.
    pub fn len(&self) -> usize {
        self.n as usize
    }

    /// Number of buckets, as declared.
    #[inline]
    pub fn bucket_count(&self) -> u32 {
        self.n
    }

    /// Always false: every layout has at least two buckets.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The lower bounds of this layout.
    pub fn bounds(&self) -> Vec<u64> {
        match self.kind {
            Kind::Exponential => exponential_buckets(self.low, self.high, self.n)
                .unwrap_or_else(|_| unreachable_bounds(self.n)),
            Kind::Linear => linear_buckets(self.low, self.high, self.n)
                .unwrap_or_else(|_| unreachable_bounds(self.n)),
            Kind::Boolean | Kind::Flag | Kind::Count => vec![0, 1, 2],
            Kind::Enumerated | Kind::Categorical => (0..u64::from(self.n)).collect(),
        }
    }

    /// True when both specs have the same lower bounds (e.g. an enumerated definition and the
    /// linear layout a ping declares for it, or a flag and a boolean).
    pub fn same_bounds(&self, other: &LayoutSpec) -> bool {
        self == other || (self.n == other.n && self.bounds() == other.bounds())
    }
}

// Specs are validated on construction, so the layout functions cannot fail on them; this keeps
// `bounds()` total without a panic path.
fn unreachable_bounds(n: u32) -> Vec<u64> {
    (0..u64::from(n)).collect()
}

/// A bucket layout: a [`LayoutSpec`] with its lower bounds and, for categorical histograms,
/// labels.
///
/// ```
/// use mozaggregator_core::BucketLayout;
/// let layout = BucketLayout::exponential(1, 10000, 50).unwrap();
/// assert_eq!(layout.bucket_index(42), 17); // bounds[17] == 40 <= 42 < 48
/// assert_eq!(layout.bounds()[17], 40);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BucketLayout {
    spec: LayoutSpec,
    bounds: Vec<u64>,
    labels: Vec<String>,
}

impl BucketLayout {
    /// The layout of a spec (categorical without labels).
    pub fn new(spec: LayoutSpec) -> Self {
        Self {
            bounds: spec.bounds(),
            spec,
            labels: Vec::new(),
        }
    }

    /// `exponential_buckets(low, high, n)`.
    ///
    /// # Errors
    /// As [`exponential_buckets`].
    pub fn exponential(low: u64, high: u64, n: u32) -> Result<Self> {
        LayoutSpec::exponential(low, high, n).map(Self::new)
    }

    /// `linear_buckets(low, high, n)`.
    ///
    /// # Errors
    /// As [`LayoutSpec::linear`].
    pub fn linear(low: u64, high: u64, n: u32) -> Result<Self> {
        LayoutSpec::linear(low, high, n).map(Self::new)
    }

    /// Boolean, `[0, 1, 2]`.
    pub fn boolean() -> Self {
        Self::new(LayoutSpec::boolean())
    }

    /// Flag, `[0, 1, 2]`.
    pub fn flag() -> Self {
        Self::new(LayoutSpec::flag())
    }

    /// Count, `[0, 1, 2]`.
    pub fn count() -> Self {
        Self::new(LayoutSpec::count())
    }

    /// Enumerated, `[0, 1, …, n_values]`.
    ///
    /// # Errors
    /// As [`LayoutSpec::enumerated`].
    pub fn enumerated(n_values: u64) -> Result<Self> {
        LayoutSpec::enumerated(n_values).map(Self::new)
    }

    /// Categorical with `labels`: indices `0..=N`, `N = max(#labels, n_values, 50)`
    /// (docs/definitions.md, "Layout per kind"). Served labels are `labels + ["spill"]`.
    ///
    /// ```
    /// use mozaggregator_core::BucketLayout;
    /// let l = BucketLayout::categorical(vec!["a".into(), "b".into()], None).unwrap();
    /// assert_eq!(l.bounds().len(), 51);
    /// assert_eq!(l.served_labels(), vec!["a", "b", "spill"]);
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidLayout`] when there are no labels or too many buckets.
    pub fn categorical(labels: Vec<String>, n_values: Option<u64>) -> Result<Self> {
        if labels.is_empty() {
            return Err(Error::InvalidLayout("categorical: no labels".into()));
        }
        let n = (labels.len() as u64).max(n_values.unwrap_or(0)).max(50);
        let n = n
            .checked_add(1)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| Error::InvalidLayout(format!("categorical: {n} values")))?;
        let mut layout = Self::new(LayoutSpec::categorical(n)?);
        layout.labels = labels;
        Ok(layout)
    }

    /// This layout with categorical `labels` attached (e.g. from definitions).
    pub fn with_labels(mut self, labels: Vec<String>) -> Self {
        self.labels = labels;
        self
    }

    /// The spec.
    pub fn spec(&self) -> LayoutSpec {
        self.spec
    }

    /// The kind.
    pub fn kind(&self) -> Kind {
        self.spec.kind
    }

    /// Lower bounds, starting at 0.
    pub fn bounds(&self) -> &[u64] {
        &self.bounds
    }

    /// Categorical labels (without `spill`); empty for other kinds.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Labels as served: categorical labels followed by `"spill"`, else empty.
    pub fn served_labels(&self) -> Vec<&str> {
        if self.labels.is_empty() {
            return Vec::new();
        }
        self.labels
            .iter()
            .map(String::as_str)
            .chain(std::iter::once("spill"))
            .collect()
    }

    /// Index of the bucket holding `value`: the largest lower bound `<= value`.
    pub fn bucket_index(&self, value: u64) -> usize {
        bucket_index(&self.bounds, value)
    }

    /// Index of the bucket whose lower bound is exactly `bound`, if there is one.
    pub fn exact_index(&self, bound: u64) -> Option<usize> {
        self.bounds.binary_search(&bound).ok()
    }
}

/// Index of the largest bound `<= value` in sorted `bounds` (0 when `value` is below all).
pub fn bucket_index(bounds: &[u64], value: u64) -> usize {
    bounds.partition_point(|&b| b <= value).saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_tie_rounds_up() {
        assert_eq!(linear_buckets(1, 1000, 50).unwrap()[9], 168);
    }

    #[test]
    fn degenerate_parameters_are_errors() {
        assert!(exponential_buckets(1, 10, 2).is_err());
        assert!(exponential_buckets(0, 10, 5).is_err());
        assert!(exponential_buckets(10, 10, 5).is_err());
        assert!(exponential_buckets(1, 10, 1_000_000_000).is_err());
        assert!(linear_buckets(1, u64::MAX, 10).is_err());
        assert!(LayoutSpec::linear(1, 5, 20).is_err());
        assert!(LayoutSpec::from_ping(9, 1, 10, 10).is_err());
        assert!(LayoutSpec::from_ping(0, 1, 10, u64::MAX).is_err());
        assert!(LayoutSpec::categorical(1).is_err());
        assert!(LayoutSpec::enumerated(1).is_err());
        assert!(BucketLayout::categorical(vec!["a".into()], Some(u64::MAX)).is_err());
    }

    #[test]
    fn enumerated_equals_declared_linear() {
        let e = LayoutSpec::enumerated(11).unwrap();
        let l = LayoutSpec::from_ping(1, 1, 11, 12).unwrap();
        assert_eq!(e.bounds(), (0..12).collect::<Vec<_>>());
        assert!(e.same_bounds(&l));
        assert!(!e.same_bounds(&LayoutSpec::boolean()));
    }

    #[test]
    fn from_parts_round_trips_and_validates() {
        for spec in [
            LayoutSpec::exponential(1, 500, 20).unwrap(),
            LayoutSpec::linear(1, 100, 10).unwrap(),
            LayoutSpec::enumerated(20).unwrap(),
            LayoutSpec::categorical(51).unwrap(),
            LayoutSpec::flag(),
        ] {
            let back =
                LayoutSpec::from_parts(spec.kind(), spec.low(), spec.high(), spec.bucket_count());
            assert_eq!(back.unwrap(), spec);
        }
        assert!(LayoutSpec::from_parts(Kind::Flag, 1, 2, 4).is_err());
    }

    #[test]
    fn bucket_index_picks_largest_lower_bound() {
        let l = BucketLayout::exponential(1, 10000, 100).unwrap();
        assert_eq!(l.bounds()[l.bucket_index(42)], 40);
        assert_eq!(l.bucket_index(0), 0);
        assert_eq!(l.bucket_index(u64::MAX), 99);
        let sm = BucketLayout::exponential(1, 30000, 50).unwrap();
        assert_eq!(sm.bounds()[sm.bucket_index(42)], 35);
    }
}
