//! Mobile tables in PostgreSQL (schema version 2): writing a [`MobileBatch`] (its rows
//! bulk-loaded with binary `COPY`) and scanning the `mobile_rows` table (see packed/mobile.rs
//! for what a row holds).

use std::collections::BTreeSet;

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use postgres::{Client, GenericClient, Transaction};

use super::fault::{col, date_col, layout_at};
use super::schema::WRITE_LOCK;
use super::write::{absorb, bump_version, intern_layouts, Absorbed, WriteCache};
use crate::error::Result;
use crate::keys::{Prefix, Target};
use crate::layout::LayoutSpec;
use crate::mobile::{
    check_mobile_row, merge_mobile_rows, MobileBatch, MobileHistogram, MobileKey, MobileRows,
};
use crate::store::packed::codes::prefix_code;
use crate::store::packed::corrupt;
use crate::store::packed::mobile::{count_and_sum, encode_buckets, histogram, NO_LAYOUT};
use crate::store::{check_target, Selection, WriteReport};

/// The stored prefix code of mobile tables.
fn mobile_prefix() -> i16 {
    i16::try_from(prefix_code(Prefix::MobileMetrics)).unwrap_or(i16::MAX)
}

/// Writes a batch of mobile rows in one transaction holding the writers' advisory lock (see
/// the contract of [`crate::Store`], "Mobile rows").
///
/// A table absorbs one submission date, its own, so a table this write absorbs is new in
/// practice; if it existed (a store written by hand), its rows are read, merged and written
/// back whole.
pub(super) fn write(
    client: &mut Client,
    cache: &mut WriteCache,
    batch: &MobileBatch,
) -> Result<WriteReport> {
    batch.check()?;
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
    let layouts: BTreeSet<LayoutSpec> = batch
        .tables
        .values()
        .flatten()
        .filter(|(k, h)| check_mobile_row(k, h).is_ok())
        .filter_map(|(_, h)| h.layout())
        .collect();
    intern_layouts(&mut tx, cache, layouts)?;
    let submission_date = batch.submission_date.to_string();
    let mut report = WriteReport::default();
    for (target, rows) in &batch.tables {
        if let Err(reason) = check_target(target) {
            report.rows_rejected.add(reason, rows.len() as u64);
            continue;
        }
        let (id, existed) = match absorb(&mut tx, target, &submission_date)? {
            Absorbed::Already => {
                report.targets_skipped.push(target.clone());
                continue;
            }
            Absorbed::Now { id, existed } => (id, existed),
        };
        report.targets_written += 1;
        let mut table = if existed {
            rows_of(&mut tx, id)?
        } else {
            MobileRows::new()
        };
        report.rows_written += merge_mobile_rows(rows, &mut table, &mut report.rows_rejected);
        if existed {
            tx.execute(
                "DELETE FROM mozaggregator.mobile_rows WHERE target_id = $1",
                &[&id],
            )?;
        }
        copy(&mut tx, cache, id, &table)?;
    }
    if report.targets_written > 0 {
        bump_version(&mut tx)?;
    }
    tx.commit()?;
    Ok(report)
}

/// Binary `COPY` of a table's rows into `mobile_rows`.
fn copy(tx: &mut Transaction<'_>, cache: &WriteCache, id: i32, table: &MobileRows) -> Result<()> {
    if table.is_empty() {
        return Ok(());
    }
    let sink = tx.copy_in(
        "COPY mozaggregator.mobile_rows (target_id, build_id, application, architecture, os,
             os_version, metric, key, process, layout_id, count, sum, buckets)
         FROM STDIN BINARY",
    )?;
    let mut types = vec![Type::INT4];
    types.extend([Type::TEXT; 8]);
    types.extend([Type::INT4, Type::INT8, Type::INT8, Type::BYTEA]);
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    let mut blob = Vec::with_capacity(64);
    for ((key, layout), h) in table {
        let layout_id = match layout {
            Some(spec) => cache
                .layout_id(*spec)
                .ok_or_else(|| corrupt("a layout of the batch was not interned"))?,
            None => i32::try_from(NO_LAYOUT).unwrap_or_default(),
        };
        let (count, sum) = count_and_sum(h)?;
        encode_buckets(h.buckets(), &mut blob);
        let values: [&(dyn ToSql + Sync); 13] = [
            &id,
            &key.build_id,
            &key.application,
            &key.architecture,
            &key.os,
            &key.os_version,
            &key.metric,
            &key.key,
            &key.process,
            &layout_id,
            &count,
            &sum,
            &blob,
        ];
        writer.write(&values)?;
    }
    writer.finish()?;
    Ok(())
}

/// Visits the stored rows of the selected mobile tables (a desktop prefix selects none),
/// ordered by target, then key, then layout (`None` first).
pub(super) fn scan(
    tx: &mut impl GenericClient,
    selection: &Selection,
    visit: &mut dyn FnMut(&Target, &MobileKey, &MobileHistogram) -> Result<()>,
) -> Result<()> {
    if selection.prefix.is_some_and(|p| p != Prefix::MobileMetrics) {
        return Ok(());
    }
    let mut targets: Vec<(Target, i32)> = Vec::new();
    for row in tx.query_typed(
        "SELECT id, channel, version, date FROM mozaggregator.targets WHERE prefix = $1",
        &[(&mobile_prefix(), Type::INT2)],
    )? {
        let target = Target {
            prefix: Prefix::MobileMetrics,
            channel: col(&row, 1)?,
            version: col(&row, 2)?,
            date: date_col(&row, 3)?,
        };
        if selection.matches(&target) {
            targets.push((target, col(&row, 0)?));
        }
    }
    targets.sort();
    for (target, id) in &targets {
        for ((key, _), h) in &rows_of(tx, *id)? {
            visit(target, key, h)?;
        }
    }
    Ok(())
}

/// The stored rows of mobile table `id`.
fn rows_of(tx: &mut impl GenericClient, id: i32) -> Result<MobileRows> {
    let mut out = MobileRows::new();
    for row in tx.query_typed(
        "SELECT m.build_id, m.application, m.architecture, m.os, m.os_version, m.metric, m.key,
                m.process, m.layout_id, l.kind, l.low, l.high, l.n, m.count, m.sum, m.buckets
         FROM mozaggregator.mobile_rows m
         LEFT JOIN mozaggregator.layouts l ON l.id = m.layout_id
         WHERE m.target_id = $1",
        &[(&id, Type::INT4)],
    )? {
        let key = MobileKey {
            build_id: col(&row, 0)?,
            application: col(&row, 1)?,
            architecture: col(&row, 2)?,
            os: col(&row, 3)?,
            os_version: col(&row, 4)?,
            metric: col(&row, 5)?,
            key: col(&row, 6)?,
            process: col(&row, 7)?,
        };
        let layout_id = i64::from(col::<i32>(&row, 8)?);
        let layout = match layout_id {
            NO_LAYOUT => None,
            _ => {
                let joined: Option<i32> = col(&row, 9)?;
                let spec = match joined {
                    Some(_) => layout_at(&row, 9)?,
                    None => None,
                };
                Some(spec.ok_or_else(|| {
                    corrupt(format!("mobile row of unknown layout id {layout_id}"))
                })?)
            }
        };
        let h = histogram(layout, col(&row, 13)?, col(&row, 14)?, col(&row, 15)?)?;
        if out.insert((key, layout), h).is_some() {
            return Err(corrupt("a mobile row is stored twice"));
        }
    }
    Ok(out)
}
