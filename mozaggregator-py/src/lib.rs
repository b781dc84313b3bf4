//! Python bindings of mozaggregator: the extension module `mozaggregator._native`.
//!
//! Thin by design: each binding parses its Python arguments, calls the core
//! (`mozaggregator-core`) with the GIL released for any real work, and converts the result.
//! Core errors become Python exceptions in one place, [`error::to_py_err`]. The public Python
//! API is the package `mozaggregator` (python/mozaggregator), which re-exports these classes.

mod aggregator;
mod args;
mod arrow_stream;
mod convert;
mod definitions;
mod error;
mod export_rows;
mod generate;
mod layout;
mod result;
mod store;

use pyo3::prelude::*;

/// Native part of the ``mozaggregator`` package; import ``mozaggregator`` instead.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(layout::exponential_buckets, m)?)?;
    m.add_function(wrap_pyfunction!(layout::linear_buckets, m)?)?;
    m.add_function(wrap_pyfunction!(generate::generate_pings, m)?)?;
    m.add_class::<layout::PyBucketLayout>()?;
    m.add_class::<aggregator::PyAggregator>()?;
    m.add_class::<definitions::PyDefinitions>()?;
    m.add_class::<store::PyStore>()?;
    m.add_class::<result::PyQueryResult>()?;
    m.add_class::<export_rows::PyExportRows>()?;
    m.add_class::<arrow_stream::PyArrowStream>()?;
    m.add_function(wrap_pyfunction!(result::compare, m)?)?;
    error::register(m)?;
    Ok(())
}
