//! Mobile rows while a job aggregates: mergeable like desktop aggregates, serialisable, and
//! split into one [`MobileBatch`] per submission date at the end.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::row::{MobileBatch, MobileHistogram, MobileKey};
use crate::date::Date;
use crate::layout::LayoutSpec;

/// A mobile table while aggregating: (submission date, channel, full app version).
pub(crate) type TableKey = (Date, String, String);
/// The rows of one table, by (key, layout).
pub(crate) type TableRows = BTreeMap<(MobileKey, Option<LayoutSpec>), MobileHistogram>;

/// The mobile rows of a partial aggregate ([`crate::Aggregates`] holds one). Merging is
/// associative and commutative; a row whose merge would overflow keeps its first value and is
/// counted by the caller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MobileAggregates {
    pub(crate) tables: BTreeMap<TableKey, TableRows>,
}

/// One row as serialised: its table and its key with the histogram.
#[derive(Serialize, Deserialize)]
struct SerialRow {
    submission_date: Date,
    channel: String,
    version: String,
    key: MobileKey,
    histogram: MobileHistogram,
}

impl MobileAggregates {
    /// True when no row was aggregated.
    pub fn is_empty(&self) -> bool {
        self.tables.values().all(BTreeMap::is_empty)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.tables.values().map(BTreeMap::len).sum()
    }

    /// The submission dates present, ascending.
    pub fn submission_dates(&self) -> Vec<Date> {
        let mut dates: Vec<Date> = self.tables.keys().map(|(d, _, _)| *d).collect();
        dates.dedup();
        dates
    }

    /// Merges `other` into `self`; returns how many rows overflowed (each keeps `self`'s
    /// value).
    pub(crate) fn merge(&mut self, other: MobileAggregates) -> u64 {
        let mut overflowed = 0;
        for (table, rows) in other.tables {
            let into = self.tables.entry(table).or_default();
            for (key, histogram) in rows {
                match into.entry(key) {
                    std::collections::btree_map::Entry::Vacant(v) => {
                        v.insert(histogram);
                    }
                    std::collections::btree_map::Entry::Occupied(mut o) => {
                        if o.get_mut().merge(&histogram).is_err() {
                            overflowed += 1;
                        }
                    }
                }
            }
        }
        overflowed
    }

    /// One batch per submission date, ascending, each with a table per (channel, version).
    pub fn batches(&self) -> Vec<MobileBatch> {
        let mut out: Vec<MobileBatch> = Vec::new();
        for ((date, channel, version), rows) in &self.tables {
            if out.last().is_none_or(|b| b.submission_date != *date) {
                out.push(MobileBatch::new(*date));
            }
            if let Some(batch) = out.last_mut() {
                let target = batch.target(channel, version);
                let rows = rows.iter().map(|((k, _), h)| (k.clone(), h.clone()));
                batch.tables.entry(target).or_default().extend(rows);
            }
        }
        out
    }

    /// The rows as JSON (the mobile section of [`crate::Aggregates::to_bytes`]).
    pub(crate) fn to_json(&self) -> Vec<u8> {
        let rows: Vec<SerialRow> = self
            .tables
            .iter()
            .flat_map(|((date, channel, version), rows)| {
                rows.iter().map(move |((key, _), histogram)| SerialRow {
                    submission_date: *date,
                    channel: channel.clone(),
                    version: version.clone(),
                    key: key.clone(),
                    histogram: histogram.clone(),
                })
            })
            .collect();
        // A list of plain structs of strings and numbers: serialising cannot fail.
        serde_json::to_vec(&rows).unwrap_or_default()
    }

    /// Reads what [`MobileAggregates::to_json`] writes (every histogram validated).
    pub(crate) fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let rows: Vec<SerialRow> = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let mut out = MobileAggregates::default();
        for row in rows {
            let table = (row.submission_date, row.channel, row.version);
            let layout = row.histogram.layout();
            let slot = out
                .tables
                .entry(table)
                .or_default()
                .insert((row.key, layout), row.histogram);
            if slot.is_some() {
                return Err("a mobile row appears twice".into());
            }
        }
        Ok(out)
    }
}
