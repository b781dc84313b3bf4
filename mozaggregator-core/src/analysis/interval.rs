//! `ci=`: jackknife intervals of an answer's statistics over its replicate groups
//! (docs/statistics.md, "Intervals").
//!
//! For one entry (or one pooled side of a comparison), with `G_g` its part in group g and
//! `T = Σ G_g`: the estimate is θ̂ = stat(T) and the leave-one-out values θ̂₍g₎ = stat(T − G_g),
//! fed to [`jackknife`]. T is summed once, and each leave-one-out distribution is T minus one
//! part, written into one reused buffer: R + 1 passes of the statistics, no more.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::error::Result;
use crate::layout::Kind;
use crate::query::{DataPoint, MetricResponse};
use crate::replicate::ReplicateCount;
use crate::stats::{
    jackknife, BoundLogs, Confidence, Distribution, Interval, PercentileMethod, Plan, Scratch, Stat,
};

use super::ReplicateAnswers;

/// The intervals of one entry's statistics: the `ci` of a `data` entry or an evolution point.
///
/// Serialized as `{"level": 0.95, "replicates": 20, "pings": N, "stats": {"mean": {"estimate":
/// x, "lower": x, "upper": x, "se": x}, "p50": null, …}}`, statistics in the order of the
/// entry's `stats`.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryCi {
    /// The confidence level.
    pub level: Confidence,
    /// R, the number of replicate groups.
    pub replicates: ReplicateCount,
    /// The pings in the groups (pings without a client id are in no group).
    pub pings: u64,
    /// Each statistic's interval by name (`mean`, `p50`, …), centred on the estimate from all
    /// groups; `None` when it cannot be computed (no samples in the groups, or none left
    /// without one of them).
    pub stats: Vec<(String, Option<Interval>)>,
}

impl Serialize for EntryCi {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("level", &self.level)?;
        map.serialize_entry("replicates", &self.replicates)?;
        map.serialize_entry("pings", &self.pings)?;
        map.serialize_entry("stats", &Named(&self.stats))?;
        map.end()
    }
}

/// `(name, value)` pairs as a JSON object, in order.
pub(crate) struct Named<'a, V>(pub(crate) &'a [(String, V)]);

impl<V: Serialize> Serialize for Named<'_, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// Adds to every entry of `response` the intervals of `stats` (mean and percentiles) over
/// `groups`, the replicate answers of the same request (see [`super::MetricRequest::run`]).
///
/// ```
/// use mozaggregator_core::analysis::{attach_intervals, ReplicateAnswers};
/// use mozaggregator_core::query::{Bucket, DataPoint, MetricResponse};
/// use mozaggregator_core::stats::{Confidence, PercentileMethod, Stat};
/// use mozaggregator_core::{Date, ReplicateCount};
/// let date = Date::parse("20240101")?;
/// let entry = |pings, sum, samples| DataPoint::new(date, String::new(), pings, sum, vec![0, samples, 0]);
/// let mut response = MetricResponse {
///     buckets: (0..3).map(Bucket::Number).collect(),
///     kind: "linear".into(),
///     description: String::new(),
///     data: vec![entry(2, 40, 3)],
/// };
/// // Two groups: sums 10 and 30 over 1 and 2 samples.
/// let groups = ReplicateAnswers {
///     count: ReplicateCount::new(2)?,
///     groups: vec![vec![entry(1, 10, 1)], vec![entry(1, 30, 2)]],
/// };
/// attach_intervals(&mut response, &groups, &[Stat::Mean], PercentileMethod::Interp, Confidence::P95)?;
/// let ci = response.data[0].ci.as_ref().unwrap();
/// let mean = ci.stats[0].1.unwrap();
/// assert_eq!((ci.pings, mean.estimate), (2, 40.0 / 3.0));
/// // Without group 0 the mean is 30 / 2 = 15, without group 1 it is 10: SE = √(1/2 · 2 · 2.5²).
/// assert!((mean.se - 2.5).abs() < 1e-12);
/// # Ok::<(), mozaggregator_core::Error>(())
/// ```
///
/// # Errors
/// As [`Plan::new`].
pub fn attach_intervals(
    response: &mut MetricResponse,
    groups: &ReplicateAnswers,
    stats: &[Stat],
    method: PercentileMethod,
    level: Confidence,
) -> Result<()> {
    attach_plan_intervals(response, groups, &Plan::new(stats)?, method, level);
    Ok(())
}

/// [`attach_intervals`] with a plan made once.
pub(crate) fn attach_plan_intervals(
    response: &mut MetricResponse,
    groups: &ReplicateAnswers,
    plan: &Plan,
    method: PercentileMethod,
    level: Confidence,
) {
    let kind = response.served_kind();
    let bounds = response.bounds();
    let logs = BoundLogs::new(&bounds);
    let r = groups.groups.len().max(1);
    let names: Vec<&str> = plan.names().collect();
    let mut scratch = Scratch::default();
    let mut buffers = Buffers::default();
    let mut entry_parts: Vec<Option<Part<'_>>> = Vec::with_capacity(r);
    let parts = groups.parts_of(&response.data);
    let cis: Vec<EntryCi> = parts
        .chunks(r)
        .map(|entry| {
            entry_parts.clear();
            entry_parts.extend(entry.iter().map(|p| p.map(Part::of)));
            let parts = &entry_parts;
            let loo = LeaveOneOut::compute(
                kind,
                &bounds,
                parts,
                plan.len(),
                &mut buffers,
                |d, c, out| plan.values_cumulative(d, c, method, Some(&logs), &mut scratch, out),
            );
            EntryCi {
                level,
                replicates: groups.count,
                pings: Part::pings(parts),
                stats: names
                    .iter()
                    .enumerate()
                    .map(|(s, name)| {
                        let interval = loo.as_ref().and_then(|l| l.interval(s, level));
                        (name.to_string(), interval)
                    })
                    .collect(),
            }
        })
        .collect();
    for (point, ci) in response.data.iter_mut().zip(cis) {
        point.ci = Some(ci);
    }
}

/// One entry's (or one pooled side's) bucket counts, sum and pings in one replicate group.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Part<'a> {
    pub(crate) counts: &'a [u64],
    pub(crate) sum: u64,
    pub(crate) pings: u64,
}

impl<'a> Part<'a> {
    pub(crate) fn of(p: &'a DataPoint) -> Self {
        Self {
            counts: &p.histogram,
            sum: p.sum,
            pings: p.count,
        }
    }

    /// The pings of all parts (saturating).
    pub(crate) fn pings(parts: &[Option<Part<'_>>]) -> u64 {
        parts
            .iter()
            .flatten()
            .fold(0u64, |n, p| n.saturating_add(p.pings))
    }
}

/// Statistics computed from the sum T of the parts of every group, and from T without each
/// group's part.
#[derive(Clone, Debug)]
pub(crate) struct LeaveOneOut {
    /// Statistics per group.
    n: usize,
    /// The `n` values of T.
    estimate: Vec<Option<f64>>,
    /// `without[s * R + g]`: statistic s of T without group g (each statistic's R values
    /// side by side, as the jackknife reads them).
    without: Vec<Option<f64>>,
}

/// The buffers of [`LeaveOneOut::compute`], reused from one entry to the next.
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    total: Vec<u64>,
    cumulative: Vec<u64>,
    rest: Vec<u64>,
    rest_cumulative: Vec<u64>,
    by_group: Vec<Option<f64>>,
}

impl LeaveOneOut {
    /// Runs `stats` (which writes `n` values) on T and on T without each part; `stats` also
    /// gets the distribution's cumulative counts (`[i]`: the samples of buckets `0..=i`).
    /// `None` when a bucket count, the sum or the number of samples of T overflows 64 bits.
    pub(crate) fn compute(
        kind: Kind,
        bounds: &[u64],
        parts: &[Option<Part<'_>>],
        n: usize,
        buffers: &mut Buffers,
        mut stats: impl FnMut(&Distribution<'_>, &[u64], &mut [Option<f64>]),
    ) -> Option<Self> {
        let len = parts.iter().flatten().map(|p| p.counts.len()).max()?;
        let Buffers {
            total,
            cumulative,
            rest,
            rest_cumulative,
            by_group,
        } = buffers;
        total.clear();
        total.resize(len, 0);
        let mut sum = 0u64;
        for p in parts.iter().flatten() {
            for (t, c) in total.iter_mut().zip(p.counts) {
                *t = t.checked_add(*c)?;
            }
            sum = sum.checked_add(p.sum)?;
        }
        // The statistics read the buckets that have a bound.
        let used = len.min(bounds.len());
        cumulative.clear();
        let mut samples = 0u64;
        for t in &total[..used] {
            samples = samples.checked_add(*t)?;
            cumulative.push(samples);
        }
        let mut estimate = vec![None; n];
        if n == 0 {
            return Some(Self {
                n,
                estimate,
                without: Vec::new(),
            });
        }
        let all = Distribution {
            kind,
            bounds,
            counts: total,
            sum,
        };
        stats(&all, cumulative, &mut estimate);
        by_group.clear();
        by_group.resize(n * parts.len(), None);
        rest.clear();
        rest.resize(len, 0);
        rest_cumulative.clear();
        rest_cumulative.resize(used, 0);
        for (part, out) in parts.iter().zip(by_group.chunks_mut(n)) {
            let Some(p) = part else {
                // Leaving out a group without this entry leaves T.
                out.copy_from_slice(&estimate);
                continue;
            };
            // T holds each part, so nothing saturates, and the cumulative counts are at most
            // T's, which fit.
            let mut samples = 0u64;
            if p.counts.len() == len && used == len {
                // Every part as long as T, every bucket bounded: the common case, in one loop
                // without index checks.
                let sums = rest.iter_mut().zip(rest_cumulative.iter_mut());
                for ((r, c), (t, k)) in sums.zip(total.iter().zip(p.counts)) {
                    *r = t.saturating_sub(*k);
                    samples = samples.saturating_add(*r);
                    *c = samples;
                }
            } else {
                for (i, (r, t)) in rest.iter_mut().zip(total.iter()).enumerate() {
                    *r = t.saturating_sub(p.counts.get(i).copied().unwrap_or(0));
                    if let Some(c) = rest_cumulative.get_mut(i) {
                        samples = samples.saturating_add(*r);
                        *c = samples;
                    }
                }
            }
            let without = Distribution {
                kind,
                bounds,
                counts: rest,
                sum: sum.saturating_sub(p.sum),
            };
            stats(&without, rest_cumulative, out);
        }
        // From one row per group to one row per statistic.
        let r = parts.len();
        let without = (0..n * r).map(|k| by_group[(k % r) * n + k / r]).collect();
        Some(Self {
            n,
            estimate,
            without,
        })
    }

    /// The number of groups.
    fn groups(&self) -> usize {
        self.without.len().checked_div(self.n).unwrap_or(0)
    }

    /// Statistic `s`'s estimate from all groups.
    pub(crate) fn estimate(&self, s: usize) -> Option<f64> {
        self.estimate.get(s).copied().flatten()
    }

    /// Statistic `s` without each group.
    fn without(&self, s: usize) -> &[Option<f64>] {
        let r = self.groups();
        self.without.get(s * r..(s + 1) * r).unwrap_or(&[])
    }

    /// The jackknife interval of statistic `s`.
    pub(crate) fn interval(&self, s: usize, level: Confidence) -> Option<Interval> {
        jackknife(self.estimate(s)?, self.without(s), level)
    }

    /// The jackknife interval of `op(a's statistic sa, b's statistic sb)`, groups paired by
    /// index (a difference or a ratio of two sides); `None` when the sides have different
    /// numbers of groups or `op` is undefined for a value.
    pub(crate) fn paired(
        a: &Self,
        sa: usize,
        b: &Self,
        sb: usize,
        level: Confidence,
        op: impl Fn(f64, f64) -> Option<f64>,
    ) -> Option<Interval> {
        if a.groups() != b.groups() {
            return None;
        }
        let estimate = op(a.estimate(sa)?, b.estimate(sb)?)?;
        let values: Vec<Option<f64>> = a
            .without(sa)
            .iter()
            .zip(b.without(sb))
            .map(|(x, y)| op((*x)?, (*y)?))
            .collect();
        jackknife(estimate, &values, level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Stat;

    proptest::proptest! {
        /// Parts shorter than the longest give what the same parts padded with empty buckets
        /// give (the general loop against the one for parts of equal length).
        #[test]
        fn short_parts_equal_padded_parts(
            parts in proptest::collection::vec(
                proptest::option::of(proptest::collection::vec(0u64..1000, 1..12)),
                2..6,
            ),
        ) {
            let len = parts.iter().flatten().map(Vec::len).max().unwrap_or(0);
            let bounds: Vec<u64> = (0..len as u64).map(|i| i * i).collect();
            let padded: Vec<Option<Vec<u64>>> = parts
                .iter()
                .map(|p| p.as_ref().map(|c| {
                    let mut c = c.clone();
                    c.resize(len, 0);
                    c
                }))
                .collect();
            let plan = Plan::new(&Stat::parse_list("mean,p5,p50,p95").unwrap_or_default());
            proptest::prop_assert!(plan.is_ok());
            let Ok(plan) = plan else { return Ok(()) };
            let run = |counts: &[Option<Vec<u64>>]| {
                let parts: Vec<Option<Part<'_>>> = counts
                    .iter()
                    .map(|c| c.as_ref().map(|c| Part { counts: c, sum: c.iter().sum(), pings: 1 }))
                    .collect();
                let mut scratch = Scratch::default();
                LeaveOneOut::compute(
                    Kind::Linear,
                    &bounds,
                    &parts,
                    plan.len(),
                    &mut Buffers::default(),
                    |d, c, out| {
                        plan.values_cumulative(d, c, PercentileMethod::Interp, None, &mut scratch, out)
                    },
                )
                .map(|l| (l.estimate, l.without))
            };
            proptest::prop_assert_eq!(run(&parts), run(&padded));
        }
    }
}
