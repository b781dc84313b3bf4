//! Reading an export ([`crate::export`], NDJSON or CSV) back into a store: the inverse of
//! `mozaggregator export`, exact when the export carries its absorbed dates
//! (`export --with-absorbed`).
//!
//! The retired original service's PostgreSQL database is the other source
//! ([`OriginalImport`], feature `postgres`): both write each table the same way and add up the
//! same [`ImportReport`].
//!
//! Each row is rebuilt as a [`Target`], a [`SeriesKey`] and a [`Histogram`] whose
//! [`LayoutSpec`] is the layout of the row's kind whose lower bounds are the row's `buckets`
//! (categorical labels: a categorical layout with one bucket per entry). Rows are read one at a
//! time and kept per target: an export lists each target's rows together, so a target is written
//! as soon as the next one starts, in one [`Store::write`] of its first absorbed date holding all
//! its rows, then one write with no rows per further absorbed date (which records the date as
//! absorbed). Memory holds one target's rows, never the whole input.
//!
//! Re-importing is a no-op: a target that already absorbed every date of its rows is skipped;
//! one that absorbed none of them merges the rows into what it holds (the store's contract); one
//! that absorbed some but not all is left alone and its rows are rejected (`partly_absorbed`),
//! since adding them would count those dates twice. Every row read is imported, skipped or
//! rejected by reason ([`ImportReject`]); none is dropped silently.
//!
//! ```
//! use mozaggregator_core::import::{import, ImportOptions};
//! use mozaggregator_core::{MemoryStore, Prefix, Store, Target};
//! let rows = r#"{"prefix":"build_id","channel":"nightly","version":"42","date":"20150601","metric":"A11Y_FLAG","label":"","process":"parent","application":"Firefox","architecture":"x86","os":"Linux","os_version":"4.1","kind":"flag","buckets":[0,1,2],"histogram":[0,3,0],"sum":3,"count":3,"absorbed":["20150601","20150602"]}
//! {"prefix":"build_id","channel":"nightly","version":"42","date":"20150601","metric":"A11Y_FLAG","label":"","process":"parent","kind":"flag"}
//! "#;
//! let store = MemoryStore::new();
//! let report = import(&store, &mut rows.as_bytes(), &ImportOptions::default()).unwrap();
//! assert_eq!((report.rows_read, report.rows_imported), (2, 1));
//! assert_eq!(report.rows_rejected["wrong_type"], 1);
//! let target = Target { prefix: Prefix::BuildId, channel: "nightly".into(),
//!     version: "42".into(), date: "20150601".parse().unwrap() };
//! assert_eq!(store.absorbed(&target).unwrap().len(), 2);
//! ```

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{self, BufRead};

use serde::Deserialize;

use crate::date::Date;
use crate::error::{Error, Result};
use crate::export::{Format, CSV_HEADER, CSV_HEADER_WITH_ABSORBED};
use crate::histogram::Histogram;
use crate::keys::{Dims, Prefix, Process, SeriesKey, Target};
use crate::layout::{Kind, LayoutSpec, MAX_BUCKETS};
use crate::metric_name;
use crate::reject::ImportReject;
use crate::store::{check_row, Store};

#[cfg(feature = "postgres")]
mod original;
mod report;
mod write;

#[cfg(feature = "postgres")]
pub use original::{OriginalImport, OriginalOptions, FETCH_ROWS};
pub use report::{ImportReport, RejectedRow, MAX_EXAMPLES};
use write::{table_name, write_table, TableRows};

/// How far below the last bound an exponential layout's `high` is searched for: the bounds of a
/// layout with more buckets than its range can hold go past `high` one by one.
const HIGH_SEARCH: u64 = 64;

/// Distinct (kind, bounds) remembered with their layout; beyond this the memory starts over.
const LAYOUT_CACHE: usize = 4096;

/// How [`import`] reads its input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// The input's format; `None` tells by the first line (`{` for NDJSON, otherwise a CSV
    /// header).
    pub format: Option<Format>,
    /// The submission date whose data the `build_id` rows of an export *without* absorbed dates
    /// hold. Rows with absorbed dates ignore it; `submission_date` rows without them absorbed
    /// their own date.
    pub submission_date: Option<Date>,
    /// Longest NDJSON line read, in bytes: a longer one is rejected (`line_too_long`) without
    /// being held in memory.
    pub max_line: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            format: None,
            submission_date: None,
            max_line: 256 << 20,
        }
    }
}

/// `buckets` as a row spells them.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawBuckets {
    Bounds(Vec<u64>),
    Labels(Vec<String>),
}

/// A row as read, before any check.
#[derive(Deserialize)]
struct RawRow {
    prefix: String,
    channel: String,
    version: String,
    date: String,
    metric: String,
    label: String,
    process: String,
    application: String,
    architecture: String,
    os: String,
    os_version: String,
    kind: String,
    buckets: RawBuckets,
    histogram: Vec<u64>,
    sum: u64,
    count: u64,
    #[serde(default)]
    absorbed: Option<Vec<String>>,
}

/// A rejected row: why, and details.
type Rejected = (ImportReject, String);

/// What one input's reading remembers.
struct InputState<'n> {
    name: &'n str,
    current: Option<TableRows>,
    /// (target, absorbed dates) already written from this input.
    written: HashSet<(Target, Vec<Date>)>,
}

/// Imports export rows into a store, input after input, adding up one [`ImportReport`].
pub struct Importer<'s> {
    store: &'s dyn Store,
    options: ImportOptions,
    report: ImportReport,
    layouts: HashMap<(Kind, Vec<u64>), Option<LayoutSpec>>,
}

impl<'s> Importer<'s> {
    /// An importer writing into `store`.
    pub fn new(store: &'s dyn Store, options: ImportOptions) -> Self {
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

    /// The report of every input imported.
    pub fn finish(self) -> ImportReport {
        self.report
    }

    /// Reads one input (`name` is for messages) to its end and writes its rows.
    ///
    /// # Errors
    /// [`Error::Io`] when reading fails; [`Error::Parse`] for a CSV input whose header is not
    /// an export's, or an input that is neither NDJSON nor CSV; [`Error::Invalid`] for a
    /// `build_id` row without absorbed dates when no submission date is given; store failures.
    /// The tables written before the error stay written (importing again skips them).
    pub fn import(&mut self, name: &str, reader: &mut dyn BufRead) -> Result<()> {
        let io_err = |e| Error::io(name, e);
        let format = match self.options.format {
            Some(format) => format,
            None => match reader.fill_buf().map_err(io_err)?.first() {
                None => {
                    self.report.inputs_read += 1;
                    return Ok(());
                }
                Some(b'{' | b'\n' | b'\r' | b' ' | b'\t') => Format::Ndjson,
                Some(_) => Format::Csv,
            },
        };
        let mut state = InputState {
            name,
            current: None,
            written: HashSet::new(),
        };
        match format {
            Format::Ndjson => self.read_ndjson(&mut state, reader)?,
            Format::Csv => self.read_csv(&mut state, reader)?,
        }
        if let Some(group) = state.current.take() {
            write_table(self.store, &mut self.report, name, group)?;
        }
        self.report.inputs_read += 1;
        Ok(())
    }

    fn read_ndjson(&mut self, state: &mut InputState<'_>, reader: &mut dyn BufRead) -> Result<()> {
        let mut buf = Vec::new();
        let mut line = 0u64;
        loop {
            buf.clear();
            let read = read_line(reader, &mut buf, self.options.max_line)
                .map_err(|e| Error::io(state.name, e))?;
            line += 1;
            let parsed = match read {
                Line::End => return Ok(()),
                Line::TooLong => Err((
                    ImportReject::LineTooLong,
                    format!("longer than {} bytes", self.options.max_line),
                )),
                Line::Text => {
                    let text = buf.trim_ascii();
                    if text.is_empty() {
                        continue;
                    }
                    parse_json(text)
                }
            };
            self.row(state, line, parsed)?;
        }
    }

    fn read_csv(&mut self, state: &mut InputState<'_>, reader: &mut dyn BufRead) -> Result<()> {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(reader);
        let header = csv.byte_headers().map_err(|e| csv_error(state.name, e))?;
        let is = |want: &str| header.iter().eq(want.as_bytes().split(|&b| b == b','));
        let with_absorbed = if is(CSV_HEADER) {
            false
        } else if is(CSV_HEADER_WITH_ABSORBED) {
            true
        } else {
            let found: Vec<String> = header
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            return Err(Error::Parse {
                what: format!("the CSV header of {}", state.name),
                reason: format!(
                    "found `{}`; an export's is `{CSV_HEADER}` (`,absorbed` added with \
                     --with-absorbed)",
                    found.join(",")
                ),
            });
        };
        let mut record = csv::ByteRecord::new();
        loop {
            let (line, parsed) = match csv.read_byte_record(&mut record) {
                Ok(false) => return Ok(()),
                Ok(true) => {
                    let line = record.position().map_or(0, csv::Position::line);
                    (line, parse_csv(&record, with_absorbed))
                }
                Err(e) => {
                    let line = e.position().map_or(0, csv::Position::line);
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        return Err(csv_error(state.name, e));
                    }
                    (line, Err((ImportReject::Malformed, e.to_string())))
                }
            };
            self.row(state, line, parsed)?;
        }
    }

    /// Checks one row and adds it to its target's group, writing the previous group when the
    /// target (or its absorbed dates) changes.
    fn row(
        &mut self,
        state: &mut InputState<'_>,
        line: u64,
        parsed: Result<RawRow, Rejected>,
    ) -> Result<()> {
        self.report.rows_read += 1;
        let checked = parsed.and_then(|raw| self.check(raw));
        let (target, key, histogram, absorbed) = match checked {
            Ok(Some(c)) => (c.target, c.key, c.histogram, c.absorbed),
            Ok(None) => {
                return Err(Error::invalid(
                    "input",
                    format!(
                        "{}, line {line}: a build_id row without absorbed dates: re-export with \
                         `mozaggregator export --with-absorbed`, or pass --submission-date \
                         YYYYMMDD (the submission date whose data the build_id rows hold)",
                        state.name
                    ),
                ));
            }
            Err((reason, detail)) => {
                self.report.reject(state.name, line, reason, 1, detail);
                return Ok(());
            }
        };
        let group_key = (target, absorbed);
        if state.written.contains(&group_key) {
            let (t, _) = &group_key;
            let detail = format!(
                "table {} was written already, from its rows above; an export lists each \
                 table's rows together",
                table_name(t)
            );
            self.report
                .reject(state.name, line, ImportReject::TargetRepeated, 1, detail);
            return Ok(());
        }
        let same = state
            .current
            .as_ref()
            .is_some_and(|g| g.target == group_key.0 && g.absorbed == group_key.1);
        if !same {
            if let Some(group) = state.current.take() {
                state
                    .written
                    .insert((group.target.clone(), group.absorbed.clone()));
                write_table(self.store, &mut self.report, state.name, group)?;
            }
            let (target, absorbed) = group_key;
            state.current = Some(TableRows::new(target, absorbed, line));
        }
        let Some(group) = state.current.as_mut() else {
            return Ok(());
        };
        match group.rows.entry((key, histogram.layout())) {
            std::collections::btree_map::Entry::Occupied(_) => {
                self.report.reject(
                    state.name,
                    line,
                    ImportReject::DuplicateRow,
                    1,
                    "the same series and layout came before in this table".to_string(),
                );
            }
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(histogram);
                group.rows_read += 1;
            }
        }
        Ok(())
    }

    /// Rebuilds the row's target, key, histogram and absorbed dates, checking each.
    fn check(&mut self, raw: RawRow) -> Result<Option<Checked>, Rejected> {
        let prefix: Prefix = raw
            .prefix
            .parse()
            .map_err(|e: Error| (ImportReject::UnknownPrefix, e.to_string()))?;
        let process: Process = raw
            .process
            .parse()
            .map_err(|e: Error| (ImportReject::UnknownProcess, e.to_string()))?;
        let kind: Kind = raw
            .kind
            .parse()
            .map_err(|e: Error| (ImportReject::UnknownKind, e.to_string()))?;
        let date = Date::parse(&raw.date).map_err(|e| (ImportReject::BadDate, e.to_string()))?;
        let absorbed = match raw.absorbed {
            Some(dates) => {
                let dates = dates
                    .iter()
                    .map(|d| Date::parse_as("absorbed date", d))
                    .collect::<Result<BTreeSet<Date>>>()
                    .map_err(|e| (ImportReject::BadDate, e.to_string()))?;
                if dates.is_empty() {
                    return Err((ImportReject::BadDate, "`absorbed` is empty".to_string()));
                }
                dates.into_iter().collect()
            }
            None => match (prefix, &self.options.submission_date) {
                (Prefix::SubmissionDate, _) => vec![date],
                (Prefix::BuildId, Some(date)) => vec![*date],
                (Prefix::BuildId, None) => return Ok(None),
                // Not parsed from text (`Prefix::from_str` knows the desktop families only).
                (Prefix::MobileMetrics, _) => {
                    return Err((
                        ImportReject::UnknownPrefix,
                        "mobile rows are not imported from this format".to_string(),
                    ))
                }
            },
        };
        let entries = match &raw.buckets {
            RawBuckets::Bounds(b) => b.len(),
            RawBuckets::Labels(l) => l.len(),
        };
        if raw.histogram.len() != entries {
            return Err((
                ImportReject::LengthMismatch,
                format!("{} counts for {entries} buckets", raw.histogram.len()),
            ));
        }
        // A count histogram's series is exported as `count`, stored in an exponential layout.
        let kind = metric_name::stored_kind(&raw.metric, kind);
        let spec = self.layout(kind, raw.buckets).ok_or_else(|| {
            (
                ImportReject::LayoutMismatch,
                format!("the buckets are not the bounds of any {kind} layout"),
            )
        })?;
        let samples = raw.histogram.iter().any(|&c| c > 0);
        if raw.count == 0 && (raw.sum > 0 || samples) {
            return Err((
                ImportReject::InconsistentCounts,
                format!(
                    "count 0 with sum {} and {} samples",
                    raw.sum,
                    raw.histogram.iter().fold(0u64, |a, &c| a.saturating_add(c))
                ),
            ));
        }
        let histogram = Histogram::from_parts(spec, raw.histogram, raw.sum, raw.count)
            .map_err(|e| (ImportReject::LengthMismatch, e.to_string()))?;
        let target = Target {
            prefix,
            channel: raw.channel,
            version: raw.version,
            date,
        };
        let key = SeriesKey {
            metric: raw.metric,
            label: raw.label,
            process,
            dims: Dims {
                application: raw.application,
                architecture: raw.architecture,
                os: raw.os,
                os_version: raw.os_version,
            },
        };
        check_row(&target, &key, &histogram)
            .map_err(|r| (ImportReject::from(r), format!("the store refuses it: {r}")))?;
        Ok(Some(Checked {
            target,
            key,
            histogram,
            absorbed,
        }))
    }

    /// The layout of `kind` whose bounds are `buckets` (remembered per distinct bounds).
    fn layout(&mut self, kind: Kind, buckets: RawBuckets) -> Option<LayoutSpec> {
        let bounds = match buckets {
            RawBuckets::Labels(labels) => {
                return (kind == Kind::Categorical)
                    .then(|| u32::try_from(labels.len()).ok())
                    .flatten()
                    .and_then(|n| LayoutSpec::categorical(n).ok());
            }
            RawBuckets::Bounds(bounds) => bounds,
        };
        if self.layouts.len() >= LAYOUT_CACHE {
            self.layouts.clear();
        }
        match self.layouts.entry((kind, bounds)) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                let spec = layout_of(kind, &e.key().1);
                *e.insert(spec)
            }
        }
    }
}

/// A checked row ([`Importer::check`] gives `None` for a `build_id` row that needs a
/// submission date nobody gave).
struct Checked {
    target: Target,
    key: SeriesKey,
    histogram: Histogram,
    absorbed: Vec<Date>,
}

/// Imports one input (see [`Importer::import`]; the input is named `<input>` in messages).
///
/// # Errors
/// As [`Importer::import`].
pub fn import(
    store: &dyn Store,
    reader: &mut dyn BufRead,
    options: &ImportOptions,
) -> Result<ImportReport> {
    let mut importer = Importer::new(store, options.clone());
    importer.import("<input>", reader)?;
    Ok(importer.finish())
}

/// The layout of `kind` whose lower bounds are exactly `bounds`, if any. Exponential and linear
/// layouts take `low` from the second bound and `high` from the last (for exponential, a little
/// below when the bounds went past `high` one by one); the others are fixed by the kind and the
/// number of bounds.
///
/// ```
/// use mozaggregator_core::import::layout_of;
/// use mozaggregator_core::{Kind, LayoutSpec};
/// let spec = LayoutSpec::exponential(1, 10000, 50).unwrap();
/// assert_eq!(layout_of(Kind::Exponential, &spec.bounds()), Some(spec));
/// assert_eq!(layout_of(Kind::Linear, &spec.bounds()), None);
/// assert_eq!(layout_of(Kind::Flag, &[0, 1, 2]), Some(LayoutSpec::flag()));
/// ```
pub fn layout_of(kind: Kind, bounds: &[u64]) -> Option<LayoutSpec> {
    if bounds.len() > MAX_BUCKETS as usize || bounds.first() != Some(&0) {
        return None;
    }
    let n = u32::try_from(bounds.len()).ok()?;
    let exact = |spec: LayoutSpec| (spec.bounds() == bounds).then_some(spec);
    match kind {
        Kind::Boolean => exact(LayoutSpec::boolean()),
        Kind::Flag => exact(LayoutSpec::flag()),
        Kind::Count => exact(LayoutSpec::count()),
        Kind::Enumerated => exact(LayoutSpec::enumerated(u64::from(n).checked_sub(1)?).ok()?),
        Kind::Categorical => exact(LayoutSpec::categorical(n).ok()?),
        Kind::Linear => exact(LayoutSpec::linear(*bounds.get(1)?, *bounds.last()?, n).ok()?),
        Kind::Exponential => {
            let (low, last) = (*bounds.get(1)?, *bounds.last()?);
            (0..HIGH_SEARCH)
                .map_while(|d| last.checked_sub(d).filter(|&high| high > low))
                .find_map(|high| exact(LayoutSpec::exponential(low, high, n).ok()?))
        }
    }
}

fn csv_error(name: &str, e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => Error::io(name, e),
        other => Error::Parse {
            what: format!("CSV of {name}"),
            reason: format!("{other:?}"),
        },
    }
}

/// One NDJSON line as a row.
fn parse_json(text: &[u8]) -> Result<RawRow, Rejected> {
    if text.first() != Some(&b'{') {
        return Err((ImportReject::Malformed, "not a JSON object".to_string()));
    }
    serde_json::from_slice(text).map_err(|e| (json_reason(&e), e.to_string()))
}

/// Syntax (a truncated line included) is `malformed`; a field of the wrong type `wrong_type`.
fn json_reason(e: &serde_json::Error) -> ImportReject {
    match e.classify() {
        serde_json::error::Category::Data => ImportReject::WrongType,
        _ => ImportReject::Malformed,
    }
}

/// One CSV record as a row.
fn parse_csv(record: &csv::ByteRecord, with_absorbed: bool) -> Result<RawRow, Rejected> {
    let want = if with_absorbed { 17 } else { 16 };
    if record.len() != want {
        return Err((
            ImportReject::Malformed,
            format!("{} fields, the header has {want}", record.len()),
        ));
    }
    let text = |i: usize| -> Result<String, Rejected> {
        let bytes = record.get(i).unwrap_or_default();
        String::from_utf8(bytes.to_vec()).map_err(|_| {
            (
                ImportReject::Malformed,
                format!("field {} is not UTF-8", i + 1),
            )
        })
    };
    fn json<T: for<'de> Deserialize<'de>>(
        record: &csv::ByteRecord,
        i: usize,
        name: &str,
    ) -> Result<T, Rejected> {
        serde_json::from_slice(record.get(i).unwrap_or_default())
            .map_err(|e| (json_reason(&e), format!("{name}: {e}")))
    }
    let number = |i: usize, name: &str| -> Result<u64, Rejected> {
        let field = record.get(i).unwrap_or_default();
        std::str::from_utf8(field)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                (
                    ImportReject::WrongType,
                    format!(
                        "{name} `{}` is not an integer in 0..2^64",
                        String::from_utf8_lossy(field)
                    ),
                )
            })
    };
    Ok(RawRow {
        prefix: text(0)?,
        channel: text(1)?,
        version: text(2)?,
        date: text(3)?,
        metric: text(4)?,
        label: text(5)?,
        process: text(6)?,
        application: text(7)?,
        architecture: text(8)?,
        os: text(9)?,
        os_version: text(10)?,
        kind: text(11)?,
        buckets: json(record, 12, "buckets")?,
        histogram: json(record, 13, "histogram")?,
        sum: number(14, "sum")?,
        count: number(15, "count")?,
        absorbed: if with_absorbed {
            Some(json(record, 16, "absorbed")?)
        } else {
            None
        },
    })
}

/// What [`read_line`] found.
enum Line {
    /// A line (without its `\n`) in the buffer.
    Text,
    /// A line longer than the limit, read past and not kept.
    TooLong,
    /// The end of the input.
    End,
}

/// Reads one line into `buf` (empty on entry), holding at most `max` bytes of it.
fn read_line(reader: &mut dyn BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<Line> {
    let mut too_long = false;
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(match (any, too_long) {
                (false, _) => Line::End,
                (true, true) => Line::TooLong,
                (true, false) => Line::Text,
            });
        }
        any = true;
        let (end, used) = match memchr::memchr(b'\n', available) {
            Some(i) => (true, i),
            None => (false, available.len()),
        };
        if !too_long {
            if buf.len() + used > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&available[..used]);
            }
        }
        reader.consume(if end { used + 1 } else { used });
        if end {
            return Ok(if too_long { Line::TooLong } else { Line::Text });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_layout_is_found_from_its_bounds() {
        let specs = [
            LayoutSpec::exponential(1, 10_000, 50).unwrap(),
            LayoutSpec::exponential(1, 2, 5).unwrap(),
            LayoutSpec::exponential(5, 30_000, 100).unwrap(),
            LayoutSpec::linear(1, 1000, 50).unwrap(),
            LayoutSpec::linear(1, 4, 5).unwrap(),
            LayoutSpec::enumerated(20).unwrap(),
            LayoutSpec::categorical(7).unwrap(),
            LayoutSpec::boolean(),
            LayoutSpec::flag(),
            LayoutSpec::count(),
        ];
        for spec in specs {
            let found = layout_of(spec.kind(), &spec.bounds()).unwrap();
            // The same bounds (the ambiguous exponential(1, 2, 5) comes back as the layout with
            // high = its last bound, which has them too).
            assert_eq!(found.bounds(), spec.bounds(), "{spec:?}");
            assert_eq!(found.kind(), spec.kind());
        }
        assert_eq!(layout_of(Kind::Flag, &[0, 1, 3]), None);
        assert_eq!(layout_of(Kind::Exponential, &[0, 1, 2, 3, 1000]), None);
        assert_eq!(layout_of(Kind::Linear, &[]), None);
        assert_eq!(layout_of(Kind::Categorical, &[1, 2, 3]), None);
    }

    #[test]
    fn overlong_lines_are_skipped_whole() {
        let mut input: &[u8] = b"short\nthis one is long\n\nend";
        let mut buf = Vec::new();
        let mut got = Vec::new();
        loop {
            buf.clear();
            match read_line(&mut input, &mut buf, 8).unwrap() {
                Line::End => break,
                Line::TooLong => got.push("<too long>".to_string()),
                Line::Text => got.push(String::from_utf8_lossy(&buf).into_owned()),
            }
        }
        assert_eq!(got, ["short", "<too long>", "", "end"]);
    }
}
