//! The `/filters/` options of a (channel, version) from the stored (option kind, value) pairs.

use super::codes::{OPTION_DIMS, OPTION_METRIC, OPTION_PROCESS};
use super::corrupt;
use super::names::Names;
use super::plan::process;
use crate::error::Result;
use crate::store::FilterOptions;

/// The options the stored `pairs` list (metric ids, process codes, dims ids, by kind); `None`
/// when they list no metric (nothing is stored for the channel and version).
///
/// # Errors
/// An unknown kind, id or process code (a damaged store).
pub(crate) fn filter_options(
    names: &Names,
    pairs: impl IntoIterator<Item = (i64, i64)>,
) -> Result<Option<FilterOptions>> {
    let mut options = FilterOptions::default();
    let mut any = false;
    for (kind, value) in pairs {
        match kind {
            OPTION_METRIC => {
                any = true;
                options.metric.insert(names.metric(value)?.to_string());
            }
            OPTION_PROCESS => {
                options.child.insert(process(value)?);
            }
            OPTION_DIMS => {
                let dims = names.dims(value)?;
                options.application.insert(dims.application.clone());
                options.architecture.insert(dims.architecture.clone());
                options
                    .os
                    .insert((dims.os.clone(), dims.os_version.clone()));
            }
            other => return Err(corrupt(format!("unknown option kind {other}"))),
        }
    }
    Ok(any.then_some(options))
}
