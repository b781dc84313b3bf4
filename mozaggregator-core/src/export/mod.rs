//! Stored series as flat export rows (NDJSON or CSV), the form `mozaggregator export` prints
//! and the Python module returns; [`crate::import`] reads them back. With the `parquet` feature,
//! the same rows as Arrow record batches ([`arrow`]) and as a hive-partitioned Parquet data set
//! ([`parquet`]), and a query answer as an Arrow frame ([`query_frame`]).

#[cfg(feature = "parquet")]
pub mod arrow;
#[cfg(feature = "parquet")]
pub mod parquet;
#[cfg(feature = "parquet")]
pub mod query_frame;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use serde::Serialize;

use crate::date::Date;
use crate::definitions::Definitions;
use crate::error::{Error, Result};
use crate::histogram::Histogram;
use crate::keys::{Prefix, SeriesKey, Target};
use crate::layout::{BucketLayout, Kind, LayoutSpec};
use crate::metric_name;
use crate::mobile::{MobileHistogram, MobileKey};
use crate::store::{Selection, Store};

/// The CSV header of [`ExportRow::write_csv`], in field order.
pub const CSV_HEADER: &str = "prefix,channel,version,date,metric,label,process,application,\
architecture,os,os_version,kind,buckets,histogram,sum,count";

/// The CSV header of rows with their target's absorbed dates ([`ExportRow::with_absorbed`]):
/// [`CSV_HEADER`] and a last column `absorbed`.
pub const CSV_HEADER_WITH_ABSORBED: &str = "prefix,channel,version,date,metric,label,process,\
application,architecture,os,os_version,kind,buckets,histogram,sum,count,absorbed";

/// The CSV header of mobile rows: [`CSV_HEADER`] with `build_id` after `date`.
pub const MOBILE_CSV_HEADER: &str = "prefix,channel,version,date,build_id,metric,label,process,\
application,architecture,os,os_version,kind,buckets,histogram,sum,count";

/// The `kind` of a mobile row whose values are kept as sent (no layout).
pub const SPARSE_KIND: &str = "sparse";

/// The two forms of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header; the array columns are JSON arrays.
    Csv,
}

/// What [`export`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportOptions {
    /// NDJSON or CSV.
    pub format: Format,
    /// Add each row's target's absorbed submission dates (`absorbed`, last), so that
    /// [`crate::import`] can restore the store exactly.
    pub with_absorbed: bool,
}

/// The `buckets` of an export row: lower bounds, or categorical labels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ExportBuckets<'a> {
    /// Lower bounds of the stored layout.
    Bounds(&'a [u64]),
    /// Categorical labels from the definitions, then `"spill"`, then the remaining indices.
    Labels(Vec<String>),
}

/// One stored series, flattened: every dimension, the layout's kind and buckets, and the dense
/// histogram with its sum and count. Serializes with the fields in this order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportRow<'a> {
    /// `build_id` or `submission_date`.
    pub prefix: &'static str,
    /// Channel.
    pub channel: &'a str,
    /// Major version.
    pub version: &'a str,
    /// Build-id date or submission date (the submission date of a mobile row).
    pub date: Date,
    /// A mobile row's build id, as the pings sent it; `None` (and not serialized) for desktop
    /// rows, whose build-id date is `date`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_id: Option<&'a str>,
    /// Stored metric name.
    pub metric: &'a str,
    /// Label (`""` when unkeyed).
    pub label: &'a str,
    /// `parent`, `content` or `gpu` (a mobile row: the process as its pings name it).
    pub process: &'a str,
    /// Application.
    pub application: &'a str,
    /// Architecture.
    pub architecture: &'a str,
    /// OS name.
    pub os: &'a str,
    /// OS version.
    pub os_version: &'a str,
    /// Kind of the stored layout, as the API serves it
    /// ([`metric_name::served_kind`]): `count` for a count histogram's `[[COUNT]]_…` series,
    /// stored in an exponential layout; [`SPARSE_KIND`] for a mobile row kept as sent.
    pub kind: &'static str,
    /// Lower bounds or categorical labels, one per histogram entry (a mobile row: the lower
    /// bounds of its non-empty buckets only).
    pub buckets: ExportBuckets<'a>,
    /// Bucket counts: dense for desktop rows, the non-empty buckets for mobile rows.
    pub histogram: &'a [u64],
    /// Sum of recorded values.
    pub sum: u64,
    /// Number of contributing histograms.
    pub count: u64,
    /// The submission dates the row's target absorbed (sorted), when asked for
    /// ([`ExportRow::with_absorbed`]); not serialized when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absorbed: Option<&'a [Date]>,
}

impl<'a> ExportRow<'a> {
    /// This row with its target's absorbed submission dates: NDJSON gets a last field
    /// `"absorbed":["YYYYMMDD",…]`, CSV a last column (the header is then
    /// [`CSV_HEADER_WITH_ABSORBED`]).
    pub fn with_absorbed(self, absorbed: &'a [Date]) -> Self {
        Self {
            absorbed: Some(absorbed),
            ..self
        }
    }

    /// Appends this row as one CSV line (with `\n`); `buckets`, `histogram` (and `absorbed`)
    /// are JSON arrays. A mobile row has a `build_id` column after `date`
    /// ([`MOBILE_CSV_HEADER`]).
    pub fn write_csv(&self, out: &mut String) {
        let date = self.date.to_string();
        for field in [self.prefix, self.channel, self.version, &date]
            .into_iter()
            .chain(self.build_id)
        {
            csv_field(out, field);
            out.push(',');
        }
        for field in [
            self.metric,
            self.label,
            self.process,
            self.application,
            self.architecture,
            self.os,
            self.os_version,
            self.kind,
        ] {
            csv_field(out, field);
            out.push(',');
        }
        csv_field(out, &json(&self.buckets));
        out.push(',');
        csv_field(out, &json(&self.histogram));
        out.push_str(&format!(",{},{}", self.sum, self.count));
        if let Some(absorbed) = self.absorbed {
            out.push(',');
            csv_field(out, &json(absorbed));
        }
        out.push('\n');
    }

    /// Appends this row as one JSON line (with `\n`).
    pub fn write_ndjson(&self, out: &mut String) {
        out.push_str(&json(self));
        out.push('\n');
    }
}

// Serializing these plain structs of strings and integers cannot fail.
fn json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// Turns stored series into [`ExportRow`]s, computing each layout's bounds once and naming
/// categorical buckets by the labels the definitions give.
///
/// ```
/// use mozaggregator_core::export::Exporter;
/// use mozaggregator_core::{Definitions, Dims, Histogram, LayoutSpec, Prefix, Process, SeriesKey, Target};
/// let defs = Definitions::new();
/// let mut exporter = Exporter::new(&defs);
/// let target = Target { prefix: Prefix::BuildId, channel: "nightly".into(),
///     version: "42".into(), date: "20150601".parse().unwrap() };
/// let key = SeriesKey { metric: "A11Y_FLAG".into(), label: "".into(),
///     process: Process::Parent, dims: Dims::default() };
/// let h = Histogram::from_parts(LayoutSpec::flag(), vec![0, 3, 0], 3, 3).unwrap();
/// let mut line = String::new();
/// exporter.row(&target, &key, &h).write_ndjson(&mut line);
/// assert!(line.contains(r#""kind":"flag","buckets":[0,1,2],"histogram":[0,3,0]"#));
/// ```
pub struct Exporter<'d> {
    definitions: &'d Definitions,
    layouts: HashMap<LayoutSpec, BucketLayout>,
    /// A mobile row's bucket bounds and counts.
    bounds: Vec<u64>,
    counts: Vec<u64>,
}

impl<'d> Exporter<'d> {
    /// An exporter naming categorical labels from `definitions` (may be empty).
    pub fn new(definitions: &'d Definitions) -> Self {
        Self {
            definitions,
            layouts: HashMap::new(),
            bounds: Vec::new(),
            counts: Vec::new(),
        }
    }

    /// The export row of one stored series.
    pub fn row<'a>(
        &'a mut self,
        target: &'a Target,
        key: &'a SeriesKey,
        histogram: &'a Histogram,
    ) -> ExportRow<'a> {
        let spec = histogram.layout();
        let layout = self
            .layouts
            .entry(spec)
            .or_insert_with(|| BucketLayout::new(spec));
        let labels = (spec.kind() == Kind::Categorical)
            .then(|| self.definitions.lookup(&key.metric))
            .flatten()
            .map(|d| d.layout.labels())
            .filter(|l| !l.is_empty() && l.len() < layout.bounds().len());
        let buckets = match labels {
            Some(labels) => ExportBuckets::Labels(
                (0..layout.bounds().len())
                    .map(|i| match i.cmp(&labels.len()) {
                        std::cmp::Ordering::Less => labels[i].clone(),
                        std::cmp::Ordering::Equal => "spill".to_string(),
                        std::cmp::Ordering::Greater => i.to_string(),
                    })
                    .collect(),
            ),
            None => ExportBuckets::Bounds(layout.bounds()),
        };
        ExportRow {
            prefix: target.prefix.as_str(),
            channel: &target.channel,
            version: &target.version,
            date: target.date,
            build_id: None,
            metric: &key.metric,
            label: &key.label,
            process: key.process.as_str(),
            application: &key.dims.application,
            architecture: &key.dims.architecture,
            os: &key.dims.os,
            os_version: &key.dims.os_version,
            kind: metric_name::served_kind(&key.metric, spec.kind()).name(),
            buckets,
            histogram: histogram.counts(),
            sum: histogram.sum(),
            count: histogram.count(),
            absorbed: None,
        }
    }
}

impl Exporter<'_> {
    /// The export row of one mobile row: the lower bounds of its non-empty buckets and their
    /// counts, its build id, and `kind` its layout's ([`SPARSE_KIND`] without one).
    pub fn mobile_row<'a>(
        &'a mut self,
        target: &'a Target,
        key: &'a MobileKey,
        histogram: &'a MobileHistogram,
    ) -> ExportRow<'a> {
        self.bounds.clear();
        self.counts.clear();
        for (&bound, &n) in histogram.buckets() {
            self.bounds.push(bound);
            self.counts.push(n);
        }
        let kind = match histogram.layout() {
            Some(spec) => metric_name::served_kind(&key.metric, spec.kind()).name(),
            None => SPARSE_KIND,
        };
        ExportRow {
            prefix: target.prefix.as_str(),
            channel: &target.channel,
            version: &target.version,
            date: target.date,
            build_id: Some(&key.build_id),
            metric: &key.metric,
            label: &key.key,
            process: &key.process,
            application: &key.application,
            architecture: &key.architecture,
            os: &key.os,
            os_version: &key.os_version,
            kind,
            buckets: ExportBuckets::Bounds(&self.bounds),
            histogram: &self.counts,
            sum: histogram.sum(),
            count: histogram.count(),
            absorbed: None,
        }
    }

    /// The export row of a stored row of either family.
    pub fn stored_row<'a>(&'a mut self, row: &'a StoredRow) -> ExportRow<'a> {
        self.stored_ref(row.as_ref())
    }

    /// The export row of a borrowed stored row.
    pub fn stored_ref<'a>(&'a mut self, row: StoredRef<'a>) -> ExportRow<'a> {
        match row {
            StoredRef::Series(t, k, h) => self.row(t, k, h),
            StoredRef::Mobile(t, k, h) => self.mobile_row(t, k, h),
        }
    }
}

/// Visits the rows of the selected tables in the store's scan order: the mobile rows when
/// `selection.prefix` is [`Prefix::MobileMetrics`] ([`Store::scan_mobile`]), else the desktop
/// series ([`Store::scan`]).
///
/// # Errors
/// Storage failures, or the first error `visit` returns.
pub fn scan_stored(
    store: &dyn Store,
    selection: &Selection,
    visit: &mut dyn FnMut(StoredRef<'_>) -> Result<()>,
) -> Result<()> {
    if selection.prefix == Some(Prefix::MobileMetrics) {
        store.scan_mobile(selection, &mut |t, k, h| visit(StoredRef::Mobile(t, k, h)))
    } else {
        store.scan(selection, &mut |t, k, h| visit(StoredRef::Series(t, k, h)))
    }
}

/// Every row of the selected tables ([`scan_stored`]), copied out of the store.
///
/// # Errors
/// Storage failures.
pub fn stored_rows(store: &dyn Store, selection: &Selection) -> Result<Vec<StoredRow>> {
    let mut rows = Vec::new();
    scan_stored(store, selection, &mut |row| {
        rows.push(row.to_owned());
        Ok(())
    })?;
    Ok(rows)
}

/// A stored row of either family, borrowed from a scan.
#[derive(Clone, Copy, Debug)]
pub enum StoredRef<'a> {
    /// A desktop series.
    Series(&'a Target, &'a SeriesKey, &'a Histogram),
    /// A mobile row.
    Mobile(&'a Target, &'a MobileKey, &'a MobileHistogram),
}

impl StoredRef<'_> {
    /// The row, owned.
    pub fn to_owned(self) -> StoredRow {
        match self {
            StoredRef::Series(t, k, h) => StoredRow::Series(t.clone(), k.clone(), h.clone()),
            StoredRef::Mobile(t, k, h) => StoredRow::Mobile(t.clone(), k.clone(), h.clone()),
        }
    }

    /// Its table.
    pub fn target(&self) -> &Target {
        match self {
            StoredRef::Series(t, _, _) | StoredRef::Mobile(t, _, _) => t,
        }
    }
}

/// A stored row of either family, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredRow {
    /// A desktop series.
    Series(Target, SeriesKey, Histogram),
    /// A mobile row.
    Mobile(Target, MobileKey, MobileHistogram),
}

impl StoredRow {
    /// The row, borrowed.
    pub fn as_ref(&self) -> StoredRef<'_> {
        match self {
            StoredRow::Series(t, k, h) => StoredRef::Series(t, k, h),
            StoredRow::Mobile(t, k, h) => StoredRef::Mobile(t, k, h),
        }
    }
}

/// The submission dates every selected target absorbed (sorted), found through
/// [`Store::channels`], [`Store::dates`] and [`Store::absorbed`] (so before a scan, never
/// inside one).
///
/// # Errors
/// Storage failures.
pub fn absorbed_dates(
    store: &dyn Store,
    selection: &Selection,
) -> Result<BTreeMap<Target, Vec<Date>>> {
    let mut out = BTreeMap::new();
    // A selection without prefix is of the desktop families (as for `scan_stored`).
    let prefixes = match selection.prefix {
        Some(p) => vec![p],
        None => Prefix::ALL.to_vec(),
    };
    for prefix in prefixes {
        for channel in store.channels(prefix)? {
            if selection.channel.as_ref().is_some_and(|c| *c != channel) {
                continue;
            }
            for dv in store.dates(prefix, &channel)? {
                let target = Target {
                    prefix,
                    channel: channel.clone(),
                    version: dv.version,
                    date: dv.date,
                };
                if !selection.matches(&target) {
                    continue;
                }
                let absorbed = store.absorbed(&target)?.into_iter().collect();
                out.insert(target, absorbed);
            }
        }
    }
    Ok(out)
}

/// Writes every stored series of the selected tables to `out`, in the store's scan order: the
/// CSV header first (for CSV), then one line per series. Two stores with the same content
/// export the same bytes; with [`ExportOptions::with_absorbed`], also the same absorbed dates.
///
/// ```
/// use mozaggregator_core::export::{export, ExportOptions, Format};
/// use mozaggregator_core::{Definitions, MemoryStore, Selection};
/// let store = MemoryStore::new();
/// let mut out = Vec::new();
/// let options = ExportOptions { format: Format::Csv, with_absorbed: true };
/// export(&store, &Selection::default(), &Definitions::new(), &options, &mut out).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), "prefix,channel,version,date,metric,label,\
/// process,application,architecture,os,os_version,kind,buckets,histogram,sum,count,absorbed\n");
/// ```
///
/// # Errors
/// [`Error::Io`] (path `<output>`) when writing to `out` fails; storage failures; with
/// absorbed dates, [`Error::Invalid`] when a table appeared during the export (the store was
/// written meanwhile: export again).
pub fn export(
    store: &dyn Store,
    selection: &Selection,
    definitions: &Definitions,
    options: &ExportOptions,
    out: &mut dyn Write,
) -> Result<()> {
    let write_err = |source| Error::Io {
        path: "<output>".to_string(),
        source,
    };
    let absorbed = if options.with_absorbed {
        absorbed_dates(store, selection)?
    } else {
        BTreeMap::new()
    };
    let mobile = selection.prefix == Some(Prefix::MobileMetrics);
    if options.format == Format::Csv {
        let header = match (mobile, options.with_absorbed) {
            (true, false) => MOBILE_CSV_HEADER.to_string(),
            (true, true) => format!("{MOBILE_CSV_HEADER},absorbed"),
            (false, true) => CSV_HEADER_WITH_ABSORBED.to_string(),
            (false, false) => CSV_HEADER.to_string(),
        };
        writeln!(out, "{header}").map_err(write_err)?;
    }
    let mut exporter = Exporter::new(definitions);
    let mut line = String::new();
    let mut write_error = None;
    let scanned = scan_stored(store, selection, &mut |stored: StoredRef<'_>| {
        line.clear();
        let target = stored.target();
        let mut row = exporter.stored_ref(stored);
        if options.with_absorbed {
            let dates = absorbed.get(target).ok_or_else(|| {
                Error::invalid(
                    "export",
                    format!(
                        "table {}/{}/{}/{} appeared during the export; export again",
                        target.prefix, target.channel, target.version, target.date
                    ),
                )
            })?;
            row = row.with_absorbed(dates);
        }
        match options.format {
            Format::Ndjson => row.write_ndjson(&mut line),
            Format::Csv => row.write_csv(&mut line),
        }
        if let Err(e) = out.write_all(line.as_bytes()) {
            write_error = Some(e);
            return Err(Error::invalid("output", "write failed"));
        }
        Ok(())
    });
    match (scanned, write_error) {
        (_, Some(source)) => Err(write_err(source)),
        (Err(e), None) => Err(e),
        (Ok(()), None) => out.flush().map_err(write_err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{Dims, Prefix, Process};

    #[test]
    fn csv_quotes_fields_that_need_it_and_categorical_labels_come_from_definitions() {
        let mut defs = Definitions::new();
        defs.add_histograms_json(
            r#"{"CAT": {"kind": "categorical", "labels": ["a", "b,c"], "description": "d"}}"#,
        )
        .unwrap();
        let target = Target {
            prefix: Prefix::SubmissionDate,
            channel: "beta".into(),
            version: "60".into(),
            date: Date::parse("20180101").unwrap(),
        };
        let key = SeriesKey {
            metric: "CAT".into(),
            label: "x\"y".into(),
            process: Process::Content,
            dims: Dims {
                application: "Firefox".into(),
                architecture: "x86".into(),
                os: "Linux".into(),
                os_version: "4.1".into(),
            },
        };
        let spec = LayoutSpec::categorical(4).unwrap();
        let h = Histogram::from_parts(spec, vec![1, 2, 3, 4], 20, 2).unwrap();
        let mut exporter = Exporter::new(&defs);
        let row = exporter.row(&target, &key, &h);
        assert_eq!(
            row.buckets,
            ExportBuckets::Labels(vec!["a".into(), "b,c".into(), "spill".into(), "3".into()])
        );
        let mut line = String::new();
        row.write_csv(&mut line);
        assert_eq!(
            line,
            "submission_date,beta,60,20180101,CAT,\"x\"\"y\",content,Firefox,x86,Linux,4.1,\
             categorical,\"[\"\"a\"\",\"\"b,c\"\",\"\"spill\"\",\"\"3\"\"]\",\"[1,2,3,4]\",20,2\n"
        );
    }

    #[test]
    fn absorbed_dates_come_last_and_only_when_asked_for() {
        assert_eq!(CSV_HEADER_WITH_ABSORBED, format!("{CSV_HEADER},absorbed"));
        let defs = Definitions::new();
        let target = Target {
            prefix: Prefix::BuildId,
            channel: "nightly".into(),
            version: "42".into(),
            date: Date::parse("20150601").unwrap(),
        };
        let key = SeriesKey {
            metric: "A".into(),
            label: "".into(),
            process: Process::Parent,
            dims: Dims::default(),
        };
        let h = Histogram::from_parts(LayoutSpec::flag(), vec![0, 3, 0], 3, 3).unwrap();
        let dates = vec![
            Date::parse("20150601").unwrap(),
            Date::parse("20150602").unwrap(),
        ];
        let mut exporter = Exporter::new(&defs);
        let (mut plain, mut with) = (String::new(), String::new());
        exporter.row(&target, &key, &h).write_ndjson(&mut plain);
        exporter
            .row(&target, &key, &h)
            .with_absorbed(&dates)
            .write_ndjson(&mut with);
        assert!(!plain.contains("absorbed"));
        assert_eq!(
            with,
            plain.replace("}\n", ",\"absorbed\":[\"20150601\",\"20150602\"]}\n")
        );
        let (mut plain, mut with) = (String::new(), String::new());
        exporter.row(&target, &key, &h).write_csv(&mut plain);
        exporter
            .row(&target, &key, &h)
            .with_absorbed(&dates)
            .write_csv(&mut with);
        assert_eq!(
            with,
            plain.replace("\n", ",\"[\"\"20150601\"\",\"\"20150602\"\"]\"\n")
        );
    }
}
