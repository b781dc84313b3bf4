//! Merging a batch's rows into stored packs, and encoding the result.
//!
//! A writer gathers, per (metric, label) row of a target, the stored pack (entries kept
//! encoded until a batch row touches them) and the batch's histograms, merges them by the
//! store contract's rules, and writes the pack back in entry order.

use std::collections::BTreeMap;
use std::ops::Range;

use super::codec;
use super::codes::{OPTION_DIMS, OPTION_PROCESS};
use super::corrupt;
use crate::error::Result;
use crate::histogram::Histogram;
use crate::keys::Process;
use crate::store::RowReject;

/// A stored row of one target: (metric id, label id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct RowKey {
    pub(crate) metric: i64,
    pub(crate) label: i64,
}

/// An entry of a pack: (process, dims id, layout id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct EntryKey {
    pub(crate) process: u8,
    pub(crate) dims: i64,
    pub(crate) layout: i64,
}

/// The (option kind, value) pairs a write added or changed, each once.
pub(crate) type OptionSet = hashbrown::HashSet<(i64, i64), foldhash::fast::RandomState>;

/// The pairs of `options` in ascending order, as stores record them (so that the same write
/// always inserts the same rows in the same order).
pub(crate) fn sorted_options(options: &OptionSet) -> Vec<(i64, i64)> {
    let mut sorted: Vec<(i64, i64)> = options.iter().copied().collect();
    sorted.sort_unstable();
    sorted
}

/// An entry's histogram as it will be written.
enum Slot<'a> {
    /// Stored and untouched by this batch: copied as it is (its bytes in the pack's blob).
    Stored(Range<usize>),
    /// The batch's own histogram (no copy).
    Borrowed(&'a Histogram),
    /// A merge.
    Owned(Histogram),
}

/// The entries of one row being written.
#[derive(Default)]
pub(crate) struct Pack<'a> {
    /// The stored pack (empty for a new row): the bytes of the `Stored` slots.
    blob: Vec<u8>,
    entries: BTreeMap<EntryKey, Slot<'a>>,
}

impl<'a> Pack<'a> {
    /// The pack stored as `blob`, entries kept encoded.
    ///
    /// # Errors
    /// A blob that is not a pack, or an entry of an unknown process.
    pub(crate) fn stored(blob: Vec<u8>) -> Result<Self> {
        let mut entries = BTreeMap::new();
        for entry in codec::entries(&blob)? {
            let entry = entry?;
            let process = i64::try_from(entry.process)
                .ok()
                .and_then(Process::from_code)
                .ok_or_else(|| corrupt(format!("unknown process code {}", entry.process)))?
                .code();
            let key = EntryKey {
                process,
                dims: entry.dims,
                layout: entry.layout,
            };
            // Where the entry's histogram starts in the blob (it is a part of it).
            let at = entry.hist.as_ptr() as usize - blob.as_ptr() as usize;
            entries.insert(key, Slot::Stored(at..at + entry.hist.len()));
        }
        Ok(Pack { blob, entries })
    }

    /// Merges one row into its entry, or rejects it (leaving the entry unchanged).
    ///
    /// # Errors
    /// A stored entry that cannot be decoded (the outer error fails the whole write).
    pub(crate) fn merge(
        &mut self,
        entry: EntryKey,
        incoming: &'a Histogram,
    ) -> Result<Result<(), RowReject>> {
        let Some(slot) = self.entries.get_mut(&entry) else {
            self.entries.insert(entry, Slot::Borrowed(incoming));
            return Ok(Ok(()));
        };
        let mut merged = match slot {
            Slot::Stored(at) => codec::decode(&self.blob[at.clone()], incoming.layout())?,
            Slot::Borrowed(h) => (*h).clone(),
            Slot::Owned(h) => std::mem::replace(h, Histogram::empty(incoming.layout())),
        };
        // The same order of verdicts as the reference store: overflow first, then the sum rule.
        let overflows = merged.count().checked_add(incoming.count()).is_none()
            || merged
                .counts()
                .iter()
                .zip(incoming.counts())
                .any(|(a, b)| a.checked_add(*b).is_none());
        let sum_ok = merged
            .sum()
            .checked_add(incoming.sum())
            .is_some_and(|sum| sum <= i64::MAX as u64);
        let verdict = if overflows {
            Err(RowReject::MergeOverflow)
        } else if !sum_ok {
            Err(RowReject::SumOutOfRange)
        } else {
            merged.merge(incoming).map_err(|_| RowReject::MergeOverflow)
        };
        // On a reject `merged` is the stored value, unchanged.
        *slot = Slot::Owned(merged);
        Ok(verdict)
    }

    /// Encodes the pack into `blob` (cleared first), leaving out empty histograms, and records
    /// in `options` the (option kind, value) of each entry this batch added or changed.
    /// Returns whether any entry was added or changed; `blob` holds only the pack header when
    /// nothing is left to store.
    pub(crate) fn encode(
        &self,
        blob: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
        options: &mut OptionSet,
    ) -> bool {
        blob.clear();
        codec::start_pack(blob);
        let mut added = false;
        for (entry, slot) in &self.entries {
            let h: &Histogram = match slot {
                Slot::Stored(at) => {
                    let bytes = &self.blob[at.clone()];
                    codec::put_entry(blob, entry.process, entry.dims, entry.layout, bytes);
                    continue;
                }
                Slot::Borrowed(h) => h,
                Slot::Owned(h) => h,
            };
            if h.is_empty() {
                continue;
            }
            scratch.clear();
            codec::encode(h.counts(), h.sum(), h.count(), scratch);
            codec::put_entry(blob, entry.process, entry.dims, entry.layout, scratch);
            options.insert((OPTION_PROCESS, i64::from(entry.process)));
            options.insert((OPTION_DIMS, entry.dims));
            added = true;
        }
        added
    }
}
