//! In-memory copies of the interning tables (metrics, labels, dims, layouts) for readers.
//!
//! Interned rows are never deleted or renumbered, so a copy can only miss, never be wrong.
//! Readers share one [`Names`] (id → value). It remembers the stored data version it was
//! refreshed at; a reader whose snapshot has a newer version refreshes it first (incrementally:
//! only ids above the largest one loaded, see [`Names::loaded`]), so every id a reader meets in
//! its snapshot is known — also when the writer is another process. Each store does the
//! loading with its own SQL.

use hashbrown::HashMap;

use super::corrupt;
use crate::error::Result;
use crate::keys::Dims;
use crate::layout::LayoutSpec;

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// id → value tables, and name → id for metrics and labels.
#[derive(Default)]
pub(crate) struct Names {
    /// The stored data version the tables are complete for.
    version: Option<u64>,
    metrics: Vec<Option<String>>,
    pub(crate) metric_ids: Map<String, i64>,
    labels: Vec<Option<String>>,
    pub(crate) label_ids: Map<String, i64>,
    pub(crate) dims: Vec<Option<Dims>>,
    layouts: Vec<Option<LayoutSpec>>,
}

/// The first id of each table not loaded yet: (metrics, labels, dims, layouts).
pub(crate) struct Loaded {
    pub(crate) metrics: i64,
    pub(crate) labels: i64,
    pub(crate) dims: i64,
    pub(crate) layouts: i64,
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

fn len(table: &[Option<impl Sized>]) -> i64 {
    i64::try_from(table.len()).unwrap_or(i64::MAX)
}

impl Names {
    /// Where a refresh starts reading each table.
    pub(crate) fn loaded(&self) -> Loaded {
        Loaded {
            metrics: len(&self.metrics),
            labels: len(&self.labels),
            dims: len(&self.dims),
            layouts: len(&self.layouts),
        }
    }

    /// Adds an interned metric name.
    pub(crate) fn add_metric(&mut self, id: i64, name: String) -> Result<()> {
        self.metric_ids.insert(name.clone(), id);
        *slot(&mut self.metrics, id)? = Some(name);
        Ok(())
    }

    /// Adds an interned label.
    pub(crate) fn add_label(&mut self, id: i64, name: String) -> Result<()> {
        self.label_ids.insert(name.clone(), id);
        *slot(&mut self.labels, id)? = Some(name);
        Ok(())
    }

    /// Adds an interned dims combination.
    pub(crate) fn add_dims(&mut self, id: i64, dims: Dims) -> Result<()> {
        *slot(&mut self.dims, id)? = Some(dims);
        Ok(())
    }

    /// Adds an interned layout; `None` for a stored row that describes no valid layout (it
    /// then fails only the queries that meet it, as an unknown id).
    pub(crate) fn add_layout(&mut self, id: i64, layout: Option<LayoutSpec>) -> Result<()> {
        *slot(&mut self.layouts, id)? = layout;
        Ok(())
    }

    /// Marks the tables complete for a snapshot at `version`.
    pub(crate) fn mark_fresh(&mut self, version: u64) {
        self.version = Some(self.version.map_or(version, |v| v.max(version)));
    }

    /// True when the tables hold every row of a snapshot at `version`.
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
