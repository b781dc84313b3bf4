//! `QueryResult`: the answer to ``Store.query``, and the statistics a notebook reads from it
//! (mean, percentiles, CDF, proportions, comparisons), computed by the core's `stats` module —
//! the same numbers as the HTTP API's.

use mozaggregator_core::analysis::{attach_stats, Comparison, DEFAULT_STATS};
use mozaggregator_core::query::{Bucket, MetricResponse};
use mozaggregator_core::stats::{self, Distribution, Stat};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert::{state_parts, to_python, Reduce};
use crate::error::IntoPyResult;

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
        })
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

    /// The mean (``sum / samples``) of each data entry, in ``data`` order; ``None`` when
    /// undefined (no samples, or a categorical, boolean or flag metric).
    fn mean(&self) -> Vec<Option<f64>> {
        self.per_entry(stats::mean)
    }

    /// Percentiles of each data entry, in ``data`` order: one dict per entry, ``{"p50": x,
    /// …}`` (``None`` when undefined). ``method``: ``"interp"`` (default), ``"nearest"``
    /// (GLAM) or ``"tmo"`` (telemetry.js v2); see docs/statistics.md.
    #[pyo3(signature = (ps = vec![5.0, 25.0, 50.0, 75.0, 95.0], *, method = "interp"))]
    fn percentiles<'py>(
        &self,
        py: Python<'py>,
        ps: Vec<f64>,
        method: &str,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let method = method.parse().py()?;
        let names: Vec<String> = ps.iter().map(|p| Stat::Percentile(*p).name()).collect();
        let rows = self.per_entry(|d| stats::percentiles(d, &ps, method));
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let dict = PyDict::new(py);
            for (name, p) in names.iter().zip(row.py()?) {
                dict.set_item(name, p.value)?;
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
    #[pyo3(signature = (stats = None, *, method = "interp"))]
    fn stats<'py>(
        &self,
        py: Python<'py>,
        stats: Option<&Bound<'py, PyAny>>,
        method: &str,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let wanted = match stats {
            Some(s) => stat_list(s)?,
            None => Stat::parse_list(DEFAULT_STATS).py()?,
        };
        let mut response = self.response.clone();
        attach_stats(&mut response, &wanted, method.parse().py()?).py()?;
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
#[pyfunction]
#[pyo3(signature = (a, b, *, stats = None, method = "interp"))]
pub(crate) fn compare<'py>(
    py: Python<'py>,
    a: PyRef<'py, PyQueryResult>,
    b: PyRef<'py, PyQueryResult>,
    stats: Option<&Bound<'py, PyAny>>,
    method: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let wanted = match stats {
        Some(s) => stat_list(s)?,
        None => Stat::parse_list(DEFAULT_STATS).py()?,
    };
    let method = method.parse().py()?;
    let (ra, rb) = (&a.response, &b.response);
    let comparison = py
        .detach(|| Comparison::between(ra, rb, &wanted, method))
        .py()?;
    to_python(py, &comparison)
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
