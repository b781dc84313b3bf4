//! The write path: merging batches (bulk-loaded with binary `COPY`) and trimming old tables.
//!
//! Each batch is one transaction holding the writers' advisory lock: interning, the
//! absorbed-date bookkeeping, the merged packs and the filter options commit together or not
//! at all. A new target's rows are copied into a fresh table that is then attached as the
//! target's partition of `series` (attaching does not block readers of `series`, creating a
//! partition in place would); an existing target's merged rows are copied into a staging
//! table and upserted into its partition in one statement.

use std::collections::BTreeSet;

use hashbrown::HashMap;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use postgres::{Client, Transaction};

use super::fault::{col, date_col, layout_at};
use super::read::target_id;
use super::schema::{partition, WRITE_LOCK};
use crate::date::Date;
use crate::error::Result;
use crate::histogram::Histogram;
use crate::keys::{Dims, Target};
use crate::layout::LayoutSpec;
use crate::store::packed::codes::{kind_code, prefix_code, prefix_from_code, OPTION_METRIC};
use crate::store::packed::corrupt;
use crate::store::packed::merge::{sorted_options, EntryKey, OptionSet, Pack, RowKey};
use crate::store::packed::totals;
use crate::store::replicates::check_batch;
use crate::store::{check_row, check_target, Batch, WriteReport};

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The writer's value → id tables. Cleared when a write fails, so that an id interned by a
/// transaction that rolled back is never used.
#[derive(Default)]
pub(super) struct WriteCache {
    metrics: Map<String, i32>,
    labels: Map<String, i32>,
    dims: Map<Dims, i32>,
    layouts: Map<LayoutSpec, i32>,
    /// Bucket counts of layout ids (`None`: no valid layout has that id).
    lens: Map<i64, Option<usize>>,
}

impl WriteCache {
    /// Forgets everything.
    pub(super) fn clear(&mut self) {
        *self = WriteCache::default();
    }

    fn ids(&self, key: &crate::keys::SeriesKey, h: &Histogram) -> Option<(RowKey, EntryKey)> {
        let row = RowKey {
            metric: i64::from(*self.metrics.get(&key.metric)?),
            label: i64::from(*self.labels.get(&key.label)?),
        };
        let entry = EntryKey {
            process: key.process.code(),
            dims: i64::from(*self.dims.get(&key.dims)?),
            layout: i64::from(*self.layouts.get(&h.layout())?),
        };
        Some((row, entry))
    }

    /// The id of an interned layout.
    pub(super) fn layout_id(&self, spec: LayoutSpec) -> Option<i32> {
        self.layouts.get(&spec).copied()
    }

    /// The bucket count of layout `id`, read from `layouts` on first use.
    fn len(&mut self, tx: &mut Transaction<'_>, id: i64) -> Result<Option<usize>> {
        if let Some(&len) = self.lens.get(&id) {
            return Ok(len);
        }
        let row = match i32::try_from(id) {
            Ok(id32) => tx.query_opt(
                "SELECT kind, low, high, n FROM mozaggregator.layouts WHERE id = $1",
                &[&id32],
            )?,
            Err(_) => None,
        };
        let len = match row {
            Some(r) => layout_at(&r, 0)?.map(|spec| spec.len()),
            None => None,
        };
        self.lens.insert(id, len);
        Ok(len)
    }
}

/// What totals packs need of the interned ids (see [`totals::Ids`]), in a write transaction.
struct TxIds<'a, 't> {
    tx: &'a mut Transaction<'t>,
    cache: &'a mut WriteCache,
    /// Learnt in this transaction only.
    os_keys: &'a mut totals::OsKeys,
}

impl totals::Ids for TxIds<'_, '_> {
    fn layout_len(&mut self, id: i64) -> Result<Option<usize>> {
        self.cache.len(self.tx, id)
    }

    fn os_key(&mut self, id: i64) -> Result<Option<i64>> {
        let tx = &mut *self.tx;
        self.os_keys.get(id, |after| {
            let rows = match i32::try_from(after) {
                Ok(after) => tx.query(
                    "SELECT id, os FROM mozaggregator.dims WHERE id > $1 ORDER BY id",
                    &[&after],
                )?,
                Err(_) => Vec::new(),
            };
            rows.iter()
                .map(|r| Ok((i64::from(col::<i32>(r, 0)?), col::<String>(r, 1)?)))
                .collect()
        })
    }
}

/// Writes one batch in one transaction (see the [`crate::Store`] contract).
pub(super) fn write(
    client: &mut Client,
    cache: &mut WriteCache,
    batch: &Batch,
) -> Result<WriteReport> {
    check_batch(batch)?;
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
    let report = write_in(&mut tx, cache, batch)?;
    tx.commit()?;
    Ok(report)
}

/// One stored row as it will be copied.
struct OutRow {
    metric: i32,
    label: i32,
    data: Vec<u8>,
    totals: Vec<u8>,
}

fn write_in(
    tx: &mut Transaction<'_>,
    cache: &mut WriteCache,
    batch: &Batch,
) -> Result<WriteReport> {
    intern(tx, cache, batch)?;
    let submission_date = batch.submission_date.to_string();
    let mut report = WriteReport::default();
    let mut scratch = Vec::with_capacity(64);
    let mut blob = Vec::with_capacity(4096);
    let mut os_keys = totals::OsKeys::default();
    for (target, rows) in &batch.tables {
        if let Err(reason) = check_target(target) {
            report.rows_rejected.add(reason, rows.len() as u64);
            continue;
        }
        let (id, existed) = match absorb(tx, target, &submission_date)? {
            Absorbed::Already => {
                report.targets_skipped.push(target.clone());
                continue;
            }
            Absorbed::Now { id, existed } => (id, existed),
        };
        report.targets_written += 1;

        // The ids of the batch's valid rows, and the stored packs they touch.
        let mut keyed = Vec::with_capacity(rows.len());
        for (key, histogram) in rows {
            if let Err(reason) = check_row(target, key, histogram) {
                report.rows_rejected.add(reason, 1);
                continue;
            }
            let (row, entry) = cache
                .ids(key, histogram)
                .ok_or_else(|| corrupt("a name of the batch was not interned"))?;
            keyed.push((row, entry, histogram));
        }
        let mut packs: Map<RowKey, Pack<'_>> = Map::default();
        if existed && !keyed.is_empty() {
            load(tx, id, &keyed, &mut packs)?;
        }
        for (row, entry, histogram) in keyed {
            match packs.entry(row).or_default().merge(entry, histogram)? {
                Ok(()) => report.rows_written += 1,
                Err(reason) => report.rows_rejected.add(reason, 1),
            }
        }

        // Encode the packs in key order; record the option values of what was added.
        let mut sorted: Vec<(RowKey, Pack<'_>)> = packs.into_iter().collect();
        sorted.sort_unstable_by_key(|(k, _)| *k);
        let mut options = OptionSet::default();
        let mut out = Vec::with_capacity(sorted.len());
        for (row, pack) in &sorted {
            let added = pack.encode(&mut blob, &mut scratch, &mut options);
            if blob.len() > 1 {
                let mut totals_blob = Vec::with_capacity(64);
                let mut ids = TxIds {
                    tx,
                    cache,
                    os_keys: &mut os_keys,
                };
                totals::of_pack(&blob, &mut ids, &mut totals_blob)?;
                out.push(OutRow {
                    metric: id32(row.metric)?,
                    label: id32(row.label)?,
                    data: blob.clone(),
                    totals: totals_blob,
                });
            }
            if added {
                options.insert((OPTION_METRIC, row.metric));
            }
        }
        store_rows(tx, id, !existed, &out)?;
        store_options(tx, id, target, &options)?;
    }
    if report.targets_written > 0 {
        bump_version(tx)?;
    }
    Ok(report)
}

/// Adds one to the stored data version.
pub(super) fn bump_version(tx: &mut Transaction<'_>) -> Result<()> {
    tx.execute(
        "UPDATE mozaggregator.meta SET value = value + 1 WHERE key = 'data_version'",
        &[],
    )?;
    Ok(())
}

/// An id as the schema's `integer` columns hold it.
pub(super) fn id32(id: i64) -> Result<i32> {
    i32::try_from(id).map_err(|_| corrupt(format!("id {id} out of range")))
}

/// What [`absorb`] found of a batch's target.
pub(super) enum Absorbed {
    /// The target had absorbed the submission date before: the batch skips it.
    Already,
    /// The target absorbs it now; `existed`: the target was there before.
    Now { id: i32, existed: bool },
}

/// Records that `target` absorbs `submission_date` (creating the target when new), unless it
/// already has: the idempotency of both writes.
pub(super) fn absorb(
    tx: &mut Transaction<'_>,
    target: &Target,
    submission_date: &str,
) -> Result<Absorbed> {
    let existing = target_id(tx, target)?;
    if let Some(id) = existing {
        let absorbed = tx.query_opt(
            "SELECT 1 FROM mozaggregator.absorbed
             WHERE target_id = $1 AND submission_date = $2",
            &[&id, &submission_date],
        )?;
        if absorbed.is_some() {
            return Ok(Absorbed::Already);
        }
    }
    let id = match existing {
        Some(id) => id,
        None => create_target(tx, target)?,
    };
    tx.execute(
        "INSERT INTO mozaggregator.absorbed (target_id, submission_date) VALUES ($1, $2)",
        &[&id, &submission_date],
    )?;
    Ok(Absorbed::Now {
        id,
        existed: existing.is_some(),
    })
}

/// Creates the target's row (its partition of `series` is the caller's); returns its id.
pub(super) fn create_target(tx: &mut Transaction<'_>, target: &Target) -> Result<i32> {
    let prefix = i16::try_from(prefix_code(target.prefix)).unwrap_or(i16::MAX);
    let row = tx.query_one(
        "INSERT INTO mozaggregator.targets (prefix, channel, version, date)
         VALUES ($1, $2, $3, $4) RETURNING id",
        &[
            &prefix,
            &target.channel,
            &target.version,
            &target.date.to_string(),
        ],
    )?;
    col(&row, 0)
}

/// Loads the stored packs of the rows `keyed` touches in target `id`.
fn load<'a>(
    tx: &mut Transaction<'_>,
    id: i32,
    keyed: &[(RowKey, EntryKey, &'a Histogram)],
    packs: &mut Map<RowKey, Pack<'a>>,
) -> Result<()> {
    let wanted: BTreeSet<RowKey> = keyed.iter().map(|(row, _, _)| *row).collect();
    let metrics: Vec<i32> = wanted
        .iter()
        .map(|r| id32(r.metric))
        .collect::<Result<_>>()?;
    let labels: Vec<i32> = wanted
        .iter()
        .map(|r| id32(r.label))
        .collect::<Result<_>>()?;
    let rows = tx.query(
        "SELECT s.metric_id, s.label_id, s.data FROM mozaggregator.series s
         JOIN unnest($2::int4[], $3::int4[]) AS w (metric_id, label_id)
           ON s.metric_id = w.metric_id AND s.label_id = w.label_id
         WHERE s.target_id = $1",
        &[&id, &metrics, &labels],
    )?;
    for row in rows {
        let key = RowKey {
            metric: i64::from(col::<i32>(&row, 0)?),
            label: i64::from(col::<i32>(&row, 1)?),
        };
        packs.insert(key, Pack::stored(col(&row, 2)?)?);
    }
    Ok(())
}

/// Copies `rows` into target `id`'s partition: a new table attached as the partition for a new
/// target, an upsert through a staging table for an existing one.
fn store_rows(tx: &mut Transaction<'_>, id: i32, new: bool, rows: &[OutRow]) -> Result<()> {
    let table = partition(id);
    if new {
        tx.batch_execute(&format!(
            "CREATE TABLE {table} (LIKE mozaggregator.series INCLUDING DEFAULTS,
                 CHECK (target_id = {id}))"
        ))?;
        copy(tx, &table, id, rows)?;
        tx.batch_execute(&format!(
            "ALTER TABLE mozaggregator.series ATTACH PARTITION {table} FOR VALUES IN ({id})"
        ))?;
        return Ok(());
    }
    if rows.is_empty() {
        return Ok(());
    }
    tx.batch_execute(
        "CREATE TEMP TABLE IF NOT EXISTS mozaggregator_staging
             (LIKE mozaggregator.series) ON COMMIT DELETE ROWS;
         TRUNCATE mozaggregator_staging",
    )?;
    copy(tx, "mozaggregator_staging", id, rows)?;
    tx.batch_execute(&format!(
        "INSERT INTO {table} SELECT * FROM mozaggregator_staging
         ON CONFLICT (target_id, metric_id, label_id)
         DO UPDATE SET data = EXCLUDED.data, totals = EXCLUDED.totals"
    ))?;
    Ok(())
}

/// Binary `COPY` of `rows` into `table`.
fn copy(tx: &mut Transaction<'_>, table: &str, id: i32, rows: &[OutRow]) -> Result<()> {
    let sink = tx.copy_in(&format!(
        "COPY {table} (target_id, metric_id, label_id, data, totals) FROM STDIN BINARY"
    ))?;
    let types = [Type::INT4, Type::INT4, Type::INT4, Type::BYTEA, Type::BYTEA];
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    for row in rows {
        writer.write(&[&id, &row.metric, &row.label, &row.data, &row.totals])?;
    }
    writer.finish()?;
    Ok(())
}

/// Records the filter options of what the batch added to target `id`.
fn store_options(
    tx: &mut Transaction<'_>,
    id: i32,
    target: &Target,
    options: &OptionSet,
) -> Result<()> {
    if options.is_empty() {
        return Ok(());
    }
    let options = sorted_options(options);
    let kinds: Vec<i16> = options
        .iter()
        .map(|&(k, _)| i16::try_from(k).unwrap_or(i16::MAX))
        .collect();
    let values: Vec<i32> = options
        .iter()
        .map(|&(_, v)| id32(v))
        .collect::<Result<_>>()?;
    tx.execute(
        "INSERT INTO mozaggregator.target_options (target_id, kind, value)
         SELECT $1, k, v FROM unnest($2::int2[], $3::int4[]) AS o (k, v)
         ON CONFLICT DO NOTHING",
        &[&id, &kinds, &values],
    )?;
    tx.execute(
        "INSERT INTO mozaggregator.options (channel, version, kind, value)
         SELECT $1, $2, k, v FROM unnest($3::int2[], $4::int4[]) AS o (k, v)
         ON CONFLICT DO NOTHING",
        &[&target.channel, &target.version, &kinds, &values],
    )?;
    Ok(())
}

/// Interns every metric, label, dims and layout of the batch's valid rows that the cache does
/// not know: a few set-based statements per batch, not one per name.
fn intern(tx: &mut Transaction<'_>, cache: &mut WriteCache, batch: &Batch) -> Result<()> {
    let mut metrics: BTreeSet<&str> = BTreeSet::new();
    let mut labels: BTreeSet<&str> = BTreeSet::new();
    let mut dims: BTreeSet<&Dims> = BTreeSet::new();
    let mut layouts: BTreeSet<LayoutSpec> = BTreeSet::new();
    for (target, rows) in &batch.tables {
        if check_target(target).is_err() {
            continue;
        }
        for (key, h) in rows {
            if check_row(target, key, h).is_err() {
                continue;
            }
            if !cache.metrics.contains_key(&key.metric) {
                metrics.insert(&key.metric);
            }
            if !cache.labels.contains_key(&key.label) {
                labels.insert(&key.label);
            }
            if !cache.dims.contains_key(&key.dims) {
                dims.insert(&key.dims);
            }
            if !cache.layouts.contains_key(&h.layout()) {
                layouts.insert(h.layout());
            }
        }
    }
    for (table, wanted, ids) in [
        ("metrics", metrics, &mut cache.metrics),
        ("labels", labels, &mut cache.labels),
    ] {
        if wanted.is_empty() {
            continue;
        }
        let names: Vec<&str> = wanted.into_iter().collect();
        tx.execute(
            &format!(
                "INSERT INTO mozaggregator.{table} (name) SELECT unnest($1::text[])
                 ON CONFLICT (name) DO NOTHING"
            ),
            &[&names],
        )?;
        for row in tx.query(
            &format!("SELECT name, id FROM mozaggregator.{table} WHERE name = ANY($1)"),
            &[&names],
        )? {
            ids.insert(col(&row, 0)?, col(&row, 1)?);
        }
    }
    if !dims.is_empty() {
        let column = |f: fn(&Dims) -> &str| -> Vec<&str> { dims.iter().map(|d| f(d)).collect() };
        let (a, b, c, d) = (
            column(|d| &d.application),
            column(|d| &d.architecture),
            column(|d| &d.os),
            column(|d| &d.os_version),
        );
        let params: [&(dyn ToSql + Sync); 4] = [&a, &b, &c, &d];
        tx.execute(
            "INSERT INTO mozaggregator.dims (application, architecture, os, os_version)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
             ON CONFLICT DO NOTHING",
            &params,
        )?;
        for row in tx.query(
            "SELECT d.application, d.architecture, d.os, d.os_version, d.id
             FROM mozaggregator.dims d
             JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[])
               AS w (application, architecture, os, os_version)
               USING (application, architecture, os, os_version)",
            &params,
        )? {
            let key = Dims {
                application: col(&row, 0)?,
                architecture: col(&row, 1)?,
                os: col(&row, 2)?,
                os_version: col(&row, 3)?,
            };
            cache.dims.insert(key, col(&row, 4)?);
        }
    }
    intern_layouts(tx, cache, layouts)
}

/// Interns the `layouts` the cache does not know (a few set-based statements).
pub(super) fn intern_layouts(
    tx: &mut Transaction<'_>,
    cache: &mut WriteCache,
    layouts: BTreeSet<LayoutSpec>,
) -> Result<()> {
    let specs: Vec<LayoutSpec> = layouts
        .into_iter()
        .filter(|s| !cache.layouts.contains_key(s))
        .collect();
    if specs.is_empty() {
        return Ok(());
    }
    let kinds: Vec<i32> = specs
        .iter()
        .map(|s| i32::try_from(kind_code(s.kind())).unwrap_or(i32::MAX))
        .collect();
    let lows: Vec<i64> = specs.iter().map(|s| big(s.low())).collect::<Result<_>>()?;
    let highs: Vec<i64> = specs.iter().map(|s| big(s.high())).collect::<Result<_>>()?;
    let ns: Vec<i32> = specs
        .iter()
        .map(|s| i32::try_from(s.bucket_count()).unwrap_or(i32::MAX))
        .collect();
    let params: [&(dyn ToSql + Sync); 4] = [&kinds, &lows, &highs, &ns];
    tx.execute(
        "INSERT INTO mozaggregator.layouts (kind, low, high, n)
         SELECT * FROM unnest($1::int4[], $2::int8[], $3::int8[], $4::int4[])
         ON CONFLICT DO NOTHING",
        &params,
    )?;
    for row in tx.query(
        "SELECT l.kind, l.low, l.high, l.n, l.id FROM mozaggregator.layouts l
         JOIN unnest($1::int4[], $2::int8[], $3::int8[], $4::int4[]) AS w (kind, low, high, n)
           USING (kind, low, high, n)",
        &params,
    )? {
        let spec = layout_at(&row, 0)?;
        if let Some(spec) = spec {
            let id: i32 = col(&row, 4)?;
            cache.layouts.insert(spec, id);
            cache.lens.insert(i64::from(id), Some(spec.len()));
        }
    }
    Ok(())
}

fn big(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| corrupt(format!("layout bound {v} out of range")))
}

/// Drops the targets dated before `cutoff` (see [`crate::Store::trim`]): their partitions go
/// whole, with their bookkeeping rows; the filter options of the (channel, version)s they
/// belonged to are recomputed.
pub(super) fn trim(client: &mut Client, cutoff: Date, dry_run: bool) -> Result<Vec<Target>> {
    let cutoff = cutoff.to_string();
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
    let mut old: Vec<(Target, i32)> = Vec::new();
    for row in tx.query(
        "SELECT id, prefix, channel, version, date FROM mozaggregator.targets WHERE date < $1",
        &[&cutoff],
    )? {
        let target = Target {
            prefix: prefix_from_code(i64::from(col::<i16>(&row, 1)?))?,
            channel: col(&row, 2)?,
            version: col(&row, 3)?,
            date: date_col(&row, 4)?,
        };
        old.push((target, col(&row, 0)?));
    }
    old.sort();
    if dry_run || old.is_empty() {
        return Ok(old.into_iter().map(|(t, _)| t).collect());
    }
    let mut affected: BTreeSet<(String, String)> = BTreeSet::new();
    for (target, id) in &old {
        tx.batch_execute(&format!("DROP TABLE IF EXISTS {}", partition(*id)))?;
        for table in ["absorbed", "target_options", "mobile_rows"] {
            tx.execute(
                &format!("DELETE FROM mozaggregator.{table} WHERE target_id = $1"),
                &[id],
            )?;
        }
        tx.execute("DELETE FROM mozaggregator.targets WHERE id = $1", &[id])?;
        affected.insert((target.channel.clone(), target.version.clone()));
    }
    for (channel, version) in &affected {
        tx.execute(
            "DELETE FROM mozaggregator.options WHERE channel = $1 AND version = $2",
            &[channel, version],
        )?;
        tx.execute(
            "INSERT INTO mozaggregator.options (channel, version, kind, value)
             SELECT $1, $2, kind, value FROM mozaggregator.target_options
             WHERE target_id IN
                 (SELECT id FROM mozaggregator.targets WHERE channel = $1 AND version = $2)
             ON CONFLICT DO NOTHING",
            &[channel, version],
        )?;
    }
    bump_version(&mut tx)?;
    tx.commit()?;
    Ok(old.into_iter().map(|(t, _)| t).collect())
}
