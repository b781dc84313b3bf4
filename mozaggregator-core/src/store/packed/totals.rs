//! The `totals` table: for each `series` row, its histograms summed over every dims
//! combination, one entry per (process, layout), then per OS over every process, one entry per
//! (OS, layout).
//!
//! The most common metric query filters by nothing but process and label (a dashboard's first
//! view), and the next most common by OS as well. Without totals it decodes every entry of
//! every pack it reads: tens of histograms per date. With them it reads one short row per date,
//! a few histograms long, and touches a small fraction of the memory, which matters most for a
//! lone request whose caches went cold while the machine idled. A query that restricts another
//! dims dimension (application, architecture, OS version), or both the OS and the process,
//! still reads `series`.
//!
//! A totals row is a pack in the `series` codec (see `codec`). Its entries over all dims come
//! first, with dims id [`ALL_DIMS`]; the per-OS entries follow, with process field
//! [`ALL_PROCESSES`] and the *OS key* of their OS as dims id: the smallest dims id of that OS
//! (see [`Ids::os_key`]), so a reader that admits that dims row admits that OS. The OS with
//! the most contributing histograms (`count`) is left out, named by one entry of layout
//! [`REST_OS`]: its sums are the sums over all dims less the other OSes' (for a pack of one
//! OS, the sums over all dims themselves), so they are not written twice. Rows written before
//! the per-OS entries existed (schema version 4) have none: a reader that needs them reads the
//! `series` pack instead. A pack holding a dims id of unknown OS gets no per-OS
//! entries either.
//!
//! An entry whose sum cannot be made (it overflows 2^64, or a stored entry of the group cannot
//! be decoded) is written with an empty histogram: a reader that meets one reads that row's
//! `series` pack instead, and answers exactly as it would have without totals (the same error,
//! for instance). Writes keep the two tables in step in one transaction.
//!
//! A *replicate* pack (see [`super::codes::replicate_dims`]) gets its totals the same way, per
//! (process, group, layout), and per (group, layout) over all processes
//! ([`ALL_PROCESSES`]): the entries' dims field then holds the group. It has no per-OS entries.

use hashbrown::HashMap;
use smallvec::SmallVec;

use super::codec::{self, Accumulator};
use crate::error::Result;

/// The dims id of every totals entry (no `dims` row has id 0).
pub(crate) const ALL_DIMS: i64 = 0;

/// The process field of an entry that sums every process: of a per-OS entry, and of a
/// [`Fold::PerGroup`] entry that sums every process of its group and layout (process codes are
/// 0–2). A query that admits every process reads these entries alone: a third of the
/// histograms to decode. In a replicate pack they come first; packs written before them
/// (schema 3 from earlier builds) have none, and are read per process.
pub(crate) const ALL_PROCESSES: u8 = 3;

/// What a totals pack sums over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fold {
    /// Every dims combination: one entry per (process, layout), dims [`ALL_DIMS`]; then every
    /// dims combination and process of each OS: one entry per (OS, layout), process
    /// [`ALL_PROCESSES`], dims = the OS key.
    AllDims,
    /// Every dims combination of each replicate group: one entry per (process, group,
    /// layout), dims = the group, and one per (group, layout) over every process
    /// ([`ALL_PROCESSES`]).
    PerGroup,
}

/// What a totals pack needs to know of the store's interned ids (each store looks them up in
/// its own tables, on first use).
pub(crate) trait Ids {
    /// The bucket count of layout `id`; `None` when no valid layout has that id.
    ///
    /// # Errors
    /// The store's, when it cannot be read.
    fn layout_len(&mut self, id: i64) -> Result<Option<usize>>;

    /// The OS key of dims `id`: the smallest dims id whose OS is the same; `None` when no dims
    /// row has that id.
    ///
    /// # Errors
    /// The store's, when it cannot be read.
    fn os_key(&mut self, id: i64) -> Result<Option<i64>>;
}

/// The OS keys of dims ids, learnt from a store's `dims` rows read in id order (each store
/// reads its own table). Kept for one write transaction.
#[derive(Default)]
pub(crate) struct OsKeys {
    keys: HashMap<i64, i64, foldhash::fast::RandomState>,
    /// The smallest dims id of each OS seen.
    first_of_os: HashMap<String, i64, foldhash::fast::RandomState>,
    /// Every dims id up to this one has been read.
    read: i64,
}

impl OsKeys {
    /// The OS key of dims `id`; on a miss, `rows_after(n)` gives the (id, OS) of the dims rows
    /// whose id is above `n`, in id order. `None` when no dims row has that id.
    ///
    /// # Errors
    /// Those of `rows_after`.
    pub(crate) fn get(
        &mut self,
        id: i64,
        rows_after: impl FnOnce(i64) -> Result<Vec<(i64, String)>>,
    ) -> Result<Option<i64>> {
        if let Some(&key) = self.keys.get(&id) {
            return Ok(Some(key));
        }
        if id <= self.read {
            return Ok(None);
        }
        for (dims, os) in rows_after(self.read)? {
            let key = *self.first_of_os.entry(os).or_insert(dims);
            self.keys.insert(dims, key);
            self.read = self.read.max(dims);
        }
        Ok(self.keys.get(&id).copied())
    }
}

/// [`Ids`] from two functions (tests).
#[cfg(test)]
pub(crate) struct FnIds<L, O>(pub L, pub O);

#[cfg(test)]
impl<L, O> Ids for FnIds<L, O>
where
    L: FnMut(i64) -> Result<Option<usize>>,
    O: FnMut(i64) -> Result<Option<i64>>,
{
    fn layout_len(&mut self, id: i64) -> Result<Option<usize>> {
        (self.0)(id)
    }

    fn os_key(&mut self, id: i64) -> Result<Option<i64>> {
        (self.1)(id)
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

/// The dims field of a per-OS cell whose dims id has no known OS.
const UNKNOWN_OS: i64 = -1;

/// The layout field of the per-OS entry naming the *rest OS* of a pack: the OS whose sums are
/// not written, because they are the sums over all dims less the other OSes' sums (of a pack
/// of one OS, the sums over all dims themselves). No layout has id 0. In place of a histogram
/// it holds the ids of the layouts the rest OS has (varints, ascending), so that a sum that
/// comes out empty is told from one the OS does not have.
pub(crate) const REST_OS: i64 = 0;

/// Writes into `out` the totals pack of `pack` (a `series` pack), looking up layouts and OS
/// keys with `ids`.
///
/// A histogram that cannot be decoded or summed, or of an unknown layout, gives its group the
/// empty marker; a pack that cannot be read at all gives a totals pack of one marker entry.
///
/// # Errors
/// Only those of `ids`.
pub(crate) fn of_pack(pack: &[u8], ids: &mut impl Ids, out: &mut Vec<u8>) -> Result<()> {
    folded(pack, Fold::AllDims, ids, out)
}

/// [`of_pack`] summing as `fold` says.
///
/// # Errors
/// Only those of `ids`.
pub(crate) fn folded(pack: &[u8], fold: Fold, ids: &mut impl Ids, out: &mut Vec<u8>) -> Result<()> {
    codec::start_pack(out);
    let Some(cells) = cells(pack, fold, ids)? else {
        codec::put_entry(out, 0, ALL_DIMS, 0, &[]);
        return Ok(());
    };
    let written: Vec<Sum> = match fold {
        Fold::AllDims => {
            let mut out = summed(&cells, |c| (c.process, ALL_DIMS));
            // No per-OS sums without every dims id's OS.
            if let Some(rest) = rest_os(&cells) {
                let per_os = summed(&cells, |c| (ALL_PROCESSES, c.dims));
                out.extend(per_os.into_iter().filter(|s| s.dims != rest));
                let of_rest = (0..cells.len()).filter(|&i| cells[i].dims == rest);
                out.push(Sum {
                    process: ALL_PROCESSES,
                    dims: rest,
                    layout: REST_OS,
                    cells: of_rest.collect(),
                });
            }
            out
        }
        Fold::PerGroup => {
            let mut out = summed(&cells, |c| (ALL_PROCESSES, c.dims));
            out.extend(summed(&cells, |c| (c.process, c.dims)));
            out
        }
    };
    let mut scratch = Vec::with_capacity(64);
    // One accumulator reused for every sum of several cells.
    let mut acc = Accumulator::new(0);
    for sum in &written {
        scratch.clear();
        if sum.layout == REST_OS {
            let mut layouts: SmallVec<[i64; 4]> =
                sum.cells.iter().map(|&i| cells[i].layout).collect();
            layouts.sort_unstable();
            layouts.dedup();
            for layout in layouts {
                codec::put_varint(&mut scratch, layout as u64);
            }
            codec::put_entry(out, sum.process, sum.dims, sum.layout, &scratch);
            continue;
        }
        let summed = match sum.cells.as_slice() {
            [] => None,
            [one] => cells[*one].acc.as_ref(),
            several => {
                acc.counts.clear();
                acc.sum = 0;
                acc.count = 0;
                let mut added = several.iter().map(|&i| cells[i].acc.as_ref());
                added
                    .try_fold((), |(), cell| {
                        let cell = cell?;
                        if acc.counts.is_empty() {
                            acc.counts.resize(cell.counts.len(), 0);
                        }
                        acc.add(cell).then_some(())
                    })
                    .map(|()| &acc)
            }
        };
        if let Some(acc) = summed {
            codec::encode(&acc.counts, acc.sum, acc.count, &mut scratch);
        }
        codec::put_entry(out, sum.process, sum.dims, sum.layout, &scratch);
    }
    Ok(())
}

/// The OS key with the largest `count` (contributing histograms) among `cells` (per-OS
/// cells), the smallest key on a tie;
/// `None` when a cell's OS is unknown (or there is no cell).
fn rest_os(cells: &[Group]) -> Option<i64> {
    let mut samples: SmallVec<[(i64, u64); 4]> = SmallVec::new();
    for cell in cells {
        if cell.dims == UNKNOWN_OS {
            return None;
        }
        let n = cell.acc.as_ref().map_or(0, |a| a.count);
        match samples.iter_mut().find(|(os, _)| *os == cell.dims) {
            Some((_, total)) => *total = total.saturating_add(n),
            None => samples.push((cell.dims, n)),
        }
    }
    samples
        .into_iter()
        .max_by_key(|&(os, n)| (n, std::cmp::Reverse(os)))
        .map(|(os, _)| os)
}

/// A sum of cells to write: its entry's fields and the cells it adds up (none for a marker).
struct Sum {
    process: u8,
    dims: i64,
    layout: i64,
    cells: SmallVec<[usize; 4]>,
}

/// `cells` summed per (`to(cell)`, layout), in (process, dims, layout) order.
fn summed(cells: &[Group], to: impl Fn(&Group) -> (u8, i64)) -> Vec<Sum> {
    let mut sums: Vec<Sum> = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        let (process, dims) = to(cell);
        let same = |s: &&mut Sum| s.process == process && s.dims == dims && s.layout == cell.layout;
        match sums.iter_mut().find(same) {
            Some(sum) => sum.cells.push(i),
            None => sums.push(Sum {
                process,
                dims,
                layout: cell.layout,
                cells: SmallVec::from_elem(i, 1),
            }),
        }
    }
    sums.sort_by_key(|s| (s.process, s.dims, s.layout));
    sums
}

/// The pack's histograms summed per (process, OS key, layout), or per (process, replicate
/// group, layout) for [`Fold::PerGroup`]; `None` when the pack itself cannot be read.
fn cells(pack: &[u8], fold: Fold, ids: &mut impl Ids) -> Result<Option<Vec<Group>>> {
    let Ok(entries) = codec::entries(pack) else {
        return Ok(None);
    };
    let mut cells: Vec<Group> = Vec::new();
    for entry in entries {
        let Ok(entry) = entry else {
            return Ok(None);
        };
        let Ok(process) = u8::try_from(entry.process) else {
            return Ok(None);
        };
        let dims = match fold {
            Fold::AllDims => ids.os_key(entry.dims)?.unwrap_or(UNKNOWN_OS),
            Fold::PerGroup => super::codes::split_replicate_dims(entry.dims).1,
        };
        let same = |g: &Group| g.process == process && g.dims == dims && g.layout == entry.layout;
        // Consecutive entries often share their cell.
        let found = match cells.last() {
            Some(last) if same(last) => Some(cells.len() - 1),
            _ => cells.iter().position(same),
        };
        let i = match found {
            Some(i) => i,
            None => {
                cells.push(Group {
                    process,
                    dims,
                    layout: entry.layout,
                    acc: ids.layout_len(entry.layout)?.map(Accumulator::new),
                });
                cells.len() - 1
            }
        };
        let cell = &mut cells[i];
        if let Some(acc) = &mut cell.acc {
            if acc.add_blob(entry.hist).is_err() {
                cell.acc = None;
            }
        }
    }
    Ok(Some(cells))
}

/// True when a totals pack made with `fold` can answer for every query: every entry was summed.
#[cfg(test)]
fn is_complete_as(totals: &[u8], fold: Fold) -> bool {
    codec::entries(totals)
        .is_ok_and(|mut entries| entries.all(|e| e.is_ok_and(|e| is_complete_entry(&e, fold))))
}

/// True when an entry of a totals pack made with `fold` was summed (over all dims or per OS
/// for [`Fold::AllDims`]).
pub(crate) fn is_complete_entry(e: &codec::Entry<'_>, fold: Fold) -> bool {
    !e.hist.is_empty()
        && match fold {
            Fold::AllDims => e.dims >= ALL_DIMS,
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
                if e.process == u64::from(ALL_PROCESSES) && e.layout == REST_OS {
                    let (mut pos, mut layouts) = (0, Vec::new());
                    while pos < e.hist.len() {
                        layouts.push(codec::varint_at(e.hist, &mut pos).unwrap());
                    }
                    return (e.process, e.dims, e.layout, Some(layouts));
                }
                let counts = (!e.hist.is_empty()).then(|| {
                    let mut acc = Accumulator::new(3);
                    acc.add_blob(e.hist).unwrap();
                    acc.counts
                });
                (e.process, e.dims, e.layout, counts)
            })
            .collect()
    }

    /// Layouts of 3 buckets; dims 5 and 6 share an OS (key 5), dims 7 has its own, other
    /// dims ids are unknown.
    fn ids() -> impl Ids {
        FnIds(
            |_| Ok(Some(3)),
            |d| {
                Ok(match d {
                    5 | 6 => Some(5),
                    7 => Some(7),
                    _ => None,
                })
            },
        )
    }

    #[test]
    fn sums_each_process_and_layout_over_dims_then_each_os_over_processes() {
        let all = u64::from(ALL_PROCESSES);
        let mut pack = Vec::new();
        codec::start_pack(&mut pack);
        entry(&mut pack, 1, 7, 2, &[1, 0, 2]);
        entry(&mut pack, 0, 5, 2, &[0, 4, 0]);
        entry(&mut pack, 0, 7, 2, &[1, 0, 0]);
        entry(&mut pack, 0, 6, 2, &[3, 1, 0]);
        entry(&mut pack, 0, 6, 1, &[0, 0, 9]);
        let mut out = Vec::new();
        of_pack(&pack, &mut ids(), &mut out).unwrap();
        assert_eq!(
            decoded(&out),
            vec![
                (0, ALL_DIMS, 1, Some(vec![0, 0, 9])),
                (0, ALL_DIMS, 2, Some(vec![4, 5, 0])),
                (1, ALL_DIMS, 2, Some(vec![1, 0, 2])),
                // OS 5 has the larger count (3 against 2): the rest, named with its layouts.
                (all, 7, 2, Some(vec![2, 0, 2])),
                (all, 5, REST_OS, Some(vec![1, 2])),
            ]
        );
        assert!(is_complete_as(&out, Fold::AllDims));
    }

    #[test]
    fn a_pack_of_one_os_says_so_instead_of_repeating_its_sums() {
        let mut pack = Vec::new();
        codec::start_pack(&mut pack);
        entry(&mut pack, 0, 5, 2, &[0, 4, 0]);
        entry(&mut pack, 1, 6, 2, &[1, 0, 0]);
        let mut out = Vec::new();
        of_pack(&pack, &mut ids(), &mut out).unwrap();
        assert_eq!(
            decoded(&out),
            vec![
                (0, ALL_DIMS, 2, Some(vec![0, 4, 0])),
                (1, ALL_DIMS, 2, Some(vec![1, 0, 0])),
                (u64::from(ALL_PROCESSES), 5, REST_OS, Some(vec![2])),
            ]
        );
    }

    #[test]
    fn a_dims_id_of_unknown_os_leaves_out_every_per_os_sum() {
        let mut pack = Vec::new();
        codec::start_pack(&mut pack);
        entry(&mut pack, 0, 5, 2, &[0, 4, 0]);
        entry(&mut pack, 0, 9, 2, &[1, 0, 0]);
        entry(&mut pack, 1, 7, 2, &[1, 0, 2]);
        let mut out = Vec::new();
        of_pack(&pack, &mut ids(), &mut out).unwrap();
        assert_eq!(
            decoded(&out),
            vec![
                (0, ALL_DIMS, 2, Some(vec![1, 4, 0])),
                (1, ALL_DIMS, 2, Some(vec![1, 0, 2])),
            ]
        );
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
        folded(&pack, Fold::PerGroup, &mut ids(), &mut out).unwrap();
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
        entry(&mut pack, 0, 7, 2, &[1, 0, 0]);
        codec::put_entry(&mut pack, 1, 5, 2, &[0x77]);
        entry(&mut pack, 1, 7, 2, &[0, 0, 1]);
        entry(&mut pack, 2, 5, 2, &[0, 1, 0]);
        entry(&mut pack, 2, 7, 1, &[5, 0, 0]);
        let mut out = Vec::new();
        of_pack(&pack, &mut ids(), &mut out).unwrap();
        let all = u64::from(ALL_PROCESSES);
        assert_eq!(
            decoded(&out),
            vec![
                // Process 0 of each OS sums, but not the two together.
                (0, ALL_DIMS, 2, None),
                (1, ALL_DIMS, 2, None),
                (2, ALL_DIMS, 1, Some(vec![5, 0, 0])),
                (2, ALL_DIMS, 2, Some(vec![0, 1, 0])),
                // OS 5 holds the corrupt entry; OS 7 (count 3 against 2) is the rest.
                (all, 5, 2, None),
                (all, 7, REST_OS, Some(vec![1, 2])),
            ]
        );
        assert!(!is_complete_as(&out, Fold::AllDims));
        // An unreadable pack or an unknown layout: marked, not an error.
        of_pack(&[9], &mut ids(), &mut out).unwrap();
        assert_eq!(decoded(&out), vec![(0, ALL_DIMS, 0, None)]);
        of_pack(&pack, &mut FnIds(|_| Ok(None), |d| Ok(Some(d))), &mut out).unwrap();
        assert!(!is_complete_as(&out, Fold::AllDims));
    }
}
