//! The `Store` class (SQLite or in-memory aggregates) and `QueryResult`.

use std::path::PathBuf;
use std::sync::Arc;

use mozaggregator_core::analysis::MetricRequest;
use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::params::{expand_dates, parse_group_by};
use mozaggregator_core::query::{ApiFilterOptions, MetricQuery};
use mozaggregator_core::{Error, Filter, MemoryStore, Prefix, Selection, SqliteStore, Store};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::convert::{rows_to_python, scan_rows, to_python};
use crate::definitions::PyDefinitions;
use crate::error::IntoPyResult;
use crate::result::{stat_list, PyQueryResult};

/// A store of aggregates: a SQLite file (``Store.open(path)``) or memory (``Store.memory()``).
///
/// Reading methods answer what the HTTP API answers: ``channels``, ``dates``, ``filters`` and
/// ``query``. ``prefix`` is ``"build_id"`` or ``"submission_date"``. ``definitions`` (optional)
/// give queries their kinds, categorical labels and descriptions, as the server's definition
/// files do. The GIL is released while the store works, so other Python threads run meanwhile.
/// There is no access control here: ``release`` and every metric are readable.
///
/// >>> from mozaggregator import Store
/// >>> store = Store.memory()
/// >>> store.channels("build_id")
/// []
/// >>> store.filters("nightly", "42") is None
/// True
#[pyclass(module = "mozaggregator._native", name = "Store", frozen)]
pub(crate) struct PyStore {
    pub(crate) inner: Arc<dyn Store>,
    definitions: Arc<Definitions>,
    location: String,
}

impl PyStore {
    fn new(inner: Arc<dyn Store>, definitions: Option<&PyDefinitions>, location: String) -> Self {
        Self {
            inner,
            definitions: definitions
                .map(|d| d.inner.clone())
                .unwrap_or_else(|| Arc::new(Definitions::new())),
            location,
        }
    }
}

#[pymethods]
impl PyStore {
    /// Opens (creating if needed) the SQLite store at ``path``.
    #[staticmethod]
    #[pyo3(signature = (path, definitions = None))]
    fn open(
        py: Python<'_>,
        path: PathBuf,
        definitions: Option<PyRef<'_, PyDefinitions>>,
    ) -> PyResult<Self> {
        let store = py.detach(|| SqliteStore::open(&path)).py()?;
        Ok(Self::new(
            Arc::new(store),
            definitions.as_deref(),
            path.display().to_string(),
        ))
    }

    /// A new, empty in-memory store.
    #[staticmethod]
    #[pyo3(signature = (definitions = None))]
    fn memory(definitions: Option<PyRef<'_, PyDefinitions>>) -> Self {
        Self::new(
            Arc::new(MemoryStore::new()),
            definitions.as_deref(),
            ":memory:".into(),
        )
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
    ) -> PyResult<Bound<'py, PyAny>> {
        let prefix: Prefix = prefix.parse().py()?;
        let dates = py.detach(|| self.inner.dates(prefix, channel)).py()?;
        to_python(py, &dates)
    }

    /// The filter options of (``channel``, ``version``) as ``/filters/`` serves them —
    /// ``{"metric": […], "application": […], "architecture": […], "os": ["Linux,5.1", …],
    /// "child": […]}`` with count histograms named without ``[[COUNT]]_`` and empty dimensions
    /// left out — or ``None`` when nothing is stored for them.
    fn filters<'py>(
        &self,
        py: Python<'py>,
        channel: &str,
        version: &str,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let options = py
            .detach(|| self.inner.filter_options(channel, version))
            .py()?;
        options
            .and_then(|o| ApiFilterOptions::from_options(&o, |_| true))
            .map(|o| to_python(py, &o))
            .transpose()
    }

    /// Queries one metric over ``dates`` (a list or a comma-separated string) of
    /// (``prefix``, ``channel``, ``version``), with the HTTP API's rules (count histograms,
    /// scalars, categorical labels, flags, use counters).
    ///
    /// Keyword filters: ``application``, ``architecture``, ``child``, ``label``, ``os``,
    /// ``osVersion`` — each a string or a list of accepted strings (OR). Any other keyword
    /// raises ``ValueError``; a metric without data on those dates raises ``KeyError``.
    /// ``dates`` may hold inclusive ranges ``"20240101..20240131"``. The Analysis API's options
    /// are keyword-only: ``group_by`` (a filter name or ``"label"``), ``top`` (keyed metrics:
    /// keep the K labels with most pings, the rest summed into ``"__other__"``), ``stats``
    /// (e.g. ``["mean", "p50", "p99.9"]``: each data entry gets ``stats`` and
    /// ``stats_buckets`` as over HTTP) and ``pct_method`` (``"interp"``, ``"nearest"``,
    /// ``"tmo"``).
    #[pyo3(signature = (prefix, channel, version, dates, metric, *, group_by = None, top = None, stats = None, pct_method = None, **filters))]
    #[allow(clippy::too_many_arguments)]
    fn query(
        &self,
        py: Python<'_>,
        prefix: &str,
        channel: &str,
        version: &str,
        dates: &Bound<'_, PyAny>,
        metric: &str,
        group_by: Option<&str>,
        top: Option<usize>,
        stats: Option<&Bound<'_, PyAny>>,
        pct_method: Option<&str>,
        filters: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyQueryResult> {
        let query = MetricQuery {
            prefix: prefix.parse().py()?,
            channel: channel.to_owned(),
            version: version.to_owned(),
            dates: expand_dates(&date_list(dates)?.join(",")).py()?,
            metric: metric.to_owned(),
            filter: filter_of(filters)?,
        };
        let request = MetricRequest {
            query,
            group_by: group_by.map(parse_group_by).transpose().py()?,
            top: match top {
                Some(0) => return Err(Error::invalid("top", "must be at least 1")).py(),
                other => other,
            },
            stats: stats.map(stat_list).transpose()?,
            method: pct_method.unwrap_or("interp").parse().py()?,
        };
        let response = py
            .detach(|| request.run(self.inner.as_ref(), &self.definitions))
            .py()?
            .ok_or_else(|| Error::UnknownMetric(metric.to_owned()))
            .py()?;
        PyQueryResult::new(py, metric, response)
    }

    /// Every stored row as a dict, with the fields and in the order of ``mozaggregator
    /// export`` (without ``--histograms``): ``prefix``, ``channel``, ``version``, ``date``,
    /// ``metric``, ``label``, ``process``, ``application``, ``architecture``, ``os``,
    /// ``os_version``, ``kind``, ``buckets``, ``histogram``, ``sum``, ``count``. ``prefix``,
    /// ``channel`` and ``version`` select tables (``None``: all).
    #[pyo3(signature = (prefix = None, channel = None, version = None))]
    fn export<'py>(
        &self,
        py: Python<'py>,
        prefix: Option<&str>,
        channel: Option<String>,
        version: Option<String>,
    ) -> PyResult<Bound<'py, PyList>> {
        let selection = Selection {
            prefix: prefix.map(str::parse).transpose().py()?,
            channel,
            version,
        };
        let rows = py
            .detach(|| scan_rows(self.inner.as_ref(), &selection))
            .py()?;
        rows_to_python(py, &rows, &self.definitions)
    }

    /// ``export(prefix, channel, version)`` as a pandas DataFrame (``ImportError`` without
    /// pandas).
    #[pyo3(signature = (prefix = None, channel = None, version = None))]
    fn to_pandas<'py>(
        &self,
        py: Python<'py>,
        prefix: Option<&str>,
        channel: Option<String>,
        version: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let frames = py.import("mozaggregator._frames")?;
        frames.call_method0("require_pandas")?;
        frames.call_method1(
            "aggregates_frame",
            (self.export(py, prefix, channel, version)?,),
        )
    }

    fn __repr__(&self) -> String {
        format!("Store({:?})", self.location)
    }
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

/// The conjunction of keyword filters, each a string (as the HTTP parameter) or a list of
/// strings (any of them). A keyword that is not a filter of the metric route is a `ValueError`.
fn filter_of(filters: Option<&Bound<'_, PyDict>>) -> PyResult<Filter> {
    let mut filter = Filter::All;
    let Some(filters) = filters else {
        return Ok(filter);
    };
    for (name, value) in filters.iter() {
        let name: String = name.extract()?;
        let values: Vec<String> = match value.extract::<String>() {
            Ok(one) => vec![one],
            Err(_) => value.extract()?,
        };
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        filter = filter.and(Filter::from_param(&name, &values).py()?);
    }
    Ok(filter)
}
