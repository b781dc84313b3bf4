//! Mobile tables in SQLite (schema version 4): writing a [`MobileBatch`] and scanning the
//! `mobile_rows` table (see packed/mobile.rs for what a row holds).

use rusqlite::{params, Connection};

use super::cache::WriteCache;
use super::fault::corrupt;
use super::read::date_at;
use super::write::{absorb, bump_version};
use crate::error::Result;
use crate::keys::{Prefix, Target};
use crate::layout::LayoutSpec;
use crate::mobile::{merge_mobile_rows, MobileBatch, MobileHistogram, MobileKey, MobileRows};
use crate::store::packed::codes::{layout_from_row, prefix_code};
use crate::store::packed::mobile::{count_and_sum, encode_buckets, histogram, NO_LAYOUT};
use crate::store::{check_target, Selection, WriteReport};

/// Writes a batch of mobile rows inside the caller's transaction (see the contract of
/// [`crate::Store`], "Mobile rows").
///
/// A table absorbs one submission date, its own, so a table this write absorbs is new in
/// practice; if it existed (a store written by hand), its rows are read, merged and written
/// back whole.
pub(super) fn write_in(
    conn: &Connection,
    cache: &mut WriteCache,
    batch: &MobileBatch,
) -> Result<WriteReport> {
    batch.check()?;
    let mut report = WriteReport::default();
    let mut blob = Vec::with_capacity(64);
    for (target, rows) in &batch.tables {
        if let Err(reason) = check_target(target) {
            report.rows_rejected.add(reason, rows.len() as u64);
            continue;
        }
        let Some((id, existed)) = absorb(conn, target, batch.submission_date, 0)? else {
            report.targets_skipped.push(target.clone());
            continue;
        };
        report.targets_written += 1;
        let mut table = if existed {
            rows_of(conn, id)?
        } else {
            MobileRows::new()
        };
        report.rows_written += merge_mobile_rows(rows, &mut table, &mut report.rows_rejected);
        if existed {
            conn.prepare_cached("DELETE FROM mobile_rows WHERE target_id = ?1")?
                .execute([id])?;
        }
        let mut insert = conn.prepare_cached(
            "INSERT INTO mobile_rows (target_id, build_id, application, architecture, os,
                 os_version, metric, key, process, layout_id, count, sum, buckets)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        for ((key, layout), h) in &table {
            let layout_id = match layout {
                Some(spec) => cache.layout(conn, *spec)?,
                None => NO_LAYOUT,
            };
            let (count, sum) = count_and_sum(h)?;
            encode_buckets(h.buckets(), &mut blob);
            insert.execute(params![
                id,
                key.build_id,
                key.application,
                key.architecture,
                key.os,
                key.os_version,
                key.metric,
                key.key,
                key.process,
                layout_id,
                count,
                sum,
                blob
            ])?;
        }
    }
    if report.targets_written > 0 {
        bump_version(conn)?;
    }
    Ok(report)
}

/// Visits the stored rows of the selected mobile tables (a desktop prefix selects none),
/// ordered by target, then key, then layout (`None` first).
pub(super) fn scan(
    conn: &Connection,
    selection: &Selection,
    visit: &mut dyn FnMut(&Target, &MobileKey, &MobileHistogram) -> Result<()>,
) -> Result<()> {
    if selection.prefix.is_some_and(|p| p != Prefix::MobileMetrics) {
        return Ok(());
    }
    let mut targets: Vec<(Target, i64)> = Vec::new();
    {
        let mut stmt = conn
            .prepare_cached("SELECT id, channel, version, date FROM targets WHERE prefix = ?1")?;
        let mut rows = stmt.query([prefix_code(Prefix::MobileMetrics)])?;
        while let Some(row) = rows.next()? {
            let target = Target {
                prefix: Prefix::MobileMetrics,
                channel: text_at(row, 1)?,
                version: text_at(row, 2)?,
                date: date_at(row, 3)?,
            };
            if selection.matches(&target) {
                targets.push((target, row.get(0)?));
            }
        }
    }
    targets.sort();
    for (target, id) in &targets {
        for ((key, _), h) in &rows_of(conn, *id)? {
            visit(target, key, h)?;
        }
    }
    Ok(())
}

/// The stored rows of mobile table `id`.
fn rows_of(conn: &Connection, id: i64) -> Result<MobileRows> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.build_id, m.application, m.architecture, m.os, m.os_version, m.metric, m.key,
                m.process, m.layout_id, l.kind, l.low, l.high, l.n, m.count, m.sum, m.buckets
         FROM mobile_rows m LEFT JOIN layouts l ON l.id = m.layout_id
         WHERE m.target_id = ?1",
    )?;
    let mut rows = stmt.query([id])?;
    let mut out = MobileRows::new();
    while let Some(row) = rows.next()? {
        let key = MobileKey {
            build_id: text_at(row, 0)?,
            application: text_at(row, 1)?,
            architecture: text_at(row, 2)?,
            os: text_at(row, 3)?,
            os_version: text_at(row, 4)?,
            metric: text_at(row, 5)?,
            key: text_at(row, 6)?,
            process: text_at(row, 7)?,
        };
        let layout = layout_at(row, 8)?;
        let buckets = row
            .get_ref(15)?
            .as_blob()
            .map_err(|e| corrupt(format!("mobile buckets column: {e}")))?;
        let h = histogram(layout, int_at(row, 13)?, int_at(row, 14)?, buckets)?;
        if out.insert((key, layout), h).is_some() {
            return Err(corrupt("a mobile row is stored twice"));
        }
    }
    Ok(out)
}

/// The layout of a row: its `layout_id` in column `i`, the joined `layouts` columns after it.
fn layout_at(row: &rusqlite::Row<'_>, i: usize) -> Result<Option<LayoutSpec>> {
    let id = int_at(row, i)?;
    if id == NO_LAYOUT {
        return Ok(None);
    }
    let parts = (i + 1..i + 5)
        .map(|j| row.get_ref(j).map(|v| v.as_i64_or_null()))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let spec = match parts.as_slice() {
        [Ok(Some(kind)), Ok(Some(low)), Ok(Some(high)), Ok(Some(n))] => {
            layout_from_row(*kind, *low, *high, *n)
        }
        _ => None,
    };
    spec.map(Some)
        .ok_or_else(|| corrupt(format!("mobile row of unknown layout id {id}")))
}

/// The text in column `i`; anything else is a corrupt store.
fn text_at(row: &rusqlite::Row<'_>, i: usize) -> Result<String> {
    let text = row
        .get_ref(i)?
        .as_str()
        .map_err(|e| corrupt(format!("mobile text column {i}: {e}")))?;
    Ok(text.to_string())
}

/// The integer in column `i`; anything else is a corrupt store.
fn int_at(row: &rusqlite::Row<'_>, i: usize) -> Result<i64> {
    row.get_ref(i)?
        .as_i64()
        .map_err(|e| corrupt(format!("mobile integer column {i}: {e}")))
}
