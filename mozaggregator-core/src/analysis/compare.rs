//! `compare/`: two selections of one metric and layout, each pooled over its dates (and labels),
//! with their statistics, deltas and the distances Mozilla used to flag regressions.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::definitions::Definitions;
use crate::error::{Error, Result};
use crate::query::{Bucket, MetricResponse};
use crate::stats::{
    distances, mean, proportions, samples, summarize, Confidence, Distances, Distribution,
    PercentileMethod, Stat,
};
use crate::store::Store;

use super::compare_ci::{self, ComparisonCi, DeltaCi, SideCi, DEFAULT_THRESHOLD};
use super::{stats_or_default, MetricRequest, ReplicateAnswers};

/// The comparison of side A with side B.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// The served kind (the same on both sides).
    pub kind: String,
    /// The served buckets (the same on both sides).
    pub buckets: Vec<Bucket>,
    /// Side A.
    pub a: Side,
    /// Side B.
    pub b: Side,
    /// B − A for `samples`, `pings`, `mean` and each requested percentile, in that order.
    #[serde(serialize_with = "ordered_map")]
    pub deltas: Vec<(String, Delta)>,
    /// Distances between the per-bucket proportions of A and B.
    pub distances: Distances,
    /// With `ci`: the level, the verdict and the per-bucket deltas' intervals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci: Option<ComparisonCi>,
}

/// One side of a comparison: every entry of the selection pooled.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Side {
    /// Samples (Σ buckets).
    pub samples: u64,
    /// Contributing histograms.
    pub pings: u64,
    /// `sum / samples`; `null` when undefined.
    pub mean: Option<f64>,
    /// Requested percentiles by name (`p50`, …), `null` when undefined.
    #[serde(serialize_with = "ordered_map")]
    pub percentiles: Vec<(String, Option<f64>)>,
    /// Per-bucket proportions.
    pub proportions: Vec<f64>,
    /// telemetry.js's mean, under the `tmo` method only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmo_mean: Option<Option<f64>>,
    /// With `ci`: the intervals of the mean, the percentiles and the proportions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci: Option<SideCi>,
}

/// A difference B − A.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Delta {
    /// B − A (`null` when either side is undefined).
    pub absolute: Option<f64>,
    /// (B − A) / A (`null` when A is 0 or either side is undefined).
    pub relative: Option<f64>,
    /// With `ci`, for the mean and the percentiles: the intervals of both.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci: Option<DeltaCi>,
}

impl Delta {
    /// B − A and (B − A) / A.
    ///
    /// ```
    /// use mozaggregator_core::analysis::Delta;
    /// assert_eq!(Delta::between(Some(4.0), Some(5.0)).relative, Some(0.25));
    /// assert_eq!(Delta::between(Some(0.0), Some(5.0)).relative, None);
    /// ```
    pub fn between(a: Option<f64>, b: Option<f64>) -> Delta {
        match (a, b) {
            (Some(a), Some(b)) => Delta {
                absolute: Some(b - a),
                relative: (a != 0.0).then(|| (b - a) / a).filter(|r| r.is_finite()),
                ci: None,
            },
            _ => Delta {
                absolute: None,
                relative: None,
                ci: None,
            },
        }
    }
}

impl Comparison {
    /// Runs both sides and compares them. `Ok(None)` when either side has no data.
    ///
    /// With `a.ci`, each side is also read per replicate group and the comparison carries
    /// intervals and a verdict ([`Comparison::between_replicated`], threshold `a.threshold`;
    /// without `ci` the threshold has nothing to set, as `pct_method` without `stats`).
    ///
    /// # Errors
    /// Store failures; different layouts on the two sides ([`Error::Invalid`], what
    /// `compare`); with `ci`, [`Error::NoReplicates`] when a side has no complete replicate
    /// groups.
    pub fn of(
        a: &MetricRequest,
        b: &MetricRequest,
        store: &dyn Store,
        definitions: &Definitions,
    ) -> Result<Option<Comparison>> {
        let plain = |r: &MetricRequest| {
            let mut r = r.clone();
            r.stats = None;
            r.top = None;
            r.group_by = None;
            r.ci = None;
            r
        };
        let stats = stats_or_default(a.stats.as_ref())?;
        let Some(level) = a.ci else {
            let Some(ra) = plain(a).run(store, definitions)? else {
                return Ok(None);
            };
            let Some(rb) = plain(b).run(store, definitions)? else {
                return Ok(None);
            };
            return Comparison::between(&ra, &rb, &stats, a.method).map(Some);
        };
        let Some((ra, ga)) = plain(a).run_replicated(store, definitions)? else {
            return Ok(None);
        };
        let Some((rb, gb)) = plain(b).run_replicated(store, definitions)? else {
            return Ok(None);
        };
        let threshold = a.threshold.unwrap_or(DEFAULT_THRESHOLD);
        Comparison::between_replicated((&ra, &ga), (&rb, &gb), &stats, a.method, level, threshold)
            .map(Some)
    }

    /// [`Comparison::between`], with intervals from the replicate answers of each side
    /// (paired by group index) and a verdict: `differs` when the interval of the median's or
    /// the mean's relative change leaves 0 out and that change is at least `threshold` in
    /// magnitude (see [`ComparisonCi`]).
    ///
    /// # Errors
    /// As [`Comparison::between`]; [`Error::NoReplicates`] when the sides have different
    /// replicate counts.
    pub fn between_replicated(
        a: (&MetricResponse, &ReplicateAnswers),
        b: (&MetricResponse, &ReplicateAnswers),
        stats: &[Stat],
        method: PercentileMethod,
        level: Confidence,
        threshold: f64,
    ) -> Result<Comparison> {
        let mut comparison = Comparison::between(a.0, b.0, stats, method)?;
        compare_ci::add(&mut comparison, a, b, stats, method, level, threshold)?;
        Ok(comparison)
    }

    /// Compares two answers, each pooled over all its entries.
    ///
    /// # Errors
    /// [`Error::Invalid`] (what `compare`) when the two answers serve different buckets or
    /// kinds; bad statistics.
    pub fn between(
        a: &MetricResponse,
        b: &MetricResponse,
        stats: &[Stat],
        method: PercentileMethod,
    ) -> Result<Comparison> {
        if a.buckets != b.buckets || a.kind != b.kind {
            return Err(Error::invalid(
                "compare",
                format!(
                    "the two sides have different layouts ({} with {} buckets against {} with {} buckets); a comparison needs one layout",
                    a.kind,
                    a.buckets.len(),
                    b.kind,
                    b.buckets.len()
                ),
            ));
        }
        let side_a = side(a, stats, method)?;
        let side_b = side(b, stats, method)?;
        let as_f64 = |n: u64| Some(n as f64);
        let mut deltas = vec![
            (
                "samples".to_string(),
                Delta::between(as_f64(side_a.samples), as_f64(side_b.samples)),
            ),
            (
                "pings".to_string(),
                Delta::between(as_f64(side_a.pings), as_f64(side_b.pings)),
            ),
            ("mean".to_string(), Delta::between(side_a.mean, side_b.mean)),
        ];
        for ((name, va), (_, vb)) in side_a.percentiles.iter().zip(&side_b.percentiles) {
            deltas.push((name.clone(), Delta::between(*va, *vb)));
        }
        let distances = distances(&side_a.proportions, &side_b.proportions);
        Ok(Comparison {
            kind: a.kind.clone(),
            buckets: a.buckets.clone(),
            a: side_a,
            b: side_b,
            deltas,
            distances,
            ci: None,
        })
    }
}

fn side(response: &MetricResponse, stats: &[Stat], method: PercentileMethod) -> Result<Side> {
    let (counts, sum, pings) = response.pooled();
    let bounds = response.bounds();
    let d = Distribution {
        kind: response.served_kind(),
        bounds: &bounds,
        counts: &counts,
        sum,
    };
    let percentile_stats: Vec<Stat> = stats
        .iter()
        .filter(|s| matches!(s, Stat::Percentile(_)))
        .cloned()
        .collect();
    let summary = summarize(&d, &percentile_stats, method)?;
    // Only percentiles were asked of the summary.
    let percentiles = summary
        .values()
        .map(|(name, value)| (name.to_string(), value))
        .collect();
    Ok(Side {
        samples: samples(&d),
        pings,
        mean: mean(&d),
        percentiles,
        proportions: proportions(&d),
        tmo_mean: summary.tmo_mean(),
        ci: None,
    })
}

fn ordered_map<S: Serializer, V: Serialize>(
    entries: &[(String, V)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(entries.len()))?;
    for (k, v) in entries {
        map.serialize_entry(k, v)?;
    }
    map.end()
}
