//! The Parquet export: every stored series as a hive-partitioned, zstd-compressed Parquet data
//! set, partitioned like the original's `aggregates_poc/v1` by `metric`, `aggregate_type` and
//! `period`:
//!
//! ```text
//! DIR/metric=GC_MS/aggregate_type=submission_date/period=202401/part-0.parquet
//! DIR/metric=%5B%5BCOUNT%5D%5D_GC_MS/aggregate_type=build_id/period=202312/part-0.parquet
//! ```
//!
//! The files hold the columns of [`super::arrow::file_schema`]; the partition columns live only
//! in the directory names, as Hive and Spark write them, with the characters Hive escapes written
//! `%XX` ([`partition_value`]).
//!
//! Memory stays bounded whatever the store's size: rows are buffered per partition and written
//! as row groups as they come; when the buffers together pass a budget, the largest are written
//! out, and at most [`ParquetLimits::max_open_files`] files are open at once (a partition whose file was closed
//! continues in `part-1.parquet`, and so on).

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::arrow::{file_schema, BatchBuilder, Columns};
use super::{scan_stored, ExportRow, Exporter};
use crate::definitions::Definitions;
use crate::error::{Error, Result};
use crate::store::{Selection, Store};

/// The memory and file bounds of a Parquet export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParquetLimits {
    /// Rows a partition buffers before they are encoded into its open row group.
    pub batch_rows: usize,
    /// Bytes of buffered rows and open row groups, over all partitions, past which the largest
    /// partitions write their row groups out (until half of it is left).
    pub memory_budget: usize,
    /// Rows of a row group at most.
    pub row_group_rows: usize,
    /// Files open at once at most; past it, the least recently written one is closed and its
    /// partition continues in a new file.
    pub max_open_files: usize,
}

impl Default for ParquetLimits {
    /// 4096-row batches, a 96 MiB budget, row groups of 128 Ki rows at most, 128 open files.
    fn default() -> Self {
        Self {
            batch_rows: 4096,
            memory_budget: 96 << 20,
            row_group_rows: 1 << 17,
            max_open_files: 128,
        }
    }
}

/// What [`export_parquet`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParquetSummary {
    /// Rows written.
    pub rows: u64,
    /// Parquet files written.
    pub files: u64,
    /// Partition directories written.
    pub partitions: u64,
}

/// A partition value as Hive writes it in a directory name: the characters Hive escapes
/// (controls, `"#%'*/:=?\{[]^` and DEL) as `%XX` with uppercase hex, an empty value as
/// `__HIVE_DEFAULT_PARTITION__`. Spark, pyarrow and DuckDB decode it back.
///
/// ```
/// use mozaggregator_core::export::parquet::partition_value;
/// assert_eq!(partition_value("[[COUNT]]_GC_MS"), "%5B%5BCOUNT%5D%5D_GC_MS");
/// assert_eq!(partition_value("a/b=c"), "a%2Fb%3Dc");
/// assert_eq!(partition_value("GC_MS"), "GC_MS");
/// ```
pub fn partition_value(value: &str) -> String {
    if value.is_empty() {
        return "__HIVE_DEFAULT_PARTITION__".to_string();
    }
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let escaped = matches!(
            c,
            '\u{01}'
                ..='\u{1F}'
                    | '"'
                    | '#'
                    | '%'
                    | '\''
                    | '*'
                    | '/'
                    | ':'
                    | '='
                    | '?'
                    | '\\'
                    | '\u{7F}'
                    | '{'
                    | '['
                    | ']'
                    | '^'
        );
        if escaped {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// One partition's buffered rows and open file.
struct Partition {
    metric: String,
    prefix: &'static str,
    /// `YYYYMM` as a number.
    period: u32,
    dir: PathBuf,
    builder: BatchBuilder,
    writer: Option<ArrowWriter<BufWriter<File>>>,
    /// Bytes the open writer holds (its last [`ArrowWriter::memory_size`]).
    writer_bytes: usize,
    /// The number of the file to open next (`part-N.parquet`).
    next_part: u64,
    /// When a row was last added (a counter), to close the least recently written file.
    last_use: u64,
}

impl Partition {
    fn buffered(&self) -> usize {
        self.builder.estimated_bytes() + self.writer_bytes
    }
}

/// The partitions of one export and the files they write.
struct DataSet {
    root: PathBuf,
    partitions: Vec<Partition>,
    index: HashMap<(String, &'static str, u32), usize>,
    /// The partition of the previous row (rows come grouped by metric).
    last: Option<usize>,
    /// Bytes buffered over all partitions (the sum of their [`Partition::buffered`]).
    buffered: usize,
    open: usize,
    clock: u64,
    summary: ParquetSummary,
    props: WriterProperties,
    limits: ParquetLimits,
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        source,
    }
}

fn parquet_error(path: &Path, err: impl std::fmt::Display) -> Error {
    io_error(path, std::io::Error::other(err.to_string()))
}

impl DataSet {
    fn new(root: &Path, limits: ParquetLimits) -> Result<Self> {
        let level = ZstdLevel::try_new(3).map_err(|e| parquet_error(root, e))?;
        Ok(Self {
            root: root.to_path_buf(),
            partitions: Vec::new(),
            index: HashMap::new(),
            last: None,
            buffered: 0,
            open: 0,
            clock: 0,
            summary: ParquetSummary::default(),
            props: WriterProperties::builder()
                .set_compression(Compression::ZSTD(level))
                .set_max_row_group_row_count(Some(limits.row_group_rows.max(1)))
                .build(),
            limits,
        })
    }

    /// The partition of `row`, created when new.
    fn partition(&mut self, row: &ExportRow<'_>) -> usize {
        let period = row.date.year() * 100 + row.date.month();
        if let Some(i) = self.last {
            let p = &self.partitions[i];
            if p.period == period && p.prefix == row.prefix && p.metric == row.metric {
                return i;
            }
        }
        let key = (row.metric.to_string(), row.prefix, period);
        if let Some(&i) = self.index.get(&key) {
            self.last = Some(i);
            return i;
        }
        let dir = self
            .root
            .join(format!("metric={}", partition_value(&key.0)))
            .join(format!("aggregate_type={}", partition_value(key.1)))
            .join(format!("period={}", crate::export::arrow::period(row.date)));
        self.partitions.push(Partition {
            metric: key.0.clone(),
            prefix: key.1,
            period,
            dir,
            builder: BatchBuilder::new(Columns::WithoutPartitions),
            writer: None,
            writer_bytes: 0,
            next_part: 0,
            last_use: 0,
        });
        let i = self.partitions.len() - 1;
        self.index.insert(key, i);
        self.summary.partitions += 1;
        self.last = Some(i);
        i
    }

    fn push(&mut self, row: &ExportRow<'_>) -> Result<()> {
        let i = self.partition(row);
        self.clock += 1;
        let p = &mut self.partitions[i];
        let before = p.builder.estimated_bytes();
        p.builder.push(row)?;
        self.buffered += p.builder.estimated_bytes() - before;
        p.last_use = self.clock;
        self.summary.rows += 1;
        if p.builder.len() >= self.limits.batch_rows {
            self.encode(i, false)?;
        }
        if self.buffered > self.limits.memory_budget {
            self.shrink()?;
        }
        Ok(())
    }

    /// Writes out the largest partitions' rows until the buffers hold half the budget.
    fn shrink(&mut self) -> Result<()> {
        while self.buffered > self.limits.memory_budget / 2 {
            let Some((i, bytes)) = self
                .partitions
                .iter()
                .enumerate()
                .map(|(i, p)| (i, p.buffered()))
                .max_by_key(|&(_, b)| b)
                .filter(|&(_, b)| b > 0)
            else {
                break;
            };
            self.encode(i, true)?;
            if self.partitions[i].buffered() >= bytes {
                // Nothing left to write out: the rest is the writers' own bookkeeping.
                break;
            }
        }
        Ok(())
    }

    /// Encodes partition `i`'s buffered rows into its file (opening one if needed); with
    /// `flush`, ends the row group so that it goes to disk.
    fn encode(&mut self, i: usize, flush: bool) -> Result<()> {
        if self.partitions[i].writer.is_none() {
            if self.open >= self.limits.max_open_files.max(1) {
                self.close_least_recent()?;
            }
            self.open_file(i)?;
        }
        let p = &mut self.partitions[i];
        let before = p.buffered();
        let path = p.dir.clone();
        let Some(writer) = p.writer.as_mut() else {
            return Ok(());
        };
        if !p.builder.is_empty() {
            let batch = p.builder.finish()?;
            writer.write(&batch).map_err(|e| parquet_error(&path, e))?;
        }
        if flush {
            writer.flush().map_err(|e| parquet_error(&path, e))?;
        }
        p.writer_bytes = writer.memory_size();
        self.buffered = self.buffered.saturating_sub(before) + p.buffered();
        Ok(())
    }

    fn open_file(&mut self, i: usize) -> Result<()> {
        let p = &mut self.partitions[i];
        std::fs::create_dir_all(&p.dir).map_err(|e| io_error(&p.dir, e))?;
        let path = p.dir.join(format!("part-{}.parquet", p.next_part));
        let file = File::create_new(&path).map_err(|e| io_error(&path, e))?;
        let writer = ArrowWriter::try_new(
            BufWriter::with_capacity(1 << 16, file),
            file_schema(),
            Some(self.props.clone()),
        )
        .map_err(|e| parquet_error(&path, e))?;
        p.writer = Some(writer);
        p.next_part += 1;
        self.open += 1;
        self.summary.files += 1;
        Ok(())
    }

    fn close_least_recent(&mut self) -> Result<()> {
        let oldest = self
            .partitions
            .iter()
            .enumerate()
            .filter(|(_, p)| p.writer.is_some())
            .min_by_key(|(_, p)| p.last_use)
            .map(|(i, _)| i);
        match oldest {
            Some(i) => self.close(i),
            None => Ok(()),
        }
    }

    /// Writes partition `i`'s buffered rows and closes its file.
    fn close(&mut self, i: usize) -> Result<()> {
        self.encode(i, false)?;
        let p = &mut self.partitions[i];
        if let Some(writer) = p.writer.take() {
            let path = p.dir.clone();
            let mut inner = writer.into_inner().map_err(|e| parquet_error(&path, e))?;
            std::io::Write::flush(&mut inner).map_err(|e| io_error(&path, e))?;
            self.buffered = self.buffered.saturating_sub(p.writer_bytes);
            p.writer_bytes = 0;
            self.open -= 1;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<ParquetSummary> {
        for i in 0..self.partitions.len() {
            if !self.partitions[i].builder.is_empty() || self.partitions[i].writer.is_some() {
                self.close(i)?;
            }
        }
        Ok(self.summary)
    }
}

/// Checks that `dir` can receive a new data set: it does not exist yet (it is created) or is an
/// empty directory.
fn prepare(dir: &Path) -> Result<()> {
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => Err(Error::invalid(
            "--out",
            format!(
                "{}: exists and is not a directory (a Parquet export writes a directory)",
                dir.display()
            ),
        )),
        Ok(_) => {
            let mut entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
            if entries.next().is_some() {
                return Err(Error::invalid(
                    "--out",
                    format!(
                        "{}: the directory is not empty; give a new or empty directory",
                        dir.display()
                    ),
                ));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))
        }
        Err(e) => Err(io_error(dir, e)),
    }
}

/// Writes every stored series of the selected tables under `dir` as a hive-partitioned Parquet
/// data set (the module's layout), with the columns of [`super::arrow`] less the partition
/// columns, within `limits`. `dir` must not exist yet or be empty.
///
/// # Errors
/// [`Error::Invalid`] when `dir` is a file or a non-empty directory, or a count exceeds
/// `i64::MAX`; [`Error::Io`] (naming the path) when a directory or file cannot be written;
/// storage failures.
pub fn export_parquet(
    store: &dyn Store,
    selection: &Selection,
    definitions: &Definitions,
    dir: &Path,
    limits: &ParquetLimits,
) -> Result<ParquetSummary> {
    prepare(dir)?;
    let mut data = DataSet::new(dir, *limits)?;
    let mut exporter = Exporter::new(definitions);
    scan_stored(store, selection, &mut |row| {
        data.push(&exporter.stored_ref(row))
    })?;
    data.finish()
}
