//! The SQLite schema, its version and forward migrations, and connection settings.

use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use super::fault::{corrupt, other};
use crate::error::{Backend, Error, Result, StoreError, StoreErrorKind};
use crate::store::packed::totals::Fold;

/// The schema version this build writes and reads (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 5;

/// `PRAGMA application_id` of mozaggregator stores ("MZAG").
pub(crate) const APPLICATION_ID: i64 = 0x4d5a_4147;

/// `MIGRATIONS[v]` upgrades a store from schema version `v` to `v + 1`; version 0 is an empty
/// database.
const MIGRATIONS: [Migration; SCHEMA_VERSION as usize] = [
    Migration {
        sql: V1,
        then: None,
    },
    Migration {
        sql: V2,
        then: Some(fill_totals),
    },
    Migration {
        sql: V3,
        then: None,
    },
    Migration {
        sql: V4,
        then: None,
    },
    Migration {
        sql: V5,
        then: Some(fill_totals),
    },
];

/// One forward migration: SQL, then optionally a step in Rust.
struct Migration {
    sql: &'static str,
    then: Option<fn(&Connection) -> Result<()>>,
}

const V1: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('data_version', 0);

CREATE TABLE metrics (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE labels  (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
INSERT INTO labels (id, name) VALUES (0, '');
CREATE TABLE dims (
    id           INTEGER PRIMARY KEY,
    application  TEXT NOT NULL,
    architecture TEXT NOT NULL,
    os           TEXT NOT NULL,
    os_version   TEXT NOT NULL,
    UNIQUE (application, architecture, os, os_version)
);
CREATE TABLE layouts (
    id   INTEGER PRIMARY KEY,
    kind INTEGER NOT NULL,
    low  INTEGER NOT NULL,
    high INTEGER NOT NULL,
    n    INTEGER NOT NULL,
    UNIQUE (kind, low, high, n)
);
CREATE TABLE targets (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    prefix  INTEGER NOT NULL,
    channel TEXT NOT NULL,
    version TEXT NOT NULL,
    date    TEXT NOT NULL,
    UNIQUE (prefix, channel, version, date)
);
CREATE INDEX targets_by_date ON targets (date);
CREATE TABLE absorbed (
    target_id       INTEGER NOT NULL,
    submission_date TEXT NOT NULL,
    PRIMARY KEY (target_id, submission_date)
) WITHOUT ROWID;
-- One row per (target, metric, label): a pack of the series of every process, dims and
-- layout (see codec.rs). A rowid table, because packs can be a few kilobytes.
CREATE TABLE series (
    target_id INTEGER NOT NULL,
    metric_id INTEGER NOT NULL,
    label_id  INTEGER NOT NULL,
    data      BLOB NOT NULL,
    UNIQUE (target_id, metric_id, label_id)
);
-- The option values of each target, to recompute `options` after a trim.
CREATE TABLE target_options (
    target_id INTEGER NOT NULL,
    kind      INTEGER NOT NULL,
    value     INTEGER NOT NULL,
    PRIMARY KEY (target_id, kind, value)
) WITHOUT ROWID;
CREATE TABLE options (
    channel TEXT NOT NULL,
    version TEXT NOT NULL,
    kind    INTEGER NOT NULL,
    value   INTEGER NOT NULL,
    PRIMARY KEY (channel, version, kind, value)
) WITHOUT ROWID;
";

/// Version 2: the `totals` of each `series` row (see totals.rs), filled from the stored packs.
/// Keyed by metric first, so that one metric's rows of consecutive targets (a channel's dates
/// written day after day) are neighbours: a query reads them in one range scan.
const V2: &str = "
CREATE TABLE totals (
    metric_id INTEGER NOT NULL,
    target_id INTEGER NOT NULL,
    label_id  INTEGER NOT NULL,
    data      BLOB NOT NULL,
    PRIMARY KEY (metric_id, target_id, label_id)
) WITHOUT ROWID;
";

/// Version 3: replicate groups (`aggregate --replicates R`). Each absorbed submission date
/// records the R it was written with (0: none). `replicate_series` holds, per (target, metric,
/// label), one pack of every group's series (the dims field of its entries carries the group,
/// see codes.rs); `replicate_totals` its totals per (process, group, layout).
const V3: &str = "
ALTER TABLE absorbed ADD COLUMN replicates INTEGER NOT NULL DEFAULT 0;
CREATE TABLE replicate_series (
    target_id INTEGER NOT NULL,
    metric_id INTEGER NOT NULL,
    label_id  INTEGER NOT NULL,
    data      BLOB NOT NULL,
    UNIQUE (target_id, metric_id, label_id)
);
CREATE TABLE replicate_totals (
    metric_id INTEGER NOT NULL,
    target_id INTEGER NOT NULL,
    label_id  INTEGER NOT NULL,
    data      BLOB NOT NULL,
    PRIMARY KEY (metric_id, target_id, label_id)
) WITHOUT ROWID;
";

/// Version 4: mobile rows (`Store::write_mobile`). A mobile table is a `targets` row of prefix
/// code 2 with its absorbed date in `absorbed`; each of its rows is one `mobile_rows` row keyed
/// by the table, the eight strings of its key and its layout (0: none, values as sent; else a
/// `layouts` id), holding its count, sum and buckets (see packed/mobile.rs). The primary key
/// orders a table's rows as a scan visits them, up to the layout.
const V4: &str = "
CREATE TABLE mobile_rows (
    target_id    INTEGER NOT NULL,
    build_id     TEXT NOT NULL,
    application  TEXT NOT NULL,
    architecture TEXT NOT NULL,
    os           TEXT NOT NULL,
    os_version   TEXT NOT NULL,
    metric       TEXT NOT NULL,
    key          TEXT NOT NULL,
    process      TEXT NOT NULL,
    layout_id    INTEGER NOT NULL,
    count        INTEGER NOT NULL,
    sum          INTEGER NOT NULL,
    buckets      BLOB NOT NULL,
    PRIMARY KEY (target_id, build_id, application, architecture, os, os_version, metric, key,
                 process, layout_id)
) WITHOUT ROWID;
";

/// Version 5: `totals` rows hold per-OS sums over every process after the sums over all dims
/// (see totals.rs), which earlier builds cannot read. They are computed again from the packs.
const V5: &str = "DELETE FROM totals;";

/// The tables of a fold: (`series`, `totals`), or their replicate twins (version 3).
pub(super) fn tables(fold: Fold) -> (&'static str, &'static str) {
    match fold {
        Fold::AllDims => ("series", "totals"),
        Fold::PerGroup => ("replicate_series", "replicate_totals"),
    }
}

/// Computes the totals of every stored `series` row (migrations to versions 2 and 5).
fn fill_totals(conn: &Connection) -> Result<()> {
    let mut ids = super::write::StoredIds::new(conn);
    let mut select = conn.prepare("SELECT target_id, metric_id, label_id, data FROM series")?;
    let mut insert = conn.prepare(
        "INSERT INTO totals (target_id, metric_id, label_id, data) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut rows = select.query([])?;
    let mut out = Vec::with_capacity(512);
    while let Some(row) = rows.next()? {
        let (target, metric, label): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let pack = row
            .get_ref(3)?
            .as_blob()
            .map_err(|e| corrupt(format!("series data: {e}")))?;
        crate::store::packed::totals::of_pack(pack, &mut ids, &mut out)?;
        insert.execute(rusqlite::params![target, metric, label, out])?;
    }
    Ok(())
}

/// Settings of every connection. The page size takes effect in a new store only: packs of one
/// to a few kilobytes leave a quarter of 4 KiB pages unused, an eighth of 8 KiB ones.
pub(crate) fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(60))?;
    conn.execute_batch(
        "PRAGMA page_size = 8192;
         PRAGMA cache_size = -65536;
         PRAGMA temp_store = MEMORY;
         PRAGMA mmap_size = 1073741824;
         PRAGMA foreign_keys = OFF;",
    )?;
    Ok(())
}

/// Settings of the writer connection of a file store.
pub(crate) fn configure_writer(conn: &Connection) -> Result<()> {
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
        return Err(other(format!(
            "cannot switch the store to WAL mode (journal_mode is {mode})"
        )));
    }
    conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
    Ok(())
}

/// Brings the database to [`SCHEMA_VERSION`]: creates the schema in an empty database, runs
/// forward migrations on an older one, refuses a newer one or a foreign database.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let app_id: i64 = tx.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version < 0 {
        return Err(corrupt(format!("invalid store schema version {version}")));
    }
    if app_id != APPLICATION_ID {
        let tables: i64 = tx.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
        if tables > 0 || version != 0 {
            return Err(StoreError::new(
                Backend::Sqlite,
                StoreErrorKind::NotAStore,
                "the file is an SQLite database but not a mozaggregator store",
            )
            .into());
        }
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    for step in MIGRATIONS.iter().skip(version as usize) {
        tx.execute_batch(step.sql)?;
        if let Some(then) = step.then {
            then(&tx)?;
        }
    }
    tx.execute_batch(&format!(
        "PRAGMA user_version = {SCHEMA_VERSION}; PRAGMA application_id = {APPLICATION_ID};"
    ))?;
    tx.commit()?;
    Ok(())
}

/// Checks, on a reader connection, that the schema is one this build reads.
pub(crate) fn check_version(conn: &Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version < SCHEMA_VERSION {
        return Err(other(format!(
            "store schema version {version} needs a migration; open it for writing first"
        )));
    }
    Ok(())
}
