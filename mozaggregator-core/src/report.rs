//! What an aggregation job did: pings read, used and rejected, items rejected, samples that
//! did not fit their layout, rows written — every loss counted by reason (docs/ingest.md, "What is rejected, and why").

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::reject::{HistogramReject, InputDamage, PingReject, Reason, RowReject, ScalarReject};
use crate::store::WriteReport;
use crate::tally::Tally;

/// The account of an aggregation job. Mergeable: the reports of partial aggregates add up to
/// the report of the whole (except `seconds`, which takes the longest).
///
/// Reasons are enums ([`crate::reject`]), serialized by their stable snake_case names,
/// documented in `docs/ingest.md`.
///
/// ```
/// use mozaggregator_core::{PingReject, Report};
/// let mut a = Report::default();
/// a.pings_read = 3;
/// a.reject_ping(PingReject::InvalidJson);
/// let mut b = Report::default();
/// b.pings_read = 2;
/// b.reject_ping(PingReject::InvalidJson);
/// a.merge(&b);
/// assert_eq!(a.pings_read, 5);
/// assert_eq!(a.pings_rejected["invalid_json"], 2);
/// assert_eq!(a.pings_rejected_total(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Report {
    /// Input files (or streams) read.
    pub files_read: u64,
    /// Bytes of input as stored (compressed size for `.gz`/`.zst`).
    pub input_bytes: u64,
    /// Bytes of JSON handed to the parser (after decompression).
    pub json_bytes: u64,
    /// JSON documents seen (one per `.json` file, one per non-blank NDJSON line).
    pub pings_read: u64,
    /// Pings aggregated.
    pub pings_used: u64,
    /// Pings aggregated but left out of the replicate groups (`--replicates`): they carry
    /// neither a `meta.sampleId` from 0 to 99 nor a non-empty string `clientId` (docs/ingest.md,
    /// "Replicate groups"). Counted in `pings_used`.
    pub pings_without_replicate_group: u64,
    /// Pings not aggregated, by reason.
    pub pings_rejected: Tally<PingReject>,
    /// Damaged inputs (e.g. a corrupt or truncated compressed stream: the rest of that input is
    /// lost), by reason.
    pub inputs_damaged: Tally<InputDamage>,
    /// Histograms aggregated (count histograms included).
    pub histograms_used: u64,
    /// Histograms (or histogram sections) not aggregated, by reason.
    pub histograms_rejected: Tally<HistogramReject>,
    /// Scalar values, keyed scalar values and simple measures aggregated.
    pub scalars_used: u64,
    /// Scalar values, keyed scalar values and simple measures not aggregated, by reason.
    pub scalars_rejected: Tally<ScalarReject>,
    /// Bucket keys that are not integers (dropped; their samples are in `unplaced_samples`).
    pub bad_keys: u64,
    /// Bucket counts that were not JSON integers (floats, strings, …): counted as 0.
    pub non_integer_counts: u64,
    /// Samples that fit no bucket of the layout used, per metric.
    pub unplaced_samples: BTreeMap<String, u64>,
    /// Series rows merged into the store.
    pub series_written: u64,
    /// Rows the store refused, by reason (see [`crate::check_row`]).
    pub rows_rejected: Tally<RowReject>,
    /// Replicate group rows merged into the store (not in `series_written`).
    pub replicate_rows_written: u64,
    /// Replicate group rows not written, by reason (not in `rows_rejected`).
    pub replicate_rows_rejected: Tally<RowReject>,
    /// Tables that absorbed a submission date.
    pub targets_written: u64,
    /// Tables left unchanged because they had already absorbed the submission date.
    pub targets_skipped: u64,
    /// Those tables, `prefix/channel/version/date`: the data of this job
    /// for them was *not* written (late data for an absorbed day; see `docs/ingest.md`).
    pub skipped_tables: Vec<String>,
    /// Files in input directories left out because their names are not ping-file names
    /// (`README.md`, `notes.txt`; see `docs/ingest.md`).
    pub files_skipped: Vec<String>,
    /// Which inputs were damaged: input name → reason and error.
    pub damaged_inputs: BTreeMap<String, String>,
    /// Wall time of reading and aggregating, in seconds (the throughputs are over it).
    pub seconds: f64,
    /// Phase: seconds the reading thread spent reading, decompressing and cutting the input
    /// into chunks, not counting the time it waited for busy workers. It runs beside the
    /// parsing, so it is part of `seconds`, not added to it: a value close to
    /// `aggregate_seconds` says the job waited on its input.
    #[serde(default)]
    pub read_seconds: f64,
    /// Phase: wall seconds from the start until every worker had parsed and aggregated its
    /// last ping.
    #[serde(default)]
    pub aggregate_seconds: f64,
    /// Phase: wall seconds merging the workers' partial aggregates into one, after
    /// `aggregate_seconds` (`seconds` ≈ `aggregate_seconds` + `merge_seconds`).
    #[serde(default)]
    pub merge_seconds: f64,
    /// Phase: seconds spent writing into the store, after the `seconds` of reading and
    /// aggregating.
    pub write_seconds: f64,
    /// JSON bytes per second, in MB/s (10^6 bytes).
    pub mb_per_s: f64,
    /// Pings read per second.
    pub pings_per_s: f64,
}

fn bump(map: &mut BTreeMap<String, u64>, reason: &str, n: u64) {
    match map.get_mut(reason) {
        Some(v) => *v = v.saturating_add(n),
        None => {
            map.insert(reason.to_string(), n);
        }
    }
}

fn total(map: &BTreeMap<String, u64>) -> u64 {
    map.values().fold(0u64, |a, &b| a.saturating_add(b))
}

impl Report {
    /// Counts one rejected ping.
    pub fn reject_ping(&mut self, reason: PingReject) {
        self.pings_rejected.add(reason, 1);
    }

    /// Counts one rejected histogram (or histogram section).
    pub fn reject_histogram(&mut self, reason: HistogramReject) {
        self.histograms_rejected.add(reason, 1);
    }

    /// Counts `n` rejected histograms.
    pub fn reject_histograms(&mut self, reason: HistogramReject, n: u64) {
        self.histograms_rejected.add(reason, n);
    }

    /// Counts `n` rejected scalar values.
    pub fn reject_scalars(&mut self, reason: ScalarReject, n: u64) {
        self.scalars_rejected.add(reason, n);
    }

    /// Counts one rejected scalar value.
    pub fn reject_scalar(&mut self, reason: ScalarReject) {
        self.scalars_rejected.add(reason, 1);
    }

    /// Counts one damaged input, by `reason`.
    pub fn damaged_input(&mut self, reason: InputDamage) {
        self.inputs_damaged.add(reason, 1);
    }

    /// Records which input was damaged, and how (besides counting it with
    /// [`Report::damaged_input`]).
    pub fn name_damaged_input(&mut self, input: &str, reason: InputDamage, error: &str) {
        self.damaged_inputs
            .insert(input.to_string(), format!("{reason}: {error}"));
    }

    /// Counts `samples` samples of `metric` that fit no bucket.
    pub fn unplaced(&mut self, metric: &str, samples: u64) {
        bump(&mut self.unplaced_samples, metric, samples);
    }

    /// Total of rejected pings.
    pub fn pings_rejected_total(&self) -> u64 {
        self.pings_rejected.total()
    }

    /// Total of rejected histograms.
    pub fn histograms_rejected_total(&self) -> u64 {
        self.histograms_rejected.total()
    }

    /// Total of rejected scalar values.
    pub fn scalars_rejected_total(&self) -> u64 {
        self.scalars_rejected.total()
    }

    /// Total of unplaced samples.
    pub fn unplaced_total(&self) -> u64 {
        total(&self.unplaced_samples)
    }

    /// Adds `other` into `self`. Counters add (saturating); `seconds` and
    /// `aggregate_seconds`, times of parts that ran side by side, are the larger of the two;
    /// the other phases add up; throughput is recomputed.
    pub fn merge(&mut self, other: &Report) {
        let add = |a: &mut u64, b: u64| *a = a.saturating_add(b);
        add(&mut self.files_read, other.files_read);
        add(&mut self.input_bytes, other.input_bytes);
        add(&mut self.json_bytes, other.json_bytes);
        add(&mut self.pings_read, other.pings_read);
        add(&mut self.pings_used, other.pings_used);
        add(
            &mut self.pings_without_replicate_group,
            other.pings_without_replicate_group,
        );
        self.pings_rejected.merge(&other.pings_rejected);
        self.inputs_damaged.merge(&other.inputs_damaged);
        add(&mut self.histograms_used, other.histograms_used);
        self.histograms_rejected.merge(&other.histograms_rejected);
        add(&mut self.scalars_used, other.scalars_used);
        self.scalars_rejected.merge(&other.scalars_rejected);
        add(&mut self.bad_keys, other.bad_keys);
        add(&mut self.non_integer_counts, other.non_integer_counts);
        for (metric, n) in &other.unplaced_samples {
            bump(&mut self.unplaced_samples, metric, *n);
        }
        add(&mut self.series_written, other.series_written);
        self.rows_rejected.merge(&other.rows_rejected);
        add(
            &mut self.replicate_rows_written,
            other.replicate_rows_written,
        );
        self.replicate_rows_rejected
            .merge(&other.replicate_rows_rejected);
        add(&mut self.targets_written, other.targets_written);
        add(&mut self.targets_skipped, other.targets_skipped);
        self.skipped_tables
            .extend(other.skipped_tables.iter().cloned());
        self.files_skipped
            .extend(other.files_skipped.iter().cloned());
        for (input, why) in &other.damaged_inputs {
            self.damaged_inputs.insert(input.clone(), why.clone());
        }
        self.read_seconds += other.read_seconds;
        self.aggregate_seconds = self.aggregate_seconds.max(other.aggregate_seconds);
        self.merge_seconds += other.merge_seconds;
        self.write_seconds += other.write_seconds;
        self.set_seconds(self.seconds.max(other.seconds));
    }

    /// Records a store write.
    pub fn add_write(&mut self, write: &WriteReport) {
        self.series_written = self.series_written.saturating_add(write.rows_written);
        self.targets_written = self.targets_written.saturating_add(write.targets_written);
        self.targets_skipped = self
            .targets_skipped
            .saturating_add(write.targets_skipped.len() as u64);
        for t in &write.targets_skipped {
            self.skipped_tables.push(format!(
                "{}/{}/{}/{}",
                t.prefix, t.channel, t.version, t.date
            ));
        }
        self.rows_rejected.merge(&write.rows_rejected);
        self.replicate_rows_written = self
            .replicate_rows_written
            .saturating_add(write.replicate_rows_written);
        self.replicate_rows_rejected
            .merge(&write.replicate_rows_rejected);
    }

    /// Adds the rows a batch's builder left out (see [`crate::Batch::rows_refused`]) to
    /// `rows_rejected`.
    pub fn add_refused(&mut self, refused: &Tally<RowReject>) {
        self.rows_rejected.merge(refused);
    }

    /// Adds the replicate group rows a batch's builder left out to `replicate_rows_rejected`.
    pub fn add_replicate_refused(&mut self, refused: &Tally<RowReject>) {
        self.replicate_rows_rejected.merge(refused);
    }

    /// Sets the wall time and recomputes the throughput fields.
    pub fn set_seconds(&mut self, seconds: f64) {
        self.seconds = seconds;
        if seconds > 0.0 {
            self.mb_per_s = self.json_bytes as f64 / 1e6 / seconds;
            self.pings_per_s = self.pings_read as f64 / seconds;
        } else {
            self.mb_per_s = 0.0;
            self.pings_per_s = 0.0;
        }
    }
}

/// The counts of a tally, by reason name.
pub(crate) fn by_name<R: Reason>(
    tally: &Tally<R>,
) -> impl Iterator<Item = (&'static str, u64)> + '_ {
    tally.iter().map(|(r, n)| (r.name(), n))
}

/// The counts of a map, by its keys.
fn by_key(map: &BTreeMap<String, u64>) -> impl Iterator<Item = (&str, u64)> {
    map.iter().map(|(k, &n)| (k.as_str(), n))
}

/// A titled list of counts, largest first (then by name), at most 20 lines.
pub(crate) fn write_reasons<'a>(
    f: &mut fmt::Formatter<'_>,
    title: &str,
    counts: impl Iterator<Item = (&'a str, u64)>,
) -> fmt::Result {
    let mut entries: Vec<(&str, u64)> = counts.collect();
    if entries.is_empty() {
        return Ok(());
    }
    writeln!(f, "  {title}:")?;
    entries.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (reason, n) in entries.iter().take(20) {
        writeln!(f, "    {reason:<40} {n}")?;
    }
    if entries.len() > 20 {
        writeln!(f, "    … and {} more", entries.len() - 20)?;
    }
    Ok(())
}

/// `n` and the noun in the form that goes with it: `1 input`, `2 inputs`, `0 inputs`.
///
/// ```
/// use mozaggregator_core::report::count;
/// assert_eq!(count(1, "input", "inputs"), "1 input");
/// assert_eq!(count(0, "input", "inputs"), "0 inputs");
/// ```
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Display for Report {
    /// A human-readable summary (what the CLI prints on stderr).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "read {} ({:.1} MB of JSON",
            count(self.pings_read, "ping", "pings"),
            self.json_bytes as f64 / 1e6
        )?;
        if self.files_read > 0 {
            write!(f, ", {}", count(self.files_read, "input", "inputs"))?;
        }
        write!(f, ")")?;
        if self.seconds > 0.0 {
            write!(
                f,
                " in {:.2} s: {:.1} MB/s, {:.0} pings/s",
                self.seconds, self.mb_per_s, self.pings_per_s
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "  pings used {}, rejected {}",
            self.pings_used,
            self.pings_rejected_total()
        )?;
        write_reasons(f, "pings rejected", by_name(&self.pings_rejected))?;
        write_reasons(f, "inputs damaged", by_name(&self.inputs_damaged))?;
        if !self.files_skipped.is_empty() {
            writeln!(
                f,
                "  {} in input directories skipped (not *.json, *.ndjson or *.jsonl, \
                 optionally .gz or .zst):",
                count(self.files_skipped.len() as u64, "file", "files")
            )?;
            for name in self.files_skipped.iter().take(20) {
                writeln!(f, "    {name}")?;
            }
            if self.files_skipped.len() > 20 {
                writeln!(f, "    … and {} more", self.files_skipped.len() - 20)?;
            }
        }
        if !self.damaged_inputs.is_empty() {
            writeln!(f, "  damaged inputs (the rest of each was lost):")?;
            for (input, why) in &self.damaged_inputs {
                writeln!(f, "    {input}: {why}")?;
            }
        }
        writeln!(
            f,
            "  histograms used {}, rejected {}; scalars used {}, rejected {}",
            self.histograms_used,
            self.histograms_rejected_total(),
            self.scalars_used,
            self.scalars_rejected_total()
        )?;
        write_reasons(f, "histograms rejected", by_name(&self.histograms_rejected))?;
        write_reasons(f, "scalars rejected", by_name(&self.scalars_rejected))?;
        if self.bad_keys > 0 || self.non_integer_counts > 0 {
            writeln!(
                f,
                "  bucket keys not integers {}, bucket counts not integers {}",
                self.bad_keys, self.non_integer_counts
            )?;
        }
        if !self.unplaced_samples.is_empty() {
            writeln!(
                f,
                "  samples outside their layout: {} in {}",
                self.unplaced_total(),
                count(self.unplaced_samples.len() as u64, "metric", "metrics")
            )?;
            write_reasons(
                f,
                "unplaced samples per metric",
                by_key(&self.unplaced_samples),
            )?;
        }
        writeln!(
            f,
            "  series written {}, tables written {}, tables skipped (already processed) {}",
            self.series_written, self.targets_written, self.targets_skipped
        )?;
        write_reasons(
            f,
            "rows rejected by the store",
            by_name(&self.rows_rejected),
        )?;
        if self.replicate_rows_written > 0
            || self.pings_without_replicate_group > 0
            || !self.replicate_rows_rejected.is_empty()
        {
            writeln!(
                f,
                "  replicate groups: rows written {}, rejected {}; pings without a group {}",
                self.replicate_rows_written,
                self.replicate_rows_rejected.total(),
                self.pings_without_replicate_group
            )?;
            write_reasons(
                f,
                "replicate rows rejected",
                by_name(&self.replicate_rows_rejected),
            )?;
        }
        if self.seconds > 0.0 || self.write_seconds > 0.0 {
            writeln!(
                f,
                "  time: read and aggregate {:.2} s (parse + aggregate {:.2} s, reading beside \
                 it {:.2} s; merge {:.2} s), write {:.2} s, total {:.2} s",
                self.seconds,
                self.aggregate_seconds,
                self.read_seconds,
                self.merge_seconds,
                self.write_seconds,
                self.seconds + self.write_seconds
            )?;
        }
        if !self.skipped_tables.is_empty() {
            writeln!(
                f,
                "WARNING: {} had already absorbed their submission date: this job's data for \
                 them was NOT written (re-running a day adds nothing; to add late data, see \
                 docs/ingest.md, \"Late data\"):",
                count(self.skipped_tables.len() as u64, "table", "tables")
            )?;
            for t in self.skipped_tables.iter().take(50) {
                writeln!(f, "  skipped {t}")?;
            }
            if self.skipped_tables.len() > 50 {
                writeln!(f, "  … and {} more", self.skipped_tables.len() - 50)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_of_parts_side_by_side_take_the_longest_and_the_others_add_up() {
        let part = |aggregate: f64, read: f64, merge: f64, write: f64| Report {
            seconds: aggregate + merge,
            aggregate_seconds: aggregate,
            read_seconds: read,
            merge_seconds: merge,
            write_seconds: write,
            ..Report::default()
        };
        let mut a = part(2.0, 0.5, 0.25, 1.0);
        a.merge(&part(3.0, 0.75, 0.5, 2.0));
        assert_eq!(
            (
                a.seconds,
                a.aggregate_seconds,
                a.read_seconds,
                a.merge_seconds,
                a.write_seconds
            ),
            (3.5, 3.0, 1.25, 0.75, 3.0)
        );
        // A report written before the phases existed reads with them at zero.
        let old = serde_json::json!({"seconds": 1.5, "write_seconds": 2.0});
        let mut full = serde_json::to_value(Report::default()).unwrap_or_default();
        for key in ["read_seconds", "aggregate_seconds", "merge_seconds"] {
            full.as_object_mut().map(|o| o.remove(key));
        }
        if let (Some(full), Some(old)) = (full.as_object_mut(), old.as_object()) {
            full.extend(old.clone());
        }
        let back: Report = serde_json::from_value(full).unwrap_or_default();
        assert_eq!(
            (back.seconds, back.write_seconds, back.merge_seconds),
            (1.5, 2.0, 0.0)
        );
        let text = part(2.0, 0.5, 0.25, 1.0).to_string();
        assert!(
            text.contains("parse + aggregate 2.00 s, reading beside it 0.50 s; merge 0.25 s"),
            "{text}"
        );
    }

    #[test]
    fn one_is_singular_in_the_summary() {
        let mut r = Report {
            pings_read: 1,
            files_read: 1,
            ..Report::default()
        };
        r.unplaced("GC_MS", 4);
        let text = r.to_string();
        assert!(
            text.starts_with("read 1 ping (0.0 MB of JSON, 1 input)"),
            "{text}"
        );
        assert!(text.contains("4 in 1 metric\n"), "{text}");
        r.pings_read = 2;
        r.files_read = 3;
        assert!(r
            .to_string()
            .starts_with("read 2 pings (0.0 MB of JSON, 3 inputs)"));
    }

    #[test]
    fn merge_adds_and_round_trips_through_json() {
        let mut a = Report {
            pings_read: 10,
            json_bytes: 2_000_000,
            ..Report::default()
        };
        a.reject_histogram(HistogramReject::NotAnObject);
        a.unplaced("GC_MS", 4);
        a.set_seconds(2.0);
        let mut b = Report {
            pings_read: 5,
            json_bytes: 1_000_000,
            ..Report::default()
        };
        b.reject_histogram(HistogramReject::NotAnObject);
        b.reject_histogram(HistogramReject::NegativeCount);
        b.unplaced("GC_MS", 1);
        b.set_seconds(1.0);
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!(ab.histograms_rejected["not_an_object"], 2);
        assert_eq!(ab.unplaced_samples["GC_MS"], 5);
        assert_eq!(ab.seconds, 2.0);
        assert_eq!(ab.mb_per_s, 1.5);
        let json = serde_json::to_string(&ab).unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ab);
        assert!(ab.to_string().contains("negative_count"));
    }
}
