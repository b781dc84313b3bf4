//! `QueryResult`: the answer to ``Store.query``, and the statistics a notebook reads from it
//! (mean, percentiles, CDF, proportions, comparisons), computed by the core's `stats` module —
//! the same numbers as the HTTP API's. With ``ci=``, the intervals over the store's replicate
//! groups, read once from the store the result came from.

use std::sync::{Arc, OnceLock};

use mozaggregator_core::analysis::{
    attach_intervals, attach_stats, Comparison, MetricRequest, ReplicateAnswers, DEFAULT_STATS,
    DEFAULT_THRESHOLD,
};
use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::export::query_frame::response_batch;
use mozaggregator_core::query::{Bucket, DataPoint, MetricResponse};
use mozaggregator_core::stats::{self, Confidence, Distribution, PercentileMethod, Stat};
use mozaggregator_core::{Error, Store};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::arrow_stream::PyArrowStream;
use crate::convert::{state_parts, to_python, Reduce};
use crate::error::IntoPyResult;

/// Where a result came from: enough to read its replicate groups when an interval is asked.
pub(crate) struct Source {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) definitions: Arc<Definitions>,
    pub(crate) request: MetricRequest,
}

/// Format version of the pickled state of a `QueryResult`.
const STATE_VERSION: u8 = 1;

/// The answer to ``Store.query``: ``buckets``, ``kind``, ``description`` and ``data`` (one
/// dict per date and label: ``date``, ``label``, ``count``, ``sum``, ``histogram``), as the
/// HTTP API returns them.
#[pyclass(module = "mozaggregator._native", name = "QueryResult", frozen)]
pub(crate) struct PyQueryResult {
    response: MetricResponse,
    /// The metric queried.
    #[pyo3(get)]
    metric: String,
    /// Bucket lower bounds (categorical: labels followed by ``"spill"``; flags: ``[0, 1]``).
    #[pyo3(get)]
    buckets: Py<PyList>,
    /// The kind of the layout served.
    #[pyo3(get)]
    kind: String,
    /// The metric's description from the definitions, ``""`` when there is none.
    #[pyo3(get)]
    description: String,
    /// One dict per (date, label): ``date``, ``label``, ``count``, ``sum``, ``histogram``.
    #[pyo3(get)]
    data: Py<PyAny>,
    /// The store and request, for intervals (none once unpickled).
    source: Option<Source>,
    /// The replicate groups' answers, read on the first interval asked.
    replicates: OnceLock<ReplicateAnswers>,
}

impl PyQueryResult {
    pub(crate) fn new(py: Python<'_>, metric: &str, response: MetricResponse) -> PyResult<Self> {
        let buckets = PyList::empty(py);
        for bucket in &response.buckets {
            match bucket {
                Bucket::Number(n) => buckets.append(n)?,
                Bucket::Label(l) => buckets.append(l)?,
            }
        }
        Ok(Self {
            metric: metric.to_owned(),
            buckets: buckets.unbind(),
            data: to_python(py, &response.data)?.unbind(),
            kind: response.kind.clone(),
            description: response.description.clone(),
            response,
            source: None,
            replicates: OnceLock::new(),
        })
    }

    /// The result, able to read its replicate groups from `source` for `ci=`.
    pub(crate) fn with_source(mut self, source: Source) -> Self {
        self.source = Some(source);
        self
    }

    /// The replicate groups' answers to the same request, read from the store on first use
    /// (the GIL released meanwhile).
    fn replicates(&self, py: Python<'_>) -> PyResult<&ReplicateAnswers> {
        if let Some(groups) = self.replicates.get() {
            return Ok(groups);
        }
        let source = self.source.as_ref().ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(
                "ci needs the store this result was queried from, and an unpickled result \
                 has none: query the store again",
            )
        })?;
        let (_, groups) = py
            .detach(|| {
                source
                    .request
                    .run_replicated(source.store.as_ref(), &source.definitions)
            })
            .py()?
            .ok_or_else(|| {
                Error::NoReplicates("the store no longer has data for this query".to_string())
            })
            .py()?;
        Ok(self.replicates.get_or_init(|| groups))
    }

    /// The answer with `stats` and, with `ci`, their intervals on every entry.
    fn with_stats(
        &self,
        py: Python<'_>,
        stats: &[Stat],
        method: PercentileMethod,
        ci: Option<Confidence>,
    ) -> PyResult<MetricResponse> {
        let mut response = self.response.clone();
        attach_stats(&mut response, stats, method).py()?;
        if let Some(level) = ci {
            let groups = self.replicates(py)?;
            py.detach(|| attach_intervals(&mut response, groups, stats, method, level))
                .py()?;
        }
        Ok(response)
    }

    /// Applies `f` to the distribution of every data entry.
    fn per_entry<T>(&self, f: impl Fn(&Distribution<'_>) -> T) -> Vec<T> {
        let kind = self.response.served_kind();
        let bounds = self.response.bounds();
        self.response
            .data
            .iter()
            .map(|p| {
                f(&Distribution {
                    kind,
                    bounds: &bounds,
                    counts: &p.histogram,
                    sum: p.sum,
                })
            })
            .collect()
    }
}

#[pymethods]
impl PyQueryResult {
    /// The whole answer as the HTTP API's JSON object (a dict).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("buckets", self.buckets.bind(py))?;
        d.set_item("kind", &self.kind)?;
        d.set_item("description", &self.description)?;
        d.set_item("data", self.data.bind(py))?;
        Ok(d)
    }

    /// ``data`` as a pyarrow Table: ``date``, ``label``, ``group`` (when grouped), ``count``,
    /// ``sum``, then one column per bucket, named by its lower bound or label (as a string);
    /// built in Rust and handed over through the Arrow C data interface. ``ImportError``
    /// without pyarrow.
    fn to_arrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let batch = py.detach(|| response_batch(&self.response)).py()?;
        PyArrowStream::new(batch.schema(), vec![batch]).into_table(py)
    }

    /// The mean (``sum / samples``) of each data entry, in ``data`` order; ``None`` when
    /// undefined (no samples, or a categorical, boolean or flag metric).
    fn mean(&self) -> Vec<Option<f64>> {
        self.per_entry(stats::mean)
    }

    /// Percentiles of each data entry, in ``data`` order: one dict per entry, ``{"p50": x,
    /// …}`` (``None`` when undefined). ``method``: ``"interp"`` (default), ``"nearest"``
    /// (GLAM) or ``"tmo"`` (telemetry.js v2); see docs/statistics.md.
    ///
    /// ``ci`` (``0.9``, ``0.95`` or ``0.99``) adds ``"p50_lower"`` and ``"p50_upper"``: the
    /// jackknife interval over the store's replicate groups, as the HTTP API's ``ci=`` gives
    /// it (``None`` when it cannot be computed). The groups are read from the store on the
    /// first interval asked; a store without them raises ``ValueError``.
    #[pyo3(signature = (ps = vec![5.0, 25.0, 50.0, 75.0, 95.0], *, method = "interp", ci = None))]
    fn percentiles<'py>(
        &self,
        py: Python<'py>,
        ps: Vec<f64>,
        method: &str,
        ci: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let method = method.parse().py()?;
        let names: Vec<String> = ps.iter().map(|p| Stat::Percentile(*p).name()).collect();
        let rows = self.per_entry(|d| stats::percentiles(d, &ps, method));
        let intervals = match ci.map(level_arg).transpose()? {
            Some(level) => {
                let wanted: Vec<Stat> = ps.iter().map(|p| Stat::Percentile(*p)).collect();
                Some(self.with_stats(py, &wanted, method, Some(level))?.data)
            }
            None => None,
        };
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            let dict = PyDict::new(py);
            for (name, p) in names.iter().zip(row.py()?) {
                dict.set_item(name, p.value)?;
            }
            if let Some(point) = intervals.as_ref().and_then(|d| d.get(i)) {
                set_bounds(&dict, point)?;
            }
            out.push(dict);
        }
        Ok(out)
    }

    /// The cumulative proportion at each bucket, per data entry.
    fn cdf(&self) -> Vec<Vec<f64>> {
        self.per_entry(stats::cdf)
    }

    /// The proportion of samples in each bucket, per data entry.
    fn proportions(&self) -> Vec<Vec<f64>> {
        self.per_entry(stats::proportions)
    }

    /// One dict per data entry with ``date``, ``label`` (``group`` when grouped), ``samples``
    /// and each requested statistic (default ``mean, p5, p25, p50, p75, p95``), as the HTTP
    /// API's ``stats`` parameter computes them.
    ///
    /// ``ci`` (``0.9``, ``0.95`` or ``0.99``) adds ``"mean_lower"``, ``"mean_upper"``,
    /// ``"p50_lower"``, … after the statistics: each one's jackknife interval over the store's
    /// replicate groups, as the HTTP API's ``ci=`` gives it.
    #[pyo3(signature = (stats = None, *, method = "interp", ci = None))]
    fn stats<'py>(
        &self,
        py: Python<'py>,
        stats: Option<&Bound<'py, PyAny>>,
        method: &str,
        ci: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let wanted = match stats {
            Some(s) => stat_list(s)?,
            None => Stat::parse_list(DEFAULT_STATS).py()?,
        };
        let level = ci.map(level_arg).transpose()?;
        let response = self.with_stats(py, &wanted, method.parse().py()?, level)?;
        let mut out = Vec::with_capacity(response.data.len());
        for point in &response.data {
            let dict = PyDict::new(py);
            dict.set_item("date", point.date.to_string())?;
            dict.set_item("label", &point.label)?;
            if let Some(group) = &point.group {
                dict.set_item("group", group)?;
            }
            if let Some(summary) = &point.stats {
                let values = to_python(py, &summary.values_json())?;
                dict.update(values.cast::<PyDict>()?.as_mapping())?;
            }
            set_bounds(&dict, point)?;
            out.push(dict);
        }
        Ok(out)
    }

    /// Pickle support: ``(1, metric, the answer's JSON)`` rebuilt by ``_from_state``.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduce<'py, ((u8, String, String),)>> {
        let this = slf.get();
        let json = serde_json::to_string(&this.response).map_err(|e| {
            pyo3::exceptions::PyRuntimeError::new_err(format!("cannot pickle a result: {e}"))
        })?;
        Ok((
            slf.get_type().getattr("_from_state")?,
            ((STATE_VERSION, this.metric.clone(), json),),
        ))
    }

    /// Inverse of ``__reduce__``: ``ValueError`` on a state it did not write.
    #[staticmethod]
    fn _from_state(py: Python<'_>, state: &Bound<'_, PyAny>) -> PyResult<Self> {
        let parts = state_parts(state, "QueryResult", STATE_VERSION, 3)?;
        let metric: String = parts.get_item(1)?.extract().map_err(bad_state)?;
        let json: String = parts.get_item(2)?.extract().map_err(bad_state)?;
        let response: MetricResponse = serde_json::from_str(&json).map_err(bad_state)?;
        let mut result = Self::new(py, &metric, response)?;
        // The statistics of `data` (derived values, not in `response`) as they were pickled.
        let value = py.import("json")?.call_method1("loads", (json,))?;
        result.data = value.get_item("data")?.unbind();
        Ok(result)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "QueryResult(metric={:?}, kind={:?}, {} buckets, {} entries)",
            self.metric,
            self.kind,
            self.buckets.bind(py).len(),
            self.data.bind(py).len().unwrap_or(0)
        )
    }
}

/// Compares two query results of the same metric layout, each pooled over all its entries:
/// ``{"kind", "buckets", "a", "b", "deltas", "distances"}`` exactly as the HTTP ``compare/``
/// route answers (deltas are B − A). ``ValueError`` when the layouts differ.
///
/// ``ci`` (``0.9``, ``0.95`` or ``0.99``) adds the intervals over the replicate groups of
/// both results' stores (groups paired by index) and ``"ci"`` with the verdict, as the HTTP
/// route's ``ci=`` (``threshold``: its verdict's threshold, default 0.01, unused without
/// ``ci``); a store without replicate groups, or two sides with different counts, raise
/// ``ValueError``.
#[pyfunction]
#[pyo3(signature = (a, b, *, stats = None, method = "interp", ci = None, threshold = None))]
pub(crate) fn compare<'py>(
    py: Python<'py>,
    a: PyRef<'py, PyQueryResult>,
    b: PyRef<'py, PyQueryResult>,
    stats: Option<&Bound<'py, PyAny>>,
    method: &str,
    ci: Option<&Bound<'py, PyAny>>,
    threshold: Option<f64>,
) -> PyResult<Bound<'py, PyAny>> {
    let wanted = match stats {
        Some(s) => stat_list(s)?,
        None => Stat::parse_list(DEFAULT_STATS).py()?,
    };
    let method = method.parse().py()?;
    let (ra, rb) = (&a.response, &b.response);
    let threshold = threshold
        .map(|t| mozaggregator_core::params::parse_threshold(&t.to_string()))
        .transpose()
        .py()?
        .unwrap_or(DEFAULT_THRESHOLD);
    let Some(level) = ci.map(level_arg).transpose()? else {
        let comparison = py
            .detach(|| Comparison::between(ra, rb, &wanted, method))
            .py()?;
        return to_python(py, &comparison);
    };
    let (ga, gb) = (a.replicates(py)?, b.replicates(py)?);
    let comparison = py
        .detach(|| {
            Comparison::between_replicated((ra, ga), (rb, gb), &wanted, method, level, threshold)
        })
        .py()?;
    to_python(py, &comparison)
}

/// A confidence level given as a float (``0.95``) or a string (``"0.95"``).
pub(crate) fn level_arg(level: &Bound<'_, PyAny>) -> PyResult<Confidence> {
    let text = match level.extract::<String>() {
        Ok(s) => s,
        Err(_) => level.extract::<f64>()?.to_string(),
    };
    text.parse().py()
}

/// Adds ``"<stat>_lower"`` and ``"<stat>_upper"`` for each interval of `point`'s ``ci``.
fn set_bounds(dict: &Bound<'_, PyDict>, point: &DataPoint) -> PyResult<()> {
    let Some(ci) = &point.ci else {
        return Ok(());
    };
    for (name, interval) in &ci.stats {
        dict.set_item(format!("{name}_lower"), interval.map(|i| i.lower))?;
        dict.set_item(format!("{name}_upper"), interval.map(|i| i.upper))?;
    }
    Ok(())
}

/// A state `_from_state` cannot read.
fn bad_state(err: impl std::fmt::Display) -> PyErr {
    pyo3::exceptions::PyValueError::new_err(format!("not a pickled QueryResult: {err}"))
}

/// Statistics given as a list of names (``["mean", "p50"]``) or one comma-separated string.
pub(crate) fn stat_list(stats: &Bound<'_, PyAny>) -> PyResult<Vec<Stat>> {
    let text = match stats.extract::<String>() {
        Ok(s) => s,
        Err(_) => stats.extract::<Vec<String>>()?.join(","),
    };
    Stat::parse_list(&text).py()
}
