//! `compare/` with `ci`: intervals of each side's statistics and of each delta, from the
//! jackknife over replicate groups paired by index, and one verdict a regression detector can
//! read (docs/statistics.md, "Intervals").
//!
//! Group g of side A and group g of side B hold the same clients' share (`sample_id mod R`),
//! so a delta's leave-one-out value leaves group g out of both sides:
//! `θ̂₍g₎ = stat_B(T_B − B_g) − stat_A(T_A − A_g)`, and for a relative delta
//! `(stat_B(T_B − B_g) − stat_A(T_A − A_g)) / stat_A(T_A − A_g)`.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::query::MetricResponse;
use crate::replicate::ReplicateCount;
use crate::stats::{
    proportions, samples, BoundLogs, Confidence, Distribution, Interval, PercentileMethod, Plan,
    Scratch, Stat,
};

use super::interval::{Buffers, LeaveOneOut, Named, Part};
use super::{Comparison, ReplicateAnswers};

/// The verdict's default threshold: a relative change of the median or the mean of at least
/// 1 %.
pub const DEFAULT_THRESHOLD: f64 = 0.01;

/// The statistics the verdict reads, in the order it reads them: the median, then the mean.
const VERDICT_STATS: [&str; 2] = ["p50", "mean"];

/// Whether two sides differ, by the intervals of the relative change of their median and
/// mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Neither interval leaves 0 out with a relative change of at least the threshold.
    Same,
    /// The interval of the median's or the mean's relative change leaves 0 out, and that
    /// change is at least the threshold in magnitude.
    Differs,
}

/// The interval of a delta (B − A, or (B − A) / A), and whether it leaves 0 out.
///
/// Serialized as `{"estimate", "lower", "upper", "se", "excludes_zero"}`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeltaInterval {
    /// The interval, centred on the delta of the two sides' estimates from all groups.
    pub interval: Interval,
    /// [`Interval::excludes_zero`].
    pub excludes_zero: bool,
}

impl DeltaInterval {
    fn of(interval: Interval) -> Self {
        Self {
            interval,
            excludes_zero: interval.excludes_zero(),
        }
    }
}

impl Serialize for DeltaInterval {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(5))?;
        for (key, value) in self.interval.fields() {
            map.serialize_entry(key, &value.is_finite().then_some(value))?;
        }
        map.serialize_entry("excludes_zero", &self.excludes_zero)?;
        map.end()
    }
}

/// The intervals of one delta: `null` each when it cannot be computed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DeltaCi {
    /// Of B − A.
    pub absolute: Option<DeltaInterval>,
    /// Of (B − A) / A.
    pub relative: Option<DeltaInterval>,
}

/// The intervals of one side's statistics, shaped like the side.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SideCi {
    /// The pings in the side's replicate groups.
    pub pings: u64,
    /// The mean's interval.
    pub mean: Option<Interval>,
    /// Each requested percentile's interval, by name.
    #[serde(serialize_with = "named")]
    pub percentiles: Vec<(String, Option<Interval>)>,
    /// Each bucket's proportion's interval.
    pub proportions: Vec<Option<Interval>>,
}

/// What `ci` adds to a comparison as a whole: the level, the verdict and the per-bucket
/// deltas' intervals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComparisonCi {
    /// The confidence level.
    pub level: Confidence,
    /// R, the number of replicate groups of each side.
    pub replicates: ReplicateCount,
    /// The smallest relative change the verdict calls a difference.
    pub threshold: f64,
    /// [`Verdict`]; `null` when neither the median's nor the mean's relative change has an
    /// interval (a categorical metric, an empty side).
    pub verdict: Option<Verdict>,
    /// The statistics (`p50`, `mean`) whose relative change made the verdict `differs`.
    pub triggered_by: Vec<String>,
    /// The intervals of the relative changes the verdict read: `p50` and `mean` (the median
    /// is read even when `stats` does not ask for it), each at the verdict's per-statistic
    /// level [`Confidence::per_test`] (0.95 for `ci=0.9`): with two statistics deciding, the
    /// verdict as a whole then says "differs" of unchanged data at most 1 − level of the time.
    #[serde(serialize_with = "named")]
    pub checked: Vec<(String, Option<DeltaInterval>)>,
    /// Each bucket's proportion delta's intervals (reported; they do not drive the verdict).
    pub proportions: Vec<DeltaCi>,
}

fn named<S: Serializer, V: Serialize>(
    entries: &[(String, V)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    Named(entries).serialize(serializer)
}

/// One side's leave-one-out values: the plan's statistics, then each bucket's proportion.
struct SideValues {
    loo: Option<LeaveOneOut>,
    pings: u64,
}

fn side_values(
    response: &MetricResponse,
    groups: &ReplicateAnswers,
    plan: &Plan,
    buckets: usize,
    method: PercentileMethod,
) -> SideValues {
    let pooled = groups.pooled();
    let parts: Vec<Option<Part<'_>>> = pooled
        .iter()
        .map(|(counts, sum, pings)| {
            Some(Part {
                counts,
                sum: *sum,
                pings: *pings,
            })
        })
        .collect();
    let k = plan.len();
    let mut scratch = Scratch::default();
    let bounds = response.bounds();
    let logs = BoundLogs::new(&bounds);
    let loo = LeaveOneOut::compute(
        response.served_kind(),
        &bounds,
        &parts,
        k + buckets,
        &mut Buffers::default(),
        |d: &Distribution<'_>, cumulative: &[u64], out| {
            let (stats, props) = out.split_at_mut(k);
            plan.values_cumulative(d, cumulative, method, Some(&logs), &mut scratch, stats);
            props.fill(None);
            if samples(d) > 0 {
                for (o, p) in props.iter_mut().zip(proportions(d)) {
                    *o = Some(p);
                }
            }
        },
    );
    SideValues {
        loo,
        pings: Part::pings(&parts),
    }
}

fn absolute(a: f64, b: f64) -> Option<f64> {
    Some(b - a).filter(|d| d.is_finite())
}

fn relative(a: f64, b: f64) -> Option<f64> {
    (a != 0.0).then(|| (b - a) / a).filter(|r| r.is_finite())
}

/// Adds `ci` to a comparison made of `a` and `b` (see the module docs).
///
/// # Errors
/// [`Error::NoReplicates`] when the sides have different replicate counts; bad statistics.
pub(super) fn add(
    c: &mut Comparison,
    a: (&MetricResponse, &ReplicateAnswers),
    b: (&MetricResponse, &ReplicateAnswers),
    stats: &[Stat],
    method: PercentileMethod,
    level: Confidence,
    threshold: f64,
) -> Result<()> {
    if a.1.count != b.1.count {
        return Err(Error::NoReplicates(format!(
            "side A has {} replicate groups and side B {}; a comparison pairs the groups of \
             both sides, so both need the same count",
            a.1.count, b.1.count
        )));
    }
    // The mean, the requested percentiles, and the median for the verdict.
    let mut wanted = vec![Stat::Mean];
    wanted.extend(
        stats
            .iter()
            .filter(|s| matches!(s, Stat::Percentile(_)))
            .cloned(),
    );
    wanted.push(Stat::Percentile(50.0));
    let plan = Plan::new(&wanted)?;
    let names: Vec<&str> = plan.names().collect();
    let index = |name: &str| names.iter().position(|n| *n == name);
    let buckets = c.a.proportions.len().min(c.b.proportions.len());
    let (va, vb) = (
        side_values(a.0, a.1, &plan, buckets, method),
        side_values(b.0, b.1, &plan, buckets, method),
    );
    let k = plan.len();
    let one = |v: &SideValues, s: Option<usize>| -> Option<Interval> {
        v.loo.as_ref()?.interval(s?, level)
    };
    let paired = |s: usize, at: Confidence, op: fn(f64, f64) -> Option<f64>| {
        let (la, lb) = (va.loo.as_ref()?, vb.loo.as_ref()?);
        LeaveOneOut::paired(la, s, lb, s, at, op).map(DeltaInterval::of)
    };
    let delta = |s: usize| DeltaCi {
        absolute: paired(s, level, absolute),
        relative: paired(s, level, relative),
    };
    for (side, values) in [(&mut c.a, &va), (&mut c.b, &vb)] {
        side.ci = Some(SideCi {
            pings: values.pings,
            mean: one(values, index("mean")),
            percentiles: side
                .percentiles
                .iter()
                .map(|(name, _)| (name.clone(), one(values, index(name))))
                .collect(),
            proportions: (0..buckets).map(|j| one(values, Some(k + j))).collect(),
        });
    }
    for (name, d) in &mut c.deltas {
        if let Some(s) = index(name) {
            d.ci = Some(delta(s));
        }
    }
    // Two statistics decide the verdict: each is read at the stricter level of
    // `Confidence::per_test`, so that "either differs" errs at most 1 − level of the time.
    let verdict_level = level.per_test();
    let checked: Vec<(String, Option<DeltaInterval>)> = VERDICT_STATS
        .iter()
        .map(|name| {
            let interval = index(name).and_then(|s| paired(s, verdict_level, relative));
            (name.to_string(), interval)
        })
        .collect();
    let triggered_by: Vec<String> = checked
        .iter()
        .filter(|(_, i)| {
            i.is_some_and(|i| i.excludes_zero && i.interval.estimate.abs() >= threshold)
        })
        .map(|(name, _)| name.clone())
        .collect();
    let verdict = if checked.iter().all(|(_, i)| i.is_none()) {
        None
    } else if triggered_by.is_empty() {
        Some(Verdict::Same)
    } else {
        Some(Verdict::Differs)
    };
    c.ci = Some(ComparisonCi {
        level,
        replicates: a.1.count,
        threshold,
        verdict,
        triggered_by,
        checked,
        proportions: (0..buckets).map(|j| delta(k + j)).collect(),
    });
    Ok(())
}
