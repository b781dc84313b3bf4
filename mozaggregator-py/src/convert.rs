//! Conversion of core values to Python objects through their JSON form: a report, filter
//! options or a query answer becomes the dict `json.loads` gives for its JSON (key order kept).

use mozaggregator_core::{Histogram, Selection, SeriesKey, Store, Target};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
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

/// One stored series, as a scan visits it.
pub(crate) type StoredRow = (Target, SeriesKey, Histogram);

/// Every series of the selected tables, in the store's scan order (to convert after the scan,
/// with the GIL held only then).
pub(crate) fn scan_rows(
    store: &dyn Store,
    selection: &Selection,
) -> mozaggregator_core::Result<Vec<StoredRow>> {
    let mut rows = Vec::new();
    store.scan(selection, &mut |target, key, histogram| {
        rows.push((target.clone(), key.clone(), histogram.clone()));
        Ok(())
    })?;
    Ok(rows)
}

/// Rows as the dicts `mozaggregator export` prints (without `--histograms`): `prefix`,
/// `channel`, `version`, `date`, `metric`, `label`, `process`, `application`, `architecture`,
/// `os`, `os_version`, `kind`, `buckets`, `histogram`, `sum`, `count`.
pub(crate) fn rows_to_python<'py>(
    py: Python<'py>,
    rows: &[StoredRow],
) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for (target, key, histogram) in rows {
        let d = PyDict::new(py);
        d.set_item("prefix", target.prefix.as_str())?;
        d.set_item("channel", &target.channel)?;
        d.set_item("version", &target.version)?;
        d.set_item("date", &target.date)?;
        d.set_item("metric", &key.metric)?;
        d.set_item("label", &key.label)?;
        d.set_item("process", key.process.as_str())?;
        d.set_item("application", &key.dims.application)?;
        d.set_item("architecture", &key.dims.architecture)?;
        d.set_item("os", &key.dims.os)?;
        d.set_item("os_version", &key.dims.os_version)?;
        d.set_item("kind", histogram.layout().kind().name())?;
        d.set_item("buckets", histogram.layout().bounds())?;
        d.set_item("histogram", histogram.counts())?;
        d.set_item("sum", histogram.sum())?;
        d.set_item("count", histogram.count())?;
        out.append(d)?;
    }
    Ok(out)
}
