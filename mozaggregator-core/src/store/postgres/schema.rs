//! The PostgreSQL schema (in the database schema `mozaggregator`), its version and forward
//! migrations.
//!
//! The tables mirror the SQLite store's (see `docs/store.md`): interned names, dims and
//! layouts; `targets`; one `series` row per (target, metric, label) holding the pack of its
//! series and the pack of its totals. `series` is partitioned by target, one partition per
//! target table (`series_<id>`), so a metric query reads one index entry per date, and trimming
//! a date drops its partitions instead of deleting rows.

use postgres::Transaction;

use super::fault::other;
use crate::error::{Backend, Error, Result, StoreError, StoreErrorKind};

/// The schema version this build writes and reads.
pub const PG_SCHEMA_VERSION: i64 = 3;

/// `MIGRATIONS[v]` upgrades the schema from version `v` to `v + 1`; version 0 is a database
/// without the `mozaggregator` schema.
const MIGRATIONS: [&str; PG_SCHEMA_VERSION as usize] = [V1, V2, V3];

const V1: &str = "
CREATE SCHEMA mozaggregator;
CREATE TABLE mozaggregator.meta (key text PRIMARY KEY, value bigint NOT NULL);
INSERT INTO mozaggregator.meta (key, value) VALUES ('data_version', 0), ('schema_version', 0);
CREATE TABLE mozaggregator.metrics (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE mozaggregator.labels (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
INSERT INTO mozaggregator.labels (id, name) VALUES (0, '');
CREATE TABLE mozaggregator.dims (
    id           serial PRIMARY KEY,
    application  text NOT NULL,
    architecture text NOT NULL,
    os           text NOT NULL,
    os_version   text NOT NULL,
    UNIQUE (application, architecture, os, os_version)
);
CREATE TABLE mozaggregator.layouts (
    id   serial PRIMARY KEY,
    kind integer NOT NULL,
    low  bigint NOT NULL,
    high bigint NOT NULL,
    n    integer NOT NULL,
    UNIQUE (kind, low, high, n)
);
CREATE TABLE mozaggregator.targets (
    id      serial PRIMARY KEY,
    prefix  smallint NOT NULL,
    channel text NOT NULL,
    version text NOT NULL,
    date    text NOT NULL,
    UNIQUE (prefix, channel, version, date)
);
CREATE INDEX targets_by_date ON mozaggregator.targets (date);
CREATE TABLE mozaggregator.absorbed (
    target_id       integer NOT NULL,
    submission_date text NOT NULL,
    PRIMARY KEY (target_id, submission_date)
);
CREATE TABLE mozaggregator.target_options (
    target_id integer NOT NULL,
    kind      smallint NOT NULL,
    value     integer NOT NULL,
    PRIMARY KEY (target_id, kind, value)
);
CREATE TABLE mozaggregator.options (
    channel text NOT NULL,
    version text NOT NULL,
    kind    smallint NOT NULL,
    value   integer NOT NULL,
    PRIMARY KEY (channel, version, kind, value)
);
CREATE TABLE mozaggregator.series (
    target_id integer NOT NULL,
    metric_id integer NOT NULL,
    label_id  integer NOT NULL,
    data      bytea NOT NULL,
    totals    bytea NOT NULL,
    PRIMARY KEY (target_id, metric_id, label_id)
) PARTITION BY LIST (target_id);
";

/// Version 2: mobile rows (`Store::write_mobile`), as in the SQLite store's version 4: a
/// mobile table is a `targets` row of prefix code 2 with its date in `absorbed` (and no
/// partition of `series`); each of its rows is one `mobile_rows` row keyed by the table, the
/// eight strings of its key and its layout (0: none; else a `layouts` id), holding its count,
/// sum and buckets (see packed/mobile.rs).
const V2: &str = "
CREATE TABLE mozaggregator.mobile_rows (
    target_id    integer NOT NULL,
    build_id     text NOT NULL,
    application  text NOT NULL,
    architecture text NOT NULL,
    os           text NOT NULL,
    os_version   text NOT NULL,
    metric       text NOT NULL,
    key          text NOT NULL,
    process      text NOT NULL,
    layout_id    integer NOT NULL,
    count        bigint NOT NULL,
    sum          bigint NOT NULL,
    buckets      bytea NOT NULL,
    PRIMARY KEY (target_id, build_id, application, architecture, os, os_version, metric, key,
                 process, layout_id)
);
";

/// Version 3: a `totals` pack may hold per-OS sums over every process after its sums over all
/// dims (see totals.rs), which earlier builds cannot read; the version keeps those builds
/// away. Nothing changes in the tables: rows written before have no per-OS sums, and a query
/// needing them reads those rows' packs.
const V3: &str = "SELECT 1;";

/// The key of the advisory lock that serialises writers (and migrations) across processes:
/// "MZAG" as a number.
pub(crate) const WRITE_LOCK: i64 = 0x4d5a_4147;

/// Brings the database to [`PG_SCHEMA_VERSION`]: creates the schema in a database without
/// it, runs forward migrations on an older one, refuses a newer one.
pub(crate) fn migrate(tx: &mut Transaction<'_>) -> Result<()> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
    let version = stored_version(tx)?;
    if version > PG_SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found: version,
            supported: PG_SCHEMA_VERSION,
        });
    }
    if version < 0 {
        return Err(other(format!("invalid store schema version {version}")));
    }
    for step in MIGRATIONS
        .iter()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.batch_execute(step)?;
    }
    tx.execute(
        "UPDATE mozaggregator.meta SET value = $1 WHERE key = 'schema_version'",
        &[&PG_SCHEMA_VERSION],
    )?;
    Ok(())
}

/// The schema version of the database: 0 without the `mozaggregator` schema.
pub(crate) fn stored_version(tx: &mut Transaction<'_>) -> Result<i64> {
    let row = tx.query_one(
        "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'mozaggregator')",
        &[],
    )?;
    let exists: bool = super::fault::col(&row, 0)?;
    if !exists {
        return Ok(0);
    }
    let row = tx.query_opt(
        "SELECT value FROM mozaggregator.meta WHERE key = 'schema_version'",
        &[],
    );
    match row {
        Ok(Some(row)) => match row.try_get::<_, i64>(0) {
            Ok(version) => Ok(version),
            Err(_) => Err(not_a_store()),
        },
        _ => Err(not_a_store()),
    }
}

/// The error for a `mozaggregator` schema that is not ours.
fn not_a_store() -> Error {
    StoreError::new(
        Backend::Postgres,
        StoreErrorKind::NotAStore,
        "the database has a `mozaggregator` schema that is not a mozaggregator store",
    )
    .into()
}

/// The name of the partition of `series` holding target `id`.
pub(crate) fn partition(id: i32) -> String {
    format!("mozaggregator.series_{id}")
}
