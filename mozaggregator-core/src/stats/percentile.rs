//! Percentiles by three methods: `interp`, `nearest` (GLAM) and `tmo` (telemetry.js).

use std::fmt;
use std::str::FromStr;

use super::{has_order, tmo, Distribution};
use crate::error::{Error, Result};
use crate::layout::Kind;

/// How a percentile is read from a bucketed distribution.
///
/// ```
/// use mozaggregator_core::stats::PercentileMethod;
/// assert_eq!(PercentileMethod::default(), PercentileMethod::Interp);
/// assert_eq!("nearest".parse::<PercentileMethod>().unwrap(), PercentileMethod::Nearest);
/// assert_eq!(PercentileMethod::Tmo.name(), "tmo");
/// assert!("median".parse::<PercentileMethod>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PercentileMethod {
    /// Interpolation inside the bucket holding the rank: geometric in the buckets of
    /// exponential layouts (linear in their zero bucket), linear for every other kind; the
    /// lower bound in the last (overflow) bucket.
    #[default]
    Interp,
    /// GLAM's rule: the lower bound of the first non-empty bucket whose cumulative proportion
    /// reaches `p / 100`.
    Nearest,
    /// What telemetry.js v2 (`Histogram.prototype.percentile`) computes, quirks included.
    Tmo,
}

impl PercentileMethod {
    /// Every method, in declaration order.
    pub const ALL: [PercentileMethod; 3] = [
        PercentileMethod::Interp,
        PercentileMethod::Nearest,
        PercentileMethod::Tmo,
    ];

    /// The name used in requests: `"interp"`, `"nearest"` or `"tmo"`.
    pub fn name(self) -> &'static str {
        match self {
            PercentileMethod::Interp => "interp",
            PercentileMethod::Nearest => "nearest",
            PercentileMethod::Tmo => "tmo",
        }
    }
}

impl fmt::Display for PercentileMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PercentileMethod {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        PercentileMethod::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "pct_method",
                    format!("`{s}` is not a percentile method (interp, nearest or tmo)"),
                )
            })
    }
}

/// A bucket `[lower, upper]` as answers give it: `upper` is `None` for the last (overflow)
/// bucket.
pub type Bucket = (u64, Option<u64>);

/// One percentile: its value and the bucket `[lower, upper]` it was read from (`upper` is
/// `None` for the last, overflow bucket). Both are `None` when the percentile is not defined:
/// no samples, a kind without order, or a `tmo` answer that telemetry.js gives as `NaN`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Percentile {
    /// The value, finite when present.
    pub value: Option<f64>,
    /// The bucket `[lower, upper]` the value was read from.
    pub bucket: Option<Bucket>,
}

impl Percentile {
    /// The undefined percentile: no value, no bucket.
    pub const NONE: Percentile = Percentile {
        value: None,
        bucket: None,
    };

    /// A defined percentile; a non-finite value makes it [`Percentile::NONE`].
    pub(super) fn new(value: f64, lower: u64, upper: Option<u64>) -> Self {
        if value.is_finite() {
            Percentile {
                value: Some(value),
                bucket: Some((lower, upper)),
            }
        } else {
            Percentile::NONE
        }
    }
}

/// Checks that `p` is a percentile: a number in `[0, 100]`.
pub(super) fn check(p: f64) -> Result<()> {
    if (0.0..=100.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::invalid(
            "percentile",
            format!("{p} is not a number between 0 and 100"),
        ))
    }
}

/// The `p`-th percentile (`0 <= p <= 100`) of `d` by `method`.
///
/// `Ok` with [`Percentile::NONE`] when `d` has no samples or its kind has no order
/// ([`has_order`](super::has_order)), whatever the method.
///
/// ```
/// use mozaggregator_core::stats::{percentile, Distribution, PercentileMethod::*};
/// use mozaggregator_core::Kind;
/// // GLAM's own example: one sample at 0, two at 2, one at 3.
/// let d = Distribution { kind: Kind::Linear, bounds: &[0, 2, 3, 4], counts: &[1, 2, 1, 0], sum: 7 };
/// assert_eq!(percentile(&d, 50.0, Nearest).unwrap().value, Some(2.0));
/// assert_eq!(percentile(&d, 50.0, Interp).unwrap().value, Some(2.5)); // halfway into [2, 3)
/// assert_eq!(percentile(&d, 100.0, Interp).unwrap().value, Some(4.0)); // upper bound of [3, 4)
/// assert_eq!(percentile(&d, 100.0, Tmo).unwrap().value, None); // telemetry.js says NaN
/// assert!(percentile(&d, 101.0, Interp).is_err());
/// ```
///
/// # Errors
/// [`Error::Invalid`] when `p` is NaN or outside `[0, 100]`.
pub fn percentile(d: &Distribution<'_>, p: f64, method: PercentileMethod) -> Result<Percentile> {
    let mut all = percentiles(d, &[p], method)?;
    Ok(all.pop().unwrap_or(Percentile::NONE))
}

/// The percentiles `ps` of `d` by `method`, in the order of `ps`: the same answers as
/// [`percentile`] for each, computed in one pass over the buckets (`tmo` makes one pass per
/// percentile, as telemetry.js does).
///
/// ```
/// use mozaggregator_core::stats::{percentiles, Distribution, PercentileMethod};
/// use mozaggregator_core::Kind;
/// let d = Distribution { kind: Kind::Exponential, bounds: &[0, 1, 10, 100], counts: &[0, 0, 4, 0], sum: 120 };
/// let ps = percentiles(&d, &[50.0, 0.0, 100.0], PercentileMethod::Interp).unwrap();
/// let values: Vec<_> = ps.iter().map(|p| p.value.unwrap()).collect();
/// assert_eq!(values[1], 10.0); // p0: the lower bound of the first non-empty bucket
/// assert!((values[0] - 31.6227766).abs() < 1e-6); // geometric middle of [10, 100)
/// assert_eq!(values[2], 100.0);
/// ```
///
/// # Errors
/// [`Error::Invalid`] when any `p` is NaN or outside `[0, 100]`.
pub fn percentiles(
    d: &Distribution<'_>,
    ps: &[f64],
    method: PercentileMethod,
) -> Result<Vec<Percentile>> {
    for &p in ps {
        check(p)?;
    }
    let mut order: Vec<usize> = (0..ps.len()).collect();
    order.sort_by(|&a, &b| ps[a].total_cmp(&ps[b]));
    let mut out = vec![Percentile::NONE; ps.len()];
    percentiles_into(d, d.total(), ps, &order, method, None, &mut out);
    Ok(out)
}

/// [`percentiles`] of checked `ps` into `out` (as long as `ps`), with `total` the samples of
/// `d` and `order` the indexes of `ps` in ascending order of value: the allocation-free core
/// that [`super::Plan`] runs for every entry of an answer.
#[allow(clippy::too_many_arguments)]
pub(crate) fn percentiles_into(
    d: &Distribution<'_>,
    total: u128,
    ps: &[f64],
    order: &[usize],
    method: PercentileMethod,
    logs: Option<&BoundLogs>,
    out: &mut [Percentile],
) {
    out.fill(Percentile::NONE);
    if total == 0 || !has_order(d.kind) {
        return;
    }
    if method == PercentileMethod::Tmo {
        for (o, &p) in out.iter_mut().zip(ps) {
            *o = tmo::percentile(d, p);
        }
        return;
    }
    // Counts in 64 bits when the total fits (always, in practice): converting a u128 to f64
    // is a slow software routine, and the walk converts at every bucket.
    match u64::try_from(total) {
        Ok(total) => walk(d, ps, order, method, total, logs, out),
        Err(_) => walk(d, ps, order, method, total, logs, out),
    }
}

/// A cumulative sample count: u64, or u128 for totals beyond 2^64.
trait Count:
    Copy + From<u64> + PartialOrd + std::ops::Add<Output = Self> + std::ops::Sub<Output = Self>
{
    fn to_f64(self) -> f64;

    /// The least count `c` with `c.to_f64() >= rank`, when every count up to `total` converts
    /// to f64 exactly (so that comparing counts as integers decides the same); else `None`.
    fn threshold(rank: f64, total: Self) -> Option<Self>;
}

impl Count for u64 {
    fn to_f64(self) -> f64 {
        self as f64
    }

    fn threshold(rank: f64, total: u64) -> Option<u64> {
        // Below 2^53 every integer is an f64; `rank` is in [0, total]. `ceil` without the libm
        // call (x86-64's baseline has no rounding instruction): truncate, then step up when
        // that was below.
        (total < 1 << 53 && rank >= 0.0).then(|| {
            let floor = rank as u64;
            floor + u64::from((floor as f64) < rank)
        })
    }
}

impl Count for u128 {
    fn to_f64(self) -> f64 {
        self as f64
    }

    fn threshold(_: f64, _: u128) -> Option<u128> {
        None
    }
}

/// One walk over the buckets, percentiles in ascending order: `i` is the current non-empty
/// bucket, `before` the samples before it.
fn walk<C: Count>(
    d: &Distribution<'_>,
    ps: &[f64],
    order: &[usize],
    method: PercentileMethod,
    total: C,
    logs: Option<&BoundLogs>,
    out: &mut [Percentile],
) {
    let counts = d.used_counts();
    let next_nonempty = |from: usize| (from..counts.len()).find(|&j| counts[j] > 0);
    let Some(mut i) = next_nonempty(0) else {
        return;
    };
    let mut before = C::from(0);
    let n = total.to_f64();
    for &at in order {
        let p = ps[at];
        // The rank, computed once per percentile (the walk below tests it at every bucket).
        let rank = p / 100.0 * n;
        let fraction = p / 100.0;
        // The first non-empty bucket that reaches the percentile; the cumulative count of the
        // last one is the total, which always does, so the walk stops there at the latest.
        let threshold = match method {
            PercentileMethod::Nearest => None,
            _ => C::threshold(rank, total),
        };
        let reaches = |through: C| match (method, threshold) {
            (_, Some(need)) => through >= need,
            (PercentileMethod::Nearest, None) => through.to_f64() / n >= fraction,
            (_, None) => through.to_f64() >= rank,
        };
        let mut through = before + C::from(counts[i]);
        while !reaches(through) {
            let Some(j) = next_nonempty(i + 1) else {
                break;
            };
            before = through;
            i = j;
            through = before + C::from(counts[i]);
        }
        out[at] = in_bucket(
            d,
            method,
            logs,
            i,
            rank,
            before.to_f64(),
            (through - before).to_f64(),
        );
    }
}

/// The percentile at `rank` in bucket `i`, which holds `count` samples after the `before`
/// ones of the buckets below it.
fn in_bucket(
    d: &Distribution<'_>,
    method: PercentileMethod,
    logs: Option<&BoundLogs>,
    i: usize,
    rank: f64,
    before: f64,
    count: f64,
) -> Percentile {
    let lower = d.bounds[i];
    let upper = d.upper(i);
    match method {
        PercentileMethod::Nearest => Percentile::new(lower as f64, lower, upper),
        _ => Percentile::new(interp_value(d, logs, i, rank, before, count), lower, upper),
    }
}

/// The `interp` value of the rank `rank` in bucket `i`, which holds `count` samples after
/// `before` others.
#[inline]
fn interp_value(
    d: &Distribution<'_>,
    logs: Option<&BoundLogs>,
    i: usize,
    rank: f64,
    before: f64,
    count: f64,
) -> f64 {
    let lower = d.bounds[i];
    let f = ((rank - before) / count).clamp(0.0, 1.0);
    let ln = |j: usize, bound: u64| match logs {
        Some(logs) => logs.get(j, bound),
        None => (bound as f64).ln(),
    };
    interpolate(d.kind, lower, d.upper(i), f, |u| {
        (ln(i, lower), ln(i + 1, u))
    })
}

/// What [`values_cumulative`] keeps from one call to the next.
#[derive(Debug, Default)]
pub(crate) struct Search {
    /// `hints[k]`: the bucket where the previous call found `ps[k]`.
    hints: Vec<usize>,
    /// The percentiles of the walk, for the distributions it answers.
    walked: Vec<Percentile>,
}

/// The values of [`percentiles_into`] (`out[k]`: the value of `ps[k]`) given the cumulative
/// counts of `d`'s used buckets (`cumulative[i]`: the samples of buckets `0..=i`), as a
/// jackknife has them for each of its leave-one-out distributions: each `interp` percentile is
/// found by a search from the bucket where the previous call found it (a leave-one-out
/// distribution's percentile mostly lies in the same bucket as the whole's), and only its
/// value is made. The same values as [`percentiles_into`] (other methods, and totals of 2^53
/// samples or more, take its path).
#[allow(clippy::too_many_arguments)]
pub(crate) fn values_cumulative(
    d: &Distribution<'_>,
    cumulative: &[u64],
    ps: &[f64],
    order: &[usize],
    method: PercentileMethod,
    logs: Option<&BoundLogs>,
    search: &mut Search,
    out: &mut [Option<f64>],
) {
    let total = cumulative.last().copied().unwrap_or(0);
    if method != PercentileMethod::Interp
        || total >= 1 << 53
        || cumulative.len() != d.used_counts().len()
    {
        let walked = &mut search.walked;
        walked.clear();
        walked.resize(ps.len(), Percentile::NONE);
        percentiles_into(d, u128::from(total), ps, order, method, logs, walked);
        for (o, p) in out.iter_mut().zip(walked.iter()) {
            *o = p.value;
        }
        return;
    }
    let hints = &mut search.hints;
    out.fill(None);
    if total == 0 || !has_order(d.kind) {
        return;
    }
    let n = total as f64;
    hints.resize(ps.len(), 0);
    let last = cumulative.len() - 1;
    for &at in order {
        let rank = ps[at] / 100.0 * n;
        // As the walk: the first non-empty bucket whose cumulative count reaches the rank's
        // integer threshold (at least one sample, so that p0 lands in the first non-empty
        // bucket); the last bucket's count is the total, which every rank reaches. The
        // cumulative counts ascend, so walking from the hint finds that first bucket.
        let need = u64::threshold(rank, total).unwrap_or(total).clamp(1, total);
        let mut i = hints[at].min(last);
        while cumulative[i] < need {
            i += 1;
        }
        while i > 0 && cumulative[i - 1] >= need {
            i -= 1;
        }
        hints[at] = i;
        let through = cumulative[i];
        let before = i.checked_sub(1).map_or(0, |j| cumulative[j]);
        let value = interp_value(d, logs, i, rank, before as f64, (through - before) as f64);
        out[at] = value.is_finite().then_some(value);
    }
}

/// The natural logarithms of the bucket bounds of a layout, computed once for the many
/// distributions of one answer (see [`super::Plan::summarize_with`]): geometric interpolation
/// then costs one `exp` instead of a `powf`. The numbers are the same with or without them.
#[derive(Clone, Debug, PartialEq)]
pub struct BoundLogs(Box<[(u64, f64)]>);

impl BoundLogs {
    /// The logarithms of `bounds`.
    pub fn new(bounds: &[u64]) -> Self {
        Self(bounds.iter().map(|&b| (b, (b as f64).ln())).collect())
    }

    /// ln(`bound`), the bound at `index`: from the table when it holds that bound there.
    fn get(&self, index: usize, bound: u64) -> f64 {
        match self.0.get(index) {
            Some(&(b, ln)) if b == bound => ln,
            _ => (bound as f64).ln(),
        }
    }
}

/// The point a fraction `f` (in `[0, 1]`) into the bucket `[lower, upper]`: geometric for
/// exponential layouts above their zero bucket (`exp(ln l + f·(ln u − ln l))`, with `logs(u)`
/// giving (ln l, ln u)), linear otherwise, `lower` for the last bucket (no upper bound). The
/// result is kept inside the bucket despite rounding.
fn interpolate(
    kind: Kind,
    lower: u64,
    upper: Option<u64>,
    f: f64,
    logs: impl FnOnce(u64) -> (f64, f64),
) -> f64 {
    let l = lower as f64;
    let Some(upper) = upper else {
        return l;
    };
    let u = upper as f64;
    if u <= l {
        // Bounds that are not ascending (not a layout): the bucket has no width.
        return l;
    }
    let value = if f <= 0.0 {
        l
    } else if f >= 1.0 {
        u
    } else if kind == Kind::Exponential && lower > 0 {
        let (ll, lu) = logs(upper);
        (ll + f * (lu - ll)).exp()
    } else {
        l + f * (u - l)
    };
    value.max(l).min(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(kind: Kind, bounds: &[u64], counts: &[u64], p: f64, m: PercentileMethod) -> Percentile {
        let d = Distribution {
            kind,
            bounds,
            counts,
            sum: 0,
        };
        percentile(&d, p, m).unwrap()
    }

    fn value(kind: Kind, bounds: &[u64], counts: &[u64], p: f64, m: PercentileMethod) -> f64 {
        pct(kind, bounds, counts, p, m).value.unwrap()
    }

    const EXP: [u64; 6] = [0, 1, 2, 4, 8, 16];
    use PercentileMethod::{Interp, Nearest};

    #[test]
    fn method_names_round_trip() {
        for m in PercentileMethod::ALL {
            assert_eq!(m.name().parse::<PercentileMethod>().unwrap(), m);
            assert_eq!(m.to_string(), m.name());
        }
        let err = "Interp".parse::<PercentileMethod>().unwrap_err();
        assert!(
            matches!(
                err,
                Error::Invalid {
                    what: "pct_method",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn invalid_p_is_an_error_for_every_kind() {
        for kind in Kind::ALL {
            let d = Distribution {
                kind,
                bounds: &[0, 1, 2],
                counts: &[0, 0, 0],
                sum: 0,
            };
            for p in [f64::NAN, -0.001, 100.001, f64::INFINITY, f64::NEG_INFINITY] {
                for m in PercentileMethod::ALL {
                    assert!(percentile(&d, p, m).is_err(), "{kind} {p} {m}");
                }
            }
            assert!(percentiles(&d, &[50.0, f64::NAN], Interp).is_err());
        }
    }

    #[test]
    fn empty_histogram_has_no_percentile() {
        for m in PercentileMethod::ALL {
            for p in [0.0, 50.0, 100.0] {
                assert_eq!(
                    pct(Kind::Exponential, &EXP, &[0; 6], p, m),
                    Percentile::NONE
                );
            }
        }
    }

    #[test]
    fn unordered_kinds_have_no_percentile() {
        for kind in [Kind::Categorical, Kind::Boolean, Kind::Flag] {
            for m in PercentileMethod::ALL {
                assert_eq!(pct(kind, &[0, 1, 2], &[3, 4, 5], 50.0, m), Percentile::NONE);
            }
        }
    }

    #[test]
    fn interp_geometric_in_exponential_buckets() {
        // 4 samples in [4, 8): p50 is the geometric middle 4·√2.
        let counts = [0, 0, 0, 4, 0, 0];
        let p = pct(Kind::Exponential, &EXP, &counts, 50.0, Interp);
        assert!((p.value.unwrap() - 4.0 * 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(p.bucket, Some((4, Some(8))));
        // The same bucket of a linear histogram: the arithmetic middle.
        assert_eq!(value(Kind::Linear, &EXP, &counts, 50.0, Interp), 6.0);
        // Count and enumerated kinds interpolate linearly too.
        assert_eq!(value(Kind::Count, &EXP, &counts, 50.0, Interp), 6.0);
        assert_eq!(value(Kind::Enumerated, &EXP, &counts, 25.0, Interp), 5.0);
    }

    #[test]
    fn interp_zero_bucket_of_exponential_is_linear() {
        let counts = [4, 0, 0, 0, 0, 0];
        assert_eq!(value(Kind::Exponential, &EXP, &counts, 50.0, Interp), 0.5);
        assert_eq!(value(Kind::Exponential, &EXP, &counts, 0.0, Interp), 0.0);
        assert_eq!(value(Kind::Exponential, &EXP, &counts, 100.0, Interp), 1.0);
    }

    #[test]
    fn interp_overflow_bucket_is_its_lower_bound() {
        let counts = [0, 0, 0, 0, 0, 7];
        for p in [0.0, 50.0, 100.0] {
            let got = pct(Kind::Exponential, &EXP, &counts, p, Interp);
            assert_eq!(got.value, Some(16.0));
            assert_eq!(got.bucket, Some((16, None)));
            let got = pct(Kind::Exponential, &EXP, &counts, p, Nearest);
            assert_eq!(got.value, Some(16.0));
            assert_eq!(got.bucket, Some((16, None)));
        }
    }

    #[test]
    fn interp_p0_and_p100_are_the_ends_of_the_data() {
        let counts = [0, 0, 3, 0, 5, 0];
        let p0 = pct(Kind::Exponential, &EXP, &counts, 0.0, Interp);
        assert_eq!(p0.value, Some(2.0));
        assert_eq!(p0.bucket, Some((2, Some(4))));
        let p100 = pct(Kind::Exponential, &EXP, &counts, 100.0, Interp);
        assert_eq!(p100.value, Some(16.0));
        assert_eq!(p100.bucket, Some((8, Some(16))));
    }

    #[test]
    fn interp_rank_on_a_bucket_edge_stays_in_the_lower_bucket() {
        // 2 + 2 samples: the rank of p50 is 2 = the cumulative count of the first bucket, so
        // p50 is the upper end of [1, 2), not the lower end of the next non-empty bucket.
        let counts = [0, 2, 0, 2, 0, 0];
        let p = pct(Kind::Linear, &EXP, &counts, 50.0, Interp);
        assert_eq!(p.value, Some(2.0));
        assert_eq!(p.bucket, Some((1, Some(2))));
        // Just above it, the next non-empty bucket.
        let p = pct(Kind::Linear, &EXP, &counts, 50.000_001, Interp);
        assert_eq!(p.bucket, Some((4, Some(8))));
    }

    #[test]
    fn one_non_empty_bucket() {
        let counts = [0, 0, 0, 0, 9, 0];
        assert_eq!(value(Kind::Linear, &EXP, &counts, 0.0, Interp), 8.0);
        assert_eq!(value(Kind::Linear, &EXP, &counts, 50.0, Interp), 12.0);
        assert_eq!(value(Kind::Linear, &EXP, &counts, 100.0, Interp), 16.0);
        for p in [0.0, 50.0, 100.0] {
            assert_eq!(value(Kind::Linear, &EXP, &counts, p, Nearest), 8.0);
        }
    }

    #[test]
    fn percentiles_keep_the_request_order() {
        let d = Distribution {
            kind: Kind::Linear,
            bounds: &EXP,
            counts: &[1, 1, 1, 1, 1, 1],
            sum: 0,
        };
        let ps = [90.0, 10.0, 50.0, 10.0, 0.0, 100.0];
        for m in PercentileMethod::ALL {
            let all = percentiles(&d, &ps, m).unwrap();
            for (&p, got) in ps.iter().zip(&all) {
                assert_eq!(*got, percentile(&d, p, m).unwrap(), "{m} p{p}");
            }
        }
    }

    #[test]
    fn nonascending_bounds_do_not_panic() {
        let bounds = [5, 3, 3, 0];
        for kind in Kind::ALL {
            for m in PercentileMethod::ALL {
                for p in [0.0, 30.0, 100.0] {
                    let got = pct(kind, &bounds, &[1, 2, 3, 4], p, m);
                    assert!(got.value.is_none_or(f64::is_finite));
                }
            }
        }
    }

    proptest::proptest! {
        /// The integer threshold of a rank is the least count that reaches it as a float.
        #[test]
        fn threshold_is_the_least_count_reaching_the_rank(
            total in 0u64..(1 << 53),
            p in 0.0f64..=100.0,
            small in proptest::bool::ANY,
        ) {
            let total = if small { total % 1000 } else { total };
            let rank = p / 100.0 * total as f64;
            let t = u64::threshold(rank, total);
            proptest::prop_assert!(t.is_some());
            let t = t.unwrap_or(0);
            proptest::prop_assert!(t as f64 >= rank);
            proptest::prop_assert!(t == 0 || ((t - 1) as f64) < rank);
            proptest::prop_assert_eq!(t, rank.ceil() as u64);
        }

        /// The jackknife's search on cumulative counts finds what the walk finds, for
        /// every method, kind and percentile, empty buckets and zero counts included.
        #[test]
        fn cumulative_search_equals_the_walk(
            counts in proptest::collection::vec(
                proptest::prop_oneof![3 => proptest::strategy::Just(0u64), 2 => 0u64..5, 1 => 0u64..1_000_000],
                1..40,
            ),
            extra in proptest::collection::vec(0.0f64..=100.0, 0..6),
            start in proptest::collection::vec(0usize..50, 13),
            kind_at in 0usize..Kind::ALL.len(),
            bounds_len_delta in 0usize..2,
        ) {
            // Exponential-ish ascending bounds, one more or fewer than counts.
            let bounds: Vec<u64> = (0..counts.len() + 1 - bounds_len_delta)
                .map(|i| if i == 0 { 0 } else { 1u64 << (i.min(60) - 1) })
                .collect();
            let d = Distribution { kind: Kind::ALL[kind_at], bounds: &bounds, counts: &counts, sum: 17 };
            let mut ps = vec![0.0, 0.5, 25.0, 50.0, 95.0, 99.9, 100.0];
            ps.extend(extra);
            let mut order: Vec<usize> = (0..ps.len()).collect();
            order.sort_by(|&a, &b| ps[a].total_cmp(&ps[b]));
            let mut cumulative = Vec::new();
            let mut running = 0u64;
            for c in d.used_counts() {
                running += c;
                cumulative.push(running);
            }
            let logs = BoundLogs::new(&bounds);
            // Hints anywhere, beyond the buckets included: the search finds the same bucket.
            let mut search = Search { hints: start, walked: Vec::new() };
            for m in PercentileMethod::ALL {
                let mut walked = vec![Percentile::NONE; ps.len()];
                percentiles_into(&d, d.total(), &ps, &order, m, Some(&logs), &mut walked);
                let mut searched = vec![None; ps.len()];
                values_cumulative(&d, &cumulative, &ps, &order, m, Some(&logs), &mut search, &mut searched);
                let walked: Vec<Option<f64>> = walked.iter().map(|p| p.value).collect();
                proptest::prop_assert_eq!(walked, searched);
            }
        }
    }
}
