//! The `Aggregator` class: pings in, mergeable and picklable partial aggregates out.

use std::borrow::Cow;
use std::sync::Arc;

use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::ingest::{ingest, IngestOptions};
use mozaggregator_core::input::discover;
use mozaggregator_core::{
    Aggregates, Aggregator, Date, MemoryStore, Options, Report, Selection, Store,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyMapping, PyString};

use crate::convert::{rows_to_python, state_parts, to_python, Reduce};
use crate::definitions::PyDefinitions;
use crate::error::IntoPyResult;
use crate::store::PyStore;
use mozaggregator_core::export::{stored_rows, StoredRow};

/// Format version of the pickled state of an `Aggregator` (2: with `replicates`; 3: with
/// `versions`).
const STATE_VERSION: u8 = 4;

/// The pickled state of an `Aggregator` (see `__reduce__`).
type State<'py> = (
    u8,
    Bound<'py, PyBytes>,
    Option<Py<PyDefinitions>>,
    Vec<String>,
    Option<String>,
    bool,
    bool,
    Option<u32>,
    Option<Vec<String>>,
    &'static str,
);

/// Pings converted per release of the GIL in `add_pings`, and the JSON bytes that end a chunk
/// early.
const CHUNK_PINGS: usize = 512;
const CHUNK_BYTES: usize = 32 << 20;

/// Aggregates Firefox main pings into build-id and submission-date aggregates.
///
/// ``definitions`` (a ``Definitions``) are used with ``prefer_definitions=True`` (lay histograms
/// out by their definition, the original service's rule) — otherwise each histogram's layout
/// comes from the ping. ``channels`` restricts the channels (default: nightly, aurora, beta,
/// release); ``versions`` the major versions (``["121", "122"]``, as stored; default: every
/// version), the others counted as ``version_not_selected``. ``submission_date``
/// (``YYYYMMDD``) keeps only that date's pings and dates pings
/// without ``meta``. ``full_os_version`` keeps full Linux versions (default: 3 characters).
/// ``replicates`` (R: 2, 4, 5, 10, 20, 25, 50 or 100) also aggregates each ping into replicate
/// group ``sample_id % R`` (``meta.sampleId``, else crc32 of ``clientId`` mod 100), which a
/// store keeps beside the normal aggregates for confidence intervals; pings with neither are
/// counted in ``report()["pings_without_replicate_group"]``. Off by default.
///
/// Aggregators merge (``merge``) and pickle (through a compact byte form), which is what lets
/// PySpark aggregate partitions apart and combine them. The GIL is released while pings are
/// parsed and aggregated.
///
/// >>> import json
/// >>> from mozaggregator import Aggregator
/// >>> ping = {"meta": {"submissionDate": "20240102", "sampleId": 7},
/// ...         "application": {"channel": "nightly", "version": "120.0a1",
/// ...                         "buildId": "20240101093000", "name": "Firefox",
/// ...                         "architecture": "x86-64"},
/// ...         "environment": {"system": {"os": {"name": "Linux", "version": "6.5.0"}}},
/// ...         "payload": {"simpleMeasurements": {"uptime": 42}}}
/// >>> agg = Aggregator()
/// >>> agg.add_ping(ping)
/// >>> agg.add_ping(json.dumps(ping))
/// >>> agg.report()["pings_used"]
/// 2
/// >>> row = agg.aggregates("build_id")[0]
/// >>> row["date"], row["metric"], row["sum"], row["count"], row["os_version"]
/// ('20240101', 'SIMPLE_MEASURES_UPTIME', 84, 2, '6.5')
#[pyclass(module = "mozaggregator._native", name = "Aggregator")]
pub(crate) struct PyAggregator {
    aggregator: Aggregator,
    aggregates: Aggregates,
    definitions: Option<Py<PyDefinitions>>,
}

impl PyAggregator {
    #[allow(clippy::too_many_arguments)]
    fn build(
        definitions: Option<Bound<'_, PyDefinitions>>,
        channels: Option<Vec<String>>,
        versions: Option<Vec<String>>,
        submission_date: Option<String>,
        prefer_definitions: bool,
        full_os_version: bool,
        replicates: Option<i64>,
        doc_type: &str,
        aggregates: Aggregates,
    ) -> PyResult<Self> {
        let channels = channels.unwrap_or_else(|| Options::default().channels);
        let options = Options {
            submission_date: submission_date
                .as_deref()
                .map(|d| Date::parse_as("submission_date", d))
                .transpose()
                .py()?,
            channels,
            versions,
            prefer_definitions,
            full_os_version,
            definitions: definitions
                .as_ref()
                .map(|d| d.get().inner.clone())
                .unwrap_or_else(|| Arc::new(Definitions::new())),
            replicates: crate::args::replicates(replicates)?,
            doc_type: doc_type.parse().py()?,
        };
        options.validate().py()?;
        Ok(Self {
            aggregator: Aggregator::new(options),
            aggregates,
            definitions: definitions.map(Bound::unbind),
        })
    }

    /// Aggregates JSON documents with the GIL released.
    fn add_documents<T: AsRef<[u8]> + Sync>(&mut self, py: Python<'_>, docs: &[T]) {
        let Self {
            aggregator,
            aggregates,
            ..
        } = self;
        py.detach(|| {
            for doc in docs {
                aggregator.add_json(aggregates, doc.as_ref());
            }
        });
    }
}

/// The JSON bytes of one ping: `str` (encoded), `bytes` (borrowed) or a mapping (`json.dumps`);
/// anything else is a `TypeError`.
fn ping_bytes<'a>(ping: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(b) = ping.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(b.as_bytes()));
    }
    if let Ok(s) = ping.cast::<PyString>() {
        return Ok(Cow::Owned(s.to_cow()?.into_owned().into_bytes()));
    }
    if ping.cast::<PyMapping>().is_err() {
        return Err(PyTypeError::new_err(format!(
            "a ping is a JSON str, JSON bytes or a dict, not {}",
            ping.get_type().name()?
        )));
    }
    let text = ping
        .py()
        .import("json")?
        .call_method1("dumps", (ping,))?
        .extract::<String>()?;
    Ok(Cow::Owned(text.into_bytes()))
}

#[pymethods]
impl PyAggregator {
    #[new]
    #[pyo3(signature = (
        *,
        definitions = None,
        channels = None,
        versions = None,
        submission_date = None,
        prefer_definitions = false,
        full_os_version = false,
        replicates = None,
        doc_type = "main",
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        definitions: Option<Bound<'_, PyDefinitions>>,
        channels: Option<Vec<String>>,
        versions: Option<Vec<String>>,
        submission_date: Option<String>,
        prefer_definitions: bool,
        full_os_version: bool,
        replicates: Option<i64>,
        doc_type: &str,
    ) -> PyResult<Self> {
        Self::build(
            definitions,
            channels,
            versions,
            submission_date,
            prefer_definitions,
            full_os_version,
            replicates,
            doc_type,
            Aggregates::new(),
        )
    }

    /// Aggregates one ping: a JSON ``str``, JSON ``bytes`` or a ``dict``. A document that is
    /// not a usable ping is not an error: it is counted in ``report()`` with its reason.
    fn add_ping(&mut self, py: Python<'_>, ping: &Bound<'_, PyAny>) -> PyResult<()> {
        let doc = ping_bytes(ping)?;
        self.add_documents(py, std::slice::from_ref(&doc));
        Ok(())
    }

    /// Aggregates every ping of an iterable (each as ``add_ping`` takes it), releasing the GIL
    /// for each chunk of pings.
    fn add_pings(&mut self, py: Python<'_>, pings: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut items = Vec::with_capacity(CHUNK_PINGS);
        let mut iter = pings.try_iter()?;
        loop {
            items.clear();
            let mut bytes = 0;
            for item in iter.by_ref() {
                let item = item?;
                bytes += item.len().unwrap_or(0);
                items.push(item);
                if items.len() == CHUNK_PINGS || bytes >= CHUNK_BYTES {
                    break;
                }
            }
            if items.is_empty() {
                return Ok(());
            }
            let docs = items.iter().map(ping_bytes).collect::<PyResult<Vec<_>>>()?;
            self.add_documents(py, &docs);
        }
    }

    /// Aggregates every ping of files and directories, with ``threads`` worker threads
    /// (``0``: one per core) and the GIL released throughout.
    ///
    /// ``paths`` is one path or a list. Files named ``*.json`` hold one ping; any other file is
    /// read as one ping per line (``*.ndjson``, ``*.jsonl``); ``.gz`` and ``.zst`` files are
    /// decompressed. Directories are walked recursively for such files. A file that cannot be
    /// read raises ``OSError``; a corrupt compressed stream is counted in the report
    /// (``inputs_damaged``) with the documents before the damage kept.
    #[pyo3(signature = (paths, *, threads = 0))]
    fn add_files(
        &mut self,
        py: Python<'_>,
        paths: &Bound<'_, PyAny>,
        threads: usize,
    ) -> PyResult<()> {
        let paths = crate::args::paths(paths, "paths")?;
        let Self {
            aggregator,
            aggregates,
            ..
        } = self;
        let options = IngestOptions {
            threads,
            ..IngestOptions::default()
        };
        py.detach(|| -> mozaggregator_core::Result<()> {
            let inputs = discover(&paths)?;
            let read = ingest(&inputs, aggregator, &options, None)?;
            aggregates.merge(read);
            Ok(())
        })
        .py()
    }

    /// Merges ``other``'s aggregates (and report) into this one; ``other`` is unchanged.
    fn merge(slf: &Bound<'_, Self>, other: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let copy = {
            let other = other.borrow();
            let source = &other.aggregates;
            py.detach(|| source.clone())
        };
        let mut this = slf.borrow_mut();
        let target = &mut this.aggregates;
        py.detach(|| target.merge(copy));
        Ok(())
    }

    /// What was read, used and rejected (by reason) — the counters the CLI reports — as a
    /// dict. After ``write``, also the rows and tables written.
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, self.aggregates.report())
    }

    /// The submission dates aggregated, sorted.
    fn submission_dates(&self) -> PyResult<Vec<String>> {
        let dates = self.aggregates.submission_dates().py()?;
        Ok(dates.iter().map(ToString::to_string).collect())
    }

    /// The aggregates as a list of dicts, one per series, with the fields of the CLI's
    /// ``export``: ``prefix``, ``channel``, ``version``, ``date``, ``metric``, ``label``,
    /// ``process``, ``application``, ``architecture``, ``os``, ``os_version``, ``kind`` (of the
    /// stored layout as the API serves it: ``count`` for ``[[COUNT]]_`` series), ``buckets``
    /// (lower bounds), ``histogram`` (counts per bucket), ``sum``, ``count`` — what ``mozaggregator export`` prints without ``--histograms``. ``prefix``
    /// (``"build_id"`` or ``"submission_date"``) selects one family; ``None`` gives both.
    ///
    /// These are the rows a store would hold after ``write`` into an empty store (rows a store
    /// refuses are left out), ordered by table and series.
    #[pyo3(signature = (prefix = None))]
    fn aggregates<'py>(
        &self,
        py: Python<'py>,
        prefix: Option<&str>,
    ) -> PyResult<Bound<'py, PyList>> {
        let doc_type = self.aggregator.options().doc_type;
        let prefix = prefix.map(str::parse).transpose().py()?;
        let selection = Selection::of_doc_type(doc_type, prefix, None, None).py()?;
        let aggregates = &self.aggregates;
        let rows = py
            .detach(|| -> mozaggregator_core::Result<Vec<StoredRow>> {
                let store = MemoryStore::new();
                for batch in aggregates.batches()? {
                    store.write(&batch)?;
                }
                for batch in aggregates.mobile().batches() {
                    store.write_mobile(&batch)?;
                }
                stored_rows(&store, &selection)
            })
            .py()?;
        let definitions: Arc<Definitions> = self
            .definitions
            .as_ref()
            .map(|d| Arc::clone(&d.borrow(py).inner))
            .unwrap_or_default();
        rows_to_python(py, &rows, &definitions)
    }

    /// Writes the aggregates into ``store`` (a ``Store``), one part per (submission date,
    /// channel, version) as the CLI does (memory for the largest part only), and returns what
    /// the writes did: ``targets_written``, ``targets_skipped`` (tables that had
    /// already absorbed that submission date, left unchanged), ``rows_written`` and
    /// ``rows_rejected`` (by reason), and with replicate groups ``replicate_rows_written`` and
    /// ``replicate_rows_rejected``. The counts are also added to ``report()``. Aggregators made
    /// with different ``replicates`` and merged cannot be written (``ValueError``). With
    /// ``threads`` other than 1 (``0``: one per core) the next part is built while one is
    /// written; the store ends up the same.
    #[pyo3(signature = (store, *, threads = 0))]
    fn write<'py>(
        &mut self,
        py: Python<'py>,
        store: &Bound<'py, PyStore>,
        threads: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        let target = store.get().inner.clone();
        let aggregates = &mut self.aggregates;
        let total = py
            .detach(|| aggregates.write_with(target.as_ref(), threads, |_| {}))
            .py()?;
        to_python(py, &total)
    }

    /// The compact byte form of the aggregates and report (see ``from_bytes``).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let aggregates = &self.aggregates;
        let bytes = py.detach(|| aggregates.to_bytes());
        PyBytes::new(py, &bytes)
    }

    /// An aggregator holding the aggregates of ``to_bytes`` output, with the given options
    /// (``ValueError`` when the bytes are not such output).
    #[staticmethod]
    #[pyo3(signature = (
        data,
        *,
        definitions = None,
        channels = None,
        versions = None,
        submission_date = None,
        prefer_definitions = false,
        full_os_version = false,
        replicates = None,
        doc_type = "main",
    ))]
    #[allow(clippy::too_many_arguments)]
    fn from_bytes(
        py: Python<'_>,
        data: &[u8],
        definitions: Option<Bound<'_, PyDefinitions>>,
        channels: Option<Vec<String>>,
        versions: Option<Vec<String>>,
        submission_date: Option<String>,
        prefer_definitions: bool,
        full_os_version: bool,
        replicates: Option<i64>,
        doc_type: &str,
    ) -> PyResult<Self> {
        let aggregates = py.detach(|| Aggregates::from_bytes(data)).py()?;
        Self::build(
            definitions,
            channels,
            versions,
            submission_date,
            prefer_definitions,
            full_os_version,
            replicates,
            doc_type,
            aggregates,
        )
    }

    /// Pickle support: the state ``(4, to_bytes(), definitions, channels, submission_date,
    /// prefer_definitions, full_os_version, replicates, versions, doc_type)``, rebuilt by
    /// ``_from_state``. This is
    /// how PySpark moves partial aggregates between processes.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduce<'py, (State<'py>,)>> {
        let py = slf.py();
        let this = slf.borrow();
        let options = this.aggregator.options();
        Ok((
            slf.get_type().getattr("_from_state")?,
            ((
                STATE_VERSION,
                this.to_bytes(py),
                this.definitions.as_ref().map(|d| d.clone_ref(py)),
                options.channels.clone(),
                options.submission_date.map(|d| d.to_string()),
                options.prefer_definitions,
                options.full_os_version,
                options.replicates.map(u32::from),
                options.versions.clone(),
                options.doc_type.as_str(),
            ),),
        ))
    }

    /// Inverse of ``__reduce__``: ``ValueError`` on a state it did not write.
    #[staticmethod]
    fn _from_state(py: Python<'_>, state: &Bound<'_, PyAny>) -> PyResult<Self> {
        let parts = state_parts(state, "Aggregator", STATE_VERSION, 10)?;
        fn bad<E>(_: E) -> PyErr {
            PyValueError::new_err("not a pickled Aggregator: a part has the wrong type")
        }
        let data = parts.get_item(1)?;
        let data = data.cast::<PyBytes>().map_err(|_| bad(()))?;
        let definitions = parts.get_item(2)?;
        let definitions: Option<Bound<'_, PyDefinitions>> = if definitions.is_none() {
            None
        } else {
            Some(
                definitions
                    .cast_into::<PyDefinitions>()
                    .map_err(|_| bad(()))?,
            )
        };
        Self::from_bytes(
            py,
            data.as_bytes(),
            definitions,
            Some(parts.get_item(3)?.extract().map_err(|_| bad(()))?),
            parts.get_item(8)?.extract().map_err(|_| bad(()))?,
            parts.get_item(4)?.extract().map_err(|_| bad(()))?,
            parts.get_item(5)?.extract().map_err(|_| bad(()))?,
            parts.get_item(6)?.extract().map_err(|_| bad(()))?,
            parts.get_item(7)?.extract().map_err(|_| bad(()))?,
            parts
                .get_item(9)?
                .extract::<String>()
                .map_err(|_| bad(()))?
                .as_str(),
        )
    }

    fn __repr__(&self) -> String {
        let report: &Report = self.aggregates.report();
        format!(
            "Aggregator(<{} pings used of {} read, {} build-id series>)",
            report.pings_used,
            report.pings_read,
            self.aggregates.series_len()
        )
    }
}
