//! `generate_pings`: realistic synthetic main pings, deterministic for a seed.

use mozaggregator_core::generate::{GenerateOptions, Generator};
use mozaggregator_core::Date;
use pyo3::prelude::*;

use crate::args::unsigned;
use crate::error::IntoPyResult;

/// ``n`` realistic synthetic Firefox main pings (JSON ``str``, 100–400 KB each), the same as
/// ``mozaggregator generate`` writes for the same ``seed`` and options.
///
/// ``submission_date`` (``YYYYMMDD``) gives the pings ``meta`` with that date, as Mozilla's
/// pipeline does; without it they are as clients send them (no ``meta``: aggregate them with
/// ``Aggregator(submission_date=…)``). ``template`` (a real ping, JSON text) is varied instead of
/// making pings from scratch. ``channels``, ``versions`` (``application.version`` strings such
/// as ``"130.0"``), ``os`` (``Windows_NT``, ``Darwin``, ``Linux``) and ``build_ids``
/// (``YYYYMMDDhhmmss``) narrow each dimension to values drawn among those given (``ValueError``
/// for a value the aggregation would reject). Generated pings aggregate without a reject under
/// default settings. Generated with the GIL released.
///
/// >>> from mozaggregator import Aggregator, generate_pings
/// >>> pings = generate_pings(3, seed=1, submission_date="20240115")
/// >>> pings == generate_pings(3, seed=1, submission_date="20240115")
/// True
/// >>> agg = Aggregator()
/// >>> agg.add_pings(pings)
/// >>> agg.report()["pings_read"]
/// 3
#[pyfunction]
#[pyo3(signature = (
    n,
    *,
    seed = 0,
    submission_date = None,
    template = None,
    channels = None,
    versions = None,
    os = None,
    build_ids = None,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn generate_pings(
    py: Python<'_>,
    n: i64,
    seed: i64,
    submission_date: Option<String>,
    template: Option<String>,
    channels: Option<Vec<String>>,
    versions: Option<Vec<String>>,
    os: Option<Vec<String>>,
    build_ids: Option<Vec<String>>,
) -> PyResult<Vec<String>> {
    let n: usize = unsigned(n, "n")?;
    let seed: u64 = unsigned(seed, "seed")?;
    py.detach(|| {
        let submission_date = submission_date
            .as_deref()
            .map(|d| Date::parse_as("submission date", d))
            .transpose()?;
        let mut generator = Generator::new(GenerateOptions {
            seed,
            submission_date,
            template,
            channels: channels.unwrap_or_default(),
            versions: versions.unwrap_or_default(),
            os: os.unwrap_or_default(),
            build_ids: build_ids.unwrap_or_default(),
        })?;
        Ok((0..n).map(|_| generator.ping()).collect())
    })
    .py()
}
