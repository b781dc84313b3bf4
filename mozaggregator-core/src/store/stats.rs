//! What a store holds, counted ([`Store::stats`]): tables, rows, series, size.

use serde::{Deserialize, Serialize};

use super::{Selection, Store};
use crate::error::Result;
use crate::keys::{Prefix, Target};

/// What a store holds (see [`Store::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreStats {
    /// Desktop target tables: one per (prefix, channel, version, date) that absorbed a
    /// submission date, with or without series.
    pub targets: u64,
    /// Stored rows: one per (target, metric, label), each holding the series of every process,
    /// dims and layout (the SQL stores' packed rows).
    pub rows: u64,
    /// Series: one per (target, metric, label, process, dims, layout), the rows `export`
    /// prints.
    pub series: u64,
    /// Replicate group rows: one per (target, metric, label) with replicate groups.
    pub replicate_rows: u64,
    /// Replicate series: one per (target, metric, label, process, dims, group, layout).
    pub replicate_series: u64,
    /// Mobile tables ([`Prefix::MobileMetrics`] targets).
    #[serde(default)]
    pub mobile_targets: u64,
    /// Mobile rows: one per (table, mobile key, layout), the rows `export --doc-type
    /// mobile_metrics` prints.
    #[serde(default)]
    pub mobile_rows: u64,
    /// Bytes the store takes on disk (SQLite: pages × page size, the write-ahead log not
    /// included; PostgreSQL: its tables and indexes); `None` when it has no disk (memory).
    pub bytes: Option<u64>,
}

impl StoreStats {
    /// Counts with the reads every store has: targets from [`Store::channels`] and
    /// [`Store::dates`], rows and series from a full [`Store::scan`]; replicate groups are not
    /// counted and the size is unknown. The default of [`Store::stats`].
    ///
    /// # Errors
    /// Those of the reads.
    pub fn by_scan<S: Store + ?Sized>(store: &S) -> Result<StoreStats> {
        let mut stats = StoreStats::default();
        for prefix in Prefix::ALL {
            for channel in store.channels(prefix)? {
                stats.targets += store.dates(prefix, &channel)?.len() as u64;
            }
        }
        for channel in store.channels(Prefix::MobileMetrics)? {
            stats.mobile_targets += store.dates(Prefix::MobileMetrics, &channel)?.len() as u64;
        }
        let mobile = Selection {
            prefix: Some(Prefix::MobileMetrics),
            ..Selection::default()
        };
        store.scan_mobile(&mobile, &mut |_, _, _| {
            stats.mobile_rows += 1;
            Ok(())
        })?;
        // The scan is ordered by target, then metric and label: a row starts where they change.
        let mut last: Option<(Target, String, String)> = None;
        store.scan(&Selection::default(), &mut |target, key, _| {
            stats.series += 1;
            let same = last
                .as_ref()
                .is_some_and(|(t, m, l)| t == target && *m == key.metric && *l == key.label);
            if !same {
                stats.rows += 1;
                last = Some((target.clone(), key.metric.clone(), key.label.clone()));
            }
            Ok(())
        })?;
        Ok(stats)
    }
}
