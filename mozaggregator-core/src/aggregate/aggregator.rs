//! The rules of docs/ingest.md ("What is aggregated"): which pings count, their dimensions, and
//! what is extracted from them.

use std::sync::Arc;

use hashbrown::hash_map::Entry;
use serde::de::DeserializeSeed;

use super::parse::PingSeed;
use super::replication::sample_id;
use super::rules::{Ctx, Record, Scratch, What};
use super::{Aggregates, GroupKey, Map, Series};
use crate::date::Date;
use crate::definitions::Definitions;
use crate::doc_type::DocType;
use crate::error::{Error, Result};
use crate::histogram::Histogram;
use crate::layout::{BucketLayout, LayoutSpec};
use crate::mobile::add_mobile_ping;
use crate::ping::{Envelope, JsonType, Lenient, Scalar, Text};
use crate::reject::{HistogramReject, PingReject, Reason, ScalarReject};
use crate::replicate::ReplicateCount;

/// The channels whose pings are aggregated (docs/ingest.md, "Which pings count").
pub const CHANNELS: [&str; 4] = ["nightly", "aurora", "beta", "release"];

/// How an [`Aggregator`] selects pings and lays out histograms.
#[derive(Clone, Debug)]
pub struct Options {
    /// Only pings of this submission date are aggregated; pings without `meta` get this date.
    /// `None`: any date from `meta`, and pings without one are rejected.
    pub submission_date: Option<Date>,
    /// Channels to aggregate, a subset of [`CHANNELS`] (default: all four).
    pub channels: Vec<String>,
    /// Major versions to aggregate (`"121"`, as stored: `application.version` up to its first
    /// `.`); `None` (the default): every version.
    pub versions: Option<Vec<String>>,
    /// Lay histograms out by their definition when there is one (the original rule, for exact
    /// comparisons with its output) instead of by the layout the ping declares.
    pub prefer_definitions: bool,
    /// Keep full Linux OS versions instead of their first 3 characters.
    pub full_os_version: bool,
    /// Probe definitions (used with `prefer_definitions`).
    pub definitions: Arc<Definitions>,
    /// Also aggregate each ping into replicate group `sample_id mod R` (docs/ingest.md,
    /// "Replicate groups"); `None` (the default): no replicate groups.
    pub replicates: Option<ReplicateCount>,
    /// The kind of pings read: desktop `main` pings (the default), or `mobile_metrics` pings
    /// ([`crate::mobile`]), whose histograms are laid out by `definitions` when defined.
    pub doc_type: DocType,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            submission_date: None,
            channels: CHANNELS.iter().map(|c| c.to_string()).collect(),
            versions: None,
            prefer_definitions: false,
            full_os_version: false,
            definitions: Arc::new(Definitions::new()),
            replicates: None,
            doc_type: DocType::Main,
        }
    }
}

impl Options {
    /// Checks the options every front end (CLI, Python, Spark) accepts alike: the channels are
    /// a non-empty subset of [`CHANNELS`], the versions (when given) a non-empty list of major
    /// versions (no `.`), and `prefer_definitions` comes with definitions to prefer. (The
    /// submission date is a [`Date`]: it was checked when it was parsed.)
    ///
    /// ```
    /// use mozaggregator_core::Options;
    /// assert!(Options::default().validate().is_ok());
    /// let bad = Options { channels: vec!["nightly".into(), "esr".into()], ..Options::default() };
    /// assert_eq!(
    ///     bad.validate().unwrap_err().to_string(),
    ///     "invalid channels: `esr` is not one of nightly, aurora, beta, release"
    /// );
    /// let bad = Options { versions: Some(vec!["121.0".into()]), ..Options::default() };
    /// assert_eq!(
    ///     bad.validate().unwrap_err().to_string(),
    ///     "invalid versions: `121.0` is not a major version: give `121`"
    /// );
    /// let bad = Options { prefer_definitions: true, ..Options::default() };
    /// assert!(bad.validate().is_err());
    /// ```
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the first option that is wrong.
    pub fn validate(&self) -> Result<()> {
        if self.channels.is_empty() {
            return Err(Error::invalid(
                "channels",
                format!("no channel given: name some of {}", CHANNELS.join(", ")),
            ));
        }
        if let Some(bad) = self
            .channels
            .iter()
            .find(|c| !CHANNELS.contains(&c.as_str()))
        {
            return Err(Error::invalid(
                "channels",
                format!("`{bad}` is not one of {}", CHANNELS.join(", ")),
            ));
        }
        if let Some(versions) = &self.versions {
            if versions.is_empty() {
                return Err(Error::invalid(
                    "versions",
                    "no version given: name some major versions, or leave versions out for all",
                ));
            }
            if let Some(bad) = versions.iter().find(|v| v.is_empty() || v.contains('.')) {
                let major = bad.split('.').next().unwrap_or("");
                return Err(Error::invalid(
                    "versions",
                    format!("`{bad}` is not a major version: give `{major}`"),
                ));
            }
        }
        if self.doc_type == DocType::MobileMetrics && self.replicates.is_some() {
            return Err(Error::invalid(
                "replicates",
                "replicate groups are made of main pings only, not of mobile_metrics pings",
            ));
        }
        if self.prefer_definitions && self.definitions.is_empty() {
            return Err(Error::invalid(
                "prefer_definitions",
                "there are no definitions to prefer: load a Histograms.json",
            ));
        }
        Ok(())
    }
}

impl Options {
    /// Whether a ping of `channel` is aggregated: a known channel, and a selected one (the
    /// rule of main and mobile pings alike).
    pub(crate) fn select_channel(&self, channel: &str) -> Result<(), PingReject> {
        if !CHANNELS.contains(&channel) {
            return Err(PingReject::UnknownChannel);
        }
        if !self.channels.iter().any(|c| c == channel) {
            return Err(PingReject::ChannelNotSelected);
        }
        Ok(())
    }

    /// Whether a ping of the major version `major` is aggregated ([`Options::versions`]).
    pub(crate) fn select_version(&self, major: &str) -> Result<(), PingReject> {
        let selected = self.versions.as_ref();
        if selected.is_some_and(|wanted| !wanted.iter().any(|v| v == major)) {
            return Err(PingReject::VersionNotSelected);
        }
        Ok(())
    }
}

/// Applies the aggregation rules to pings, adding them to an [`Aggregates`].
///
/// An aggregator holds its options and caches (bucket layouts computed once per
/// [`LayoutSpec`]); it is cheap to clone, one per thread.
///
/// ```
/// use mozaggregator_core::{Aggregates, Aggregator, Options};
/// let mut aggregator = Aggregator::new(Options {
///     submission_date: Some("20240102".parse().unwrap()),
///     ..Options::default()
/// });
/// let mut out = Aggregates::new();
/// aggregator.add_json(&mut out, b"{\"not\": \"a ping\"}");
/// aggregator.add_json(&mut out, b"not json");
/// assert_eq!(out.report().pings_read, 2);
/// assert_eq!(out.report().pings_rejected["missing_client_id"], 1);
/// assert_eq!(out.report().pings_rejected["invalid_json"], 1);
/// ```
#[derive(Clone, Debug)]
pub struct Aggregator {
    options: Arc<Options>,
    /// `options.submission_date` as the text pings carry, to compare and intern.
    submission_date: Option<String>,
    layouts: Map<LayoutSpec, BucketLayout>,
    scratch: Scratch,
}

impl Aggregator {
    /// An aggregator with `options`.
    pub fn new(options: Options) -> Self {
        Self::shared(Arc::new(options))
    }

    /// An aggregator sharing `options` with others.
    pub fn shared(options: Arc<Options>) -> Self {
        Self {
            submission_date: options.submission_date.map(|d| d.to_string()),
            options,
            layouts: Map::default(),
            scratch: Scratch::default(),
        }
    }

    /// The options.
    pub fn options(&self) -> &Arc<Options> {
        &self.options
    }

    /// Parses one JSON document and aggregates it into `out`; a document that is not valid
    /// UTF-8 JSON, or not a usable ping, is counted as rejected in `out`'s report.
    ///
    /// The payload is aggregated while it is parsed, into buffers of this aggregator; its
    /// measurements reach `out` only when the whole document parsed and the ping's dimensions
    /// are valid.
    pub fn add_json(&mut self, out: &mut Aggregates, json: &[u8]) {
        out.report.pings_read += 1;
        out.report.json_bytes += json.len() as u64;
        if let Some(r) = self.options.replicates {
            out.replication.add(r);
        }
        let Ok(text) = std::str::from_utf8(json) else {
            out.report.reject_ping(PingReject::InvalidUtf8);
            return;
        };
        if self.options.doc_type == DocType::MobileMetrics {
            let wanted = self.submission_date.as_deref();
            let Aggregates { mobile, report, .. } = out;
            return add_mobile_ping(&self.options, wanted, mobile, report, text);
        }
        self.scratch.clear();
        let mut ctx = Ctx {
            strings: &mut out.strings,
            scratch: &mut self.scratch,
            layouts: &mut self.layouts,
            options: &self.options,
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed = PingSeed { ctx: &mut ctx }
            .deserialize(&mut de)
            .and_then(|envelope| de.end().map(|()| envelope));
        let envelope = match parsed {
            Ok(Some(envelope)) => envelope,
            Ok(None) => return out.report.reject_ping(PingReject::NotAPingObject),
            Err(e) => return out.report.reject_ping(parse_error_reason(&e)),
        };
        let dims = match dimensions(&self.options, self.submission_date.as_deref(), &envelope) {
            Ok(d) => d,
            Err(reason) => return out.report.reject_ping(reason),
        };
        // `Some(None)`: replicate groups are on, and the ping has none.
        let replicate = self
            .options
            .replicates
            .map(|r| sample_id(&envelope).map(|s| r.group_of_sample(s)));
        let mut ids = [0u32; 8];
        for (k, v) in ids.iter_mut().zip(dims) {
            match out.strings.intern(v) {
                Some(id) => *k = id,
                None => return out.report.reject_ping(PingReject::TooManyStrings),
            }
        }
        if replicate == Some(None) {
            out.report.pings_without_replicate_group += 1;
        }
        self.commit(out, GroupKey::from_ids(ids), replicate.flatten());
    }

    /// Adds the records of the ping just parsed to its group (and to the group's aggregate of
    /// `replicate`, when given), and its counts to the report.
    fn commit(&self, out: &mut Aggregates, key: GroupKey, replicate: Option<u8>) {
        let Aggregates {
            strings,
            groups,
            report,
            ..
        } = out;
        report.pings_used += 1;
        let group = groups.entry(key).or_default();
        let scratch = &self.scratch;
        // Records that overflowed their series (rare: no allocation otherwise).
        let mut failed: Vec<usize> = Vec::new();
        for (i, r) in scratch.records.iter().enumerate() {
            let series = series_of(group, r);
            match r.what {
                What::Sparse { start, end, sum } => {
                    if series.add_sparse(&scratch.pairs[start..end], sum).is_err() {
                        report.reject_histogram(HistogramReject::Overflow);
                        failed.push(i);
                        continue;
                    }
                    report.histograms_used += 1;
                    report.bad_keys += r.bad_keys;
                    report.non_integer_counts += r.non_integer;
                    if r.unplaced > 0 {
                        report.unplaced(strings.name(r.sid.metric), r.unplaced);
                    }
                }
                What::Value {
                    index,
                    value,
                    histogram,
                } => match (series.record_at(index, value), histogram) {
                    (Ok(()), true) => report.histograms_used += 1,
                    (Ok(()), false) => report.scalars_used += 1,
                    (Err(_), true) => {
                        report.reject_histogram(HistogramReject::Overflow);
                        failed.push(i);
                    }
                    (Err(_), false) => {
                        report.reject_scalar(ScalarReject::Overflow);
                        failed.push(i);
                    }
                },
            }
        }
        if let Some(g) = replicate {
            let key = GroupKey {
                replicate: g + 1,
                ..key
            };
            self.add_to_replicate(groups.entry(key).or_default(), &failed);
        }
        for (&reason, n) in HistogramReject::ALL.iter().zip(scratch.hist_rejects) {
            if n > 0 {
                report.reject_histograms(reason, n);
            }
        }
        for (&reason, n) in ScalarReject::ALL.iter().zip(scratch.scalar_rejects) {
            if n > 0 {
                report.reject_scalars(reason, n);
            }
        }
    }

    /// Adds the records of the ping just parsed, but those of `failed` (indices, ascending),
    /// to a replicate group's aggregate: the records its normal aggregate took, so that the
    /// groups add up to it. Nothing is counted: the normal aggregate counted them.
    fn add_to_replicate(&self, group: &mut Series, failed: &[usize]) {
        let scratch = &self.scratch;
        let mut failed = failed.iter().copied().peekable();
        for (i, r) in scratch.records.iter().enumerate() {
            if failed.next_if_eq(&i).is_some() {
                continue;
            }
            let series = series_of(group, r);
            // The group's series is a part of the normal one, which took this record, so it
            // fits; were it not to (after a merge that overflowed, counted then), it is left
            // unchanged.
            let _ = match r.what {
                What::Sparse { start, end, sum } => {
                    series.add_sparse(&scratch.pairs[start..end], sum)
                }
                What::Value { index, value, .. } => series.record_at(index, value),
            };
        }
    }
}

/// The series of `group` that `record` adds to (created empty when new).
#[inline]
fn series_of<'g>(group: &'g mut Series, record: &Record) -> &'g mut Histogram {
    match group.entry(record.sid) {
        Entry::Occupied(o) => o.into_mut(),
        Entry::Vacant(v) => v.insert(Histogram::empty(record.sid.layout)),
    }
}

/// Why a serde_json error rejected a document.
pub(crate) fn parse_error_reason(e: &serde_json::Error) -> PingReject {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => PingReject::TruncatedJson,
        Category::Data if e.to_string().starts_with("duplicate field") => {
            PingReject::DuplicateField
        }
        Category::Data => PingReject::NotAPingObject,
        Category::Io => PingReject::IoError,
        Category::Syntax => {
            let msg = e.to_string();
            if msg.starts_with("recursion limit exceeded") {
                PingReject::TooDeeplyNested
            } else if msg.starts_with("number out of range") {
                PingReject::NumberOutOfRange
            } else {
                PingReject::InvalidJson
            }
        }
    }
}

fn text<'p>(field: &'p Option<Text<'_>>) -> Option<&'p str> {
    field.as_ref().and_then(Text::as_str)
}

fn required<'p>(
    field: &'p Option<Text<'_>>,
    missing: PingReject,
    invalid: PingReject,
) -> Result<&'p str, PingReject> {
    match field {
        None | Some(Text::Invalid(JsonType::Null)) => Err(missing),
        Some(Text::Invalid(_)) => Err(invalid),
        Some(Text::Str(s)) => Ok(s),
    }
}

/// The 8 dimensions of a ping's build-id aggregate, in [`GroupKey::ids`] order, or the reason the
/// ping is rejected.
fn dimensions<'p>(
    options: &'p Options,
    wanted_date: Option<&'p str>,
    ping: &'p Envelope<'_>,
) -> Result<[&'p str; 8], PingReject> {
    let meta = match &ping.meta {
        Some(Lenient::Valid(m)) => Some(m),
        Some(Lenient::Invalid(_)) => return Err(PingReject::InvalidMeta),
        None => None,
    };
    // Submission date: meta's, else the caller's.
    let submission_date = match meta.and_then(|m| m.submission_date.as_ref()) {
        Some(Text::Str(d)) => {
            if Date::parse(d).is_err() {
                return Err(PingReject::InvalidSubmissionDate);
            }
            if wanted_date.is_some_and(|want| want != d) {
                return Err(PingReject::OtherSubmissionDate);
            }
            &**d
        }
        Some(Text::Invalid(_)) => return Err(PingReject::InvalidSubmissionDate),
        None => wanted_date.ok_or(PingReject::MissingSubmissionDate)?,
    };
    // Sample id: meta's (a number), else crc32(clientId) mod 100, which is always < 100.
    match meta.and_then(|m| m.sample_id) {
        Some(Scalar::Unsigned(v)) if v >= 100 => return Err(PingReject::SampleIdOutOfRange),
        Some(Scalar::Float(v)) if v >= 100.0 => return Err(PingReject::SampleIdOutOfRange),
        Some(Scalar::Unsigned(_) | Scalar::Negative(_) | Scalar::Float(_)) => {}
        Some(_) => return Err(PingReject::InvalidSampleId),
        None => {
            if text(&ping.client_id).is_none() {
                return Err(PingReject::MissingClientId);
            }
        }
    }
    let app = match &ping.application {
        Some(Lenient::Valid(a)) => a,
        Some(Lenient::Invalid(_)) => return Err(PingReject::InvalidApplication),
        None => return Err(PingReject::MissingChannel),
    };
    let channel = required(
        &app.channel,
        PingReject::MissingChannel,
        PingReject::InvalidChannel,
    )?;
    options.select_channel(channel)?;
    let version = required(
        &app.version,
        PingReject::MissingVersion,
        PingReject::InvalidVersion,
    )?;
    let version = version.split('.').next().unwrap_or("");
    if version.is_empty() {
        return Err(PingReject::InvalidVersion);
    }
    options.select_version(version)?;
    let build_id = required(
        &app.build_id,
        PingReject::MissingBuildId,
        PingReject::InvalidBuildId,
    )?;
    let build_id = build_id.get(..8).ok_or(PingReject::InvalidBuildId)?;
    if Date::parse(build_id).is_err() {
        return Err(PingReject::InvalidBuildId);
    }
    let application = required(
        &app.name,
        PingReject::MissingApplication,
        PingReject::InvalidApplication,
    )?;
    let architecture = required(
        &app.architecture,
        PingReject::MissingArchitecture,
        PingReject::InvalidArchitecture,
    )?;
    let os = ping
        .environment
        .as_ref()
        .and_then(Lenient::valid)
        .and_then(|e| e.system.as_ref())
        .and_then(Lenient::valid)
        .and_then(|s| s.os.as_ref())
        .and_then(Lenient::valid)
        .ok_or(PingReject::MissingOs)?;
    let os_name = required(&os.name, PingReject::MissingOs, PingReject::InvalidOs)?;
    let mut os_version = required(
        &os.version,
        PingReject::MissingOsVersion,
        PingReject::InvalidOsVersion,
    )?;
    if os_name == "Linux" && !options.full_os_version {
        let end = os_version
            .char_indices()
            .nth(3)
            .map_or(os_version.len(), |(i, _)| i);
        os_version = &os_version[..end];
    }
    Ok([
        submission_date,
        channel,
        version,
        build_id,
        application,
        architecture,
        os_name,
        os_version,
    ])
}
