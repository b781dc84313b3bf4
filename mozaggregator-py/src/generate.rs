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
/// making pings from scratch. Generated with the GIL released.
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
#[pyo3(signature = (n, *, seed = 0, submission_date = None, template = None))]
pub(crate) fn generate_pings(
    py: Python<'_>,
    n: i64,
    seed: i64,
    submission_date: Option<String>,
    template: Option<String>,
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
        })?;
        Ok((0..n).map(|_| generator.ping()).collect())
    })
    .py()
}
