//! The Analysis API: a metric query plus what a person reads from it — statistics per entry,
//! OR filters, group-by, top-K labels ([`MetricRequest`]), evolutions ([`Evolution`]),
//! comparisons of two selections ([`Comparison`]) and label listings ([`LabelPage`]).
//!
//! Everything here is computed from the [`MetricResponse`] of [`MetricQuery::run`], with the
//! pure functions of [`crate::stats`], so the HTTP API, Python and the dashboard agree by
//! construction. With `ci`, each replicate group's answer goes through the same pipeline
//! ([`ReplicateAnswers`]) and every statistic gets its jackknife interval ([`EntryCi`],
//! [`ComparisonCi`]). See docs/api.md ("Analysis") and docs/statistics.md.

mod compare;
mod compare_ci;
mod evolution;
mod group;
mod interval;
mod labels;
mod replicates;

pub use compare::{Comparison, Delta, Side};
pub use compare_ci::{ComparisonCi, DeltaCi, DeltaInterval, SideCi, Verdict, DEFAULT_THRESHOLD};
pub use evolution::{Evolution, EvolutionPoint, Series};
pub use interval::{attach_intervals, EntryCi};
pub use labels::{LabelCount, LabelPage};
pub use replicates::ReplicateAnswers;

use crate::definitions::Definitions;
use crate::error::{Error, Result};
use crate::filter::Dimension;
use crate::keys::Prefix;
use crate::layout::Kind;
use crate::params::{expand_dates, MetricParams};
use crate::query::{Bucket, DataPoint, MetricQuery, MetricResponse};
use crate::stats::{BoundLogs, Confidence, Distribution, PercentileMethod, Plan, Stat};
use crate::store::Store;

/// The label that stands for every label `top` left out.
pub const OTHER_LABEL: &str = "__other__";

/// Statistics an evolution or a comparison computes when none are asked for.
pub const DEFAULT_STATS: &str = "mean,p5,p25,p50,p75,p95";

/// A metric query with the Analysis API's options.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricRequest {
    /// The plain query (its filter may hold OR sets; its dates are expanded).
    pub query: MetricQuery,
    /// Split the answer by this dimension.
    pub group_by: Option<Dimension>,
    /// Keep the K labels with the most pings, and sum the rest into [`OTHER_LABEL`].
    pub top: Option<usize>,
    /// Statistics to add to each entry.
    pub stats: Option<Vec<Stat>>,
    /// Percentile method.
    pub method: PercentileMethod,
    /// Add to each statistic its jackknife interval over the replicate groups, at this level
    /// (statistics default to [`DEFAULT_STATS`] then).
    pub ci: Option<Confidence>,
    /// `compare/` with `ci`: the smallest relative change of the median or the mean that the
    /// verdict calls a difference ([`DEFAULT_THRESHOLD`] when not given; unused without
    /// `ci`).
    pub threshold: Option<f64>,
}

impl MetricRequest {
    /// A request from parsed parameters, for `channel` (unless the parameters name one: side
    /// B of a comparison).
    ///
    /// # Errors
    /// [`Error::MissingParameter`] for a missing or empty `version`, `dates` or `metric`;
    /// [`Error::Invalid`] for a malformed date or range (see [`expand_dates`]).
    pub fn from_params(params: &MetricParams, prefix: Prefix, channel: &str) -> Result<Self> {
        let version = params
            .version
            .clone()
            .filter(|v| !v.is_empty())
            .ok_or(Error::MissingParameter("version"))?;
        let dates = params
            .dates
            .as_deref()
            .filter(|d| !d.is_empty())
            .ok_or(Error::MissingParameter("dates"))
            .and_then(expand_dates)?;
        let metric = params
            .metric
            .clone()
            .filter(|m| !m.is_empty())
            .ok_or(Error::MissingParameter("metric"))?;
        Ok(Self {
            query: MetricQuery {
                prefix,
                channel: params
                    .channel
                    .clone()
                    .unwrap_or_else(|| channel.to_string()),
                version,
                dates,
                metric,
                filter: params.filter(),
            },
            group_by: params.group_by,
            top: params.top,
            stats: params.stats.clone(),
            method: params.pct_method.unwrap_or_default(),
            ci: params.ci,
            threshold: params.threshold,
        })
    }

    /// The plain request for a query: no group, top or statistics.
    pub fn plain(query: MetricQuery) -> Self {
        Self {
            query,
            group_by: None,
            top: None,
            stats: None,
            method: PercentileMethod::default(),
            ci: None,
            threshold: None,
        }
    }

    /// Runs the request. `Ok(None)` means "not found": no matching rows.
    ///
    /// Without group, top or statistics this is exactly [`MetricQuery::run`]. With them:
    /// - `group_by`: one entry per (date, label, group value); see docs/api.md for the order.
    /// - `top`: entries of the K labels with the most pings over all requested dates (ties by
    ///   label ascending), plus one [`OTHER_LABEL`] entry per date (and group) summing the
    ///   rest, placed last; none when nothing is left over.
    /// - `stats`: each entry carries its [`crate::stats::Summary`].
    /// - `ci`: each entry also carries its [`EntryCi`]: the interval of each statistic over
    ///   the replicate groups, whose answers go through the same steps (see
    ///   [`MetricRequest::run_replicated`]).
    ///
    /// # Errors
    /// Store failures; `top` on a metric without labels ([`Error::Invalid`]); with `ci`,
    /// [`Error::NoReplicates`] when the data has no complete replicate groups.
    pub fn run(
        &self,
        store: &dyn Store,
        definitions: &Definitions,
    ) -> Result<Option<MetricResponse>> {
        let Some((mut response, groups)) = self.shaped(store, definitions, self.ci.is_some())?
        else {
            return Ok(None);
        };
        let stats = match self.ci {
            Some(_) => Some(stats_or_default(self.stats.as_ref())?),
            None => self.stats.clone(),
        };
        if let Some(stats) = stats {
            let plan = Plan::new(&stats)?;
            attach_plan(&mut response, &plan, self.method);
            if let (Some(level), Some(groups)) = (self.ci, &groups) {
                interval::attach_plan_intervals(&mut response, groups, &plan, self.method, level);
            }
        }
        Ok(Some(response))
    }

    /// The answer without statistics, and each replicate group's answer shaped by the same
    /// steps: the served layout and kind conversions of the answer, its filters, one entry per
    /// group value with `group_by` (each group value read with one [`Store::replicates`]
    /// call), and with `top` the answer's K labels, every other label summed into
    /// [`OTHER_LABEL`]. `ci` is not needed here. `Ok(None)`: no matching rows.
    ///
    /// # Errors
    /// As [`MetricRequest::run`], and [`Error::NoReplicates`] when the data has no complete
    /// replicate groups.
    pub fn run_replicated(
        &self,
        store: &dyn Store,
        definitions: &Definitions,
    ) -> Result<Option<(MetricResponse, ReplicateAnswers)>> {
        Ok(self
            .shaped(store, definitions, true)?
            .and_then(|(response, groups)| groups.map(|g| (response, g))))
    }

    /// The answer shaped by `group_by` and `top`, and with `replicates` the groups' answers
    /// shaped alike.
    fn shaped(
        &self,
        store: &dyn Store,
        definitions: &Definitions,
        replicates: bool,
    ) -> Result<Option<(MetricResponse, Option<ReplicateAnswers>)>> {
        let Some((mut response, mut groups)) = (match self.group_by {
            None | Some(Dimension::Label) => self.query.answer(store, definitions, replicates)?,
            Some(dimension) => {
                group::grouped(&self.query, dimension, store, definitions, replicates)?
            }
        }) else {
            return Ok(None);
        };
        if self.group_by == Some(Dimension::Label) {
            let by_label = |data: &mut Vec<DataPoint>| {
                for point in data {
                    point.group = Some(point.label.clone());
                }
            };
            by_label(&mut response.data);
            if let Some(groups) = &mut groups {
                groups.each(by_label);
            }
        }
        if let Some(k) = self.top {
            if let Some(kept) = group::top_labels(&response, k, &self.query.metric)? {
                group::fold_others(&mut response.data, &kept);
                if let Some(groups) = &mut groups {
                    groups.each(|data| group::fold_others(data, &kept));
                }
            }
        }
        Ok(Some((response, groups)))
    }
}

/// Adds `stats` to every entry of `response`.
///
/// # Errors
/// As [`Plan::new`].
pub fn attach_stats(
    response: &mut MetricResponse,
    stats: &[Stat],
    method: PercentileMethod,
) -> Result<()> {
    attach_plan(response, &Plan::new(stats)?, method);
    Ok(())
}

/// [`attach_stats`] with a plan made once.
fn attach_plan(response: &mut MetricResponse, plan: &Plan, method: PercentileMethod) {
    let kind = response.served_kind();
    let bounds = response.bounds();
    let logs = BoundLogs::new(&bounds);
    for point in &mut response.data {
        let d = Distribution {
            kind,
            bounds: &bounds,
            counts: &point.histogram,
            sum: point.sum,
        };
        point.stats = Some(plan.summarize_with(&d, method, Some(&logs)));
    }
}

/// The statistics `stats` names, or [`DEFAULT_STATS`].
///
/// # Errors
/// Never for the default list.
pub fn stats_or_default(stats: Option<&Vec<Stat>>) -> Result<Vec<Stat>> {
    match stats {
        Some(s) => Ok(s.clone()),
        None => Stat::parse_list(DEFAULT_STATS),
    }
}

impl MetricResponse {
    /// The served kind as a [`Kind`] (`exponential` for an unknown name).
    pub fn served_kind(&self) -> Kind {
        self.kind.parse().unwrap_or(Kind::Exponential)
    }

    /// The buckets as numbers: lower bounds, or label indexes for categorical labels.
    pub fn bounds(&self) -> Vec<u64> {
        self.buckets
            .iter()
            .enumerate()
            .map(|(i, b)| match b {
                Bucket::Number(n) => *n,
                Bucket::Label(_) => u64::try_from(i).unwrap_or(u64::MAX),
            })
            .collect()
    }

    /// Every entry pooled into one: (bucket counts, sum, pings). Entries are summed bucket-wise
    /// (saturating).
    pub fn pooled(&self) -> (Vec<u64>, u64, u64) {
        let len = self
            .data
            .iter()
            .map(|p| p.histogram.len())
            .max()
            .unwrap_or(0);
        let mut counts = vec![0u64; len];
        let (mut sum, mut pings) = (0u64, 0u64);
        for p in &self.data {
            add_point(&mut counts, &mut sum, &mut pings, p);
        }
        (counts, sum, pings)
    }
}

/// Adds one entry's histogram, sum and count into running totals.
fn add_point(counts: &mut Vec<u64>, sum: &mut u64, pings: &mut u64, p: &DataPoint) {
    if counts.len() < p.histogram.len() {
        counts.resize(p.histogram.len(), 0);
    }
    for (c, v) in counts.iter_mut().zip(&p.histogram) {
        *c = c.saturating_add(*v);
    }
    *sum = sum.saturating_add(p.sum);
    *pings = pings.saturating_add(p.count);
}
