//! The interning tables (metrics, labels, dims, layouts) in memory: loading the readers'
//! [`Names`] from SQLite, and the writer's cache.
//!
//! The writer keeps a [`WriteCache`] (value → id). Entries added inside a transaction are
//! forgotten if the transaction does not commit, so a rolled-back id is never reused by mistake.

use hashbrown::HashMap;
use rusqlite::{params, Connection, OptionalExtension};

use super::fault::other;
use crate::error::Result;
use crate::keys::Dims;
use crate::layout::LayoutSpec;
use crate::store::packed::codes::{kind_code, layout_from_row};
use crate::store::packed::names::Names;

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Loads into `names` every interned row added since its last refresh, as seen by `conn`'s
/// snapshot, and marks it complete for `version`.
pub(crate) fn refresh(names: &mut Names, conn: &Connection, version: u64) -> Result<()> {
    let from = names.loaded();
    let mut stmt = conn.prepare_cached("SELECT id, name FROM metrics WHERE id >= ?1")?;
    let mut rows = stmt.query([from.metrics])?;
    while let Some(row) = rows.next()? {
        names.add_metric(row.get(0)?, row.get(1)?)?;
    }
    let mut stmt = conn.prepare_cached("SELECT id, name FROM labels WHERE id >= ?1")?;
    let mut rows = stmt.query([from.labels])?;
    while let Some(row) = rows.next()? {
        names.add_label(row.get(0)?, row.get(1)?)?;
    }
    let mut stmt = conn.prepare_cached(
        "SELECT id, application, architecture, os, os_version FROM dims WHERE id >= ?1",
    )?;
    let mut rows = stmt.query([from.dims])?;
    while let Some(row) = rows.next()? {
        let dims = Dims {
            application: row.get(1)?,
            architecture: row.get(2)?,
            os: row.get(3)?,
            os_version: row.get(4)?,
        };
        names.add_dims(row.get(0)?, dims)?;
    }
    let mut stmt =
        conn.prepare_cached("SELECT id, kind, low, high, n FROM layouts WHERE id >= ?1")?;
    let mut rows = stmt.query([from.layouts])?;
    while let Some(row) = rows.next()? {
        let layout = layout_from_row(row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?);
        names.add_layout(row.get(0)?, layout)?;
    }
    names.mark_fresh(version);
    Ok(())
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
        let (id, new) = find_or_insert(
            conn,
            "SELECT id FROM dims WHERE application = ?1 AND architecture = ?2
             AND os = ?3 AND os_version = ?4",
            "INSERT INTO dims (application, architecture, os, os_version) VALUES (?1, ?2, ?3, ?4)",
            values,
        )?;
        if new {
            self.pending.push(Pending::Dims(dims.clone()));
        }
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
        let (id, new) = find_or_insert(
            conn,
            "SELECT id FROM layouts WHERE kind = ?1 AND low = ?2 AND high = ?3 AND n = ?4",
            "INSERT INTO layouts (kind, low, high, n) VALUES (?1, ?2, ?3, ?4)",
            values,
        )?;
        if new {
            self.pending.push(Pending::Layout(spec));
        }
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
    find_or_insert(
        conn,
        &format!("SELECT id FROM {table} WHERE name = ?1"),
        &format!("INSERT INTO {table} (name) VALUES (?1)"),
        [name],
    )
}

/// The id `select` finds for `values`, or the id of the row `insert` adds with them; `true`
/// when the row is new.
fn find_or_insert(
    conn: &Connection,
    select: &str,
    insert: &str,
    values: impl rusqlite::Params + Copy,
) -> Result<(i64, bool)> {
    let found = conn
        .prepare_cached(select)?
        .query_row(values, |r| r.get(0))
        .optional()?;
    if let Some(id) = found {
        return Ok((id, false));
    }
    conn.prepare_cached(insert)?.execute(values)?;
    Ok((conn.last_insert_rowid(), true))
}
