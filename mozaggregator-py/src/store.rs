//! The `Store` class (SQLite or in-memory aggregates) and `QueryResult`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use mozaggregator_core::analysis::MetricRequest;
use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::params::{expand_dates, parse_group_by};
use mozaggregator_core::query::{ApiFilterOptions, MetricQuery};
use mozaggregator_core::store::{
    is_postgres_url, redact_url, Batch, FilterOptions, QueryRow, ReplicateRows, SeriesQuery,
    WriteReport,
};
use mozaggregator_core::{
    Date, DateVersion, Dimension, Error, Filter, Histogram, MemoryStore, Prefix, Selection,
    SeriesKey, SqliteStore, Store, StoreLocation, Target,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::to_python;
use crate::definitions::PyDefinitions;
use crate::error::IntoPyResult;
use crate::export_rows::PyExportRows;
use crate::result::{stat_list, PyQueryResult, Source};
use mozaggregator_core::export::stored_rows;

/// A store of aggregates: a SQLite file (``Store(path)`` or ``Store.open(path)``) or memory
/// (``Store()`` or ``Store.memory()``).
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
///
/// ``close()`` releases the store; ``with`` closes it at the end of the block:
///
/// >>> with Store.memory() as s:
/// ...     s.dates("submission_date", "nightly")
/// []
/// >>> s.closed
/// True
#[pyclass(module = "mozaggregator._native", name = "Store", frozen)]
pub(crate) struct PyStore {
    /// The store (`closable` as a `Store`: every call fails once it is closed).
    pub(crate) inner: Arc<dyn Store>,
    closable: Arc<Closable>,
    definitions: Arc<Definitions>,
    location: String,
}

impl PyStore {
    fn wrap(inner: Arc<dyn Store>, definitions: Option<&PyDefinitions>, location: String) -> Self {
        let closable = Arc::new(Closable(RwLock::new(Some(inner))));
        Self {
            inner: closable.clone(),
            closable,
            definitions: definitions
                .map(|d| d.inner.clone())
                .unwrap_or_else(|| Arc::new(Definitions::new())),
            location,
        }
    }
}

#[pymethods]
impl PyStore {
    /// ``Store()`` is a new, empty in-memory store (as ``Store.memory()``); ``Store(path)``
    /// opens, creating it if needed, the SQLite store at ``path`` (as ``Store.open(path)``).
    /// The options are those of ``Store.open``.
    #[new]
    #[pyo3(signature = (path = None, *, definitions = None, lock_timeout = None))]
    fn py_new(
        py: Python<'_>,
        path: Option<PathBuf>,
        definitions: Option<PyRef<'_, PyDefinitions>>,
        lock_timeout: Option<f64>,
    ) -> PyResult<Self> {
        match path {
            Some(path) => Self::open(py, path, definitions, lock_timeout),
            None => Ok(Self::memory(definitions)),
        }
    }

    /// Opens (creating if needed) the SQLite store at ``path``, or the PostgreSQL store at a
    /// ``postgres://user:password@host:port/db`` URL (its schema is created if needed; the
    /// password never appears in messages). ``lock_timeout`` (seconds, default 60) is how long
    /// a write waits for another process that holds a SQLite file locked before it raises
    /// ``StoreLockedError``.
    #[staticmethod]
    #[pyo3(signature = (path, *, definitions = None, lock_timeout = None))]
    fn open(
        py: Python<'_>,
        path: PathBuf,
        definitions: Option<PyRef<'_, PyDefinitions>>,
        lock_timeout: Option<f64>,
    ) -> PyResult<Self> {
        let lock_timeout = lock_timeout
            .map(|seconds| {
                Duration::try_from_secs_f64(seconds).map_err(|_| {
                    Error::invalid(
                        "lock_timeout",
                        format!("{seconds} is not a number of seconds >= 0"),
                    )
                })
            })
            .transpose()
            .py()?;
        if let Some(url) = path.to_str().filter(|p| is_postgres_url(p)) {
            let shown = redact_url(url);
            let store = py
                .detach(|| StoreLocation::Postgres(url.to_string()).open(&[]))
                .py()?;
            return Ok(Self::wrap(store, definitions.as_deref(), shown));
        }
        let store = py
            .detach(|| -> mozaggregator_core::Result<SqliteStore> {
                let store = SqliteStore::open(&path)?;
                if let Some(timeout) = lock_timeout {
                    store.set_busy_timeout(timeout)?;
                }
                Ok(store)
            })
            .py()?;
        Ok(Self::wrap(
            Arc::new(store),
            definitions.as_deref(),
            path.display().to_string(),
        ))
    }

    /// A new, empty in-memory store.
    #[staticmethod]
    #[pyo3(signature = (*, definitions = None))]
    fn memory(definitions: Option<PyRef<'_, PyDefinitions>>) -> Self {
        Self::wrap(
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
        version: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let version = version_arg(version)?;
        let options = py
            .detach(|| self.inner.filter_options(channel, &version))
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
    /// ``stats_buckets`` as over HTTP), ``pct_method`` (``"interp"``, ``"nearest"``,
    /// ``"tmo"``) and ``ci`` (``0.9``, ``0.95`` or ``0.99``: each entry also gets ``ci``, the
    /// statistics' intervals over the store's replicate groups, as over HTTP; ``ValueError``
    /// when the store has none for these dates). The result's ``percentiles``, ``stats`` and
    /// ``compare`` take ``ci`` too.
    #[pyo3(signature = (prefix, channel, version, dates, metric, *, group_by = None, top = None, stats = None, pct_method = None, ci = None, **filters))]
    #[allow(clippy::too_many_arguments)]
    fn query(
        &self,
        py: Python<'_>,
        prefix: &str,
        channel: &str,
        version: &Bound<'_, PyAny>,
        dates: &Bound<'_, PyAny>,
        metric: &str,
        group_by: Option<&str>,
        top: Option<usize>,
        stats: Option<&Bound<'_, PyAny>>,
        pct_method: Option<&str>,
        ci: Option<&Bound<'_, PyAny>>,
        filters: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<PyQueryResult> {
        let query = MetricQuery {
            prefix: prefix.parse().py()?,
            channel: channel.to_owned(),
            version: version_arg(version)?,
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
            ci: ci.map(crate::result::level_arg).transpose()?,
            threshold: None,
        };
        let response = py
            .detach(|| request.run(self.inner.as_ref(), &self.definitions))
            .py()?
            .ok_or_else(|| Error::UnknownMetric(metric.to_owned()))
            .py()?;
        Ok(
            PyQueryResult::new(py, metric, response)?.with_source(Source {
                store: self.inner.clone(),
                definitions: self.definitions.clone(),
                request,
            }),
        )
    }

    /// Every stored row as a dict, with the fields and in the order of ``mozaggregator
    /// export`` (without ``--histograms``): ``prefix``, ``channel``, ``version``, ``date``,
    /// ``metric``, ``label``, ``process``, ``application``, ``architecture``, ``os``,
    /// ``os_version``, ``kind``, ``buckets``, ``histogram``, ``sum``, ``count``. ``prefix``,
    /// ``channel`` and ``version`` select tables (``None``: all). ``doc_type="mobile_metrics"``
    /// gives the mobile rows instead (with ``build_id`` after ``date``; ``prefix`` must then be
    /// ``None``).
    ///
    /// The rows come as ``ExportRows``, a sequence of those dicts (made on first use) whose
    /// ``to_arrow()`` gives a pyarrow Table in the Parquet export's columns without making them.
    #[pyo3(signature = (prefix = None, *, channel = None, version = None, doc_type = "main"))]
    fn export<'py>(
        &self,
        py: Python<'py>,
        prefix: Option<&str>,
        channel: Option<String>,
        version: Option<String>,
        doc_type: &str,
    ) -> PyResult<PyExportRows> {
        let selection = Selection::of_doc_type(
            doc_type.parse().py()?,
            prefix.map(str::parse).transpose().py()?,
            channel,
            version,
        )
        .py()?;
        let rows = py
            .detach(|| stored_rows(self.inner.as_ref(), &selection))
            .py()?;
        Ok(PyExportRows::new(rows, self.definitions.clone()))
    }

    /// Closes the store: its database connections are released (once no ``Aggregator.write``
    /// or query still runs on it), and every later call raises ``ValueError``. Closing twice is
    /// harmless. ``with Store.open(path) as store: …`` closes it at the end of the block.
    fn close(&self, py: Python<'_>) {
        let store = self
            .closable()
            .0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // The last handle of a SQLite store closes its connections: not while holding the GIL.
        py.detach(move || drop(store));
    }

    /// True once ``close()`` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.closable()
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyResult<PyRef<'_, Self>> {
        if slf.closed() {
            return Err(to_closed_err());
        }
        Ok(slf)
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        let closed = if self.closed() { ", closed" } else { "" };
        format!("Store({:?}{closed})", self.location)
    }
}

impl PyStore {
    fn closable(&self) -> &Closable {
        &self.closable
    }
}

fn to_closed_err() -> PyErr {
    crate::error::to_py_err(closed_error())
}

fn closed_error() -> Error {
    Error::invalid("store", "the store is closed")
}

/// A store that can be closed: every call on it after `close` fails with `ValueError`
/// ("the store is closed"), and closing drops the store (its connections) once no call is
/// running.
pub(crate) struct Closable(RwLock<Option<Arc<dyn Store>>>);

impl Closable {
    fn get(&self) -> mozaggregator_core::Result<Arc<dyn Store>> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(closed_error)
    }
}

impl Store for Closable {
    fn write(&self, batch: &Batch) -> mozaggregator_core::Result<WriteReport> {
        self.get()?.write(batch)
    }
    fn channels(&self, prefix: Prefix) -> mozaggregator_core::Result<Vec<String>> {
        self.get()?.channels(prefix)
    }
    fn dates(&self, prefix: Prefix, channel: &str) -> mozaggregator_core::Result<Vec<DateVersion>> {
        self.get()?.dates(prefix, channel)
    }
    fn filter_options(
        &self,
        channel: &str,
        version: &str,
    ) -> mozaggregator_core::Result<Option<FilterOptions>> {
        self.get()?.filter_options(channel, version)
    }
    fn query(&self, query: &SeriesQuery) -> mozaggregator_core::Result<Vec<QueryRow>> {
        self.get()?.query(query)
    }
    fn replicates(&self, query: &SeriesQuery) -> mozaggregator_core::Result<Option<ReplicateRows>> {
        self.get()?.replicates(query)
    }
    fn absorbed(&self, target: &Target) -> mozaggregator_core::Result<BTreeSet<Date>> {
        self.get()?.absorbed(target)
    }
    fn trim(&self, cutoff: Date, dry_run: bool) -> mozaggregator_core::Result<Vec<Target>> {
        self.get()?.trim(cutoff, dry_run)
    }
    fn data_version(&self) -> mozaggregator_core::Result<u64> {
        self.get()?.data_version()
    }
    fn stats(&self) -> mozaggregator_core::Result<mozaggregator_core::StoreStats> {
        self.get()?.stats()
    }
    fn scan(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(&Target, &SeriesKey, &Histogram) -> mozaggregator_core::Result<()>,
    ) -> mozaggregator_core::Result<()> {
        self.get()?.scan(selection, visit)
    }

    fn write_mobile(
        &self,
        batch: &mozaggregator_core::mobile::MobileBatch,
    ) -> mozaggregator_core::Result<WriteReport> {
        self.get()?.write_mobile(batch)
    }

    fn scan_mobile(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(
            &Target,
            &mozaggregator_core::mobile::MobileKey,
            &mozaggregator_core::mobile::MobileHistogram,
        ) -> mozaggregator_core::Result<()>,
    ) -> mozaggregator_core::Result<()> {
        self.get()?.scan_mobile(selection, visit)
    }
}

/// A version given as a `str` (`"124"`) or an `int` (`124`).
fn version_arg(version: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = version.extract::<String>() {
        return Ok(s);
    }
    if version.is_instance_of::<pyo3::types::PyBool>() {
        return Err(pyo3::exceptions::PyTypeError::new_err(
            "version must be a str or an int, not bool",
        ));
    }
    match version.extract::<u64>() {
        Ok(n) => Ok(n.to_string()),
        Err(_) => Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "version must be a str or a non-negative int, not {}",
            version.get_type().name()?
        ))),
    }
}

/// One date: a `YYYYMMDD` string or a `datetime.date` (or `datetime`), checked.
fn date_arg(date: &Bound<'_, PyAny>) -> PyResult<String> {
    let text = match date.extract::<String>() {
        Ok(s) => s.trim().to_owned(),
        Err(_) if date.is_instance_of::<pyo3::types::PyDate>() => date
            .call_method1("strftime", ("%Y%m%d",))?
            .extract::<String>()?,
        Err(_) => {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "a date must be a YYYYMMDD str or a datetime.date, not {}",
                date.get_type().name()?
            )))
        }
    };
    date_token(&text).py()
}

/// A `YYYYMMDD` date, or an inclusive range `YYYYMMDD..YYYYMMDD` (expanded and checked by the
/// query).
fn date_token(text: &str) -> mozaggregator_core::Result<String> {
    if !text.contains("..") {
        Date::parse(text)?;
    }
    Ok(text.to_owned())
}

/// `dates` as one comma-separated string, or an iterable of `YYYYMMDD` strings and
/// `datetime.date`s; a date that is not a valid `YYYYMMDD` raises `ValueError` naming it.
fn date_list(dates: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if let Ok(s) = dates.extract::<String>() {
        return s
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| date_token(d).py())
            .collect();
    }
    if dates.is_instance_of::<pyo3::types::PyDate>() {
        return Ok(vec![date_arg(dates)?]);
    }
    dates.try_iter()?.map(|d| date_arg(&d?)).collect()
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
        filter = filter.and(if name == "os" {
            os_filter(&values)?
        } else {
            Filter::from_param(&name, &values).py()?
        });
    }
    Ok(filter)
}

/// `os` values as the HTTP parameter takes them (`"Linux"`), or as `filters()` returns them
/// (`"Linux,6.5"`: that OS *and* that version); several values: any of them.
fn os_filter(values: &[&str]) -> PyResult<Filter> {
    let (pairs, names): (Vec<&str>, Vec<&str>) = values.iter().partition(|v| v.contains(','));
    if pairs.is_empty() {
        return Filter::from_param("os", &names).py();
    }
    let mut any: Option<Filter> = None;
    if !names.is_empty() {
        any = Some(Filter::from_param("os", &names).py()?);
    }
    for pair in pairs {
        let (os, version) = pair.split_once(',').unwrap_or((pair, ""));
        let one = Filter::eq(Dimension::Os, os).and(Filter::eq(Dimension::OsVersion, version));
        any = Some(match any {
            Some(f) => f.or(one),
            None => one,
        });
    }
    Ok(any.unwrap_or(Filter::All))
}
