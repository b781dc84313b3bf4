//! The write path: merging batches and trimming old tables.

use std::collections::{BTreeMap, BTreeSet};

use hashbrown::HashMap;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::cache::WriteCache;
use super::codec;
use super::fault::corrupt;
use super::read::target_id;
use super::schema::layout_from_row;
use super::schema::{prefix_code, prefix_from_code, OPTION_DIMS, OPTION_METRIC, OPTION_PROCESS};
use super::totals;
use crate::error::Result;
use crate::histogram::Histogram;
use crate::keys::{check_date, Process, Target};
use crate::layout::LayoutSpec;
use crate::store::{check_row, check_target, Batch, RowReject, WriteReport};

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A `series` row of one target: (metric, label).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct RowKey {
    metric: i64,
    label: i64,
}

/// An entry of a pack: (process, dims, layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct EntryKey {
    process: u8,
    dims: i64,
    layout: i64,
}

/// An entry's histogram as it will be written.
enum Slot<'a> {
    /// Stored and untouched by this batch: copied as it is.
    Stored(Vec<u8>),
    /// The batch's own histogram (no copy).
    Borrowed(&'a Histogram),
    /// A merge.
    Owned(Histogram),
}

/// The entries of one row being written.
#[derive(Default)]
struct Pack<'a> {
    entries: BTreeMap<EntryKey, Slot<'a>>,
}

/// Writes one batch in one transaction (see the [`crate::Store`] contract).
pub(super) fn write(
    conn: &mut Connection,
    cache: &mut WriteCache,
    batch: &Batch,
) -> Result<WriteReport> {
    check_date("submission date", &batch.submission_date)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let result = write_in(&tx, cache, batch).and_then(|report| {
        tx.commit()?;
        Ok(report)
    });
    match result {
        Ok(report) => {
            cache.commit();
            Ok(report)
        }
        Err(e) => {
            cache.rollback();
            Err(e)
        }
    }
}

fn write_in(conn: &Connection, cache: &mut WriteCache, batch: &Batch) -> Result<WriteReport> {
    let mut report = WriteReport::default();
    let mut scratch = Vec::with_capacity(64);
    let mut blob = Vec::with_capacity(4096);
    let mut totals_blob = Vec::with_capacity(512);
    let mut lens = LayoutLens::default();
    for (target, rows) in &batch.tables {
        if let Err(reason) = check_target(target) {
            report.rows_rejected.add(reason, rows.len() as u64);
            continue;
        }
        let existing = target_id(conn, target)?;
        if let Some(id) = existing {
            let absorbed = conn
                .prepare_cached(
                    "SELECT 1 FROM absorbed WHERE target_id = ?1 AND submission_date = ?2",
                )?
                .exists(params![id, batch.submission_date])?;
            if absorbed {
                report.targets_skipped.push(target.clone());
                continue;
            }
        }
        let target_id = match existing {
            Some(id) => id,
            None => {
                conn.prepare_cached(
                    "INSERT INTO targets (prefix, channel, version, date) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![
                    prefix_code(target.prefix),
                    target.channel,
                    target.version,
                    target.date
                ])?;
                conn.last_insert_rowid()
            }
        };
        conn.prepare_cached("INSERT INTO absorbed (target_id, submission_date) VALUES (?1, ?2)")?
            .execute(params![target_id, batch.submission_date])?;
        report.targets_written += 1;

        // Merge the batch's rows into packs, loading stored packs on first touch.
        let mut packs: Map<RowKey, Pack<'_>> = Map::default();
        let mut layouts: Map<i64, LayoutSpec> = Map::default();
        for (key, histogram) in rows {
            if let Err(reason) = check_row(target, key, histogram) {
                report.rows_rejected.add(reason, 1);
                continue;
            }
            let row = RowKey {
                metric: cache.metric(conn, &key.metric)?,
                label: cache.label(conn, &key.label)?,
            };
            let entry = EntryKey {
                process: key.process.code(),
                dims: cache.dims(conn, &key.dims)?,
                layout: cache.layout(conn, histogram.layout())?,
            };
            layouts.insert(entry.layout, histogram.layout());
            if !packs.contains_key(&row) {
                let pack = match existing {
                    Some(_) => load(conn, target_id, row)?,
                    None => Pack::default(),
                };
                packs.insert(row, pack);
            }
            let Some(pack) = packs.get_mut(&row) else {
                continue;
            };
            match merge_into(pack, entry, histogram)? {
                Ok(()) => report.rows_written += 1,
                Err(reason) => report.rows_rejected.add(reason, 1),
            }
        }

        // Write the packs in key order; record the option values of what was added.
        let mut sorted: Vec<(RowKey, Pack<'_>)> = packs.into_iter().collect();
        sorted.sort_unstable_by_key(|(k, _)| *k);
        let mut options: BTreeSet<(i64, i64)> = BTreeSet::new();
        let mut upsert = conn.prepare_cached(
            "INSERT INTO series (target_id, metric_id, label_id, data) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (target_id, metric_id, label_id) DO UPDATE SET data = excluded.data",
        )?;
        let mut upsert_totals = conn.prepare_cached(
            "INSERT OR REPLACE INTO totals (target_id, metric_id, label_id, data)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (row, pack) in &sorted {
            codec::start_pack(&mut blob);
            let mut added = false;
            for (entry, slot) in &pack.entries {
                let h: &Histogram = match slot {
                    Slot::Stored(bytes) => {
                        codec::put_entry(&mut blob, entry.process, entry.dims, entry.layout, bytes);
                        continue;
                    }
                    Slot::Borrowed(h) => h,
                    Slot::Owned(h) => h,
                };
                if h.is_empty() {
                    continue;
                }
                scratch.clear();
                codec::encode(h.counts(), h.sum(), h.count(), &mut scratch);
                codec::put_entry(&mut blob, entry.process, entry.dims, entry.layout, &scratch);
                options.insert((OPTION_PROCESS, i64::from(entry.process)));
                options.insert((OPTION_DIMS, entry.dims));
                added = true;
            }
            if blob.len() > 1 {
                upsert.execute(params![target_id, row.metric, row.label, blob])?;
                totals::of_pack(&blob, |id| lens.get(conn, id), &mut totals_blob)?;
                upsert_totals.execute(params![target_id, row.metric, row.label, totals_blob])?;
            }
            if added {
                options.insert((OPTION_METRIC, row.metric));
            }
        }
        let mut per_target = conn.prepare_cached(
            "INSERT OR IGNORE INTO target_options (target_id, kind, value) VALUES (?1, ?2, ?3)",
        )?;
        let mut per_version = conn.prepare_cached(
            "INSERT OR IGNORE INTO options (channel, version, kind, value) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (kind, value) in &options {
            per_target.execute(params![target_id, kind, value])?;
            per_version.execute(params![target.channel, target.version, kind, value])?;
        }
    }
    if report.targets_written > 0 {
        bump_version(conn)?;
    }
    Ok(report)
}

/// Merges one row into its pack entry, or rejects it (leaving the entry unchanged).
///
/// # Errors
/// A stored entry that cannot be decoded (the outer error fails the whole write).
fn merge_into<'a>(
    pack: &mut Pack<'a>,
    entry: EntryKey,
    incoming: &'a Histogram,
) -> Result<Result<(), RowReject>> {
    let Some(slot) = pack.entries.get_mut(&entry) else {
        pack.entries.insert(entry, Slot::Borrowed(incoming));
        return Ok(Ok(()));
    };
    let mut merged = match slot {
        Slot::Stored(bytes) => codec::decode(bytes, incoming.layout())?,
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

/// The stored pack of `row` in the target (empty when there is none), entries kept encoded.
fn load<'a>(conn: &Connection, target_id: i64, row: RowKey) -> Result<Pack<'a>> {
    let blob: Option<Vec<u8>> = conn
        .prepare_cached(
            "SELECT data FROM series WHERE target_id = ?1 AND metric_id = ?2 AND label_id = ?3",
        )?
        .query_row(params![target_id, row.metric, row.label], |r| r.get(0))
        .optional()?;
    let mut pack = Pack::default();
    if let Some(blob) = blob {
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
            pack.entries.insert(key, Slot::Stored(entry.hist.to_vec()));
        }
    }
    Ok(pack)
}

/// Bucket counts of layout ids, read from the `layouts` table on first use.
#[derive(Default)]
pub(super) struct LayoutLens {
    known: Map<i64, Option<usize>>,
}

impl LayoutLens {
    /// The bucket count of layout `id`, `None` when no valid layout has that id.
    pub(super) fn get(&mut self, conn: &Connection, id: i64) -> Result<Option<usize>> {
        if let Some(&len) = self.known.get(&id) {
            return Ok(len);
        }
        let row: Option<(i64, i64, i64, i64)> = conn
            .prepare_cached("SELECT kind, low, high, n FROM layouts WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let len = row
            .and_then(|(kind, low, high, n)| layout_from_row(kind, low, high, n))
            .map(|spec| spec.len());
        self.known.insert(id, len);
        Ok(len)
    }
}

fn bump_version(conn: &Connection) -> Result<()> {
    conn.prepare_cached("UPDATE meta SET value = value + 1 WHERE key = 'data_version'")?
        .execute([])?;
    Ok(())
}

/// Drops the targets dated before `cutoff` (see [`crate::Store::trim`]).
pub(super) fn trim(conn: &mut Connection, cutoff: &str, dry_run: bool) -> Result<Vec<Target>> {
    check_date("cutoff date", cutoff)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut old: Vec<(Target, i64)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id, prefix, channel, version, date FROM targets WHERE date < ?1",
        )?;
        let mut rows = stmt.query([cutoff])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let target = Target {
                prefix: prefix_from_code(row.get(1)?)?,
                channel: row.get(2)?,
                version: row.get(3)?,
                date: row.get(4)?,
            };
            out.push((target, row.get(0)?));
        }
        out
    };
    old.sort();
    if dry_run || old.is_empty() {
        return Ok(old.into_iter().map(|(t, _)| t).collect());
    }
    let mut affected: BTreeSet<(String, String)> = BTreeSet::new();
    for (target, id) in &old {
        // `totals` is keyed by metric first: find a target's rows through its `series` rows.
        tx.prepare_cached(
            "DELETE FROM totals WHERE (metric_id, target_id, label_id) IN
             (SELECT metric_id, target_id, label_id FROM series WHERE target_id = ?1)",
        )?
        .execute([id])?;
        for table in ["series", "absorbed", "target_options"] {
            tx.prepare_cached(&format!("DELETE FROM {table} WHERE target_id = ?1"))?
                .execute([id])?;
        }
        tx.prepare_cached("DELETE FROM targets WHERE id = ?1")?
            .execute([id])?;
        affected.insert((target.channel.clone(), target.version.clone()));
    }
    for (channel, version) in &affected {
        tx.prepare_cached("DELETE FROM options WHERE channel = ?1 AND version = ?2")?
            .execute(params![channel, version])?;
        tx.prepare_cached(
            "INSERT OR IGNORE INTO options (channel, version, kind, value)
             SELECT ?1, ?2, kind, value FROM target_options
             WHERE target_id IN (SELECT id FROM targets WHERE channel = ?1 AND version = ?2)",
        )?
        .execute(params![channel, version])?;
    }
    bump_version(&tx)?;
    tx.commit()?;
    Ok(old.into_iter().map(|(t, _)| t).collect())
}
