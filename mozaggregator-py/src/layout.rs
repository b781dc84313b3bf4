//! Bucket layouts: `exponential_buckets`, `linear_buckets` and the `BucketLayout` class.

use mozaggregator_core::{BucketLayout, Kind, LayoutSpec};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Format version of the pickled state of a `BucketLayout`.
const STATE_VERSION: u8 = 1;

use crate::args::unsigned;
use crate::convert::{state_parts, Reduce};
use crate::error::IntoPyResult;

/// Firefox's ``exponential_buckets(low, high, n)``: ``n`` bucket lower bounds starting at 0,
/// bit-exact with Firefox.
///
/// Raises ``ValueError`` when ``n < 3``, ``low < 1`` or ``high <= low``.
///
/// >>> import mozaggregator
/// >>> mozaggregator.exponential_buckets(1, 10000, 50)[:10]
/// [0, 1, 2, 3, 4, 5, 6, 7, 8, 10]
/// >>> mozaggregator.exponential_buckets(1, 10000, 50)[-1]
/// 10000
#[pyfunction]
#[pyo3(signature = (low, high, n))]
pub(crate) fn exponential_buckets(
    py: Python<'_>,
    low: i64,
    high: i64,
    n: i64,
) -> PyResult<Vec<u64>> {
    let (low, high, n) = (
        unsigned(low, "low")?,
        unsigned(high, "high")?,
        unsigned(n, "n")?,
    );
    py.detach(|| mozaggregator_core::exponential_buckets(low, high, n))
        .py()
}

/// Firefox's ``linear_buckets(low, high, n)``: ``n`` bucket lower bounds starting at 0;
/// exact ``.5`` ties round up, as in Firefox.
///
/// Raises ``ValueError`` on parameters no layout has (as ``exponential_buckets``).
///
/// >>> import mozaggregator
/// >>> mozaggregator.linear_buckets(1, 1000, 50)[:10]
/// [0, 1, 22, 43, 63, 84, 105, 126, 147, 168]
#[pyfunction]
#[pyo3(signature = (low, high, n))]
pub(crate) fn linear_buckets(py: Python<'_>, low: i64, high: i64, n: i64) -> PyResult<Vec<u64>> {
    let (low, high, n) = (
        unsigned(low, "low")?,
        unsigned(high, "high")?,
        unsigned(n, "n")?,
    );
    py.detach(|| mozaggregator_core::linear_buckets(low, high, n))
        .py()
}

/// A histogram's bucket layout: its kind, bucket lower bounds and (categorical) labels.
///
/// Obtained from ``Definitions.layout(metric)`` or built with the static constructors.
///
/// >>> from mozaggregator import BucketLayout
/// >>> layout = BucketLayout.exponential(1, 10000, 50)
/// >>> layout.kind, len(layout), layout.buckets[17]
/// ('exponential', 50, 40)
/// >>> layout.bucket_index(42)
/// 17
/// >>> BucketLayout.categorical(["a", "b"]).labels
/// ['a', 'b']
#[pyclass(
    module = "mozaggregator._native",
    name = "BucketLayout",
    frozen,
    eq,
    hash
)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct PyBucketLayout {
    pub(crate) inner: BucketLayout,
}

impl From<BucketLayout> for PyBucketLayout {
    fn from(inner: BucketLayout) -> Self {
        Self { inner }
    }
}

impl PyBucketLayout {
    /// The layout `make` builds from `low`, `high` and `n` (each checked not negative).
    fn ranged(
        make: fn(u64, u64, u32) -> mozaggregator_core::Result<BucketLayout>,
        low: i64,
        high: i64,
        n: i64,
    ) -> PyResult<Self> {
        make(
            unsigned(low, "low")?,
            unsigned(high, "high")?,
            unsigned(n, "n")?,
        )
        .map(Self::from)
        .py()
    }
}

#[pymethods]
impl PyBucketLayout {
    /// Exponential buckets, ``exponential_buckets(low, high, n)``.
    #[staticmethod]
    fn exponential(low: i64, high: i64, n: i64) -> PyResult<Self> {
        Self::ranged(BucketLayout::exponential, low, high, n)
    }

    /// Linear buckets, ``linear_buckets(low, high, n)``.
    #[staticmethod]
    fn linear(low: i64, high: i64, n: i64) -> PyResult<Self> {
        Self::ranged(BucketLayout::linear, low, high, n)
    }

    /// Enumerated buckets ``[0, 1, …, n_values]``.
    #[staticmethod]
    fn enumerated(n_values: i64) -> PyResult<Self> {
        BucketLayout::enumerated(unsigned(n_values, "n_values")?)
            .map(Self::from)
            .py()
    }

    /// Categorical buckets: label indices ``0..=max(len(labels), n_values, 50)``.
    #[staticmethod]
    #[pyo3(signature = (labels, *, n_values = None))]
    fn categorical(labels: Vec<String>, n_values: Option<i64>) -> PyResult<Self> {
        let n_values = n_values.map(|n| unsigned(n, "n_values")).transpose()?;
        BucketLayout::categorical(labels, n_values)
            .map(Self::from)
            .py()
    }

    /// Boolean buckets ``[0, 1, 2]``.
    #[staticmethod]
    fn boolean() -> Self {
        BucketLayout::boolean().into()
    }

    /// Flag buckets ``[0, 1, 2]``.
    #[staticmethod]
    fn flag() -> Self {
        BucketLayout::flag().into()
    }

    /// Count buckets ``[0, 1, 2]``.
    #[staticmethod]
    fn count() -> Self {
        BucketLayout::count().into()
    }

    /// The kind: ``"exponential"``, ``"linear"``, ``"boolean"``, ``"flag"``, ``"count"``,
    /// ``"enumerated"`` or ``"categorical"``.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind().name()
    }

    /// Bucket lower bounds, starting at 0.
    #[getter]
    fn buckets(&self) -> Vec<u64> {
        self.inner.bounds().to_vec()
    }

    /// Categorical labels as defined (the API serves them followed by ``"spill"``); empty for
    /// other kinds.
    #[getter]
    fn labels(&self) -> Vec<String> {
        self.inner.labels().to_vec()
    }

    /// The lowest non-zero bound the layout was declared with.
    #[getter]
    fn low(&self) -> u64 {
        self.inner.spec().low()
    }

    /// The highest bound the layout was declared with.
    #[getter]
    fn high(&self) -> u64 {
        self.inner.spec().high()
    }

    /// Index of the bucket holding ``value``: the largest lower bound ``<= value``.
    fn bucket_index(&self, value: u64) -> usize {
        self.inner.bucket_index(value)
    }

    fn __len__(&self) -> usize {
        self.inner.bounds().len()
    }

    fn __repr__(&self) -> String {
        let spec = self.inner.spec();
        format!(
            "BucketLayout(kind={:?}, low={}, high={}, n={}{})",
            spec.kind().name(),
            spec.low(),
            spec.high(),
            spec.bucket_count(),
            if self.inner.labels().is_empty() {
                String::new()
            } else {
                format!(", labels={:?}", self.inner.labels())
            }
        )
    }

    /// Pickle support: the state ``(1, kind, low, high, n, labels)``, rebuilt (and validated)
    /// by ``_from_state``.
    #[allow(clippy::type_complexity)]
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<Reduce<'py, ((u8, &'static str, u64, u64, u32, Vec<String>),)>> {
        let this = slf.get();
        let spec = this.inner.spec();
        Ok((
            slf.get_type().getattr("_from_state")?,
            ((
                STATE_VERSION,
                spec.kind().name(),
                spec.low(),
                spec.high(),
                spec.bucket_count(),
                this.inner.labels().to_vec(),
            ),),
        ))
    }

    /// Inverse of ``__reduce__``: ``ValueError`` on a state it did not write.
    #[staticmethod]
    fn _from_state(state: &Bound<'_, PyAny>) -> PyResult<Self> {
        let parts = state_parts(state, "BucketLayout", STATE_VERSION, 6)?;
        fn bad<E>(_: E) -> PyErr {
            PyValueError::new_err("not a pickled BucketLayout: a part has the wrong type")
        }
        let kind: String = parts.get_item(1)?.extract().map_err(bad)?;
        let low: u64 = parts.get_item(2)?.extract().map_err(bad)?;
        let high: u64 = parts.get_item(3)?.extract().map_err(bad)?;
        let n: u32 = parts.get_item(4)?.extract().map_err(bad)?;
        let labels: Vec<String> = parts.get_item(5)?.extract().map_err(bad)?;
        let kind: Kind = kind.parse().py()?;
        let spec = LayoutSpec::from_parts(kind, low, high, n).py()?;
        Ok(BucketLayout::new(spec).with_labels(labels).into())
    }
}
