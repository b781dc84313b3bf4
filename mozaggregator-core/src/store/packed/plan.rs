//! A metric query over packs: what the filter admits, pushed down to stored ids, and the
//! per-date sums of what passes.
//!
//! A store finds the rows (one per requested target, metric and label) with its own SQL and
//! hands each to [`Plan::series_row`] or [`Plan::totals_row`]; [`finish`] turns the sums into
//! the answer's [`QueryRow`]s.

use hashbrown::HashMap;
use smallvec::SmallVec;

use super::codec::{self, Accumulator};
use super::codes::split_replicate_dims;
use super::corrupt;
use super::names::Names;
use super::totals::{self, Fold, ALL_PROCESSES};
use crate::date::Date;
use crate::error::{MergeError, Quantity, Result};
use crate::filter::{Dimension, NormalForm, RowDims};
use crate::keys::{Dims, Process};
use crate::layout::LayoutSpec;
use crate::store::{QueryRow, SeriesQuery};

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The process of a stored code (an `options` value or a pack entry's).
pub(crate) fn process<C: Copy + std::fmt::Display + TryInto<i64>>(code: C) -> Result<Process> {
    code.try_into()
        .ok()
        .and_then(Process::from_code)
        .ok_or_else(|| corrupt(format!("unknown process code {code}")))
}

fn admits_dims(nf: &NormalForm, dims: &Dims) -> bool {
    [
        (Dimension::Application, &dims.application),
        (Dimension::Architecture, &dims.architecture),
        (Dimension::Os, &dims.os),
        (Dimension::OsVersion, &dims.os_version),
    ]
    .into_iter()
    .all(|(d, v)| nf.allowed.get(&d).is_none_or(|set| set.contains(v)))
}

/// One (label, layout) group of a date.
struct Group {
    label: i64,
    layout: i64,
    acc: Accumulator,
}

/// The groups of one date being summed.
#[derive(Default)]
pub(crate) struct Groups {
    /// Mostly one (an unkeyed metric, one layout): kept inline, without an allocation.
    groups: SmallVec<[Group; 1]>,
    /// The position of each group, once there are more than [`Groups::SCANNED`] (fewer are
    /// found by a scan, cheaper than hashing).
    index: Option<Map<(i64, i64), usize>>,
}

impl Groups {
    const SCANNED: usize = 8;

    /// The position of the (label, layout) group, `None` when it has none yet.
    fn find(&self, label: i64, layout: i64) -> Option<usize> {
        let is = |g: &Group| g.label == label && g.layout == layout;
        match (&self.index, self.groups.last()) {
            // Consecutive entries mostly share their group.
            (_, Some(last)) if is(last) => Some(self.groups.len() - 1),
            (Some(index), _) => index.get(&(label, layout)).copied(),
            (None, _) => self.groups.iter().position(is),
        }
    }

    /// Adds an encoded histogram to the (label, layout) group.
    fn add(&mut self, names: &Names, label: i64, layout: i64, hist: &[u8]) -> Result<()> {
        let g = self.group(names, label, layout)?;
        self.groups[g].acc.add_blob(hist)
    }

    /// Adds a sum to the (label, layout) group.
    fn add_sum(&mut self, names: &Names, label: i64, layout: i64, sum: &Accumulator) -> Result<()> {
        let g = self.group(names, label, layout)?;
        match self.groups[g].acc.add(sum) {
            true => Ok(()),
            false => Err(MergeError::Overflow(Quantity::Merged).into()),
        }
    }

    /// The position of the (label, layout) group, made when it has none yet.
    fn group(&mut self, names: &Names, label: i64, layout: i64) -> Result<usize> {
        let g = match self.find(label, layout) {
            Some(i) => i,
            None => {
                let spec = names.layout(layout)?;
                let g = self.groups.len();
                self.groups.push(Group {
                    label,
                    layout,
                    acc: Accumulator::new(spec.len()),
                });
                if let Some(index) = &mut self.index {
                    index.insert((label, layout), g);
                } else if self.groups.len() > Self::SCANNED {
                    self.index = Some(
                        self.groups
                            .iter()
                            .enumerate()
                            .map(|(i, g)| ((g.label, g.layout), i))
                            .collect(),
                    );
                }
                g
            }
        };
        Ok(g)
    }
}

/// Which entries of a `totals` pack can answer a query (see `totals`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TotalsUse {
    /// None: the filter restricts a dims dimension other than the OS.
    No,
    /// The sums over all dims: the filter restricts no dims dimension.
    AllDims,
    /// The per-OS sums over all processes: the filter restricts the OS, no other dims
    /// dimension, and admits every process.
    PerOs,
}

/// A metric query pushed down to stored ids.
pub(crate) struct Plan<'q> {
    query: &'q SeriesQuery,
    nf: NormalForm,
    processes: [bool; 3],
    /// Whether each dims id is admitted; for an OS key, whether its OS is (when the filter
    /// restricts no other dims dimension).
    dims_ok: Vec<bool>,
    totals: TotalsUse,
    /// The metric's id.
    pub(crate) metric_id: i64,
    /// The admitted label ids, sorted; `None` admits every label.
    pub(crate) label_ids: Option<Vec<i64>>,
}

impl<'q> Plan<'q> {
    /// The plan of `query`; `None` when nothing stored can match it (the answer is empty).
    pub(crate) fn new(names: &Names, query: &'q SeriesQuery) -> Option<Self> {
        let &metric_id = names.metric_ids.get(&query.metric)?;
        let nf = query.filter.normal_form();
        let metric_ok = nf
            .allowed
            .get(&Dimension::Metric)
            .is_none_or(|set| set.contains(&query.metric));
        if nf.is_empty() || !metric_ok {
            return None;
        }
        let processes: [bool; 3] = Process::ALL.map(|p| {
            nf.allowed
                .get(&Dimension::Child)
                .is_none_or(|set| set.contains(p.as_str()))
        });
        let dims_ok: Vec<bool> = names
            .dims
            .iter()
            .map(|d| d.as_ref().is_some_and(|d| admits_dims(&nf, d)))
            .collect();
        let label_ids: Option<Vec<i64>> = nf.allowed.get(&Dimension::Label).map(|set| {
            let mut ids: Vec<i64> = set
                .iter()
                .filter_map(|l| names.label_ids.get(l.as_str()).copied())
                .collect();
            ids.sort_unstable();
            ids
        });
        if label_ids.as_ref().is_some_and(Vec::is_empty) {
            return None;
        }
        let restricted = |d: &Dimension| nf.allowed.contains_key(d);
        let others = [
            Dimension::Application,
            Dimension::Architecture,
            Dimension::OsVersion,
        ];
        let every_process = processes.iter().all(|&p| p);
        let totals = match (nf.exact, others.iter().any(restricted)) {
            (true, false) if !restricted(&Dimension::Os) => TotalsUse::AllDims,
            (true, false) if every_process => TotalsUse::PerOs,
            _ => TotalsUse::No,
        };
        Some(Plan {
            query,
            nf,
            processes,
            dims_ok,
            totals,
            metric_id,
            label_ids,
        })
    }

    /// The process of a pack entry, `None` when the filter leaves it out.
    fn process(&self, code: u64) -> Result<Option<Process>> {
        let child = process(code)?;
        Ok(self.processes[child as usize].then_some(child))
    }

    /// True when `totals` rows of `fold` can answer: the filter restricts no dims dimension,
    /// or (without replicate groups) only the OS and not the process.
    pub(crate) fn uses_totals(&self, fold: Fold) -> bool {
        match self.totals {
            TotalsUse::No => false,
            TotalsUse::AllDims => true,
            TotalsUse::PerOs => fold == Fold::AllDims,
        }
    }

    /// Adds the admitted entries of a `series` pack of `label` to `groups`.
    #[cfg(feature = "postgres")]
    pub(crate) fn series_row(
        &self,
        names: &Names,
        groups: &mut Groups,
        label: i64,
        pack: &[u8],
    ) -> Result<()> {
        self.series_row_as(
            names,
            Fold::AllDims,
            std::slice::from_mut(groups),
            label,
            pack,
        )
    }

    /// `series_row` for a pack of `fold`'s kind: with [`Fold::PerGroup`] (a replicate
    /// pack), each entry goes to `groups[its group]`.
    pub(crate) fn series_row_as(
        &self,
        names: &Names,
        fold: Fold,
        groups: &mut [Groups],
        label: i64,
        pack: &[u8],
    ) -> Result<()> {
        for entry in codec::entries(pack)? {
            let entry = entry?;
            let Some(child) = self.process(entry.process)? else {
                continue;
            };
            let (dims_id, group) = match fold {
                Fold::AllDims => (entry.dims, 0),
                Fold::PerGroup => split_replicate_dims(entry.dims),
            };
            let admitted = usize::try_from(dims_id)
                .ok()
                .and_then(|i| self.dims_ok.get(i).copied());
            match admitted {
                Some(true) => {}
                Some(false) => continue,
                None => return Err(corrupt(format!("unknown dims id {dims_id}"))),
            }
            if !self.nf.exact {
                let dims = names.dims(dims_id)?;
                let row_dims = RowDims {
                    metric: &self.query.metric,
                    application: &dims.application,
                    architecture: &dims.architecture,
                    os: &dims.os,
                    os_version: &dims.os_version,
                    child,
                    label: names.label(label)?,
                };
                if !self.query.filter.matches(&row_dims) {
                    continue;
                }
            }
            group_at(groups, group)?.add(names, label, entry.layout, entry.hist)?;
        }
        Ok(())
    }

    /// Adds the admitted entries of a `totals` pack of `label` to `groups`. Returns `false`,
    /// adding nothing, when the totals could not be made: the caller then reads the row's
    /// `series` pack (`series_row`), which answers (or reports what is wrong).
    #[cfg(feature = "postgres")]
    pub(crate) fn totals_row(
        &self,
        names: &Names,
        groups: &mut Groups,
        label: i64,
        data: &[u8],
    ) -> Result<bool> {
        self.totals_row_as(
            names,
            Fold::AllDims,
            std::slice::from_mut(groups),
            label,
            data,
        )
    }

    /// `totals_row` for a totals pack made with `fold`: with [`Fold::PerGroup`], each
    /// entry goes to `groups[its group]`.
    pub(crate) fn totals_row_as(
        &self,
        names: &Names,
        fold: Fold,
        groups: &mut [Groups],
        label: i64,
        data: &[u8],
    ) -> Result<bool> {
        if fold == Fold::AllDims && self.totals == TotalsUse::PerOs {
            return self.per_os_row(names, groups, label, data);
        }
        self.sums_row(names, fold, groups, label, data)
    }

    /// `totals_row_as` from the sums over all dims of a totals pack (per process; per
    /// process or over all of them for [`Fold::PerGroup`]).
    fn sums_row(
        &self,
        names: &Names,
        fold: Fold,
        groups: &mut [Groups],
        label: i64,
        data: &[u8],
    ) -> Result<bool> {
        let summed_all = |process: u64| process == u64::from(ALL_PROCESSES);
        let summed = |process: u64| fold == Fold::PerGroup && summed_all(process);
        let Ok(entries) = codec::entries(data) else {
            return Ok(false);
        };
        // The entries to add, each checked complete before any is added: a pack that cannot
        // answer for them adds nothing. Entries it does not read need not be complete.
        let mut taken = Vec::new();
        // The sums over all processes, when the pack has them (first) and every process is
        // admitted: they alone answer.
        let mut every_process = None;
        for entry in entries {
            let Ok(entry) = entry else {
                return Ok(false);
            };
            if fold == Fold::AllDims
                && (entry.dims != totals::ALL_DIMS || summed_all(entry.process))
            {
                // Past the sums over all dims: the per-OS sums follow.
                break;
            }
            let all = *every_process
                .get_or_insert_with(|| self.processes.iter().all(|&p| p) && summed(entry.process));
            let take = if summed(entry.process) {
                all
            } else if all {
                // Past the sums over all processes: nothing more to read.
                break;
            } else {
                self.process(entry.process)?.is_some()
            };
            if take {
                if !totals::is_complete_entry(&entry, fold) {
                    return Ok(false);
                }
                taken.push(entry);
            }
        }
        for entry in taken {
            let group = match fold {
                Fold::AllDims => 0,
                Fold::PerGroup => entry.dims,
            };
            group_at(groups, group)?.add(names, label, entry.layout, entry.hist)?;
        }
        Ok(true)
    }

    /// `totals_row` from the per-OS sums of a totals pack (a query restricting the OS, no
    /// other dims dimension, and admitting every process). Returns `false`, adding nothing,
    /// when the pack has no per-OS sums (written before they existed, or of a dims id of
    /// unknown OS), or when a sum it needs could not be made or does not add up.
    ///
    /// The pack's rest OS (see [`totals::REST_OS`]), when admitted, is the sums over all dims
    /// less the OSes not admitted; otherwise the admitted OSes' sums are added.
    fn per_os_row(
        &self,
        names: &Names,
        groups: &mut [Groups],
        label: i64,
        data: &[u8],
    ) -> Result<bool> {
        let Ok(entries) = codec::entries(data) else {
            return Ok(false);
        };
        let mut all_dims = Vec::new();
        // (admitted, entry) of each written OS sum.
        let mut per_os = Vec::new();
        // Whether the rest OS is admitted, and its layouts.
        let mut rest = None;
        for entry in entries {
            let Ok(entry) = entry else {
                return Ok(false);
            };
            if entry.process != u64::from(ALL_PROCESSES) {
                if entry.dims == totals::ALL_DIMS {
                    all_dims.push(entry);
                }
                continue;
            }
            let admitted = usize::try_from(entry.dims)
                .ok()
                .and_then(|i| self.dims_ok.get(i).copied());
            // Not an OS key this store knows: the pack answers.
            let Some(admitted) = admitted else {
                return Ok(false);
            };
            if entry.layout == totals::REST_OS {
                let Some(layouts) = rest_layouts(entry.hist) else {
                    return Ok(false);
                };
                rest = Some((admitted, layouts));
            } else {
                per_os.push((admitted, entry));
            }
        }
        let Some((rest_admitted, rest_layouts)) = rest else {
            return Ok(false);
        };
        let needed = |e: &codec::Entry<'_>| totals::is_complete_entry(e, Fold::AllDims);
        if !rest_admitted {
            let taken: Vec<_> = per_os.iter().filter(|(a, _)| *a).map(|(_, e)| e).collect();
            if !taken.iter().all(|e| needed(e)) {
                return Ok(false);
            }
            for entry in taken {
                group_at(groups, 0)?.add(names, label, entry.layout, entry.hist)?;
            }
            return Ok(true);
        }
        // The sums over all dims less the OSes not admitted, for each layout that an admitted
        // OS has (the others come out empty, and the packs would answer nothing for them).
        let left_out: Vec<_> = per_os.iter().filter(|(a, _)| !*a).map(|(_, e)| e).collect();
        if !all_dims.iter().chain(left_out.iter().copied()).all(needed) {
            return Ok(false);
        }
        let mut layouts = rest_layouts;
        layouts.extend(per_os.iter().filter(|(a, _)| *a).map(|(_, e)| e.layout));
        layouts.sort_unstable();
        layouts.dedup();
        let mut sums = Vec::with_capacity(layouts.len());
        for layout in layouts {
            let mut whole = all_dims.iter().filter(|e| e.layout == layout).peekable();
            if whole.peek().is_none() {
                // An OS's layout that no process has: the totals do not add up.
                return Ok(false);
            }
            // A layout id the store does not know (a damaged list): the pack answers.
            let Ok(spec) = names.layout(layout) else {
                return Ok(false);
            };
            let mut acc = Accumulator::new(spec.len());
            if whole.any(|e| acc.add_blob(e.hist).is_err()) {
                return Ok(false);
            }
            let mut less = left_out.iter().filter(|e| e.layout == layout);
            if !less.all(|e| acc.sub_blob(e.hist)) {
                return Ok(false);
            }
            sums.push((layout, acc));
        }
        for (layout, acc) in sums {
            group_at(groups, 0)?.add_sum(names, label, layout, &acc)?;
        }
        Ok(true)
    }
}

/// The layout ids of a rest-OS entry (see [`totals::REST_OS`]); `None` when it cannot be read.
fn rest_layouts(list: &[u8]) -> Option<SmallVec<[i64; 4]>> {
    let mut pos = 0;
    let mut layouts = SmallVec::new();
    while pos < list.len() {
        let id = codec::varint_at(list, &mut pos).ok()?;
        layouts.push(i64::try_from(id).ok()?);
    }
    Some(layouts)
}

/// `groups[group]`; a group beyond the store's count is a corrupt pack.
fn group_at(groups: &mut [Groups], group: i64) -> Result<&mut Groups> {
    let n = groups.len();
    usize::try_from(group)
        .ok()
        .and_then(|g| groups.get_mut(g))
        .ok_or_else(|| corrupt(format!("replicate group {group} of a store of {n} groups")))
}

/// The answer's rows: for each date in order, its groups by label, then layout.
pub(crate) fn finish(
    names: &Names,
    dates: impl IntoIterator<Item = (Date, Groups)>,
) -> Result<Vec<QueryRow>> {
    let mut out = Vec::new();
    let mut finished: Vec<(&str, LayoutSpec, Accumulator)> = Vec::new();
    for (date, groups) in dates {
        finished.clear();
        for g in groups.groups {
            finished.push((names.label(g.label)?, names.layout(g.layout)?, g.acc));
        }
        finished.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        out.reserve(finished.len());
        for (label, layout, acc) in finished.drain(..) {
            out.push(QueryRow {
                date,
                label: label.to_string(),
                histogram: acc.into_histogram(layout)?,
            });
        }
    }
    Ok(out)
}
