//! A database in the retired original service's schema, written from a store's content (features
//! `testing` and `postgres`), for tests of `import --from-original`.
//!
//! Each stored table becomes a PostgreSQL table `{prefix}_{channel}_{version}_{date}` with the
//! columns `dimensions jsonb` and `histogram bigint[]`; each series a row whose dimensions are
//! encoded as the original encoded them (`osVersion`; `child` `"false"`, `"true"` or `"gpu"`)
//! and whose array is the buckets, then the sum, then the count. With `update_dates`, the
//! absorbed dates go to `table_update_dates(tablename, submission_dates text[])`.

use std::collections::BTreeMap;

use postgres::{Client, GenericClient, NoTls};
use serde_json::json;

use crate::error::Result;
use crate::keys::{Process, Target};
use crate::store::{Selection, Store};

/// What [`write_store`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Tables created.
    pub tables: u64,
    /// Rows inserted.
    pub rows: u64,
}

/// Connects to the database at `url`.
///
/// # Errors
/// When the database cannot be reached.
pub fn client(url: &str) -> Result<Client> {
    Ok(postgres::Client::connect(url, NoTls)?)
}

/// The original's name of a table.
pub fn table_name(target: &Target) -> String {
    format!(
        "{}_{}_{}_{}",
        target.prefix, target.channel, target.version, target.date
    )
}

/// The original's `child` value of a process.
pub fn child(process: Process) -> &'static str {
    match process {
        Process::Parent => "false",
        Process::Content => "true",
        Process::Gpu => "gpu",
    }
}

/// Creates an aggregate table of the original's schema (if absent).
///
/// # Errors
/// Database failures.
pub fn create_table(client: &mut impl GenericClient, name: &str) -> Result<()> {
    client.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS \"{name}\" (dimensions jsonb, histogram bigint[])"
    ))?;
    Ok(())
}

/// Creates `table_update_dates` (if absent).
///
/// # Errors
/// Database failures.
pub fn create_update_dates(client: &mut impl GenericClient) -> Result<()> {
    client.batch_execute(
        "CREATE TABLE IF NOT EXISTS table_update_dates \
         (tablename text PRIMARY KEY, submission_dates text[])",
    )?;
    Ok(())
}

/// Writes every series of `store` into the database at `url` in the original's schema, and
/// with `update_dates` the dates each table absorbed.
///
/// # Errors
/// Store or database failures; a sum or count beyond `bigint`.
pub fn write_store(url: &str, store: &dyn Store, update_dates: bool) -> Result<Written> {
    let mut client = client(url)?;
    let mut tx = client.transaction()?;
    let insert = |tx: &mut postgres::Transaction<'_>, table: &str| {
        tx.prepare(&format!(
            "INSERT INTO \"{table}\" (dimensions, histogram) VALUES ($1::text::jsonb, $2)"
        ))
    };
    let mut statements = BTreeMap::new();
    let mut written = Written::default();
    let mut rows: Vec<(String, String, Vec<i64>)> = Vec::new();
    store.scan(&Selection::default(), &mut |target, key, histogram| {
        let dims = json!({
            "metric": key.metric,
            "label": key.label,
            "child": child(key.process),
            "application": key.dims.application,
            "architecture": key.dims.architecture,
            "os": key.dims.os,
            "osVersion": key.dims.os_version,
        });
        let mut array: Vec<i64> = histogram
            .counts()
            .iter()
            .map(|&c| i64::try_from(c).unwrap_or(i64::MAX))
            .collect();
        array.push(i64::try_from(histogram.sum()).unwrap_or(i64::MAX));
        array.push(i64::try_from(histogram.count()).unwrap_or(i64::MAX));
        rows.push((table_name(target), dims.to_string(), array));
        Ok(())
    })?;
    for (table, dims, array) in &rows {
        if !statements.contains_key(table) {
            create_table(&mut tx, table)?;
            statements.insert(table.clone(), insert(&mut tx, table)?);
            written.tables += 1;
        }
        if let Some(stmt) = statements.get(table) {
            tx.execute(stmt, &[dims, array])?;
            written.rows += 1;
        }
    }
    if update_dates {
        create_update_dates(&mut tx)?;
        let mut targets = Vec::new();
        store.scan(&Selection::default(), &mut |target, _, _| {
            if targets.last() != Some(target) {
                targets.push(target.clone());
            }
            Ok(())
        })?;
        for target in targets {
            let dates: Vec<String> = store
                .absorbed(&target)?
                .iter()
                .map(ToString::to_string)
                .collect();
            tx.execute(
                "INSERT INTO table_update_dates VALUES ($1, $2)",
                &[&table_name(&target), &dates],
            )?;
        }
    }
    tx.commit()?;
    Ok(written)
}
