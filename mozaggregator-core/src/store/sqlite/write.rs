//! The write path: merging batches and trimming old tables.

use std::collections::{BTreeMap, BTreeSet};

use hashbrown::HashMap;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::cache::WriteCache;
use super::codec;
use super::schema::{prefix_code, prefix_from_code, OPTION_DIMS, OPTION_METRIC, OPTION_PROCESS};
use crate::error::Result;
use crate::histogram::Histogram;
use crate::keys::{check_date, Target};
use crate::store::{check_row, check_target, Batch, RowReject, WriteReport};

/// The primary key of a series inside one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Pk {
    metric: i64,
    label: i64,
    process: u8,
    dims: i64,
    layout: i64,
}

/// A row's histogram as it will be written: the batch's own (no copy) or a merge.
enum Staged<'a> {
    Borrowed(&'a Histogram),
    Owned(Histogram),
}

impl Staged<'_> {
    fn get(&self) -> &Histogram {
        match self {
            Staged::Borrowed(h) => h,
            Staged::Owned(h) => h,
        }
    }
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
    let mut rejected: BTreeMap<&'static str, u64> = BTreeMap::new();
    // (channel, version) → option values to record.
    let mut options: BTreeMap<(&str, &str), BTreeSet<(i64, i64)>> = BTreeMap::new();
    let mut blob = Vec::with_capacity(64);
    for (target, rows) in &batch.tables {
        if let Err(reason) = check_target(target) {
            *rejected.entry(reason.as_str()).or_default() += rows.len() as u64;
            continue;
        }
        let existing: Option<i64> = conn
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
            .optional()?;
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

        let mut staged: HashMap<Pk, Staged<'_>, foldhash::fast::RandomState> =
            HashMap::with_capacity_and_hasher(rows.len(), Default::default());
        for (key, histogram) in rows {
            if let Err(reason) = check_row(target, key, histogram) {
                *rejected.entry(reason.as_str()).or_default() += 1;
                continue;
            }
            let pk = Pk {
                metric: cache.metric(conn, &key.metric)?,
                label: cache.label(conn, &key.label)?,
                process: key.process.code(),
                dims: cache.dims(conn, &key.dims)?,
                layout: cache.layout(conn, histogram.layout())?,
            };
            let stored = match staged.get(&pk) {
                Some(s) => Some(s.get().clone()),
                None if existing.is_some() => load(conn, target_id, &pk, histogram)?,
                None => None,
            };
            let next = match stored {
                None => Staged::Borrowed(histogram),
                Some(mut merged) => match merged.merge(histogram) {
                    Err(_) => {
                        *rejected
                            .entry(RowReject::MergeOverflow.as_str())
                            .or_default() += 1;
                        continue;
                    }
                    Ok(()) if merged.sum() > i64::MAX as u64 => {
                        *rejected
                            .entry(RowReject::SumOutOfRange.as_str())
                            .or_default() += 1;
                        continue;
                    }
                    Ok(()) => Staged::Owned(merged),
                },
            };
            staged.insert(pk, next);
            report.rows_written += 1;
        }

        let mut sorted: Vec<(Pk, Staged<'_>)> = staged
            .into_iter()
            .filter(|(_, s)| !s.get().is_empty())
            .collect();
        sorted.sort_unstable_by_key(|(pk, _)| *pk);
        let mut insert = conn.prepare_cached(
            "INSERT INTO series (target_id, metric_id, label_id, process, dims_id, layout_id, hist)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT DO UPDATE SET hist = excluded.hist",
        )?;
        let values = options
            .entry((target.channel.as_str(), target.version.as_str()))
            .or_default();
        let mut last: Option<Pk> = None;
        for (pk, h) in &sorted {
            blob.clear();
            codec::encode(h.get().counts(), h.get().sum(), h.get().count(), &mut blob);
            insert.execute(params![
                target_id, pk.metric, pk.label, pk.process, pk.dims, pk.layout, blob
            ])?;
            if last.is_none_or(|l| l.metric != pk.metric) {
                values.insert((OPTION_METRIC, pk.metric));
            }
            values.insert((OPTION_PROCESS, i64::from(pk.process)));
            values.insert((OPTION_DIMS, pk.dims));
            last = Some(*pk);
        }
    }
    let mut add_option = conn.prepare_cached(
        "INSERT OR IGNORE INTO options (channel, version, kind, value) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for ((channel, version), values) in &options {
        for (kind, value) in values {
            add_option.execute(params![channel, version, kind, value])?;
        }
    }
    if report.targets_written > 0 {
        bump_version(conn)?;
    }
    report.rows_rejected = rejected
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    Ok(report)
}

/// The stored histogram of `pk` in the target, if any.
fn load(
    conn: &Connection,
    target_id: i64,
    pk: &Pk,
    incoming: &Histogram,
) -> Result<Option<Histogram>> {
    let blob: Option<Vec<u8>> = conn
        .prepare_cached(
            "SELECT hist FROM series WHERE target_id = ?1 AND metric_id = ?2 AND label_id = ?3
             AND process = ?4 AND dims_id = ?5 AND layout_id = ?6",
        )?
        .query_row(
            params![target_id, pk.metric, pk.label, pk.process, pk.dims, pk.layout],
            |r| r.get(0),
        )
        .optional()?;
    blob.map(|b| codec::decode(&b, incoming.layout()))
        .transpose()
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
        tx.prepare_cached("DELETE FROM series WHERE target_id = ?1")?
            .execute([id])?;
        tx.prepare_cached("DELETE FROM absorbed WHERE target_id = ?1")?
            .execute([id])?;
        tx.prepare_cached("DELETE FROM targets WHERE id = ?1")?
            .execute([id])?;
        affected.insert((target.channel.clone(), target.version.clone()));
    }
    for (channel, version) in &affected {
        tx.prepare_cached("DELETE FROM options WHERE channel = ?1 AND version = ?2")?
            .execute(params![channel, version])?;
        for (kind, column) in [
            (OPTION_METRIC, "metric_id"),
            (OPTION_PROCESS, "process"),
            (OPTION_DIMS, "dims_id"),
        ] {
            tx.prepare_cached(&format!(
                "INSERT OR IGNORE INTO options (channel, version, kind, value)
                 SELECT ?1, ?2, ?3, {column} FROM series
                 WHERE target_id IN (SELECT id FROM targets WHERE channel = ?1 AND version = ?2)
                 GROUP BY {column}"
            ))?
            .execute(params![channel, version, kind])?;
        }
    }
    bump_version(&tx)?;
    tx.commit()?;
    Ok(old.into_iter().map(|(t, _)| t).collect())
}
