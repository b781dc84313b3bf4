//! What a store holds, at a glance: the summary `mozaggregator info` prints.
//!
//! Built from the store's own bookkeeping, never from an export: channels and dates from
//! [`Store::channels`] and [`Store::dates`], absorbed submission dates per target from
//! [`Store::absorbed`], counts and size from [`Store::stats`] (which reads the SQL stores'
//! entry headers, not their histograms).
//!
//! ```
//! use mozaggregator_core::info::StoreInfo;
//! use mozaggregator_core::MemoryStore;
//! let info = StoreInfo::of(&MemoryStore::new()).unwrap();
//! assert_eq!(info.stats.series, 0);
//! assert!(info.families.is_empty());
//! assert!(info.to_string().contains("series:           0"));
//! ```

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::date::Date;
use crate::error::Result;
use crate::keys::{compare_versions, Prefix, Target};
use crate::store::{Store, StoreStats};

/// The tables of one (channel, version) of a family: how many dates, and the first and last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableDates {
    /// Channel.
    pub channel: String,
    /// Major version.
    pub version: String,
    /// Number of tables (dates).
    pub dates: u64,
    /// The oldest date.
    pub first: Date,
    /// The newest date.
    pub last: Date,
}

/// One family (`build_id` or `submission_date`) with tables.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FamilyInfo {
    /// The family.
    pub prefix: Prefix,
    /// Its tables by (channel, version): channels ascending, versions as numbers ascending.
    pub tables: Vec<TableDates>,
}

/// What a store holds (see the module documentation).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoreInfo {
    /// Families with at least one table: `build_id`, `submission_date`, then `mobile_metrics`.
    pub families: Vec<FamilyInfo>,
    /// Every channel with a table, sorted.
    pub channels: Vec<String>,
    /// Every major version with a table, as numbers ascending.
    pub versions: Vec<String>,
    /// Every submission date some table absorbed, ascending.
    pub absorbed: Vec<Date>,
    /// The data version (changes whenever stored data changes).
    pub data_version: u64,
    /// Tables, rows, series, replicate group rows and series, bytes on disk.
    pub stats: StoreStats,
    /// Bytes on disk per series (the rows `export` prints), when both are known and there are
    /// series.
    pub bytes_per_series: Option<f64>,
}

impl StoreInfo {
    /// The summary of `store`.
    ///
    /// # Errors
    /// Storage failures.
    pub fn of(store: &dyn Store) -> Result<StoreInfo> {
        let mut families = Vec::new();
        let mut channels = BTreeSet::new();
        let mut versions = BTreeSet::new();
        let mut absorbed = BTreeSet::new();
        let all = [
            Prefix::BuildId,
            Prefix::SubmissionDate,
            Prefix::MobileMetrics,
        ];
        for prefix in all {
            let mut tables: Vec<TableDates> = Vec::new();
            for channel in store.channels(prefix)? {
                let mut dates = store.dates(prefix, &channel)?;
                dates.sort_by(|a, b| {
                    compare_versions(&a.version, &b.version).then(a.date.cmp(&b.date))
                });
                for dv in &dates {
                    let target = Target {
                        prefix,
                        channel: channel.clone(),
                        version: dv.version.clone(),
                        date: dv.date,
                    };
                    absorbed.extend(store.absorbed(&target)?);
                    versions.insert(dv.version.clone());
                    match tables.last_mut() {
                        Some(t) if t.channel == channel && t.version == dv.version => {
                            t.dates += 1;
                            t.last = dv.date;
                        }
                        _ => tables.push(TableDates {
                            channel: channel.clone(),
                            version: dv.version.clone(),
                            dates: 1,
                            first: dv.date,
                            last: dv.date,
                        }),
                    }
                }
                channels.insert(channel);
            }
            if !tables.is_empty() {
                families.push(FamilyInfo { prefix, tables });
            }
        }
        let mut versions: Vec<String> = versions.into_iter().collect();
        versions.sort_by(|a, b| compare_versions(a, b));
        let stats = store.stats()?;
        let bytes_per_series = stats
            .bytes
            .filter(|_| stats.series > 0)
            .map(|b| b as f64 / stats.series as f64);
        Ok(StoreInfo {
            families,
            channels: channels.into_iter().collect(),
            versions,
            absorbed: absorbed.into_iter().collect(),
            data_version: store.data_version()?,
            stats,
            bytes_per_series,
        })
    }
}

/// `first … last (n)` of a sorted list of dates, or `none`.
fn span(dates: &[Date]) -> String {
    match (dates.first(), dates.last()) {
        (Some(first), Some(last)) if first == last => format!("{first} (1)"),
        (Some(first), Some(last)) => format!("{first} … {last} ({})", dates.len()),
        _ => "none".to_string(),
    }
}

/// A list, or `none` when empty.
fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

impl fmt::Display for StoreInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.stats;
        writeln!(f, "data version:     {}", self.data_version)?;
        writeln!(f, "channels:         {}", list(&self.channels))?;
        writeln!(f, "versions:         {}", list(&self.versions))?;
        writeln!(f, "absorbed dates:   {}", span(&self.absorbed))?;
        writeln!(f, "tables:           {}", s.targets)?;
        writeln!(
            f,
            "rows:             {} (one per table, metric and label)",
            s.rows
        )?;
        writeln!(f, "series:           {}", s.series)?;
        if s.replicate_rows > 0 || s.replicate_series > 0 {
            writeln!(
                f,
                "replicate groups: {} rows, {} series",
                s.replicate_rows, s.replicate_series
            )?;
        }
        if s.mobile_targets > 0 || s.mobile_rows > 0 {
            writeln!(
                f,
                "mobile:           {} tables, {} rows",
                s.mobile_targets, s.mobile_rows
            )?;
        }
        match (s.bytes, self.bytes_per_series) {
            (Some(bytes), Some(per)) => writeln!(
                f,
                "bytes on disk:    {bytes} ({:.1} MB, {per:.1} bytes per series)",
                bytes as f64 / 1e6
            )?,
            (Some(bytes), None) => writeln!(
                f,
                "bytes on disk:    {bytes} ({:.1} MB)",
                bytes as f64 / 1e6
            )?,
            (None, _) => writeln!(f, "bytes on disk:    unknown (not a file store)")?,
        }
        for family in &self.families {
            writeln!(f, "{}:", family.prefix)?;
            for t in &family.tables {
                let dates = if t.first == t.last {
                    format!("{}", t.first)
                } else {
                    format!("{} … {}", t.first, t.last)
                };
                let word = if t.dates == 1 { "date" } else { "dates" };
                writeln!(
                    f,
                    "  {} {}: {} {word}, {dates}",
                    t.channel, t.version, t.dates
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram::Histogram;
    use crate::keys::{Dims, Process, SeriesKey};
    use crate::layout::LayoutSpec;
    use crate::mobile::{MobileBatch, MobileHistogram, MobileKey};
    use crate::store::{Batch, MemoryStore};

    fn target(prefix: Prefix, channel: &str, version: &str, date: &str) -> Target {
        Target {
            prefix,
            channel: channel.into(),
            version: version.into(),
            date: date.parse().unwrap(),
        }
    }

    fn row(metric: &str, label: &str, process: Process) -> (SeriesKey, Histogram) {
        let mut h = Histogram::empty(LayoutSpec::scalar());
        h.record(3).unwrap();
        let key = SeriesKey {
            metric: metric.into(),
            label: label.into(),
            process,
            dims: Dims::default(),
        };
        (key, h)
    }

    #[test]
    fn summarises_what_was_written() {
        let store = MemoryStore::new();
        for (submission, dates) in [
            ("20240102", ["20240101", "20240102"]),
            ("20240103", ["20240103", "20240103"]),
        ] {
            let mut batch = Batch::new(submission.parse().unwrap());
            for date in dates {
                batch.tables.insert(
                    target(Prefix::BuildId, "nightly", "123", date),
                    vec![
                        row("A", "", Process::Parent),
                        row("A", "", Process::Content),
                    ],
                );
                batch.tables.insert(
                    target(Prefix::BuildId, "beta", "9", date),
                    vec![
                        row("K", "x", Process::Parent),
                        row("K", "y", Process::Parent),
                    ],
                );
            }
            batch.tables.insert(
                target(Prefix::SubmissionDate, "nightly", "123", submission),
                vec![],
            );
            store.write(&batch).unwrap();
        }
        let info = StoreInfo::of(&store).unwrap();
        assert_eq!(info.channels, ["beta", "nightly"]);
        assert_eq!(info.versions, ["9", "123"]);
        let d = |s: &str| s.parse::<Date>().unwrap();
        assert_eq!(info.absorbed, [d("20240102"), d("20240103")]);
        assert_eq!(info.families.len(), 2);
        let build = &info.families[0];
        assert_eq!(build.prefix, Prefix::BuildId);
        assert_eq!(
            build.tables[1],
            TableDates {
                channel: "nightly".into(),
                version: "123".into(),
                dates: 3,
                first: d("20240101"),
                last: d("20240103"),
            }
        );
        assert_eq!(info.families[1].tables[0].dates, 2);
        // 6 build-id tables and 2 empty submission-date tables; per build-id table 2 series
        // in 1 row (A) or 2 rows (K:x, K:y).
        assert_eq!(info.stats.targets, 8);
        assert_eq!(info.stats.series, 12);
        assert_eq!(info.stats.rows, 9);
        assert_eq!(info.stats.bytes, None);
        assert_eq!(info.bytes_per_series, None);
        assert_eq!(info.data_version, store.data_version().unwrap());
        let text = info.to_string();
        assert!(
            text.contains("  nightly 123: 3 dates, 20240101 … 20240103"),
            "{text}"
        );
        assert!(
            text.contains("absorbed dates:   20240102 … 20240103 (2)"),
            "{text}"
        );
        assert!(!text.contains("mobile"), "{text}");

        // Mobile rows: a family of their own, counted apart.
        let mut mobile = MobileBatch::new(d("20240104"));
        let mut h = MobileHistogram::new(None);
        h.add_ping(5, &[(5, 1)]).unwrap();
        let key = |metric: &str| MobileKey {
            metric: metric.into(),
            process: "engine".into(),
            ..MobileKey::default()
        };
        let table = mobile.target("release", "68.2.1");
        mobile
            .tables
            .insert(table, vec![(key("A"), h.clone()), (key("B"), h)]);
        store.write_mobile(&mobile).unwrap();
        let info = StoreInfo::of(&store).unwrap();
        assert_eq!(info.families.len(), 3);
        assert_eq!(info.families[2].prefix, Prefix::MobileMetrics);
        assert_eq!(info.families[2].tables[0].version, "68.2.1");
        assert_eq!((info.stats.targets, info.stats.series), (8, 12));
        assert_eq!((info.stats.mobile_targets, info.stats.mobile_rows), (1, 2));
        assert_eq!(info.absorbed.last(), Some(&d("20240104")));
        let text = info.to_string();
        assert!(
            text.contains("mobile:           1 tables, 2 rows"),
            "{text}"
        );
        assert!(
            text.contains("mobile_metrics:\n  release 68.2.1: 1 date, 20240104"),
            "{text}"
        );
    }
}
