//! Export rows as Arrow record batches, in the columns of the original's `aggregates_poc/v1`
//! Parquet data set (plus `kind`): what the Parquet export writes and what Python's
//! `to_arrow()` hands over.
//!
//! | column | type | value |
//! |---|---|---|
//! | `period` | string | `YYYYMM` of the row's date |
//! | `aggregate_type` | string | the prefix: `submission_date`, `build_id` (or `mobile_metrics`) |
//! | `submission_date` | string, nullable | the date on submission-date (and mobile) rows, null on build-id rows |
//! | `channel`, `version` | string | |
//! | `build_id` | string, nullable | the build-id date on build-id rows, null on submission-date rows; a mobile row's build id as sent |
//! | `application`, `architecture`, `os`, `os_version`, `metric` | string | |
//! | `key` | string | the label (`""` when unkeyed) |
//! | `process_type` | string | `parent`, `content` or `gpu` (mobile: the ping's process name) |
//! | `count`, `sum` | int64 | |
//! | `histogram` | map string → int64 | bucket lower bound (or categorical label) → count, empty buckets left out |
//! | `kind` | string | the stored layout's kind (`sparse`: a mobile row kept as sent) |

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, MapBuilder, MapFieldNames, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};

use crate::definitions::Definitions;
use crate::error::{Error, Result};
use crate::export::{ExportBuckets, ExportRow, Exporter, StoredRow};
use crate::keys::Prefix;

/// The columns that a hive-partitioned data set keeps in its directory names
/// (`metric=…/aggregate_type=…/period=…`), in that nesting order.
pub const PARTITION_COLUMNS: [&str; 3] = ["metric", "aggregate_type", "period"];

/// Which columns a [`BatchBuilder`] builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Columns {
    /// Every column ([`schema`]).
    All,
    /// Every column but the [`PARTITION_COLUMNS`] ([`file_schema`]): the columns of a Parquet
    /// file in a hive-partitioned data set.
    WithoutPartitions,
}

/// The map entries' field names, as the Parquet `MAP` convention names them.
fn map_names() -> MapFieldNames {
    MapFieldNames {
        entry: "key_value".to_string(),
        key: "key".to_string(),
        value: "value".to_string(),
    }
}

fn histogram_type() -> DataType {
    let names = map_names();
    let entries = Fields::from(vec![
        Field::new(names.key, DataType::Utf8, false),
        Field::new(names.value, DataType::Int64, false),
    ]);
    DataType::Map(
        Arc::new(Field::new(names.entry, DataType::Struct(entries), false)),
        false,
    )
}

fn fields(columns: Columns) -> Vec<Field> {
    let string = |name: &str| Field::new(name, DataType::Utf8, false);
    let nullable = |name: &str| Field::new(name, DataType::Utf8, true);
    let long = |name: &str| Field::new(name, DataType::Int64, false);
    let all = vec![
        string("period"),
        string("aggregate_type"),
        nullable("submission_date"),
        string("channel"),
        string("version"),
        nullable("build_id"),
        string("application"),
        string("architecture"),
        string("os"),
        string("os_version"),
        string("metric"),
        string("key"),
        string("process_type"),
        long("count"),
        long("sum"),
        Field::new("histogram", histogram_type(), false),
        string("kind"),
    ];
    match columns {
        Columns::All => all,
        Columns::WithoutPartitions => all
            .into_iter()
            .filter(|f| !PARTITION_COLUMNS.contains(&f.name().as_str()))
            .collect(),
    }
}

/// The schema of every column (the module's table), as [`Columns::All`] builds it.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(fields(Columns::All)))
}

/// The schema of a Parquet file of the partitioned data set: [`schema`] without the
/// [`PARTITION_COLUMNS`].
pub fn file_schema() -> SchemaRef {
    Arc::new(Schema::new(fields(Columns::WithoutPartitions)))
}

/// The `period` of a date: its `YYYYMM`.
pub fn period(date: crate::date::Date) -> String {
    let mut text = date.to_string();
    text.truncate(6);
    text
}

/// A count or sum as Arrow's (and Spark's) signed 64-bit integer.
fn long(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| {
        Error::invalid(
            "export",
            format!("{what} {value} does not fit a signed 64-bit Parquet/Arrow column"),
        )
    })
}

/// Accumulates [`ExportRow`]s into Arrow columns and hands them out as [`RecordBatch`]es.
///
/// ```
/// use mozaggregator_core::export::arrow::{BatchBuilder, Columns};
/// use mozaggregator_core::export::Exporter;
/// use mozaggregator_core::{Definitions, Dims, Histogram, LayoutSpec, Prefix, Process, SeriesKey, Target};
/// let defs = Definitions::new();
/// let mut exporter = Exporter::new(&defs);
/// let target = Target { prefix: Prefix::BuildId, channel: "nightly".into(),
///     version: "42".into(), date: "20150601".parse().unwrap() };
/// let key = SeriesKey { metric: "A11Y_FLAG".into(), label: "".into(),
///     process: Process::Parent, dims: Dims::default() };
/// let h = Histogram::from_parts(LayoutSpec::flag(), vec![0, 3, 0], 3, 3).unwrap();
/// let mut builder = BatchBuilder::new(Columns::All);
/// builder.push(&exporter.row(&target, &key, &h)).unwrap();
/// let batch = builder.finish().unwrap();
/// assert_eq!((batch.num_rows(), batch.num_columns()), (1, 17));
/// assert!(builder.is_empty());
/// ```
pub struct BatchBuilder {
    columns: Columns,
    period: StringBuilder,
    aggregate_type: StringBuilder,
    submission_date: StringBuilder,
    channel: StringBuilder,
    version: StringBuilder,
    build_id: StringBuilder,
    application: StringBuilder,
    architecture: StringBuilder,
    os: StringBuilder,
    os_version: StringBuilder,
    metric: StringBuilder,
    key: StringBuilder,
    process_type: StringBuilder,
    count: Int64Builder,
    sum: Int64Builder,
    histogram: MapBuilder<StringBuilder, Int64Builder>,
    kind: StringBuilder,
    rows: usize,
    bytes: usize,
    bucket: String,
}

impl BatchBuilder {
    /// An empty builder of `columns`.
    pub fn new(columns: Columns) -> Self {
        let names = map_names();
        let value = Arc::new(Field::new(names.value.clone(), DataType::Int64, false));
        let histogram = MapBuilder::new(Some(names), StringBuilder::new(), Int64Builder::new())
            .with_values_field(value);
        Self {
            columns,
            period: StringBuilder::new(),
            aggregate_type: StringBuilder::new(),
            submission_date: StringBuilder::new(),
            channel: StringBuilder::new(),
            version: StringBuilder::new(),
            build_id: StringBuilder::new(),
            application: StringBuilder::new(),
            architecture: StringBuilder::new(),
            os: StringBuilder::new(),
            os_version: StringBuilder::new(),
            metric: StringBuilder::new(),
            key: StringBuilder::new(),
            process_type: StringBuilder::new(),
            count: Int64Builder::new(),
            sum: Int64Builder::new(),
            histogram,
            kind: StringBuilder::new(),
            rows: 0,
            bytes: 0,
            bucket: String::new(),
        }
    }

    /// Rows pushed since the last [`BatchBuilder::finish`].
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True when no row was pushed since the last [`BatchBuilder::finish`].
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// A rough count of the bytes the pushed rows hold (for memory bounds).
    pub fn estimated_bytes(&self) -> usize {
        self.bytes
    }

    /// Appends one row.
    ///
    /// # Errors
    /// [`Error::Invalid`] when its count, sum or a bucket count exceeds `i64::MAX` (Arrow's and
    /// Spark's long); nothing is appended then.
    pub fn push(&mut self, row: &ExportRow<'_>) -> Result<()> {
        let count = long(row.count, "count")?;
        let sum = long(row.sum, "sum")?;
        for &c in row.histogram {
            long(c, "bucket count")?;
        }
        let date = row.date.to_string();
        let (submission_date, build_id) = match row.prefix {
            p if p == Prefix::BuildId.as_str() => (None, Some(date.as_str())),
            _ => (Some(date.as_str()), row.build_id),
        };
        if self.columns == Columns::All {
            self.period.append_value(period(row.date));
            self.aggregate_type.append_value(row.prefix);
            self.metric.append_value(row.metric);
        }
        self.submission_date.append_option(submission_date);
        self.channel.append_value(row.channel);
        self.version.append_value(row.version);
        self.build_id.append_option(build_id);
        self.application.append_value(row.application);
        self.architecture.append_value(row.architecture);
        self.os.append_value(row.os);
        self.os_version.append_value(row.os_version);
        self.key.append_value(row.label);
        self.process_type.append_value(row.process);
        self.count.append_value(count);
        self.sum.append_value(sum);
        self.kind.append_value(row.kind);
        let mut bytes = 17 * 8
            + row.channel.len()
            + row.version.len()
            + row.application.len()
            + row.architecture.len()
            + row.os.len()
            + row.os_version.len()
            + row.metric.len()
            + row.label.len()
            + 40;
        for (i, &c) in row.histogram.iter().enumerate() {
            if c == 0 {
                continue;
            }
            let name: &str = match &row.buckets {
                ExportBuckets::Labels(labels) if i < labels.len() => &labels[i],
                ExportBuckets::Bounds(bounds) if i < bounds.len() => {
                    self.bucket.clear();
                    self.bucket.push_str(itoa::Buffer::new().format(bounds[i]));
                    &self.bucket
                }
                _ => {
                    self.bucket.clear();
                    self.bucket.push_str(itoa::Buffer::new().format(i));
                    &self.bucket
                }
            };
            bytes += name.len() + 12;
            self.histogram.keys().append_value(name);
            self.histogram.values().append_value(c as i64);
        }
        self.histogram
            .append(true)
            .map_err(|e| Error::invalid("export", e.to_string()))?;
        self.rows += 1;
        self.bytes += bytes;
        Ok(())
    }

    /// The rows pushed so far as one record batch; the builder is empty afterwards.
    ///
    /// # Errors
    /// [`Error::Invalid`] if Arrow rejects the columns (a bug: they always match the schema).
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(17);
        let all = self.columns == Columns::All;
        if all {
            columns.push(Arc::new(self.period.finish()));
            columns.push(Arc::new(self.aggregate_type.finish()));
        }
        columns.push(Arc::new(self.submission_date.finish()));
        columns.push(Arc::new(self.channel.finish()));
        columns.push(Arc::new(self.version.finish()));
        columns.push(Arc::new(self.build_id.finish()));
        columns.push(Arc::new(self.application.finish()));
        columns.push(Arc::new(self.architecture.finish()));
        columns.push(Arc::new(self.os.finish()));
        columns.push(Arc::new(self.os_version.finish()));
        if all {
            columns.push(Arc::new(self.metric.finish()));
        }
        columns.push(Arc::new(self.key.finish()));
        columns.push(Arc::new(self.process_type.finish()));
        columns.push(Arc::new(self.count.finish()));
        columns.push(Arc::new(self.sum.finish()));
        columns.push(Arc::new(self.histogram.finish()));
        columns.push(Arc::new(self.kind.finish()));
        self.rows = 0;
        self.bytes = 0;
        let schema = match self.columns {
            Columns::All => schema(),
            Columns::WithoutPartitions => file_schema(),
        };
        RecordBatch::try_new(schema, columns).map_err(|e| Error::invalid("export", e.to_string()))
    }
}

/// Stored series as record batches of every column ([`schema`]) of at most `batch_rows` rows
/// each, their categorical buckets named from `definitions` (as [`super::export`] names them).
///
/// # Errors
/// As [`BatchBuilder::push`].
pub fn batches<'a>(
    rows: impl IntoIterator<Item = &'a StoredRow>,
    definitions: &Definitions,
    batch_rows: usize,
) -> Result<Vec<RecordBatch>> {
    let mut exporter = Exporter::new(definitions);
    let mut builder = BatchBuilder::new(Columns::All);
    let mut out = Vec::new();
    for row in rows {
        builder.push(&exporter.stored_row(row))?;
        if builder.len() >= batch_rows.max(1) {
            out.push(builder.finish()?);
        }
    }
    if !builder.is_empty() || out.is_empty() {
        out.push(builder.finish()?);
    }
    Ok(out)
}
