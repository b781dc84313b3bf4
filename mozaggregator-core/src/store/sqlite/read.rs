//! The read path: listings, filter options, metric queries and scans. Every function runs
//! inside the caller's read transaction, with an interning cache complete for its snapshot.

use std::collections::{BTreeSet, HashSet};

use hashbrown::HashMap;
use rusqlite::{params, Connection, OptionalExtension};

use super::cache::ReadCache;
use super::codec::{self, Accumulator};
use super::fault::corrupt;
use super::schema::{prefix_code, prefix_from_code, OPTION_DIMS, OPTION_METRIC, OPTION_PROCESS};
use super::totals;
use crate::error::Result;
use crate::filter::{Dimension, NormalForm, RowDims};
use crate::histogram::Histogram;
use crate::keys::{DateVersion, Dims, Prefix, Process, SeriesKey, Target};
use crate::layout::LayoutSpec;
use crate::store::{FilterOptions, QueryRow, Selection, SeriesQuery};

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The stored data version counter.
pub(super) fn stored_version(conn: &Connection) -> Result<u64> {
    let v: i64 = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'data_version'")?
        .query_row([], |r| r.get(0))?;
    u64::try_from(v).map_err(|_| corrupt(format!("negative data version {v}")))
}

pub(super) fn channels(conn: &Connection, prefix: Prefix) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT channel FROM targets WHERE prefix = ?1 ORDER BY channel",
    )?;
    let rows = stmt.query_map([prefix_code(prefix)], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn dates(conn: &Connection, prefix: Prefix, channel: &str) -> Result<Vec<DateVersion>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT date, version FROM targets WHERE prefix = ?1 AND channel = ?2
         ORDER BY date DESC, version DESC",
    )?;
    let rows = stmt.query_map(params![prefix_code(prefix), channel], |r| {
        Ok(DateVersion {
            date: r.get(0)?,
            version: r.get(1)?,
        })
    })?;
    let mut dates = rows.collect::<rusqlite::Result<_>>()?;
    // Versions order as numbers, which SQL's text order cannot do.
    crate::keys::sort_dates(&mut dates);
    Ok(dates)
}

/// The id of `target`, `None` when it has no table.
pub(super) fn target_id(conn: &Connection, target: &Target) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM targets WHERE prefix = ?1 AND channel = ?2 AND version = ?3
             AND date = ?4",
        )?
        .query_row(
            params![
                prefix_code(target.prefix),
                target.channel,
                target.version,
                target.date
            ],
            |r| r.get(0),
        )
        .optional()?)
}

pub(super) fn absorbed(conn: &Connection, target: &Target) -> Result<BTreeSet<String>> {
    let Some(id) = target_id(conn, target)? else {
        return Ok(BTreeSet::new());
    };
    let mut stmt =
        conn.prepare_cached("SELECT submission_date FROM absorbed WHERE target_id = ?1")?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn blob_at<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> Result<&'r [u8]> {
    row.get_ref(i)?
        .as_blob()
        .map_err(|e| corrupt(format!("histogram column: {e}")))
}

/// The process of a stored code (an `options` value or a pack entry's).
fn process<C: Copy + std::fmt::Display + TryInto<i64>>(code: C) -> Result<Process> {
    code.try_into()
        .ok()
        .and_then(Process::from_code)
        .ok_or_else(|| corrupt(format!("unknown process code {code}")))
}

pub(super) fn filter_options(
    conn: &Connection,
    cache: &ReadCache,
    channel: &str,
    version: &str,
) -> Result<Option<FilterOptions>> {
    let mut stmt =
        conn.prepare_cached("SELECT kind, value FROM options WHERE channel = ?1 AND version = ?2")?;
    let mut rows = stmt.query(params![channel, version])?;
    let mut options = FilterOptions::default();
    let mut any = false;
    while let Some(row) = rows.next()? {
        let (kind, value): (i64, i64) = (row.get(0)?, row.get(1)?);
        match kind {
            OPTION_METRIC => {
                any = true;
                options.metric.insert(cache.metric(value)?.to_string());
            }
            OPTION_PROCESS => {
                options.child.insert(process(value)?);
            }
            OPTION_DIMS => {
                let dims = cache.dims(value)?;
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
struct Groups {
    groups: Vec<Group>,
    index: Map<(i64, i64), usize>,
}

impl Groups {
    /// Adds an encoded histogram to the (label, layout) group.
    fn add(&mut self, cache: &ReadCache, label: i64, layout: i64, hist: &[u8]) -> Result<()> {
        let last = self.groups.len().checked_sub(1);
        let g = match last
            .filter(|&i| self.groups[i].label == label && self.groups[i].layout == layout)
        {
            Some(i) => i,
            None => match self.index.get(&(label, layout)) {
                Some(&i) => i,
                None => {
                    let spec = cache.layout(layout)?;
                    self.groups.push(Group {
                        label,
                        layout,
                        acc: Accumulator::new(spec.len()),
                    });
                    self.index.insert((label, layout), self.groups.len() - 1);
                    self.groups.len() - 1
                }
            },
        };
        self.groups[g].acc.add_blob(hist)
    }
}

/// What passes a query's filter, pushed down to stored ids.
struct Admit<'q> {
    query: &'q SeriesQuery,
    nf: NormalForm,
    processes: [bool; 3],
    dims_ok: Vec<bool>,
}

impl Admit<'_> {
    /// The process of a pack entry, `None` when the filter leaves it out.
    fn process(&self, code: u64) -> Result<Option<Process>> {
        let child = process(code)?;
        Ok(self.processes[child as usize].then_some(child))
    }

    /// Adds the admitted entries of a `series` pack to `groups`.
    fn series_row(
        &self,
        cache: &ReadCache,
        groups: &mut Groups,
        label: i64,
        pack: &[u8],
    ) -> Result<()> {
        for entry in codec::entries(pack)? {
            let entry = entry?;
            let Some(child) = self.process(entry.process)? else {
                continue;
            };
            let admitted = usize::try_from(entry.dims)
                .ok()
                .and_then(|i| self.dims_ok.get(i).copied());
            match admitted {
                Some(true) => {}
                Some(false) => continue,
                None => return Err(corrupt(format!("unknown dims id {}", entry.dims))),
            }
            if !self.nf.exact {
                let dims = cache.dims(entry.dims)?;
                let row_dims = RowDims {
                    metric: &self.query.metric,
                    application: &dims.application,
                    architecture: &dims.architecture,
                    os: &dims.os,
                    os_version: &dims.os_version,
                    child,
                    label: cache.label(label)?,
                };
                if !self.query.filter.matches(&row_dims) {
                    continue;
                }
            }
            groups.add(cache, label, entry.layout, entry.hist)?;
        }
        Ok(())
    }

    /// True when the filter admits every dims combination, so that `totals` can answer.
    fn all_dims(&self) -> bool {
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
}

pub(super) fn query(
    conn: &Connection,
    cache: &ReadCache,
    q: &SeriesQuery,
) -> Result<Vec<QueryRow>> {
    let Some(&metric_id) = cache.metric_ids.get(&q.metric) else {
        return Ok(Vec::new());
    };
    let nf = q.filter.normal_form();
    let metric_ok = nf
        .allowed
        .get(&Dimension::Metric)
        .is_none_or(|set| set.contains(&q.metric));
    if nf.is_empty() || !metric_ok {
        return Ok(Vec::new());
    }
    // Push-down: which processes, dims combinations and labels pass.
    let processes: [bool; 3] = Process::ALL.map(|p| {
        nf.allowed
            .get(&Dimension::Child)
            .is_none_or(|set| set.contains(p.as_str()))
    });
    let dims_ok: Vec<bool> = cache
        .dims
        .iter()
        .map(|d| d.as_ref().is_some_and(|d| admits_dims(&nf, d)))
        .collect();
    let label_ids: Option<Vec<i64>> = nf.allowed.get(&Dimension::Label).map(|set| {
        let mut ids: Vec<i64> = set
            .iter()
            .filter_map(|l| cache.label_ids.get(l.as_str()).copied())
            .collect();
        ids.sort_unstable();
        ids
    });
    if label_ids.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    let admit = Admit {
        query: q,
        nf,
        processes,
        dims_ok,
    };
    let table = if admit.all_dims() { "totals" } else { "series" };

    let mut targets: Map<String, i64> = Map::default();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT date, id FROM targets WHERE prefix = ?1 AND channel = ?2 AND version = ?3",
        )?;
        let mut rows = stmt.query(params![prefix_code(q.prefix), q.channel, q.version])?;
        while let Some(row) = rows.next()? {
            targets.insert(row.get(0)?, row.get(1)?);
        }
    }

    // The requested dates that have a table, each once, in request order.
    let mut seen: HashSet<&str> = HashSet::new();
    let wanted: Vec<(&String, i64)> = q
        .dates
        .iter()
        .filter(|d| seen.insert(d.as_str()))
        .filter_map(|d| targets.get(d.as_str()).map(|&id| (d, id)))
        .collect();
    let slot: Map<i64, usize> = wanted
        .iter()
        .enumerate()
        .map(|(i, &(_, id))| (id, i))
        .collect();
    let mut groups: Vec<Groups> = wanted.iter().map(|_| Groups::default()).collect();
    let mut series_row = conn.prepare_cached(
        "SELECT data FROM series WHERE target_id = ?1 AND metric_id = ?2 AND label_id = ?3",
    )?;
    let mut visit = |row: &rusqlite::Row<'_>| -> Result<()> {
        let target_id: i64 = row.get(0)?;
        let Some(groups) = slot.get(&target_id).and_then(|&i| groups.get_mut(i)) else {
            // A neighbour in a range scan of `totals`, not asked for.
            return Ok(());
        };
        let label: i64 = row.get(1)?;
        if table == "series" {
            return admit.series_row(cache, groups, label, blob_at(row, 2)?);
        }
        let data = row.get_ref(2)?.as_blob().unwrap_or_default();
        if !totals::is_complete(data) {
            // A sum that could not be made: the pack answers (and reports what is wrong).
            let pack: Option<Vec<u8>> = series_row
                .query_row(params![target_id, metric_id, label], |r| r.get(0))
                .optional()?;
            let pack =
                pack.ok_or_else(|| corrupt(format!("totals without series for label id {label}")))?;
            return admit.series_row(cache, groups, label, &pack);
        }
        for entry in codec::entries(data)? {
            let entry = entry?;
            if admit.process(entry.process)?.is_some() {
                groups.add(cache, label, entry.layout, entry.hist)?;
            }
        }
        Ok(())
    };
    let (lo, hi) = wanted
        .iter()
        .fold((i64::MAX, i64::MIN), |(lo, hi), &(_, id)| {
            (lo.min(id), hi.max(id))
        });
    let span = u64::try_from(hi.saturating_sub(lo)).unwrap_or(u64::MAX);
    if table == "totals" && label_ids.is_none() && span < 4 * wanted.len() as u64 {
        // Dense target ids (a channel's consecutive dates): one range scan of the metric.
        let mut stmt = conn.prepare_cached(
            "SELECT target_id, label_id, data FROM totals
             WHERE metric_id = ?1 AND target_id BETWEEN ?2 AND ?3",
        )?;
        let mut rows = stmt.query(params![metric_id, lo, hi])?;
        while let Some(row) = rows.next()? {
            visit(row)?;
        }
    } else {
        let key = if table == "totals" {
            "metric_id = ?2 AND target_id = ?1"
        } else {
            "target_id = ?1 AND metric_id = ?2"
        };
        let mut all_rows = conn.prepare_cached(&format!(
            "SELECT target_id, label_id, data FROM {table} WHERE {key}"
        ))?;
        let mut label_rows = conn.prepare_cached(&format!(
            "SELECT target_id, label_id, data FROM {table} WHERE {key} AND label_id = ?3"
        ))?;
        for &(_, target_id) in &wanted {
            match &label_ids {
                None => {
                    let mut rows = all_rows.query(params![target_id, metric_id])?;
                    while let Some(row) = rows.next()? {
                        visit(row)?;
                    }
                }
                Some(ids) => {
                    for &label in ids {
                        let mut rows = label_rows.query(params![target_id, metric_id, label])?;
                        while let Some(row) = rows.next()? {
                            visit(row)?;
                        }
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for (&(date, _), groups) in wanted.iter().zip(groups) {
        let mut finished: Vec<(&str, LayoutSpec, Accumulator)> = groups
            .groups
            .into_iter()
            .map(|g| Ok((cache.label(g.label)?, cache.layout(g.layout)?, g.acc)))
            .collect::<Result<_>>()?;
        finished.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        for (label, layout, acc) in finished {
            out.push(QueryRow {
                date: date.clone(),
                label: label.to_string(),
                histogram: acc.into_histogram(layout)?,
            });
        }
    }
    Ok(out)
}

pub(super) fn scan(
    conn: &Connection,
    cache: &ReadCache,
    selection: &Selection,
    visit: &mut dyn FnMut(&Target, &SeriesKey, &Histogram) -> Result<()>,
) -> Result<()> {
    let mut targets: Vec<(Target, i64)> = Vec::new();
    {
        let mut stmt =
            conn.prepare_cached("SELECT id, prefix, channel, version, date FROM targets")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let target = Target {
                prefix: prefix_from_code(row.get(1)?)?,
                channel: row.get(2)?,
                version: row.get(3)?,
                date: row.get(4)?,
            };
            if selection.matches(&target) {
                targets.push((target, row.get(0)?));
            }
        }
    }
    targets.sort();
    let mut stmt =
        conn.prepare_cached("SELECT metric_id, label_id, data FROM series WHERE target_id = ?1")?;
    for (target, id) in &targets {
        let mut series: Vec<(SeriesKey, LayoutSpec, Histogram)> = Vec::new();
        let mut rows = stmt.query([id])?;
        while let Some(row) = rows.next()? {
            let metric = cache.metric(row.get(0)?)?;
            let label = cache.label(row.get(1)?)?;
            for entry in codec::entries(blob_at(row, 2)?)? {
                let entry = entry?;
                let layout = cache.layout(entry.layout)?;
                let key = SeriesKey {
                    metric: metric.to_string(),
                    label: label.to_string(),
                    process: process(i64::try_from(entry.process).unwrap_or(-1))?,
                    dims: cache.dims(entry.dims)?.clone(),
                };
                series.push((key, layout, codec::decode(entry.hist, layout)?));
            }
        }
        series.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        for (key, _, histogram) in &series {
            visit(target, key, histogram)?;
        }
    }
    Ok(())
}
