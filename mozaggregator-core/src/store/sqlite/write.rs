//! The write path: merging batches and trimming old tables.

use std::collections::BTreeSet;

use hashbrown::HashMap;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::cache::WriteCache;
use super::read::{date_at, target_id};
use super::schema::tables;
use crate::date::Date;
use crate::error::Result;
use crate::histogram::Histogram;
use crate::keys::{SeriesKey, Target};
use crate::store::packed::codes::{
    layout_from_row, prefix_code, prefix_from_code, replicate_dims, OPTION_METRIC,
};
use crate::store::packed::merge::{sorted_options, EntryKey, OptionSet, Pack, RowKey};
use crate::store::packed::totals::{self, Fold};
use crate::store::replicates::check_batch;
use crate::store::{check_row, check_target, Batch, RowReject, WriteReport};
use crate::tally::Tally;

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Writes one batch in one transaction (see the [`crate::Store`] contract).
pub(super) fn write(
    conn: &mut Connection,
    cache: &mut WriteCache,
    batch: &Batch,
) -> Result<WriteReport> {
    in_transaction(conn, cache, |tx, cache| write_in(tx, cache, batch))
}

/// Runs `f` in one write transaction, committed when it succeeds; the names it interned are
/// kept in `cache` only then.
pub(super) fn in_transaction<T>(
    conn: &mut Connection,
    cache: &mut WriteCache,
    f: impl FnOnce(&Connection, &mut WriteCache) -> Result<T>,
) -> Result<T> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let result = f(&tx, cache).and_then(|value| {
        tx.commit()?;
        Ok(value)
    });
    match result {
        Ok(value) => {
            cache.commit();
            Ok(value)
        }
        Err(e) => {
            cache.rollback();
            Err(e)
        }
    }
}

/// The table `target` a write merges into, after recording that it absorbs `date` (with
/// `replicates`, 0 for none): its id and whether it existed before, creating it when it did
/// not. `None` when it had absorbed `date` already (the write skips it).
pub(super) fn absorb(
    conn: &Connection,
    target: &Target,
    date: Date,
    replicates: i64,
) -> Result<Option<(i64, bool)>> {
    let existing = target_id(conn, target)?;
    if let Some(id) = existing {
        let absorbed = conn
            .prepare_cached("SELECT 1 FROM absorbed WHERE target_id = ?1 AND submission_date = ?2")?
            .exists(params![id, date])?;
        if absorbed {
            return Ok(None);
        }
    }
    let id = match existing {
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
    conn.prepare_cached(
        "INSERT INTO absorbed (target_id, submission_date, replicates) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![id, date, replicates])?;
    Ok(Some((id, existing.is_some())))
}

fn write_in(conn: &Connection, cache: &mut WriteCache, batch: &Batch) -> Result<WriteReport> {
    check_batch(batch)?;
    let mut report = WriteReport::default();
    let mut ids = StoredIds::new(conn);
    let count = batch
        .replicates
        .as_ref()
        .map_or(0, |r| r.count.get() as i64);
    for (target, rows) in &batch.tables {
        let group_rows = || {
            let groups = batch.replicates.iter().flat_map(|r| r.groups.iter());
            groups.enumerate().flat_map(move |(g, group)| {
                let rows = group.get(target).map_or(&[][..], Vec::as_slice);
                // `g` < R ≤ 100.
                rows.iter().map(move |row| (g as u8, row))
            })
        };
        if let Err(reason) = check_target(target) {
            report.rows_rejected.add(reason, rows.len() as u64);
            let n = group_rows().count() as u64;
            report.replicate_rows_rejected.add(reason, n);
            continue;
        }
        let Some((target_id, existed)) = absorb(conn, target, batch.submission_date, count)? else {
            report.targets_skipped.push(target.clone());
            continue;
        };
        report.targets_written += 1;

        let into = Into {
            target,
            id: target_id,
            existed,
        };
        let normal = rows.iter().map(|row| (0, row));
        let (written, rejected) = (&mut report.rows_written, &mut report.rows_rejected);
        let options = merge_and_store(
            conn,
            cache,
            &mut ids,
            &into,
            Fold::AllDims,
            normal,
            written,
            rejected,
        )?;
        record_options(conn, target, target_id, &options)?;
        if batch.replicates.is_some() {
            let (written, rejected) = (
                &mut report.replicate_rows_written,
                &mut report.replicate_rows_rejected,
            );
            merge_and_store(
                conn,
                cache,
                &mut ids,
                &into,
                Fold::PerGroup,
                group_rows(),
                written,
                rejected,
            )?;
        }
    }
    if report.targets_written > 0 {
        bump_version(conn)?;
    }
    Ok(report)
}

/// The target a write merges into.
struct Into<'t> {
    target: &'t Target,
    id: i64,
    /// Whether the target had a table before this write (else nothing is stored to load).
    existed: bool,
}

/// Merges `rows` (each with its replicate group, 0 for normal rows) into the target's packs
/// of `fold`'s tables, loading stored packs on first touch, and writes the packs back with
/// their totals. Counts each row as written or rejected; returns the (option kind, value)
/// pairs of what was added or changed.
#[allow(clippy::too_many_arguments)]
fn merge_and_store<'a>(
    conn: &Connection,
    cache: &mut WriteCache,
    ids: &mut StoredIds<'_>,
    into: &Into<'_>,
    fold: Fold,
    rows: impl Iterator<Item = (u8, &'a (SeriesKey, Histogram))>,
    written: &mut u64,
    rejected: &mut Tally<RowReject>,
) -> Result<OptionSet> {
    let (series_table, totals_table) = tables(fold);
    let mut packs: Map<RowKey, Pack<'_>> = Map::default();
    for (group, (key, histogram)) in rows {
        if let Err(reason) = check_row(into.target, key, histogram) {
            rejected.add(reason, 1);
            continue;
        }
        let row = RowKey {
            metric: cache.metric(conn, &key.metric)?,
            label: cache.label(conn, &key.label)?,
        };
        let dims = cache.dims(conn, &key.dims)?;
        let entry = EntryKey {
            process: key.process.code(),
            dims: match fold {
                Fold::AllDims => dims,
                Fold::PerGroup => replicate_dims(dims, group),
            },
            layout: cache.layout(conn, histogram.layout())?,
        };
        if !packs.contains_key(&row) {
            let pack = match into.existed {
                true => load(conn, series_table, into.id, row)?,
                false => Pack::default(),
            };
            packs.insert(row, pack);
        }
        let Some(pack) = packs.get_mut(&row) else {
            continue;
        };
        match pack.merge(entry, histogram)? {
            Ok(()) => *written += 1,
            Err(reason) => rejected.add(reason, 1),
        }
    }

    // Write the packs in key order; record the option values of what was added.
    let mut sorted: Vec<(RowKey, Pack<'_>)> = packs.into_iter().collect();
    sorted.sort_unstable_by_key(|(k, _)| *k);
    let mut options = OptionSet::default();
    let mut upsert = conn.prepare_cached(&format!(
        "INSERT INTO {series_table} (target_id, metric_id, label_id, data) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (target_id, metric_id, label_id) DO UPDATE SET data = excluded.data"
    ))?;
    let mut upsert_totals = conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO {totals_table} (target_id, metric_id, label_id, data)
         VALUES (?1, ?2, ?3, ?4)"
    ))?;
    let mut scratch = Vec::with_capacity(64);
    let mut blob = Vec::with_capacity(4096);
    let mut totals_blob = Vec::with_capacity(512);
    for (row, pack) in &sorted {
        let added = pack.encode(&mut blob, &mut scratch, &mut options);
        if blob.len() > 1 {
            upsert.execute(params![into.id, row.metric, row.label, blob])?;
            totals::folded(&blob, fold, ids, &mut totals_blob)?;
            upsert_totals.execute(params![into.id, row.metric, row.label, totals_blob])?;
        }
        if added {
            options.insert((OPTION_METRIC, row.metric));
        }
    }
    Ok(options)
}

/// Records the option values a write added to a target (and its channel and version).
fn record_options(
    conn: &Connection,
    target: &Target,
    target_id: i64,
    options: &OptionSet,
) -> Result<()> {
    let mut per_target = conn.prepare_cached(
        "INSERT OR IGNORE INTO target_options (target_id, kind, value) VALUES (?1, ?2, ?3)",
    )?;
    let mut per_version = conn.prepare_cached(
        "INSERT OR IGNORE INTO options (channel, version, kind, value) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (kind, value) in sorted_options(options) {
        per_target.execute(params![target_id, kind, value])?;
        per_version.execute(params![target.channel, target.version, kind, value])?;
    }
    Ok(())
}

/// The stored pack of `row` in the target (empty when there is none), entries kept encoded.
fn load<'a>(conn: &Connection, table: &str, target_id: i64, row: RowKey) -> Result<Pack<'a>> {
    let blob: Option<Vec<u8>> = conn
        .prepare_cached(&format!(
            "SELECT data FROM {table} WHERE target_id = ?1 AND metric_id = ?2 AND label_id = ?3"
        ))?
        .query_row(params![target_id, row.metric, row.label], |r| r.get(0))
        .optional()?;
    match blob {
        Some(blob) => Pack::stored(blob),
        None => Ok(Pack::default()),
    }
}

/// What totals packs need of the interned ids (see [`totals::Ids`]): bucket counts of layout
/// ids and OS keys of dims ids, read from the store on first use. Lives for one transaction,
/// so that an id interned by a write that rolled back is never kept.
pub(super) struct StoredIds<'c> {
    conn: &'c Connection,
    lens: Map<i64, Option<usize>>,
    os_keys: totals::OsKeys,
}

impl<'c> StoredIds<'c> {
    pub(super) fn new(conn: &'c Connection) -> Self {
        StoredIds {
            conn,
            lens: Map::default(),
            os_keys: totals::OsKeys::default(),
        }
    }
}

impl totals::Ids for StoredIds<'_> {
    fn layout_len(&mut self, id: i64) -> Result<Option<usize>> {
        if let Some(&len) = self.lens.get(&id) {
            return Ok(len);
        }
        let row: Option<(i64, i64, i64, i64)> = self
            .conn
            .prepare_cached("SELECT kind, low, high, n FROM layouts WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let len = row
            .and_then(|(kind, low, high, n)| layout_from_row(kind, low, high, n))
            .map(|spec| spec.len());
        self.lens.insert(id, len);
        Ok(len)
    }

    fn os_key(&mut self, id: i64) -> Result<Option<i64>> {
        let conn = self.conn;
        self.os_keys.get(id, |after| {
            let mut stmt =
                conn.prepare_cached("SELECT id, os FROM dims WHERE id > ?1 ORDER BY id")?;
            let rows = stmt.query_map([after], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

/// Adds one to the stored data version.
pub(super) fn bump_version(conn: &Connection) -> Result<()> {
    conn.prepare_cached("UPDATE meta SET value = value + 1 WHERE key = 'data_version'")?
        .execute([])?;
    Ok(())
}

/// Drops the targets dated before `cutoff` (see [`crate::Store::trim`]).
pub(super) fn trim(conn: &mut Connection, cutoff: Date, dry_run: bool) -> Result<Vec<Target>> {
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
                date: date_at(row, 4)?,
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
        // Totals are keyed by metric first: find a target's rows through its `series` rows.
        for fold in [Fold::AllDims, Fold::PerGroup] {
            let (series, totals) = tables(fold);
            tx.prepare_cached(&format!(
                "DELETE FROM {totals} WHERE (metric_id, target_id, label_id) IN
                 (SELECT metric_id, target_id, label_id FROM {series} WHERE target_id = ?1)"
            ))?
            .execute([id])?;
        }
        let tables = [
            "series",
            "replicate_series",
            "mobile_rows",
            "absorbed",
            "target_options",
        ];
        for table in tables {
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
