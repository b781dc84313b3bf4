//! Checks of Python arguments that Rust types cannot express (non-negative integers, replicate
//! counts, paths or lists of paths), reported as `ValueError`/`TypeError` through the one error
//! mapping.

use std::path::PathBuf;

use mozaggregator_core::stats::REPLICATE_COUNTS;
use mozaggregator_core::{Error, ReplicateCount};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::error::IntoPyResult;

/// A non-negative integer argument that must fit `T` (`ValueError` otherwise).
pub(crate) fn unsigned<T: TryFrom<i64>>(value: i64, what: &'static str) -> PyResult<T> {
    T::try_from(value)
        .map_err(|_| Error::invalid(what, format!("{value} is negative or too large")))
        .py()
}

/// The `replicates` argument: `None`, or a count of replicate groups (`ValueError` naming the
/// allowed counts otherwise).
pub(crate) fn replicates(value: Option<i64>) -> PyResult<Option<ReplicateCount>> {
    value
        .map(|r| match u32::try_from(r) {
            Ok(r) => ReplicateCount::new(r),
            Err(_) => Err(Error::invalid(
                "replicates",
                format!(
                    "{r} is not a divisor of 100 from 2: use one of {}",
                    REPLICATE_COUNTS.map(|c| c.to_string()).join(", ")
                ),
            )),
        })
        .transpose()
        .py()
}

/// One path (`str` or `os.PathLike`) or an iterable of paths.
pub(crate) fn paths(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<PathBuf>> {
    if let Ok(one) = value.extract::<PathBuf>() {
        return Ok(vec![one]);
    }
    let mut out = Vec::new();
    for item in value
        .try_iter()
        .map_err(|_| PyTypeError::new_err(format!("{what}: expected a path or a list of paths")))?
    {
        let item = item?;
        out.push(item.extract::<PathBuf>().map_err(|_| {
            PyTypeError::new_err(format!(
                "{what}: expected a path (str or os.PathLike), got {}",
                item.get_type()
                    .name()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            ))
        })?);
    }
    Ok(out)
}
