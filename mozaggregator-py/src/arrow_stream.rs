//! `ArrowStream`: record batches built by the core, handed to pyarrow (or any reader of the
//! Arrow PyCapsule interface) through the Arrow C stream interface, without copying them into
//! Python objects.

use std::sync::{Mutex, PoisonError};

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_schema::SchemaRef;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// Record batches of one schema, readable once through ``__arrow_c_stream__``
/// (``pyarrow.table(stream)``, ``pyarrow.RecordBatchReader.from_stream(stream)``,
/// ``polars.from_arrow``…).
#[pyclass(module = "mozaggregator._native", name = "ArrowStream", frozen)]
pub(crate) struct PyArrowStream {
    batches: Mutex<Option<(SchemaRef, Vec<RecordBatch>)>>,
}

impl PyArrowStream {
    pub(crate) fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        Self {
            batches: Mutex::new(Some((schema, batches))),
        }
    }

    /// The batches as a pyarrow ``Table`` (``ImportError`` without pyarrow).
    pub(crate) fn into_table<'py>(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let pyarrow = py.import("pyarrow").map_err(|err| {
            pyo3::exceptions::PyImportError::new_err(format!(
                "to_arrow() needs pyarrow, which is not installed: pip install pyarrow ({err})"
            ))
        })?;
        pyarrow.call_method1("table", (Bound::new(py, self)?,))
    }
}

#[pymethods]
impl PyArrowStream {
    /// The batches as an ``arrow_array_stream`` PyCapsule (the Arrow C stream interface); a
    /// stream can be read once. ``requested_schema`` is ignored: the schema is fixed.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let (schema, batches) = self
            .batches
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or_else(|| PyValueError::new_err("this Arrow stream was already read"))?;
        let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new_with_value(py, stream, c"arrow_array_stream")
    }
}
