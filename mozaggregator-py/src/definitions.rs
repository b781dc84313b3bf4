//! The `Definitions` class: probe definitions loaded from Histograms.json and Scalars.yaml.

use std::path::PathBuf;
use std::sync::Arc;

use mozaggregator_core::definitions::{Definition, Definitions};
use mozaggregator_core::Error;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::args::paths;
use crate::convert::{state_parts, Reduce};
use crate::error::IntoPyResult;
use crate::layout::PyBucketLayout;

/// Format version of the pickled state of a `Definitions`.
const STATE_VERSION: u8 = 1;

/// Probe definitions: an optional Histograms.json and any number of Scalars.yaml files.
///
/// ``histograms`` is a path; ``scalars`` a path or a list of paths. Metric names are as stored:
/// histogram names, and ``SCALARS_`` + the scalar's dotted name uppercased. Lookups fall back
/// from ``NAME/suffix`` to ``NAME`` and from ``STARTUP_NAME`` to ``NAME``. Unknown metrics raise
/// ``KeyError``; unreadable files ``OSError``; malformed ones ``ValueError``.
///
/// >>> from mozaggregator import Definitions
/// >>> defs = Definitions()          # no files: nothing is defined
/// >>> len(defs), "GC_MS" in defs
/// (0, False)
/// >>> defs.layout("GC_MS")
/// Traceback (most recent call last):
/// ...
/// KeyError: 'GC_MS'
///
/// Pickling reloads the same files, so they must be readable where the object is unpickled.
#[pyclass(module = "mozaggregator._native", name = "Definitions", frozen)]
#[derive(Clone)]
pub(crate) struct PyDefinitions {
    pub(crate) inner: Arc<Definitions>,
    /// The files loaded, to pickle by reloading them.
    histograms: Option<PathBuf>,
    scalars: Vec<PathBuf>,
}

impl PyDefinitions {
    fn get(&self, metric: &str) -> PyResult<&Definition> {
        self.inner
            .lookup(metric)
            .ok_or_else(|| Error::UnknownMetric(metric.to_owned()))
            .py()
    }
}

#[pymethods]
impl PyDefinitions {
    #[new]
    #[pyo3(signature = (*, histograms = None, scalars = None))]
    fn new(
        py: Python<'_>,
        histograms: Option<PathBuf>,
        scalars: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let scalars = match scalars {
            Some(value) => paths(value, "scalars")?,
            None => Vec::new(),
        };
        let inner = py
            .detach(|| Definitions::load(histograms.as_deref(), &scalars))
            .py()?;
        Ok(Self {
            inner: Arc::new(inner),
            histograms,
            scalars,
        })
    }

    /// The Histograms.json file loaded, if any.
    #[getter]
    fn histograms(&self) -> Option<PathBuf> {
        self.histograms.clone()
    }

    /// The Scalars.yaml files loaded.
    #[getter]
    fn scalars(&self) -> Vec<PathBuf> {
        self.scalars.clone()
    }

    /// Pickle support: the state ``(1, histograms, scalars)`` (the paths of the files);
    /// unpickling loads the same files again (they must be readable there).
    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<Reduce<'py, ((u8, Option<PathBuf>, Vec<PathBuf>),)>> {
        let this = slf.get();
        Ok((
            slf.get_type().getattr("_from_state")?,
            ((STATE_VERSION, this.histograms.clone(), this.scalars.clone()),),
        ))
    }

    /// Inverse of ``__reduce__``: ``ValueError`` on a state it did not write.
    #[staticmethod]
    fn _from_state(py: Python<'_>, state: &Bound<'_, PyAny>) -> PyResult<Self> {
        let parts = state_parts(state, "Definitions", STATE_VERSION, 3)?;
        fn bad<E>(_: E) -> PyErr {
            PyValueError::new_err("not a pickled Definitions: a part has the wrong type")
        }
        let histograms: Option<PathBuf> = parts.get_item(1)?.extract().map_err(bad)?;
        let scalars = parts.get_item(2)?;
        if scalars.extract::<Vec<PathBuf>>().is_err() {
            return Err(bad(()));
        }
        Self::new(py, histograms, Some(&scalars))
    }

    /// The bucket layout a metric's definition implies (``KeyError`` if not defined).
    fn layout(&self, metric: &str) -> PyResult<PyBucketLayout> {
        Ok(self.get(metric)?.layout.clone().into())
    }

    /// The metric's description, ``""`` when its definition has none (``KeyError`` if not
    /// defined).
    fn description(&self, metric: &str) -> PyResult<String> {
        Ok(self.get(metric)?.description.clone())
    }

    /// The metric's kind (``"exponential"``, ``"count"``, …; ``KeyError`` if not defined).
    fn kind(&self, metric: &str) -> PyResult<&'static str> {
        Ok(self.get(metric)?.kind.name())
    }

    /// True when the metric is keyed (``KeyError`` if not defined).
    fn keyed(&self, metric: &str) -> PyResult<bool> {
        Ok(self.get(metric)?.keyed)
    }

    /// Every defined metric name, sorted.
    fn metrics(&self) -> Vec<String> {
        self.inner
            .sorted()
            .into_iter()
            .map(|d| d.name.clone())
            .collect()
    }

    fn __contains__(&self, metric: &str) -> bool {
        self.inner.lookup(metric).is_some()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!("Definitions(<{} metrics>)", self.inner.len())
    }
}
