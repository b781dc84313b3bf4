//! The `Store` class (SQLite or in-memory aggregates) and `QueryResult`.

use std::sync::Arc;

use mozaggregator_core::{
    Dimension, Error, Filter, MemoryStore, Prefix, QueryRow, SeriesQuery, Store,
};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::error::IntoPyResult;

/// A store of aggregates: a SQLite file (``Store.open(path)``) or memory (``Store.memory()``).
///
/// Reading methods mirror the HTTP API: ``channels``, ``dates``, ``filters`` and ``query``.
/// ``prefix`` is ``"build_id"`` or ``"submission_date"``. The GIL is released while the store
/// works, so other Python threads run meanwhile.
///
/// >>> from mozaggregator import Store
/// >>> store = Store.memory()
/// >>> store.channels("build_id")
/// []
#[pyclass(module = "mozaggregator._native", name = "Store", frozen)]
pub(crate) struct PyStore {
    pub(crate) inner: Arc<dyn Store>,
    location: String,
}

#[pymethods]
impl PyStore {
    /// Opens (creating if needed) the SQLite store at ``path``.
    #[staticmethod]
    fn open(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Self> {
        let location = path.display().to_string();
        let store = py.detach(|| open_sqlite(&path)).py()?;
        Ok(Self {
            inner: store,
            location,
        })
    }

    /// A new, empty in-memory store.
    #[staticmethod]
    fn memory() -> Self {
        Self {
            inner: Arc::new(MemoryStore::new()),
            location: ":memory:".into(),
        }
    }

    /// Channels with aggregates of ``prefix``, sorted.
    fn channels(&self, py: Python<'_>, prefix: &str) -> PyResult<Vec<String>> {
        let prefix: Prefix = prefix.parse().py()?;
        py.detach(|| self.inner.channels(prefix)).py()
    }

    /// ``[{"date": "YYYYMMDD", "version": "42"}, …]`` for (``prefix``, ``channel``), newest
    /// first.
    fn dates<'py>(
        &self,
        py: Python<'py>,
        prefix: &str,
        channel: &str,
    ) -> PyResult<Bound<'py, PyList>> {
        let prefix: Prefix = prefix.parse().py()?;
        let dates = py.detach(|| self.inner.dates(prefix, channel)).py()?;
        let out = PyList::empty(py);
        for dv in dates {
            let d = PyDict::new(py);
            d.set_item("date", dv.date)?;
            d.set_item("version", dv.version)?;
            out.append(d)?;
        }
        Ok(out)
    }

    /// The filter options of (``channel``, ``version``) as ``/filters/`` lists them —
    /// ``{"metric": […], "application": […], "architecture": […], "os": ["Linux,5.1", …],
    /// "child": […]}`` — or ``None`` when nothing is stored for them.
    fn filters<'py>(
        &self,
        py: Python<'py>,
        channel: &str,
        version: &str,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(options) = py
            .detach(|| self.inner.filter_options(channel, version))
            .py()?
        else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        d.set_item("metric", options.metric.into_iter().collect::<Vec<_>>())?;
        d.set_item(
            "application",
            options.application.into_iter().collect::<Vec<_>>(),
        )?;
        d.set_item(
            "architecture",
            options.architecture.into_iter().collect::<Vec<_>>(),
        )?;
        d.set_item(
            "os",
            options
                .os
                .into_iter()
                .map(|(os, version)| format!("{os},{version}"))
                .collect::<Vec<_>>(),
        )?;
        d.set_item(
            "child",
            options
                .child
                .into_iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>(),
        )?;
        Ok(Some(d))
    }

    /// Queries one metric over ``dates`` (a list or a comma-separated string) of
    /// (``prefix``, ``channel``, ``version``), like the HTTP API's metric query.
    ///
    /// Keyword filters: ``application``, ``architecture``, ``child``, ``label``, ``os``,
    /// ``osVersion`` — each a string or a list of accepted strings. Any other keyword raises
    /// ``ValueError``; a metric without data on those dates raises ``KeyError``.
    #[pyo3(signature = (prefix, channel, version, dates, metric, **filters))]
    #[allow(clippy::too_many_arguments)]
    fn query(
        &self,
        py: Python<'_>,
        prefix: &str,
        channel: &str,
        version: &str,
        dates: &Bound<'_, PyAny>,
        metric: &str,
        filters: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyQueryResult> {
        let query = SeriesQuery {
            prefix: prefix.parse().py()?,
            channel: channel.to_owned(),
            version: version.to_owned(),
            dates: date_list(dates)?,
            metric: metric.to_owned(),
            filter: filter_of(filters)?,
        };
        let rows = py.detach(|| self.inner.query(&query)).py()?;
        PyQueryResult::from_rows(metric, rows)
    }

    fn __repr__(&self) -> String {
        format!("Store({:?})", self.location)
    }
}

// Bound to the core's SQLite store once it lands on main.
fn open_sqlite(path: &std::path::Path) -> mozaggregator_core::Result<Arc<dyn Store>> {
    let _ = path;
    Err(Error::Store(
        "the SQLite store is not in this build yet".into(),
    ))
}

/// `dates` as a list of strings or one comma-separated string.
fn date_list(dates: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if let Ok(s) = dates.extract::<String>() {
        return Ok(s
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .collect());
    }
    dates.extract::<Vec<String>>()
}

/// The conjunction of keyword filters (each a string or a list of strings).
fn filter_of(filters: Option<&Bound<'_, PyDict>>) -> PyResult<Filter> {
    let mut filter = Filter::All;
    let Some(filters) = filters else {
        return Ok(filter);
    };
    for (name, value) in filters.iter() {
        let name: String = name.extract()?;
        let dimension: Dimension = name.parse().py()?;
        if dimension == Dimension::Metric {
            return Err(Error::invalid("filter", "`metric` is not a filter")).py();
        }
        let one = if let Ok(v) = value.extract::<String>() {
            Filter::eq(dimension, v)
        } else {
            Filter::is_in(dimension, value.extract::<Vec<String>>()?)
        };
        filter = filter.and(one);
    }
    Ok(filter)
}

/// The answer to ``Store.query``: ``buckets``, ``kind``, ``description`` and ``data`` (one
/// dict per date and label: ``date``, ``label``, ``count``, ``sum``, ``histogram``), as the
/// HTTP API returns them.
#[pyclass(module = "mozaggregator._native", name = "QueryResult", frozen)]
pub(crate) struct PyQueryResult {
    metric: String,
    buckets: Py<PyList>,
    kind: String,
    description: String,
    data: Py<PyList>,
}

impl PyQueryResult {
    fn from_rows(metric: &str, rows: Vec<QueryRow>) -> PyResult<Self> {
        Python::attach(|py| {
            let Some(first) = rows.first() else {
                return Err(Error::UnknownMetric(metric.to_owned())).py();
            };
            let layout = first.histogram.layout();
            let buckets = PyList::new(py, layout.bounds())?.unbind();
            let data = PyList::empty(py);
            for row in rows.iter().filter(|r| r.histogram.layout() == layout) {
                let d = PyDict::new(py);
                d.set_item("date", &row.date)?;
                d.set_item("label", &row.label)?;
                d.set_item("count", row.histogram.count())?;
                d.set_item("sum", row.histogram.sum())?;
                d.set_item("histogram", row.histogram.counts())?;
                data.append(d)?;
            }
            Ok(Self {
                metric: metric.to_owned(),
                buckets,
                kind: layout.kind().name().to_owned(),
                description: String::new(),
                data: data.unbind(),
            })
        })
    }
}

#[pymethods]
impl PyQueryResult {
    /// The metric queried.
    #[getter]
    fn metric(&self) -> &str {
        &self.metric
    }

    /// Bucket lower bounds (categorical: labels followed by ``"spill"``).
    #[getter]
    fn buckets(&self, py: Python<'_>) -> Py<PyList> {
        self.buckets.clone_ref(py)
    }

    /// The kind of the layout served.
    #[getter]
    fn kind(&self) -> &str {
        &self.kind
    }

    /// The metric's description from the definitions, ``""`` when there is none.
    #[getter]
    fn description(&self) -> &str {
        &self.description
    }

    /// One dict per (date, label): ``date``, ``label``, ``count``, ``sum``, ``histogram``.
    #[getter]
    fn data(&self, py: Python<'_>) -> Py<PyList> {
        self.data.clone_ref(py)
    }

    /// The whole answer as the HTTP API's JSON object (a dict).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("buckets", self.buckets.bind(py))?;
        d.set_item("kind", &self.kind)?;
        d.set_item("description", &self.description)?;
        d.set_item("data", self.data.bind(py))?;
        Ok(d)
    }

    /// ``data`` as a pandas DataFrame, one row per (date, label), one column per bucket
    /// (``ImportError`` without pandas).
    fn to_pandas<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        py.import("mozaggregator._frames")?
            .call_method1("query_frame", (slf,))
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "QueryResult(metric={:?}, kind={:?}, {} buckets, {} rows)",
            self.metric,
            self.kind,
            self.buckets.bind(py).len(),
            self.data.bind(py).len()
        )
    }
}
