//! Stored series as flat export rows (NDJSON or CSV), the form `mozaggregator export` prints
//! and the Python module returns.

use std::collections::HashMap;

use serde::Serialize;

use crate::definitions::Definitions;
use crate::histogram::Histogram;
use crate::keys::{SeriesKey, Target};
use crate::layout::{BucketLayout, Kind, LayoutSpec};

/// The CSV header of [`ExportRow::write_csv`], in field order.
pub const CSV_HEADER: &str = "prefix,channel,version,date,metric,label,process,application,\
architecture,os,os_version,kind,buckets,histogram,sum,count";

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
    /// Build-id date or submission date.
    pub date: &'a str,
    /// Stored metric name.
    pub metric: &'a str,
    /// Label (`""` when unkeyed).
    pub label: &'a str,
    /// `parent`, `content` or `gpu`.
    pub process: &'static str,
    /// Application.
    pub application: &'a str,
    /// Architecture.
    pub architecture: &'a str,
    /// OS name.
    pub os: &'a str,
    /// OS version.
    pub os_version: &'a str,
    /// Kind of the stored layout.
    pub kind: &'static str,
    /// Lower bounds or categorical labels, one per histogram entry.
    pub buckets: ExportBuckets<'a>,
    /// Dense bucket counts.
    pub histogram: &'a [u64],
    /// Sum of recorded values.
    pub sum: u64,
    /// Number of contributing histograms.
    pub count: u64,
}

impl ExportRow<'_> {
    /// Appends this row as one CSV line (with `\n`); `buckets` and `histogram` are JSON arrays.
    pub fn write_csv(&self, out: &mut String) {
        for field in [
            self.prefix,
            self.channel,
            self.version,
            self.date,
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
        out.push_str(&format!(",{},{}\n", self.sum, self.count));
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
///     version: "42".into(), date: "20150601".into() };
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
}

impl<'d> Exporter<'d> {
    /// An exporter naming categorical labels from `definitions` (may be empty).
    pub fn new(definitions: &'d Definitions) -> Self {
        Self {
            definitions,
            layouts: HashMap::new(),
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
            date: &target.date,
            metric: &key.metric,
            label: &key.label,
            process: key.process.as_str(),
            application: &key.dims.application,
            architecture: &key.dims.architecture,
            os: &key.dims.os,
            os_version: &key.dims.os_version,
            kind: spec.kind().name(),
            buckets,
            histogram: histogram.counts(),
            sum: histogram.sum(),
            count: histogram.count(),
        }
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
            date: "20180101".into(),
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
}
