//! The rules of SPEC §2: which pings count, their dimensions, and what is extracted from them.

use std::sync::Arc;

use hashbrown::hash_map::Entry;

use super::{Aggregates, GroupKey, Map, Series, SeriesId};
use crate::completion::complete;
use crate::definitions::Definitions;
use crate::histogram::Histogram;
use crate::keys::{check_date, Process};
use crate::layout::{BucketLayout, Kind, LayoutSpec};
use crate::ping::{
    HistogramBody, Histograms, KeyedHistograms, KeyedScalars, Lenient, Measure, Obj, Ping, Scalar,
    Scalars, SimpleMeasurements, Text,
};
use crate::report::Report;

/// The channels whose pings are aggregated (SPEC §2.1).
pub const CHANNELS: [&str; 4] = ["nightly", "aurora", "beta", "release"];

/// Keyed histograms never aggregated (label explosion).
const IGNORED_KEYED_HISTOGRAMS: [&str; 2] = [
    "MESSAGE_MANAGER_MESSAGE_SIZE",
    "VIDEO_DETAILED_DROPPED_FRAMES_PROPORTION",
];

/// Scalars never aggregated: names starting with this.
const IGNORED_SCALAR_PREFIX: &str = "browser.engagement.navigation";

const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// How an [`Aggregator`] selects pings and lays out histograms.
#[derive(Clone, Debug)]
pub struct Options {
    /// Only pings of this submission date (`YYYYMMDD`) are aggregated; pings without `meta`
    /// get this date. `None`: any date from `meta`, and pings without one are rejected.
    pub submission_date: Option<String>,
    /// Channels to aggregate, a subset of [`CHANNELS`] (default: all four).
    pub channels: Vec<String>,
    /// Lay histograms out by their definition when there is one (the original rule, for exact
    /// comparisons with its output) instead of by the layout the ping declares.
    pub prefer_definitions: bool,
    /// Keep full Linux OS versions instead of their first 3 characters.
    pub full_os_version: bool,
    /// Probe definitions (used with `prefer_definitions`).
    pub definitions: Arc<Definitions>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            submission_date: None,
            channels: CHANNELS.iter().map(|c| c.to_string()).collect(),
            prefer_definitions: false,
            full_os_version: false,
            definitions: Arc::new(Definitions::new()),
        }
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
///     submission_date: Some("20240102".into()),
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
    layouts: Map<LayoutSpec, BucketLayout>,
    name: String,
    label: String,
}

impl Aggregator {
    /// An aggregator with `options`.
    pub fn new(options: Options) -> Self {
        Self::shared(Arc::new(options))
    }

    /// An aggregator sharing `options` with others.
    pub fn shared(options: Arc<Options>) -> Self {
        Self {
            options,
            layouts: Map::default(),
            name: String::new(),
            label: String::new(),
        }
    }

    /// The options.
    pub fn options(&self) -> &Arc<Options> {
        &self.options
    }

    /// Parses one JSON document and aggregates it into `out`; a document that is not valid
    /// UTF-8 JSON, or not a usable ping, is counted as rejected in `out`'s report.
    pub fn add_json(&mut self, out: &mut Aggregates, json: &[u8]) {
        out.report.pings_read += 1;
        out.report.json_bytes += json.len() as u64;
        let Ok(text) = std::str::from_utf8(json) else {
            out.report.reject_ping("invalid_utf8");
            return;
        };
        match Ping::from_str(text) {
            Ok(ping) => self.aggregate(out, &ping),
            Err(e) => out.report.reject_ping(parse_error_reason(&e)),
        }
    }

    /// Aggregates one parsed ping into `out` (counted as read).
    pub fn add_ping(&mut self, out: &mut Aggregates, ping: &Ping<'_>) {
        out.report.pings_read += 1;
        self.aggregate(out, ping);
    }

    fn aggregate(&mut self, out: &mut Aggregates, ping: &Ping<'_>) {
        let Aggregates {
            strings,
            groups,
            report,
        } = out;
        let dims = match dimensions(&self.options, ping) {
            Ok(d) => d,
            Err(reason) => {
                report.reject_ping(reason);
                return;
            }
        };
        let mut key: GroupKey = [0; 8];
        for (k, v) in key.iter_mut().zip(dims) {
            match strings.intern(v) {
                Some(id) => *k = id,
                None => {
                    report.reject_ping("too_many_strings");
                    return;
                }
            }
        }
        report.pings_used += 1;
        let mut sink = Sink {
            strings,
            series: groups.entry(key).or_default(),
            report,
            layouts: &mut self.layouts,
            options: &self.options,
            name: &mut self.name,
            label: &mut self.label,
        };
        sink.ping(ping);
    }
}

/// Why a serde_json error rejected a document.
fn parse_error_reason(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => "truncated_json",
        Category::Data => "not_a_ping_object",
        Category::Io => "io_error",
        Category::Syntax => {
            let msg = e.to_string();
            if msg.starts_with("recursion limit exceeded") {
                "too_deeply_nested"
            } else if msg.starts_with("number out of range") {
                "number_out_of_range"
            } else {
                "invalid_json"
            }
        }
    }
}

fn text<'p>(field: &'p Option<Text<'_>>) -> Option<&'p str> {
    field.as_ref().and_then(Text::as_str)
}

fn required<'p>(
    field: &'p Option<Text<'_>>,
    missing: &'static str,
    invalid: &'static str,
) -> Result<&'p str, &'static str> {
    match field {
        None | Some(Text::Invalid(crate::ping::JsonType::Null)) => Err(missing),
        Some(Text::Invalid(_)) => Err(invalid),
        Some(Text::Str(s)) => Ok(s),
    }
}

/// The 8 dimensions of a ping's build-id aggregate, in [`GroupKey`] order, or the reason the
/// ping is rejected.
fn dimensions<'p>(options: &'p Options, ping: &'p Ping<'_>) -> Result<[&'p str; 8], &'static str> {
    let meta = match &ping.meta {
        Some(Lenient::Valid(m)) => Some(m),
        Some(Lenient::Invalid(_)) => return Err("invalid_meta"),
        None => None,
    };
    // Submission date: meta's, else the caller's.
    let submission_date = match meta.and_then(|m| m.submission_date.as_ref()) {
        Some(Text::Str(d)) => {
            if check_date("submission date", d).is_err() {
                return Err("invalid_submission_date");
            }
            if options
                .submission_date
                .as_deref()
                .is_some_and(|want| want != d)
            {
                return Err("other_submission_date");
            }
            &**d
        }
        Some(Text::Invalid(_)) => return Err("invalid_submission_date"),
        None => options
            .submission_date
            .as_deref()
            .ok_or("missing_submission_date")?,
    };
    // Sample id: meta's (a number), else crc32(clientId) mod 100, which is always < 100.
    match meta.and_then(|m| m.sample_id) {
        Some(Scalar::Unsigned(v)) if v >= 100 => return Err("sample_id_out_of_range"),
        Some(Scalar::Float(v)) if v >= 100.0 => return Err("sample_id_out_of_range"),
        Some(Scalar::Unsigned(_) | Scalar::Negative(_) | Scalar::Float(_)) => {}
        Some(_) => return Err("invalid_sample_id"),
        None => {
            if text(&ping.client_id).is_none() {
                return Err("missing_client_id");
            }
        }
    }
    let app = match &ping.application {
        Some(Lenient::Valid(a)) => a,
        Some(Lenient::Invalid(_)) => return Err("invalid_application"),
        None => return Err("missing_channel"),
    };
    let channel = required(&app.channel, "missing_channel", "invalid_channel")?;
    if !CHANNELS.contains(&channel) {
        return Err("unknown_channel");
    }
    if !options.channels.iter().any(|c| c == channel) {
        return Err("channel_not_selected");
    }
    let version = required(&app.version, "missing_version", "invalid_version")?;
    let version = version.split('.').next().unwrap_or("");
    if version.is_empty() {
        return Err("invalid_version");
    }
    let build_id = required(&app.build_id, "missing_build_id", "invalid_build_id")?;
    let build_id = build_id.get(..8).ok_or("invalid_build_id")?;
    if check_date("build id", build_id).is_err() {
        return Err("invalid_build_id");
    }
    let application = required(&app.name, "missing_application", "invalid_application")?;
    let architecture = required(
        &app.architecture,
        "missing_architecture",
        "invalid_architecture",
    )?;
    let os = ping
        .environment
        .as_ref()
        .and_then(Lenient::valid)
        .and_then(|e| e.system.as_ref())
        .and_then(Lenient::valid)
        .and_then(|s| s.os.as_ref())
        .and_then(Lenient::valid)
        .ok_or("missing_os")?;
    let os_name = required(&os.name, "missing_os", "invalid_os")?;
    let mut os_version = required(&os.version, "missing_os_version", "invalid_os_version")?;
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

/// Where one ping's measurements go: the series of its group, with the shared string table,
/// report and caches.
struct Sink<'s> {
    strings: &'s mut super::Interner,
    series: &'s mut Series,
    report: &'s mut Report,
    layouts: &'s mut Map<LayoutSpec, BucketLayout>,
    options: &'s Options,
    name: &'s mut String,
    label: &'s mut String,
}

/// A scalar-like value as the `u64` recorded, or why it is skipped (SPEC §2.4).
/// Floats are floored, for the bucket and for the sum (which is an integer here).
fn scalar_value(v: Scalar) -> Result<u64, &'static str> {
    match v {
        Scalar::Unsigned(u) => Ok(u),
        Scalar::Bool(b) => Ok(u64::from(b)),
        Scalar::Negative(_) => Err("negative"),
        Scalar::Float(f) if f.is_nan() => Err("not_numeric"),
        Scalar::Float(f) if f < 0.0 => Err("negative"),
        Scalar::Float(f) if f >= TWO_POW_64 => Err("out_of_range"),
        Scalar::Float(f) => Ok(f.floor() as u64),
        Scalar::String | Scalar::Null | Scalar::Array | Scalar::Object => Err("not_numeric"),
    }
}

/// Appends `s` uppercased (Unicode rules; ASCII fast path).
fn push_upper(buf: &mut String, s: &str) {
    if s.is_ascii() {
        let start = buf.len();
        buf.push_str(s);
        buf[start..].make_ascii_uppercase();
    } else {
        buf.push_str(&s.to_uppercase());
    }
}

impl Sink<'_> {
    fn ping(&mut self, ping: &Ping<'_>) {
        let Some(payload) = ping.payload.as_ref() else {
            return;
        };
        let payload = match payload {
            Lenient::Valid(p) => p,
            Lenient::Invalid(_) => {
                self.report.reject_histogram("payload_not_an_object");
                return;
            }
        };
        // Processes: scalars of parent, content and gpu; histograms of content and gpu.
        match &payload.processes {
            Some(Lenient::Valid(processes)) => {
                for (process, data) in [
                    (Process::Parent, &processes.parent),
                    (Process::Content, &processes.content),
                    (Process::Gpu, &processes.gpu),
                ] {
                    match data {
                        Some(Lenient::Valid(d)) => {
                            if let Some(s) = &d.scalars {
                                self.scalars(s, process);
                            }
                            if let Some(s) = &d.keyed_scalars {
                                self.keyed_scalars(s, process);
                            }
                            if process != Process::Parent {
                                if let Some(h) = &d.histograms {
                                    self.histograms(h, process);
                                }
                                if let Some(h) = &d.keyed_histograms {
                                    self.keyed_histograms(h, process);
                                }
                            }
                        }
                        Some(Lenient::Invalid(_)) => {
                            self.report.reject_histogram("section_not_an_object");
                        }
                        None => {}
                    }
                }
            }
            Some(Lenient::Invalid(_)) => self.report.reject_histogram("section_not_an_object"),
            None => {}
        }
        if let Some(h) = &payload.histograms {
            self.histograms(h, Process::Parent);
        }
        if let Some(h) = &payload.keyed_histograms {
            self.keyed_histograms(h, Process::Parent);
        }
        if let Some(sm) = &payload.simple_measurements {
            self.simple_measurements(sm, Process::Parent);
        }
        match &payload.child_payloads {
            Some(crate::ping::List::Items(children)) => {
                for child in children {
                    match child {
                        Lenient::Valid(c) => {
                            if let Some(h) = &c.histograms {
                                self.histograms(h, Process::Content);
                            }
                            if let Some(h) = &c.keyed_histograms {
                                self.keyed_histograms(h, Process::Content);
                            }
                            if let Some(sm) = &c.simple_measurements {
                                self.simple_measurements(sm, Process::Content);
                            }
                        }
                        Lenient::Invalid(_) => {
                            self.report.reject_histogram("section_not_an_object");
                        }
                    }
                }
            }
            Some(crate::ping::List::Invalid(_)) => {
                self.report.reject_histogram("section_not_an_object");
            }
            None => {}
        }
    }

    fn histograms(&mut self, section: &Histograms<'_>, process: Process) {
        match section {
            Obj::Map(entries) => {
                for (name, body) in entries {
                    self.histogram(name, "", process, body);
                }
            }
            Obj::Invalid(_) => self.report.reject_histogram("section_not_an_object"),
        }
    }

    fn keyed_histograms(&mut self, section: &KeyedHistograms<'_>, process: Process) {
        let Obj::Map(entries) = section else {
            self.report.reject_histogram("section_not_an_object");
            return;
        };
        for (name, keyed) in entries {
            if IGNORED_KEYED_HISTOGRAMS.contains(&&**name) {
                self.report.reject_histogram("ignored_by_name");
                continue;
            }
            match keyed {
                Obj::Map(by_key) => {
                    for (key, body) in by_key {
                        self.histogram(name, key, process, body);
                    }
                }
                Obj::Invalid(_) => self.report.reject_histogram("not_an_object"),
            }
        }
    }

    /// One histogram (SPEC §2.3).
    fn histogram(&mut self, name: &str, label: &str, process: Process, body: &HistogramBody<'_>) {
        let h = match body {
            HistogramBody::Object(h) => h,
            HistogramBody::Invalid(_) => return self.report.reject_histogram("not_an_object"),
        };
        let histogram_type = match h.histogram_type.and_then(Scalar::as_integer) {
            Some(t) => t,
            None => return self.report.reject_histogram("type_not_integer"),
        };
        let values = match &h.values {
            Some(Obj::Map(values)) => values,
            _ => return self.report.reject_histogram("values_not_an_object"),
        };
        let sum = match h.sum {
            Some(Scalar::Unsigned(s)) => s,
            Some(Scalar::Negative(_)) => return self.report.reject_histogram("negative_sum"),
            Some(Scalar::Float(f)) if f.abs() >= TWO_POW_64 => {
                return self.report.reject_histogram("number_out_of_range")
            }
            _ => return self.report.reject_histogram("sum_not_integer"),
        };
        if histogram_type == 4 {
            // Count histogram: a scalar-like series of its `sum`.
            self.name.clear();
            self.name.push_str("[[COUNT]]_");
            self.name.push_str(name);
            let metric = std::mem::take(self.name);
            let ok = self.record(&metric, label, process, LayoutSpec::scalar(), sum);
            *self.name = metric;
            match ok {
                Ok(()) => self.report.histograms_used += 1,
                Err(reason) => self.report.reject_histogram(reason),
            }
            return;
        }
        // Bucket counts: non-negative integers; other JSON values count as 0.
        let mut total: u64 = 0;
        let mut non_integer = 0u64;
        for (_, v) in values {
            match *v {
                Scalar::Unsigned(c) => match total.checked_add(c) {
                    Some(t) => total = t,
                    None => return self.report.reject_histogram("overflow"),
                },
                Scalar::Negative(_) => return self.report.reject_histogram("negative_count"),
                Scalar::Float(f) if f < 0.0 => {
                    return self.report.reject_histogram("negative_count")
                }
                Scalar::Float(f) if f >= TWO_POW_64 => {
                    return self.report.reject_histogram("number_out_of_range")
                }
                _ => non_integer += 1,
            }
        }
        let spec = match self.layout_of(name, histogram_type, h) {
            Some(spec) => spec,
            None => return self.report.reject_histogram("invalid_layout"),
        };
        let layout = self
            .layouts
            .entry(spec)
            .or_insert_with(|| BucketLayout::new(spec));
        let entries = values.iter().map(|(k, v)| {
            let count = match v {
                Scalar::Unsigned(c) => *c,
                _ => 0,
            };
            (&**k, count)
        });
        let completion = complete(entries, layout);
        let Some(metric) = self.strings.intern(name) else {
            return self.report.reject_histogram("too_many_strings");
        };
        let Some(label) = self.strings.intern(label) else {
            return self.report.reject_histogram("too_many_strings");
        };
        let sid = SeriesId {
            metric,
            label,
            process,
            layout: spec,
        };
        let series = match self.series.entry(sid) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(Histogram::empty(spec)),
        };
        if series.add_dense(&completion.counts, sum).is_err() {
            return self.report.reject_histogram("overflow");
        }
        self.report.histograms_used += 1;
        self.report.non_integer_counts += non_integer;
        self.report.bad_keys += completion.bad_keys;
        if completion.unplaced > 0 {
            self.report.unplaced(name, completion.unplaced);
        }
    }

    /// The layout a histogram is completed against: the definition's with
    /// `prefer_definitions` (when there is one), else the one the ping declares.
    fn layout_of(
        &self,
        name: &str,
        histogram_type: i128,
        h: &crate::ping::RawHistogram<'_>,
    ) -> Option<LayoutSpec> {
        if self.options.prefer_definitions {
            if let Some(def) = self.options.definitions.lookup(name) {
                return Some(def.layout.spec());
            }
        }
        let histogram_type = i64::try_from(histogram_type).ok()?;
        let kind = Kind::from_histogram_type(histogram_type)?;
        let needs_range = matches!(kind, Kind::Exponential | Kind::Linear);
        let (low, high) = match h.range.as_ref().map(|r| r.items()) {
            Some([Scalar::Unsigned(low), Scalar::Unsigned(high), ..]) => (*low, *high),
            _ if !needs_range => (1, 2),
            _ => return None,
        };
        let n = match h.bucket_count {
            Some(Scalar::Unsigned(n)) => n,
            _ if matches!(kind, Kind::Boolean | Kind::Flag) => 3,
            _ => return None,
        };
        LayoutSpec::from_ping(histogram_type, low, high, n).ok()
    }

    fn scalars(&mut self, section: &Scalars<'_>, process: Process) {
        let Obj::Map(entries) = section else {
            return self.report.reject_scalar("section_not_an_object");
        };
        for (name, value) in entries {
            if name.starts_with(IGNORED_SCALAR_PREFIX) {
                self.report.reject_scalar("ignored_by_name");
                continue;
            }
            self.scalar_metric(name);
            self.scalar(process, "", *value);
        }
    }

    fn keyed_scalars(&mut self, section: &KeyedScalars<'_>, process: Process) {
        let Obj::Map(entries) = section else {
            return self.report.reject_scalar("section_not_an_object");
        };
        for (name, keyed) in entries {
            if name.starts_with(IGNORED_SCALAR_PREFIX) {
                self.report.reject_scalar("ignored_by_name");
                continue;
            }
            let Obj::Map(by_key) = keyed else {
                self.report.reject_scalar("not_an_object");
                continue;
            };
            self.scalar_metric(name);
            for (key, value) in by_key {
                let mut label = std::mem::take(self.label);
                label.clear();
                push_upper(&mut label, key);
                self.scalar(process, &label, *value);
                *self.label = label;
            }
        }
    }

    /// Sets `self.name` to `SCALARS_` + the name uppercased.
    fn scalar_metric(&mut self, name: &str) {
        self.name.clear();
        self.name.push_str("SCALARS_");
        push_upper(self.name, name);
    }

    /// Records a scalar value under `self.name`.
    fn scalar(&mut self, process: Process, label: &str, value: Scalar) {
        let result = scalar_value(value).and_then(|v| {
            let metric = std::mem::take(self.name);
            let r = self.record(&metric, label, process, LayoutSpec::scalar(), v);
            *self.name = metric;
            r
        });
        match result {
            Ok(()) => self.report.scalars_used += 1,
            Err(reason) => self.report.reject_scalar(reason),
        }
    }

    fn simple_measurements(&mut self, section: &SimpleMeasurements<'_>, process: Process) {
        let Obj::Map(entries) = section else {
            return self.report.reject_scalar("section_not_an_object");
        };
        for (name, measure) in entries {
            match measure {
                Measure::Leaf(v) => {
                    self.name.clear();
                    self.name.push_str("SIMPLE_MEASURES_");
                    push_upper(self.name, name);
                    self.simple_measure(process, *v);
                }
                Measure::Nested(subs) => {
                    for (sub, v) in subs {
                        self.name.clear();
                        self.name.push_str("SIMPLE_MEASURES_");
                        push_upper(self.name, name);
                        self.name.push('_');
                        push_upper(self.name, sub);
                        self.simple_measure(process, *v);
                    }
                }
            }
        }
    }

    fn simple_measure(&mut self, process: Process, value: Scalar) {
        let result = scalar_value(value).and_then(|v| {
            let metric = std::mem::take(self.name);
            let r = self.record(&metric, "", process, LayoutSpec::simple_measure(), v);
            *self.name = metric;
            r
        });
        match result {
            Ok(()) => self.report.scalars_used += 1,
            Err(reason) => self.report.reject_scalar(reason),
        }
    }

    /// Records one scalar-like value in the series (metric, label, process, layout).
    fn record(
        &mut self,
        metric: &str,
        label: &str,
        process: Process,
        spec: LayoutSpec,
        value: u64,
    ) -> Result<(), &'static str> {
        let metric = self.strings.intern(metric).ok_or("too_many_strings")?;
        let label = self.strings.intern(label).ok_or("too_many_strings")?;
        let layout = self
            .layouts
            .entry(spec)
            .or_insert_with(|| BucketLayout::new(spec));
        let sid = SeriesId {
            metric,
            label,
            process,
            layout: spec,
        };
        let series = match self.series.entry(sid) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(Histogram::empty(spec)),
        };
        series.record_in(layout, value).map_err(|_| "overflow")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_values_follow_the_rules() {
        assert_eq!(scalar_value(Scalar::Unsigned(42)), Ok(42));
        assert_eq!(scalar_value(Scalar::Bool(true)), Ok(1));
        assert_eq!(scalar_value(Scalar::Float(42.9)), Ok(42));
        assert_eq!(scalar_value(Scalar::Float(-0.5)), Err("negative"));
        assert_eq!(scalar_value(Scalar::Negative(-1)), Err("negative"));
        assert_eq!(scalar_value(Scalar::Float(1e30)), Err("out_of_range"));
        assert_eq!(scalar_value(Scalar::String), Err("not_numeric"));
    }

    #[test]
    fn uppercase_handles_unicode() {
        let mut s = String::from("SCALARS_");
        push_upper(&mut s, "a.b_c");
        assert_eq!(s, "SCALARS_A.B_C");
        s.clear();
        push_upper(&mut s, "straße");
        assert_eq!(s, "STRASSE");
    }
}
