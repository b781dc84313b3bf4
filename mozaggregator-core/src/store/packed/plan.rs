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
use crate::error::Result;
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
        self.groups[g].acc.add_blob(hist)
    }
}

/// A metric query pushed down to stored ids.
pub(crate) struct Plan<'q> {
    query: &'q SeriesQuery,
    nf: NormalForm,
    processes: [bool; 3],
    dims_ok: Vec<bool>,
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
        Some(Plan {
            query,
            nf,
            processes,
            dims_ok,
            metric_id,
            label_ids,
        })
    }

    /// The process of a pack entry, `None` when the filter leaves it out.
    fn process(&self, code: u64) -> Result<Option<Process>> {
        let child = process(code)?;
        Ok(self.processes[child as usize].then_some(child))
    }

    /// True when the filter admits every dims combination, so that `totals` rows can answer.
    pub(crate) fn uses_totals(&self) -> bool {
        self.nf.exact
            && [
                Dimension::Application,
                Dimension::Architecture,
                Dimension::Os,
                Dimension::OsVersion,
            ]
            .iter()
            .all(|d| !self.nf.allowed.contains_key(d))
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
        let summed = |process: u64| fold == Fold::PerGroup && process == u64::from(ALL_PROCESSES);
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
