//! The stored codes of the pack stores: prefixes, layout kinds and option kinds, and the
//! layout a stored `layouts` row describes.

use super::corrupt;
use crate::date::Date;
use crate::error::Result;
use crate::keys::Prefix;
use crate::layout::{Kind, LayoutSpec};

/// `options.kind` of a metric id.
pub(crate) const OPTION_METRIC: i64 = 0;
/// `options.kind` of a process code.
pub(crate) const OPTION_PROCESS: i64 = 1;
/// `options.kind` of a dims id.
pub(crate) const OPTION_DIMS: i64 = 2;

/// In a replicate pack (`replicate_series`), an entry's dims field holds
/// `dims id · REPLICATE_SLOTS + group`: one pack per (target, metric, label) holds every
/// group, so that a query reads as many rows with replicates as without. Groups are below 100.
pub(crate) const REPLICATE_SLOTS: i64 = 128;

/// The dims field of a replicate pack entry of `dims` in `group`.
pub(crate) fn replicate_dims(dims: i64, group: u8) -> i64 {
    dims * REPLICATE_SLOTS + i64::from(group)
}

/// Inverse of [`replicate_dims`]: (dims id, group).
pub(crate) fn split_replicate_dims(field: i64) -> (i64, i64) {
    (
        field.div_euclid(REPLICATE_SLOTS),
        field.rem_euclid(REPLICATE_SLOTS),
    )
}

/// Stored code of a prefix.
pub(crate) fn prefix_code(prefix: Prefix) -> i64 {
    match prefix {
        Prefix::BuildId => 0,
        Prefix::SubmissionDate => 1,
        Prefix::MobileMetrics => 2,
    }
}

/// Inverse of [`prefix_code`].
pub(crate) fn prefix_from_code(code: i64) -> Result<Prefix> {
    match code {
        0 => Ok(Prefix::BuildId),
        1 => Ok(Prefix::SubmissionDate),
        2 => Ok(Prefix::MobileMetrics),
        _ => Err(corrupt(format!("unknown prefix code {code}"))),
    }
}

/// The date a `date` or `submission_date` column holds as its `YYYYMMDD` text; text that is
/// not a date is a corrupt store.
pub(crate) fn date_from_text(text: &str) -> Result<Date> {
    Date::parse(text).map_err(|_| corrupt(format!("stored date `{text}` is not a YYYYMMDD date")))
}

/// Stored code of a layout kind.
pub(crate) fn kind_code(kind: Kind) -> i64 {
    match kind {
        Kind::Exponential => 0,
        Kind::Linear => 1,
        Kind::Boolean => 2,
        Kind::Flag => 3,
        Kind::Count => 4,
        Kind::Enumerated => 5,
        Kind::Categorical => 6,
    }
}

/// The layout a `layouts` row (kind, low, high, n) describes; `None` when it describes none
/// (callers then treat the id as unknown, failing only what meets it).
pub(crate) fn layout_from_row(kind: i64, low: i64, high: i64, n: i64) -> Option<LayoutSpec> {
    LayoutSpec::from_parts(
        kind_from_code(kind).ok()?,
        u64::try_from(low).ok()?,
        u64::try_from(high).ok()?,
        u32::try_from(n).ok()?,
    )
    .ok()
}

/// Inverse of [`kind_code`].
pub(crate) fn kind_from_code(code: i64) -> Result<Kind> {
    Kind::ALL
        .into_iter()
        .find(|k| kind_code(*k) == code)
        .ok_or_else(|| corrupt(format!("unknown layout kind code {code}")))
}
