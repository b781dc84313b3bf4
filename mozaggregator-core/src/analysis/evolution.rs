//! `evolution/`: per-date pings, samples, sum and statistics of a metric, one series per label
//! (or group), without buckets — compact enough for a year of dates.

use std::collections::HashMap;

use serde::Serialize;

use crate::date::Date;
use crate::definitions::Definitions;
use crate::error::Result;
use crate::stats::{samples, Distribution, Summary};
use crate::store::Store;

use super::{stats_or_default, EntryCi, MetricRequest, OTHER_LABEL};

/// An evolution: one [`Series`] per (label, group).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evolution {
    /// The served kind.
    pub kind: String,
    /// The definition's description, `""` when there is none.
    pub description: String,
    /// The metric as requested.
    pub metric: String,
    /// Series ordered by label (the `__other__` label last), then group.
    pub series: Vec<Series>,
}

/// The points of one (label, group).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    /// The label (`""` for unkeyed metrics).
    pub label: String,
    /// The group value, when grouped (`null` otherwise).
    pub group: Option<String>,
    /// One point per requested date with data, in requested order.
    pub data: Vec<EvolutionPoint>,
}

/// One date of a [`Series`].
#[derive(Clone, Debug, PartialEq)]
pub struct EvolutionPoint {
    /// The date (`YYYYMMDD` in JSON).
    pub date: Date,
    /// Contributing histograms (pings).
    pub pings: u64,
    /// Samples (Σ buckets).
    pub samples: u64,
    /// Sum of recorded values.
    pub sum: u64,
    /// The statistics.
    pub stats: Summary,
    /// With `ci`: the statistics' intervals over the replicate groups.
    pub ci: Option<EntryCi>,
}

impl Serialize for EvolutionPoint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(5 + usize::from(self.ci.is_some())))?;
        map.serialize_entry("date", &self.date)?;
        map.serialize_entry("pings", &self.pings)?;
        map.serialize_entry("samples", &self.samples)?;
        map.serialize_entry("sum", &self.sum)?;
        map.serialize_entry("stats", &self.stats.values_json())?;
        if let Some(ci) = &self.ci {
            map.serialize_entry("ci", ci)?;
        }
        map.end()
    }
}

impl Evolution {
    /// The evolution of `request` (its statistics, or [`super::DEFAULT_STATS`]; with `ci`,
    /// each point carries their intervals). `Ok(None)` when nothing matches.
    ///
    /// # Errors
    /// As [`MetricRequest::run`].
    pub fn of(
        request: &MetricRequest,
        store: &dyn Store,
        definitions: &Definitions,
    ) -> Result<Option<Evolution>> {
        let mut request = request.clone();
        request.stats = Some(stats_or_default(request.stats.as_ref())?);
        let Some(response) = request.run(store, definitions)? else {
            return Ok(None);
        };
        let kind = response.served_kind();
        let bounds = response.bounds();
        let mut series: Vec<Series> = Vec::new();
        let mut index: HashMap<(String, Option<String>), usize> = HashMap::new();
        for point in response.data {
            let d = Distribution {
                kind,
                bounds: &bounds,
                counts: &point.histogram,
                sum: point.sum,
            };
            let evolution_point = EvolutionPoint {
                pings: point.count,
                samples: samples(&d),
                sum: point.sum,
                stats: match point.stats {
                    Some(s) => s,
                    None => continue,
                },
                ci: point.ci,
                date: point.date,
            };
            let key = (point.label, point.group);
            match index.get(&key) {
                Some(&i) => series[i].data.push(evolution_point),
                None => {
                    index.insert(key.clone(), series.len());
                    series.push(Series {
                        label: key.0,
                        group: key.1,
                        data: vec![evolution_point],
                    });
                }
            }
        }
        series.sort_by(|a, b| {
            let key = |s: &Series| (s.label == OTHER_LABEL, s.label.clone(), s.group.clone());
            key(a).cmp(&key(b))
        });
        Ok(Some(Evolution {
            kind: response.kind,
            description: response.description,
            metric: request.query.metric.clone(),
            series,
        }))
    }
}
