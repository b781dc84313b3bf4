//! What the database stores (SQLite, PostgreSQL) share: the *pack* layout of their rows.
//!
//! Both keep one row per (target, metric, label) holding a pack of that row's series (one
//! entry per process, dims and layout, see [`codec`]), a `totals` pack beside it (see
//! [`totals`]), and interning tables for names, dims and layouts (see [`names`]). The code here
//! knows nothing of a database: it encodes and merges packs ([`merge`]), plans and sums a metric
//! query over packs ([`plan`]) and gives every stored code its meaning ([`codes`]). Mobile rows
//! are not packed: one row each, their buckets encoded and merged by [`mobile`]. Each store
//! keeps only its SQL.
//!
//! Errors about stored content are [`StoreErrorKind::Corrupt`] store errors naming the SQLite
//! backend; a store of another backend relabels them at its boundary
//! ([`crate::StoreError::with_backend`]).

pub(crate) mod codec;
pub(crate) mod codes;
pub(crate) mod merge;
pub(crate) mod mobile;
pub(crate) mod names;
pub(crate) mod options;
pub(crate) mod plan;
pub(crate) mod totals;

use crate::error::{Backend, Error, StoreError, StoreErrorKind};

/// Stored content that cannot be read: a corrupt row, an id without its interned value.
pub(crate) fn corrupt(message: impl Into<String>) -> Error {
    StoreError::new(Backend::Sqlite, StoreErrorKind::Corrupt, message).into()
}
