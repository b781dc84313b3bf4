//! The read path: listings, filter options, metric queries and scans. Every function runs
//! inside the caller's read transaction, with an interning cache complete for its snapshot.

use std::collections::{BTreeSet, HashSet};

use hashbrown::HashMap;
use rusqlite::{params, Connection, OptionalExtension};

use super::fault::corrupt;
use crate::date::Date;
use crate::error::Result;
use crate::histogram::Histogram;
use crate::keys::{DateVersion, Prefix, SeriesKey, Target};
use crate::layout::LayoutSpec;
use crate::replicate::ReplicateCount;
use crate::store::packed::codec;
use crate::store::packed::codes::{date_from_text, prefix_code, prefix_from_code};
use crate::store::packed::names::Names;
use crate::store::packed::options;
use crate::store::packed::plan::{self, process, Groups, Plan};
use crate::store::packed::totals::Fold;
use crate::store::replicates::{query_count, target_count};
use crate::store::{FilterOptions, QueryRow, ReplicateRows, Selection, SeriesQuery};

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
    let mut rows = stmt.query(params![prefix_code(prefix), channel])?;
    let mut dates = Vec::new();
    while let Some(r) = rows.next()? {
        dates.push(DateVersion {
            date: date_at(r, 0)?,
            version: r.get(1)?,
        });
    }
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

pub(super) fn absorbed(conn: &Connection, target: &Target) -> Result<BTreeSet<Date>> {
    let Some(id) = target_id(conn, target)? else {
        return Ok(BTreeSet::new());
    };
    let mut stmt =
        conn.prepare_cached("SELECT submission_date FROM absorbed WHERE target_id = ?1")?;
    let mut rows = stmt.query([id])?;
    let mut out = BTreeSet::new();
    while let Some(r) = rows.next()? {
        out.insert(date_at(r, 0)?);
    }
    Ok(out)
}

/// The date in column `i` of `row` (stored as `YYYYMMDD` text); anything else is a corrupt
/// store.
pub(super) fn date_at(row: &rusqlite::Row<'_>, i: usize) -> Result<Date> {
    let text = row
        .get_ref(i)?
        .as_str()
        .map_err(|e| corrupt(format!("date column: {e}")))?;
    date_from_text(text)
}

fn blob_at<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> Result<&'r [u8]> {
    row.get_ref(i)?
        .as_blob()
        .map_err(|e| corrupt(format!("histogram column: {e}")))
}

pub(super) fn filter_options(
    conn: &Connection,
    cache: &Names,
    channel: &str,
    version: &str,
) -> Result<Option<FilterOptions>> {
    let mut stmt =
        conn.prepare_cached("SELECT kind, value FROM options WHERE channel = ?1 AND version = ?2")?;
    let pairs = stmt
        .query_map(params![channel, version], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<(i64, i64)>>>()?;
    options::filter_options(cache, pairs)
}

pub(super) fn query(conn: &Connection, names: &Names, q: &SeriesQuery) -> Result<Vec<QueryRow>> {
    let Some(plan) = Plan::new(names, q) else {
        return Ok(Vec::new());
    };
    let wanted = wanted_targets(conn, q)?;
    let groups = gather(conn, names, &plan, &wanted, Fold::AllDims, 1)?;
    let dates = wanted.iter().map(|&(d, _)| d);
    plan::finish(names, dates.zip(groups.into_iter().flatten()))
}

/// The query once per replicate group (see [`crate::Store::replicates`]).
pub(super) fn replicates(
    conn: &Connection,
    names: &Names,
    q: &SeriesQuery,
) -> Result<Option<ReplicateRows>> {
    let wanted = wanted_targets(conn, q)?;
    let mut per_date = Vec::with_capacity(wanted.len());
    let mut stmt = conn
        .prepare_cached("SELECT submission_date, replicates FROM absorbed WHERE target_id = ?1")?;
    for &(date, id) in &wanted {
        let mut rows = stmt.query([id])?;
        let mut absorbed = Vec::new();
        while let Some(row) = rows.next()? {
            let r: i64 = row.get(1)?;
            let count = match r {
                0 => None,
                r => Some(
                    u32::try_from(r)
                        .ok()
                        .and_then(|r| ReplicateCount::new(r).ok())
                        .ok_or_else(|| corrupt(format!("stored replicate count {r}")))?,
                ),
            };
            absorbed.push((date_at(row, 0)?, count));
        }
        let target = Target {
            prefix: q.prefix,
            channel: q.channel.clone(),
            version: q.version.clone(),
            date,
        };
        per_date.push((date, target_count(&target, absorbed)?));
    }
    let Some(count) = query_count(per_date)? else {
        return Ok(None);
    };
    let mut groups: Vec<Vec<QueryRow>> = vec![Vec::new(); count.get()];
    let Some(plan) = Plan::new(names, q) else {
        return Ok(Some(ReplicateRows { count, groups }));
    };
    let mut gathered = gather(conn, names, &plan, &wanted, Fold::PerGroup, count.get())?;
    for (g, out) in groups.iter_mut().enumerate() {
        let dates = wanted.iter().map(|&(d, _)| d);
        let of_group = gathered
            .iter_mut()
            .map(|per_group| std::mem::take(&mut per_group[g]));
        *out = plan::finish(names, dates.zip(of_group))?;
    }
    Ok(Some(ReplicateRows { count, groups }))
}

/// The requested dates of a query that have a table, each once, in request order, with the
/// table's id.
fn wanted_targets(conn: &Connection, q: &SeriesQuery) -> Result<Vec<(Date, i64)>> {
    let mut targets: Map<Date, i64> = Map::default();
    let mut stmt = conn.prepare_cached(
        "SELECT date, id FROM targets WHERE prefix = ?1 AND channel = ?2 AND version = ?3",
    )?;
    let mut rows = stmt.query(params![prefix_code(q.prefix), q.channel, q.version])?;
    while let Some(row) = rows.next()? {
        targets.insert(date_at(row, 0)?, row.get(1)?);
    }
    let mut seen: HashSet<Date> = HashSet::new();
    Ok(q.dates
        .iter()
        .filter(|d| seen.insert(**d))
        .filter_map(|d| targets.get(d).map(|&id| (*d, id)))
        .collect())
}

/// Sums what `plan` admits of the `wanted` tables, from the tables of `fold`: for each wanted
/// date, `width` groups (one without replicates).
fn gather(
    conn: &Connection,
    names: &Names,
    plan: &Plan<'_>,
    wanted: &[(Date, i64)],
    fold: Fold,
    width: usize,
) -> Result<Vec<Vec<Groups>>> {
    let metric_id = plan.metric_id;
    let (series_table, totals_table) = super::schema::tables(fold);
    let use_totals = plan.uses_totals(fold);
    let table = if use_totals {
        totals_table
    } else {
        series_table
    };
    let slot: Map<i64, usize> = wanted
        .iter()
        .enumerate()
        .map(|(i, &(_, id))| (id, i))
        .collect();
    let mut groups: Vec<Vec<Groups>> = wanted
        .iter()
        .map(|_| (0..width).map(|_| Groups::default()).collect())
        .collect();
    let mut series_row = conn.prepare_cached(&format!(
        "SELECT data FROM {series_table} WHERE target_id = ?1 AND metric_id = ?2 AND label_id = ?3"
    ))?;
    let mut visit = |row: &rusqlite::Row<'_>| -> Result<()> {
        let target_id: i64 = row.get(0)?;
        let Some(groups) = slot.get(&target_id).and_then(|&i| groups.get_mut(i)) else {
            // A neighbour in a range scan of totals, not asked for.
            return Ok(());
        };
        let label: i64 = row.get(1)?;
        if !use_totals {
            return plan.series_row_as(names, fold, groups, label, blob_at(row, 2)?);
        }
        let data = row.get_ref(2)?.as_blob().unwrap_or_default();
        if plan.totals_row_as(names, fold, groups, label, data)? {
            return Ok(());
        }
        let pack: Option<Vec<u8>> = series_row
            .query_row(params![target_id, metric_id, label], |r| r.get(0))
            .optional()?;
        let pack =
            pack.ok_or_else(|| corrupt(format!("totals without series for label id {label}")))?;
        plan.series_row_as(names, fold, groups, label, &pack)
    };
    let (lo, hi) = wanted
        .iter()
        .fold((i64::MAX, i64::MIN), |(lo, hi), &(_, id)| {
            (lo.min(id), hi.max(id))
        });
    let span = u64::try_from(hi.saturating_sub(lo)).unwrap_or(u64::MAX);
    if use_totals && plan.label_ids.is_none() && span < 4 * wanted.len() as u64 {
        // Dense target ids (a channel's consecutive dates): one range scan of the metric.
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT target_id, label_id, data FROM {table}
             WHERE metric_id = ?1 AND target_id BETWEEN ?2 AND ?3"
        ))?;
        let mut rows = stmt.query(params![metric_id, lo, hi])?;
        while let Some(row) = rows.next()? {
            visit(row)?;
        }
    } else {
        let key = if use_totals {
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
        for &(_, target_id) in wanted {
            match &plan.label_ids {
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
    Ok(groups)
}

pub(super) fn scan(
    conn: &Connection,
    cache: &Names,
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
                date: date_at(row, 4)?,
            };
            // Mobile tables hold no series: a scan never lists them.
            if target.prefix.is_desktop() && selection.matches(&target) {
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
