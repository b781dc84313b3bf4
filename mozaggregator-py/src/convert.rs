//! Conversion of core values to Python objects through their JSON form: a report, filter
//! options or a query answer becomes the dict `json.loads` gives for its JSON (key order kept).

use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::export::{ExportBuckets, Exporter, StoredRow};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use serde::Serialize;

/// What `__reduce__` returns: a callable and its arguments.
pub(crate) type Reduce<'py, Args> = (Bound<'py, PyAny>, Args);

/// The parts of a pickled state: a tuple of `len` items whose first is the format `version`
/// (`ValueError` naming `class` for anything else, such as a state of a newer format).
pub(crate) fn state_parts<'py>(
    state: &Bound<'py, PyAny>,
    class: &str,
    version: u8,
    len: usize,
) -> PyResult<Bound<'py, PyTuple>> {
    let bad = |why: String| PyValueError::new_err(format!("not a pickled {class}: {why}"));
    let parts = state
        .cast::<PyTuple>()
        .map_err(|_| bad("the state is not a tuple".into()))?;
    if parts.len() != len {
        return Err(bad(format!("{} parts instead of {len}", parts.len())));
    }
    let found: i64 = parts
        .get_item(0)?
        .extract()
        .map_err(|_| bad("no format version".into()))?;
    if found != i64::from(version) {
        return Err(bad(format!(
            "format version {found}, this build reads version {version}"
        )));
    }
    Ok(parts.clone())
}

/// `value` as the Python object `json.loads` gives for its JSON.
pub(crate) fn to_python<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_string(value)
        .map_err(|e| PyRuntimeError::new_err(format!("cannot convert a result: {e}")))?;
    py.import("json")?.call_method1("loads", (json,))
}

/// Rows as the dicts `mozaggregator export` prints: `prefix`, `channel`, `version`, `date`,
/// (mobile rows: `build_id`), `metric`, `label`, `process`, `application`, `architecture`, `os`, `os_version`, `kind`,
/// `buckets` (categorical labels when `definitions` name them), `histogram`, `sum`, `count`.
pub(crate) fn rows_to_python<'py>(
    py: Python<'py>,
    rows: &[StoredRow],
    definitions: &Definitions,
) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    let mut exporter = Exporter::new(definitions);
    for stored in rows {
        let row = exporter.stored_row(stored);
        let d = PyDict::new(py);
        d.set_item("prefix", row.prefix)?;
        d.set_item("channel", row.channel)?;
        d.set_item("version", row.version)?;
        d.set_item("date", row.date.to_string())?;
        if let Some(build_id) = row.build_id {
            d.set_item("build_id", build_id)?;
        }
        d.set_item("metric", row.metric)?;
        d.set_item("label", row.label)?;
        d.set_item("process", row.process)?;
        d.set_item("application", row.application)?;
        d.set_item("architecture", row.architecture)?;
        d.set_item("os", row.os)?;
        d.set_item("os_version", row.os_version)?;
        d.set_item("kind", row.kind)?;
        match &row.buckets {
            ExportBuckets::Bounds(bounds) => d.set_item("buckets", *bounds)?,
            ExportBuckets::Labels(labels) => d.set_item("buckets", labels)?,
        }
        d.set_item("histogram", row.histogram)?;
        d.set_item("sum", row.sum)?;
        d.set_item("count", row.count)?;
        out.append(d)?;
    }
    Ok(out)
}
