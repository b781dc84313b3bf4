//! `ExportRows`: what ``Store.export`` returns. A read-only sequence of the export's dicts
//! (made on first use), or, with ``to_arrow()``, a pyarrow Table built in Rust and handed over
//! through the Arrow C stream interface, with no Python object per row.

use std::sync::{Arc, OnceLock};

use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::export::arrow::{batches, schema};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::arrow_stream::PyArrowStream;
use crate::convert::rows_to_python;
use crate::error::IntoPyResult;
use mozaggregator_core::export::StoredRow;

/// Rows of an Arrow record batch handed to Python.
const BATCH_ROWS: usize = 65_536;

/// The rows of ``Store.export``: a sequence of dicts (``len``, indexing, slicing, iteration,
/// ``==`` with a list), and ``to_arrow()`` / ``__arrow_c_stream__`` for a pyarrow Table in the
/// Parquet export's columns. ``list(rows)`` gives a plain list.
#[pyclass(
    module = "mozaggregator._native",
    name = "ExportRows",
    frozen,
    sequence
)]
pub(crate) struct PyExportRows {
    rows: Arc<Vec<StoredRow>>,
    definitions: Arc<Definitions>,
    dicts: OnceLock<Py<PyList>>,
}

impl PyExportRows {
    pub(crate) fn new(rows: Vec<StoredRow>, definitions: Arc<Definitions>) -> Self {
        Self {
            rows: Arc::new(rows),
            definitions,
            dicts: OnceLock::new(),
        }
    }

    /// The dicts, made on first use.
    fn list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        if let Some(list) = self.dicts.get() {
            return Ok(list.bind(py).clone());
        }
        let list = rows_to_python(py, &self.rows, &self.definitions)?;
        Ok(self.dicts.get_or_init(|| list.unbind()).bind(py).clone())
    }

    /// The rows as record batches (the GIL released while they are built).
    fn stream(&self, py: Python<'_>) -> PyResult<PyArrowStream> {
        let built = py
            .detach(|| batches(self.rows.iter(), &self.definitions, BATCH_ROWS))
            .py()?;
        Ok(PyArrowStream::new(schema(), built))
    }
}

#[pymethods]
impl PyExportRows {
    /// The rows as a pyarrow ``Table`` with the columns of the Parquet export (``period``,
    /// ``aggregate_type``, ``submission_date``, ``channel``, ``version``, ``build_id``,
    /// ``application``, ``architecture``, ``os``, ``os_version``, ``metric``, ``key``,
    /// ``process_type``, ``count``, ``sum``, ``histogram`` (a map from bucket to count, empty
    /// buckets left out), ``kind``), built without Python objects per row. ``ImportError``
    /// without pyarrow.
    fn to_arrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.stream(py)?.into_table(py)
    }

    /// The Arrow PyCapsule interface: the rows of ``to_arrow()`` as an ``arrow_array_stream``
    /// capsule, for any Arrow reader (``polars.from_arrow``, ``duckdb``…).
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, pyo3::types::PyCapsule>> {
        let _ = requested_schema;
        Bound::new(py, self.stream(py)?)?
            .call_method0("__arrow_c_stream__")?
            .extract()
            .map_err(Into::into)
    }

    fn __len__(&self) -> usize {
        self.rows.len()
    }

    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        index: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.list(py)?.as_any().get_item(index)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.list(py)?.as_any().try_iter()?.into_any())
    }

    fn __eq__<'py>(&self, py: Python<'py>, other: &Bound<'py, PyAny>) -> PyResult<bool> {
        let other = match other.cast::<PyExportRows>() {
            Ok(rows) => rows.get().list(py)?.into_any(),
            Err(_) => other.clone(),
        };
        self.list(py)?.as_any().eq(other)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.list(py)?.as_any().repr()?.to_string())
    }
}
