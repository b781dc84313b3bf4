//! The service-level metric query: what `/aggregates_by/PREFIX/channels/CH/?…` answers
//! (docs/api.md, "Metric queries"), computed from a [`Store`] and [`Definitions`].
//!
//! The HTTP layer only parses parameters into a [`MetricQuery`] and serializes the
//! [`MetricResponse`]; every rule about buckets, kinds, count histograms, categorical labels and
//! use counters lives here.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::analysis::{EntryCi, ReplicateAnswers};
use crate::date::Date;
use crate::definitions::Definitions;
use crate::error::Result;
use crate::filter::Filter;
use crate::keys::Prefix;
use crate::layout::{Kind, LayoutSpec};
use crate::metric_name::{self, Source};
use crate::stats::Summary;
use crate::store::{FilterOptions, QueryRow, SeriesQuery, Store};

/// One metric over some dates of one (prefix, channel, version), with dimension filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricQuery {
    /// Aggregate family.
    pub prefix: Prefix,
    /// Channel.
    pub channel: String,
    /// Major version.
    pub version: String,
    /// Dates, in the order the answer lists them.
    pub dates: Vec<Date>,
    /// The metric as the API names it (count histograms without `[[COUNT]]_`).
    pub metric: String,
    /// Which series to include.
    pub filter: Filter,
}

/// One entry of `buckets`: a lower bound, or a categorical label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Bucket {
    /// A bucket lower bound.
    Number(u64),
    /// A categorical label (or `"spill"`).
    Label(String),
}

/// One `data` entry: every matching series of one date and label, merged.
///
/// Serialized in the wire format's key order; `group`, `stats`, `stats_buckets` and `ci`
/// appear only when the Analysis API's `group_by`, `stats` and `ci` asked for them.
///
/// Deserialized from that JSON without its statistics (`stats`, `stats_buckets` and `ci` are
/// derived values: [`crate::analysis::attach_stats`] and
/// [`crate::analysis::attach_intervals`] compute them again), which is how a response travels
/// (Python pickles it).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct DataPoint {
    /// The date of the table (`YYYYMMDD` in JSON).
    pub date: Date,
    /// The label (`""` for unkeyed metrics).
    pub label: String,
    /// Number of contributing histograms.
    pub count: u64,
    /// Sum of recorded values.
    pub sum: u64,
    /// Bucket counts, one per served bucket (flag: the three stored buckets).
    pub histogram: Vec<u64>,
    /// The value of the `group_by` dimension, when grouped.
    #[serde(default)]
    pub group: Option<String>,
    /// The requested statistics, when asked for.
    #[serde(skip_deserializing)]
    pub stats: Option<Summary>,
    /// The statistics' intervals over the replicate groups, when `ci` asked for them.
    #[serde(skip_deserializing)]
    pub ci: Option<EntryCi>,
}

impl DataPoint {
    /// A point without group or statistics.
    pub fn new(date: Date, label: String, count: u64, sum: u64, histogram: Vec<u64>) -> Self {
        Self {
            date,
            label,
            count,
            sum,
            histogram,
            group: None,
            stats: None,
            ci: None,
        }
    }
}

impl Serialize for DataPoint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("date", &self.date)?;
        map.serialize_entry("label", &self.label)?;
        map.serialize_entry("count", &self.count)?;
        map.serialize_entry("sum", &self.sum)?;
        map.serialize_entry("histogram", &self.histogram)?;
        if let Some(group) = &self.group {
            map.serialize_entry("group", group)?;
        }
        if let Some(stats) = &self.stats {
            map.serialize_entry("stats", &stats.values_json())?;
            map.serialize_entry("stats_buckets", &stats.buckets_json())?;
        }
        if let Some(ci) = &self.ci {
            map.serialize_entry("ci", ci)?;
        }
        map.end()
    }
}

/// The answer to a [`MetricQuery`], in the wire format's key order.
///
/// It reads back from its JSON, statistics left out (see [`DataPoint`]):
///
/// ```
/// use mozaggregator_core::query::{Bucket, DataPoint, MetricResponse};
/// use mozaggregator_core::Date;
/// let response = MetricResponse {
///     buckets: vec![Bucket::Number(0), Bucket::Number(1)],
///     kind: "linear".into(),
///     description: String::new(),
///     data: vec![DataPoint::new(Date::parse("20240101").unwrap(), String::new(), 2, 3, vec![1, 2])],
/// };
/// let json = serde_json::to_string(&response).unwrap();
/// assert_eq!(serde_json::from_str::<MetricResponse>(&json).unwrap(), response);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricResponse {
    /// Bucket lower bounds, or categorical labels followed by `"spill"`.
    pub buckets: Vec<Bucket>,
    /// The kind of the served layout (`"exponential"`, `"count"`, …).
    pub kind: String,
    /// The definition's description, `""` when there is none.
    pub description: String,
    /// One entry per (date, label) with rows, dates in the requested order.
    pub data: Vec<DataPoint>,
}

impl MetricQuery {
    /// Runs the query. `Ok(None)` means "not found": no matching rows.
    ///
    /// Rules (docs/api.md, "Metric queries"): scalars and simple measures are served over their fixed labels with kind
    /// `exponential`; a count histogram `M` (kind `count` in the definitions, or stored as
    /// `[[COUNT]]_M`) is read from `[[COUNT]]_M` and served over the count labels with kind
    /// `count`; flags are served with buckets `[0, 1]` (the histogram keeps its three stored
    /// entries); categorical histograms with labels in the definitions are served over
    /// `labels + ["spill"]`; anything else over the stored layout's lower bounds. `kind` is the
    /// definition's when its layout has the stored bounds, else the stored layout's.
    /// `USE_COUNTER2_*` counters are composed with their denominator.
    ///
    /// When the rows of a metric have several layouts (its definition changed between
    /// versions of Firefox), only the layout with the largest total `count` over the whole
    /// answer is served (ties: the smaller layout in [`LayoutSpec`] order).
    ///
    /// ```
    /// use mozaggregator_core::query::MetricQuery;
    /// use mozaggregator_core::*;
    /// let store = MemoryStore::new();
    /// let target = Target { prefix: Prefix::SubmissionDate, channel: "nightly".into(),
    ///     version: "42".into(), date: "20150601".parse().unwrap() };
    /// let key = SeriesKey { metric: "SCALARS_A.B".into(), label: "".into(),
    ///     process: Process::Parent, dims: Dims::default() };
    /// let mut h = Histogram::empty(LayoutSpec::scalar());
    /// h.record(42).unwrap();
    /// let mut batch = Batch::new("20150601".parse().unwrap());
    /// batch.tables.insert(target, vec![(key, h)]);
    /// store.write(&batch).unwrap();
    /// let q = MetricQuery { prefix: Prefix::SubmissionDate, channel: "nightly".into(),
    ///     version: "42".into(), dates: vec!["20150601".parse().unwrap()], metric: "SCALARS_A.B".into(),
    ///     filter: Filter::All };
    /// let r = q.run(&store, &definitions::Definitions::new()).unwrap().unwrap();
    /// assert_eq!(r.kind, "exponential");
    /// assert_eq!((r.data[0].count, r.data[0].sum, r.data[0].histogram[28]), (1, 42, 1));
    /// ```
    ///
    /// # Errors
    /// Store failures.
    pub fn run(
        &self,
        store: &dyn Store,
        definitions: &Definitions,
    ) -> Result<Option<MetricResponse>> {
        Ok(self
            .answer(store, definitions, false)?
            .map(|(response, _)| response))
    }

    /// [`MetricQuery::run`], and each replicate group's entries by the same rules: the same
    /// stored metric, served layout and kind conversions as the answer (not each group's own
    /// choice), from one [`Store::replicates`] call per store read of the answer.
    ///
    /// # Errors
    /// Store failures; [`crate::Error::NoReplicates`] when the data has no complete replicate
    /// groups.
    pub fn run_replicated(
        &self,
        store: &dyn Store,
        definitions: &Definitions,
    ) -> Result<Option<(MetricResponse, ReplicateAnswers)>> {
        Ok(self
            .answer(store, definitions, true)?
            .and_then(|(response, groups)| groups.map(|g| (response, g))))
    }

    /// The answer, and with `replicates` each group's entries (always `Some` then).
    pub(crate) fn answer(
        &self,
        store: &dyn Store,
        definitions: &Definitions,
        replicates: bool,
    ) -> Result<Option<(MetricResponse, Option<ReplicateAnswers>)>> {
        let metric = self.metric.as_str();
        if let Some(denominator) = metric_name::use_counter_denominator(metric) {
            return self.run_use_counter(store, definitions, denominator, replicates);
        }
        if metric_name::source(metric).has_fixed_labels() {
            let rows = served_layout(self.read(store, metric)?);
            let Some(spec) = rows.first().map(|r| r.histogram.layout()) else {
                return Ok(None);
            };
            let groups = self.groups(store, replicates, metric, spec, None)?;
            return Ok(Some((
                MetricResponse {
                    buckets: numbers(spec.bounds()),
                    kind: Kind::Exponential.name().to_string(),
                    description: description(definitions, metric),
                    data: rows.iter().map(|r| point(r, None)).collect(),
                },
                groups,
            )));
        }
        let name = metric_name::served(metric);
        let definition = definitions.lookup(name);
        let counted = metric_name::count(name);
        let count_first = metric_name::source(metric) == Source::Count
            || definition.is_some_and(|d| d.kind == Kind::Count);
        let order = if count_first {
            [counted.as_str(), name]
        } else {
            [name, counted.as_str()]
        };
        let mut rows = Vec::new();
        let mut stored_name = name;
        for candidate in order {
            rows = served_layout(self.read(store, candidate)?);
            if !rows.is_empty() {
                stored_name = candidate;
                break;
            }
        }
        let Some(spec) = rows.first().map(|r| r.histogram.layout()) else {
            return Ok(None);
        };
        let description = description(definitions, name);
        if metric_name::source(stored_name) == Source::Count {
            let groups = self.groups(store, replicates, stored_name, spec, None)?;
            return Ok(Some((
                MetricResponse {
                    buckets: numbers(spec.bounds()),
                    kind: metric_name::served_kind(stored_name, spec.kind())
                        .name()
                        .to_string(),
                    description,
                    data: rows.iter().map(|r| point(r, None)).collect(),
                },
                groups,
            )));
        }
        let served = ServedLayout::of(definitions, name, spec);
        let groups = self.groups(store, replicates, stored_name, spec, served.length)?;
        Ok(Some((
            MetricResponse {
                buckets: served.buckets,
                kind: served.kind.name().to_string(),
                description,
                data: rows.iter().map(|r| point(r, served.length)).collect(),
            },
            groups,
        )))
    }

    /// With `replicates`, each group's entries of `metric` as stored, served like the
    /// answer's rows (layout `spec`, histograms resized to `length`).
    fn groups(
        &self,
        store: &dyn Store,
        replicates: bool,
        metric: &str,
        spec: LayoutSpec,
        length: Option<usize>,
    ) -> Result<Option<ReplicateAnswers>> {
        if !replicates {
            return Ok(None);
        }
        let rows = ReplicateAnswers::read(store, &self.series(metric), spec)?;
        Ok(Some(ReplicateAnswers::from_rows(rows, |rows| {
            rows.into_iter().map(|r| into_point(r, length)).collect()
        })))
    }

    fn run_use_counter(
        &self,
        store: &dyn Store,
        definitions: &Definitions,
        denominator_name: &str,
        replicates: bool,
    ) -> Result<Option<(MetricResponse, Option<ReplicateAnswers>)>> {
        let metric = self.metric.as_str();
        let counters = served_layout(self.read(store, metric)?);
        let denominators = served_layout(self.read(store, denominator_name)?);
        if counters.is_empty() && denominators.is_empty() {
            return Ok(None);
        }
        let (buckets, kind) = match counters.first() {
            Some(row) => {
                let served = ServedLayout::of(definitions, metric, row.histogram.layout());
                (served.buckets, served.kind)
            }
            None => (numbers(LayoutSpec::boolean().bounds()), Kind::Boolean),
        };
        let groups = if replicates {
            // One read per stored metric the answer read rows of, each kept to its layout.
            let read = |name: &str, rows: &[QueryRow]| {
                rows.first()
                    .map(|r| {
                        ReplicateAnswers::read(store, &self.series(name), r.histogram.layout())
                    })
                    .transpose()
            };
            let counter_groups = read(metric, &counters)?;
            let denominator_groups = read(denominator_name, &denominators)?;
            Some(ReplicateAnswers::compose(
                counter_groups,
                denominator_groups,
                |c, d| self.use_counter_points(c, d),
            )?)
        } else {
            None
        };
        Ok(Some((
            MetricResponse {
                buckets,
                kind: kind.name().to_string(),
                description: description(definitions, metric),
                data: self.use_counter_points(&counters, &denominators),
            },
            groups,
        )))
    }

    /// The entries of a use counter: each date's counter rows composed with that date's
    /// denominator (`[denominator − h1 − h2, h1, h2]`), or the denominator alone as an unused
    /// counter when the date has no counter row.
    fn use_counter_points(
        &self,
        counters: &[QueryRow],
        denominators: &[QueryRow],
    ) -> Vec<DataPoint> {
        // The denominator is unkeyed: one (sum, count) per date.
        let mut per_date: BTreeMap<Date, (u64, u64)> = BTreeMap::new();
        for row in denominators {
            let slot = per_date.entry(row.date).or_default();
            slot.0 = slot.0.saturating_add(row.histogram.sum());
            slot.1 = slot.1.saturating_add(row.histogram.count());
        }
        let mut data = Vec::new();
        let mut seen = BTreeSet::new();
        for date in &self.dates {
            if !seen.insert(*date) {
                continue;
            }
            let denominator = per_date.get(date).copied();
            let mut any = false;
            for row in counters.iter().filter(|r| r.date == *date) {
                any = true;
                let mut p = point(row, None);
                if let Some((den_sum, _)) = denominator {
                    let h = row.histogram.counts();
                    let h1 = h.get(1).copied().unwrap_or(0);
                    let h2 = h.get(2).copied().unwrap_or(0);
                    p.histogram = vec![den_sum.saturating_sub(h1).saturating_sub(h2), h1, h2];
                }
                data.push(p);
            }
            if let (false, Some((den_sum, den_count))) = (any, denominator) {
                data.push(DataPoint::new(
                    *date,
                    String::new(),
                    den_count,
                    0,
                    vec![den_sum, 0, 0],
                ));
            }
        }
        data
    }

    fn read(&self, store: &dyn Store, metric: &str) -> Result<Vec<QueryRow>> {
        store.query(&self.series(metric))
    }

    /// The store query of one stored metric: this query's dates (each once), channel,
    /// version and filter.
    fn series(&self, metric: &str) -> SeriesQuery {
        let mut seen = BTreeSet::new();
        let dates = self
            .dates
            .iter()
            .filter(|d| seen.insert(**d))
            .copied()
            .collect();
        SeriesQuery {
            prefix: self.prefix,
            channel: self.channel.clone(),
            version: self.version.clone(),
            dates,
            metric: metric.to_string(),
            filter: self.filter.clone(),
        }
    }
}

/// Buckets and kind of a plain histogram, from its stored layout and its definition.
struct ServedLayout {
    buckets: Vec<Bucket>,
    kind: Kind,
    /// Served histogram length when it differs from the stored one (categorical labels).
    length: Option<usize>,
}

impl ServedLayout {
    fn of(definitions: &Definitions, name: &str, stored: LayoutSpec) -> Self {
        let definition = definitions.lookup(name);
        let kind = match definition {
            Some(d) if d.kind != Kind::Count && d.layout.spec().same_bounds(&stored) => d.kind,
            _ => stored.kind(),
        };
        let labels = definition
            .filter(|d| d.kind == Kind::Categorical)
            .map(|d| d.layout.served_labels())
            .unwrap_or_default();
        match kind {
            Kind::Flag => Self {
                buckets: numbers(vec![0, 1]),
                kind,
                length: None,
            },
            Kind::Categorical if !labels.is_empty() => Self {
                length: Some(labels.len()),
                buckets: labels
                    .into_iter()
                    .map(|l| Bucket::Label(l.to_string()))
                    .collect(),
                kind,
            },
            _ => Self {
                buckets: numbers(stored.bounds()),
                kind,
                length: None,
            },
        }
    }
}

fn numbers(bounds: Vec<u64>) -> Vec<Bucket> {
    bounds.into_iter().map(Bucket::Number).collect()
}

fn description(definitions: &Definitions, name: &str) -> String {
    definitions
        .lookup(name)
        .map(|d| d.description.clone())
        .unwrap_or_default()
}

/// The entry of a row, its counts resized to `length` when given; the row is taken apart (its
/// counts become the entry's, not copied).
fn into_point(row: QueryRow, length: Option<usize>) -> DataPoint {
    let (count, sum) = (row.histogram.count(), row.histogram.sum());
    let mut histogram = row.histogram.into_counts();
    if let Some(n) = length {
        histogram.resize(n, 0);
    }
    DataPoint::new(row.date, row.label, count, sum, histogram)
}

/// [`into_point`] of a row that stays.
fn point(row: &QueryRow, length: Option<usize>) -> DataPoint {
    into_point(row.clone(), length)
}

/// Keeps only the rows of the layout with the largest total `count` (ties: the smaller
/// [`LayoutSpec`]), so that one answer has one set of buckets.
fn served_layout(rows: Vec<QueryRow>) -> Vec<QueryRow> {
    let mut totals: BTreeMap<LayoutSpec, u64> = BTreeMap::new();
    for row in &rows {
        let total = totals.entry(row.histogram.layout()).or_default();
        *total = total.saturating_add(row.histogram.count());
    }
    if totals.len() <= 1 {
        return rows;
    }
    let mut best: Option<(LayoutSpec, u64)> = None;
    for (spec, total) in totals {
        if best.is_none_or(|(_, t)| total > t) {
            best = Some((spec, total));
        }
    }
    match best {
        Some((spec, _)) => rows
            .into_iter()
            .filter(|r| r.histogram.layout() == spec)
            .collect(),
        None => rows,
    }
}

/// The filter options of one (channel, version) as `/filters/` serves them, in the wire
/// format's key order. Empty dimensions are left out of the JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ApiFilterOptions {
    /// Metric names, count histograms without `[[COUNT]]_`, sorted, without duplicates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metric: Vec<String>,
    /// Applications.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub application: Vec<String>,
    /// Architectures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub architecture: Vec<String>,
    /// `"os,osVersion"` pairs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<String>,
    /// Processes: `parent`, `content`, `gpu`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub child: Vec<String>,
}

impl ApiFilterOptions {
    /// The served form of stored options; `visible` decides which served metric names appear.
    /// `None` when every dimension is empty.
    ///
    /// ```
    /// use mozaggregator_core::query::ApiFilterOptions;
    /// use mozaggregator_core::{FilterOptions, Process};
    /// let mut o = FilterOptions::default();
    /// o.metric.insert("[[COUNT]]_X".into());
    /// o.os.insert(("Linux".into(), "3.1".into()));
    /// o.child.insert(Process::Gpu);
    /// let api = ApiFilterOptions::from_options(&o, |_| true).unwrap();
    /// assert_eq!((api.metric, api.os, api.child), (vec!["X".to_string()],
    ///     vec!["Linux,3.1".to_string()], vec!["gpu".to_string()]));
    /// ```
    pub fn from_options(options: &FilterOptions, visible: impl Fn(&str) -> bool) -> Option<Self> {
        let metric: BTreeSet<&str> = options
            .metric
            .iter()
            .map(|m| metric_name::served(m))
            .filter(|m| visible(m))
            .collect();
        let out = Self {
            metric: metric.into_iter().map(str::to_string).collect(),
            application: options.application.iter().cloned().collect(),
            architecture: options.architecture.iter().cloned().collect(),
            os: options
                .os
                .iter()
                .map(|(os, version)| format!("{os},{version}"))
                .collect(),
            child: options
                .child
                .iter()
                .map(|p| p.as_str().to_string())
                .collect(),
        };
        let empty = out.metric.is_empty()
            && out.application.is_empty()
            && out.architecture.is_empty()
            && out.os.is_empty()
            && out.child.is_empty();
        (!empty).then_some(out)
    }
}
