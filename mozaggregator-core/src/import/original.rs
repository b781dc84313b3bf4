//! Reading the database of the retired original service (python_mozaggregator) into a store
//! (feature `postgres`).
//!
//! The original kept one PostgreSQL table per (prefix, channel, version, date), named
//! `{prefix}_{channel}_{version}_{date}` (`build_id_nightly_42_20150601`), with the columns
//! `dimensions jsonb` and `histogram bigint[]`. `dimensions` holds `metric`, `label`, `child`,
//! `application`, `architecture`, `os` and `osVersion` (older tables also `e10sEnabled`, which
//! has no counterpart here and is dropped: rows that differ only by it are merged). `child` is
//! `"false"` (parent), `"true"` (content) or a process name (`"gpu"`); older tables have JSON
//! booleans. `histogram` is the complete histogram over the metric's buckets, then its sum,
//! then its count (the number of contributing histograms). `table_update_dates(tablename,
//! submission_dates text[])` lists the submission dates each table absorbed.
//!
//! Each row becomes a [`SeriesKey`] and a [`Histogram`] over the layout `aggregate` stores the
//! metric under ([`stored_layout`]: the fixed labels of `SCALARS_`, `SIMPLE_MEASURES_` and
//! `[[COUNT]]_` series, use counters as booleans, other histograms from the definitions
//! given). Tables are read one at a time through a cursor ([`FETCH_ROWS`] rows at a time) and
//! each is written as the export importer writes a target ([`super::Importer`]): skipped when
//! the store already absorbed all its dates, so importing again is a no-op.
//!
//! Absorbed dates come from `table_update_dates`. A `submission_date` table without any
//! absorbed its own date. A `build_id` table without any (databases older than that table)
//! is imported as having absorbed its build date — the earliest submission date its pings can
//! have — and listed in [`ImportReport::tables_without_dates`]: ingesting that date again later
//! skips the table rather than counting it twice.
//!
//! Every row read is imported, skipped or rejected by reason ([`ImportReject`]); tables whose
//! name is not a valid table are listed in [`ImportReport::tables_not_imported`].

use std::collections::btree_map::Entry;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use postgres::{Client, Config, NoTls, Row};
use serde::Deserialize;

use super::report::ImportReport;
use super::write::{table_name, write_table, TableRows};
use crate::aggregate::stored_layout;
use crate::date::Date;
use crate::definitions::Definitions;
use crate::error::{Backend, Error, Result, StoreError, StoreErrorKind};
use crate::histogram::Histogram;
use crate::keys::{Dims, Prefix, Process, SeriesKey, Target};
use crate::layout::LayoutSpec;
use crate::reject::ImportReject;
use crate::store::{check_row, redact_url, Store};

/// Rows fetched from the original database at a time.
pub const FETCH_ROWS: i32 = 10_000;

/// How long connecting waits when the URL sets no `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The table of absorbed submission dates.
const UPDATE_DATES: &str = "table_update_dates";

/// How [`OriginalImport`] lays out the rows it reads.
#[derive(Clone, Debug, Default)]
pub struct OriginalOptions {
    /// Histograms.json / Scalars.yaml definitions: the layout of every histogram that is not a
    /// use counter. Without them, only scalars, simple measures, count histograms and use
    /// counters can be imported (the other rows are rejected, `unknown_metric`).
    pub definitions: Definitions,
}

/// Imports the original service's database into a store, table by table, adding up one
/// [`ImportReport`].
pub struct OriginalImport<'s> {
    store: &'s dyn Store,
    options: OriginalOptions,
    report: ImportReport,
    layouts: HashMap<String, Option<LayoutSpec>>,
}

/// A rejected row: why, and details.
type Rejected = (ImportReject, String);

/// One aggregate table of the original database.
struct Table {
    /// Its name in the database.
    name: String,
    target: Target,
}

impl<'s> OriginalImport<'s> {
    /// An import writing into `store`.
    pub fn new(store: &'s dyn Store, options: OriginalOptions) -> Self {
        Self {
            store,
            options,
            report: ImportReport::default(),
            layouts: HashMap::new(),
        }
    }

    /// The report so far.
    pub fn report(&self) -> &ImportReport {
        &self.report
    }

    /// The report of the import.
    pub fn finish(self) -> ImportReport {
        self.report
    }

    /// Reads every aggregate table of the database at `url` (`postgres://…`) and writes it.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a URL that is not a PostgreSQL connection string; a
    /// [`StoreError`] of kind [`StoreErrorKind::Unavailable`] when the database cannot be
    /// reached, and the database's own errors while reading (messages name the database
    /// without its password); store failures. The tables written before the error stay
    /// written (importing again skips them).
    pub fn run(&mut self, url: &str) -> Result<()> {
        let shown = redact_url(url);
        let mut client = connect(url, &shown)?;
        let mut tables = list_tables(&mut client, &mut self.report).map_err(|e| {
            context(
                e,
                &format!("listing the tables of the original database {shown}"),
            )
        })?;
        tables.sort_by(|a, b| a.target.cmp(&b.target));
        let dates = update_dates(&mut client)
            .map_err(|e| context(e, &format!("reading {UPDATE_DATES} of {shown}")))?;
        for table in tables {
            let absorbed = match self.absorbed(&table, dates.get(&table.name)) {
                Ok(absorbed) => absorbed,
                Err(reason) => {
                    let rows = count_rows(&mut client, &table.name)
                        .map_err(|e| context(e, &format!("counting the rows of {}", table.name)))?;
                    self.report.rows_read += rows;
                    self.report
                        .tables_not_imported
                        .push(format!("{}: {reason}", table.name));
                    self.report
                        .reject(&table.name, 1, ImportReject::BadDate, rows, reason);
                    continue;
                }
            };
            self.table(&mut client, &table, absorbed)
                .map_err(|e| context(e, &format!("reading table {} of {shown}", table.name)))?;
        }
        Ok(())
    }

    /// The submission dates `table` absorbed: those recorded, else its own date (listed in the
    /// report for a `build_id` table); `Err` when a recorded date is not a date.
    fn absorbed(
        &mut self,
        table: &Table,
        recorded: Option<&Vec<Option<String>>>,
    ) -> Result<Vec<Date>, String> {
        let mut dates = BTreeSet::new();
        for date in recorded.into_iter().flatten() {
            let Some(date) = date else {
                return Err(format!("{UPDATE_DATES} lists NULL for it"));
            };
            dates.insert(Date::parse_as("absorbed date", date).map_err(|e| e.to_string())?);
        }
        if dates.is_empty() {
            if table.target.prefix == Prefix::BuildId {
                self.report
                    .tables_without_dates
                    .push(table_name(&table.target));
            }
            dates.insert(table.target.date);
        }
        Ok(dates.into_iter().collect())
    }

    /// Reads one table through a cursor and writes its rows.
    fn table(&mut self, client: &mut Client, table: &Table, absorbed: Vec<Date>) -> Result<()> {
        let mut rows = TableRows::new(table.target.clone(), absorbed, 1);
        let mut tx = client.build_transaction().read_only(true).start()?;
        let stmt = tx.prepare(&format!(
            "SELECT dimensions::text, histogram FROM {}",
            quote_ident(&table.name)
        ))?;
        let portal = tx.bind(&stmt, &[])?;
        let mut line = 0u64;
        loop {
            let batch = tx.query_portal(&portal, FETCH_ROWS)?;
            if batch.is_empty() {
                break;
            }
            for row in &batch {
                line += 1;
                self.report.rows_read += 1;
                match self.row(&table.target, row) {
                    Ok((key, histogram)) => self.add(&table.name, line, &mut rows, key, histogram),
                    Err((reason, detail)) => {
                        self.report.reject(&table.name, line, reason, 1, detail);
                    }
                }
            }
        }
        drop(tx);
        self.report.inputs_read += 1;
        write_table(self.store, &mut self.report, &table.name, rows)
    }

    /// Adds a row to its table's rows, merging it into an earlier row of the same series
    /// (rows that differed by a dimension dropped here, such as `e10sEnabled`).
    fn add(
        &mut self,
        input: &str,
        line: u64,
        rows: &mut TableRows,
        key: SeriesKey,
        histogram: Histogram,
    ) {
        match rows.rows.entry((key, histogram.layout())) {
            Entry::Vacant(slot) => {
                slot.insert(histogram);
                rows.rows_read += 1;
            }
            Entry::Occupied(mut slot) => match slot.get_mut().merge(&histogram) {
                Ok(()) => rows.rows_read += 1,
                Err(e) => self.report.reject(
                    input,
                    line,
                    ImportReject::MergeOverflow,
                    1,
                    format!("merging it into an earlier row of the same series: {e}"),
                ),
            },
        }
    }

    /// One row as a series key and histogram, checked.
    fn row(&mut self, target: &Target, row: &Row) -> Result<(SeriesKey, Histogram), Rejected> {
        let dims: Option<String> = row
            .try_get(0)
            .map_err(|e| (ImportReject::MalformedDimensions, e.to_string()))?;
        let dims = dims.ok_or_else(|| {
            (
                ImportReject::MalformedDimensions,
                "dimensions is NULL".to_string(),
            )
        })?;
        let dims: RawDims = serde_json::from_str(&dims).map_err(|e| {
            (
                ImportReject::MalformedDimensions,
                format!("{e}: {}", shorten(&dims)),
            )
        })?;
        let process = dims.child.process()?;
        let spec = self.layout(&dims.metric).ok_or_else(|| {
            (
                ImportReject::UnknownMetric,
                format!("no definition gives `{}` a layout", dims.metric),
            )
        })?;
        let array: Option<Vec<Option<i64>>> = row
            .try_get(1)
            .map_err(|e| (ImportReject::BadArray, e.to_string()))?;
        let array = array.ok_or_else(|| (ImportReject::BadArray, "histogram is NULL".into()))?;
        if array.len() != spec.len() + 2 {
            return Err((
                ImportReject::ArrayLength,
                format!(
                    "`{}`: {} numbers; its layout ({} {} buckets) takes {} (buckets, sum, count)",
                    dims.metric,
                    array.len(),
                    spec.len(),
                    spec.kind(),
                    spec.len() + 2
                ),
            ));
        }
        let mut numbers = Vec::with_capacity(array.len());
        for (i, n) in array.into_iter().enumerate() {
            match n.map(u64::try_from) {
                Some(Ok(n)) => numbers.push(n),
                Some(Err(_)) | None => {
                    let what = n.map_or("NULL".to_string(), |n| n.to_string());
                    return Err((ImportReject::BadArray, format!("element {i} is {what}")));
                }
            }
        }
        let (count, sum) = match (numbers.pop(), numbers.pop()) {
            (Some(count), Some(sum)) => (count, sum),
            _ => return Err((ImportReject::ArrayLength, "fewer than 2 numbers".into())),
        };
        if count == 0 && (sum > 0 || numbers.iter().any(|&c| c > 0)) {
            return Err((
                ImportReject::InconsistentCounts,
                format!("count 0 with sum {sum} and non-zero buckets"),
            ));
        }
        let histogram = Histogram::from_parts(spec, numbers, sum, count)
            .map_err(|e| (ImportReject::ArrayLength, e.to_string()))?;
        let key = SeriesKey {
            metric: dims.metric,
            label: dims.label,
            process,
            dims: Dims {
                application: dims.application,
                architecture: dims.architecture,
                os: dims.os,
                os_version: dims.os_version,
            },
        };
        check_row(target, &key, &histogram)
            .map_err(|r| (ImportReject::from(r), format!("the store refuses it: {r}")))?;
        Ok((key, histogram))
    }

    /// The layout of `metric` ([`stored_layout`], remembered per metric).
    fn layout(&mut self, metric: &str) -> Option<LayoutSpec> {
        if let Some(spec) = self.layouts.get(metric) {
            return *spec;
        }
        let spec = stored_layout(&self.options.definitions, metric);
        self.layouts.insert(metric.to_string(), spec);
        spec
    }
}

/// `dimensions` as the original wrote them; other keys (`e10sEnabled`) are ignored.
#[derive(Deserialize)]
struct RawDims {
    metric: String,
    label: String,
    child: Child,
    application: String,
    architecture: String,
    os: String,
    #[serde(rename = "osVersion", alias = "os_version")]
    os_version: String,
}

/// `child`: a JSON boolean in older tables, a string in newer ones.
#[derive(Deserialize)]
#[serde(untagged)]
enum Child {
    Bool(bool),
    Text(String),
}

impl Child {
    fn process(&self) -> Result<Process, Rejected> {
        match self {
            Child::Bool(false) => Ok(Process::Parent),
            Child::Bool(true) => Ok(Process::Content),
            Child::Text(t) => match t.as_str() {
                "false" | "parent" => Ok(Process::Parent),
                "true" | "content" => Ok(Process::Content),
                "gpu" => Ok(Process::Gpu),
                other => Err((
                    ImportReject::UnknownChild,
                    format!("child `{}` names no process", shorten(other)),
                )),
            },
        }
    }
}

/// Connects to the original database (no TLS, as the store does).
fn connect(url: &str, shown: &str) -> Result<Client> {
    let mut config: Config = url.parse().map_err(|e: postgres::Error| {
        Error::invalid(
            "original database URL",
            format!("{shown}: {}", redact_url(&e.to_string())),
        )
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    config.connect(NoTls).map_err(|e| {
        let message = format!(
            "cannot connect to the original database {shown}: {}",
            redact_url(&e.to_string())
        );
        Error::Store(StoreError::new(
            Backend::Postgres,
            StoreErrorKind::Unavailable,
            message,
        ))
    })
}

/// The aggregate tables of the current schema; names that look like aggregate tables but are
/// not valid ones go to the report.
fn list_tables(client: &mut Client, report: &mut ImportReport) -> Result<Vec<Table>> {
    let rows = client.query(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
         ORDER BY table_name",
        &[],
    )?;
    let mut tables = Vec::new();
    for row in rows {
        let name: String = row.try_get(0)?;
        match parse_table_name(&name) {
            None => {}
            Some(Ok(target)) => tables.push(Table { name, target }),
            Some(Err(reason)) => report.tables_not_imported.push(format!("{name}: {reason}")),
        }
    }
    Ok(tables)
}

/// The target a table name stands for: `None` when the name is not an aggregate table's
/// (`table_update_dates`, `filter_options`, …); `Err` when it starts like one but is no valid
/// table.
fn parse_table_name(name: &str) -> Option<Result<Target, String>> {
    let (prefix, rest) = [Prefix::BuildId, Prefix::SubmissionDate]
        .into_iter()
        .find_map(|p| {
            name.strip_prefix(p.as_str())
                .and_then(|r| r.strip_prefix('_'))
                .map(|r| (p, r))
        })?;
    let mut parts = rest.rsplitn(3, '_');
    let (Some(date), Some(version), Some(channel)) = (parts.next(), parts.next(), parts.next())
    else {
        return Some(Err("not {prefix}_{channel}_{version}_{date}".into()));
    };
    if channel.is_empty() {
        return Some(Err("no channel".into()));
    }
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Err(format!("version `{version}` is not a number")));
    }
    let date = match Date::parse_as("table date", date) {
        Ok(date) => date,
        Err(e) => return Some(Err(e.to_string())),
    };
    Some(Ok(Target {
        prefix,
        channel: channel.to_string(),
        version: version.to_string(),
        date,
    }))
}

/// The submission dates of `table_update_dates` per table name (empty when there is no such
/// table).
fn update_dates(client: &mut Client) -> Result<HashMap<String, Vec<Option<String>>>> {
    let exists: Option<String> = client
        .query_one("SELECT to_regclass($1)::text", &[&UPDATE_DATES])?
        .try_get(0)?;
    let mut dates = HashMap::new();
    if exists.is_none() {
        return Ok(dates);
    }
    let rows = client.query(
        &format!("SELECT tablename::text, submission_dates::text[] FROM {UPDATE_DATES}"),
        &[],
    )?;
    for row in rows {
        let name: Option<String> = row.try_get(0)?;
        let list: Option<Vec<Option<String>>> = row.try_get(1)?;
        if let Some(name) = name {
            dates
                .entry(name)
                .or_insert_with(Vec::new)
                .extend(list.into_iter().flatten());
        }
    }
    Ok(dates)
}

/// The number of rows of a table.
fn count_rows(client: &mut Client, table: &str) -> Result<u64> {
    let n: i64 = client
        .query_one(&format!("SELECT count(*) FROM {}", quote_ident(table)), &[])?
        .try_get(0)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// `name` as a quoted SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The first 200 characters of `text`, for messages.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// `err` with `what` was being done before its message (store errors; others unchanged).
fn context(err: Error, what: &str) -> Error {
    match err {
        Error::Store(e) => Error::Store(e.context(what)),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_parse_into_targets() {
        let t = parse_table_name("build_id_nightly_42_20150601").and_then(Result::ok);
        assert_eq!(
            t,
            Some(Target {
                prefix: Prefix::BuildId,
                channel: "nightly".into(),
                version: "42".into(),
                date: Date::parse("20150601").unwrap(),
            })
        );
        let t = parse_table_name("submission_date_beta_41_20150602").and_then(Result::ok);
        assert_eq!(t.map(|t| t.prefix), Some(Prefix::SubmissionDate));
        assert!(parse_table_name("table_update_dates").is_none());
        assert!(parse_table_name("filter_options").is_none());
        assert!(parse_table_name("build_idx").is_none());
        assert!(matches!(
            parse_table_name("build_id_nightly_42_20151399"),
            Some(Err(_))
        ));
        assert!(matches!(
            parse_table_name("build_id_nightly_4x_20150601"),
            Some(Err(_))
        ));
        assert!(matches!(
            parse_table_name("build_id_20150601"),
            Some(Err(_))
        ));
    }

    #[test]
    fn child_values_name_processes() {
        let p = |json: &str| {
            serde_json::from_str::<Child>(json)
                .map_err(|_| ())
                .and_then(|c| c.process().map_err(|_| ()))
        };
        assert_eq!(p("\"false\""), Ok(Process::Parent));
        assert_eq!(p("\"true\""), Ok(Process::Content));
        assert_eq!(p("\"gpu\""), Ok(Process::Gpu));
        assert_eq!(p("true"), Ok(Process::Content));
        assert_eq!(p("false"), Ok(Process::Parent));
        assert_eq!(p("\"extension\""), Err(()));
        assert_eq!(p("3"), Err(()));
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(shorten(&"x".repeat(300)).chars().count(), 201);
    }
}
