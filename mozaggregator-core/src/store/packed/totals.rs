//! The `totals` table: for each `series` row, its histograms summed over every dims
//! combination, one entry per (process, layout).
//!
//! The most common metric query filters by nothing but process and label (a dashboard's first
//! view). Without totals it decodes every entry of every pack it reads: tens of histograms per
//! date. With them it reads one short row per date, a few histograms long, and touches a small
//! fraction of the memory, which matters most for a lone request whose caches went cold while
//! the machine idled. A query that restricts a dims dimension (application, architecture, OS,
//! OS version) still reads `series`.
//!
//! A totals row is a pack in the `series` codec (see `codec`) whose entries have dims id
//! [`ALL_DIMS`]. An entry whose sum cannot be made (it overflows 2^64, or a stored entry of the
//! group cannot be decoded) is written with an empty histogram: a reader that meets one reads
//! that row's `series` pack instead, and answers exactly as it would have without totals (the
//! same error, for instance). Writes keep the two tables in step in one transaction.
//!
//! A *replicate* pack (see [`super::codes::replicate_dims`]) gets its totals the same way, per
//! (process, group, layout), and per (group, layout) over all processes
//! ([`ALL_PROCESSES`]): the entries' dims field then holds the group.

use super::codec::{self, Accumulator};
use crate::error::Result;

/// The dims id of every totals entry (no `dims` row has id 0).
pub(crate) const ALL_DIMS: i64 = 0;

/// The process field of a [`Fold::PerGroup`] entry that sums every process of its group and
/// layout (process codes are 0–2). A query that admits every process reads these entries
/// alone: a third of the histograms to decode. Those entries come first in the pack; packs
/// written before them (schema 3 from earlier builds) have none, and are read per process.
pub(crate) const ALL_PROCESSES: u8 = 3;

/// What a totals pack sums over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fold {
    /// Every dims combination: one entry per (process, layout), dims [`ALL_DIMS`].
    AllDims,
    /// Every dims combination of each replicate group: one entry per (process, group,
    /// layout), dims = the group, and one per (group, layout) over every process
    /// ([`ALL_PROCESSES`]).
    PerGroup,
}

impl Fold {
    /// The dims field of the totals entry an entry of dims field `dims` goes to.
    fn target(self, dims: i64) -> i64 {
        match self {
            Fold::AllDims => ALL_DIMS,
            Fold::PerGroup => super::codes::split_replicate_dims(dims).1,
        }
    }
}

/// One (process, dims field, layout) sum of a pack.
struct Group {
    process: u8,
    dims: i64,
    layout: i64,
    /// `None` once the sum cannot be made.
    acc: Option<Accumulator>,
}

/// Writes into `out` the totals pack of `pack` (a `series` pack). `layout_len(id)` gives the
/// bucket count of a layout id, `None` for an unknown id.
///
/// A histogram that cannot be decoded or summed, or of an unknown layout, gives its group the
/// empty marker; a pack that cannot be read at all gives a totals pack of one marker entry.
///
/// # Errors
/// Only those of `layout_len`.
pub(crate) fn of_pack(
    pack: &[u8],
    layout_len: impl FnMut(i64) -> Result<Option<usize>>,
    out: &mut Vec<u8>,
) -> Result<()> {
    folded(pack, Fold::AllDims, layout_len, out)
}

/// [`of_pack`] summing as `fold` says.
///
/// # Errors
/// Only those of `layout_len`.
pub(crate) fn folded(
    pack: &[u8],
    fold: Fold,
    mut layout_len: impl FnMut(i64) -> Result<Option<usize>>,
    out: &mut Vec<u8>,
) -> Result<()> {
    codec::start_pack(out);
    let Some(mut groups) = groups(pack, fold, &mut layout_len)? else {
        codec::put_entry(out, 0, ALL_DIMS, 0, &[]);
        return Ok(());
    };
    // The sums over all processes first, so that a reader finds them at once.
    groups.sort_by_key(|g| (g.process != ALL_PROCESSES, g.process, g.dims, g.layout));
    let mut scratch = Vec::with_capacity(64);
    for g in &groups {
        scratch.clear();
        if let Some(acc) = &g.acc {
            codec::encode(&acc.counts, acc.sum, acc.count, &mut scratch);
        }
        codec::put_entry(out, g.process, g.dims, g.layout, &scratch);
    }
    Ok(())
}

/// The (process, dims field, layout) sums of a pack; `None` when the pack itself cannot be
/// read.
fn groups(
    pack: &[u8],
    fold: Fold,
    layout_len: &mut impl FnMut(i64) -> Result<Option<usize>>,
) -> Result<Option<Vec<Group>>> {
    let Ok(entries) = codec::entries(pack) else {
        return Ok(None);
    };
    let mut groups: Vec<Group> = Vec::new();
    for entry in entries {
        let Ok(entry) = entry else {
            return Ok(None);
        };
        let Ok(process) = u8::try_from(entry.process) else {
            return Ok(None);
        };
        let dims = fold.target(entry.dims);
        // A replicate group's sums per process, and over all of them.
        let targets: &[u8] = match fold {
            Fold::AllDims => &[process],
            Fold::PerGroup => &[process, ALL_PROCESSES],
        };
        for &process in targets {
            let i = match groups
                .iter()
                .position(|g| g.process == process && g.dims == dims && g.layout == entry.layout)
            {
                Some(i) => i,
                None => {
                    groups.push(Group {
                        process,
                        dims,
                        layout: entry.layout,
                        acc: layout_len(entry.layout)?.map(Accumulator::new),
                    });
                    groups.len() - 1
                }
            };
            let group = &mut groups[i];
            if let Some(acc) = &mut group.acc {
                if acc.add_blob(entry.hist).is_err() {
                    group.acc = None;
                }
            }
        }
    }
    Ok(Some(groups))
}

/// True when a totals pack made with `fold` can answer for every query: every entry was summed.
#[cfg(test)]
fn is_complete_as(totals: &[u8], fold: Fold) -> bool {
    codec::entries(totals)
        .is_ok_and(|mut entries| entries.all(|e| e.is_ok_and(|e| is_complete_entry(&e, fold))))
}

/// True when an entry of a totals pack made with `fold` was summed.
pub(crate) fn is_complete_entry(e: &codec::Entry<'_>, fold: Fold) -> bool {
    !e.hist.is_empty()
        && match fold {
            Fold::AllDims => e.dims == ALL_DIMS,
            Fold::PerGroup => e.dims >= 0 && e.dims < super::codes::REPLICATE_SLOTS,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pack: &mut Vec<u8>, process: u8, dims: i64, layout: i64, counts: &[u64]) {
        let mut h = Vec::new();
        let sum = counts.iter().sum();
        codec::encode(counts, sum, 1, &mut h);
        codec::put_entry(pack, process, dims, layout, &h);
    }

    fn decoded(totals: &[u8]) -> Vec<(u64, i64, i64, Option<Vec<u64>>)> {
        codec::entries(totals)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let counts = (!e.hist.is_empty()).then(|| {
                    let mut acc = Accumulator::new(3);
                    acc.add_blob(e.hist).unwrap();
                    acc.counts
                });
                (e.process, e.dims, e.layout, counts)
            })
            .collect()
    }

    #[test]
    fn sums_each_process_and_layout_over_dims() {
        let mut pack = Vec::new();
        codec::start_pack(&mut pack);
        entry(&mut pack, 1, 7, 2, &[1, 0, 2]);
        entry(&mut pack, 0, 5, 2, &[0, 4, 0]);
        entry(&mut pack, 0, 6, 2, &[3, 1, 0]);
        entry(&mut pack, 0, 6, 1, &[0, 0, 9]);
        let mut out = Vec::new();
        of_pack(&pack, |_| Ok(Some(3)), &mut out).unwrap();
        assert_eq!(
            decoded(&out),
            vec![
                (0, ALL_DIMS, 1, Some(vec![0, 0, 9])),
                (0, ALL_DIMS, 2, Some(vec![3, 5, 0])),
                (1, ALL_DIMS, 2, Some(vec![1, 0, 2])),
            ]
        );
        assert!(is_complete_as(&out, Fold::AllDims));
    }

    #[test]
    fn replicate_totals_sum_each_group_per_process_and_over_all_of_them_first() {
        use super::super::codes::replicate_dims;
        let mut pack = Vec::new();
        codec::start_pack(&mut pack);
        entry(&mut pack, 0, replicate_dims(5, 1), 2, &[1, 0, 0]);
        entry(&mut pack, 2, replicate_dims(6, 1), 2, &[0, 2, 0]);
        entry(&mut pack, 0, replicate_dims(6, 0), 2, &[0, 0, 4]);
        entry(&mut pack, 1, replicate_dims(5, 1), 2, &[8, 0, 0]);
        let mut out = Vec::new();
        folded(&pack, Fold::PerGroup, |_| Ok(Some(3)), &mut out).unwrap();
        let all = u64::from(ALL_PROCESSES);
        assert_eq!(
            decoded(&out),
            vec![
                (all, 0, 2, Some(vec![0, 0, 4])),
                (all, 1, 2, Some(vec![9, 2, 0])),
                (0, 0, 2, Some(vec![0, 0, 4])),
                (0, 1, 2, Some(vec![1, 0, 0])),
                (1, 1, 2, Some(vec![8, 0, 0])),
                (2, 1, 2, Some(vec![0, 2, 0])),
            ]
        );
        assert!(is_complete_as(&out, Fold::PerGroup));
    }

    #[test]
    fn a_group_that_overflows_or_is_corrupt_gets_the_marker() {
        let mut pack = Vec::new();
        codec::start_pack(&mut pack);
        entry(&mut pack, 0, 5, 2, &[u64::MAX, 0, 0]);
        entry(&mut pack, 0, 6, 2, &[1, 0, 0]);
        codec::put_entry(&mut pack, 1, 5, 2, &[0x77]);
        entry(&mut pack, 2, 5, 2, &[0, 1, 0]);
        let mut out = Vec::new();
        of_pack(&pack, |_| Ok(Some(3)), &mut out).unwrap();
        assert_eq!(
            decoded(&out),
            vec![
                (0, ALL_DIMS, 2, None),
                (1, ALL_DIMS, 2, None),
                (2, ALL_DIMS, 2, Some(vec![0, 1, 0])),
            ]
        );
        assert!(!is_complete_as(&out, Fold::AllDims));
        // An unreadable pack or an unknown layout: marked, not an error.
        of_pack(&[9], |_| Ok(Some(3)), &mut out).unwrap();
        assert_eq!(decoded(&out), vec![(0, ALL_DIMS, 0, None)]);
        of_pack(&pack, |_| Ok(None), &mut out).unwrap();
        assert!(!is_complete_as(&out, Fold::AllDims));
    }
}
