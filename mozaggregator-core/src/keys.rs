//! The dimensions that address aggregates: prefix, process, target table and series key.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::error::{Error, Result};

/// The aggregate families: the two of desktop main pings (docs/ingest.md, "Aggregates and
/// merging"), and that of mobile-metrics pings (docs/ingest.md, "Mobile pings").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefix {
    /// Aggregates by build-id date.
    BuildId,
    /// Aggregates by submission date.
    SubmissionDate,
    /// Mobile-metrics rows ([`crate::mobile`]): one table per (channel, full app version,
    /// submission date), its rows keyed by [`crate::mobile::MobileKey`]. Never served by the
    /// desktop API: it is not in [`Prefix::ALL`] and not parsed from URLs.
    MobileMetrics,
}

impl Prefix {
    /// The desktop prefixes (those of the HTTP API, of [`crate::Store::query`] and of
    /// filter options).
    pub const ALL: [Prefix; 2] = [Prefix::BuildId, Prefix::SubmissionDate];

    /// `"build_id"`, `"submission_date"` or `"mobile_metrics"`, as in URLs and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Prefix::BuildId => "build_id",
            Prefix::SubmissionDate => "submission_date",
            Prefix::MobileMetrics => "mobile_metrics",
        }
    }

    /// True for the families of desktop main pings ([`Prefix::ALL`]).
    pub fn is_desktop(self) -> bool {
        self != Prefix::MobileMetrics
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Prefix {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Prefix::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "prefix",
                    format!("`{s}` is not build_id or submission_date"),
                )
            })
    }
}

/// The Firefox process a measurement comes from (the API's `child` dimension).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Process {
    /// The main process.
    Parent,
    /// Content processes (and legacy `childPayloads`).
    Content,
    /// The GPU process.
    Gpu,
}

impl Process {
    /// All processes.
    pub const ALL: [Process; 3] = [Process::Parent, Process::Content, Process::Gpu];

    /// `"parent"`, `"content"` or `"gpu"`: the stored and served name.
    pub fn as_str(self) -> &'static str {
        match self {
            Process::Parent => "parent",
            Process::Content => "content",
            Process::Gpu => "gpu",
        }
    }

    /// A small stable number (0 parent, 1 content, 2 gpu) for compact storage.
    #[inline]
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Inverse of [`Process::code`].
    pub fn from_code(code: i64) -> Option<Self> {
        Process::ALL
            .into_iter()
            .find(|p| i64::from(p.code()) == code)
    }
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Process {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Process::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| Error::invalid("child", format!("`{s}` is not content, parent or gpu")))
    }
}

/// One aggregate table: (prefix, channel, version, date). The date is the build-id date or the
/// submission date, `YYYYMMDD`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Target {
    /// Which family.
    pub prefix: Prefix,
    /// `nightly`, `aurora`, `beta` or `release`.
    pub channel: String,
    /// Major version, e.g. `"42"`.
    pub version: String,
    /// The build-id date or the submission date.
    pub date: Date,
}

/// The non-metric dimensions of a series (docs/ingest.md, "Aggregates and merging").
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dims {
    /// `application.name`, e.g. `Firefox`.
    pub application: String,
    /// `application.architecture`, e.g. `x86-64`.
    pub architecture: String,
    /// `environment.system.os.name`, e.g. `Windows_NT`.
    pub os: String,
    /// `environment.system.os.version` (Linux truncated to 3 characters by default).
    pub os_version: String,
}

/// A metric series inside a target: (metric, label, process, dims).
///
/// The layout is not part of the key: it travels with the [`crate::Histogram`]. Two series with
/// the same key and different layouts are kept apart by stores (see [`crate::Store`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeriesKey {
    /// Metric name: a histogram name, `SCALARS_…`, `SIMPLE_MEASURES_…` or `[[COUNT]]_…`.
    pub metric: String,
    /// Key of a keyed histogram or scalar; `""` otherwise.
    pub label: String,
    /// Process.
    pub process: Process,
    /// Application, architecture, os and os version.
    pub dims: Dims,
}

/// A date and the version it was seen with, as `/dates/` lists them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DateVersion {
    /// The date of the tables.
    pub date: Date,
    /// Major version.
    pub version: String,
}

/// Orders two versions as numbers: by the number their leading ASCII digits make (`"124"` after
/// `"48"`, `"9a1"` as 9; leading zeros do not count), a version without leading digits before
/// every version with them; ties (equal numbers, or no digits) by the whole string, byte order.
///
/// ```
/// use mozaggregator_core::keys::compare_versions;
/// use std::cmp::Ordering;
/// assert_eq!(compare_versions("124", "48"), Ordering::Greater);
/// assert_eq!(compare_versions("9", "10"), Ordering::Less);
/// assert_eq!(compare_versions("nightly", "1"), Ordering::Less);
/// ```
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    fn leading(v: &str) -> Option<&str> {
        let digits = v.bytes().take_while(u8::is_ascii_digit).count();
        (digits > 0).then(|| {
            let n = v[..digits].trim_start_matches('0');
            if n.is_empty() {
                "0"
            } else {
                n
            }
        })
    }
    let number = |v| leading(v).map(|n: &str| (n.len(), n));
    number(a).cmp(&number(b)).then_with(|| a.cmp(b))
}

/// Sorts `/dates/` entries as every store lists them: newest date first, and for one date the
/// higher version first ([`compare_versions`]); duplicates removed.
pub fn sort_dates(dates: &mut Vec<DateVersion>) {
    dates.sort_by(|a, b| {
        b.date
            .cmp(&a.date)
            .then_with(|| compare_versions(&b.version, &a.version))
    });
    dates.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Prefix::ALL {
            assert_eq!(p.as_str().parse::<Prefix>().unwrap(), p);
        }
        for p in Process::ALL {
            assert_eq!(p.as_str().parse::<Process>().unwrap(), p);
            assert_eq!(Process::from_code(i64::from(p.code())), Some(p));
        }
        assert!("true".parse::<Process>().is_err());
        assert!("builds".parse::<Prefix>().is_err());
    }
}
