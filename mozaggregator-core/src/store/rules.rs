//! The row rules every store applies before writing (docs/store.md, "The contract in plain words").

use crate::histogram::Histogram;
use crate::keys::{SeriesKey, Target};
use crate::layout::LayoutSpec;
use crate::reject::RowReject;

/// Checks one row against the rules of docs/store.md ("The contract in plain words").
///
/// ```
/// use mozaggregator_core::{check_row, Histogram, LayoutSpec, RowReject};
/// # use mozaggregator_core::{Dims, Prefix, Process, SeriesKey, Target};
/// let target = Target { prefix: Prefix::BuildId, channel: "nightly".into(),
///     version: "42".into(), date: "20150601".parse().unwrap() };
/// let key = SeriesKey { metric: "GC MS".into(), label: "".into(), process: Process::Parent,
///     dims: Dims::default() };
/// let h = Histogram::empty(LayoutSpec::flag());
/// assert_eq!(check_row(&target, &key, &h), Err(RowReject::BadMetricName));
/// ```
///
/// # Errors
/// The first rule the row breaks.
pub fn check_row(target: &Target, key: &SeriesKey, histogram: &Histogram) -> Result<(), RowReject> {
    if !metric_name_ok(&key.metric) {
        return Err(RowReject::BadMetricName);
    }
    check_target(target)?;
    let dims = [
        &key.label,
        &key.dims.application,
        &key.dims.architecture,
        &key.dims.os,
        &key.dims.os_version,
    ];
    if dims.iter().any(|s| s.contains('\0')) {
        return Err(RowReject::NulInDimension);
    }
    if histogram.sum() > i64::MAX as u64 {
        return Err(RowReject::SumOutOfRange);
    }
    // A layout that did not come through a validating constructor (e.g. deserialised) must
    // still describe a valid layout, and the counts must fit it.
    let spec = histogram.layout();
    if LayoutSpec::from_parts(spec.kind(), spec.low(), spec.high(), spec.bucket_count()).is_err()
        || histogram.counts().len() != spec.len()
    {
        return Err(RowReject::LayoutMismatch);
    }
    Ok(())
}

/// True for a metric name stores accept: non-empty, of ASCII letters, digits and `_ . - [ ]`.
pub(crate) fn metric_name_ok(metric: &str) -> bool {
    !metric.is_empty()
        && metric
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'[' | b']'))
}

/// Checks the dimensions of a target table (no NUL in channel or version; a [`crate::Date`]
/// never holds one). Every row of
/// a target failing this is rejected, and stores do not create the target.
///
/// # Errors
/// [`RowReject::NulInDimension`].
pub fn check_target(target: &Target) -> Result<(), RowReject> {
    if [&target.channel, &target.version]
        .iter()
        .any(|s| s.contains('\0'))
    {
        return Err(RowReject::NulInDimension);
    }
    Ok(())
}
