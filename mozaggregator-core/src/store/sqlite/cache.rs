//! In-memory copies of the interning tables (metrics, labels, dims, layouts).
//!
//! Interned rows are never deleted or renumbered, so a cache can only miss, never be wrong.
//! Readers share one [`ReadCache`] (id → value). It remembers the stored `data_version` it was
//! refreshed at; a reader whose snapshot has a newer `data_version` refreshes it first
//! (incrementally: only ids above the largest one loaded), so every id a reader meets in its
//! snapshot is in the cache — also when the writer is another process.
//!
//! The writer keeps a [`WriteCache`] (value → id). Entries added inside a transaction are
//! forgotten if the transaction does not commit, so a rolled-back id is never reused by mistake.

use hashbrown::HashMap;
use rusqlite::{params, Connection, OptionalExtension};

use super::fault::{corrupt, other};
use super::schema::{kind_code, layout_from_row};
use crate::error::Result;
use crate::keys::Dims;
use crate::layout::LayoutSpec;

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// id → value tables for readers.
#[derive(Default)]
pub(crate) struct ReadCache {
    /// The stored `data_version` the cache is complete for.
    pub(crate) version: Option<u64>,
    pub(crate) metrics: Vec<Option<String>>,
    pub(crate) metric_ids: Map<String, i64>,
    pub(crate) labels: Vec<Option<String>>,
    pub(crate) label_ids: Map<String, i64>,
    pub(crate) dims: Vec<Option<Dims>>,
    pub(crate) layouts: Vec<Option<LayoutSpec>>,
}

fn slot<T>(table: &mut Vec<Option<T>>, id: i64) -> Result<&mut Option<T>> {
    let i = usize::try_from(id)
        .ok()
        .filter(|&i| i <= table.len() + 10_000_000)
        .ok_or_else(|| corrupt(format!("interned id {id} out of range")))?;
    if i >= table.len() {
        table.resize_with(i + 1, || None);
    }
    Ok(&mut table[i])
}

fn get<'a, T>(table: &'a [Option<T>], id: i64, what: &str) -> Result<&'a T> {
    usize::try_from(id)
        .ok()
        .and_then(|i| table.get(i))
        .and_then(Option::as_ref)
        .ok_or_else(|| corrupt(format!("unknown {what} id {id}")))
}

/// Loads the interned names `sql` selects (`id, name` with `id >= ?1`) beyond those already in
/// `names` (indexed by id), and their ids by name.
fn load_names(
    conn: &Connection,
    sql: &str,
    names: &mut Vec<Option<String>>,
    ids: &mut Map<String, i64>,
) -> Result<()> {
    let from = names.len() as i64;
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([from])?;
    while let Some(row) = rows.next()? {
        let (id, name): (i64, String) = (row.get(0)?, row.get(1)?);
        ids.insert(name.clone(), id);
        *slot(names, id)? = Some(name);
    }
    Ok(())
}

impl ReadCache {
    /// Loads every interned row added since the last refresh, as seen by `conn`'s snapshot,
    /// and marks the cache complete for `version`.
    pub(crate) fn refresh(&mut self, conn: &Connection, version: u64) -> Result<()> {
        load_names(
            conn,
            "SELECT id, name FROM metrics WHERE id >= ?1",
            &mut self.metrics,
            &mut self.metric_ids,
        )?;
        load_names(
            conn,
            "SELECT id, name FROM labels WHERE id >= ?1",
            &mut self.labels,
            &mut self.label_ids,
        )?;
        let from = self.dims.len() as i64;
        let mut stmt = conn.prepare_cached(
            "SELECT id, application, architecture, os, os_version FROM dims WHERE id >= ?1",
        )?;
        let mut rows = stmt.query([from])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            *slot(&mut self.dims, id)? = Some(Dims {
                application: row.get(1)?,
                architecture: row.get(2)?,
                os: row.get(3)?,
                os_version: row.get(4)?,
            });
        }
        let from = self.layouts.len() as i64;
        let mut stmt =
            conn.prepare_cached("SELECT id, kind, low, high, n FROM layouts WHERE id >= ?1")?;
        let mut rows = stmt.query([from])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            // An invalid stored layout fails only the queries that meet it (as an unknown id).
            *slot(&mut self.layouts, id)? =
                layout_from_row(row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?);
        }
        self.version = Some(self.version.map_or(version, |v| v.max(version)));
        Ok(())
    }

    /// True when the cache holds every row of a snapshot at `version`.
    pub(crate) fn is_fresh_for(&self, version: u64) -> bool {
        self.version.is_some_and(|v| v >= version)
    }

    pub(crate) fn metric(&self, id: i64) -> Result<&str> {
        get(&self.metrics, id, "metric").map(String::as_str)
    }

    pub(crate) fn label(&self, id: i64) -> Result<&str> {
        get(&self.labels, id, "label").map(String::as_str)
    }

    pub(crate) fn dims(&self, id: i64) -> Result<&Dims> {
        get(&self.dims, id, "dims")
    }

    pub(crate) fn layout(&self, id: i64) -> Result<LayoutSpec> {
        get(&self.layouts, id, "layout").copied()
    }
}

/// value → id tables for the writer, with rollback of uncommitted entries.
#[derive(Default)]
pub(crate) struct WriteCache {
    metrics: Map<String, i64>,
    labels: Map<String, i64>,
    dims: Map<Dims, i64>,
    layouts: Map<LayoutSpec, i64>,
    pending: Vec<Pending>,
}

enum Pending {
    Metric(String),
    Label(String),
    Dims(Dims),
    Layout(LayoutSpec),
}

impl WriteCache {
    /// Forgets the entries added since the last [`WriteCache::commit`].
    pub(crate) fn rollback(&mut self) {
        for p in self.pending.drain(..) {
            match p {
                Pending::Metric(k) => drop(self.metrics.remove(&k)),
                Pending::Label(k) => drop(self.labels.remove(&k)),
                Pending::Dims(k) => drop(self.dims.remove(&k)),
                Pending::Layout(k) => drop(self.layouts.remove(&k)),
            }
        }
    }

    /// Keeps the entries added since the last commit.
    pub(crate) fn commit(&mut self) {
        self.pending.clear();
    }

    pub(crate) fn metric(&mut self, conn: &Connection, name: &str) -> Result<i64> {
        let (ids, pending) = (&mut self.metrics, &mut self.pending);
        cached_name(conn, "metrics", name, ids, pending, Pending::Metric)
    }

    pub(crate) fn label(&mut self, conn: &Connection, name: &str) -> Result<i64> {
        let (ids, pending) = (&mut self.labels, &mut self.pending);
        cached_name(conn, "labels", name, ids, pending, Pending::Label)
    }

    pub(crate) fn dims(&mut self, conn: &Connection, dims: &Dims) -> Result<i64> {
        if let Some(&id) = self.dims.get(dims) {
            return Ok(id);
        }
        let values = params![
            dims.application,
            dims.architecture,
            dims.os,
            dims.os_version
        ];
        let found = conn
            .prepare_cached(
                "SELECT id FROM dims WHERE application = ?1 AND architecture = ?2
                 AND os = ?3 AND os_version = ?4",
            )?
            .query_row(values, |r| r.get(0))
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                conn.prepare_cached(
                    "INSERT INTO dims (application, architecture, os, os_version)
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(values)?;
                self.pending.push(Pending::Dims(dims.clone()));
                conn.last_insert_rowid()
            }
        };
        self.dims.insert(dims.clone(), id);
        Ok(id)
    }

    pub(crate) fn layout(&mut self, conn: &Connection, spec: LayoutSpec) -> Result<i64> {
        if let Some(&id) = self.layouts.get(&spec) {
            return Ok(id);
        }
        let values = params![
            kind_code(spec.kind()),
            i64::try_from(spec.low()).map_err(|_| other("layout low too large"))?,
            i64::try_from(spec.high()).map_err(|_| other("layout high too large"))?,
            i64::from(spec.bucket_count())
        ];
        let found = conn
            .prepare_cached(
                "SELECT id FROM layouts WHERE kind = ?1 AND low = ?2 AND high = ?3 AND n = ?4",
            )?
            .query_row(values, |r| r.get(0))
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                conn.prepare_cached(
                    "INSERT INTO layouts (kind, low, high, n) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(values)?;
                self.pending.push(Pending::Layout(spec));
                conn.last_insert_rowid()
            }
        };
        self.layouts.insert(spec, id);
        Ok(id)
    }
}

/// The id of `name` in `table` (`metrics` or `labels`), from `ids` or interned; a new id is
/// remembered in `pending` so a rolled-back write can forget it.
fn cached_name(
    conn: &Connection,
    table: &str,
    name: &str,
    ids: &mut Map<String, i64>,
    pending: &mut Vec<Pending>,
    pend: fn(String) -> Pending,
) -> Result<i64> {
    if let Some(&id) = ids.get(name) {
        return Ok(id);
    }
    let (id, new) = intern_text(conn, table, name)?;
    ids.insert(name.to_string(), id);
    if new {
        pending.push(pend(name.to_string()));
    }
    Ok(id)
}

fn intern_text(conn: &Connection, table: &str, name: &str) -> Result<(i64, bool)> {
    let found = conn
        .prepare_cached(&format!("SELECT id FROM {table} WHERE name = ?1"))?
        .query_row([name], |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok((id, false));
    }
    conn.prepare_cached(&format!("INSERT INTO {table} (name) VALUES (?1)"))?
        .execute([name])?;
    Ok((conn.last_insert_rowid(), true))
}
