//! Conversion of core values to Python objects through their JSON form: a report, filter
//! options or a query answer becomes the dict `json.loads` gives for its JSON (key order kept).

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use serde::Serialize;

/// What `__reduce__` returns: a callable and its arguments.
pub(crate) type Reduce<'py, Args> = (Bound<'py, PyAny>, Args);

/// `value` as the Python object `json.loads` gives for its JSON.
pub(crate) fn to_python<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_string(value)
        .map_err(|e| PyRuntimeError::new_err(format!("cannot convert a result: {e}")))?;
    py.import("json")?.call_method1("loads", (json,))
}
