//! The read path: listings, filter options, metric queries and scans, each inside the
//! caller's snapshot, with the interned names complete for it.

use std::collections::{BTreeSet, HashMap as StdMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use hashbrown::HashMap;
use postgres::types::Type;
use postgres::{GenericClient, SimpleQueryMessage};

use super::fault::{col, date_col, layout_at};
use super::pool::Statements;
use crate::date::Date;
use crate::error::Result;
use crate::histogram::Histogram;
use crate::keys::{DateVersion, Dims, Prefix, SeriesKey, Target};
use crate::layout::LayoutSpec;
use crate::store::packed::codes::{prefix_code, prefix_from_code};
use crate::store::packed::names::Names;
use crate::store::packed::options;
use crate::store::packed::plan::{self, process, Groups, Plan};
use crate::store::packed::totals::Fold;
use crate::store::packed::{codec, corrupt};
use crate::store::{FilterOptions, QueryRow, Selection, SeriesQuery, StoreStats};

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The table ids of each (prefix, channel, version) by date, as of one data version: they change
/// only with it (creating or dropping a table bumps it), so queries at that version read them
/// from memory instead of the database.
#[derive(Default)]
pub(super) struct TableIds {
    version: Option<u64>,
    by: StdMap<(Prefix, String, String), Arc<Map<Date, i32>>>,
}

/// What a read knows of its snapshot: its data version, and the table ids shared by reads.
pub(super) struct Snapshot<'a> {
    pub(super) version: u64,
    pub(super) table_ids: &'a Mutex<TableIds>,
}

impl Snapshot<'_> {
    /// The table ids by date of the query's (prefix, channel, version) in this snapshot.
    fn table_ids(
        &self,
        tx: &mut impl GenericClient,
        q: &SeriesQuery,
    ) -> Result<Arc<Map<Date, i32>>> {
        let key = (q.prefix, q.channel.clone(), q.version.clone());
        {
            let cache = self
                .table_ids
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if cache.version == Some(self.version) {
                if let Some(ids) = cache.by.get(&key) {
                    return Ok(Arc::clone(ids));
                }
            }
        }
        let rows = tx.query_typed(
            "SELECT date, id FROM mozaggregator.targets
             WHERE prefix = $1 AND channel = $2 AND version = $3",
            &[
                (&prefix_param(q.prefix), Type::INT2),
                (&q.channel, Type::TEXT),
                (&q.version, Type::TEXT),
            ],
        )?;
        let ids: Arc<Map<Date, i32>> = Arc::new(
            rows.iter()
                .map(|r| Ok((date_col(r, 0)?, col(r, 1)?)))
                .collect::<Result<_>>()?,
        );
        let mut cache = self
            .table_ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if cache.version != Some(self.version) {
            // Snapshots of another version may still run: keep only the newest version.
            if cache.version.is_some_and(|v| v > self.version) {
                return Ok(ids);
            }
            cache.by.clear();
            cache.version = Some(self.version);
        }
        cache.by.insert(key, Arc::clone(&ids));
        Ok(ids)
    }
}

/// Starts a read-only repeatable-read transaction and reads the data version of its snapshot,
/// in one round trip.
pub(super) fn begin_snapshot(client: &mut impl GenericClient) -> Result<u64> {
    let messages = client.simple_query(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
         SELECT value FROM mozaggregator.meta WHERE key = 'data_version'",
    )?;
    let value = messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => Some(row.get(0)),
        _ => None,
    });
    let value = value
        .flatten()
        .ok_or_else(|| corrupt("the data version is missing"))?;
    value
        .parse()
        .map_err(|_| corrupt(format!("invalid data version {value}")))
}

/// The stored data version counter.
pub(super) fn stored_version(tx: &mut impl GenericClient) -> Result<u64> {
    let rows = tx.query_typed(
        "SELECT value FROM mozaggregator.meta WHERE key = 'data_version'",
        &[],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| corrupt("the data version is missing"))?;
    let v: i64 = col(row, 0)?;
    u64::try_from(v).map_err(|_| corrupt(format!("negative data version {v}")))
}

/// Loads the interned rows added since `names` was last refreshed.
pub(super) fn refresh(names: &mut Names, tx: &mut impl GenericClient, version: u64) -> Result<()> {
    let from = names.loaded();
    let from_i32 = |id: i64| i32::try_from(id).unwrap_or(i32::MAX);
    for row in tx.query(
        "SELECT id, name FROM mozaggregator.metrics WHERE id >= $1",
        &[&from_i32(from.metrics)],
    )? {
        names.add_metric(i64::from(col::<i32>(&row, 0)?), col(&row, 1)?)?;
    }
    for row in tx.query(
        "SELECT id, name FROM mozaggregator.labels WHERE id >= $1",
        &[&from_i32(from.labels)],
    )? {
        names.add_label(i64::from(col::<i32>(&row, 0)?), col(&row, 1)?)?;
    }
    for row in tx.query(
        "SELECT id, application, architecture, os, os_version FROM mozaggregator.dims
         WHERE id >= $1",
        &[&from_i32(from.dims)],
    )? {
        let dims = Dims {
            application: col(&row, 1)?,
            architecture: col(&row, 2)?,
            os: col(&row, 3)?,
            os_version: col(&row, 4)?,
        };
        names.add_dims(i64::from(col::<i32>(&row, 0)?), dims)?;
    }
    for row in tx.query(
        "SELECT id, kind, low, high, n FROM mozaggregator.layouts WHERE id >= $1",
        &[&from_i32(from.layouts)],
    )? {
        let layout = layout_at(&row, 1)?;
        names.add_layout(i64::from(col::<i32>(&row, 0)?), layout)?;
    }
    names.mark_fresh(version);
    Ok(())
}

fn prefix_param(prefix: Prefix) -> i16 {
    i16::try_from(prefix_code(prefix)).unwrap_or(i16::MAX)
}

pub(super) fn channels(tx: &mut impl GenericClient, prefix: Prefix) -> Result<Vec<String>> {
    let rows = tx.query_typed(
        "SELECT DISTINCT channel FROM mozaggregator.targets WHERE prefix = $1 ORDER BY channel",
        &[(&prefix_param(prefix), Type::INT2)],
    )?;
    rows.iter().map(|r| col(r, 0)).collect()
}

pub(super) fn dates(
    tx: &mut impl GenericClient,
    prefix: Prefix,
    channel: &str,
) -> Result<Vec<DateVersion>> {
    let rows = tx.query_typed(
        "SELECT DISTINCT date, version FROM mozaggregator.targets
         WHERE prefix = $1 AND channel = $2",
        &[(&prefix_param(prefix), Type::INT2), (&channel, Type::TEXT)],
    )?;
    let mut dates: Vec<DateVersion> = rows
        .iter()
        .map(|r| {
            Ok(DateVersion {
                date: date_col(r, 0)?,
                version: col(r, 1)?,
            })
        })
        .collect::<Result<_>>()?;
    crate::keys::sort_dates(&mut dates);
    Ok(dates)
}

/// The id of `target`, `None` when it has no table.
pub(super) fn target_id(tx: &mut impl GenericClient, target: &Target) -> Result<Option<i32>> {
    if crate::store::check_target(target).is_err() {
        // A NUL cannot be sent as text to PostgreSQL, and no table has one in its name.
        return Ok(None);
    }
    let rows = tx.query_typed(
        "SELECT id FROM mozaggregator.targets
         WHERE prefix = $1 AND channel = $2 AND version = $3 AND date = $4",
        &[
            (&prefix_param(target.prefix), Type::INT2),
            (&target.channel, Type::TEXT),
            (&target.version, Type::TEXT),
            (&target.date.to_string(), Type::TEXT),
        ],
    )?;
    rows.first().map(|r| col(r, 0)).transpose()
}

pub(super) fn absorbed(tx: &mut impl GenericClient, target: &Target) -> Result<BTreeSet<Date>> {
    let Some(id) = target_id(tx, target)? else {
        return Ok(BTreeSet::new());
    };
    let rows = tx.query_typed(
        "SELECT submission_date FROM mozaggregator.absorbed WHERE target_id = $1",
        &[(&id, Type::INT4)],
    )?;
    rows.iter().map(|r| date_col(r, 0)).collect()
}

pub(super) fn filter_options(
    tx: &mut impl GenericClient,
    names: &Names,
    channel: &str,
    version: &str,
) -> Result<Option<FilterOptions>> {
    let rows = tx.query_typed(
        "SELECT kind, value FROM mozaggregator.options WHERE channel = $1 AND version = $2",
        &[(&channel, Type::TEXT), (&version, Type::TEXT)],
    )?;
    let pairs = rows
        .iter()
        .map(|row| {
            Ok((
                i64::from(col::<i16>(row, 0)?),
                i64::from(col::<i32>(row, 1)?),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    options::filter_options(names, pairs)
}

pub(super) fn query(
    tx: &mut impl GenericClient,
    statements: &mut Statements,
    snapshot: &Snapshot<'_>,
    names: &Names,
    q: &SeriesQuery,
) -> Result<Vec<QueryRow>> {
    let Some(plan) = Plan::new(names, q) else {
        return Ok(Vec::new());
    };
    let metric_id = i32::try_from(plan.metric_id).map_err(|_| corrupt("metric id range"))?;
    let totals = plan.uses_totals(Fold::AllDims);

    // The requested dates that have a table, each once, in request order.
    let targets = snapshot.table_ids(tx, q)?;
    let mut seen: HashSet<Date> = HashSet::new();
    let wanted: Vec<(Date, i32)> = q
        .dates
        .iter()
        .filter(|d| seen.insert(**d))
        .filter_map(|d| targets.get(d).map(|&id| (*d, id)))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let slot: Map<i32, usize> = wanted
        .iter()
        .enumerate()
        .map(|(i, &(_, id))| (id, i))
        .collect();
    // One branch per table, each pruned to its partition and one index descent: a single
    // `target_id = ANY(…)` condition would be searched in every partition, once per id. The
    // ids are part of the text (integers from the store, not user input), and the prepared
    // statement's plan is made once per connection.
    let mut ids: Vec<i32> = wanted.iter().map(|&(_, id)| id).collect();
    ids.sort_unstable();
    let column = if totals { "totals" } else { "data" };
    let labels = if plan.label_ids.is_some() {
        " AND label_id = ANY($2)"
    } else {
        ""
    };
    let sql = ids
        .iter()
        .map(|id| {
            format!(
                "SELECT target_id, label_id, {column} FROM mozaggregator.series
                 WHERE target_id = {id} AND metric_id = $1{labels}"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let statement = statements.get(tx, sql)?;
    let rows = match &plan.label_ids {
        None => tx.query(&statement, &[&metric_id])?,
        Some(labels) => {
            let labels: Vec<i32> = labels
                .iter()
                .filter_map(|&l| i32::try_from(l).ok())
                .collect();
            tx.query(&statement, &[&metric_id, &labels])?
        }
    };
    let mut groups: Vec<Groups> = wanted.iter().map(|_| Groups::default()).collect();
    for row in rows {
        let target: i32 = col(&row, 0)?;
        let label = i64::from(col::<i32>(&row, 1)?);
        let data: &[u8] = col(&row, 2)?;
        let Some(groups) = slot.get(&target).and_then(|&i| groups.get_mut(i)) else {
            continue;
        };
        if !totals {
            plan.series_row(names, groups, label, data)?;
        } else if !plan.totals_row(names, groups, label, data)? {
            // Totals that could not be made: the pack answers (and reports what is wrong).
            let pack = tx.query_typed(
                "SELECT data FROM mozaggregator.series
                 WHERE target_id = $1 AND metric_id = $2 AND label_id = $3",
                &[
                    (&target, Type::INT4),
                    (&metric_id, Type::INT4),
                    (&col::<i32>(&row, 1)?, Type::INT4),
                ],
            )?;
            let pack = pack
                .first()
                .ok_or_else(|| corrupt(format!("totals without series for label id {label}")))?;
            plan.series_row(names, groups, label, col(pack, 0)?)?;
        }
    }
    plan::finish(names, wanted.iter().map(|&(d, _)| d).zip(groups))
}

/// Counts what the store holds: desktop targets, and the rows and entry headers of each one's
/// series (one target at a time, as `scan` reads them; histograms are not decoded); the size
/// is that of the `mozaggregator` schema's tables with their indexes and TOAST. Mobile tables
/// and rows are counted apart.
pub(super) fn stats(tx: &mut impl GenericClient) -> Result<StoreStats> {
    fn number(tx: &mut impl GenericClient, sql: &str) -> Result<u64> {
        let rows = tx.query_typed(sql, &[])?;
        let row = rows
            .first()
            .ok_or_else(|| corrupt(format!("no answer to {sql}")))?;
        let n: i64 = col(row, 0)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
    let mobile = prefix_param(Prefix::MobileMetrics);
    let mut stats = StoreStats {
        targets: number(
            tx,
            &format!("SELECT count(*) FROM mozaggregator.targets WHERE prefix <> {mobile}"),
        )?,
        mobile_targets: number(
            tx,
            &format!("SELECT count(*) FROM mozaggregator.targets WHERE prefix = {mobile}"),
        )?,
        mobile_rows: number(tx, "SELECT count(*) FROM mozaggregator.mobile_rows")?,
        bytes: Some(number(
            tx,
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'mozaggregator' AND c.relkind = 'r'",
        )?),
        ..StoreStats::default()
    };
    let ids: Vec<i32> = tx
        .query(
            &format!("SELECT id FROM mozaggregator.targets WHERE prefix <> {mobile}"),
            &[],
        )?
        .iter()
        .map(|row| col(row, 0))
        .collect::<Result<_>>()?;
    let stmt = tx.prepare("SELECT data FROM mozaggregator.series WHERE target_id = $1")?;
    for id in &ids {
        for row in tx.query(&stmt, &[id])? {
            stats.rows += 1;
            for entry in codec::entries(col(&row, 0)?)? {
                entry?;
                stats.series += 1;
            }
        }
    }
    Ok(stats)
}

pub(super) fn scan(
    tx: &mut impl GenericClient,
    names: &Names,
    selection: &Selection,
    visit: &mut dyn FnMut(&Target, &SeriesKey, &Histogram) -> Result<()>,
) -> Result<()> {
    let mut targets: Vec<(Target, i32)> = Vec::new();
    for row in tx.query(
        "SELECT id, prefix, channel, version, date FROM mozaggregator.targets",
        &[],
    )? {
        let target = Target {
            prefix: prefix_from_code(i64::from(col::<i16>(&row, 1)?))?,
            channel: col(&row, 2)?,
            version: col(&row, 3)?,
            date: date_col(&row, 4)?,
        };
        // Mobile tables hold no series: a scan never lists them.
        if target.prefix.is_desktop() && selection.matches(&target) {
            targets.push((target, col(&row, 0)?));
        }
    }
    targets.sort();
    let stmt = tx.prepare(
        "SELECT metric_id, label_id, data FROM mozaggregator.series WHERE target_id = $1",
    )?;
    for (target, id) in &targets {
        let mut series: Vec<(SeriesKey, LayoutSpec, Histogram)> = Vec::new();
        for row in tx.query(&stmt, &[id])? {
            let metric = names.metric(i64::from(col::<i32>(&row, 0)?))?;
            let label = names.label(i64::from(col::<i32>(&row, 1)?))?;
            for entry in codec::entries(col(&row, 2)?)? {
                let entry = entry?;
                let layout = names.layout(entry.layout)?;
                let key = SeriesKey {
                    metric: metric.to_string(),
                    label: label.to_string(),
                    process: process(i64::try_from(entry.process).unwrap_or(-1))?,
                    dims: names.dims(entry.dims)?.clone(),
                };
                series.push((key, layout, codec::decode(entry.hist, layout)?));
            }
        }
        series.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        for (key, _, histogram) in &series {
            visit(target, key, histogram)?;
        }
    }
    Ok(())
}
